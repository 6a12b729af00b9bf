"""Cleaning of typed values: what clerks really type, turned into typed columns.

Pure: takes the raw cell values a reader produced (str, float, int, bool,
datetime.date/datetime, None/"") and returns typed pandas columns plus the
problems found. Handles full-width digits (２０), numbers stored as text, dates
as Excel serials or typed as text (2026-03-05, 2026/3/5, 2026年3月5日, 2026.3.5,
20260305), 户号 typed as number or text.

Speed matters (a village-year is 60,000 entry rows, 780,000 cells): each column is
converted in one pass over its values with a fast path for the common type
(text in text columns, date cells in date columns, floats in number columns); the
slow, careful parsing runs only on the few cells that need it.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import pandas as pd

from .. import schema as S
from .nonrecords import non_records
from .numfmt import GENERAL, shown_text
from .problems import Problem, error
from .text import INVISIBLE, drop_invisible, normalize_text

ROW = "excel_row"  # the Excel row number the clerk sees, carried by every frame (no leading _: itertuples)

_EXCEL_EPOCH = _dt.date(1899, 12, 30)
# Serials of 1950-01-01 .. 2100-12-31: a number outside this is not a date a clerk meant.
_SERIAL_MIN, _SERIAL_MAX = 18264, 73415
_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.年]\s*)(?P<m>\d{1,2})\s*(?:[-/.月]\s*)(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
# Characters NFKC leaves alone that clerks still type in numbers.
_NUM_TRANS = str.maketrans({"−": "-", "—": "-", "–": "-", "，": "", ",": "", "　": "", " ": "", "\u00a0": ""})
_NUMBERS = (int, float, np.integer, np.floating)
_SPACE = re.compile(r"\s")


def _is_blank(v) -> bool:
    if v is None or v is pd.NaT:
        return True
    if v.__class__ is str:
        return not v.strip()
    return isinstance(v, float) and v != v


def _shown(v) -> str:
    """A cell as the clerk sees it (for messages)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()[:10]
    return str(v)


# -- per-value parsers for the slow path ------------------------------------------
def _parse_number(v) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, _NUMBERS):
        f = float(v)
        return None if f != f else f
    if v.__class__ is str:
        t = normalize_text(v).translate(_NUM_TRANS)
        return float(t) if _NUMBER_RE.match(t) else None
    return None


def _parse_date(v) -> np.datetime64 | None:
    if isinstance(v, (_dt.date, _dt.datetime)):  # datetime is a date
        return np.datetime64(_dt.date(v.year, v.month, v.day), "D")
    if isinstance(v, bool):
        return None
    if isinstance(v, _NUMBERS):
        n = float(v)
        if _SERIAL_MIN <= n <= _SERIAL_MAX:
            return np.datetime64(_EXCEL_EPOCH, "D") + np.timedelta64(int(n), "D")
        return None
    if v.__class__ is str:
        t = normalize_text(v)
        m = _DATE_RE.match(t) or _COMPACT_DATE_RE.match(t)
        if m:
            try:
                return np.datetime64(_dt.date(int(m["y"]), int(m["m"]), int(m["d"])), "D")
            except ValueError:
                return None
    return None


def _code(v) -> str | None:
    if v.__class__ is str:
        if v.isascii():  # fast path: "2026-00017", "JC-01", "0001"
            t = v.strip().upper()
            if t and " " not in t and "\t" not in t and "\n" not in t and not t.endswith(".0"):
                return t
        t = v.strip() if v.isascii() else normalize_text(v)
        if not t:
            return None
        if " " in t or "\t" in t or "\n" in t:
            t = "".join(t.split())
        t = t.upper()
        if t.endswith(".0") and t[:-2].isdigit():  # a number exported as text "101.0"
            t = t.rstrip("0")[:-1]
        return t
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return _code(_shown(v))


def _text(v) -> str | None:
    if v.__class__ is str:
        t = drop_invisible(v).strip()
        return t or None
    if v is None or (isinstance(v, float) and v != v):
        return None
    return _shown(v)


