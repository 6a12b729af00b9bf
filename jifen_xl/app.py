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

from . import render as R
from . import schema as S
from .core.clean import ROW, clean_frame, clean_settings
from .core.ledger import OpenMonth, compute_ledger, month_label, open_months, unsettled_months
from .core.problems import Problem, Report
from .core.village import Village
from .errors import (HeaderMissing, JifenError, SheetMissing, ValidationFailed, WorkbookLocked, WorkbookUnreadable,
                     WriteFailed, WriteRefused)
from .io.base import CellRef, ColumnPatch, RawTable, WorkbookBackend, WriteRequest, WriteResult
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
    return _write_findings(backend, loaded, report)


def _write_findings(backend: WorkbookBackend, loaded: Loaded, report: Report) -> ValidateResult:
    """Write ``report`` to 校验结果 (linked to the cells); a refused or failed write is returned, not raised."""
    request = WriteRequest({"findings": findings_frame(report)}, {"findings": finding_links(report, loaded)})
    try:
        written = backend.apply(backend.plan_write(request))
    except (WorkbookLocked, WriteRefused, WriteFailed) as exc:  # findings are never lost for want of a write
        return ValidateResult(report, None, exc)
    return ValidateResult(report, written)


@dataclass
class ShopResult:
    stock: pd.DataFrame  # 库存台账, January through ``through``
    report: Report
    through: str | None  # the last month (YYYY-MM); None when nothing was ever received or exchanged
    written: WriteResult | None = None


def shop_book(backend: WorkbookBackend, *, month: str | None = None, dry_run: bool = False,
              today: _dt.date | None = None) -> ShopResult:
    """Check the love supermarket (the whole workbook is validated) and write 库存台账.

    :param month: the last month (``YYYY-MM``); default the last month with a receipt or an exchange.
    :param dry_run: check and compute only, write nothing.
    :raises ValidationFailed: the workbook has 错误: nothing is written but 校验结果 (unless
        ``dry_run``), the report is attached.
    """
    from .core.stock import compute_stock, last_movement_month

    loaded, report = check(backend, today, for_writing=not dry_run)
    if not report.valid:
        note = "（按 --dry-run 没有写入工作簿）"
        if not dry_run:
            res = _write_findings(backend, loaded, report)
            note = (f"，问题已写入「{S.FINDINGS.name}」工作表" if res.written is not None else
                    f"；「{S.FINDINGS.name}」也没有写入：{res.not_written}")
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，没有生成「{S.STOCK.name}」{note}。"
                                       f"请先按上面列出的问题改正后重试。")
    v = loaded.village
    through = parse_month(month, v.year)
    if through is None:
        through = last_movement_month(v["goods"], v["receipts"], v["exchanges"])
    year = v.year if v.year is not None else (through.year if through is not None else (today or _dt.date.today()).year)
    stock = compute_stock(v["goods"], v["receipts"], v["exchanges"], year, through)
    written = None
    if not dry_run:
        written = backend.apply(backend.plan_write(WriteRequest({"stock": stock})))
    return ShopResult(stock, report, month_label(through) if through is not None else None, written)


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


def _refuse_sealed_differences(village: Village, ledger: pd.DataFrame, first: str = "") -> None:
    """Refuse to rewrite a sealed month whose recomputation differs from its 月度台账 rows (an
    exchange or a carried-over figure changed after the close): name the month, 户号 and column.

    :param first: what the refusal starts with (``close``: 「不能结账 2026-05：」)."""
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
    more = f"；另有 {len(diffs) - 10} 处不符" if len(diffs) > 10 else ""
    raise JifenError(
        f"{first}已封账月份按现在的数据重算，与封账时的「{S.LEDGER.name}」不符，工具不会改写已封账的月份：" + "；".join(parts) + more
        + f"。可能是「{S.EXCHANGES.name}」的兑换、「{S.HOUSEHOLDS.name}」的上年积分或户的状态在封账后被改到了已封账的月份。"
        "请恢复原来的数据；更正请记在未结账的月份。工作簿未被改动。")


def _rows(rows, limit: int = 5) -> str:
    shown = "、".join(str(r) for r in rows[:limit])
    return f"第 {shown} 行" + (f"等 {len(rows)} 行" if len(rows) > limit else "")


def _open_parts(blocked: list[OpenMonth]) -> list[str]:
    """What keeps each month open (「2026-02：N 条登记仍处于…，…」), in Chinese."""
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
    return parts


def _not_closable(through: pd.Period, blocked: list[OpenMonth]) -> str:
    """Why months up to ``through`` cannot be closed, naming what is open, in Chinese."""
    parts = _open_parts(blocked)
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
    from .validate.cycle import exchange_findings, seal_findings

    loaded = load(backend)
    village = loaded.village
    pairs = [(c.month, p) for c, p in seal_findings(village)]
    pairs += exchange_findings(village, {m for m, _ in pairs})
    changed = {m for m, _ in pairs}
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


def new_book(path: str | Path, settings: dict, *, overwrite: bool = False, tables: dict | None = None) -> Path:
    """Create a village workbook from the declared layout, with the default catalogue; an ``.xlsm``
    also gets the VBA project and the buttons (``io.xlsm``).

    :param tables: rows to fill it with, as ``io.template.build_workbook`` takes them (the demo's village)."""
    from .io import xlsm
    from .io.template import build_workbook

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise JifenError(f"「{path.name}」的扩展名应为 .xlsx（不带按钮）或 .xlsm（带按钮），例如 永宁寺村.xlsm。")
    if path.exists() and not overwrite:
        raise JifenError(f"文件「{path}」已存在，为防止覆盖村里的数据，工具不会改写它。请换一个文件名。")
    if path.suffix.lower() == ".xlsx":
        return build_workbook(path, settings, tables)
    _write_new(path, xlsm.village_package(settings, tables))
    return path


def _write_new(path: Path, data: bytes) -> None:
    """Write a new or rebuilt workbook all or nothing, with the same messages as ``new``."""
    from .errors import WorkbookLocked, WriteFailed
    from .io import xlsm

    try:
        xlsm.write(path, data)
    except PermissionError as exc:
        raise WorkbookLocked(f"无法写入「{path}」：文件可能正被 Excel 或 WPS 打开，请关闭后再试。") from exc
    except OSError as exc:
        raise WriteFailed(f"无法写入「{path}」：{exc.strerror or exc}。请检查文件夹是否存在、是否有写入权限。") from exc


def standard_books_dir() -> Path:
    """The ``workbook/`` folder of the current folder (the checkout's root), where the standard
    workbooks are kept."""
    return Path("workbook").resolve()


def build_workbooks(outs: list[str | Path] | None = None, *, township: bool = False) -> list[Path]:
    """Build the standard macro workbooks (``jifen-xl build-workbook``), the same bytes every time.

    :param outs: the files to write (an existing one only under ``workbook/``); default: every
        standard workbook under ``./workbook/`` (``io.xlsm.STANDARD_BOOKS``), rebuilt in place. A given file's kind is its standard name's,
        else the township's with ``township``, else the village's.
    :returns: the files written.
    """
    from .io import xlsm

    if not outs:
        folder = standard_books_dir()
        if not folder.is_dir():
            raise JifenError(f"当前文件夹中没有存放标准工作簿的文件夹「{folder.name}」：请在源代码目录中运行，"
                             "或写出要生成的文件名，例如 jifen-xl build-workbook 村级积分台账.xlsm。")
        targets = [(folder / name, kind) for name, kind in xlsm.STANDARD_BOOKS.items()]
    else:
        default = S.BOOK_TOWNSHIP if township else S.BOOK_VILLAGE
        targets = [(Path(o), xlsm.STANDARD_BOOKS.get(Path(o).name, default)) for o in outs]
    standard = standard_books_dir().resolve()
    for path, _kind in targets:
        if path.suffix.lower() != ".xlsm":
            raise JifenError(f"「{path.name}」的扩展名应为 .xlsm（启用宏的工作簿）。")
        if path.exists() and path.resolve().parent != standard:
            # only the standard workbooks are rebuilt in place: anything else may be a village's own
            raise JifenError(f"文件「{path}」已存在，为防止覆盖村里的数据，工具不会改写它。请换一个文件名，"
                             "或先把原文件移走。")
    for path, kind in targets:
        _write_new(path, standard_package(kind))
    return [p for p, _ in targets]


