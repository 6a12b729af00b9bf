"""Cleaning of typed values: what clerks really type, turned into typed columns.

Pure: takes the raw cell values a reader produced (str, float, int, bool,
datetime.date/datetime, None/"") and returns typed pandas columns plus the
problems found. Vectorised per column: a village-year is 60,000 entry rows.

Handles full-width digits (２０), numbers stored as text, dates as Excel
serials or typed as text (2026-03-05, 2026/3/5, 2026年3月5日, 2026.3.5,
20260305), 户号 typed as number or text.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import pandas as pd

from .. import schema as S
from .problems import Problem, error

ROW = "excel_row"  # the Excel row number the clerk sees, carried by every frame (no leading _: itertuples)

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serials of 1950-01-01 .. 2100-12-31: a number outside this is not a date a clerk meant.
_SERIAL_MIN, _SERIAL_MAX = 18264, 73415
_DATE_RE = re.compile(
    r"^\s*(?P<y>\d{4})\s*(?:[-/.年]\s*)(?P<m>\d{1,2})\s*(?:[-/.月]\s*)(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$"
)
_COMPACT_DATE_RE = re.compile(r"^\s*(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})\s*$")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
# Characters NFKC leaves alone that clerks still type for numbers.
_NUM_TRANS = str.maketrans({"−": "-", "—": "-", "–": "-", "，": "", ",": "", "　": "", " ": "", "\u00a0": ""})


def normalize_text(value: str) -> str:
    """NFKC (full-width to half-width), trimmed."""
    import unicodedata

    return unicodedata.normalize("NFKC", value).strip()


def _strings(s: pd.Series) -> pd.Series:
    """Boolean mask of the cells that hold text."""
    return s.map(type).eq(str)


def blank_mask(s: pd.Series) -> pd.Series:
    """True where a cell is empty: None, NaN, "" or only white space."""
    out = s.isna()
    is_str = _strings(s)
    if is_str.any():
        out = out | (is_str & s.where(is_str, "x").astype(str).str.strip().eq(""))
    return out


def _num_from_text(text: pd.Series) -> pd.Series:
    t = text.str.normalize("NFKC").str.translate(_NUM_TRANS)
    ok = t.str.match(_NUMBER_RE.pattern)
    return pd.to_numeric(t.where(ok), errors="coerce")


def to_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (float values, mask of non-blank cells that are not numbers)."""
    blank = blank_mask(s)
    kinds = s.map(type)
    out = pd.Series(np.nan, index=s.index, dtype="float64")
    num = kinds.isin((int, float, np.float64, np.int64)) & ~blank
    if num.any():
        out[num] = s[num].astype("float64")
    txt = kinds.eq(str) & ~blank
    if txt.any():
        out[txt] = _num_from_text(s[txt].astype(str)).to_numpy()
    bad = ~blank & out.isna()
    return out, bad


def _date_from_text(text: pd.Series) -> pd.Series:
    t = text.str.normalize("NFKC").str.strip()
    parts = t.str.extract(_DATE_RE)
    compact = t.str.extract(_COMPACT_DATE_RE)
    parts = parts.fillna(compact)
    frame = pd.DataFrame({"year": parts["y"], "month": parts["m"], "day": parts["d"]}).apply(
        pd.to_numeric, errors="coerce"
    )
    ok = frame.notna().all(axis=1)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(frame[ok], errors="coerce")
    return out


