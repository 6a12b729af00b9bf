"""Setting single cells of a clerk's sheet (积分登记.状态) losslessly: ``write_owned(patches=...)``.

Rows are named by their key (登记编号), never by position. Every byte of the workbook other than
the patched cells must stay; the refusals must leave the file exactly as it was.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from jifen_xl import app, errors
from jifen_xl import schema as S
from jifen_xl.core.clean import to_code
from jifen_xl.io.base import ColumnPatch
from jifen_xl.io.xlsx import XlsxFile
from jifen_xl.io.xlsxwrite import BACKUP_DIR_NAME, write_owned

from .fixtures_rich import SAMPLE, read_zip, rewrite_zip, sheet_parts
from .foreign import write_foreign_workbook
from .lo import lo_convert, needs_lo
from .test_xlsxwrite import NOW, TRICKY, calamine_rows, ledger_frame, raw_members

STATUS = S.ENTRIES.header_of("status")
KEY = S.ENTRIES.header_of("entry_id")


def status_patch(values: dict) -> list[ColumnPatch]:
    return [ColumnPatch("entries", "status", values)]


def entries_part(path: Path) -> str:
    parts, _ = read_zip(path)
    return sheet_parts(parts)[S.ENTRIES.name][0]


def cell_elements(xml: str) -> dict[str, str]:
    """Cell reference -> the whole ``<c>`` element, for every cell of a worksheet."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>.*?</c>)', xml, re.S)}


def undo_cells(new_xml: str, old_xml: str, refs: list[str]) -> str:
    """``new_xml`` with the cells ``refs`` put back as they were in ``old_xml`` (removed when
    they were not there): equal to ``old_xml`` iff nothing else changed."""
    old = cell_elements(old_xml)
    for ref in refs:
        new_xml = re.sub(r'<c r="%s"[^>]*?(?:/>|>.*?</c>)' % ref, lambda m: old.get(ref, ""), new_xml, count=1,
                         flags=re.S)
    return new_xml


def table_of(path: Path, sheet: str, header_row: int = 1) -> list[dict]:
    rows = calamine_rows(path, sheet)
    header = rows[header_row - 1]
    return [{h: v for h, v in zip(header, r) if h} for r in rows[header_row:]]


def statuses(path: Path, sheet: str = S.ENTRIES.name, header_row: int = 1) -> dict[str, str]:
    return {str(r[KEY]): r[STATUS] for r in table_of(path, sheet, header_row) if r.get(KEY)}


# --- the rich workbook: only the patched cells change ----------------------------

def edit_sheet(path: Path, sheet: str, edit) -> str:
    """Rewrite one worksheet's XML with ``edit(xml) -> xml`` (as another program might have
    saved it); return the new XML."""
    parts, order = read_zip(path)
    part = sheet_parts(parts)[sheet][0]
    parts[part] = edit(parts[part].decode()).encode()
    rewrite_zip(path, parts, order)
    return parts[part].decode()


def test_patch_sets_the_cells_and_every_other_byte_stays(rich):
    old_xml = edit_sheet(rich, S.ENTRIES.name, lambda x: x.replace('<c r="L3" t=', '<c r="L3" s="1" t='))
    before_raw = raw_members(rich)
    result = write_owned(rich, patches=status_patch({"E0002": "已确认", "E0003": "已撤销"}), now=NOW)

    assert statuses(rich) == {"E0001": "已确认", "E0002": "已确认", "E0003": "已撤销"}
    part = entries_part(rich)
    after_raw = raw_members(rich)
    assert set(after_raw) == set(before_raw)
    assert [n for n in before_raw if before_raw[n] != after_raw[n]] == [part]
    new_xml = read_zip(rich)[0][part].decode()
    assert undo_cells(new_xml, old_xml, ["L3", "L4"]) == old_xml
    assert cell_elements(new_xml)["L3"].startswith('<c r="L3" s="1" t="inlineStr">')  # its style kept
    assert result.backup is not None and result.backup.parent.name == BACKUP_DIR_NAME
    assert result.backup.read_bytes() != rich.read_bytes()