def standard_package(book: str) -> bytes:
    """The bytes of the standard macro workbook of kind ``book`` (``schema.BOOK_VILLAGE`` or
    ``BOOK_TOWNSHIP``), the same on every build."""
    from .io import xlsm
    from .io.township_book import empty_township_book

    if book == S.BOOK_TOWNSHIP:
        return xlsm.township_package(empty_township_book(), timestamp=xlsm.BUILD_TIMESTAMP, fresh=True)
    return xlsm.village_package({"year": xlsm.STANDARD_YEAR}, timestamp=xlsm.BUILD_TIMESTAMP, fresh=True)


# -- the monthly cycle: publish, objections, close (issue 9) -----------------------------------------
@dataclass
class PublishResult:
    """What ``publish_book`` did (or, with ``dry_run``, would do).

    :param month: the month published (``YYYY-MM``).
    :param start: first day of the publicity period.
    :param end: last day of the publicity period (inclusive); the month can be closed from the day after.
    :param days: the period's length (基本信息.公示天数, default 7).
    :param moved: (登记编号, Excel row) of the entries moved from 待公示 to 公示中.
    :param adopted: (登记编号, Excel row) of the entries already 公示中 by hand whose period this
        publish records (no 公示记录 row of the month before).
    :param filled: 登记编号 -> the points written into its blank 积分.
    :param households: households the published entries concern.
    :param contact: 基本信息.异议受理人 (to whom objections go).
    :param phone: 基本信息.联系电话.
    :param report: the validation report (warnings only: errors refuse the publish).
    :param written: the write (None with ``dry_run``).
    :param outputs: notice files written beside the workbook (``--pdf``/``--html``/``--wechat``;
        filled after the merge with the notice part, see ``_notice_outputs``).
    """

    month: str
    start: _dt.date
    end: _dt.date
    days: int
    moved: list[tuple[str, int]]
    adopted: list[tuple[str, int]]
    filled: dict[str, float]
    households: int
    contact: str | None
    phone: str | None
    report: Report
    written: WriteResult | None = None
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def entries(self) -> int:
        return len(self.moved) + len(self.adopted)


@dataclass(frozen=True)
class OpenObjection:
    """One undecided objection (异议处理 row whose 处理结果 is blank), with its entry's household.

    :param row: its Excel row in 异议处理.
    :param entry_row: the Excel row of the entry it objects to in 积分登记 (None: no such entry).
    :param month: the entry's month (``YYYY-MM``; None when the entry is unknown or undated).
    """

    objection_id: str | None
    entry_id: str | None
    hh_id: str | None
    head: str | None
    raised_by: str | None
    raised_on: _dt.date | None
    content: str | None
    row: int
    entry_row: int | None
    month: str | None

    def record(self) -> dict:
        """JSON-ready, keyed by the headers the clerk sees (``OPEN_OBJECTION_HEADERS``)."""
        return dict(zip(OPEN_OBJECTION_HEADERS, (
            self.objection_id, self.entry_id, self.hh_id, self.head, self.raised_by,
            self.raised_on.isoformat() if self.raised_on else None, self.content, self.row, self.entry_row,
            self.month)))


#: What ``objections`` shows of an open objection, as the clerk reads it.
OPEN_OBJECTION_HEADERS = (S.OBJECTIONS.header_of("objection_id"), S.OBJECTIONS.header_of("entry_id"),
                          S.ENTRIES.header_of("hh_id"), S.HOUSEHOLDS.header_of("head"),
                          S.OBJECTIONS.header_of("raised_by"), S.OBJECTIONS.header_of("raised_on"),
                          S.OBJECTIONS.header_of("content"), f"「{S.OBJECTIONS.name}」行号",
                          f"「{S.ENTRIES.name}」行号", S.LEDGER.header_of("month"))


@dataclass
class CloseResult:
    """What ``close_book`` did (or, with ``dry_run``, would do).

    :param month: the month closed (``YYYY-MM``).
    :param date: the close date.
    :param confirmed: entries set to 已确认 (corrected ones included).
    :param corrected: entries whose 积分 became the objection's 更正后积分.
    :param withdrawn: entries set to 已撤销 by an objection's 撤销.
    :param kept: entries of the month already 已确认 before the close.
    :param ledger: 月度台账 as written: January through ``month``.
    :param report: the validation report (warnings only).
    :param written: the write (None with ``dry_run``).
    :param code: the month's verification code (封账记录.校验码), printed on notices from now on.
    :param digest: the month's seal (封账记录.摘要, SHA-256, chained to the previous month's).
    """

    month: str
    date: _dt.date
    confirmed: int
    corrected: int
    withdrawn: int
    kept: int
    ledger: pd.DataFrame
    report: Report
    written: WriteResult | None = None
    code: str | None = None
    digest: str | None = None

    @property
    def month_rows(self) -> pd.DataFrame:
        """The closed month's 月度台账 rows."""
        return self.ledger[self.ledger["month"] == self.month]

    @property
    def totals(self) -> dict:
        """The closed month's figures: ``rewards`` (基础积分 + 贡献积分), ``deductions`` (扣分, ≤ 0),
        ``total`` (当月积分), ``households`` (households whose points moved this month)."""
        rows = self.month_rows
        moved = (rows[["basic", "contrib", "deduct"]] != 0).any(axis=1)
        return {"rewards": float(rows["basic"].sum() + rows["contrib"].sum()), "deductions": float(rows["deduct"].sum()),
                "total": float(rows["month_total"].sum()), "households": int(moved.sum())}


def read_owned(backend: WorkbookBackend, spec: S.SheetSpec, *, lenient: bool = False) -> pd.DataFrame:
    """An owned sheet read back and typed (columns: its fields + ``excel_row``). A workbook without
    the sheet has no rows yet (never an error).

    :param lenient: a sheet whose header row cannot be found counts as absent (for a sheet another
        part of the cycle owns and only consults); otherwise the reader's refusal stands.
    """
    empty = pd.DataFrame({f: pd.Series(dtype=object) for f in spec.fields + [ROW]})
    if not backend.has_sheet(spec):
        return empty
    try:
        table = backend.read_table(spec)
    except (SheetMissing, HeaderMissing):
        if lenient:
            return empty
        raise
    typed, _found = clean_frame(spec, table.frame)  # the toolkit wrote it: a stray cell is not the clerk's problem
    return typed


