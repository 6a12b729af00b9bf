"""Codes typed as numbers and shown through a number format are read as the clerk sees them
(SPEC "Meanings"; issue 8, section 5): 户号 1 formatted ``0000`` is 「0001」.

Every workbook here is a real file on disk: the small village built by the toolkit, edited with
openpyxl as a clerk's Excel would store it (the number, and the cell's format), some re-saved by
LibreOffice headless. The reader (``io.xlsxread``) hands each numeric code cell's format to the
core (``clean.FORMATS``); the tests look at what the clerk sees: the CLI's findings and the
households as read.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.core.clean import FORMATS, CellFormats, clean_frame
from jifen_xl.io import package
from jifen_xl.io.base import ColumnPatch, WriteRequest
from jifen_xl.io.xlsx import XlsxFile, open_workbook
from jifen_xl.validate import validate

from .conftest import TODAY, build
from .lo import lo_convert, needs_lo
from .test_chunked import split_was_used
from .zipcraft import rewrite_members

HH_SHEETS = (S.HOUSEHOLDS, S.MEMBERS, S.ENTRIES, S.EXCHANGES)


def _col(spec: S.SheetSpec, field: str) -> int:
    """1-based column of ``field`` in the toolkit's template (headers in declared order)."""
    return spec.fields.index(field) + 1


def _numbers_shown_as_codes(path: Path, fmt: str = "0000", sheets=HH_SHEETS) -> Path:
    """Every all-digit 户号 in ``sheets`` stored as the number Excel keeps when the clerk types it
    into a cell formatted ``fmt`` (「0001」 typed in a 0000 cell is the number 1)."""
    wb = openpyxl.load_workbook(path)
    for spec in sheets:
        ws, column = wb[spec.name], _col(spec, "hh_id")
        for r in range(2, ws.max_row + 1):
            cell = ws.cell(r, column)
            if isinstance(cell.value, str) and cell.value.isdigit():
                cell.value, cell.number_format = int(cell.value), fmt
    wb.save(path)
    return path


def _loaded(path: Path, pieces: int | None = None) -> app.Loaded:
    return app.load(open_workbook(path, pieces=pieces))


def _codes(loaded: app.Loaded, key: str, field: str = "hh_id") -> list:
    return loaded.village.tables[key][field].tolist()


def _findings(loaded: app.Loaded) -> list[tuple]:
    report = validate(loaded.village, loaded.read_problems, today=TODAY)
    return [(p.sheet, p.row, p.column, p.rule, p.message, p.fix) for p in report.problems]


@pytest.fixture
def book(tmp_path) -> Path:
    return build(tmp_path / "永宁寺村.xlsx")


@pytest.fixture
def plain(book, tmp_path) -> tuple[list, list]:
    """(households, entries' 户号) of the untouched village: what every reading below must give."""
    loaded = _loaded(book)
    assert _findings(loaded) == []
    return _codes(loaded, "households"), _codes(loaded, "entries")


# -- 1. 户号 stored as numbers, shown 0000, in 住户名册 and 积分登记 ---------------------------------
def _renamed(path: Path, old: str, new: str) -> Path:
    """Household ``old`` renumbered ``new`` (as text) wherever a 户号 names it."""
    wb = openpyxl.load_workbook(path)
    for spec in HH_SHEETS:
        ws, column = wb[spec.name], _col(spec, "hh_id")
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, column).value == old:
                ws.cell(r, column).value = new
    wb.save(path)
    return path


def test_numbers_shown_0000_read_as_the_codes_the_clerk_sees(book, plain):
    """户号 0045 typed into cells formatted 0000 in 住户名册 and 积分登记 (Excel keeps the number 45)."""
    _numbers_shown_as_codes(_renamed(book, "0006", "0045"))
    wb = openpyxl.load_workbook(book)
    households = wb[S.HOUSEHOLDS.name]
    assert [households.cell(r, 1).value for r in range(2, 8)] == [1, 2, 3, 4, 5, 45]  # numbers in the file
    assert households.cell(7, 1).number_format == "0000"
    result = CliRunner().invoke(cli, ["validate", "--dry-run", str(book)])
    assert "不在住户名册" not in result.output
    assert "户号" not in result.output, result.output
    assert result.exit_code == 0, result.output
    loaded = _loaded(book)
    assert _codes(loaded, "households") == ["0001", "0002", "0003", "0004", "0005", "0045"]
    assert _codes(loaded, "entries") == [{"0006": "0045"}.get(h, h) for h in plain[1]]
    assert "0045" in _codes(loaded, "entries")
    assert _findings(loaded) == []


