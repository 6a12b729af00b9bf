"""Worksheet XML read and edited as text, without a DOM: rows, cells, cell ranges, the columns'
attributes, and the parts around ``<sheetData>`` (merges, hyperlinks, filters, validations).

Every helper takes the sheet's namespace prefix (``p``, with its colon, or ``""``): some producers
write ``<x:row>``. Attributes in either quote style, anywhere in a tag (``markup``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .markup import ATTR_RE as _ATTR_RE
from .markup import ATTRS as _ATTRS
from .markup import TAG_RE as _TAG_RE
from .markup import Corrupt as _Corrupt
from .markup import attrs as _attrs
from .markup import set_attr as _set_attr
from .markup import unescape as _unescape


def column_number(letters: str) -> int:
    """Excel letters -> 1-based column number (A -> 1)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    """1-based column number -> Excel letters (1 -> A, 27 -> AA)."""
    s = ""
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


CELLREF_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")


def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    """``A1:K20`` (or ``A1``) -> (col1, row1, col2, row2)."""
    parts = ref.strip().split(":")
    cells = [CELLREF_RE.fullmatch(p.strip()) for p in parts]
    if not cells or len(cells) > 2 or not all(cells):
        return None
    c1, r1 = column_number(cells[0].group(1)), int(cells[0].group(2))
    c2, r2 = (column_number(cells[-1].group(1)), int(cells[-1].group(2)))
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def top_children(xml: str, start: int) -> tuple[list[tuple[str, int, int]], int]:
    """Top-level elements of ``xml`` from ``start`` (inside a parent) until the parent closes.

    Returns ``[(local_name, start, end), ...]`` and the position of the parent's end tag.
    """
    depth = 0
    out: list[tuple[str, int, int]] = []
    cur = ("", 0)
    for m in _TAG_RE.finditer(xml, start):
        name = m.group(2)
        if name is None:
            continue
        local = name.rpartition(":")[2]
        if m.group(1):
            depth -= 1
            if depth < 0:
                return out, m.start()
            if depth == 0:
                out.append((cur[0], cur[1], m.end()))
        elif m.group(4):
            if depth == 0:
                out.append((local, m.start(), m.end()))
        else:
            if depth == 0:
                cur = (local, m.start())
            depth += 1
    raise _Corrupt("工作表 XML 不完整")


@dataclass
class Layout:
    """A worksheet's XML text cut around ``<sheetData>``: ``head`` (up to and including the
    opening tag), ``body`` (the rows) and ``tail`` (from ``</sheetData>`` on, which is
    ``tail_start`` characters long); ``p`` is its namespace prefix with the colon."""

    bom: bytes
    p: str
    head: str
    body: str
    tail: str
    tail_start: int

    def xml(self, body: str) -> bytes:
        """The worksheet's bytes with ``body`` as its rows."""
        return self.bom + (self.head + body + self.tail).encode("utf-8")


def rich_text(inner: str, p: str) -> str:
    """Plain text of an ``<si>`` / ``<is>`` body: all ``<t>`` runs, phonetic runs skipped.

    :param p: the namespace prefix as a regex (``"x:"`` escaped, or ``(?:\\w+:)?``)."""
    if "rPh" in inner:
        inner = re.sub(r"<%srPh\b.*?</%srPh>" % (p, p), "", inner, flags=re.S)
    return "".join(_unescape(m.group(1) or "")
                   for m in re.finditer(r"<%st(?:\s[^>]*)?(?:/>|>(.*?)</%st>)" % (p, p), inner, re.S))


_ROW_NUMBER_RE = re.compile(r"""(?:^|\s)r\s*=\s*["']([0-9]+)["']""")