def parse_day(value, what: str) -> _dt.date | None:
    """A day given on the command line (2026-04-01, 2026/4/1, 2026年4月1日) or as a date."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    from .core.clean import to_date

    values, bad = to_date(pd.Series([value], dtype=object))
    if bad.any() or values.isna().all():
        raise JifenError(f"{what}「{value}」不是有效日期，请写成“年-月-日”，例如 2026-04-01。")
    return values.iloc[0].date()


def _month_required(text: str | None, year: int | None) -> pd.Period:
    period = parse_month(text, year)
    if period is None:
        raise JifenError("请用 --month 指定月份，写成“年-月”，例如 2026-03。")
    return period


def _entry_rows(rows: list[int]) -> str:
    return f"「{S.ENTRIES.name}」{_rows(rows)}"


def _nothing_to_publish(label: str, counts: dict[str, int]) -> str:
    """Why a month has nothing to publish, saying what its entries are instead."""
    if not counts:
        return (f"{label} 没有“{S.ENTRY_PENDING}”的登记，没有可公示的内容：「{S.ENTRIES.name}」中没有日期在 {label} 的登记。"
                f"请核对月份，或先登记这个月的积分。工作簿未被改动。")
    shown = "、".join(f"{s} {counts[s]} 条" for s in S.ENTRY_STATUS if counts.get(s))
    return (f"{label} 没有“{S.ENTRY_PENDING}”的登记，没有可公示的内容：这个月的登记中{shown}"
            f"（已经公示过的月份不用再公示；公示期满后可用 jifen-xl close 结账）。工作簿未被改动。")


def _notice_files(data: dict, masked_data: dict, tmp: Path, *, pdf=None, html=None, wechat=None,
                  template=None, backend: WorkbookBackend) -> tuple[dict[str, Path], dict]:
    """The filled 公示 sheet for a publish's WriteRequest (``WriteRequest.images``), when the backend
    can take a whole sheet, and what to write after the workbook (``write_notice``'s arguments)."""
    from .io.base import CAP_SHEET_IMAGE
    from .io.xlsxfill import fill_template
    from .render import NOTICE_XLSX, templates_dir

    images = {}
    if CAP_SHEET_IMAGE in backend.capabilities:
        template_path = Path(template) if template is not None else templates_dir() / NOTICE_XLSX
        images[S.NOTICE_SHEET_NAME] = fill_template(template_path, data, tmp / "公示.xlsx")
    later = dict(pdf=pdf, html=html, wechat=wechat, template=template, web_data=masked_data,
                 protect=tuple(p for p in (getattr(backend, "path", None),) if p is not None))
    return images, later


def publish_book(backend: WorkbookBackend, *, month: str, start: str | _dt.date | None = None,
                 today: _dt.date | None = None, dry_run: bool = False, pdf=None, html=None, wechat=None,
                 masked: bool = False, template=None) -> PublishResult:
    """Publish a month: its 待公示 entries become 公示中, their blank 积分 get the computed points
    (数量 × 分值 on the entry's date; a typed 积分 is never overwritten), and the publicity period
    is recorded in 公示记录 — all in one write.

    A month whose entries were set to 公示中 by hand (before the village used this toolkit) and
    that has no 公示记录 row yet is published too: its period is recorded (give the day the
    notice really went up as ``start``), so that ``close`` knows when the period ends.

    :param backend: the village workbook.
    :param month: the month (``YYYY-MM``), within the workbook's year.
    :param start: first day of the publicity period (default: today). The period lasts
        基本信息.公示天数 days (default 7): 公示截止 = start + days − 1.
    :param today: the day taken as today (default: the real one); the 发布日期.
    :param dry_run: work everything out, write nothing (no notice files either).
    :param pdf: / html / wechat: the notice's files, written after the workbook (``write_notice``);
        the filled 公示 sheet itself joins the workbook's write.
    :param masked: hide the heads' names (张*三) in the HTML and WeChat text (never in the workbook
        or the printed notice, which the board shows as it is).
    :param template: the village's own Excel notice template (default the toolkit's).
    :raises ValidationFailed: the workbook has 错误 (the report is attached).
    :raises JifenError: nothing to publish, a bad month or start date, an output file that is the
        workbook itself.
    """
    import tempfile

    from .core.cycle import publication, publicity_end, publicity_row, with_row
    from .core.notice import as_published, notice_data

    today = today or _dt.date.today()
    loaded, report = check(backend, today, for_writing=not dry_run)
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，不能发布公示。"
                                       "请先按上面列出的问题改正后重试。工作簿未被改动。")
    village = loaded.village
    period = _month_required(month, village.year)
    label = month_label(period)
    first = parse_day(start, "公示开始日期") or today
    publicity = read_owned(backend, S.PUBLICITY)
    pub = publication(village, period, publicity)
    if not pub.entries:
        sealed = _sealed(village, period)
        if sealed is not None:
            sheet, row, on = sealed
            raise JifenError(
                f"{label} 已经结账封存（「{sheet}」第 {row} 行{f'，{on.isoformat()}' if on else ''}），不能再发布公示。"
                f"要重新打印这个月的公示，请用 jifen-xl notice 工作簿 --month {label}；"
                f"要更正这个月的登记，请在未结账的月份新增一条登记，在备注中写明它更正的登记编号。工作簿未被改动。")
        raise JifenError(_nothing_to_publish(label, pub.by_status))
    days = int(village.settings.get("publicity_days") or S.DEFAULT_PUBLICITY_DAYS)
    end = publicity_end(first, days)
    filled = pub.filled if "points" in loaded.raw["entries"].letters else {}  # a workbook without 积分: nothing to fill
    patches = [ColumnPatch("entries", "status", {i: S.ENTRY_PUBLIC for i, _ in pub.moved})]
    if filled:
        patches.append(ColumnPatch("entries", "points", filled))
    tables = {"publicity": with_row(publicity, S.PUBLICITY, publicity_row(pub, first, end, today))}
    data = notice_data(as_published(village, period), period, start=first, end=end, today=today)
    masked_data = notice_data(as_published(village, period), period, start=first, end=end, today=today,
                              masked=True) if masked else data
    settings = village.settings
    with tempfile.TemporaryDirectory(prefix="jifen-publish-") as tmp:
        images, later = _notice_files(data, masked_data, Path(tmp), pdf=pdf, html=html, wechat=wechat,
                                      template=template, backend=backend)
        _refuse_workbook_as_output(later["protect"], pdf, html, wechat)
        request = WriteRequest(tables, patches=patches, images=images)
        written = None if dry_run else backend.apply(backend.plan_write(request))
    result = PublishResult(label, first, end, days, pub.moved, pub.adopted, filled, pub.households,
                           settings.get("objection_contact"), settings.get("phone"), report, written)
    if not dry_run:
        _, files = write_notice(data, **later)
        names = {"pdf": "打印用的公示", "html": "网页版公示", "wechat": "微信群公示文字"}
        result.outputs = {names[k]: Path(v) for k, v in (("pdf", pdf), ("html", html), ("wechat", wechat))
                          if v is not None}
    return result


def objections_book(backend: WorkbookBackend, *, month: str | None = None) -> list[OpenObjection]:
    """The open objections (异议处理 rows without 处理结果), in sheet order, each with the household
    of the entry it objects to. Reads only; works on a workbook with errors too.

    :param month: only objections to entries of this month (``YYYY-MM``).
    """
    from .core.cycle import in_month

    loaded = load(backend)
    village = loaded.village
    period = parse_month(month, village.year)
    obj = village["objections"]
    obj = obj[obj["result"].isna()]
    entries = village["entries"]
    entries = entries[entries["entry_id"].notna()].drop_duplicates("entry_id")
    if period is not None:
        entries = entries[in_month(entries["date"], period)]
        obj = obj[obj["entry_id"].isin(set(entries["entry_id"]))]
    by_id = entries.set_index("entry_id")
    heads = village["households"].dropna(subset=["hh_id"]).drop_duplicates("hh_id").set_index("hh_id")["head"]
    out = []
    for o in obj.itertuples(index=False):  # the open objections: a handful, not the village's rows
        e = by_id.loc[o.entry_id] if o.entry_id in by_id.index else None
        hh = e["hh_id"] if e is not None else None
        head = heads.get(hh) if hh is not None else None
        if head is None and e is not None:
            head = e["head"]
        when = e["date"] if e is not None else None
        out.append(OpenObjection(
            o.objection_id, o.entry_id, hh, head, o.raised_by,
            o.raised_on.date() if pd.notna(o.raised_on) else None, o.content, int(getattr(o, ROW)),
            int(e[ROW]) if e is not None else None,
            month_label(pd.Period(when, "M")) if when is not None and pd.notna(when) else None))
    return out


def _sealed(village: Village, month: pd.Period) -> tuple[str, int, _dt.date | None] | None:
    """Whether ``month`` is closed already: its 封账记录 row (the sheet's name, the Excel row,
    封账日期), or None (a workbook without 封账记录 has no sealed month)."""
    from .core.cycle import month_of

    seals = village.tables.get("seals")
    if seals is None or seals.empty:
        return None
    for m, row, when in zip(seals["month"], seals[ROW], seals["sealed_on"]):
        if month_of(m) == month:
            return S.SEALS.name, int(row), (None if pd.isna(when) else pd.Timestamp(when).date())
    return None


def _seal_tables(village_after: Village, month: pd.Period, ledger: pd.DataFrame,
                 close_date: _dt.date) -> tuple[dict[str, pd.DataFrame], dict]:
    """The owned tables that seal ``month`` in the close's write: 封账记录 with the month's row
    appended (its 摘要 chained to the previous month's) and 封账明细 with the month's entries as
    they stand after the close (``core.seal``). Returns the tables and the new 封账记录 row."""
    from .core.seal import append_seal, seal_month

    seals, details = village_after.tables.get("seals"), village_after.tables.get("sealed_entries")
    row, rows = seal_month(village_after, month, ledger, seals, details, close_date)
    new_seals, new_details = append_seal(seals, details, row, rows)
    return {"seals": new_seals, "sealed_entries": new_details}, row


def _close_refusal(label: str, reasons: list[str]) -> JifenError:
    return JifenError(f"不能结账 {label}：" + "；".join(reasons) + "。工作簿未被改动。")


