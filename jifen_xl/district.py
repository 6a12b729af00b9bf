"""The district roll-up (issue 11): ``jifen-xl district import SRC -o 区县汇总.xlsx``.

``SRC`` is either a tree of village workbooks (any depth: each folder right below ``SRC`` is
imported as one batch, a township; workbooks lying directly in ``SRC`` form one more batch) or
a Parquet dataset written by ``township import --parquet`` (``io.parquet``).

A tree is imported batch by batch (``township.import_township``) into a Parquet dataset (the
one given with ``--parquet``, else a scratch one), streamed: each village's tables are written
as its file is read, then let go (one township's small aggregates at most are held). The
roll-up then runs its queries in DuckDB over the dataset (``SQL`` below, the only place they
live): per village the figures of 汇总概况 computed from the detail tables, per township their
totals, and the frames the analyses need (per household, month and item), so the district
workbook is written by ``io.township_book`` at ``schema.LEVEL_DISTRICT`` (``district_tables``):
汇总概况 has each township's villages followed by its 小计 row, then 全区合计; 月度趋势 per 镇街;
户排名 and 评优候选 district-wide with 镇街 and 村. ``--html``/``--pdf``: the district report.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from . import schema as S
from .core.awards import award_candidates, default_award_rules
from .core.township import (
    PLACE_KEYS,
    REWARD_KINDS,
    Township,
    TownshipTables,
    VillageExtract,
    _number,
    _unique_labels,
    monthly_trend,
    summary_total,
    township_monthly,
    township_tables,
    village_by_month,
)
from .errors import JifenError
from .io.parquet import BLANK, is_dataset, table_glob
from .township import NothingImported, Progress, check_report_outputs, default_workers, import_township

__all__ = ["DistrictResult", "import_district", "roll_up", "SUBTOTAL"]

KEY_DISTRICT, KEY_TOWNSHIP, KEY_VILLAGE, KEY_YEAR = PLACE_KEYS
LEVEL = S.LEVEL_DISTRICT
#: The 村 cell of a township's subtotal row in the district's 汇总概况.
SUBTOTAL = LEVEL.subtotal
#: A township (镇街) left blank in 基本信息, as 月度趋势 names its row.
NO_TOWNSHIP = "（未填镇街）"
_PLACE = ("district", "township", "village")
_HIVE = "hive_partitioning = true, hive_types = {{'year': INTEGER, 'district': VARCHAR, 'township': VARCHAR{}}}, " \
        "union_by_name = true"

# --- the queries (DuckDB SQL over the dataset's views; $year and the schema's words as parameters) ---
SQL = {
    # 汇总概况 per village, from the detail tables (as core.township.village_summary counts it).
    "summary": """
WITH v AS (SELECT district, township, village, through FROM villages WHERE year = $year),
hh AS (SELECT district, township, village, hh_id, any_value(hukou) AS hukou FROM households
       WHERE year = $year AND status = $active AND hh_id IS NOT NULL GROUP BY ALL),
e AS (SELECT district, township, village, hh_id, kind, points FROM entries WHERE year = $year AND counted),
hs AS (SELECT district, township, village, count(*) AS households,
              count(*) FILTER (WHERE hukou = $nonlocal) AS nonlocal FROM hh GROUP BY ALL),
tp AS (SELECT district, township, village, count(DISTINCT hh_id) AS taking_part
       FROM e SEMI JOIN hh USING (district, township, village, hh_id) GROUP BY ALL),
pts AS (SELECT district, township, village,
               coalesce(sum(points) FILTER (WHERE list_contains($reward_kinds, kind)), 0) AS reward,
               coalesce(sum(points) FILTER (WHERE kind = $deduct), 0) AS deduct,
               coalesce(sum(points), 0) AS total FROM e GROUP BY ALL),
ob AS (SELECT district, township, village, count(*) AS objections,
              count(*) FILTER (WHERE result = $keep) AS kept, count(*) FILTER (WHERE result = $correct) AS corrected,
              count(*) FILTER (WHERE result = $withdraw) AS withdrawn, count(*) FILTER (WHERE result = $open) AS open
       FROM objections WHERE year = $year GROUP BY ALL),
