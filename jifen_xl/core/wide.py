"""The wide layout (宽表, issue 11): one row per household, one column per item and period
(第1季度 … 全年), turned into the contract's tables through a declared mapping
(``schema.WIDE_MAPPING``, sheet 「导入映射」).

Pure pandas. ``parse_mapping`` reads the typed mapping rows and refuses a bad row by sheet,
row, column and fix; ``data_spec`` declares the wide sheet as the mapping names it (its
headers are the mapping's 列名, data, not code); ``wide_village`` turns the typed wide rows
into a ``Village``: 住户名册 from the household columns, 积分指标 from the mapping, and one
积分登记 per non-zero cell, 登记编号 「W-0001」…, dated the last day of its period, 状态 已确认
(a township's figures are final). Findings about those generated sheets point back at the
cells of the wide sheet (``point_findings``).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from .clean import ROW, clean_frame
from .problems import Problem, Report
from .text import normalize_text
from .village import Village

__all__ = ["WideColumn", "WideMapping", "WideMappingError", "parse_mapping", "data_spec", "wide_village",
           "period_end", "point_findings", "SILENT_RULES", "RESOLUTION", "ENTRY_PREFIX"]

#: 登记编号 of a generated entry: 「W-0001」, 「W-0002」 … (wide enough for every entry of the file).
ENTRY_PREFIX = "W-"
#: 积分指标.决议依据 of an item declared by the mapping.
RESOLUTION = "按「导入映射」导入的乡镇汇总数据"
#: Rules that make no sense for a township's final figures in a wide sheet, and never fire for one
#: (what fires on a wide village was checked rule by rule; see tests/test_wide.py):
#: E-ENT-07 a cell is a period's total, not 数量 × 分值; E-GRP-01 a wide sheet has no 小组成员;
#: W-ENT-15 it has no 证明材料 column either; W-ENT-08 an entry's 户主姓名 is its household's own cell
#: (it could only differ where a 户号 repeats, which E-HH-01 reports on the row).
#: 必填 of 来源 and 评议人 is dropped too (``_NOT_IN_WIDE``).
SILENT_RULES = frozenset({"E-ENT-07", "E-GRP-01", "W-ENT-15", "W-ENT-08"})
#: Columns of the generated sheets a wide sheet has nothing for (their 必填 findings are silenced).
_NOT_IN_WIDE = {S.ENTRIES.name: {S.ENTRIES.header_of("source"), S.ENTRIES.header_of("scorers")}}

_MONTH_RE = re.compile(r"^(\d{1,2})月(?:份)?$")
_QUARTER_RE = re.compile(r"^第?([1-4一二三四])季度?$")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_YEARS = next(c for c in S.SETTINGS.kv_rows if c.field == "year").bounds  # 基本信息.年度's range


class WideMappingError(ValueError):
    """A mapping that cannot be used; ``problems`` name each bad row (sheet, row, column, fix)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class WideColumn:
    """One points column of the wide sheet: its header, the item and the period it holds."""

    header: str
    code: str
    name: str
    kind: str
    category: str
    period: str
    row: int  # the mapping row that declares it (Excel row of 「导入映射」)


@dataclass(frozen=True)
class WideMapping:
    """A parsed 「导入映射」 (plain data: it crosses process boundaries).

    :param sheet: the wide sheet's name (None: the workbook's first other sheet).
    :param households: field (hh_id, head, hukou, group) -> the header of its column.
    :param columns: the points columns.
    :param place: 区县/镇街/村/年度 field -> ``("value", text)`` or ``("column", header)``.
    :param source: where the mapping was read (a file name, for messages).
    :param rows: the mapping's Excel row per field (households and place), for findings.
    """

    sheet: str | None
    households: dict[str, str]
    columns: tuple[WideColumn, ...]
    place: dict[str, tuple[str, str]]
    source: str = ""
    rows: dict[str, int] = field(default_factory=dict)


_HH_FIELDS = {S.WIDE_HH_ID: "hh_id", S.WIDE_HEAD: "head", S.WIDE_HUKOU: "hukou", S.WIDE_GROUP: "group"}
_PLACE_FIELDS = dict(zip(S.WIDE_PLACE, ("district", "township", "village", "year")))


