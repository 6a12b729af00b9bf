"""The township import (issue 11): every village workbook of a folder or a zip, read and
validated in parallel, consolidated into one township workbook.

``import_township`` is the use case behind ``jifen-xl township import``. One bad file never
stops the batch: every file gets a status (``schema.IMPORT_STATUSES``) and a reason:

- 已导入 / 已导入有警告: read, no 错误 (warnings only); its figures are consolidated.
- 已拒绝: read, with 错误 (reason 「有 N 个错误」 and the first findings); not consolidated.
- 已跳过: not read (not a workbook, a lock file, damaged, encrypted, not a village workbook,
  a zip member refused, another year than the township workbook's).
- 重复: the same 区县, 镇街, 村 and 年度 as another file read: the newer file (modification
  time; a tie: the later name) is kept, this one is not counted, and a warning names both.

Each workbook is checked in a worker process (``workers``, default one per core; 1 = in
this process): ``app.check`` then ``core.township.village_extract``. The extract (plain frames)
comes back pickled; the parent consolidates and writes.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from . import schema as S
from .app import check, collector_paused, open_backend
from .core.awards import default_award_rules
from .core.township import PLACE_KEYS, VillageExtract, village_extract, village_summary
from .core.wide import WideMapping, point_findings
from .errors import JifenError
from .io.collect import Candidate, collect
from .io.wide import WIDE_NOTE, is_wide, read_mapping, read_wide

__all__ = ["FileOutcome", "TownshipResult", "NothingImported", "import_township", "read_village_file"]

#: Findings shown per file (the JSON's 发现, the summary's first findings).
FIRST_FINDINGS = 5
KEY_DISTRICT, KEY_TOWNSHIP, KEY_VILLAGE, KEY_YEAR = PLACE_KEYS

Progress = Callable[[int, int, str], None]


@dataclass
class FileOutcome:
    """What became of one file of the batch (plain data: it crosses process boundaries).

    :param file: the file as the officer knows it (path below the folder, or ``压缩包/成员``).
    :param status: one of ``schema.IMPORT_STATUSES``.
    :param reason: why (Chinese); empty for a file imported without a finding.
    :param findings: the first findings (≤ 5), as ``validate --json`` prints them.
    :param extract: what the village contributes (None when the file was not read).
    :param seconds: wall time of reading, validating and extracting it.
    :param errors: its 错误 count; ``warnings`` its 警告 count.
    :param detail: for developers, when something other than a refusal stopped the read.
    """

    file: str
    status: str
    reason: str = ""
    findings: list[dict] = field(default_factory=list)
    extract: VillageExtract | None = None
    seconds: float = 0.0
    errors: int = 0
    warnings: int = 0
    detail: str | None = None

    @property
    def meta(self) -> dict:
        return self.extract.meta if self.extract is not None else {}

    @property
    def imported(self) -> bool:
        return self.status in (S.FILE_IMPORTED, S.FILE_IMPORTED_WARNINGS)

    def record(self) -> dict:
        """The JSON object of ``township import --json``: 文件, 状态, 原因, 发现 (and the village, when read)."""
        meta = self.meta
        return {"文件": self.file, "状态": self.status, "原因": self.reason, "村": meta.get(KEY_VILLAGE),
                "年度": meta.get(KEY_YEAR), "错误数": self.errors, "警告数": self.warnings, "发现": self.findings}


@dataclass
class TownshipResult:
    """The batch: every file's outcome, the villages consolidated and where they were written.

    :param files: one outcome per file found, in the source's order.
    :param villages: one summary per village consolidated (``core.township.village_summary``).
    :param extracts: the consolidated villages' extracts (imported files only, one per village).
    :param year: the township workbook's year.
    :param out: the township workbook written (None when not written).
    :param warnings: batch-level warnings (duplicates naming both files), Chinese.
    :param seconds: wall times: collect, read (all files), write, total.
    """

    files: list[FileOutcome]
    villages: list[dict]
    extracts: list[VillageExtract]
    year: int | None
    out: Path | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    parquet: Path | None = None  # the Parquet dataset written (``--parquet``), or None
    #: the township workbook's tables (``core.township.township_tables``) and the villages' names
    #: in them, kept for the printed report; ``reports``: the report files written, by kind.
    tables: object | None = field(default=None, repr=False)
    names: list[str] = field(default_factory=list, repr=False)
    reports: dict[str, Path] = field(default_factory=dict)
    #: files counted here but not written to the Parquet dataset, which holds a newer file of
    #: their village: file -> ``{"file", "modified"}`` of the newer one (``--parquet``).
    older: dict[str, dict] = field(default_factory=dict, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        """Files per status (every status present, in ``IMPORT_STATUSES`` order)."""
        got = Counter(f.status for f in self.files)
        return {s: got.get(s, 0) for s in S.IMPORT_STATUSES}

    def records(self) -> dict:
        """``{"files": [...], "villages": [...]}`` as ``township import --json`` prints it."""
        return {"files": [f.record() for f in self.files], "villages": list(self.villages)}


class NothingImported(JifenError):
    """没有可以导入的村级工作簿。"""

    def __init__(self, result: TownshipResult, message: str):
        super().__init__(message)
        self.result = result


# -- one file (runs in a worker process) ------------------------------------------------

def _damaged(name: str) -> str:
    return (f"文件「{name}」已损坏或格式无法识别，工具无法读取。"
            f"请让村里用 Excel 或 WPS 打开后另存为 .xlsx 再报送；仍不行，请把文件发给技术人员。")


def read_village_file(path: str | Path, name: str, today: _dt.date | None = None,
                      mapping: WideMapping | None = None, *, pieces: int | None = 1) -> FileOutcome:
    """Read, validate and extract one village workbook; never raises for a bad file (only
    ``KeyboardInterrupt`` and ``SystemExit`` pass).

    :param path: the file to read.
    :param name: the file as the officer knows it (for the outcome).
    :param today: the day validation takes as today.
    :param mapping: a mapping file's (``--mapping``), for a wide workbook without 「导入映射」.
    :param pieces: how its large sheets are parsed (``app.open_backend``): 1 (default) = whole,
        on one thread, for a worker process that has a core of its own; None = in pieces on
        every core, for files read one after the other in this process.
    """
    path = Path(path)
    start = time.perf_counter()
    wide = False
    try:
        with collector_paused():
            backend = open_backend(path, pieces=pieces)
            wide = is_wide(backend) or (mapping is not None and not S.is_village_workbook(backend.has_sheet))
            if wide:
                village, report = _check_wide(backend, mapping, today)
            else:
                loaded, report = check(backend, today)
                village = loaded.village
            extract = village_extract(village, report)
    except (KeyboardInterrupt, SystemExit):
        raise
    except JifenError as exc:
        return FileOutcome(name, S.FILE_SKIPPED, exc.message, seconds=time.perf_counter() - start)
    except BaseException as exc:  # noqa: BLE001 - a reader's panic (pyo3 PanicException) is a BaseException
        return FileOutcome(name, S.FILE_SKIPPED, _damaged(path.name), seconds=time.perf_counter() - start,
                           detail=f"{type(exc).__name__}: {exc}")
    try:
        extract.meta["file"] = name
        extract.meta["modified"] = _dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
    except OSError:
        extract.meta["modified"] = None
    errors, warnings = len(report.errors), len(report.warnings)
    first = report.records()[:FIRST_FINDINGS]
    if errors:
        status, reason = S.FILE_REJECTED, f"有 {errors} 个错误" + (f"、{warnings} 个警告" if warnings else "") + \
            "，本村数据未计入汇总。请让村里按「发现」中的行号和修改建议改正后重新报送。"
    elif warnings:
        status, reason = S.FILE_IMPORTED_WARNINGS, f"有 {warnings} 个警告（数据已计入汇总）。"
    else:
        status, reason = S.FILE_IMPORTED, ""
    if wide:
        reason = f"{WIDE_NOTE}。{reason}"
    return FileOutcome(name, status, reason, first, extract, time.perf_counter() - start, errors, warnings)


def _check_wide(backend, mapping: WideMapping | None, today) -> tuple:
    """A wide workbook read through its mapping and validated: (village, report). Findings point
    at the wide sheet's cells; rules that make no sense for a township's final figures do not
    fire (``core.wide.SILENT_RULES``)."""
    from .validate import validate

    village, problems, used, sheet = read_wide(backend, mapping)
    return village, point_findings(validate(village, problems, today=today), used, sheet)


def _read_job(args) -> FileOutcome:
    return read_village_file(*args)


def _crashed(name: str) -> FileOutcome:
    return FileOutcome(name, S.FILE_SKIPPED, f"读取文件「{Path(name).name}」时工具的读取进程意外退出（文件可能已损坏，"
                       f"或电脑内存不足）。请关闭其他程序后重试；仍不行，请把文件发给技术人员。")


# -- the batch ----------------------------------------------------------------------------

def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _read_all(jobs: list[Candidate], workers: int, today, progress: Progress | None,
              mapping: WideMapping | None = None,
              arrived: Callable[[FileOutcome], None] | None = None) -> list[FileOutcome]:
    """Every job's outcome, in the jobs' order; in parallel when ``workers`` > 1. ``arrived`` is
    called with each outcome as it comes back (the Parquet dataset is written as they arrive)."""
    total, done = len(jobs), 0
    out: list[FileOutcome | None] = [None] * total

    def finished(i: int, outcome: FileOutcome) -> None:
        nonlocal done
        if arrived is not None:
            arrived(outcome)
        out[i], done = outcome, done + 1
        if progress is not None:
            progress(done, total, jobs[i].name)

    if workers <= 1 or total <= 1:
        # One file at a time in this process: each file's large sheet is parsed in pieces on
        # every core (a worker process, below, parses its file whole: one process per core).
        for i, job in enumerate(jobs):
            finished(i, read_village_file(job.path, job.name, today, mapping, pieces=None))
        return out
    # The largest files first: the pool ends with small ones, both cores busy to the end.
    order = sorted(range(total), key=lambda i: -_size(jobs[i].path))
    broken: list[int] = []
    with ProcessPoolExecutor(max_workers=min(workers, total)) as pool:
        futures = {pool.submit(_read_job, (jobs[i].path, jobs[i].name, today, mapping)): i for i in order}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                finished(i, fut.result())
            except BrokenProcessPool:
                broken.append(i)
    # A worker died (a crash in native code, out of memory): which file did it cannot be told,
    # so each unfinished file is tried again alone, in a process of its own.
    for i in sorted(broken):
        try:
            with ProcessPoolExecutor(max_workers=1) as pool:
                finished(i, pool.submit(_read_job, (jobs[i].path, jobs[i].name, today, mapping)).result())
        except BrokenProcessPool:
            finished(i, _crashed(jobs[i].name))
    return out


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else 0
    except OSError:
        return 0


def _pick_year(read: list[FileOutcome], year: int | None) -> int | None:
    """The township workbook's year: the one asked for, else the one most files have (a tie:
    the latest)."""
    if year is not None:
        return int(year)
    years = Counter(f.meta.get(KEY_YEAR) for f in read if f.meta.get(KEY_YEAR) is not None)
    if not years:
        return None
    return max(years, key=lambda y: (years[y], y))


def _other_year(outcome: FileOutcome, year: int) -> None:
    got = outcome.meta.get(KEY_YEAR)
    outcome.status, outcome.findings = S.FILE_SKIPPED, []
    if got is None:
        outcome.reason = (f"「{S.SETTINGS.name}」中没有填写{KEY_YEAR}，无法计入 {year} 年度的汇总。"
                          f"请让村里在「{S.SETTINGS.name}」填写{KEY_YEAR}后重新报送。")
    else:
        outcome.reason = (f"是 {got} 年度的工作簿，本次汇总的是 {year} 年度，未计入。"
                          f"需要 {got} 年度的汇总时，请另行导入并加 --year {got}。")


def _place(meta: dict) -> str:
    return " ".join(str(meta.get(k)) for k in (KEY_DISTRICT, KEY_TOWNSHIP, KEY_VILLAGE) if meta.get(k)) + \
        f" {meta.get(KEY_YEAR)} 年度"


def _deduplicate(read: list[FileOutcome]) -> list[str]:
    """Mark all but the newest file of each village-year 重复; the warnings naming both files.

    A file whose 村 is blank cannot be matched with another and is never a duplicate."""
    groups: dict[tuple, list[FileOutcome]] = {}
    for f in read:
        meta = f.meta
        if not meta.get(KEY_VILLAGE):
            continue
        groups.setdefault(tuple(meta.get(k) for k in PLACE_KEYS), []).append(f)
    warnings = []
    for same in groups.values():
        if len(same) < 2:
            continue
        kept = max(same, key=lambda f: (f.meta.get("modified") or "", f.file))
        for f in same:
            if f is kept:
                continue
            f.status, f.findings = S.FILE_DUPLICATE, []
            f.reason = (f"与「{kept.file}」是同一个村同一年度（{_place(f.meta)}）的工作簿；按修改时间保留较新的"
                        f"「{kept.file}」，本文件不计入。")
            warnings.append(f"「{f.file}」与「{kept.file}」都是{_place(f.meta)}的工作簿，"
                            f"只计入较新的「{kept.file}」（修改于 {kept.meta.get('modified')}）。")
    return warnings


def check_output(out: Path) -> None:
    """Refuse, before any work, an output the township workbook could not be written to (see
    ``io.township_book.check_output``)."""
    from .io.township_book import check_output as check_book

    check_book(out)


def import_township(source: str | Path, out: str | Path | None, *, workers: int | None = None,
                    year: int | None = None, progress: Progress | None = None,
                    today: _dt.date | None = None, mapping: str | Path | None = None,
                    parquet: str | Path | None = None, html: str | Path | None = None,
                    pdf: str | Path | None = None, rules=None) -> TownshipResult:
    """Import every village workbook of ``source`` and write the township workbook ``out``.

    :param source: a folder (walked recursively) or a .zip of village workbooks.
    :param out: the township workbook (.xlsx); None: consolidate only, write nothing.
    :param workers: processes reading files at once (default: one per core; 1 = this process).
    :param year: the year to consolidate; files of other years are 已跳过 (default: the year
        most files have).
    :param progress: called as ``progress(done, total, file)`` after each workbook is read.
    :param today: the day validation takes as today.
    :param mapping: a mapping file (a workbook with a 「导入映射」 sheet) for the wide-layout (宽表)
        files of ``source`` that have no mapping of their own; refused before the work when wrong.
    :param parquet: also write the consolidated tables as a Parquet dataset into this folder
        (``io.parquet``: the same villages' partitions are replaced, the others kept).
    :param html: also write the printable township report as an HTML page here; ``pdf``: as a
        PDF (LibreOffice headless). See ``township_report``.
    :param rules: the 评优规则 to pick the award candidates by (fields of ``schema.AWARD_RULES``,
        e.g. read from the workbook open in Excel by the 导入各村台账 button); default: those
        kept in ``out`` (``io.township_book.read_award_rules``), else the defaults.
    :raises NothingImported: no file could be imported (every file's outcome is attached).
    :raises JifenError: the source cannot be opened, or the output cannot be written.
    """
    started = time.perf_counter()
    out = Path(out) if out is not None else None
    if out is not None:
        from .io.township_book import read_award_rules

        check_output(out)
    check_report_outputs(html, pdf)
    if out is not None and rules is None:
        rules = read_award_rules(out)  # the officer's 评优规则: a wrong rule is refused before the work
    wide_mapping = read_mapping(mapping) if mapping is not None else None
    dataset = _Dataset(parquet, slim=out is None and html is None and pdf is None) if parquet is not None else None
    workers = default_workers() if workers is None else max(1, int(workers))
    seconds: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="jifen-township-") as scratch:
            candidates = collect(source, scratch, exclude=(out,) if out is not None else ())
            seconds["collect"] = time.perf_counter() - started
            if mapping is not None:
                candidates = _without_mapping(candidates, Path(mapping))
            jobs = [c for c in candidates if not c.skipped]
            t = time.perf_counter()
            outcomes = iter(_read_all(jobs, workers, today, progress, wide_mapping,
                                      dataset.arrived if dataset is not None else None))
            seconds["read"] = time.perf_counter() - t
        return _finish(candidates, outcomes, year, out, rules, dataset, source, seconds, started, html, pdf, today)
    finally:
        if dataset is not None:
            dataset.export.discard()


def _finish(candidates, outcomes, year, out, rules, dataset, source, seconds, started, html, pdf,
            today) -> TownshipResult:
    """The batch's outcomes decided (year, duplicates), then written: workbook, dataset, report."""
    files = [FileOutcome(c.name, S.FILE_SKIPPED, c.reason) if c.skipped else next(outcomes) for c in candidates]

    read = [f for f in files if f.extract is not None]
    chosen = _pick_year(read, year)
    for f in read:
        if chosen is None or f.meta.get(KEY_YEAR) != chosen:
            _other_year(f, chosen)
    read = [f for f in read if f.status != S.FILE_SKIPPED]
    warnings = _deduplicate(read)
    kept = [f for f in read if f.imported]
    for f in files:  # what is not counted keeps its place and findings only (a district holds many files)
        if f.extract is not None and not f.imported:
            f.extract = VillageExtract(dict(f.extract.meta), findings=f.extract.findings)
    summaries = dataset.summaries if dataset is not None else {}
    result = TownshipResult(files, [summaries.get(f.file) or village_summary(f.extract) for f in kept],
                            [f.extract for f in kept], chosen, None, warnings, seconds)
    if not kept:
        if dataset is not None:  # the rejected and skipped files are recorded; every village keeps its data
            result.parquet = dataset.commit(result)
        raise NothingImported(result, _nothing_message(result, source))
    if out is not None:
        t = time.perf_counter()
        result.out = _write(out, result, rules)
        seconds["write"] = time.perf_counter() - t
    if dataset is not None:
        t = time.perf_counter()
        result.parquet = dataset.commit(result)
        seconds["parquet"] = time.perf_counter() - t
    if html is not None or pdf is not None:
        t = time.perf_counter()
        _tables(result, rules)  # the report's candidates by the same rules as the workbook's
        township_report(result, html=html, pdf=pdf, today=today)
        seconds["report"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - started
    return result


class _Dataset:
    """The import's Parquet dataset (``--parquet``): each accepted village staged as its outcome
    arrives, the villages kept and every file committed at the end (``io.parquet.ParquetExport``).

    :param slim: nothing else needs the villages' frames (no workbook, no report: a district's
        import): once staged, an extract keeps only its place, findings and aggregates, so the
        import never holds every village's frames.
    """

    def __init__(self, root, *, slim: bool):
        from .io.parquet import ParquetExport

        self.export, self.slim = ParquetExport(root), slim
        self.staged: dict[str, object] = {}
        self.summaries: dict[str, dict] = {}

    def arrived(self, outcome: FileOutcome) -> None:
        if not outcome.imported or outcome.extract is None:
            return
        e = outcome.extract
        self.summaries[outcome.file] = summary = village_summary(e)
        self.staged[outcome.file] = self.export.add_village(e, summary)
        if self.slim:
            outcome.extract = VillageExtract(e.meta, findings=e.findings, parts=e.aggregates())

    def commit(self, result: TownshipResult) -> Path:
        kept = [self.staged[f.file] for f in result.files if f.imported and f.file in self.staged]
        records = [f.record() | {KEY_DISTRICT: f.meta.get(KEY_DISTRICT), KEY_TOWNSHIP: f.meta.get(KEY_TOWNSHIP)}
                   for f in result.files]
        done = self.export.commit(kept, records, result.year)
        result.older.update(done.older)
        for file, newer in done.older.items():
            result.warnings.append(f"「{file}」比 Parquet 数据集中本村已有的「{newer.get('file')}」（修改于 "
                                   f"{newer.get('modified')}）旧，数据集保留了较新的数据。")
        return self.export.root


def _without_mapping(candidates: list[Candidate], mapping: Path) -> list[Candidate]:
    """The mapping file, when it lies in the folder imported, is 已跳过 (it is no village's data)."""
    try:
        key = mapping.resolve()
        return [Candidate(c.name, None, "是 --mapping 指定的宽表映射文件，不导入。")
                if c.path is not None and c.path.resolve() == key else c for c in candidates]
    except OSError:
        return candidates


def _write(out: Path, result: TownshipResult, rules) -> Path:
    """Write the township workbook: the accepted villages consolidated, the award candidates by
    the officer's rules (``rules``: those kept in ``out``, None = the defaults), every file in
    校验汇总 (atomic, with a backup of the workbook it replaces)."""
    from .io.township_book import write_township_book

    tables = _tables(result, rules)
    return write_township_book(out, tables, rules if rules is not None else default_award_rules()).path


def _tables(result: TownshipResult, rules=None):
    """The township workbook's tables of ``result`` (computed once, kept on it for the report)."""
    from .core.awards import award_candidates
    from .core.township import consolidate, township_tables

    if result.tables is None:
        rules = rules if rules is not None else default_award_rules()
        t = consolidate(list(result.extracts))
        result.tables = township_tables(t, result.files, award_candidates(t, rules))
        result.names = t.names
    return result.tables


def check_report_outputs(html, pdf) -> None:
    """Refuse, before the work, report files with the wrong extension or in a folder that does not
    exist, and a PDF when LibreOffice is missing (the workbook is then not written either)."""
    wanted = [(Path(p), kind, suffixes) for p, kind, suffixes in
              ((html, "网页版报告", (".html", ".htm")), (pdf, "PDF 报告", (".pdf",))) if p is not None]
    for path, kind, suffixes in wanted:
        suffix = suffixes[0]
        if path.suffix.lower() not in suffixes:
            raise JifenError(f"{kind}「{path.name}」的扩展名应为 {suffix}，例如 中梁镇2026年积分汇总报告{suffix}。")
        if not (path.parent if str(path.parent) else Path(".")).is_dir():
            raise JifenError(f"保存{kind}的文件夹「{path.parent}」不存在，请先建好文件夹或换一个位置。")
    if pdf is not None:
        from .io.pdf import find_soffice

        if find_soffice() is None:
            raise JifenError("没有找到 LibreOffice（soffice），无法生成 PDF 报告，没有开始导入。请安装 LibreOffice"
                             "（免费，https://zh-cn.libreoffice.org），或设置环境变量 JIFEN_SOFFICE 指向 soffice 程序；"
                             "也可以改用 --html 生成网页版报告，再用浏览器打印。")


def township_report(result: TownshipResult, *, html: str | Path | None = None, pdf: str | Path | None = None,
                    today: _dt.date | None = None) -> dict[str, Path]:
    """The printable township report (汇总概况, 月度趋势 and 扣分热点 with charts, 评优候选, 物资来源,
    校验汇总) from the import's result: its tables and extracts, no file read again.

    :param html: write the report as an HTML page here; ``pdf``: as an A4 PDF (LibreOffice).
    :param today: the report's date (default today).
    :returns: the files written, by kind (also kept in ``result.reports``).
    :raises JifenError: LibreOffice is missing or fails (the HTML is written first).
    """
    from .io.township_report import report_data, write_report

    tables = _tables(result)
    receipts = {name: e.receipts for name, e in zip(result.names or [str(v) for v in tables.summary["village"]],
                                                    result.extracts)}
    data = report_data(tables, receipts=receipts, counts=result.counts, warnings=result.warnings, made=today)
    result.reports.update(write_report(data, html=html, pdf=pdf))
    return dict(result.reports)


def _nothing_message(result: TownshipResult, source) -> str:
    name = Path(source).name
    if not result.files:
        return f"「{name}」中没有任何文件。请确认各村的工作簿已放进这个文件夹（或压缩包）。"
    counts = "，".join(f"{s} {n} 个" for s, n in result.counts.items() if n)
    return (f"「{name}」中没有可以计入汇总的村级工作簿（共 {len(result.files)} 个文件：{counts}）。"
            f"没有生成汇总工作簿。请按每个文件的「原因」处理后重新导入。")