def close_book(backend: WorkbookBackend, *, month: str, date: str | _dt.date | None = None,
               today: _dt.date | None = None, dry_run: bool = False) -> CloseResult:
    """Close a month once its publicity period is over and its objections are decided: 更正 ->
    积分 := 更正后积分 and 已确认; 撤销 -> 已撤销; 维持 or no objection -> 已确认; 月度台账 written
    from January through the month; the month sealed (see ``_seal_tables``); the 公示 sheet filled
    again with the verification code when it shows this month (``_refreshed_notice``) — all in one write.

    Refused (nothing written), naming rows and 异议编号: while the workbook has 错误; when the month
    is closed already (it has a 封账记录 row); before the month has ended; while an earlier month of
    the year still has entries 待公示/公示中 or open objections; while entries of the month are still
    待公示; when the month's entries are 公示中 with no 公示记录 row (run ``publish`` for the month:
    it records the period of entries set to 公示中 by hand); on or before the latest 公示截止 of the
    month; while an objection to one of the month's entries is open. A month whose entries were all
    confirmed by hand (no 公示中 left, no 公示记录) closes without a period to wait for.

    :param backend: the village workbook.
    :param month: the month (``YYYY-MM``), within the workbook's year.
    :param date: the close date (default: today).
    :param today: the day taken as today for validation and the default close date.
    :param dry_run: work everything out, write nothing.
    """
    import tempfile

    from .core.cycle import closing, publicity_of, with_changes

    today = today or _dt.date.today()
    loaded, report = check(backend, today, for_writing=not dry_run)
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，不能结账。"
                                       "请先按上面列出的问题改正后重试。工作簿未被改动。")
    village = loaded.village
    period = _month_required(month, village.year)
    label = month_label(period)
    when = parse_day(date, "结账日期") or today
    sealed = _sealed(village, period)
    if sealed is not None:
        sheet, row, on = sealed
        raise JifenError(
            f"{label} 已经结账封存（「{sheet}」第 {row} 行{f'，{on.isoformat()}' if on else ''}），不能再次结账。"
            f"要更正这个月的登记，请在未结账的月份新增一条登记，在备注中写明它更正的登记编号。工作簿未被改动。")
    if when > today:  # a close dated ahead would let the publicity period be skipped
        raise _close_refusal(label, [f"结账日期 {when.isoformat()} 晚于今天（{today.isoformat()}），"
                                     f"只能用今天或已经过去的日期结账"])
    last_day = period.end_time.date()
    if when <= last_day:
        raise _close_refusal(label, [f"结账日期 {when.isoformat()} 时这个月还没有过完，{label} 最早从 "
                                     f"{(last_day + _dt.timedelta(days=1)).isoformat()} 起才能结账"])
    reasons = []
    earlier = [b for b in open_months(village, period - 1) if b.month < period] if period.month > 1 else []
    if earlier:
        reasons.append("更早的月份还没有结账（" + "；".join(_open_parts(earlier)) + "），"
                       f"月份要按顺序结账：请先结账 {month_label(earlier[0].month)}")
    publicity = read_owned(backend, S.PUBLICITY)
    pub = publicity_of(publicity, period)
    state = closing(village, period)
    if state.pending:
        reasons.append(f"{len(state.pending)} 条登记还是“{S.ENTRY_PENDING}”（{_entry_rows(state.pending)}），"
                       f"还没有公示：请先运行 jifen-xl publish 发布 {label} 的公示，公示期满后再结账")
    if pub:
        ends = [(e, r) for _s, e, r in pub]
        broken = [r for e, r in ends if e is None]
        if broken:
            reasons.append(f"「{S.PUBLICITY.name}」{_rows(broken)}的「{S.PUBLICITY.header_of('end')}」不是有效日期（这张表由工具生成，请勿手工修改）："
                           f"请按 {S.PUBLICITY.header_of('start')} + 公示天数 − 1 改回")
        else:
            end, row = max(ends)
            if when <= end:
                reasons.append(f"公示期到 {end.isoformat()} 才结束（「{S.PUBLICITY.name}」第 {row} 行），公示期内不能结账："
                               f"请在 {(end + _dt.timedelta(days=1)).isoformat()} 或之后结账")
    elif state.public:
        reasons.append(f"{len(state.public)} 条登记是“{S.ENTRY_PUBLIC}”（{_entry_rows(state.public)}），"
                       f"但「{S.PUBLICITY.name}」中没有 {label} 的公示记录，工具不知道公示期何时结束："
                       f"请运行 jifen-xl publish 补记这个月的公示期（--start 写公示实际开始的日期）")
    if state.open_objections:
        shown = "、".join(f"{o or '（无编号）'}（第 {r} 行，登记 {e}）" for o, r, e in state.open_objections[:5])
        more = f"等 {len(state.open_objections)} 条" if len(state.open_objections) > 5 else ""
        reasons.append(f"「{S.OBJECTIONS.name}」中还有对本月登记的异议没有处理：{shown}{more}；"
                       f"请核实后在「{S.OBJECTIONS.header_of('result')}」列填写{'、'.join(S.OBJECTION_RESULTS)}"
                       f"（更正还要填「{S.OBJECTIONS.header_of('corrected_points')}」）")
    if reasons:
        raise _close_refusal(label, reasons)

    after = with_changes(village, state.status, state.points)
    ledger = compute_ledger(after, period)
    # 月度台账 is rewritten from January: a sealed month must come out as sealed (an exchange
    # back-dated into it would otherwise rewrite it silently and break its seal)
    _refuse_sealed_differences(village, ledger, first=f"不能结账 {label}：")
    sealing, seal = _seal_tables(after, period, ledger, when)
    tables = {"ledger": ledger} | sealing
    patches = [ColumnPatch("entries", "status", state.status)]
    if state.points and "points" in loaded.raw["entries"].letters:  # a workbook without 积分: nothing to set
        patches.append(ColumnPatch("entries", "points", state.points))
    with tempfile.TemporaryDirectory(prefix="jifen-close-") as tmp:
        images = {} if dry_run else _refreshed_notice(after, period, publicity, seal["code"], when, Path(tmp), backend)
        request = WriteRequest(tables, patches=patches, images=images)
        written = None if dry_run else backend.apply(backend.plan_write(request))
    return CloseResult(label, when, state.confirmed, state.corrected, state.withdrawn, state.kept, ledger, report,
                       written, seal["code"], seal["digest"])


def _refreshed_notice(village_after: Village, month: pd.Period, publicity: pd.DataFrame, code: str,
                      today: _dt.date, tmp: Path, backend: WorkbookBackend) -> dict[str, Path]:
    """The 公示 sheet filled again at the close, when it shows this month's notice (the month's
    publication is the latest in 公示记录): the closed month's points as they now stand, with its
    verification code, so a notice printed from the workbook after the close carries the code.
    Another month's notice in the sheet (the next month published already) is left as it is."""
    from .core.cycle import month_of
    from .core.notice import notice_data

    if publicity is None or publicity.empty:
        return {}
    last = publicity.sort_values(ROW, kind="stable").iloc[-1]
    if month_of(last["month"]) != month or pd.isna(last["start"]) or pd.isna(last["end"]):
        return {}
    data = notice_data(village_after, month, start=pd.Timestamp(last["start"]).date(),
                       end=pd.Timestamp(last["end"]).date(), today=today, code=code)
    return _notice_files(data, data, tmp, backend=backend)[0]


# --- points cards, the 监督报告, the year rollover (issue 9) -------------------------------------------


@dataclass
class CardResult:
    """A household's points card (``core.card.Card``), and the files written."""

    card: object
    report: Report
    html: Path | None = None
    pdf: Path | None = None


@dataclass
class SuperviseResult:
    """The 监督报告 (``core.supervise.SupervisionReport``), the workbook's findings, the files written."""

    supervision: object
    report: Report
    html: Path | None = None
    pdf: Path | None = None


@dataclass
class RolloverResult:
    """The new year's workbook and what was (not) carried (``core.rollover.Rollover``)."""

    path: Path
    rollover: object
    report: Report


def _print_page(template: str, data: dict, html: str | Path | None, pdf: str | Path | None) -> tuple:
    """Render ``templates/<template>`` and write it as HTML and/or PDF (LibreOffice headless)."""
    from .render import render_html

    if html is None and pdf is None:
        return None, None
    page = render_html(template, data)
    html_path = pdf_path = None
    if html is not None:
        html_path = Path(html)
        html_path.write_text(page, encoding="utf-8")
    if pdf is not None:
        from .io.pdf import html_to_pdf

        pdf_path = html_to_pdf(page, pdf)
    return html_path, pdf_path