def period_end(period: str, year: int) -> _dt.date | None:
    """The last day of a period as typed in 「导入映射」.期间 (None when it is not one)."""
    t = re.sub(r"\s+", "", normalize_text(period)) if isinstance(period, str) else ""
    if t == "全年" or t == "下半年":
        return _dt.date(year, 12, 31)
    if t == "上半年":
        return _dt.date(year, 6, 30)
    m = _MONTH_RE.match(t)
    month = int(m.group(1)) if m else None
    if month is None and (q := _QUARTER_RE.match(t)):
        month = 3 * (_CN_DIGITS.get(q.group(1)) or int(q.group(1)))
    if month is None or not 1 <= month <= 12:
        return None
    return (pd.Timestamp(year, month, 1) + pd.offsets.MonthEnd(0)).date()


def parse_mapping(typed: pd.DataFrame, source: str = "") -> WideMapping:
    """The mapping of typed 「导入映射」 rows (``clean_frame(schema.WIDE_MAPPING, ...)``).

    :param typed: the rows, with ``excel_row``.
    :param source: the file the mapping comes from (for messages).
    :raises WideMappingError: every bad row at once, each with sheet, row, column and fix.
    """
    sheet = S.WIDE_MAPPING.name
    h = S.WIDE_MAPPING.header_of
    where = f"「{source}」的" if source else ""
    bad: list[str] = []

    def refuse(row: int, column: str, what: str, fix: str) -> None:
        bad.append(f"{where}工作表「{sheet}」第 {row} 行「{column}」：{what}。{fix}")

    households: dict[str, str] = {}
    place: dict[str, tuple[str, str]] = {}
    rows: dict[str, int] = {}
    columns: list[WideColumn] = []
    items: dict[str, WideColumn] = {}
    headers: dict[str, int] = {}
    data_sheet = None
    for rec in typed.to_dict("records"):
        row, use, header = int(rec[ROW]), rec["use"], rec["header"]
        if use not in S.WIDE_USES:
            refuse(row, h("use"), f"「{use or ''}」不是可选的用途" if use else "没有填写",
                   f"请填写{'、'.join(S.WIDE_USES)}之一")
            continue
        if use == S.WIDE_SHEET:
            if not rec["value"]:
                refuse(row, h("value"), "没有填写数据工作表的名称", "请填写宽表所在工作表的名称，例如「积分汇总」")
            data_sheet = rec["value"]
            continue
        if use in _PLACE_FIELDS:
            key = _PLACE_FIELDS[use]
            if rec["value"]:
                place[key], rows[key] = ("value", rec["value"]), row
            elif header:
                place[key], rows[key] = ("column", header), row
            else:
                refuse(row, h("value"), f"{use}既没有填写「{h('value')}」，也没有填写「{h('header')}」",
                       f"请在「{h('value')}」填写{use}（例如 {'2026' if key == 'year' else '……'}），"
                       f"或在「{h('header')}」填写数据表中写有{use}的列")
            continue
        if not header:
            refuse(row, h("header"), "没有填写", "请填写数据工作表中这一列的标题，与宽表中的写法一致")
            continue
        if header in headers:
            refuse(row, h("header"), f"「{header}」在第 {headers[header]} 行已经映射过", "每一列只能映射一次，请删除重复的一行")
            continue
        headers[header] = row
        if use in _HH_FIELDS:
            households[_HH_FIELDS[use]], rows[_HH_FIELDS[use]] = header, row
            continue
        # a points column: the item (code, name, kind, category) and the period are all needed
        missing = [f for f in ("code", "name", "kind", "category", "period") if not rec[f]]
        for f in missing:
            refuse(row, h(f), f"列「{header}」没有填写{h(f)}",
                   f"请填写{S.WIDE_PERIOD_HINT}之一" if f == "period" else
                   f"请从{'、'.join(S.INDICATOR_KINDS)}中选择" if f == "kind" else f"请填写这一列积分所属指标的{h(f)}")
        if missing:
            continue
        if rec["kind"] not in S.INDICATOR_KINDS:
            refuse(row, h("kind"), f"「{rec['kind']}」不是积分类型", f"请从{'、'.join(S.INDICATOR_KINDS)}中选择")
            continue
        if period_end(rec["period"], 2000) is None:
            refuse(row, h("period"), f"「{rec['period']}」不是可识别的期间", f"请填写{S.WIDE_PERIOD_HINT}之一")
            continue
        col = WideColumn(header, rec["code"], rec["name"], rec["kind"], rec["category"], rec["period"], row)
        first = items.setdefault(col.code, col)
        for f in ("name", "kind", "category"):
            if getattr(first, f) != getattr(col, f):
                refuse(row, h(f), f"指标编码「{col.code}」的{h(f)}「{getattr(col, f)}」与第 {first.row} 行的"
                       f"「{getattr(first, f)}」不一致", f"同一指标编码的各期间列请填写相同的{h(f)}")
        columns.append(col)
    if not bad:
        for f, use in (("hh_id", S.WIDE_HH_ID), ("head", S.WIDE_HEAD)):  # 住户名册 requires both
            if f not in households:
                bad.append(f"{where}工作表「{sheet}」中没有「{h('use')}」为「{use}」的一行。"
                           f"请加一行：{h('use')}填「{use}」，{h('header')}填宽表中{use}列的标题")
        if not columns:
            bad.append(f"{where}工作表「{sheet}」中没有「{h('use')}」为「{S.WIDE_POINTS}」的一行，没有可导入的积分。"
                       f"请为每个积分列加一行，写明{h('header')}、指标编码、指标名称、积分类型、指标类别和期间")
    if bad:
        raise WideMappingError(bad)
    return WideMapping(data_sheet, households, tuple(columns), place, source, rows)


