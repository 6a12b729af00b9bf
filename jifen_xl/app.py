"""Use cases: read -> clean -> validate -> compute -> write. Called by the CLI (and later macros).

Each use case takes a backend (``io.base.WorkbookBackend``: the file backend the CLI opens
with :func:`open_backend`, the in-memory one, later the live Excel one) and plain arguments,
and returns a result object; none of them prints. A write is planned (every refusal happens
there) and then applied, through the backend. ``check_file`` is the batch driver over files:
it opens each file itself.
"""

from __future__ import annotations

import datetime as _dt
import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import schema as S
from .core.clean import ROW, clean_frame, clean_settings
from .core.ledger import OpenMonth, compute_ledger, month_label, open_months, unsettled_months
from .core.problems import Problem, Report
from .core.village import Village
from .errors import (HeaderMissing, JifenError, SheetMissing, ValidationFailed, WorkbookLocked, WorkbookUnreadable,
                     WriteFailed, WriteRefused)
from .io.base import CellRef, RawTable, WorkbookBackend, WriteRequest, WriteResult
from .validate import validate

#: Sheets the app reads (the owned ones are only written).
INPUT_SHEETS = tuple(s for s in S.CLERK_SHEETS if s.key != "settings")
#: Owned sheets the monthly cycle reads back (a workbook without them has no records yet).
CYCLE_SHEETS = (S.LEDGER, S.SEALS, S.SEALED_ENTRIES)


@dataclass
class Loaded:
    """A workbook read and typed."""

    backend: WorkbookBackend
    village: Village
    raw: dict[str, RawTable]
    read_problems: list[Problem] = field(default_factory=list)


@dataclass
class ValidateResult:
    report: Report
    written: WriteResult | None = None  # when 校验结果 was written
    not_written: JifenError | None = None  # why 校验结果 was not written (open in Excel/WPS, a read-only format)


@dataclass
class LedgerResult:
    ledger: pd.DataFrame
    report: Report
    through: str | None
    written: WriteResult | None = None
    unsettled: list[str] = field(default_factory=list)  # months with entries still under publicity/objection