ex AS (SELECT district, township, village, count(*) AS exchanges, coalesce(sum(points), 0) AS spent
       FROM exchanges WHERE year = $year GROUP BY ALL),
st AS (SELECT district, township, village, coalesce(sum(closing * price), 0) AS stock_value
       FROM stock WHERE year = $year GROUP BY ALL),
fi AS (SELECT district, township, village, count(*) FILTER (WHERE level = $error) AS errors,
              count(*) FILTER (WHERE level = $warning) AS warnings FROM findings WHERE year = $year GROUP BY ALL)
SELECT district, township, village, $year AS year, through,
       coalesce(households, 0) AS households, coalesce(nonlocal, 0) AS nonlocal,
       coalesce(taking_part, 0) AS taking_part, coalesce(reward, 0) AS reward, coalesce(deduct, 0) AS deduct,
       coalesce(total, 0) AS total, coalesce(objections, 0) AS objections, coalesce(kept, 0) AS kept,
       coalesce(corrected, 0) AS corrected, coalesce(withdrawn, 0) AS withdrawn, coalesce(open, 0) AS open,
       coalesce(exchanges, 0) AS exchanges, coalesce(spent, 0) AS spent, coalesce(stock_value, 0) AS stock_value,
       coalesce(errors, 0) AS errors, coalesce(warnings, 0) AS warnings
FROM v LEFT JOIN hs USING (district, township, village) LEFT JOIN tp USING (district, township, village)
       LEFT JOIN pts USING (district, township, village) LEFT JOIN ob USING (district, township, village)
       LEFT JOIN ex USING (district, township, village) LEFT JOIN st USING (district, township, village)
       LEFT JOIN fi USING (district, township, village)
ORDER BY district, township, village""",
    # households 正常 (one row per household, its first 户主姓名).
    "households": """
SELECT label AS village, hh_id, first(head) AS head FROM households JOIN labels USING (district, township, village)
WHERE year = $year AND status = $active AND hh_id IS NOT NULL GROUP BY ALL""",
    # counted points per household and 指标类别.
    "points": """
SELECT label AS village, hh_id, coalesce(category, '') AS category, sum(points) AS points
FROM entries JOIN labels USING (district, township, village)
WHERE year = $year AND counted AND hh_id IS NOT NULL GROUP BY ALL""",
    # counted deduction entries per household.
    "deductions": """
SELECT label AS village, hh_id, count(*) AS count FROM entries JOIN labels USING (district, township, village)
WHERE year = $year AND counted AND kind = $deduct AND hh_id IS NOT NULL GROUP BY ALL""",
    # per village and month: counted points, households 正常 taking part, points spent.
    "monthly": """
WITH act AS (SELECT DISTINCT district, township, village, hh_id FROM households WHERE year = $year AND status = $active),
e AS (SELECT district, township, village, month, sum(points) AS total,
             count(DISTINCT hh_id) FILTER (WHERE (district, township, village, hh_id) IN (SELECT * FROM act))
               AS taking_part
      FROM entries WHERE year = $year AND counted AND month IS NOT NULL GROUP BY ALL),
x AS (SELECT district, township, village, month, sum(points) AS spent FROM exchanges
      WHERE year = $year AND month IS NOT NULL GROUP BY ALL)
SELECT label AS village, month, coalesce(total, 0) AS total, coalesce(taking_part, 0) AS taking_part,
       coalesce(spent, 0) AS spent
FROM e FULL JOIN x USING (district, township, village, month) JOIN labels USING (district, township, village)""",
    # counted deductions per village and item.
    "hotspots": """
SELECT label AS village, code, coalesce(name, '') AS name, first(coalesce(category, '')) AS category,
       count(*) AS count, count(DISTINCT hh_id) AS households, sum(points) AS points
FROM entries JOIN labels USING (district, township, village)
WHERE year = $year AND counted AND kind = $deduct AND code IS NOT NULL GROUP BY label, code, coalesce(name, '')""",
    "ledger": """
SELECT label AS village, hh_id, cumulative, available FROM ledger JOIN labels USING (district, township, village)
WHERE year = $year""",
    "findings": """
SELECT label AS village, level, rule, sheet, row, "column", message, fix
FROM findings JOIN labels USING (district, township, village) WHERE year = $year""",
    # the last month with a counted entry per village (its points are final up to its ledger's month).
    "last_counted": """