class RowScanner:
    """Rows of a ``<sheetData>`` body, scanned lazily with regexes."""

    def __init__(self, body: str, p: str):
        self.body = body
        self.p = p
        self.row_re = re.compile(r"<%srow\b(%s)(/?)>" % (re.escape(p), _ATTRS), re.S)
        self.close = f"</{p}row>"

    def _iter(self):
        """(start, end, attrs, content, row number) of each row."""
        rn = 0
        pos = 0
        body = self.body
        while True:
            m = self.row_re.search(body, pos)
            if m is None:
                return
            r = _ROW_NUMBER_RE.search(m.group(1))
            if r:
                rn = int(r.group(1))
            elif not m.group(2) and (first := _FIRST_CELL_ROW_RE.search(body, m.end())) \
                    and first.start() < body.find(self.close, m.end()):
                rn = int(first.group(1))  # a row without its number: its cells' say where it is
            else:
                rn += 1
            if m.group(2):
                yield m.start(), m.end(), m.group(1), "", rn
                pos = m.end()
            else:
                end = body.find(self.close, m.end())
                if end < 0:
                    raise _Corrupt("工作表的行不完整")
                yield m.start(), end + len(self.close), m.group(1), body[m.end():end], rn
                pos = end + len(self.close)

    def locate(self, numbers: set[int]) -> dict[int, tuple[int, int, str, str, int]]:
        """The rows (as ``_iter`` gives them) numbered ``numbers``. When every row says its number
        (Excel, WPS, LibreOffice) they are found with one search; otherwise by walking the rows."""
        body, p = self.body, self.p
        if body.count(f"<{p}row") == body.count(f'<{p}row r="'):
            out = {}
            for m in re.finditer(r'<%srow r="([0-9]+)"' % re.escape(p), body):
                rn = int(m.group(1))
                if rn in numbers and rn not in out:
                    tag = self.row_re.match(body, m.start())
                    if tag is None:
                        raise _Corrupt("工作表的行不完整")
                    if tag.group(2):
                        continue  # <row r="5"/>: no cells, so not the row a cell was read from
                    end = body.find(self.close, tag.end())
                    if end < 0:
                        raise _Corrupt("工作表的行不完整")
                    out[rn] = (m.start(), end + len(self.close), tag.group(1), body[tag.end():end], rn)
            return out
        return {row[4]: row for row in self._iter() if row[4] in numbers and body[row[1] - 2:row[1]] != "/>"}

    def split_at(self, header_row: int) -> int:
        """Offset of the first row below ``header_row`` (or the end of the body)."""
        for start, _end, _a, _c, rn in self._iter():
            if rn > header_row:
                return start
        return len(self.body)

    def rows(self):
        for _s, _e, attrs, content, _rn in self._iter():
            yield attrs, content

    def row_cells(self):
        """(row number, [column indices of its cells]) of each row."""
        for _s, _e, _a, content, rn in self._iter():
            yield rn, [col for _attrs, col in cells_in_row(content, self.p)]

    def head_cells(self, limit: int):
        """(row number, {col: (type, text)}) for the rows numbered up to ``limit``."""
        for _s, _e, _a, content, rn in self._iter():
            if rn > limit:
                return
            yield rn, {col: cell_text_of(_attrs(attrs), inner, self.p)
                       for _cs, _ce, attrs, inner, col in cell_spans(content, self.p)}


def cell_text_of(attrs: dict[str, str], inner: str, p: str) -> tuple[str, str]:
    """(type, text) of a cell: ``t`` (``"n"`` when absent) and its inline text or ``<v>``."""
    kind = attrs.get("t", "n")
    if kind == "inlineStr":
        return kind, rich_text(inner, re.escape(p))
    v = value_re(p).search(inner)
    return kind, _unescape(v.group(1)) if v else ""


@functools.lru_cache(maxsize=8)
def value_re(p: str) -> re.Pattern:
    return re.compile(r"<%sv(?:\s[^>]*)?>(.*?)</%sv>" % (re.escape(p), re.escape(p)), re.S)