def test_the_formats_are_handed_over_per_cell_only_for_numeric_code_cells(book):
    _numbers_shown_as_codes(book, sheets=(S.ENTRIES,))
    raw = open_workbook(book).read_table(S.ENTRIES)
    formats = raw.frame.attrs[FORMATS]
    assert isinstance(formats, CellFormats)
    assert list(formats) == ["hh_id"]  # entry_id and code hold text: nothing handed over
    assert formats["hh_id"] == ["0000"] * len(raw.frame)
    assert {type(v) for v in raw.frame["hh_id"]} == {float}  # the raw values are numbers


def test_code_columns_holding_text_cost_no_look_at_the_styles(book):
    """The template formats code columns as text: the reader then never reads styles.xml."""
    backend = open_workbook(book)
    app.load(backend)
    assert backend._xf_formats is None
    assert all(FORMATS not in backend.read_table(spec).frame.attrs for spec in S.CLERK_SHEETS)


# -- 2. the same file re-saved by LibreOffice -------------------------------------------------
@needs_lo
def test_resaved_by_libreoffice_reads_the_same(book, plain, tmp_path):
    _numbers_shown_as_codes(book)
    saved = lo_convert(book, "xlsx", tmp_path / "lo")
    with package.Package(saved) as pkg:  # LibreOffice kept numbers, with its own style indices
        part = pkg.sheet_parts()[S.HOUSEHOLDS.name]
        assert re.search(rb'<c r="A2" s="\d+" t="n"><v>1</v>', pkg.read(part))
    loaded = _loaded(saved)
    assert _codes(loaded, "households") == plain[0]
    assert _codes(loaded, "entries") == plain[1]
    assert [f for f in _findings(loaded) if f[3] in ("E-ENT-02", "E-REF", "E-EXC-01")] == []


# -- 3. literal text in the format, and a mixed column ----------------------------------------
def test_literal_text_in_the_format_and_a_mixed_column(book, plain):
    goods = {S.GOODS.name: _col(S.GOODS, "goods_id"), S.EXCHANGES.name: _col(S.EXCHANGES, "goods_id")}
    hh = _col(S.ENTRIES, "hh_id")

    def edit(wb):
        for name, column in goods.items():  # 商品编码 SP-01 typed as 1 in a "SP-"00 cell
            ws = wb[name]
            for r in range(2, ws.max_row + 1):
                cell = ws.cell(r, column)
                if isinstance(cell.value, str) and re.fullmatch(r"SP-\d\d", cell.value):
                    cell.value, cell.number_format = int(cell.value[3:]), '"SP-"00'
        ent = wb[S.ENTRIES.name]
        ent.cell(3, hh).value, ent.cell(3, hh).number_format = int(ent.cell(3, hh).value), "0000"
        ent.cell(4, hh).value, ent.cell(4, hh).number_format = int(ent.cell(4, hh).value), "General"
        # rows 2 and 5.. keep the text the template holds
    wb = openpyxl.load_workbook(book)
    household_of_row4 = wb[S.ENTRIES.name].cell(4, hh).value
    edit(wb)
    wb.save(book)
    raw = open_workbook(book).read_table(S.ENTRIES)
    assert raw.frame.attrs[FORMATS]["hh_id"][:4] == [None, "0000", None, None]  # text / 0000 / General / text
    loaded = _loaded(book)
    entries = _codes(loaded, "entries")
    assert entries[0] == plain[1][0] and entries[1] == plain[1][1] and entries[3:] == plain[1][3:]
    assert entries[2] == household_of_row4.lstrip("0")  # General shows the bare number
    assert _codes(loaded, "goods", "goods_id") == ["SP-01", "SP-02", "SP-03"][:len(_codes(loaded, "goods", "goods_id"))]
    assert all(re.fullmatch(r"SP-\d\d", g) for g in _codes(loaded, "exchanges", "goods_id"))
    # only the General cell is refused, with the code 住户名册 holds as the fix
    assert [(f[1], f[3], f[5]) for f in _findings(loaded)] == [
        (4, "E-ENT-02", f"住户名册中的户号是「{household_of_row4}」：请把该列设为文本格式后按「{household_of_row4}」输入")]


