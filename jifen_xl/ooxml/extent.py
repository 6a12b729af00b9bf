"""The extent a worksheet's cells span, bounded from its XML before any reader allocates it.

calamine allocates the whole rectangle between a sheet's first and last cell before handing
anything over, and aborts the process (no exception) when that allocation fails. So the cells'
extent is bounded here first, from the XML, the way calamine places cells: a cell's ``r`` when
it has one; otherwise the column after the previous cell of its row, in the row given by the
row's ``r`` or the row after the previous one.
"""

from __future__ import annotations

import re

import numpy as np

_CELL_R = b'<c r="'
_LAST_ROW_R_RE = re.compile(rb'<row r="(\d+)"')
_TAG_RE = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_R_ATTR_RE = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF_RE = re.compile(rb"([A-Za-z]+)(\d+)")
_PLAIN_REF_RE = re.compile(rb'<c r="([A-Za-z]+)(\d+)"')
_CELL_OPEN_RE = re.compile(rb"<c[\s/>]")


def _letters_to_col(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _greater_than(n: int) -> bytes:
    """A regex for a decimal number (as a whole) greater than ``n`` (leading zeros count as digits)."""
    s = str(n)
    alts = [rb"\d{%d,}" % (len(s) + 1)]
    for i, ch in enumerate(s):
        d = int(ch)
        if d < 9:
            rest = len(s) - i - 1
            alts.append(s[:i].encode() + b"[%d-9]" % (d + 1) + (rb"\d{%d}" % rest if rest else b""))
    return b"(?:" + b"|".join(alts) + b")"


def plain_region(xml: bytes) -> tuple[int, int] | None:
    """Byte offsets of ``<sheetData`` and ``</sheetData>`` when worksheet ``xml`` is laid out the
    usual way (Excel, WPS, LibreOffice, openpyxl): no namespace prefixes on sheet data or cells,
    no cell tag outside the sheet data. ``None`` otherwise."""
    start = xml.find(b"<sheetData")
    end = xml.rfind(b"</sheetData>")  # the last one: a fake end tag (in CDATA) only widens the region
    if 0 <= start < end and xml.find(b":sheetData") < 0 and not _prefixed_cell(xml, 0, len(xml)) \
            and _CELL_OPEN_RE.search(xml, 0, start) is None and _CELL_OPEN_RE.search(xml, end) is None:
        return start, end
    return None


_COMPUTE = object()


def sheet_extent(xml: bytes, span: tuple[int, int] | None = None, region=_COMPUTE) -> tuple[int, int]:
    """An upper bound of (last row, last column), 1-based, of the cells in worksheet ``xml``.

    The usual file (``plain_region``; every cell written ``<c r="...``, at most 26 columns) is
    answered with a few array scans (~30 ms on a 60,000-row sheet); anything else is measured
    exactly: every cell's reference, or, when cells omit ``r`` or use a prefix, a walk over the
    row and cell tags.

    :param span: byte offsets within the sheet data: bound only the rows between them (a piece of
        a split sheet: the sheet's own head and tail around some of its rows). A sheet that is not
        plain is measured whole, which bounds every piece of it too.
    :param region: ``plain_region(xml)`` when the caller already has it.
    """
    region = plain_region(xml) if region is _COMPUTE else region
    if region is not None:
        start, end = span or region
        at = xml.rfind(b'<row r="', start, end)
        m = _LAST_ROW_R_RE.match(xml, at) if at >= 0 else None
        last_row = int(m.group(1)) if m else 0
        # Anything but "<c r=" + one letter + a row up to the last row's number sends us on.
        odd = re.compile(rb'<c(?: r="[A-Za-z](?:[A-Za-z]|' + _greater_than(last_row) + rb'")|(?! r="))')
        if not _finds_odd_cell(xml, start, end, last_row, odd):
            return last_row, 26
        n_plain = xml.count(_CELL_R, start, end)
        if n_plain == len(_CELL_OPEN_RE.findall(xml, start, end)):
            refs = _PLAIN_REF_RE.findall(xml, start, end)
            if len(refs) == n_plain:
                return (max((int(r) for _, r in refs), default=0),
                        max((_letters_to_col(c) for c in set(c for c, _ in refs)), default=0))
    return _walk_extent(xml)


_LT_C = int.from_bytes(b"<c", "little")
_SPACE_R_QUOTE = int.from_bytes(b' r="', "little")
# The 16 bytes from a "<c": the 4 after it (' r="'), the reference's first two characters, and
# (big-endian, so that byte order is number order) the 8 from the second one.
_CELL_HEAD = np.dtype({"names": ["r", "c6", "c7", "num"], "formats": ["<u4", "u1", "u1", ">u8"],
                       "offsets": [2, 6, 7, 7], "itemsize": 16})
_IS_LETTER = np.zeros(256, dtype=bool)
_IS_LETTER[[*range(65, 91), *range(97, 123)]] = True
_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[48:58] = True
_MAX_SUSPECTS = 1000


def _finds_odd_cell(xml: bytes, start: int, end: int, last_row: int, odd: re.Pattern) -> bool:
    """``odd.search(xml, start, end) is not None``, for ``odd`` as ``sheet_extent`` builds it, at
    array speed: every ``<c`` of the region is found with two vector compares, and the bytes
    after it are checked all at once. A ``<c`` not followed by `` r="`` answers at once; a cell
    whose reference could be two letters, or a letter and a number above ``last_row``, is asked
    to ``odd`` itself (on a plain sheet there is none)."""
    n, digits = end - start, str(last_row).encode()
    width = len(digits)
    if width > 8 or n < 64 or start < 0 or end > len(xml):
        return odd.search(xml, start, end) is not None
    heads = np.ndarray((n - 15,), "V16", xml, start, (1,))  # the 16 bytes from every offset
    above = int.from_bytes(digits, "big")
    suspects = []
    for parity in (0, 1):
        pairs = np.frombuffer(xml, "<u2", (n - parity) // 2, start + parity)
        at = np.flatnonzero(pairs == _LT_C) * 2 + parity
        near_end = int(np.searchsorted(at, n - 15))
        suspects += at[near_end:].tolist()  # too close to the end for 16 bytes: ask the regex
        at = at[:near_end]
        head = heads[at]
        cell = head.view(_CELL_HEAD)
        if (cell["r"] != _SPACE_R_QUOTE).any():
            return True
        ref = head.view(np.uint8).reshape(-1, 16)
        maybe = _IS_DIGIT[ref[:, 6 + width]] & (
            _IS_DIGIT[ref[:, 7 + width]] | ((cell["num"] >> np.uint64(8 * (8 - width))) > above))
        maybe |= _IS_LETTER[cell["c7"]]
        maybe &= _IS_LETTER[cell["c6"]]
        at = at[maybe]
        if len(suspects) + at.size > _MAX_SUSPECTS:  # e.g. columns past Z: the regex finds one soon
            return odd.search(xml, start, end) is not None
        suspects += at.tolist()
    return any(odd.match(xml, start + at, end) for at in suspects)


_COLON_C_RE = re.compile(rb":c[\s/>]")


def _prefixed_cell(xml: bytes, start: int, end: int) -> bool:
    """Whether a namespace-prefixed cell tag (``<x:c ...``) occurs between ``start`` and ``end``."""
    for m in _COLON_C_RE.finditer(xml, start, end):
        lt = xml.rfind(b"<", max(start, m.start() - 80), m.start())
        if lt >= 0 and re.fullmatch(rb"<[\w.-]+", xml[lt:m.start()]):
            return True
    return False


def _walk_extent(xml: bytes) -> tuple[int, int]:
    """Exact placement of every cell, as calamine does it (slow path: odd producers, hostile files)."""
    last_row = last_col = 0
    row = col = 0
    for m in _TAG_RE.finditer(xml):
        r = _R_ATTR_RE.search(m.group(2))
        value = (r.group(1) if r.group(1) is not None else r.group(2)) if r else None
        if m.group(1) == b"row":
            row = int(value) if value is not None and value.isdigit() else row + 1
            col = 0
            last_row = max(last_row, row)
        else:
            ref = _REF_RE.fullmatch(value) if value is not None else None
            if value is not None and ref is None:
                continue  # calamine refuses a cell with a malformed reference: nothing allocated
            if ref:
                col, cell_row = _letters_to_col(ref.group(1)), int(ref.group(2))
            else:
                col, cell_row = col + 1, max(row, 1)
            last_row, last_col = max(last_row, cell_row), max(last_col, col)
    return last_row, last_col