def open_backend(path: str | Path, *, pieces: int | None = None) -> WorkbookBackend:
    """The file backend for ``path`` (reading checks what the file really is first).

    :param pieces: how a large worksheet is read (``io.xlsx.XlsxFile``): ``None`` = cut into pieces
        parsed in parallel on all cores when it pays (temporary files, one thread per piece);
        ``1`` = never split: one thread, no temporary files, for a batch that runs one process
        per file.
    """
    from .io.xlsx import open_workbook

    return open_workbook(path, pieces=pieces)


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector (resumed after, if it was on).

    For drivers (the CLI's commands, the benchmarks, ``check_file``), not for the library:
    ``load`` and ``check`` leave the collector alone, so a program that calls them decides.
    Reading a village-year makes about a million small objects (cells, rows) and no reference
    cycles; the collector would walk them again and again while they are made (~40 ms of a 1 s
    read). Usable as a context manager or as a decorator (``@collector_paused()``)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(backend: WorkbookBackend, *, for_writing: bool = False) -> Loaded:
    """Read every input sheet and type it; structural problems (missing sheets/headers) are
    collected across the whole workbook and raised together.

    :param for_writing: once the file is known to be a village workbook, refuse it before the
        real work if it could not be written back (open in Excel, .xls, read-only).
    """
    if not S.is_village_workbook(backend.has_sheet):
        names = "、".join(f"「{n}」" for n in backend.sheet_names[:5]) + ("等" if len(backend.sheet_names) > 5 else "")
        raise WorkbookUnreadable(
            f"文件「{backend.label}」不是村级积分工作簿：没有找到「{S.HOUSEHOLDS.name}」「{S.ENTRIES.name}」等工作表"
            f"（它的工作表是{names or '（无）'}）。请确认选择了正确的文件；新建工作簿可用 jifen-xl new。"
            + getattr(backend, "format_note", ""))
    if for_writing:
        backend.check_writable()
    raw: dict[str, RawTable] = {}
    structural: list[str] = []
    for spec in S.CLERK_SHEETS:
        try:
            raw[spec.key] = backend.read_table(spec)
        except (SheetMissing, HeaderMissing) as exc:
            structural.append(str(exc))
    if structural:
        raise WorkbookUnreadable("\n".join(structural))
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    for spec in INPUT_SHEETS:
        table = raw[spec.key]
        typed, found = clean_frame(spec, table.frame)
        tables[spec.key] = typed
        problems += _on_records(table, typed) + found
    for spec in CYCLE_SHEETS:
        table = _read_owned(backend, spec)
        if table is not None:
            raw[spec.key] = table
            # the toolkit wrote these: a cell edited into nonsense shows through the seal check
            tables[spec.key] = clean_frame(spec, table.frame)[0]
    settings, settings_rows, found = clean_settings(raw["settings"].frame)
    problems += found
    header_rows = {key: table.header_row for key, table in raw.items()}
    return Loaded(backend, Village(settings, tables, header_rows, settings_rows), raw, problems)


def _read_owned(backend: WorkbookBackend, spec: S.SheetSpec) -> RawTable | None:
    """An owned sheet the cycle reads back, or None when the workbook lacks it (or its headers)."""
    if not backend.has_sheet(spec):
        return None
    try:
        return backend.read_table(spec)
    except (SheetMissing, HeaderMissing):
        return None


def _on_records(table: RawTable, typed: pd.DataFrame) -> list[Problem]:
    """The reader's problems (formulas without results ...) less those on rows the cleaning found
    not to be records (a 合计 row whose SUM was never calculated is not a half-filled entry); a
    row that reads wholly blank keeps its problem (its formula is all the clerk typed)."""
    if not table.problems:
        return []
    raw, kept = table.frame, set(typed[ROW].tolist())
    gone = {p.row for p in table.problems if p.row is not None and p.row not in kept}
    if not gone:
        return list(table.problems)
    rows = raw[raw[ROW].isin(gone)]
    cells = rows.drop(columns=ROW).to_numpy(dtype=object)
    written = {int(r) for r, row in zip(rows[ROW], cells) if any(v not in (None, "") for v in row)}
    return [p for p in table.problems if p.row not in written]


def finding_links(report: Report, loaded: Loaded) -> list[CellRef | None]:
    """For each finding, the cell it is about (its sheet as named in the workbook, its row, its
    column; the header row and first column when the finding names none), for a link in 校验结果."""
    by_name = {t.spec.name: t for t in loaded.raw.values()}
    out: list[CellRef | None] = []
    for p in report.problems:
        table = by_name.get(p.sheet)
        target = None
        if table is not None:
            field_name = next((c.field for c in table.spec.columns if c.header == p.column), None)
            target = CellRef(table.sheet_name, p.row or table.header_row, table.column_number(field_name) or 1)
        out.append(target)
    return out


def findings_frame(report: Report) -> pd.DataFrame:
    """The findings as the 校验结果 table (columns = its field names)."""
    fields = S.FINDINGS.fields
    return pd.DataFrame([(p.level, p.sheet, p.row, p.column, p.message, p.fix, p.rule) for p in report.problems],
                        columns=fields)


def check(backend: WorkbookBackend, today: _dt.date | None = None, *,
          for_writing: bool = False) -> tuple[Loaded, Report]:
    """Read and validate without writing anything.

    :param backend: the workbook (``open_backend(path)`` for a file).
    :param for_writing: refuse first, before any work, a workbook that could not be written back.
    """
    loaded = load(backend, for_writing=for_writing)
    return loaded, validate(loaded.village, loaded.read_problems, today=today)


#: 状态 of one file in a batch (``check_file``), as a township officer reads it per workbook:
#: read, not one finding / read, warnings only / read, at least one 错误 / not read at all
#: (damaged, not a spreadsheet, not a village workbook, a required sheet or header missing).
STATUS_PASSED, STATUS_WARNINGS, STATUS_ERRORS, STATUS_UNREADABLE = "通过", "有警告", "有错误", "无法读取"
FILE_STATUSES = (STATUS_PASSED, STATUS_WARNINGS, STATUS_ERRORS, STATUS_UNREADABLE)


@dataclass
class FileResult:
    """What checking one file of a batch gave (plain data: it crosses process boundaries).

    :param file: the file checked.
    :param status: one of ``FILE_STATUSES``.
    :param report: the findings (``None`` when the file could not be read).
    :param message: why the file could not be read, in Chinese for the clerk (``None`` when read).
    :param seconds: wall time of the check.
    :param detail: for developers, when something other than a refusal stopped the read (a panic
        inside the Rust reader, a bug): the exception's type and text.
    """

    file: Path
    status: str
    report: Report | None
    message: str | None
    seconds: float
    detail: str | None = None


def file_status(report: Report) -> str:
    """通过 / 有警告 / 有错误 for a workbook that was read."""
    if report.errors:
        return STATUS_ERRORS
    return STATUS_WARNINGS if report.warnings else STATUS_PASSED


def check_file(path: str | Path, today: _dt.date | None = None, *, pieces: int | None = 1) -> FileResult:
    """Check one file of a batch: read and validate it, write nothing, and never raise for a bad
    file (only ``KeyboardInterrupt`` and ``SystemExit`` pass): a file that cannot be read is a
    result with status 无法读取 and the refusal as its message.

    A driver of its own: it pauses the garbage collector for the check, and by default reads
    each sheet in one piece (no threads, no temporary files), for a batch that runs one process
    per file.

    :param path: the workbook.
    :param today: the day validation takes as today (default: the real one).
    :param pieces: see ``open_backend``; ``None`` lets a large sheet be read on all cores.
    """
    path = Path(path)
    start = time.perf_counter()
    try:
        with collector_paused():
            _, report = check(open_backend(path, pieces=pieces), today)
        return FileResult(path, file_status(report), report, None, time.perf_counter() - start)
    except (KeyboardInterrupt, SystemExit):
        raise
    except JifenError as exc:
        message, detail = exc.message, None
    except BaseException as exc:  # noqa: BLE001 - a reader's panic (pyo3 PanicException) is a BaseException
        # Any failure inside a reader means the file is damaged; one bad file never ends a batch.
        message = (f"文件「{path.name}」已损坏或格式无法识别，工具无法读取。"
                   f"请用 Excel 或 WPS 打开后另存为 .xlsx 再试；仍不行，请把文件发给技术人员。")
        detail = f"{type(exc).__name__}: {exc}"
    return FileResult(path, STATUS_UNREADABLE, None, message, time.perf_counter() - start, detail)


def validate_book(backend: WorkbookBackend, *, dry_run: bool = False,
                  today: _dt.date | None = None) -> ValidateResult:
    """Validate the workbook; unless ``dry_run``, write the findings to 校验结果 (linked to the cells).

    The workbook is always checked in full. When the write is refused or fails (the workbook is
    open in Excel, WPS or LibreOffice, before or during the run; a format the toolkit only reads;
    a read-only folder; a full disk), the result carries the findings and, in ``not_written``,
    why 校验结果 was not written (the workbook is then unchanged).

    :param backend: the village workbook.
    :param dry_run: report only, write nothing.
    """
    loaded, report = check(backend, today)
    if dry_run:
        return ValidateResult(report)
    request = WriteRequest({"findings": findings_frame(report)}, {"findings": finding_links(report, loaded)})
    try:
        written = backend.apply(backend.plan_write(request))
    except (WorkbookLocked, WriteRefused, WriteFailed) as exc:  # findings are never lost for want of a write
        return ValidateResult(report, None, exc)
    return ValidateResult(report, written)


def parse_month(text: str | None, year: int | None) -> pd.Period | None:
    """``YYYY-MM`` (also 2026-3, 2026年3月) -> Period; it must lie in the workbook's year."""
    if text is None:
        return None
    from .core.clean import normalize_text
    import re

    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?", normalize_text(text))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise JifenError(f"月份「{text}」格式不对，请写成“年-月”，例如 2026-03。")
    period = pd.Period(f"{m.group(1)}-{int(m.group(2)):02d}", "M")
    if year is not None and period.year != year:
        raise JifenError(f"月份「{text}」不在工作簿的年度 {year} 内。请核对「基本信息」中的年度或所给月份。")
    return period


def ledger_book(backend: WorkbookBackend, *, month: str | None = None, dry_run: bool = False,
                 today: _dt.date | None = None) -> LedgerResult:
    """Compute 月度台账 from confirmed entries; refuse while the workbook has errors.

    :param backend: the village workbook.
    :param month: last month to compute (``YYYY-MM``); default the last month that can be closed.
    :param dry_run: compute only, write nothing.
    :raises ValidationFailed: the workbook has 错误 (the report is attached).
    :raises JifenError: ``month``, or a month before it, cannot be closed yet (entries under
        publicity, open objections): such a month is never written; or a sealed month (封账记录)
        recomputes differently from its 月度台账 rows (an exchange or a carried-over figure
        changed after the close): a sealed month is never rewritten, the differences are named.
        The ledger always runs through the last sealed month, so its rows are written back as
        they are (``--month`` before it still shows that month).
    """
    loaded, report = check(backend, today, for_writing=not dry_run)
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，不能生成月度台账。请先按上面列出的问题改正后重试。")
    through = parse_month(month, loaded.village.year)
    if through is not None:
        blocked = open_months(loaded.village, through)
        if blocked:
            raise JifenError(_not_closable(through, blocked))
    ledger = compute_ledger(loaded.village, _through_sealed(loaded.village, through))
    _refuse_sealed_differences(loaded.village, ledger)
    written = None
    if not dry_run:
        written = backend.apply(backend.plan_write(WriteRequest({"ledger": ledger})))
    label = ledger["month"].iloc[-1] if len(ledger) and through is None else (
        month_label(through) if through is not None else None)
    pending = [month_label(m) for m in unsettled_months(loaded.village)]
    return LedgerResult(ledger, report, label, written, pending)


def _through_sealed(village: Village, through: pd.Period | None) -> pd.Period | None:
    """The last month to compute: ``through`` (None = the default), never before the last sealed
    month, so a sealed month's 月度台账 rows are always written back as they are."""
    from .core.ledger import last_settled_month
    from .core.seal import sealed_months

    sealed = sealed_months(village.tables.get("seals"))
    if not sealed:
        return through
    last = pd.Period(max(sealed), "M")
    wanted = through if through is not None else last_settled_month(village)
    return last if wanted is None or wanted < last else wanted


def _refuse_sealed_differences(village: Village, ledger: pd.DataFrame) -> None:
    """Refuse to rewrite a sealed month whose recomputation differs from its 月度台账 rows (an
    exchange or a carried-over figure changed after the close): name the month, 户号 and column."""
    from .core.seal import ledger_differences, sealed_months
    from .rules import shown

    sheet = village.tables.get("ledger")
    months = sealed_months(village.tables.get("seals"))
    if not months or sheet is None:
        return
    diffs = ledger_differences(months, sheet, ledger)
    if not diffs:
        return
    parts = []
    for d in diffs[:10]:
        if d.detail == "missing":
            parts.append(f"{d.month} 户号「{d.hh_id}」：重算有这一行，封账时的台账没有")
        elif d.detail == "extra":
            parts.append(f"{d.month} 户号「{d.hh_id}」：封账时的台账有这一行（第 {d.row} 行），重算没有")
        else:
            header = S.LEDGER.header_of(d.field)
            parts.append(f"{d.month} 户号「{d.hh_id}」的{header}：封账时为 {shown(d.current)}（「{S.LEDGER.name}」第 {d.row} 行），"
                         f"重算为 {shown(d.sealed)}")
    more = f"等 {len(diffs)} 处" if len(diffs) > 10 else ""
    raise JifenError(
        f"已封账月份按现在的数据重算，与封账时的「{S.LEDGER.name}」不符，工具不会改写已封账的月份：" + "；".join(parts) + more
        + f"。可能是「{S.EXCHANGES.name}」的兑换、「{S.HOUSEHOLDS.name}」的上年积分或户的状态在封账后被改到了已封账的月份。"
        "请恢复原来的数据；更正请记在未结账的月份。工作簿未被改动。")


def _rows(rows, limit: int = 5) -> str:
    shown = "、".join(str(r) for r in rows[:limit])
    return f"第 {shown} 行" + (f"等 {len(rows)} 行" if len(rows) > limit else "")


def _not_closable(through: pd.Period, blocked: list[OpenMonth]) -> str:
    """Why months up to ``through`` cannot be closed, naming what is open, in Chinese."""
    parts = []
    for b in blocked:
        what = []
        if b.pending_rows:
            what.append(f"{len(b.pending_rows)} 条登记仍处于待公示或公示中（「{S.ENTRIES.name}」{_rows(b.pending_rows)}）")
        if b.open_objections:
            ids = "、".join(f"{i or '（无编号）'}（第 {r} 行）" for i, r in b.open_objections[:5])
            more = f"等 {len(b.open_objections)} 条" if len(b.open_objections) > 5 else ""
            what.append(f"「{S.OBJECTIONS.name}」中有未处理的异议 {ids}{more}")
        parts.append(f"{month_label(b.month)}：" + "，".join(what))
    first = blocked[0].month
    earlier = f"；也可以只生成到 {month_label(first - 1)}" if first.month > 1 else ""
    return (f"不能生成 {month_label(through)} 的月度台账。" + "；".join(parts) + "。"
            f"公示期结束、异议处理完、登记状态改为“{S.ENTRY_CONFIRMED}”之后，这个月才能结账，台账按月依次生成{earlier}。"
            "工作簿未被改动。")


@dataclass
class SealedMonth:
    """One row of 封账记录 as ``verify`` reports it."""

    month: str
    sealed_on: _dt.date | None
    code: str
    intact: bool


@dataclass
class VerifyResult:
    """What ``verify_book`` found.

    :param label: the workbook.
    :param village: its 村 (基本信息).
    :param months: the sealed months, in 封账记录 order, each with whether it is unchanged.
    :param findings: every change of a sealed month (E-SEAL-* findings, as ``validate`` gives them).
    :param code: the code asked about as typed (``--code``), else None.
    :param code_month: the sealed month the code belongs to; None when it belongs to none.
    """

    label: str
    village: str | None
    months: list[SealedMonth]
    findings: list[Problem]
    code: str | None = None
    code_month: SealedMonth | None = None

    @property
    def intact(self) -> bool:
        """No sealed month was changed and the chain holds."""
        return not self.findings

    @property
    def ok(self) -> bool:
        """Exit 0: the chain is intact; with a code, the code's month is found and unchanged."""
        if self.code is not None:
            return self.code_month is not None and self.code_month.intact
        return self.intact


def verify_book(backend: WorkbookBackend, *, code: str | None = None) -> VerifyResult:
    """Check the seal chain of the workbook (read-only): every sealed month recomputed from the
    workbook as it is now, each change named (``core.seal.check_seals``).

    :param backend: the village workbook.
    :param code: a verification code from a printed notice (any case, with or without the dash,
        O for 0 and I/L for 1): the result says which month it seals and whether that month is
        unchanged.
    """
    from .core.seal import month_text, normalize_code, verification_code
    from .validate.cycle import seal_findings

    loaded = load(backend)
    village = loaded.village
    pairs = seal_findings(village)
    changed = {c.month for c, _ in pairs}
    seals = village.tables.get("seals")
    months: list[SealedMonth] = []
    by_code: dict[str, SealedMonth] = {}
    if seals is not None and len(seals):
        for r in seals.sort_values(ROW, kind="stable").itertuples(index=False):
            month = month_text(r.month) or ""
            sealed_on = None if pd.isna(r.sealed_on) else pd.Timestamp(r.sealed_on).date()
            item = SealedMonth(month, sealed_on, r.code or "", month not in changed)
            months.append(item)
            for c in (normalize_code(r.code or ""), verification_code(r.digest) if _is_digest(r.digest) else None):
                if c:
                    by_code.setdefault(c, item)
    found = None
    if code is not None:
        key = normalize_code(code)
        if key is None:
            raise JifenError(f"校验码「{code}」格式不对：应为 8 位字母和数字（公示上印的，例如 K7Q2-M9XD），"
                             "短横线可以不写，大小写都可以。请核对后重试。")
        found = by_code.get(key)
    return VerifyResult(backend.label, village.settings.get("village"), months, [p for _, p in pairs], code, found)


def _is_digest(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(ch in "0123456789abcdef" for ch in value)


def new_book(path: str | Path, settings: dict, *, overwrite: bool = False) -> Path:
    """Create a village workbook from the declared layout, with the default catalogue."""
    from .io.template import build_workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        # A macro workbook (.xlsm) is built from macros/ by the Excel integration, not here.
        raise JifenError(f"「{path.name}」的扩展名应为 .xlsx，例如 永宁寺村.xlsx。")
    if path.exists() and not overwrite:
        raise JifenError(f"文件「{path}」已存在，为防止覆盖村里的数据，工具不会改写它。请换一个文件名。")
    return build_workbook(path, settings)
