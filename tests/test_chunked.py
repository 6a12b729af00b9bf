"""A large sheet parsed in pieces on several cores reads exactly like the whole sheet.

Every comparison here is against python-calamine reading the same sheet whole (the reader's
own path for small sheets). The pieces are forced (``XlsxFile(pieces=n)``) so small test files
take the parallel path; which rows each cut falls between changes with ``n``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from jifen_xl import app
from jifen_xl.errors import WorkbookUnreadable
from jifen_xl.io import chunked
from jifen_xl.io.xlsx import XlsxFile

from .conftest import CORPUS, TODAY
from .foreign import write_foreign_workbook
from .zipcraft import rewrite_members

PIECES = (2, 3, 4, 5, 7)


def whole_and_split(path: Path, sheet: str, pieces: int):
    """(rows, merged) of ``sheet`` read whole and in ``pieces`` pieces; each is either the grid or
    the message of the refusal."""
    out = []
    for n in (1, pieces):
        try:
            book = XlsxFile(path, pieces=n)
            rows, merged = book._rows(sheet)
            out.append((rows, sorted(merged)))
        except WorkbookUnreadable as exc:
            out.append(str(exc))
    return out


def split_was_used(path: Path, sheet: str, pieces: int) -> bool:
    """Whether the parallel path itself gave the grid (it returns None to have the sheet read whole)."""
    book = XlsxFile(path, pieces=pieces)
    data, region = book._sheet_xml(sheet), book._region(sheet)
    if not (data and region):
        return False
    return chunked.read_rows(book._support_parts(), book._parts[sheet], sheet, data, region, pieces,
                             book._piece_checker(sheet)) is not None


def workbook(path: Path, rows: list[list], merged: tuple[str, ...] = ()) -> Path:
    """A one-sheet workbook (sheet 数据) written by openpyxl: ``rows`` maps to Excel rows from 1;
    a ``None`` row is left out of the file entirely (a gap)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row or [], start=1):
            if value is not None:
                ws.cell(r, c, value)
    for rng in merged:
        ws.merge_cells(rng)
    wb.save(path)
    return path


SHAPES = {
    # gaps of missing rows, a second block that starts one column further right, and a widest
    # column that only some rows reach: the pieces' grids have different origins and widths
    "gaps-and-widths": [["户号", "姓名", "积分"]] + [[f"{i:04d}", f"户主{i}", i] for i in range(1, 40)]
    + [None] * 15 + [[None, f"B{i}", i * 1.5, None, "备注" if i % 9 == 0 else None] for i in range(60)]
    + [None] * 3 + [[dt.datetime(2026, 3, 5), True, "末行", None, None, None, "远一点"]],
    # leading empty rows and columns, text that looks like markup, numbers as text
    "offset": [None] * 6 + [[None, None, "<row r=\"1\">", "1e5", "０１２"] for _ in range(50)]
    + [[None, None, "&amp;", "=SUM(A1)", "-3"] for _ in range(50)],
    # a single row: nothing to cut
    "one-row": [["只有一行", 1, 2]],
    # rows that are all empty in between (written with a value then blanked would not appear)
    "sparse": [[f"r{i}"] if i % 7 == 0 else None for i in range(400)],
}


@pytest.mark.parametrize("pieces", PIECES)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_crafted_shapes_read_the_same_in_pieces(tmp_path, shape, pieces):
    path = workbook(tmp_path / f"{shape}.xlsx", SHAPES[shape], merged=("A2:A4",) if shape != "one-row" else ())
    whole, split = whole_and_split(path, "数据", pieces)
    assert split == whole
    if shape != "one-row":
        assert split_was_used(path, "数据", pieces)


@pytest.mark.parametrize("pieces", PIECES)
def test_village_workbook_reads_the_same_in_pieces(village_book, pieces):
    for sheet in XlsxFile(village_book).sheet_names:
        whole, split = whole_and_split(village_book, sheet, pieces)
        assert split == whole, sheet
    assert split_was_used(village_book, "积分登记", pieces)


def test_foreign_workbook_with_merged_data_rows_and_formulas_reads_the_same(tmp_path):
    book = write_foreign_workbook(tmp_path / "外来.xlsx")
    for sheet in XlsxFile(book).sheet_names:
        for pieces in (2, 3):
            whole, split = whole_and_split(book, sheet, pieces)
            assert split == whole, (sheet, pieces)


def test_same_tables_and_findings_whole_or_in_pieces(village_book):
    whole = app.load(XlsxFile(village_book, pieces=1))
    split = app.load(XlsxFile(village_book, pieces=3))
    for key, table in whole.village.tables.items():
        assert split.village.tables[key].equals(table), key
    from jifen_xl.validate import validate

    assert validate(split.village, split.read_problems, today=TODAY).records() == \
        validate(whole.village, whole.read_problems, today=TODAY).records()