def to_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (datetime64 values at midnight, mask of non-blank cells that are not dates)."""
    blank = blank_mask(s)
    kinds = s.map(type)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    is_date = kinds.isin((_dt.date, _dt.datetime, pd.Timestamp))
    if is_date.any():
        out[is_date] = pd.to_datetime(s[is_date].map(lambda d: _dt.date(d.year, d.month, d.day)))
    is_num = kinds.isin((int, float, np.float64, np.int64)) & ~blank
    if is_num.any():
        n = s[is_num].astype("float64")
        good = n.between(_SERIAL_MIN, _SERIAL_MAX)
        out[n[good].index] = _EXCEL_EPOCH + pd.to_timedelta(np.floor(n[good]), unit="D")
    is_txt = kinds.eq(str) & ~blank
    if is_txt.any():
        out[is_txt] = _date_from_text(s[is_txt].astype(str)).to_numpy()
    bad = ~blank & out.isna()
    return out, bad


def _code_from_value(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()[:10]
    return str(v)


def to_code(s: pd.Series) -> pd.Series:
    """Identifiers: 101, 101.0, "101", "１０１" and " 101 " all become "101"; blank becomes None."""
    blank = blank_mask(s)
    txt = s.map(_code_from_value).astype(object)
    is_str = txt.map(type).eq(str) & ~blank
    if is_str.any():
        cleaned = txt[is_str].astype(str).str.normalize("NFKC").str.replace(r"\s+", "", regex=True).str.upper()
        # "101.0" typed as text where a number was exported as text
        cleaned = cleaned.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        txt[is_str] = cleaned
    txt[blank] = None
    return txt


def to_text(s: pd.Series) -> pd.Series:
    """Free text, trimmed; non-text cells shown as the clerk sees them; blank becomes None."""
    blank = blank_mask(s)
    out = s.map(_code_from_value).astype(object)
    is_str = out.map(type).eq(str) & ~blank
    if is_str.any():
        out[is_str] = out[is_str].astype(str).str.strip()
    out[blank] = None
    return out


def to_names(s: pd.Series) -> pd.Series:
    """Several names joined by 、 (also accepts , ， ; ； / and spaces): normalised to 、-joined text."""
    txt = to_text(s)
    has = txt.notna()
    if has.any():
        joined = (
            txt[has].astype(str).str.normalize("NFKC").str.replace(r"[、,，;；/\s]+", S.NAME_JOINER, regex=True)
            .str.strip(S.NAME_JOINER)
        )
        txt[has] = joined.where(joined.ne(""), None)
    return txt


_TYPE_FIXES = {
    S.INT: ("不是整数", "请填写阿拉伯数字整数，例如 3"),
    S.NUMBER: ("不是数字", "请填写数字，例如 5 或 -2；不要带单位或文字"),
    S.DATE: ("不是有效日期", "请填写日期，例如 2026-03-05 或 2026年3月5日"),
}


def clean_frame(spec: S.SheetSpec, raw: pd.DataFrame, rule_prefix: str = "E-FMT") -> tuple[pd.DataFrame, list[Problem]]:
    """Type every declared column of ``raw`` (fields + ``_row``); drop blank rows.

    Columns absent from ``raw`` (optional headers the clerk left out) become all-blank.
    Returns the typed frame (same fields, plus ``_row``) and the format problems.
    """
    problems: list[Problem] = []
    present = [c for c in spec.columns if c.field in raw.columns]
    if len(raw) and present:
        keep = ~pd.concat([blank_mask(raw[c.field]) for c in present], axis=1).all(axis=1)
        raw = raw[keep]
    else:
        raw = raw.iloc[0:0]
    out = pd.DataFrame(index=raw.index)
    rows = raw[ROW] if ROW in raw.columns else pd.Series(dtype="int64")
    for col in spec.columns:
        s = raw[col.field] if col.field in raw.columns else pd.Series(None, index=raw.index, dtype=object)
        bad = None
        if col.type in (S.INT, S.NUMBER):
            values, bad = to_number(s)
            if col.type == S.INT:
                frac = values.notna() & (values != np.floor(values.fillna(0)))
                bad = bad | frac
                values = values.where(~frac)
        elif col.type == S.DATE:
            values, bad = to_date(s)
        elif col.type == S.CODE:
            values = to_code(s)
        elif col.type == S.NAMES:
            values = to_names(s)
        else:
            values = to_text(s)
        if bad is not None and bad.any():
            what, fix = _TYPE_FIXES[col.type]
            for idx in bad[bad].index:
                shown = _code_from_value(s[idx])
                problems.append(error(spec.name, int(rows[idx]), col.header, f"{rule_prefix}-{col.type.upper()}",
                                      f"「{shown}」{what}", fix))
        out[col.field] = values
    out[ROW] = rows.astype("int64") if len(rows) else pd.Series(dtype="int64")
    return out.reset_index(drop=True), problems


def clean_settings(raw: pd.DataFrame) -> tuple[dict[str, object], dict[str, int]]:
    """Typed 基本信息 from its raw 项目/内容 rows: (values by field, Excel row by field).

    Items are matched like headers (full-width folded, spaces ignored); the first row of an item wins.
    """
    import unicodedata

    def norm(v) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", v)) if isinstance(v, str) else ""

    by_item: dict[str, tuple[object, int]] = {}
    if len(raw) and "item" in raw.columns:
        values = raw["value"] if "value" in raw.columns else pd.Series(None, index=raw.index, dtype=object)
        for item, value, row in zip(raw["item"], values, raw[ROW]):
            by_item.setdefault(norm(item), (value, int(row)))
    out: dict[str, object] = {}
    rows: dict[str, int] = {}
    for col in S.SETTINGS.kv_rows:
        value, row = by_item.get(norm(col.header), (None, None))
        if row is not None:
            rows[col.field] = row
        s = pd.Series([value], dtype=object)
        if col.type == S.INT:
            n, bad = to_number(s)
            out[col.field] = None if bad[0] or pd.isna(n[0]) or not float(n[0]).is_integer() else int(n[0])
        else:
            out[col.field] = to_text(s)[0]
    return out, rows