def cell_spans(content: str, p: str):
    """(start, end, attribute text, inner XML, column index) of each cell in one row's content;
    a cell without ``r`` stands right of the previous one (as Excel reads it)."""
    col = 0
    for m in cell_re(p).finditer(content):
        r = _CELL_COL_RE.search(" " + m.group(1))
        col = column_number(r.group(1)) if r else col + 1
        yield m.start(), m.end(), m.group(1), m.group(2) or "", col


def cells_in_row(content: str, p: str, with_value: bool = False):
    """(attribute text, column index) of each cell in one row's content; with ``with_value``,
    (attribute text, column index, whether the cell holds a value or a formula)."""
    filled = None
    if with_value:
        filled = re.compile(r"<%s(?:v|f|is)\b[^>]*>\s*[^<\s]|<%st\b[^>]*>\s*[^<\s]" % (re.escape(p), re.escape(p)))
    for _s, _e, attrs, inner, col in cell_spans(content, p):
        if filled is not None:
            yield attrs, col, bool(filled.search(inner))
        else:
            yield attrs, col


def find_cell(content: str, p: str, col: int, rn: int) -> tuple[int, int, str, str] | None:
    """(start, end, attribute text, inner XML) of the cell in column ``col`` of row ``rn``'s
    content, or None. Excel, WPS and LibreOffice write ``<c r="L5"`` first: found with one
    search; any other spelling is found by walking the row's cells."""
    at = content.find(f'<{p}c r="{column_letters(col)}{rn}"')
    if at >= 0:
        m = cell_re(p).match(content, at)
        if m:
            return m.start(), m.end(), m.group(1), m.group(2) or ""
    for start, end, attrs, inner, c in cell_spans(content, p):
        if c == col:
            return start, end, attrs, inner
    return None


def cell_insert_at(content: str, p: str, col: int) -> int | None:
    """Where a new cell in column ``col`` goes in a row's content (cells stay in column order);
    None when a cell of the row has no ``r`` (a cell placed before it would move it)."""
    at = len(content)
    for start, _end, attrs, _inner, c in cell_spans(content, p):
        if _CELL_COL_RE.search(" " + attrs) is None:
            return None
        if c > col and at == len(content):
            at = start
    return at


def row_style_of(row_attrs: str) -> str | None:
    """The style a row gives its empty cells (``s`` with ``customFormat="1"``)."""
    a = _attrs(row_attrs)
    return a.get("s") if a.get("customFormat", "").lower() in ("1", "true") else None


_FIRST_CELL_ROW_RE = re.compile(r"""<(?:[\w.-]+:)?c\b[^>]*?\sr\s*=\s*["']\$?[A-Za-z]{1,3}\$?([0-9]+)""")


def merged_ranges(tail: str, p: str) -> list[tuple[int, int, int, int, str]]:
    """(first col, first row, last col, last row, "合并单元格") of each merged block (1-based)."""
    out = []
    for m in re.finditer(r"<%smergeCell\b(%s)/?>" % (re.escape(p), _ATTRS), tail, re.S):
        rng = parse_range(_attrs(m.group(1)).get("ref", ""))
        if rng:
            out.append((*rng, "合并单元格"))
    return out


def array_ranges(body: str, p: str) -> list[tuple[int, int, int, int, str]]:
    """The ranges of array formulas (and Excel 365 spills): only their first cell holds the
    formula, the others only its results."""
    if "array" not in body:
        return []
    out = []
    for m in re.finditer(r"<%sf\b(%s)>" % (re.escape(p), _ATTRS), body, re.S):
        a = _attrs(m.group(1))
        rng = parse_range(a.get("ref", "")) if a.get("t") == "array" else None
        if rng:
            out.append((*rng, "数组公式的范围"))
    return out


@functools.lru_cache(maxsize=8)
def formula_re(p: str) -> re.Pattern:
    return re.compile(r"<%sf[\s>/]" % re.escape(p))


_CELL_COL_RE = re.compile(r"""\sr\s*=\s*["']\$?([A-Za-z]{1,3})""")