def card_book(backend: WorkbookBackend, *, household: str, today: _dt.date | None = None,
              html: str | Path | None = None, pdf: str | Path | None = None) -> CardResult:
    """A household's points card (积分卡); read-only on the workbook.

    :param household: a 户号 (「45」 also finds 「0045」), or a 户主姓名 only one household has.
    :param html: write the printable card as an HTML page here.
    :param pdf: write it as a PDF here (LibreOffice headless).
    :raises ValidationFailed: the workbook has 错误 (a card must show right figures).
    :raises JifenError: no such household (the closest ones are suggested), or a shared name.
    """
    from .core.card import find_household, household_card

    loaded, report = check(backend, today)
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，积分卡上的数字可能不准，不能生成积分卡。"
                                       "请先按上面列出的问题改正后重试。")
    row = find_household(loaded.village, household)
    card = household_card(loaded.village, row["hh_id"])
    html_path, pdf_path = _print_page("积分卡.html.j2", card.as_dict(), html, pdf)
    return CardResult(card, report, html_path, pdf_path)


def cards_book(backend: WorkbookBackend, folder: str | Path, *, today: _dt.date | None = None) -> list[Path]:
    """Every 正常 household's points card as an HTML page (``积分卡_<户号>.html``) in ``folder``, the
    workbook read once; read-only on the workbook.

    :raises ValidationFailed: the workbook has 错误 (a card must show right figures).
    """
    from .core.card import household_card
    from .render import render_html

    loaded, report = check(backend, today)
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，积分卡上的数字可能不准，不能生成积分卡。"
                                       "请先按上面列出的问题改正后重试。")
    hh = loaded.village["households"]
    ids = hh.loc[hh["hh_id"].notna() & hh["status"].eq(S.HH_ACTIVE), "hh_id"].drop_duplicates()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for hh_id in ids:  # one page per household: the pages are the output, not a loop over rows
        path = out / f"积分卡_{hh_id}.html"
        path.write_text(render_html("积分卡.html.j2", household_card(loaded.village, hh_id).as_dict()), encoding="utf-8")
        written.append(path)
    return written


def _report_period(village: Village, month: str | None, year: int | str | None, today: _dt.date):
    """The 监督报告's period: ``month``; else the workbook's year (``year`` may name it), up to
    today's month while the year runs, the whole of it once it is over."""
    from .core.supervise import Period

    if month is not None and year is not None:
        raise JifenError("--month 和 --year 只能指定一个：按月报告写 --month 2026-03，按年度报告写 --year 2026。")
    if month is not None:
        return Period.month(parse_month(month, village.year))
    book_year = village.year
    if book_year is None:
        raise JifenError(f"「{S.SETTINGS.name}」中没有年度，不能确定报告的期间。请填写年度后重试。")
    if year is not None:
        text = str(year).strip()
        if not text.isdigit() or int(text) != book_year:
            raise JifenError(f"年度「{year}」与工作簿的年度 {book_year} 不同：一个工作簿只记一年。"
                             f"请写 --year {book_year}，或打开 {year} 年的工作簿。")
    # The year so far: a month still to come is no month a household went unscored.
    last = 12 if today.year > book_year else (today.month if today.year == book_year else 1)
    return Period.year(book_year, last)


def _sealed_changes(loaded: Loaded) -> list:
    """Changes to sealed months (``core.seal.SealChange``) for the 监督报告's section 已封账月份的改动:
    the same check as ``verify`` and ``validate``."""
    from .validate.cycle import seal_findings

    return [change for change, _ in seal_findings(loaded.village)]


def supervise_book(backend: WorkbookBackend, *, month: str | None = None, year: int | str | None = None,
                   today: _dt.date | None = None, html: str | Path | None = None,
                   pdf: str | Path | None = None) -> SuperviseResult:
    """The 监督报告 for the supervisory group over a month or the year; read-only on the workbook.

    It is made even while the workbook has 错误 (a 回避 violation is one): the report names them.

    :param month: one month (``YYYY-MM``).
    :param year: the whole year (the workbook's year).
    :param today: without ``month``/``year``, the report runs January .. today's month.
    """
    from .core.supervise import supervision_report

    today = today or _dt.date.today()
    loaded, report = check(backend, today)
    period = _report_period(loaded.village, month, year, today)
    supervision = supervision_report(loaded.village, period, sealed_changes=_sealed_changes(loaded))
    data = dict(supervision.as_dict(), errors=len(report.errors), warnings=len(report.warnings),
                made=today.isoformat())
    html_path, pdf_path = _print_page("监督报告.html.j2", data, html, pdf)
    return SuperviseResult(supervision, report, html_path, pdf_path)


def rollover_book(backend: WorkbookBackend, *, to: str | Path, year: int | None = None,
                  overwrite: bool = False, today: _dt.date | None = None) -> RolloverResult:
    """Start next year's workbook: the 正常 households with 上年累计积分 / 上年可用积分 carried over,
    the catalogue rows still in force, the groups' serving members, the goods, 年度 + 1.

    The totals carried are December's 累计积分 / 可用积分 recomputed from the year's data. Every
    month must be settled (no entry 待公示/公示中, no open objection); it need not be sealed: a
    month confirmed by hand or closed before the village used ``close`` (legacy, W-SEAL-01 at
    most) is carried as it stands, as the SPEC never refuses such a workbook. A sealed month,
    though, must recompute exactly as its sealed 月度台账 rows (else refused, as ``ledger`` and
    ``close`` refuse), so that a year closed and sealed throughout carries exactly its sealed
    December figures.

    :param to: the new ``.xlsx`` file (``.xlsm``: with the VBA project and the buttons).
    :param year: the new workbook's year; only 年度 + 1 is allowed (default).
    :param overwrite: replace an existing ``to``. **Dangerous**: everything in it is lost.
    :raises JifenError: ``to`` exists, is the workbook itself or not ``.xlsx``/``.xlsm``; a month of the year
        is not settled (the months are listed); ``year`` is not 年度 + 1.
    :raises ValidationFailed: the workbook has 错误.
    """
    from .core.rollover import rollover
    from .io.template import build_workbook

    to = Path(to)
    if to.suffix.lower() not in (".xlsx", ".xlsm"):
        raise JifenError(f"「{to.name}」的扩展名应为 .xlsx（带按钮的工作簿为 .xlsm），例如 永宁寺村2027.xlsx。")
    source = Path(getattr(backend, "path", "") or "")
    if source.name and to.exists() and to.resolve() == source.resolve():
        raise JifenError(f"新年度的工作簿不能写在本工作簿「{to.name}」上，请换一个文件名。")
    if to.exists() and not overwrite:
        raise JifenError(f"文件「{to}」已存在，为防止覆盖已有数据，工具不会改写它。请换一个文件名，或先把原文件移走。")
    loaded, report = check(backend, today)
    village = loaded.village
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，不能结转到下一年度。"
                                       "请先按上面列出的问题改正后重试。没有生成新工作簿。")
    if village.year is None:
        raise JifenError(f"「{S.SETTINGS.name}」中没有年度，不能结转。请填写年度后重试。")
    if year is not None and int(year) != village.year + 1:
        raise JifenError(f"新工作簿的年度只能是 {village.year + 1}（「{S.SETTINGS.name}」的年度 {village.year} 的下一年），"
                         f"不能是 {year}。")
    blocked = open_months(village)
    if blocked:
        raise JifenError(_not_rolled(village.year, blocked))
    ledger = compute_ledger(village, pd.Period(f"{village.year}-12", "M"))
    # the totals carried are December's as recomputed: a sealed month must recompute as sealed
    _refuse_sealed_differences(village, ledger, first=f"不能结转到 {village.year + 1} 年度：")
    plan = rollover(village, ledger)
    if to.suffix.lower() == ".xlsm":  # next year's workbook with the buttons (issue 12)
        from .io import xlsm

        _write_new(to, xlsm.village_package(plan.settings, plan.tables))
        return RolloverResult(to, plan, report)
    path = build_workbook(to, plan.settings, plan.tables, overwrite=overwrite)
    return RolloverResult(path, plan, report)


def _not_rolled(year: int, blocked: list[OpenMonth]) -> str:
    """Why the year cannot be rolled over yet: each month still open and what keeps it open."""
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
    return (f"{year} 年还有 {len(blocked)} 个月没有结账，不能结转到 {year + 1} 年度。" + "；".join(parts) + "。"
            f"请等公示期满、异议处理完、登记状态改为“{S.ENTRY_CONFIRMED}”后再结转。没有生成新工作簿。")