SELECT label AS village, max(month) AS month FROM entries JOIN labels USING (district, township, village)
WHERE year = $year AND counted GROUP BY ALL""",
    # 物资入库 of the year per village (the report's 爱心超市物资来源).
    "receipts": """
SELECT label AS village, date, funding, donor, goods_id, qty, amount
FROM receipts JOIN labels USING (district, township, village) WHERE year = $year""",
    "years": "SELECT year, count(*) AS n FROM villages GROUP BY year ORDER BY n DESC, year DESC",
    "files": """
SELECT township, file, village, status, reason, errors, warnings FROM files WHERE year = $year
ORDER BY district, township""",
}
_PARAMS = {"active": S.HH_ACTIVE, "nonlocal": S.HUKOU_TYPES[1], "reward_kinds": list(REWARD_KINDS),
           "deduct": S.KIND_DEDUCT, "keep": S.OBJ_KEEP, "correct": S.OBJ_CORRECT, "withdraw": S.OBJ_WITHDRAW,
           "open": "待处理", "error": S.LEVEL_ERROR, "warning": S.LEVEL_WARNING}
_TABLES = ("villages", "households", "entries", "objections", "exchanges", "receipts", "stock", "ledger", "findings",
           "files")


@dataclass
class DistrictResult:
    """The roll-up: every file's outcome (tree sources), per village and per township figures.

    :param files: every file of the batches (``FileOutcome.record()`` dicts, 文件 below ``SRC``).
    :param villages: one 汇总概况 object per village (keyed by its headers, like ``township import``).
    :param townships: one subtotal object per 镇街 (same keys; 村 = ``SUBTOTAL``).
    :param dataset: the Parquet dataset queried (None when it was a scratch one, now removed).
    """

    files: list[dict]
    villages: list[dict]
    townships: list[dict]
    year: int | None
    out: Path | None = None
    dataset: Path | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    reports: dict[str, Path] = field(default_factory=dict)  # the district report's files written, by kind

    def records(self) -> dict:
        """``{"files": [...], "villages": [...], "townships": [...]}`` as ``district import --json`` prints it."""
        return {"files": self.files, "villages": self.villages, "townships": self.townships}


def _connect(root: Path, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": max(1, threads), "memory_limit": "2GB"})
    for table in _TABLES:
        glob = table_glob(root, table).replace("'", "''")
        hive = _HIVE.format("" if table == "files" else ", 'village': VARCHAR")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}', {hive})")
    return con


def _query(con, name: str, year: int) -> pd.DataFrame:
    sql = SQL[name]
    params = {k: v for k, v in (_PARAMS | {"year": year}).items() if f"${k}" in sql}
    frame = con.execute(sql, params).df()
    for c in _PLACE:
        if c in frame.columns:
            frame[c] = frame[c].astype(object).where(frame[c].ne(BLANK) & frame[c].notna(), None)
    return frame


def _figures(row: dict) -> dict:
    """A village's (or a township's) 汇总概况 figures from its sums: rates as ``village_summary``."""
    out = {f: row.get(f) for f in S.TOWNSHIP_SUMMARY.fields}
    for f in ("households", "nonlocal", "taking_part", "objections", "kept", "corrected", "withdrawn", "open",
              "exchanges", "errors", "warnings"):
        out[f] = int(row[f])
    for f in ("reward", "deduct", "total", "spent", "stock_value"):
        out[f] = _number(row[f])
    n = out["households"]
    out["participation"] = round(out["taking_part"] / n, 4) if n else None
    out["average"] = _number(round(out["total"] / n, 2)) if n else None
    out["ratio"] = _number(round(out["reward"] / -out["deduct"], 2)) if out["deduct"] < 0 else None
    out["year"] = int(row["year"]) if row.get("year") is not None else None
    out["through"] = row["through"] if isinstance(row.get("through"), str) else None
    return out


def _headed(figures: dict) -> dict:
    return {S.TOWNSHIP_SUMMARY.header_of(f): figures[f] for f in S.TOWNSHIP_SUMMARY.fields}


def roll_up(dataset: str | Path, year: int | None = None, *, threads: int = 2, receipts: dict | None = None):
    """The district's figures from a Parquet dataset, by DuckDB.

    :param receipts: when given (a dict), filled with each village's 物资入库 of the year, by its
        label (for the report's 爱心超市物资来源).
    :returns: ``(township, subtotals, files, year)``: a ``core.township.Township`` of every village
        of the year (per household, month and item frames; villages labelled uniquely district-wide),
        the per-township subtotal rows (fields of 汇总概况), the files recorded by the imports.
    """
    con = _connect(Path(dataset), threads)
    try:
        if year is None:
            years = con.execute(SQL["years"]).df()
            if years.empty:
                raise JifenError(f"Parquet 数据集「{dataset}」中没有任何村的数据。请先用 township import --parquet 导入。")
            year = int(years["year"].iloc[0])
        summary = _query(con, "summary", year)
        if summary.empty:
            raise JifenError(f"Parquet 数据集「{dataset}」中没有 {year} 年度的数据。请检查 --year。")
        metas = [{KEY_DISTRICT: r.district, KEY_TOWNSHIP: r.township, KEY_VILLAGE: r.village}
                 for r in summary.itertuples(index=False)]
        labels = _unique_labels([VillageExtract(m) for m in metas])
        con.register("labels", pd.DataFrame({
            "district": summary["district"].fillna(BLANK), "township": summary["township"].fillna(BLANK),
            "village": summary["village"].fillna(BLANK), "label": labels}))
        rows = [_figures(r) for r in summary.to_dict("records")]
        villages = pd.DataFrame(rows, columns=S.TOWNSHIP_SUMMARY.fields)
        frames = {k: _query(con, k, year) for k in ("households", "points", "deductions", "monthly", "hotspots",
                                                     "ledger", "findings", "last_counted")}
        files = _query(con, "files", year)
        if receipts is not None:
            got = _query(con, "receipts", year)
            got["date"] = pd.to_datetime(got["date"])
            parts = dict(tuple(got.groupby("village", sort=False)))
            receipts.update({label: parts.get(label, got.iloc[:0]).drop(columns="village") for label in labels})
    finally:
        con.close()
    last = frames.pop("last_counted").set_index("village")["month"]
    settled = {label: (r["through"] or last.get(label)) for label, r in zip(labels, rows)}
    settled = {k: (v if isinstance(v, str) else None) for k, v in settled.items()}
    for key in ("deductions", "hotspots"):
        for c in ("count", "households"):
            if c in frames[key].columns:
                frames[key][c] = frames[key][c].astype("int64")
    frames["monthly"]["taking_part"] = frames["monthly"]["taking_part"].astype("int64")
    t = Township(villages, year=year, settled=settled, labels=labels, **frames)
    subtotals = []
    for (district, township), part in villages.groupby(["district", "township"], sort=False, dropna=False):
        sums = {f: part[f].sum() for f in ("households", "nonlocal", "taking_part", "reward", "deduct", "total",
                                           "objections", "kept", "corrected", "withdrawn", "open", "exchanges",
                                           "spent", "stock_value", "errors", "warnings")}
        through = part["through"].dropna().unique()
        subtotals.append(_figures(sums | {"district": district, "township": township, "village": SUBTOTAL,
                                          "year": year, "through": through[0] if len(through) == 1 else None}))
    file_rows = [{"文件": r["file"], "村": r["village"], "状态": r["status"], "原因": r["reason"],
                  "错误数": r["errors"], "警告数": r["warnings"], "发现": []} for r in files.to_dict("records")]
    return t, subtotals, file_rows, year


def _batches(source: Path, scratch: Path, exclude=()) -> list[tuple[str, Path]]:
    """The tree's batches: each folder right below ``source`` (a township), and the files lying
    directly in ``source`` (copied into a scratch folder of their own); never the outputs
    (``exclude``: the district workbook, the dataset)."""
    skip = {p.resolve() for p in exclude if p is not None}
    entries = [p for p in sorted(source.iterdir()) if p.resolve() not in skip]
    batches = [(p.name, p) for p in entries if p.is_dir() and not p.name.startswith(".")]
    loose = [p for p in entries if p.is_file()]
    if loose:
        own = scratch / "loose"
        own.mkdir()
        for p in loose:
            shutil.copy2(p, own / p.name)
        batches.append(("", own))
    return batches


def import_district(source: str | Path, out: str | Path | None, *, parquet: str | Path | None = None,
                    workers: int | None = None, year: int | None = None, progress: Progress | None = None,
                    today: _dt.date | None = None, html: str | Path | None = None,
                    pdf: str | Path | None = None) -> DistrictResult:
    """Roll up a district: a tree of village workbooks (imported township by township into a
    Parquet dataset) or an existing dataset, queried in DuckDB, written as the district workbook.

    :param source: a folder of township folders of village workbooks, or a Parquet dataset.
    :param out: the district workbook (.xlsx); None: the figures only.
    :param parquet: keep the dataset the tree is imported into here (default: a scratch one,
        removed afterwards). Not used when ``source`` is a dataset.
    :param html: also write the district report (the township report's template, 全区) as an
        HTML page here; ``pdf``: as a PDF (LibreOffice headless; refused before the work without it).
    :raises JifenError: nothing could be imported, the output cannot be written.
    """
    from .io.township_book import check_output, read_award_rules, write_township_book

    started = time.perf_counter()
    source, out = Path(source), (Path(out) if out is not None else None)
    rules = None
    if out is not None:
        check_output(out, LEVEL, macros=False)
    check_report_outputs(html, pdf)
    if out is not None:
        rules = read_award_rules(out, LEVEL)
    if not source.is_dir():
        raise JifenError(f"「{source}」不是文件夹。请指定存放各镇街村级工作簿的文件夹，或 Parquet 数据集的文件夹。")
    workers = default_workers() if workers is None else max(1, int(workers))
    seconds: dict[str, float] = {}
    warnings: list[str] = []
    files: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="jifen-district-") as scratch:
        scratch = Path(scratch)
        if is_dataset(source):
            dataset, kept = source, source
        else:
            dataset = Path(parquet) if parquet is not None else scratch / "dataset"
            kept = Path(parquet) if parquet is not None else None
            t = time.perf_counter()
            seen: dict[tuple, dict] = {}
            for name, folder in _batches(source, scratch, (out, Path(parquet) if parquet is not None else None)):
                try:
                    result = import_township(folder, None, workers=workers, year=year, progress=progress,
                                             today=today, parquet=dataset)
                except NothingImported as exc:
                    result = exc.result
                prefix = f"{name}/" if name else ""
                for f in result.files:
                    record = f.record() | {"文件": prefix + f.file}
                    files.append(record)
                    key = tuple(f.meta.get(k) for k in PLACE_KEYS)
                    if f.file in result.older:  # the dataset kept a newer file of this village
                        newer = seen[key]["文件"] if key in seen else result.older[f.file].get("file")
                        record["状态"] = S.FILE_DUPLICATE
                        record["原因"] = (f"与「{newer}」是同一个村同一年度的工作簿，按修改时间保留较新的「{newer}」，"
                                        "本文件不计入。")
                    elif f.imported:
                        warnings += _replaced(seen, key, record)
                warnings += result.warnings
                del result  # one township's frames at a time
            seconds["import"] = time.perf_counter() - t
            if not is_dataset(dataset):
                raise JifenError(f"「{source}」中没有可以计入汇总的村级工作簿（共 {len(files)} 个文件）。"
                                 "请按每个文件的「原因」处理后重新导入。")
        t = time.perf_counter()
        receipts = {} if html is not None or pdf is not None else None
        town, subtotals, recorded, year = roll_up(dataset, year, threads=workers, receipts=receipts)
        seconds["query"] = time.perf_counter() - t
        if not files:
            files = recorded
        result = DistrictResult(files, [_headed(r) for r in town.villages.to_dict("records")],
                                [_headed(s) for s in subtotals], year, None, kept, warnings, seconds)
        if out is not None or receipts is not None:
            t = time.perf_counter()
            rules = rules if rules is not None else default_award_rules()
            tables = district_tables(town, subtotals, files, rules)
            if out is not None:
                result.out = write_township_book(out, tables, rules, level=LEVEL).path
            seconds["write"] = time.perf_counter() - t
            if receipts is not None:
                t = time.perf_counter()
                result.reports = _report(tables, receipts, result, html, pdf, today)
                seconds["report"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - started
    return result


def _replaced(seen: dict, key: tuple, record: dict) -> list[str]:
    """A village-year two township folders both hold: the later folder's file replaced the
    earlier one's partition in the dataset; the earlier file becomes 重复, with a warning."""
    earlier = seen.get(key)
    seen[key] = record
    if earlier is None:
        return []
    earlier["状态"] = S.FILE_DUPLICATE
    earlier["原因"] = (f"与「{record['文件']}」是同一个村同一年度的工作簿，按文件夹顺序计入后导入的"
                     f"「{record['文件']}」，本文件不计入。")
    return [f"「{earlier['文件']}」与「{record['文件']}」是同一个村同一年度的工作簿（在不同的镇街文件夹里），"
            f"只计入「{record['文件']}」。请确认各村的工作簿放在所属镇街的文件夹中。"]


def _with_subtotals(villages: pd.DataFrame, subtotals: list[dict]) -> pd.DataFrame:
    """汇总概况 of a district: each township's villages, then its 小计 row."""
    parts = []
    for sub in subtotals:
        same = villages["district"].eq(sub["district"]) if sub["district"] is not None else villages["district"].isna()
        same &= villages["township"].eq(sub["township"]) if sub["township"] is not None else villages["township"].isna()
        parts += [villages[same], pd.DataFrame([sub], columns=S.TOWNSHIP_SUMMARY.fields)]
    return pd.concat(parts, ignore_index=True)[S.TOWNSHIP_SUMMARY.fields]


def _report(tables: TownshipTables, receipts: dict, result: DistrictResult, html, pdf, today) -> dict[str, Path]:
    """The district report (``io.township_report`` at ``LEVEL``): HTML and/or PDF."""
    from collections import Counter

    from .io.township_report import report_data, write_report

    got = Counter(f["状态"] for f in result.files)
    counts = {s: got.get(s, 0) for s in S.IMPORT_STATUSES}
    data = report_data(tables, receipts=receipts, counts=counts, warnings=result.warnings, made=today, level=LEVEL)
    return write_report(data, html=html, pdf=pdf)


def district_tables(town: Township, subtotals: list[dict], files: list[dict], rules: pd.DataFrame) -> TownshipTables:
    """The district workbook's tables (``schema.level_sheets(LEVEL_DISTRICT)``): 汇总概况 each
    township's villages then its 小计, then 全区合计; 月度趋势 per 镇街; 户排名 and 评优候选
    district-wide, each household with its 镇街 and its own 村; 校验汇总 per file."""
    tables = township_tables(town, files, award_candidates(town, rules, LEVEL))
    tables.summary = _with_subtotals(town.villages, subtotals)
    tables.total = summary_total(town) | {"village": LEVEL.total}
    where = {label: (township, village) for label, township, village in
             zip(town.names, town.villages["township"], town.villages["village"])}
    for name in ("ranking", "candidates"):
        frame = getattr(tables, name)
        at = frame["village"].map(where)
        setattr(tables, name, frame.assign(township=at.map(lambda p: p[0] if isinstance(p, tuple) else None),
                                           village=at.map(lambda p: p[1] if isinstance(p, tuple) else None)))
    by_township = _townships(town)
    tables.trend = monthly_trend(by_township)
    tables.monthly = township_monthly(tables.trend)
    pivot = village_by_month(tables.trend, by_township.names).set_index(S.TREND_PIVOT_FIRST).T
    tables.by_village = pivot.rename_axis(LEVEL.unit).reset_index()
    tables.by_village.columns.name = None
    return tables


def _townships(town: Township) -> Township:
    """``town`` seen per 镇街 (for 月度趋势): each township's months summed over its villages;
    a month counts as settled for a township when every village of it has settled it."""
    of = {label: (township or NO_TOWNSHIP) for label, township in zip(town.names, town.villages["township"])}
    m = town.monthly.assign(village=town.monthly["village"].map(of))
    monthly = m.groupby(["village", "month"], sort=False)[["total", "taking_part", "spent"]].sum().reset_index()
    names = list(dict.fromkeys(of.values()))
    settled = {}
    for label, township in of.items():
        month = town.settled.get(label)
        if month is not None:
            settled[township] = min(settled.get(township, month), month)
    return replace(town, monthly=monthly[["village", "month", "total", "taking_part", "spent"]], settled=settled,
                   labels=names)