# -- column converters: (values) -> (typed array, bad positions) --------------------
# What str.strip() removes among ASCII characters; a column without any of them (and without
# non-ASCII text) needs no per-value normalising.
_ASCII_SPACE = (" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def _codes(values: list) -> list:
    """``_code`` over a column. Fast path: every cell is text already in canonical form (ASCII,
    upper case, no spaces, no number-as-text ``101.0``), checked on the whole column at once."""
    try:
        joined = "\x00".join(values) + "\x00"  # TypeError when a cell is not text
    except TypeError:
        return _map_unique(_code, values)
    if joined.isascii() and ".0\x00" not in joined and not any(c in joined for c in _ASCII_SPACE) \
            and joined.upper() == joined:
        return _shared(values)
    return _map_unique(_code, values)


def _person(v) -> str | None:
    """A person's name: text without any whitespace inside (「王　军」 is 王军)."""
    t = _text(v)
    if t is not None and _SPACE.search(t):
        t = "".join(t.split())
    return t


def _texts(values: list, person: bool = False) -> list:
    """``_text`` (``_person`` for name columns) over a column. Fast path: every cell is text
    (blank cells read as ""), and its distinct values hold no invisible character (nor, in a
    name column, any space); that is checked once on the distinct values."""
    func = _person if person else _text
    try:
        stripped = list(map(str.strip, values))  # TypeError when a cell is not text
    except TypeError:
        return _map_unique(func, values)
    seen: dict[str, str] = {}
    out = _shared(stripped, seen)
    distinct = "\x00".join(seen)
    if (not distinct.isascii() and INVISIBLE.search(distinct)) or (person and _SPACE.search(distinct)):
        fixed = {v: func(v) for v in seen}
        out = [None if v is None else fixed[v] for v in out]
    return out


def _shared(values: list, seen: dict | None = None) -> list:
    """Blank text as None, and one object per distinct text (collected in ``seen``).

    The reader makes a new object for every cell, so a column's 60,000 cells lie scattered
    among the other columns' in memory; every later comparison or lookup on the column then
    waits on memory. With one object per distinct value (a few hundred), those operations run
    several times faster."""
    if seen is None:
        seen = {}
    return [seen.setdefault(v, v) if v else None for v in values]


def _map_unique(func, values: list) -> list:
    """``[func(v) for v in values]``, calling ``func`` once per distinct value.

    Village columns repeat heavily (1,000 户号, 45 指标编码, 4 来源 over 60,000 rows), so this
    is the difference between seconds and a tenth of one. Booleans fall back to the plain map
    because True == 1 == 1.0 share a dict key but must not share a result.
    """
    types = set(map(type, values))
    if bool in types or np.bool_ in types:
        return [func(v) for v in values]
    try:
        distinct = set(values)
    except TypeError:  # an unhashable cell value (never from the readers, but be safe)
        return [func(v) for v in values]
    if len(distinct) * 2 > len(values):  # mostly unique (登记编号): a lookup table would not pay
        return [func(v) for v in values]
    mapping = {v: func(v) for v in distinct}
    return list(map(mapping.__getitem__, values))


_BAD = object()


def _number_or_bad(v):
    if _is_blank(v):
        return None
    f = _parse_number(v)
    return _BAD if f is None else f


def _date_or_bad(v):
    if _is_blank(v):
        return None
    d = _parse_date(v)
    return _BAD if d is None else d


def _typed(values: list, parse, dtype) -> tuple[np.ndarray, list[int]]:
    """Parse once per distinct value; blanks become missing, failures are reported by position."""
    parsed = _map_unique(parse, values)
    bad = [i for i, v in enumerate(parsed) if v is _BAD]
    if bad:
        parsed = [None if v is _BAD else v for v in parsed]
    if dtype == "float64":
        return np.array([np.nan if v is None else v for v in parsed], dtype="float64"), bad
    return np.array(parsed, dtype=dtype), bad


def _numbers(values: list) -> tuple[np.ndarray, list[int]]:
    types = set(map(type, values))
    if types <= {float}:  # the common case: every cell a number (NaN = empty)
        return np.array(values, dtype="float64"), []
    if types == {float, str} and not any(v for v in values if v.__class__ is str):
        # numbers and empty cells (the fast reader's ""): 积分 left blank until it is published
        return np.array([np.nan if v.__class__ is str else v for v in values], dtype="float64"), []
    return _typed(values, _number_or_bad, "float64")


def _dates(values: list) -> tuple[np.ndarray, list[int]]:
    return _typed(values, _date_or_bad, "datetime64[D]")


_NAME_SEPARATORS = re.compile(r"[、,，;；/|]+")


def _name_list(v):
    """Names joined by 、 (also , ， ; ； / |). Whitespace inside one part is ambiguous (「王　军」
    is one name written with a gap, 「王军 李明」 two names): it is kept as one ASCII space, and
    ``core.names.split_names`` decides with the list of known people."""
    t = _text(v)
    if t is None:
        return None
    parts = (" ".join(p.split()) for p in _NAME_SEPARATORS.split(normalize_text(t)))
    return S.NAME_JOINER.join(p for p in parts if p) or None


def _names(values: list) -> list:
    return _map_unique(_name_list, values)


# -- public Series API (used by tests and by callers holding a Series) ----------------
def to_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (float values, mask of non-blank cells that are not numbers)."""
    values, bad = _numbers(list(s))
    return pd.Series(values, index=s.index), _mask(s.index, bad)


def to_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (datetime64 values at midnight, mask of non-blank cells that are not dates)."""
    values, bad = _dates(list(s))
    return pd.Series(values.astype("datetime64[ns]"), index=s.index), _mask(s.index, bad)


def to_code(s: pd.Series) -> pd.Series:
    """Identifiers: 101, 101.0, "101", "１０１" and " 101 " all become "101"; blank becomes None."""
    return pd.Series(_codes(list(s)), index=s.index, dtype=object)


def to_text(s: pd.Series, person: bool = False) -> pd.Series:
    """Free text, trimmed, invisible characters dropped; non-text cells shown as the clerk sees
    them; blank becomes None. ``person``: a person's name, whitespace inside removed."""
    return pd.Series(_texts(list(s), person), index=s.index, dtype=object)


def to_names(s: pd.Series) -> pd.Series:
    """Several names joined by 、 (also accepts , ， ; ； / and spaces): normalised to 、-joined text."""
    return pd.Series(_names(list(s)), index=s.index, dtype=object)


def _mask(index, positions: list[int]) -> pd.Series:
    mask = np.zeros(len(index), dtype=bool)
    mask[positions] = True
    return pd.Series(mask, index=index)


_TYPE_FIXES = {
    S.INT: ("不是整数", "请填写阿拉伯数字整数，例如 3"),
    S.NUMBER: ("不是数字", "请填写数字，例如 5 或 -2；不要带单位或文字"),
    S.DATE: ("不是有效日期", "请填写日期，例如 2026-03-05 或 2026年3月5日"),
}


def _convert(col: S.ColumnSpec, values: list) -> tuple[object, list[int]]:
    if col.type in (S.INT, S.NUMBER):
        out, bad = _numbers(values)
        if col.type == S.INT:
            frac = np.flatnonzero(~np.isnan(out) & (out != np.floor(np.nan_to_num(out))))
            out[frac] = np.nan
            bad = sorted(set(bad) | set(frac.tolist()))
        return out, bad
    if col.type == S.DATE:
        out, bad = _dates(values)
        return out.astype("datetime64[ns]"), bad
    if col.type == S.CODE:
        return np.array(_codes(values), dtype=object), []
    if col.type == S.NAMES:
        return np.array(_names(values), dtype=object), []
    return np.array(_texts(values, col.person), dtype=object), []


#: Where a reader leaves each cell's number format for ``clean_frame``: ``raw.attrs[FORMATS]``
#: holds a ``CellFormats`` mapping a field to its cells' format codes (a sequence aligned with
#: the frame's rows, or one code for the whole column). Only code columns use it (户号 45 shown
#: through 0000 is 「0045」).
FORMATS = "number_formats"
_PLAIN_FORMATS = frozenset({None, "", GENERAL, "@"})


class CellFormats(dict):
    """field -> the cells' number format codes, for ``raw.attrs[FORMATS]``.

    Shared, never copied: pandas deep-copies a frame's ``attrs`` into every column or frame taken
    from it, which for a plain dict of 60,000 codes per column costs ~60 ms per column access.
    """

    def __deepcopy__(self, memo):
        return self


def shown_codes(values: list, formats) -> list:
    """The cells of a code column as the clerk sees them through their number formats
    (``numfmt.shown_text``), worked out once per distinct value (or (value, format) pair when
    the column mixes formats); a cell whose display cannot be told exactly keeps its raw value.

    :param values: the raw cell values.
    :param formats: one format code for all cells, or a sequence aligned with ``values``.
    """
    if formats is None:
        return values
    single = formats if isinstance(formats, str) else None
    if single is None:
        formats = list(formats)
        if len(formats) != len(values):
            return values
        distinct = set(formats)
        if distinct <= _PLAIN_FORMATS:  # General/text: the cleaning shows numbers the same way
            return values
        if len(distinct) == 1:
            single = distinct.pop()
    if single is not None:
        if single in _PLAIN_FORMATS:
            return values
        if set(map(type, values)) <= {str, type(None)} and "@" not in single and ";" not in single:
            return values  # only text, and no text section: shown as typed
        return _map_unique(lambda v: _shown_or_raw(v, single), values)
    mapping: dict = {}
    out = list(values)
    for i, (v, f) in enumerate(zip(values, formats)):
        if f in _PLAIN_FORMATS or v is None:
            continue
        key = (v.__class__, v, f)
        shown = mapping.get(key, mapping)
        if shown is mapping:
            shown = mapping[key] = _shown_or_raw(v, f)
        out[i] = shown
    return out


def _shown_or_raw(v, fmt: str):
    if v is None or v.__class__ is bool or not isinstance(v, (str, int, float)):
        return v
    shown = shown_text(v, fmt)
    return v if shown is None else shown


def clean_frame(spec: S.SheetSpec, raw: pd.DataFrame, rule_prefix: str = "E-FMT", *,
                formats: dict | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Type every declared column of ``raw`` (fields + ``excel_row``); drop blank rows and rows
    that are not records (totals rows, 合计 rows, footers: ``core.nonrecords``).

    Columns absent from ``raw`` (optional headers the clerk left out) become all-blank.
    Returns the typed frame (same fields, plus ``excel_row``) and the format problems.

    :param formats: field -> the cells' number formats (see ``FORMATS``); default
        ``raw.attrs[FORMATS]`` when the reader left them there.
    """
    n = len(raw)
    rows = raw[ROW].to_numpy(dtype="int64") if ROW in raw.columns else np.arange(n, dtype="int64")
    if formats is None:
        formats = raw.attrs.get(FORMATS) or {}
    columns: dict[str, object] = {}
    bad_cells: list[tuple[int, S.ColumnSpec, object]] = []
    filled = np.zeros(n, dtype=bool)
    for col in spec.columns:
        if col.field in raw.columns:
            values = raw[col.field].tolist()
            if col.type == S.CODE and col.field in formats:
                values = shown_codes(values, formats[col.field])
            typed, bad = _convert(col, values)
            bad_cells += [(i, col, values[i]) for i in bad]
            filled[bad] = True
            empty = np.flatnonzero(~filled)  # only rows not yet known to hold something are looked at
            if len(empty) == n:
                filled = pd.notna(typed)
            elif len(empty):
                filled[empty] = pd.notna(typed[empty])
        else:
            typed = np.full(n, np.nan) if col.type in (S.INT, S.NUMBER) else (
                np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]") if col.type == S.DATE
                else np.full(n, None, dtype=object))
        columns[col.field] = typed
    filled = _drop_non_records(spec, raw, columns, filled)
    if bad_cells:
        bad_cells = [b for b in bad_cells if filled[b[0]]]
    keep = np.flatnonzero(filled)
    # Text columns stay object dtype (None = blank): inferring pandas' str dtype costs more
    # than everything the validator does with them.
    out = pd.DataFrame({f: pd.Series(v[keep] if len(keep) < n else v, dtype=v.dtype, copy=False)
                        for f, v in columns.items()})
    out[ROW] = rows[keep]
    problems = []
    for i, col, value in bad_cells:
        what, fix = _TYPE_FIXES[col.type]
        problems.append(error(spec.name, int(rows[i]), col.header, f"{rule_prefix}-{col.type.upper()}",
                              f"「{_shown(value)}」{what}", fix))
    return out, problems


def _drop_non_records(spec: S.SheetSpec, raw: pd.DataFrame, columns: dict, filled: np.ndarray) -> np.ndarray:
    """``filled`` without the totals rows and footers; only incomplete rows are looked at."""
    incomplete = np.zeros(len(filled), dtype=bool)
    for col in spec.columns:
        if col.required:
            values = columns[col.field]
            if values.dtype.kind == "O":  # cleaned text is None or non-empty: truth is presence
                incomplete |= ~values.astype(bool)
            else:
                incomplete |= np.isnat(values) if values.dtype.kind == "M" else np.isnan(values)
    candidates = np.flatnonzero(filled & incomplete)
    if not len(candidates):
        return filled
    drop = non_records(raw, spec.fields, candidates, np.flatnonzero(filled & ~incomplete))
    if drop.any():
        filled = filled.copy()
        filled[candidates[drop]] = False
    return filled


def clean_settings(raw: pd.DataFrame) -> tuple[dict[str, object], dict[str, int], list[Problem]]:
    """Typed 基本信息 from its raw 项目/内容 rows: (values by field, Excel row by field, problems).

    Items are matched like headers (full-width folded, spaces ignored); the first row of an item
    wins. Whole numbers may carry their unit (2026年, 7天); anything else unreadable is a finding.
    """

    def norm(v) -> str:
        return re.sub(r"\s+", "", normalize_text(v)) if isinstance(v, str) else ""

    by_item: dict[str, tuple[object, int]] = {}
    if len(raw) and "item" in raw.columns:
        values = raw["value"] if "value" in raw.columns else pd.Series(None, index=raw.index, dtype=object)
        for item, value, row in zip(raw["item"], values, raw[ROW]):
            by_item.setdefault(norm(item), (value, int(row)))
    out: dict[str, object] = {}
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    for col in S.SETTINGS.kv_rows:
        value, row = by_item.get(norm(col.header), (None, None))
        if row is not None:
            rows[col.field] = row
        if col.type == S.INT:
            text = re.sub(r"\s*[年天日]$", "", normalize_text(value)) if value.__class__ is str else value
            f = None if _is_blank(value) else _parse_number(text)
            ok = f is not None and float(f).is_integer()
            out[col.field] = int(f) if ok else None
            if not ok and not _is_blank(value):
                problems.append(error(S.SETTINGS.name, row, S.SETTINGS.header_of("value"), "E-FMT-INT",
                                      f"「{col.header}」的内容「{_shown(value)}」不是整数",
                                      "请填写整数，例如 2026" if col.field == "year" else "请填写整数，例如 7"))
        else:
            out[col.field] = _text(value)
    return out, rows, problems


def restore_lost_zeros(codes: pd.Series, keys: pd.Series) -> pd.Series:
    """``codes`` (a lookup column, e.g. 小组成员.户号) with each code that is not among ``keys``
    but equals exactly one all-digit key once leading zeros are dropped replaced by that key
    (213 -> 「0213」).

    A code typed as a number loses its leading zeros (Excel stores 0213 as 213). Where a rule
    must not quietly stop working because of it (the recusal of a scorer from their own
    household), the rule compares the restored code; the lookup itself is still reported, with
    the key as the fix. Work is per distinct unmatched code.
    """
    known = pd.Index(keys.dropna().unique())
    missing = codes.notna() & ~codes.isin(known)
    if not missing.any():
        return codes
    by_digits: dict[str, list[str]] = {}
    for key in known:
        if isinstance(key, str) and key.isdigit():
            by_digits.setdefault(key.lstrip("0"), []).append(key)

    def restored(code):
        text = str(code)
        found = by_digits.get(text.lstrip("0")) if text.isdigit() else None
        return found[0] if found and len(found) == 1 else code

    out = codes.copy()
    out[missing] = codes[missing].map({c: restored(c) for c in codes[missing].unique()})
    return out