@functools.lru_cache(maxsize=8)
def cell_re(p: str) -> re.Pattern:
    """A cell element (``<c .../>`` or ``<c ...>...</c>``) in namespace prefix ``p``."""
    return re.compile(r"<%sc\b(%s)(?:/>|>(.*?)</%sc>)" % (re.escape(p), _ATTRS, re.escape(p)), re.S)


def col_attr(head: str, p: str, name: str, cast=str) -> dict:
    """Column index -> attribute ``name`` of its ``<cols><col min max ...>`` entry (``cast`` applied)."""
    out: dict = {}
    cols = re.search(r"<%scols\b.*?</%scols>" % (re.escape(p), re.escape(p)), head, re.S)
    if not cols:
        return out
    for m in re.finditer(r"<%scol\b(%s)/?>" % (re.escape(p), _ATTRS), cols.group(0), re.S):
        a = _attrs(m.group(1))
        try:
            lo, hi, value = int(a.get("min", "0")), int(a.get("max", "0")), cast(a[name])
        except (KeyError, ValueError):
            continue
        for c in range(max(lo, 1), min(hi, 16384) + 1):
            out.setdefault(c, value)
    return out


def column_styles(head: str, p: str) -> dict[int, str]:
    """Column index -> default style index from ``<cols><col style=...>``."""
    return col_attr(head, p, "style")


_ROW_ATTRS_DROPPED = {"r", "spans", "hidden", "outlineLevel", "collapsed"}


def col_widths(head: str, p: str) -> dict[int, float]:
    """Column index -> width (characters) from ``<cols><col width=...>``."""
    return col_attr(head, p, "width", float)


def template_row_attrs(attrs: str, drop: set[str] = _ROW_ATTRS_DROPPED) -> str:
    """The attributes of the first old data row worth repeating (height, style), as text; ``drop``
    names the attributes left out."""
    kept = [m.group(0) for m in _ATTR_RE.finditer(attrs) if m.group(1) not in drop]
    return "".join(" " + k for k in kept)


_AFTER_HYPERLINKS = {
    "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
    "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
    "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
    "tableParts", "extLst", "AlternateContent",
}


def ref_last_row(ref: str) -> int | None:
    rng = parse_range(ref)
    return rng[3] if rng else None


def rewrite_tail(tail: str, start: int, p: str, header_row: int, last_row: int, new_links: list[str]) -> str:
    """Everything after ``</sheetData>``: merges/hyperlinks in the data area go, new links come in,
    conditional formats, validations and ignored-error marks that start at the first data row grow
    to the last one, and a sheet-level filter on the header row covers the new rows (as a table's)."""
    children, close = top_children(tail, start)
    edits: list[tuple[int, int, str]] = []
    hyper = None
    insert_at = close
    for local, s, e in children:
        if local == "mergeCells":
            inner = tail[s:e]
            cells = re.findall(r"<%smergeCell\b%s/?>" % (re.escape(p), _ATTRS), inner, re.S)
            keep = [c for c in cells if (ref_last_row(_attrs(c[1:]).get("ref", "")) or 0) <= header_row]
            if len(keep) != len(cells):
                edits.append((s, e, f'<{p}mergeCells count="{len(keep)}">{"".join(keep)}</{p}mergeCells>'
                              if keep else ""))
        elif local == "hyperlinks":
            hyper = (s, e)
        elif local in _AFTER_HYPERLINKS and insert_at == close:
            insert_at = s
        elif local == "autoFilter":
            tag = re.match(r"<[^>]*>", tail[s:e]).group(0)
            rng = parse_range(_attrs(tag).get("ref", ""))
            if rng and rng[1] == header_row:
                ref = f"{column_letters(rng[0])}{header_row}:{column_letters(rng[2])}{max(header_row + 1, last_row)}"
                new_tag = _set_attr(tag, "ref", ref)
                if new_tag != tag:
                    edits.append((s, s + len(tag), new_tag))
        if local in ("conditionalFormatting", "dataValidations", "ignoredErrors", "extLst"):
            new = grow_sqref(tail[s:e], header_row + 1, last_row)
            if new != tail[s:e]:
                edits.append((s, e, new))
    kept_links: list[str] = []
    if hyper:
        inner = tail[hyper[0]:hyper[1]]
        for m in re.finditer(r"<%shyperlink\b(%s)(?:/>|>.*?</%shyperlink>)" % (re.escape(p), _ATTRS, re.escape(p)),
                             inner, re.S):
            if (ref_last_row(_attrs(m.group(1)).get("ref", "")) or 0) <= header_row:
                kept_links.append(m.group(0))
    all_links = kept_links + new_links
    block = f"<{p}hyperlinks>{''.join(all_links)}</{p}hyperlinks>" if all_links else ""
    if hyper:
        if tail[hyper[0]:hyper[1]] != block:
            edits.append((hyper[0], hyper[1], block))
    elif block:
        edits.append((insert_at, insert_at, block))
    for s, e, new in sorted(edits, key=lambda x: x[0], reverse=True):
        tail = tail[:s] + new + tail[e:]
    return tail