def data_spec(mapping: WideMapping, sheet_name: str) -> S.SheetSpec:
    """The wide sheet as the mapping declares it: every mapped column required (a column the
    mapping names but the sheet lacks is refused when reading), points columns numbers."""
    cols = [S.ColumnSpec(header, f, S.CODE if f == "hh_id" else S.TEXT, True, person=f == "head")
            for f, header in mapping.households.items()]
    cols += [S.ColumnSpec(header, f"place_{key}", S.TEXT, True)
             for key, (how, header) in mapping.place.items() if how == "column"]
    cols += [S.ColumnSpec(c.header, f"v{i}", S.NUMBER, True) for i, c in enumerate(mapping.columns)]
    return S.SheetSpec(key="wide_data", name=sheet_name, table="", columns=tuple(cols))


def _place(mapping: WideMapping, typed: pd.DataFrame, settings: dict) -> tuple[dict, list[str]]:
    """区县/镇街/村/年度 from the mapping's values, the wide sheet's columns, or ``settings`` (the
    workbook's own 基本信息, when it has one). A column holding several values is refused."""
    out, bad = dict(settings), []
    for key, (how, text) in mapping.place.items():
        if how == "value":
            out[key] = text
            continue
        values = typed[f"place_{key}"].dropna().unique().tolist() if len(typed) else []
        if len(values) > 1:
            use = next(u for u, k in _PLACE_FIELDS.items() if k == key)
            bad.append(f"宽表的「{text}」列有几个不同的{use}（{'、'.join(map(str, values[:5]))}）；一个文件只能是一个村一个年度。"
                       f"请把各村分成单独的文件，或在「{S.WIDE_MAPPING.name}」的「{use}」一行直接填写{use}")
        elif values:
            out[key] = values[0]
    year = out.get("year")
    if isinstance(year, str):
        t = re.sub(r"\s*年(度)?$", "", normalize_text(year).strip())
        out["year"] = int(t) if t.isdigit() else year
    elif isinstance(year, float) and year.is_integer():
        out["year"] = int(year)
    for key, use in zip(("district", "township", "village", "year"), S.WIDE_PLACE):
        if out.get(key) in (None, ""):
            bad.append(f"没有找到{use}：请在「{S.WIDE_MAPPING.name}」加一行，「用途」填「{use}」，"
                       f"「取值」直接填写{use}（或「列名」填数据表中写有{use}的列）")
        elif key == "year" and not (isinstance(out[key], int) and _YEARS.low <= out[key] <= _YEARS.high):
            bad.append(f"年度「{out[key]}」不是年份：请在「{S.WIDE_MAPPING.name}」的「年度」一行填写年份，例如 2026")
    return out, bad