def test_patch_keeps_formulas_comments_validation_and_links_for_another_reader(rich):
    write_owned(rich, patches=status_patch({"E0001": "公示中"}), backup=False)
    wb = openpyxl.load_workbook(rich)  # an independent reader
    ws = wb[S.ENTRIES.name]
    assert ws["L2"].value == "公示中"
    assert ws["H2"].value == "=G2*5" and ws["H3"].value == "=G3*-5"
    assert ws["B2"].comment is not None and ws["B2"].comment.text == "评议小组现场核实"
    assert any("L2:L1000" in str(dv.sqref) for dv in ws.data_validations.dataValidation)
    assert ws["K3"].hyperlink is not None


def test_patch_and_owned_sheet_in_one_atomic_write_with_one_backup(rich):
    write_owned(rich, {"ledger": ledger_frame(2)}, patches=status_patch({"E0003": "公示中"}), now=NOW)
    assert statuses(rich)["E0003"] == "公示中"
    assert [r[S.LEDGER.header_of("hh_id")] for r in table_of(rich, S.LEDGER.name)] == ["101", "102"]
    assert len(list((rich.parent / BACKUP_DIR_NAME).iterdir())) == 1


def test_patched_text_is_never_a_formula(rich):
    write_owned(rich, patches=status_patch({"E0001": TRICKY[0]}), backup=False)
    xml = read_zip(rich)[0][entries_part(rich)].decode()
    cell = cell_elements(xml)["L2"]
    assert "<f>" not in cell and 't="inlineStr"' in cell
    assert statuses(rich)["E0001"] == TRICKY[0]


def test_blank_value_empties_the_cell_but_keeps_its_style(rich):
    write_owned(rich, patches=status_patch({"E0002": None}), backup=False)
    assert statuses(rich)["E0002"] == ""
    xml = read_zip(rich)[0][entries_part(rich)].decode()
    assert "<v>" not in cell_elements(xml).get("L3", "<c/>")


# --- refusals: clear, and the file untouched ----------------------------------------

def refused(path: Path, patches, match: str):
    before = path.read_bytes()
    with pytest.raises(errors.WriteRefused, match=match) as exc:
        write_owned(path, patches=patches, now=NOW)
    assert path.read_bytes() == before
    assert not (path.parent / BACKUP_DIR_NAME).exists()
    return str(exc.value)


def test_a_key_on_no_row_is_refused_naming_it(rich):
    message = refused(rich, status_patch({"E0002": "已确认", "E9999": "已确认"}), "E9999")
    assert "积分登记" in message and KEY in message and "重新运行" in message


def test_a_key_on_two_rows_is_refused_naming_the_rows(rich):
    edit_sheet(rich, S.ENTRIES.name, lambda x: x.replace("<t>E0003</t>", "<t>E0002</t>"))
    message = refused(rich, status_patch({"E0002": "已确认"}), "第 3、4 行")
    assert "重复" in message and KEY in message


def test_a_duplicate_key_written_with_a_lower_case_reference_is_still_found(rich):
    edit_sheet(rich, S.ENTRIES.name, lambda x: x.replace('<c r="A4" t="inlineStr"><is><t>E0003</t>',
                                                         '<c r="a4" t="inlineStr"><is><t>E0002</t>'))
    refused(rich, status_patch({"E0002": "已确认"}), "第 3、4 行")


def test_a_formula_in_the_patched_cell_is_refused_naming_the_cell(rich):
    edit_sheet(rich, S.ENTRIES.name, lambda x: x.replace(
        cell_elements(x)["L3"], '<c r="L3" t="str"><f>"公示"&amp;"中"</f><v>公示中</v></c>'))
    message = refused(rich, status_patch({"E0002": "已确认"}), "L3")
    assert "公式" in message and "第 3 行" in message and STATUS in message


def test_only_declared_columns_of_clerk_sheets_can_be_patched(rich):
    before = rich.read_bytes()
    for bad in (ColumnPatch("entries", "note", {"E0001": "x"}), ColumnPatch("ledger", "rank", {"101": 1}),
                ColumnPatch("households", "status", {"101": "迁出"})):
        with pytest.raises(ValueError, match="patch"):
            write_owned(rich, patches=[bad])
    with pytest.raises(errors.WriteRefused, match="没有名为"):
        write_owned(rich, patches=[ColumnPatch("nope", "status", {"x": 1})])
    assert rich.read_bytes() == before