def grow_sqref(xml: str, first_data_row: int, last_row: int) -> str:
    """Extend ranges of ``sqref`` (attribute or ``<xm:sqref>``) that start at the first data row."""

    def grow(refs: str) -> str:
        out = []
        for ref in refs.split():
            rng = parse_range(ref)
            if rng and rng[1] == first_data_row and rng[3] < last_row:
                c1, r1, c2, _ = rng
                ref = f"{column_letters(c1)}{r1}:{column_letters(c2)}{last_row}"
            out.append(ref)
        return " ".join(out)

    xml = re.sub(r"""(<(?:\w+:)?(?:conditionalFormatting|dataValidation|ignoredError)\b[^>]*?\ssqref\s*=\s*")"""
                 r"""([^"]*)(")""",
                 lambda m: m.group(1) + grow(m.group(2)) + m.group(3), xml)
    xml = re.sub(r"(<(\w+:)?sqref>)([^<]*)(</\2sqref>)",
                 lambda m: m.group(1) + grow(m.group(3)) + m.group(4), xml)
    return xml



_ROOT_PREFIX_RE = re.compile(rb"<(\w+):worksheet\b")
_S_ATTR_RE = re.compile(rb"""\ss\s*=\s*["']\s*([0-9]+)\s*["']""")


def cell_styles(data: bytes, letter: str, exact: bool = False) -> dict[int, int]:
    """{row number: ``s`` (cell format index, 0 when absent)} of every cell of column ``letter``,
    read from a worksheet's XML bytes by one regular expression that starts with a literal, so
    the engine skips the other columns' cells at string-search speed (one pass per column: an
    alternation of letters made the search several times slower).

    The quick scan (default) knows the spelling every spreadsheet program writes: ``r`` first, in
    double quotes (``<c r="B12" s="3" t="n">``). ``exact=True`` also finds ``r`` anywhere in the
    tag, in either quotes, with spaces around ``=`` or ``$`` in the reference (slower: for when the
    quick scan missed cells the caller knows are there). Cells without ``r`` (placed by their
    position) are not seen either way.
    """
    m = _ROOT_PREFIX_RE.search(data[:4096])
    p = re.escape(m.group(1) + b":") if m else b""
    col = re.escape(letter.encode())
    if not exact:
        pattern = re.compile(rb'<' + p + rb'c r="' + col + rb'(\d+)"(?:[^>]*?\ss="(\d+)")?')
        return {int(row): int(s) if s else 0 for row, s in pattern.findall(data)}
    pattern = re.compile(rb"<" + p + rb"c\b([^>]*?\sr\s*=\s*[\"']\$?" + col + rb"\$?(\d+)[\"'][^>]*)>", re.I)
    out = {}
    for attrs, row in pattern.findall(data):
        s = _S_ATTR_RE.search(attrs)
        out[int(row)] = int(s.group(1)) if s else 0
    return out