def wide_village(mapping: WideMapping, raw: pd.DataFrame, sheet_name: str,
                 settings: dict | None = None) -> tuple[Village, list[Problem]]:
    """The contract's tables of one wide sheet.

    :param mapping: the parsed mapping.
    :param raw: the wide sheet's raw cells under ``data_spec``'s field names, with ``excel_row``.
    :param sheet_name: the wide sheet's name (findings about its cells name it).
    :param settings: 基本信息 of the workbook, when it has one (the mapping's place wins).
    :returns: the village (住户名册, 积分指标, 积分登记; no objections, market or members) and the
        problems of the wide cells (a value that is not a number: E-FMT-NUMBER on its cell).
    :raises WideMappingError: the place cannot be told (no 村 or 年度, several villages).
    """
    spec = data_spec(mapping, sheet_name)
    typed, problems = clean_frame(spec, raw)
    place, bad = _place(mapping, typed, dict(settings or {}))
    if bad:
        raise WideMappingError(bad)
    year = place["year"]
    settings = {f: place.get(f) for f in ("district", "township", "village", "year")}
    settings.update({k: v for k, v in place.items() if k not in settings})

    hh_fields = [f for f in ("hh_id", "head", "hukou", "group") if f in mapping.households]
    households = typed[hh_fields + [ROW]].copy()
    if "hukou" not in households.columns:  # a wide sheet without 户籍类型: every household is local
        households["hukou"] = S.HUKOU_TYPES[0]
    households["status"] = S.HH_ACTIVE
    households, _ = clean_frame(S.HOUSEHOLDS, households)

    first = {}
    for c in mapping.columns:
        first.setdefault(c.code, c)
    unit = {S.KIND_DEDUCT: -1.0}
    indicators = pd.DataFrame({
        "code": [c.code for c in first.values()], "kind": [c.kind for c in first.values()],
        "category": [c.category for c in first.values()], "name": [c.name for c in first.values()],
        "points": [unit.get(c.kind, 1.0) for c in first.values()],
        "valid_from": pd.Timestamp(year, 1, 1), "resolution": RESOLUTION,
        ROW: [c.row for c in first.values()]})
    indicators, _ = clean_frame(S.INDICATORS, indicators)

    # One entry per non-blank, non-zero cell; a deduction item's value counts negative whatever its sign.
    n, k = len(typed), len(mapping.columns)
    values = np.column_stack([typed[f"v{i}"].to_numpy(dtype="float64") for i in range(k)]) if n else np.empty((0, k))
    sign = np.array([-1.0 if c.kind == S.KIND_DEDUCT else 1.0 for c in mapping.columns])
    values = np.where(sign < 0, -np.abs(values), values)
    r, c = np.nonzero(~np.isnan(values) & (values != 0))  # row-major: household by household
    width = max(4, len(str(len(r))))
    dates = np.array([np.datetime64(period_end(col.period, year), "ns") for col in mapping.columns])
    entries = pd.DataFrame({
        "entry_id": [f"{ENTRY_PREFIX}{i:0{width}d}" for i in range(1, len(r) + 1)],
        "date": dates[c] if len(r) else np.array([], dtype="datetime64[ns]"),
        "hh_id": typed["hh_id"].to_numpy()[r],
        "head": typed["head"].to_numpy()[r] if "head" in typed.columns else None,
        "code": np.array([col.code for col in mapping.columns], dtype=object)[c],
        "item_name": np.array([col.name for col in mapping.columns], dtype=object)[c],
        "points": values[r, c],
        "status": S.ENTRY_CONFIRMED,
        ROW: typed[ROW].to_numpy()[r]})
    entries, _ = clean_frame(S.ENTRIES, entries)
    # The sheets a wide sheet has nothing for (小组成员, 异议处理, the market) are empty, typed as read.
    tables = {spec.key: clean_frame(spec, pd.DataFrame({ROW: pd.Series(dtype="int64")}))[0]
              for spec in S.CLERK_SHEETS if spec.key != "settings"}
    tables.update(households=households, indicators=indicators, entries=entries)
    village = Village(settings, tables, {key: 0 for key in tables}, {})
    return village, problems


def point_findings(report: Report, mapping: WideMapping, sheet_name: str) -> Report:
    """The findings of a wide village in the wide workbook's terms: 住户名册 and 积分登记 are the
    wide sheet (same Excel rows; 户号 and 户主姓名 under the wide sheet's headers), 积分指标 is
    「导入映射」 (its rows are the mapping's), and the rules that make no sense for a township's
    final figures (``SILENT_RULES``, 必填 of 来源 and 评议人) are dropped."""
    generated = {S.HOUSEHOLDS.name: sheet_name, S.ENTRIES.name: sheet_name, S.INDICATORS.name: S.WIDE_MAPPING.name}
    headers = {S.HOUSEHOLDS.header_of(f): h for f, h in mapping.households.items()}
    headers.update({S.ENTRIES.header_of(f): h for f, h in mapping.households.items() if f in ("hh_id", "head")})
    out, seen = [], set()
    for p in report.problems:
        if p.rule in SILENT_RULES or p.column in _NOT_IN_WIDE.get(p.sheet, ()):
            continue
        if p.sheet in generated:
            column = headers.get(p.column, p.column) if p.sheet != S.INDICATORS.name else p.column
            p = Problem(generated[p.sheet], p.row, column, p.rule, p.level, p.message, p.fix)
        if (p.sheet, p.row, p.column, p.rule) not in seen:  # a blank 户号 is one cell, not one per sheet
            seen.add((p.sheet, p.row, p.column, p.rule))
            out.append(p)
    return Report.of(out)