def corpus_xlsx():
    return sorted(p for p in CORPUS.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm")) if CORPUS.exists() else []


@pytest.mark.parametrize("path", corpus_xlsx(), ids=lambda p: p.name)
def test_corpus_sheets_read_the_same_in_pieces(path, tmp_path):
    """Real-world files from the reader's test suite: same grid, or the same refusal."""
    try:
        names = XlsxFile(path).sheet_names
    except WorkbookUnreadable:
        return  # refused before any sheet is read: nothing to split
    for sheet in names:
        whole, split = whole_and_split(path, sheet, 3)
        assert split == whole, sheet


def test_rows_out_of_order_across_a_cut_fall_back_to_the_whole_read(tmp_path):
    path = workbook(tmp_path / "乱序.xlsx", [[f"第{i}行", i] for i in range(1, 41)])
    part = "xl/worksheets/sheet1.xml"

    def swap(xml: bytes) -> bytes:  # move row 2 to the very end of the sheet data
        start = xml.index(b'<row r="2"')
        end = xml.index(b"</row>", start) + len(b"</row>")
        row = xml[start:end]
        xml = xml[:start] + xml[end:]
        return xml.replace(b"</sheetData>", row + b"</sheetData>")

    rewrite_members(path, path, {part: swap})
    book = XlsxFile(path)
    assert chunked.cut_points(book._sheet_xml("数据"), book._region("数据"), 2)  # it is cut ...
    assert not split_was_used(path, "数据", 2)  # ... and the stitch refuses the overlap
    whole, split = whole_and_split(path, "数据", 2)
    assert split == whole
    assert whole[0][1] == ["第2行", 2.0]


def test_a_far_cell_in_a_later_piece_is_refused_with_the_whole_sheet_message(tmp_path):
    path = workbook(tmp_path / "远处.xlsx", [[f"第{i}行", i] for i in range(1, 41)])
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    rewrite_members(path, path, {"xl/worksheets/sheet1.xml": lambda d: d.replace(b"</sheetData>", far)})
    whole, split = whole_and_split(path, "数据", 3)
    assert isinstance(whole, str) and "XFD1048576" in whole
    assert split == whole


def test_a_piece_calamine_refuses_falls_back_to_the_whole_read(tmp_path):
    """A row tag spelled inside a CDATA section (no real producer writes one) is never a cut
    point that damages the read: the cut is refused, or the result is checked, or the whole
    sheet is read."""
    rows = [[f"第{i}行", i] for i in range(1, 41)]
    path = workbook(tmp_path / "怪.xlsx", rows)
    trap = b'<c r="C20" t="inlineStr"><is><t><![CDATA[</row><row r="77"><c r="A77"><v>9</v></c>]]></t></is></c>'
    rewrite_members(path, path, {"xl/worksheets/sheet1.xml":
                                 lambda d: d.replace(b'<c r="B20" t="n"><v>20</v></c>', b'<c r="B20" t="n"><v>20</v></c>' + trap)})
    assert b"CDATA" in XlsxFile(path)._sheet_xml("数据")
    for pieces in PIECES:
        whole, split = whole_and_split(path, "数据", pieces)
        assert split == whole, pieces


def test_pieces_follow_the_cores_and_the_size():
    assert chunked.pieces_for(36_000_000, cpus=2) == 4  # two per core: little else to re-read
    assert chunked.pieces_for(36_000_000, support=3_000_000, cpus=2) == 2  # shared strings: one per core
    assert chunked.pieces_for(36_000_000, cpus=64) == 36_000_000 // chunked.PIECE_BYTES
    assert chunked.pieces_for(400_000_000, cpus=64) == chunked.MAX_PIECES
    assert chunked.pieces_for(chunked.MIN_SPLIT_BYTES - 1, cpus=8) == 1
    assert chunked.pieces_for(36_000_000, cpus=1) == 1


def test_no_temporary_files_are_left_behind(village_book, tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "临时"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the pieces' packages go
    XlsxFile(village_book, pieces=2)._rows("积分登记")
    assert split_was_used(village_book, "积分登记", 2)
    assert list(scratch.iterdir()) == []


def test_no_room_for_the_pieces_reads_the_sheet_whole(village_book, tmp_path, monkeypatch):
    import tempfile

    whole = XlsxFile(village_book, pieces=1)._rows("积分登记")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "不存在的文件夹"))  # cannot hold the pieces
    assert XlsxFile(village_book, pieces=3)._rows("积分登记") == whole


def test_a_refused_piece_leaves_no_temporary_files(tmp_path, monkeypatch):
    import tempfile

    path = workbook(tmp_path / "远处.xlsx", [[f"第{i}行", i] for i in range(1, 41)])
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    rewrite_members(path, path, {"xl/worksheets/sheet1.xml": lambda d: d.replace(b"</sheetData>", far)})
    scratch = tmp_path / "临时"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(WorkbookUnreadable, match="XFD1048576"):
        XlsxFile(path, pieces=4)._rows("数据")
    assert list(scratch.iterdir()) == []