# --- the monthly notice (公示), issue 9 --------------------------------------------------------

@dataclass
class NoticeResult:
    """A month's notice, rendered.

    :param month: ``YYYY-MM``.
    :param start: first day of the publicity period; ``end`` its last day (inclusive).
    :param data: the notice as the templates see it (``core.notice.notice_data``).
    :param messages: the WeChat text, split into messages.
    :param files: the files written (PDF, HTML, WeChat text, sheet image), in that order.
    :param pending_rows: Excel rows (积分登记) of the month's entries still 待公示 (not on this notice).
    :param from_record: the period came from 公示记录 (else from the arguments or today).
    """

    month: str
    start: _dt.date
    end: _dt.date
    data: dict
    messages: list[str]
    files: list[Path] = field(default_factory=list)
    pending_rows: list[int] = field(default_factory=list)
    from_record: bool = False


def _publicity_period(backend: WorkbookBackend, month: pd.Period) -> tuple[_dt.date, _dt.date] | None:
    """The latest publicity period of ``month`` in 公示记录 (a month published twice counts from
    its latest publication), or None."""
    from .core.cycle import publicity_of

    periods = [(end, start) for start, end, _row in publicity_of(read_owned(backend, S.PUBLICITY), month)
               if start is not None and end is not None]
    if not periods:
        return None
    end, start = max(periods)
    return start, end


def _seal_code(village: Village, label: str) -> str | None:
    """The verification code of month ``label`` from 封账记录, once the month is sealed."""
    from .core.seal import month_text

    seals = village.tables.get("seals")
    if seals is None or seals.empty:
        return None
    mine = seals[seals["month"].map(month_text).eq(label) & seals["code"].notna()]
    return str(mine["code"].iloc[-1]) if len(mine) else None


def _same_file(a: Path, b: str | Path | None) -> bool:
    try:
        return b is not None and Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _refuse_workbook_as_output(protect: tuple, *targets) -> None:
    """An output file may never be the village workbook itself."""
    for target in targets:
        if target is not None and any(_same_file(Path(target), p) for p in protect):
            raise JifenError(f"输出文件「{Path(target).name}」就是村里的工作簿，工具不会覆盖它。请换一个文件名。")


@dataclass(frozen=True)
class NoticeKind:
    """Which templates a posting is rendered with (``templates/``).

    :param paginate: the Excel template holds several tables: pages are planned by
        ``io.xlsxfill`` (each table's header again on a new page) instead of ``notice_to_pdf``'s
        keeping of the points notice's last households with its signature.
    """

    html: str
    text: str
    xlsx: str
    paginate: bool = False


#: The monthly points notice (公示, issue 9) and the supermarket's posting (超市公示, issue 10).
POINTS_NOTICE = NoticeKind(R.NOTICE_HTML, R.NOTICE_TEXT, R.NOTICE_XLSX)
SHOP_NOTICE = NoticeKind(R.SHOP_NOTICE_HTML, R.SHOP_NOTICE_TEXT, R.SHOP_NOTICE_XLSX, paginate=True)


def write_notice(data: dict, *, pdf=None, html=None, wechat=None, xlsx=None, template=None,
                 protect: tuple = (), web_data: dict | None = None,
                 kind: NoticeKind = POINTS_NOTICE) -> tuple[list[str], list[Path]]:
    """Render the notice ``data`` to the files asked for (also used by ``publish``).

    :param pdf: the printed notice (the Excel template filled, printed by LibreOffice).
    :param html: the notice as a web page (public account).
    :param wechat: the WeChat text, its messages separated by blank lines.
    :param xlsx: the filled sheet image (one sheet, as printed).
    :param template: the Excel notice template; default ``kind.xlsx`` in ``templates/``.
    :param protect: files never to write (the village workbook).
    :param web_data: the notice for the HTML and WeChat text when it differs (names masked).
    :param kind: which templates (default the points notice).
    :returns: (the WeChat messages, the files written).
    """
    import tempfile

    from .io.pdf import notice_to_pdf, sheet_to_pdf
    from .io.xlsxfill import fill_template
    from .render import render_html, render_text, split_messages, templates_dir

    _refuse_workbook_as_output(protect, pdf, html, wechat, xlsx)
    web = data if web_data is None else web_data
    messages = split_messages(render_text(kind.text, web))
    if html is not None:
        Path(html).write_text(render_html(kind.html, web), encoding="utf-8")
    if wechat is not None:
        Path(wechat).write_text("\n\n\n".join(messages) + "\n", encoding="utf-8")
    if pdf is not None or xlsx is not None:
        template = Path(template) if template is not None else templates_dir() / kind.xlsx
        with tempfile.TemporaryDirectory(prefix="jifen-notice-") as tmp:
            if xlsx is not None:
                fill_template(template, data, Path(xlsx), paginate=kind.paginate)
            if pdf is not None and kind.paginate:
                sheet_to_pdf(fill_template(template, data, Path(tmp) / "notice.xlsx", paginate=True), pdf)
            elif pdf is not None:
                notice_to_pdf(template, data, pdf, tmp)
    files = [Path(p) for p in (pdf, html, wechat, xlsx) if p is not None]
    return messages, files


def notice_book(backend: WorkbookBackend, *, month: str, pdf=None, html=None, wechat=None, xlsx=None,
                masked: bool = False, today: _dt.date | None = None, start: _dt.date | None = None,
                end: _dt.date | None = None, template=None) -> NoticeResult:
    """Render the notice (公示) of a month already published (公示中) or closed; the workbook is
    only read.

    The period is the month's latest one in 公示记录; a workbook without it takes ``start``
    (default today) and ``end`` (default start + 公示天数 − 1).

    :param month: ``YYYY-MM``.
    :param pdf: / html / wechat / xlsx: files to write (see ``write_notice``).
    :param masked: hide the heads' names (张*三) in the HTML and WeChat text (the printed notice
        and the sheet show them: the board posts them).
    :param template: an Excel notice template of the village's own (default the toolkit's).
    :raises ValidationFailed: the workbook has 错误.
    :raises JifenError: nothing of the month is published yet, or the period given disagrees
        with 公示记录, or an output file is the workbook itself.
    """
    from .core.notice import notice_data, published_rows

    today = today or _dt.date.today()
    loaded, report = check(backend, today)
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，不能生成公示。请先按上面列出的问题改正后重试。")
    village = loaded.village
    period = parse_month(month, village.year)
    if period is None:
        raise JifenError("请用 --month 指定要公示的月份，例如 --month 2026-03。")
    label = month_label(period)
    recorded = _publicity_period(backend, period)
    published, pending = published_rows(village, period)
    if recorded is None and not len(published):
        where = f"（「{S.ENTRIES.name}」{_rows(sorted(int(r) for r in pending))}）" if len(pending) else ""
        raise JifenError(f"{label} 还没有发布公示：这个月没有“{S.ENTRY_PUBLIC}”或“{S.ENTRY_CONFIRMED}”的登记"
                         + (f"，有 {len(pending)} 条“{S.ENTRY_PENDING}”{where}，请先运行 jifen-xl publish 发布公示。"
                            if len(pending) else "。请核对月份。"))
    if recorded is not None:
        if (start is not None and start != recorded[0]) or (end is not None and end != recorded[1]):
            raise JifenError(f"「公示记录」中 {label} 的公示期是 {recorded[0].isoformat()} 至 {recorded[1].isoformat()}，"
                             "与所给的 --start/--end 不一致。公示期以「公示记录」为准，请去掉 --start/--end 重试。")
        start, end = recorded
    else:
        start = start or today
        days = int(village.settings.get("publicity_days") or 7)
        end = end or start + _dt.timedelta(days=days - 1)
        if end < start:
            raise JifenError(f"公示截止日 {end.isoformat()} 早于公示开始日 {start.isoformat()}，请核对 --start/--end。")
    code = _seal_code(village, label)
    data = notice_data(village, period, start=start, end=end, today=today, code=code)
    web = notice_data(village, period, start=start, end=end, today=today, masked=True, code=code) if masked else data
    protect = (getattr(backend, "path", None),)
    messages, files = write_notice(data, pdf=pdf, html=html, wechat=wechat, xlsx=xlsx, template=template,
                                   protect=tuple(p for p in protect if p is not None), web_data=web)
    return NoticeResult(label, start, end, data, messages, files, sorted(int(r) for r in pending), recorded is not None)