def test_a_merged_code_cell_shows_its_top_cells_format(book, plain):
    """Clerks merge 户号 over several entries of one household: the covered rows show the top cell."""
    hh = _col(S.ENTRIES, "hh_id")
    wb = openpyxl.load_workbook(book)
    ws = wb[S.ENTRIES.name]
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, hh).value == ws.cell(2, hh).value]
    top = rows[0]
    bottom = top
    while bottom + 1 in rows:
        bottom += 1
    if bottom == top:  # make two rows of the same household to merge
        bottom = top + 1
        ws.cell(bottom, hh).value = ws.cell(top, hh).value
    expected = [ws.cell(r, hh).value for r in range(2, ws.max_row + 1)]
    ws.cell(top, hh).value, ws.cell(top, hh).number_format = int(ws.cell(top, hh).value), "0000"
    for r in range(top + 1, bottom + 1):
        ws.cell(r, hh).value = None
    ws.merge_cells(start_row=top, start_column=hh, end_row=bottom, end_column=hh)
    wb.save(book)
    loaded = _loaded(book)
    assert _codes(loaded, "entries")[:len(expected)] == expected


# -- 4. General keeps the bare number; the lost-zeros hint still applies -----------------------
def test_general_numbers_keep_their_value_and_get_the_lost_zeros_hint(book):
    _numbers_shown_as_codes(book, fmt="General", sheets=(S.ENTRIES,))
    raw = open_workbook(book).read_table(S.ENTRIES)
    assert FORMATS not in raw.frame.attrs  # General everywhere: nothing to hand over
    loaded = _loaded(book)
    hh = _codes(loaded, "entries")
    assert set(hh) <= {"1", "2", "3", "4", "5", "6"}
    refused = [f for f in _findings(loaded) if f[3] == "E-ENT-02"]
    assert len(refused) == len(hh)
    sheet, row, column, rule, message, fix = refused[0]
    assert (sheet, row, column) == (S.ENTRIES.name, 2, "户号")
    assert message == f"户号「{hh[0]}」不在「住户名册」中"
    assert fix == f"住户名册中的户号是「{hh[0].zfill(4)}」：请把该列设为文本格式后按「{hh[0].zfill(4)}」输入"


def test_0_shown_as_a_number_format_code_reads_its_digits(book, plain):
    """Built-in format 1 (``0``): a whole number shows its digits, as General would."""
    _numbers_shown_as_codes(book, fmt="0", sheets=(S.ENTRIES,))
    raw = open_workbook(book).read_table(S.ENTRIES)
    assert set(raw.frame.attrs[FORMATS]["hh_id"]) == {"0"}
    assert set(_codes(_loaded(book), "entries")) <= {"1", "2", "3", "4", "5", "6"}


# -- 5. the parallel pieces give the same -----------------------------------------------------
@pytest.mark.parametrize("pieces", [2, 3, 5])
def test_the_sheet_read_in_pieces_gives_the_same_formats(book, plain, pieces):
    _numbers_shown_as_codes(book)
    assert split_was_used(book, S.ENTRIES.name, pieces)  # the rows really came from the pieces
    whole, split = XlsxFile(book, pieces=1), XlsxFile(book, pieces=pieces)
    for spec in (S.HOUSEHOLDS, S.ENTRIES):
        a, b = whole.read_table(spec).frame, split.read_table(spec).frame
        assert a.attrs[FORMATS] == b.attrs[FORMATS]
        assert clean_frame(spec, a)[0].equals(clean_frame(spec, b)[0])
    loaded = _loaded(book, pieces=pieces)
    assert _codes(loaded, "entries") == plain[1]