def test_pieces_that_pass_alone_but_not_together_are_refused_like_the_whole(tmp_path):
    """One stray value far to the right in the first piece, many rows in the others: each piece
    is small, the stitched grid (all rows x that far column) is not."""
    path = workbook(tmp_path / "宽.xlsx", [["x"]])
    rows = b'<row r="1"><c r="A1"><v>1</v></c><c r="ZZ1"><v>1</v></c></row>' + b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(2, 60_001))
    rewrite_members(path, path, {"xl/worksheets/sheet1.xml": lambda d: re.sub(
        rb"<sheetData>.*</sheetData>", b"<sheetData>" + rows + b"</sheetData>", d, flags=re.S)})
    whole, split = whole_and_split(path, "数据", 4)
    assert isinstance(whole, str) and "ZZ60000" in whole
    assert split == whole


@pytest.mark.parametrize("markup", [
    b'<!-- </row><row r="21"><c r="C21"><v>9</v></c></row> -->',  # a comment spelling a row
    b'<![CDATA[</row><row r="21">]]>',
    b'<?pi </row><row r="21"?>',
    b'</sheetData><sheetData>',
    b'<mergeCells count="1"><mergeCell ref="B30:B31"/></mergeCells>',
], ids=["comment", "cdata", "instruction", "second-sheetData", "merges-among-rows"])
def test_markup_among_the_rows_is_read_whole(tmp_path, markup):
    path = workbook(tmp_path / "怪.xlsx", [[f"第{i}行", i] for i in range(1, 41)])
    rewrite_members(path, path, {"xl/worksheets/sheet1.xml": lambda d: d.replace(b'<row r="20"', markup + b'<row r="20"')})
    for pieces in (2, 3, 5):
        whole, split = whole_and_split(path, "数据", pieces)
        assert split == whole
        assert not split_was_used(path, "数据", pieces)


def test_a_comment_before_the_sheet_data_is_read_whole(tmp_path):
    path = workbook(tmp_path / "注释.xlsx", [[f"第{i}行", i] for i in range(1, 41)])
    rewrite_members(path, path, {"xl/worksheets/sheet1.xml":
                                 lambda d: d.replace(b"<sheetData>", b"<!-- old <sheetData> --><sheetData>", 1)})
    whole, split = whole_and_split(path, "数据", 3)
    assert split == whole and len(whole[0]) == 40
    assert not split_was_used(path, "数据", 3)


_CHILD = """
import json, sys
from jifen_xl.errors import WorkbookUnreadable
from jifen_xl.io.xlsx import XlsxFile
try:
    rows, merged = XlsxFile(sys.argv[1], pieces=int(sys.argv[2]))._rows("数据")
    print(json.dumps(["read", len(rows), max(map(len, rows), default=0)]))
except WorkbookUnreadable as exc:
    print(json.dumps(["refused", str(exc)]))
"""


def _read_in_child(path: Path, pieces: int) -> list:
    """The read in a child process under the hostile suite's address-space limit (a far cell that
    got past the guard would make calamine abort the process, not raise)."""
    import json
    import subprocess
    import sys

    from .test_hostile import _limit

    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(pieces)], capture_output=True,
                          text=True, timeout=120, preexec_fn=_limit)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_FAR_CELL = b'<c t="inlineStr"><is><t>x</t></is></c>'


@pytest.mark.parametrize("shape", [
    b'<row r="12"><c r="XFD1048576"><v>1</v></c></row>',  # a cell far outside its row
    b'<row r="12"><c r="a12"><v>1</v></c><c r="xfd1048576"><v>1</v></c></row>',  # lower case
    b"<row r='12'><c r = 'XFD1048576'><v>1</v></c></row>",  # quotes and spaces
    b'<row r="12">' + _FAR_CELL * 16384 + b"</row>",  # a row 16,384 cells wide, cells without r
    b'<row r="12"><x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="XFD1048576">'
    b"<x:v>1</x:v></x:c></row>",  # a namespace-prefixed cell
], ids=["outside-its-row", "lower-case", "quotes", "wide-row-without-r", "prefixed"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_far_cells_anywhere_are_refused_in_pieces_as_whole(tmp_path, shape, where):
    """The hostile suite's far-cell spellings, placed in the first, a middle or the last piece,
    read with the sheet forced into pieces: the same answer as the whole read, in a child that
    stays within the memory limit."""
    path = workbook(tmp_path / "远处.xlsx", [[f"第{i}行", i] for i in range(1, 301)])
    row = {"first": 14, "middle": 150, "last": 290}[where]
    rewrite_members(path, path, {"xl/worksheets/sheet1.xml": lambda d: d.replace(
        b'<row r="%d"' % row, shape.replace(b'r="12"', b'r="%d"' % (row - 1)).replace(b"r='12'", b"r='%d'" % (row - 1))
        + b'<row r="%d"' % row, 1)})
    whole = _read_in_child(path, 1)
    if b"1048576" in shape:
        assert whole[0] == "refused" and "远超村级工作簿的规模" in whole[1]
    else:  # 300 rows x 16,384 columns is within the limit: read, and read alike in pieces
        assert whole == ["read", 300, 16384]
    for pieces in (3, 5) if whole[0] == "refused" else (3,):  # (a 4.9-million-cell read is slow)
        assert _read_in_child(path, pieces) == whole