# --- the love supermarket's monthly posting (超市公示), issue 10 ------------------------------------

@dataclass
class ShopNoticeResult:
    """A month's supermarket posting (物资接收与兑换公示), rendered.

    :param month: ``YYYY-MM``.
    :param data: the posting as the templates see it (``core.shopnotice.shop_notice_data``).
    :param messages: the WeChat text, split into messages.
    :param files: the files written (PDF, HTML, WeChat text, sheet image), in that order.
    """

    month: str
    data: dict
    messages: list[str]
    files: list[Path] = field(default_factory=list)


def shop_notice_book(backend: WorkbookBackend, *, month: str, pdf=None, html=None, wechat=None, xlsx=None,
                     masked: bool = False, today: _dt.date | None = None, start: _dt.date | None = None,
                     end: _dt.date | None = None, template=None) -> ShopNoticeResult:
    """Render the love supermarket's posting of a month: receipts by source and donor, exchanges
    per household, stock at the month's end; the workbook is only read.

    :param month: ``YYYY-MM``.
    :param pdf: / html / wechat / xlsx: files to write (see ``write_notice``).
    :param masked: hide the heads' names (张*三) in the HTML and WeChat text (the printed posting
        shows them).
    :param start: first day of the publicity period (default today); ``end`` its last day
        (default start + 公示天数 − 1).
    :param template: an Excel template of the village's own (default ``templates/超市公示模板.xlsx``).
    :raises ValidationFailed: the workbook has 错误 (the figures would be wrong).
    :raises JifenError: no month given, a month outside the workbook's year, an end before the
        start, or an output file that is the workbook itself.
    """
    from .core.shopnotice import shop_notice_data
    from .core.stock import compute_stock

    today = today or _dt.date.today()
    loaded, report = check(backend, today)
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，爱心超市公示上的数字可能不准，不能生成公示。"
                                       "请先按上面列出的问题改正后重试。")
    village = loaded.village
    period = parse_month(month, village.year)
    if period is None:
        raise JifenError("请用 --month 指定要公示的月份，例如 --month 2026-03。")
    start = start or today
    if end is not None and end < start:
        raise JifenError(f"公示截止日 {end.isoformat()} 早于公示开始日 {start.isoformat()}，请核对 --start/--end。")
    year = village.year if village.year is not None else period.year
    stock = compute_stock(village["goods"], village["receipts"], village["exchanges"], year, period)
    data = shop_notice_data(village, period, stock=stock, today=today, start=start, end=end)
    web = shop_notice_data(village, period, stock=stock, today=today, start=start, end=end, masked=True) \
        if masked else data
    protect = tuple(p for p in (getattr(backend, "path", None),) if p is not None)
    messages, files = write_notice(data, pdf=pdf, html=html, wechat=wechat, xlsx=xlsx, template=template,
                                   protect=protect, web_data=web, kind=SHOP_NOTICE)
    return ShopNoticeResult(month_label(period), data, messages, files)


# --- the exchange slip (兑换单), issue 10 ----------------------------------------------------------


@dataclass
class SlipResult:
    """Exchange slips (``core.slip.exchange_slip``), and the files written.

    :param slips: one dict per exchange, in print order.
    :param month: ``YYYY-MM`` when the slips are a month's, else None.
    """

    slips: list[dict]
    report: Report
    month: str | None = None
    html: Path | None = None
    pdf: Path | None = None


def slip_book(backend: WorkbookBackend, *, exchange: str | None = None, month: str | None = None,
              html: str | Path | None = None, pdf: str | Path | None = None,
              today: _dt.date | None = None) -> SlipResult:
    """The exchange slip (兑换单) of one exchange, or of every exchange of a month (a page each),
    for the household and the supermarket's keeper to sign; read-only on the workbook.

    :param exchange: a 兑换编号 (「DH0012」; 「dh0012」 and 「12」 find it when only one matches).
    :param month: ``YYYY-MM``: all the month's exchanges, by date.
    :param html: write the slips as an HTML page here; ``pdf``: as a PDF (LibreOffice headless).
    :raises ValidationFailed: the workbook has 错误 (a slip must show right figures).
    :raises JifenError: neither or both of ``exchange``/``month``; no such exchange (the closest
        兑换编号 are suggested); a month without exchanges; an output file is the workbook.
    """
    from .core.slip import exchange_balances, exchange_slip, find_exchange, month_exchanges

    if (exchange is None) == (month is None):
        raise JifenError("请用 --exchange 指定一笔兑换（例如 --exchange DH0012），或用 --month 指定月份"
                         "（例如 --month 2026-03，打印该月全部兑换单），二者选一。")
    protect = tuple(p for p in (getattr(backend, "path", None),) if p is not None)
    _refuse_workbook_as_output(protect, html, pdf)
    loaded, report = check(backend, today)
    if not report.valid:
        raise ValidationFailed(report, f"工作簿有 {len(report.errors)} 个错误，兑换单上的积分可能不准，不能生成兑换单。"
                                       "请先按上面列出的问题改正后重试。")
    village = loaded.village
    label = None
    if month is not None:
        period = parse_month(month, village.year)
        label = month_label(period)
        ids = month_exchanges(village, period)
        if not ids:
            raise JifenError(f"{label} 没有兑换记录（「{S.EXCHANGES.name}」中没有这个月的兑换），没有生成兑换单。请核对月份。")
    else:
        ids = [find_exchange(village, exchange)]
    balances = exchange_balances(village)
    slips = [exchange_slip(village, i, balances) for i in ids]
    title = f"{period.year}年{period.month}月" if month is not None else slips[0]["exchange_id"]
    html_path, pdf_path = _print_page("兑换单.html.j2", {"slips": slips, "title": title}, html, pdf)
    return SlipResult(slips, report, label, html_path, pdf_path)


# --- where the supermarket's goods come from (资金来源), issue 10 -------------------------------------


@dataclass
class FundingResult:
    """One village's funding view (``core.funding``).

    :param place: 区县, 镇街, 村 (keys district, township, village).
    :param table: ``funding_table``: the months and 「全年」 × the source types.
    :param summary: ``funding_summary`` (shares, sources used, months, the sentence).
    :param report: the workbook's findings (the view is made even with 错误; they are counted).
    """

    place: dict
    year: int
    table: pd.DataFrame
    summary: dict
    report: Report
    html: Path | None = None
    pdf: Path | None = None