def test_patch_refused_while_the_workbook_is_open(rich):
    (rich.parent / f"~${rich.name}").write_bytes(b"")
    before = rich.read_bytes()
    with pytest.raises(errors.WorkbookLocked):
        write_owned(rich, patches=status_patch({"E0001": "已撤销"}))
    assert rich.read_bytes() == before


# --- cells and rows spelled otherwise ------------------------------------------------

def test_a_missing_cell_is_inserted_in_column_order_with_the_column_style(tmp_path):
    from .conftest import build

    book = build(tmp_path / "永宁寺村.xlsx")

    def drop_status_cell(x: str) -> str:  # row 4 has no 状态 cell; column L has a style
        x = x.replace(cell_elements(x)["L4"], "")
        return re.sub(r'(<col [^>]*min="12" max="12")', r'\1 style="5"', x, count=1)

    old_xml = edit_sheet(book, S.ENTRIES.name, drop_status_cell)
    key = table_of(book, S.ENTRIES.name)[2][KEY]
    write_owned(book, patches=status_patch({key: "公示中"}), backup=False)
    new_xml = read_zip(book)[0][entries_part(book)].decode()
    assert statuses(book)[key] == "公示中"
    row4 = re.search(r'<row r="4".*?</row>', new_xml, re.S).group(0)
    refs = re.findall(r'<c r="([A-Z]+)4"', row4)
    assert refs == sorted(refs) and "L" in refs
    assert cell_elements(new_xml)["L4"].startswith('<c r="L4" s="5" t="inlineStr">')
    assert undo_cells(new_xml, old_xml, ["L4"]) == old_xml


def test_a_new_cell_is_refused_in_a_row_whose_cells_carry_no_reference(tmp_path):
    """Placing a cell among cells without ``r`` would move the ones after it: refused."""
    path = no_reference_book(tmp_path)
    edit_sheet(path, S.ENTRIES.name, lambda x: re.sub(  # E0003's last two cells (状态, 备注) dropped
        r'<c t="inlineStr"><is><t>待公示</t></is></c><c t="inlineStr"><is><t>无</t></is></c>', "", x))
    assert statuses(path)["E0003"] == ""
    message = refused(path, status_patch({"E0003": "公示中"}), "保存一次")
    assert "第 4 行" in message


