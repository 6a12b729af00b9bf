"""Read one large worksheet on several cores: split its rows, parse the pieces in parallel.

python-calamine parses a worksheet in Rust with the GIL released, but one sheet is one call on
one core. The entries sheet of a village-year (60,000 rows, ~36 MB of XML) is most of a
workbook's read time, so on a machine with more than one core it is cut at row boundaries
into pieces; each piece is a complete worksheet (the original's XML before ``<sheetData>``,
some of its rows, and everything after ``</sheetData>``) in a small uncompressed package that
carries the workbook's other XML parts (workbook, relationships, shared strings, styles, so
strings and dates read exactly as in the original). Rows keep their ``r`` numbers, so each
piece's cells land where they were; the pieces' grids are stitched back into the grid the
whole sheet would have given.

Safety is kept piece by piece: ``check_extent`` (the caller's far-away-cell guard) runs on
each piece, and on the grid stitched from the pieces so far, before calamine sees the piece;
the next piece is checked while the previous one is being parsed. Anything unexpected (markup
no producer writes among rows, rows out of order across pieces, a piece calamine will not
parse, no room for the temporary files) returns ``None`` and the caller reads the sheet whole,
as it always did, so this path can only change how fast a sheet is read, never what is read.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable

import python_calamine as pc

from .package import reader_failed

#: Sheets whose XML is smaller than this are read whole (splitting would not pay).
MIN_SPLIT_BYTES = 8_000_000
#: At least this much XML per piece.
PIECE_BYTES = 4_000_000
#: Never more pieces than this.
MAX_PIECES = 16
#: Other parts (shared strings above all) larger than this are re-read by every piece, so the
#: sheet is cut in one piece per core; smaller, in two per core. Measured on a village-year,
#: 2 cores (entries sheet read whole 0.57-0.66 s): inline strings (36 MB): 2 pieces 0.56 s,
#: 4 pieces 0.45 s, 8 pieces 0.42 s; LibreOffice-saved (33 MB + 3 MB of shared strings):
#: 2 pieces 0.40 s, 4 pieces 0.43 s, 8 pieces 0.45 s. More pieces than cores pipeline the
#: work: the first piece is checked alone before any parsing starts, every later one while
#: earlier ones parse, and a parsed piece becomes Python objects while the next ones parse.
SMALL_SUPPORT_BYTES = 1_000_000
#: The pieces together never load more than this of other parts (calamine holds each piece's
#: shared strings in memory while it parses).
SUPPORT_BUDGET_BYTES = 128_000_000
#: A package whose other XML parts (copied into every piece) exceed this is read whole.
MAX_SUPPORT_BYTES = 64_000_000

# A row tag right after the end of the previous row: never text inside a value (Excel, WPS and
# LibreOffice escape "<" in text and write no CDATA or comments in sheet data).
_CUT_RE = re.compile(rb'(?:</row>|/>)\s*(<row r="\d+")')


def only_rows(xml: bytes, span: tuple[int, int]) -> bool:
    """Whether ``xml[span]`` (a piece's rows) holds no markup whose meaning a cut could change: a
    comment, CDATA section or processing instruction (which could spell a row, or hide one), a
    second sheetData, or merges written among the rows (calamine then reads other merges than
    the ones after the rows). Excel, WPS and LibreOffice write none of them there; a sheet with
    one is read whole. (Scans for the rare bytes ``!`` and ``?`` rather than ``<!``: memchr speed.)"""
    a, b = span
    for mark in (b"!", b"?"):
        at = xml.find(mark, a, b)
        while at >= 0:
            if xml[at - 1:at] == b"<":
                return False
            at = xml.find(mark, at + 1, b)
    return xml.find(b"sheetData", a, b) < 0 and xml.find(b"<mergeCell", a, b) < 0


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def pieces_for(size: int, support: int = 0, cpus: int | None = None) -> int:
    """How many pieces a sheet of ``size`` XML bytes is cut into on this machine (1 = whole),
    when every piece carries ``support`` bytes of the package's other XML parts."""
    cpus = cores() if cpus is None else cpus
    if cpus < 2 or size < MIN_SPLIT_BYTES:
        return 1
    per_core = 2 if support < SMALL_SUPPORT_BYTES else 1
    copies = SUPPORT_BUDGET_BYTES // support if support else MAX_PIECES  # each piece loads them again
    return max(2, min(MAX_PIECES, cpus * per_core, size // PIECE_BYTES, copies))


def cut_points(xml: bytes, region: tuple[int, int], pieces: int) -> list[tuple[int, int]] | None:
    """Where ``xml`` is cut: the ``(start, end)`` byte ranges of each piece's rows, at
    ``<row r="...">`` tags; ``None`` when there is nothing to cut (no rows with ``r``). Everything
    before the first range and from the end of the last one on is shared by all pieces (see
    ``piece``).

    :param region: ``package.plain_region(xml)``: where ``<sheetData`` and ``</sheetData>`` are
        in a sheet without namespace prefixes (only such sheets are cut).
    """
    open_at, close_at = region
    body_start = xml.find(b">", open_at, close_at) + 1
    if body_start <= 0 or xml[body_start - 2:body_start] == b"/>":
        return None
    declaration = xml.find(b"<?xml", 0, 100)
    declaration = xml.find(b"?>", declaration, open_at) + 2 if declaration >= 0 else 0
    if xml.find(b"<!", declaration, open_at) >= 0 or xml.find(b"<?", declaration, open_at) >= 0:
        return None  # a comment or instruction before the sheet data (one might spell <sheetData>)
    size = close_at - body_start
    cuts = [body_start]
    for k in range(1, pieces):
        m = _CUT_RE.search(xml, body_start + size * k // pieces, close_at)
        if m is None or m.start(1) <= cuts[-1]:
            break
        cuts.append(m.start(1))
    if len(cuts) < 2:
        return None
    cuts.append(close_at)
    return list(zip(cuts, cuts[1:]))


def piece(xml: bytes, span: tuple[int, int], ranges: list[tuple[int, int]]) -> list:
    """The pieces of worksheet ``xml`` holding only the rows in ``span`` (one of ``ranges``): its
    head, those rows and its tail, as buffers (not yet joined: each is copied once, into the
    package)."""
    view = memoryview(xml)
    return [view[:ranges[0][0]], view[span[0]:span[1]], view[ranges[-1][1]:]]


def _write_package(path: str, parts: dict[str, bytes], sheet_part: str, sheet_xml: list) -> None:
    """An uncompressed package of ``parts`` with ``sheet_part`` made of the buffers ``sheet_xml``.

    Written to a temporary file by the calling thread: calamine then reads it lazily in Rust,
    while a file-like object would be read through Python, and Python work in a worker waits
    for the GIL behind the caller's long scans."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in parts.items():
            if name != sheet_part:
                zf.writestr(name, data)
        with zf.open(zipfile.ZipInfo(sheet_part, date_time=(1980, 1, 1, 0, 0, 0)), "w",
                     force_zip64=sum(map(len, sheet_xml)) > 0x7FFFFFFF) as out:
            for chunk in sheet_xml:
                out.write(chunk)


def _parse(path: str, sheet_name: str):
    """One piece, parsed by calamine (Rust, without the GIL: runs beside the other pieces)."""
    book = pc.CalamineWorkbook.from_path(path)
    try:
        return book, book.get_sheet_by_name(sheet_name)
    except BaseException:
        book.close()
        raise


def _grid(book, sheet) -> tuple:
    """A parsed piece as (start, end, rows, merged); turned into Python objects by the calling
    thread, one piece at a time (two threads doing it at once only fight over the GIL)."""
    try:
        if sheet.start is None or sheet.height == 0:
            return None, None, [], sheet.merged_cell_ranges or []
        return sheet.start, sheet.end, sheet.to_python(skip_empty_area=True), sheet.merged_cell_ranges or []
    finally:
        book.close()


def stitch(results) -> list[list] | None:
    """The grid the whole sheet gives (``to_python(skip_empty_area=False)``: from A1 to the last
    cell, every row as wide as the widest) from each piece's (start, end, rows); ``None`` when the
    pieces overlap (rows out of order), which only a whole-sheet read places correctly."""
    filled = [(s, e, rows) for s, e, rows in results if s is not None]
    if not filled:
        return []
    for (_, prev_end, _), (start, _, _) in zip(filled, filled[1:]):
        if start[0] <= prev_end[0]:
            return None
    width = max(e[1] for _, e, _ in filled) + 1
    out: list[list] = []
    for start, end, rows in filled:
        out.extend([""] * width for _ in range(start[0] - len(out)))
        left, right = [""] * start[1], [""] * (width - 1 - end[1])
        if left:
            for row in rows:
                row[:0] = left
        if right:
            for row in rows:
                row.extend(right)
        out.extend(rows)
    return out


def read_rows(parts: dict[str, bytes], sheet_part: str, sheet_name: str, xml: bytes,
              region: tuple[int, int], pieces: int,
              check_extent: Callable[[tuple[int, int]], None], meanwhile: Callable[[], None] | None = None
              ) -> tuple[list[list], list] | None:
    """The sheet's rows and merged ranges, parsed in ``pieces`` parallel pieces; ``None`` when the
    sheet cannot be cut or a piece fails (the caller then reads it whole).

    :param region: ``package.plain_region(xml)`` (see ``cut_points``).
    :param parts: every XML part of the package the reader needs besides worksheets
        (workbook, relationships, content types, shared strings, styles), inflated.
    :param check_extent: given a piece's byte span of the rows, raises (a clear refusal) when its
        cells, or the grid stitched so far, reach too far; returns ``False`` to have the sheet read
        whole instead. Run on each piece before it is parsed. Its refusal propagates; calamine's failures do not.
    :param meanwhile: other work for this thread while the last pieces are parsed.
    """
    ranges = cut_points(xml, region, pieces)
    if ranges is None:
        return None
    parts = dict(parts)
    parts[sheet_part] = b""
    try:
        with tempfile.TemporaryDirectory(prefix="jifen-xl-", ignore_cleanup_errors=True) as folder:
            results = _parse_pieces(xml, ranges, parts, sheet_part, sheet_name, folder, check_extent, meanwhile)
    except OSError:  # no room for the temporary packages: read the sheet whole instead
        return None
    if results is None:
        return None
    rows = stitch([(s, e, r) for s, e, r, _ in results])
    if rows is None:
        return None
    return rows, results[0][3]  # every piece carries the sheet's <mergeCells> (after the rows)


def _parse_pieces(xml, ranges, parts, sheet_part, sheet_name, folder, check_extent, meanwhile) -> list | None:
    """Write, parse and convert every piece; ``None`` when calamine refuses one."""
    with ThreadPoolExecutor(max_workers=min(len(ranges), max(cores(), 2))) as pool:
        futures, results, attempted = [], [], 0
        try:
            for k, span in enumerate(ranges):
                # the first piece alone; every later one while the earlier ones are parsed
                if not only_rows(xml, span) or check_extent(span) is False:
                    return None
                path = os.path.join(folder, f"{k}.xlsx")
                _write_package(path, parts, sheet_part, piece(xml, span, ranges))
                futures.append(pool.submit(_parse, path, sheet_name))
            if meanwhile is not None:
                meanwhile()
            for f in futures:
                try:
                    book, sheet = f.result()  # _parse closed the book if it failed
                except BaseException as exc:  # calamine refused a piece (or panicked): read the sheet whole
                    if not reader_failed(exc):
                        raise
                    attempted += 1
                    return None
                attempted += 1  # from here _grid closes this piece's book, whatever happens
                try:
                    results.append(_grid(book, sheet))
                except BaseException as exc:
                    if not reader_failed(exc):
                        raise
                    return None
            return results
        finally:  # close every piece parsed but not converted (after a refusal or a failure above)
            wait(futures)
            for f in futures[attempted:]:
                if f.exception() is None:
                    f.result()[0].close()