# -- other spellings of the sheet XML ---------------------------------------------------------
def test_cells_written_with_r_after_s_are_found_too(book, plain, tmp_path):
    """Some producers write ``<c s="3" r="C2">``: the quick scan misses them, the exact one finds them."""
    _numbers_shown_as_codes(book)
    with package.Package(book) as pkg:
        part = pkg.sheet_parts()[S.ENTRIES.name]
        before = pkg.read(part)

    def swap(data: bytes) -> bytes:
        return re.sub(rb'<c r="([A-Z]+\d+)" s="(\d+)"', rb"<c s='\2'  r = '\1'", data)

    rewrite_members(book, book, {part: swap})
    with package.Package(book) as pkg:
        assert pkg.read(part) != before and b'<c r="' not in pkg.read(part)
    loaded = _loaded(book)
    assert _codes(loaded, "entries") == plain[1]


def test_xls_and_ods_keep_the_raw_numbers(book, tmp_path):
    """python-calamine gives no cell formats for .ods (nor .xls/.xlsb): the raw numbers stay, and
    the lookup refusal names the code to type (the documented limit)."""
    if not (saved := _ods(book, tmp_path)):
        pytest.skip("LibreOffice (soffice) not installed")
    loaded = _loaded(saved)
    assert set(_codes(loaded, "entries")) <= {"1", "2", "3", "4", "5", "6"}


def _ods(book: Path, tmp_path: Path) -> Path | None:
    from .lo import SOFFICE

    if SOFFICE is None:
        return None
    _numbers_shown_as_codes(book, sheets=(S.ENTRIES,))
    return lo_convert(book, "ods", tmp_path / "ods")


def test_an_html_export_already_shows_the_code(tmp_path):
    """An HTML table named like an Excel file (web systems, Excel's "网页" save) holds the shown
    text, 0045, beside the number: the reader takes the text; no formats are needed."""
    path = tmp_path / "住户导出.xls"
    path.write_text(
        "<html><body><table><caption>住户名册</caption>"
        "<tr><th>户号</th><th>户主姓名</th><th>户籍类型</th><th>状态</th></tr>"
        "<tr><td x:num=\"45\" style=\"mso-number-format:'0000'\">0045</td><td>张大山</td>"
        "<td>本村户籍</td><td>正常</td></tr></table></body></html>", encoding="utf-8")
    raw = open_workbook(path).read_table(S.HOUSEHOLDS)
    assert FORMATS not in raw.frame.attrs
    typed, problems = clean_frame(S.HOUSEHOLDS, raw.frame)
    assert problems == [] and typed["hh_id"].tolist() == ["0045"]


# -- the writer keys rows as the reader reads them ---------------------------------------------
def test_a_status_patch_finds_an_entry_whose_number_is_shown_through_its_format(book):
    """登记编号 2026-003 typed as 3 in a cell formatted "2026-"000: the core knows it as 2026-003,
    and the writer must find that row by the same reading (never refuse it as missing)."""
    column = _col(S.ENTRIES, "entry_id")
    wb = openpyxl.load_workbook(book)
    ws = wb[S.ENTRIES.name]
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(r, column)
        if isinstance(cell.value, str) and re.fullmatch(r"2026-\d\d\d", cell.value):
            cell.value, cell.number_format = int(cell.value[5:]), '"2026-"000'
    wb.save(book)
    loaded = _loaded(book)
    entries = loaded.village.tables["entries"]
    assert entries["entry_id"].iloc[:3].tolist() == ["2026-001", "2026-002", "2026-003"]
    key = next(k for k, s in zip(entries["entry_id"], entries["status"]) if s != S.ENTRY_CONFIRMED)
    backend = open_workbook(book)
    plan = backend.plan_write(WriteRequest(patches=[ColumnPatch("entries", "status", {key: S.ENTRY_CONFIRMED})]))
    assert backend.apply(plan).patched == 1
    after = _loaded(book).village.tables["entries"]
    changed = entries["status"].to_numpy() != after["status"].to_numpy()
    assert after.loc[changed, "entry_id"].tolist() == [key]
    assert after.loc[changed, "status"].tolist() == [S.ENTRY_CONFIRMED]