def entries_book(path: Path, rows: list[list]) -> Path:
    """A workbook with only 积分登记 (header on row 1), written by openpyxl."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = S.ENTRIES.name
    ws.append(S.ENTRIES.headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def no_reference_book(tmp_path) -> Path:
    """积分登记 as some web exports write it: ``<c>`` without ``r`` (placed by position)."""
    path = entries_book(tmp_path / "无引用.xlsx",  # no gaps: a cell's place is its position
                        [["无" if v is None else v for v in row] for row in SAMPLE["entries"]])
    edit_sheet(path, S.ENTRIES.name, lambda x: re.sub(r' r="[A-Z]+[0-9]+"', "", x))
    return path


def test_cells_written_without_references_are_found_by_position(tmp_path):
    path = no_reference_book(tmp_path)
    assert statuses(path) == {"E0001": "已确认", "E0002": "公示中", "E0003": "待公示"}
    write_owned(path, patches=status_patch({"E0002": "已撤销"}), backup=False)
    assert statuses(path) == {"E0001": "已确认", "E0002": "已撤销", "E0003": "待公示"}


def test_keys_typed_as_numbers_or_full_width_text_are_found(tmp_path):
    path = entries_book(tmp_path / "数字编号.xlsx",
                        [[key] + row[1:] for key, row in zip([1001, "１００２", " 1003 "], SAMPLE["entries"])])
    write_owned(path, patches=status_patch({"1001": "已撤销", "1002": "公示中", "1003": "已确认"}), backup=False)
    rows = table_of(path, S.ENTRIES.name)
    assert [r[STATUS] for r in rows] == ["已撤销", "公示中", "已确认"]


# --- a workbook written by others, and read back by another application ---------------

@needs_lo
def test_patch_a_foreign_workbook_resaved_by_libreoffice_and_read_back(tmp_path):
    """Title row above the header, columns in another order, blank rows, 户号 as numbers, shared
    strings (LibreOffice): the toolkit finds the rows by 登记编号; LibreOffice reads the result."""
    made = write_foreign_workbook(tmp_path / "外来.xlsx")
    book = lo_convert(made, "xlsx", tmp_path / "lo")
    loaded, report = app.check(app.open_backend(book))
    entries = loaded.village.tables["entries"]
    wanted = {k: "已撤销" for k in entries["entry_id"].tolist()[::2]}
    old = read_zip(book)[0]
    write_owned(book, patches=status_patch(wanted), backup=False)

    after, _ = app.check(app.open_backend(book))
    got = dict(zip(after.village.tables["entries"]["entry_id"], after.village.tables["entries"]["status"]))
    expected = dict(zip(entries["entry_id"], entries["status"])) | wanted
    assert got == expected
    new = read_zip(book)[0]
    # the patched sheet, and the workbook part asking for a recalculation on opening (SPEC)
    assert [n for n in old if old[n] != new[n]] == ["xl/workbook.xml", entries_part(book)]
    assert new["xl/workbook.xml"].replace(b' fullCalcOnLoad="1"', b"", 1) == old["xl/workbook.xml"]

    again = lo_convert(book, "xlsx", tmp_path / "again")  # LibreOffice opens and re-saves it
    reread, _ = app.check(app.open_backend(again))
    e3 = reread.village.tables["entries"]
    assert dict(zip(e3["entry_id"], e3["status"])) == expected


def test_patch_the_demo_village_year_keeps_what_validation_sees(tmp_path):
    """The toolkit's own template (inline strings, tables, dropdowns): statuses change, nothing else."""
    from .conftest import build

    book = build(tmp_path / "永宁寺村.xlsx")
    loaded, report = app.check(app.open_backend(book))
    entries = loaded.village.tables["entries"]
    first = entries["entry_id"].iloc[0]
    write_owned(book, patches=status_patch({first: S.ENTRY_WITHDRAWN}), backup=False)
    after, report2 = app.check(app.open_backend(book))
    e2 = after.village.tables["entries"]
    assert e2.loc[e2["entry_id"] == first, "status"].tolist() == [S.ENTRY_WITHDRAWN]
    rest = e2["entry_id"] != first
    assert e2.loc[rest].drop(columns="status").equals(entries.loc[rest].drop(columns="status"))
    with zipfile.ZipFile(book) as z:
        assert z.testzip() is None


def test_patching_a_copy_leaves_the_original_alone(rich, tmp_path):
    copy = tmp_path / "副本.xlsm"
    shutil.copyfile(rich, copy)
    before = rich.read_bytes()
    write_owned(copy, patches=status_patch({"E0001": "已撤销"}), backup=False)
    assert rich.read_bytes() == before


# --- the writer and the reader never disagree about rows and columns -------------------------

def reader_statuses(path: Path) -> dict[str, str]:
    """登记编号 -> 状态 as the toolkit's reader sees 积分登记 (merged headers, any column order)."""
    frame = XlsxFile(path).read_table(S.ENTRIES).frame
    return dict(zip(to_code(frame["entry_id"]), frame["status"]))


def row_of(key: str, status: str = "待公示") -> list:
    return [key, "2026-01-05", "0001", "张三", "JC-01", "指标", 1, 5, "平时发现", "李四", "", status, ""]


def test_the_column_the_reader_took_is_the_one_patched(tmp_path):
    """登记编号（旧） left of the clerk's table: the reader takes the first 登记编号 it finds (A); the
    patch must name rows by that column too, not by the table's."""
    from openpyxl.worksheet.table import Table

    path = tmp_path / "两个编号.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = S.ENTRIES.name
    ws.append(["登记编号（旧）"] + S.ENTRIES.headers)
    ws.append(["E0002"] + row_of("E0001"))
    ws.append(["E0001"] + row_of("E0002"))
    ws.add_table(Table(displayName="tblEntries", ref="B1:N3"))
    wb.save(path)
    write_owned(path, patches=status_patch({"E0001": "已确认"}), backup=False)
    assert reader_statuses(path) == {"E0001": "已确认", "E0002": "待公示"}