@dataclass
class TownshipFundingResult:
    """Several villages' funding (``core.funding.funding_by_village``).

    :param table: one row per village read, then 「合计」.
    :param villages: per workbook read: file, village, year, receipts, and its sentence.
    :param unreadable: (file, why) of every workbook that could not be read.
    :param skipped: (file, why) of every file of a folder or zip that is no workbook to read (a lock
        file, a backup, a zip inside a folder, a note), as ``io.collect.collect`` lists them.
    """

    year: int | None
    table: pd.DataFrame
    villages: list[dict]
    unreadable: list[tuple[str, str]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    html: Path | None = None
    pdf: Path | None = None


def _funding_year(village: Village, year: int | str | None) -> int:
    """The year of the view: the workbook's (a ``year`` given must be it)."""
    book_year = village.year
    if book_year is None:
        raise JifenError(f"「{S.SETTINGS.name}」中没有年度，不能确定统计哪一年。请填写年度后重试。")
    if year is not None:
        text = str(year).strip()
        if not text.isdigit() or int(text) != book_year:
            raise JifenError(f"年度「{year}」与工作簿的年度 {book_year} 不同：一个工作簿只记一年。"
                             f"请写 --year {book_year}，或打开 {year} 年的工作簿。")
    return book_year


def _months_so_far(year: int, today: _dt.date) -> int:
    return 12 if today.year > year else (today.month if today.year == year else 1)


def funding_book(backend: WorkbookBackend, *, year: int | str | None = None, today: _dt.date | None = None,
                 html: str | Path | None = None, pdf: str | Path | None = None) -> FundingResult:
    """A village's funding view: value received (折合金额) by 来源类型 per month and for the year,
    and whether the supply is diverse and steady (长效投入机制); read-only on the workbook.

    Made even while the workbook has 错误 (the result counts them); receipts without 折合金额 or
    来源类型 are counted, never silently left out.

    :param year: the workbook's year (the default); another is refused.
    :param today: while the year runs, steadiness is judged over its months so far.
    """
    from .core.funding import funding_summary, funding_table

    today = today or _dt.date.today()
    protect = tuple(p for p in (getattr(backend, "path", None),) if p is not None)
    _refuse_workbook_as_output(protect, html, pdf)
    loaded, report = check(backend, today)
    village = loaded.village
    the_year = _funding_year(village, year)
    table = funding_table(village["receipts"], the_year)
    summary = funding_summary(village["receipts"], village["goods"], the_year,
                              months=_months_so_far(the_year, today))
    place = {k: village.settings.get(k) for k in ("district", "township", "village")}
    result = FundingResult(place, the_year, table, summary, report)
    result.html, result.pdf = _print_page("资金来源.html.j2", funding_page(result, today), html, pdf)
    return result


def funding_page(result, today: _dt.date) -> dict:
    """The data of ``templates/资金来源.html.j2`` for a village (``FundingResult``) or a township
    (``TownshipFundingResult``)."""
    from .core.funding import HEADERS, SOURCES, table_records

    township = isinstance(result, TownshipFundingResult)
    first = "village" if township else "month"
    columns = [HEADERS[first], *SOURCES, HEADERS["total"], HEADERS["receipts"], HEADERS["missing"],
               HEADERS["unsourced"]]
    data = {"township": township, "columns": columns, "rows": table_records(result.table),
            "year": result.year, "made": today.isoformat(), "sources": list(SOURCES)}
    if township:
        places = {(v["district"], v["township"]) for v in result.villages}
        data.update(place={"district": "、".join(sorted({p[0] for p in places if p[0]})),
                           "township": "、".join(sorted({p[1] for p in places if p[1]}))},
                    villages=result.villages,
                    unreadable=[{"file": name, "reason": why} for name, why in result.unreadable],
                    skipped=[{"file": name, "reason": why} for name, why in result.skipped])
    else:
        data.update(place=result.place, summary=result.summary, errors=len(result.report.errors))
    return data


def is_folder_or_zip(path) -> bool:
    """Whether ``path`` names many workbooks (a folder, or a .zip the villages sent) rather than one."""
    path = Path(path)
    return path.is_dir() or path.suffix.lower() == ".zip"


def _funding_candidates(paths, scratch: Path) -> list:
    """The files of ``funding``: each file as given, every file of a folder or a zip as the township
    import collects it (``io.collect.collect``: lock files, 备份 folders, zips inside a folder and
    what is no workbook skipped with their reason), a file named twice once."""
    from .io.collect import Candidate, collect

    paths = [Path(p) for p in paths]
    out: list[Candidate] = []
    for i, p in enumerate(paths):
        if is_folder_or_zip(p):  # several folders: each file named with its folder
            prefix = f"{p.name}/" if len(paths) > 1 and p.is_dir() else ""
            out += [Candidate(prefix + c.name, c.path, c.reason) for c in collect(p, scratch / str(i))]
        else:
            out.append(Candidate(p.name, p))
    seen: set = set()
    unique = []
    for c in out:
        key = c.path.resolve() if c.path is not None else None
        if key is not None and key in seen:
            continue
        seen.add(key)
        unique.append(c)
    return unique


def funding_files(paths, *, year: int | None = None, today: _dt.date | None = None,
                  html: str | Path | None = None, pdf: str | Path | None = None) -> TownshipFundingResult:
    """The township's funding view over several village workbooks (files, folders or zips): value
    received by 来源类型 per village and in total. Each workbook is only read; one that cannot be
    read is listed with its reason and never stops the rest. A folder or zip is collected as the
    township import collects it (``io.collect.collect``, walked recursively): its lock files,
    备份 folders, zips and files that are no workbook are listed as skipped with their reason.

    :param year: only receipts of this year (default: each workbook's own year).
    """
    import tempfile

    from .core.funding import funding_by_village

    today = today or _dt.date.today()
    with tempfile.TemporaryDirectory(prefix="jifen-funding-") as scratch:
        candidates = _funding_candidates(paths, Path(scratch))
        files = [c for c in candidates if not c.skipped]
        skipped = [(c.name, c.reason) for c in candidates if c.skipped]
        if not files:
            raise JifenError("没有找到村级工作簿：所给的文件夹里没有 .xlsx/.xlsm/.xls/.ods 文件。请核对路径。"
                             + (f"（{len(skipped)} 个文件已跳过：" + "；".join(f"「{n}」{why}" for n, why in skipped)
                                + "）" if skipped else ""))
        _refuse_workbook_as_output(tuple(c.path for c in files), html, pdf)
        read, villages, unreadable = _funding_read(files, year, today)
    # two workbooks of one village (two years, a copy): each is named with its file
    names = [name for name, _, _ in read]
    frames: dict[str, pd.DataFrame] = {}
    for v, (name, file, receipts) in zip(villages, read):
        v["village"] = f"{name}（{file}）" if names.count(name) > 1 else name
        frames[v["village"]] = receipts
    years = {v["year"] for v in villages}
    shown_year = year if year is not None else (years.pop() if len(years) == 1 else None)
    result = TownshipFundingResult(shown_year, funding_by_village(frames), villages, unreadable, skipped)
    result.html, result.pdf = _print_page("资金来源.html.j2", funding_page(result, today), html, pdf)
    return result


def _funding_read(files, year: int | None, today: _dt.date) -> tuple[list, list[dict], list[tuple[str, str]]]:
    """Each workbook's 物资入库 and funding sentence: (village name, file, receipts) and the
    villages' records of the workbooks read, and (file, why) of those that could not be."""
    from .core.funding import funding_summary

    read: list[tuple[str, str, pd.DataFrame]] = []
    villages: list[dict] = []
    unreadable: list[tuple[str, str]] = []
    for c in files:
        try:
            with collector_paused():
                village = load(open_backend(c.path, pieces=1)).village
        except (KeyboardInterrupt, SystemExit):
            raise
        except JifenError as exc:
            unreadable.append((c.name, exc.message))
            continue
        except BaseException:  # noqa: BLE001 - a reader's panic: one damaged file never ends the township's view
            unreadable.append((c.name, f"文件「{c.path.name}」已损坏或格式无法识别，工具无法读取。"
                                       "请用 Excel 或 WPS 打开后另存为 .xlsx 再试。"))
            continue
        name = str(village.settings.get("village") or c.path.stem)
        the_year = year if year is not None else village.year
        receipts = village["receipts"]
        summary = funding_summary(receipts, village["goods"], the_year or today.year,
                                  months=_months_so_far(the_year or today.year, today))
        read.append((name, c.name, receipts if the_year is None else receipts[receipts["date"].dt.year == the_year]))
        villages.append({"file": c.name, "village": name, "year": the_year,
                         "district": village.settings.get("district"), "township": village.settings.get("township"),
                         "receipts": summary["receipts"], "sentence": summary["sentence"],
                         "sources_used": summary["sources_used"]})
    return read, villages, unreadable


@dataclass(frozen=True)
class DueMonths:
    """The months the workbook's buttons act on (``macros``), each ``YYYY-MM`` or None.

    :param publish: the earliest month that is not settled and has entries to publish (待公示, or
        公示中 without a 公示记录 row): what 生成公示 publishes.
    :param close: the earliest month that is not settled (entries 待公示/公示中 or an open
        objection, ``core.ledger.open_months``): what 封账 closes (``close_book`` says why not yet).
    :param notice: the latest month in 公示记录: what 打印公示 prints.
    :param year: the workbook's 年度.
    """

    publish: str | None
    close: str | None
    notice: str | None
    year: int | None


def due_months(backend: WorkbookBackend) -> DueMonths:
    """What the buttons 生成公示, 封账 and 打印公示 act on, read from the workbook (see ``DueMonths``)."""
    from .core.cycle import month_of, publication

    village = load(backend).village
    publicity = read_owned(backend, S.PUBLICITY, lenient=True)
    opened = [o.month for o in open_months(village)]
    to_publish = next((m for m in opened if publication(village, m, publicity).entries), None)
    months = sorted({month_of(m) for m in publicity["month"]} - {None}) if len(publicity) else []
    return DueMonths(month_label(to_publish) if to_publish is not None else None,
                     month_label(opened[0]) if opened else None,
                     month_label(months[-1]) if months else None, village.year)