def test_keys_spelled_with_escapes_are_read_as_the_reader_reads_them(tmp_path):
    """Excel writes a carriage return in text as _x000D_; the reader decodes and trims it."""
    path = entries_book(tmp_path / "转义.xlsx", [row_of("E0001"), row_of("E0002")])
    edit_sheet(path, S.ENTRIES.name, lambda x: x.replace("<t>E0002</t>", "<t>E0002_x000D_</t>"))
    write_owned(path, patches=status_patch({"E0002": "已确认"}), backup=False)
    assert statuses(path)["E0002\r"] == "已确认"


def test_rows_without_numbers_are_placed_where_their_cells_say(tmp_path):
    """Rows written without r, a blank row not written at all: a row's cells name its place."""
    path = entries_book(tmp_path / "无行号.xlsx", [row_of("E0001")])
    wb = openpyxl.load_workbook(path)
    for j, v in enumerate(row_of("E0002"), start=1):
        wb.active.cell(4, j, v)
    wb.save(path)
    edit_sheet(path, S.ENTRIES.name, lambda x: re.sub(r'<c r="([A-Z]+\d+)"( t="\w+")', r'<c\2 r="\1"',
                                                      re.sub(r'<row r="\d+"', "<row", x)))
    write_owned(path, patches=status_patch({"E0002": "已确认"}), backup=False)
    rows = calamine_rows(path, S.ENTRIES.name)
    assert [r[11] for r in rows] == [STATUS, "待公示", "", "已确认"]


def test_a_header_merged_over_two_rows_is_found_as_the_reader_finds_it(tmp_path):
    path = tmp_path / "两行表头.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = S.ENTRIES.name
    ws["A1"], ws["B1"] = KEY, "登记内容"
    for j, h in enumerate(S.ENTRIES.headers[1:], start=2):
        ws.cell(2, j, h)
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:M1")
    for r in (row_of("E0001"), row_of("E0002")):
        ws.append(r)
    wb.save(path)
    write_owned(path, patches=status_patch({"E0002": "已确认"}), backup=False)
    assert reader_statuses(path) == {"E0001": "待公示", "E0002": "已确认"}


def test_a_cell_in_a_merged_block_is_refused(tmp_path):
    path = entries_book(tmp_path / "合并.xlsx", [row_of("E0001"), row_of("E0002", None), row_of("E0003")])
    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("L2:L3")
    wb.save(path)
    message = refused(path, status_patch({"E0001": "已确认"}), "合并单元格")
    assert "第 2 行" in message and "L2" in message and "取消合并" in message


def test_a_cell_in_an_array_formulas_range_is_refused(tmp_path):
    path = entries_book(tmp_path / "数组公式.xlsx", [row_of("E0001"), row_of("E0002")])
    edit_sheet(path, S.ENTRIES.name, lambda x: re.sub(
        r'<c r="L2".*?</c>', '<c r="L2" t="str"><f t="array" ref="L2:L3">IF(H2:H3&gt;0,"待公示","")</f>'
        "<v>待公示</v></c>", x, count=1, flags=re.S).replace(
        cell_elements(x)["L3"], '<c r="L3" t="str"><v>待公示</v></c>'))
    message = refused(path, status_patch({"E0002": "已确认"}), "数组公式")
    assert "L3" in message


def test_what_does_not_read_back_as_planned_is_refused(tmp_path):
    """A row holding the same cell twice: readers keep the last one, the writer would set the
    first. Reading the new file back before it replaces the old one catches it."""
    path = entries_book(tmp_path / "重复单元格.xlsx", [row_of("E0001")])
    edit_sheet(path, S.ENTRIES.name, lambda x: x.replace(
        "</row></sheetData>", '<c r="L2" t="inlineStr"><is><t>公示中</t></is></c></row></sheetData>'))
    assert statuses(path)["E0001"] == "公示中"
    before = path.read_bytes()
    with pytest.raises(errors.WriteRefused, match="写入后核对.*第 2 行「状态」列") as exc:
        write_owned(path, patches=status_patch({"E0001": "已确认"}), now=NOW)
    assert "原文件保持不变" in str(exc.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, BACKUP_DIR_NAME])  # no temp left
    assert [b.read_bytes() for b in (tmp_path / BACKUP_DIR_NAME).iterdir()] == [before]
