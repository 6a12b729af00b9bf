"""A whole formatted sheet (the filled notice, 公示) written into a clerk's workbook from a
one-sheet image: what the image holds reads back from the workbook (values, merges, fonts,
fills, borders, wrapping, number formats, widths, heights, print settings), every other part of
the package stays byte for byte, replacing is idempotent, LibreOffice prints it, and the
toolkit's reader finds nothing new."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font
from openpyxl.styles.colors import Color

from jifen_xl import app, errors
from jifen_xl import schema as S
from jifen_xl.io.base import WriteRequest
from jifen_xl.io.xlsx import open_workbook
from jifen_xl.validate import validate

from .conftest import TODAY, build
from .fixtures_rich import read_zip, sheet_parts
from .lo import lo_convert, needs_lo
from .sheet_images import TITLE, build_notice_image
from .test_xlsxwrite import raw_members

NOTICE = S.NOTICE_SHEET_NAME


def write_image(book: Path, image: Path, name: str = NOTICE, **request):
    backend = open_workbook(book)
    return backend.apply(backend.plan_write(WriteRequest(images={name: image}, **request)), backup=False)


@pytest.fixture
def image(tmp_path) -> Path:
    return build_notice_image(tmp_path / "公示样表.xlsx")


def _font(c):
    f = c.font
    return (f.name, float(f.sz or 0), bool(f.b), bool(f.i), f.color.rgb if f.color is not None and f.color.type == "rgb"
            else (f.color.theme, f.color.tint) if f.color is not None else None)


def _fill(c):
    return (c.fill.fill_type, c.fill.fgColor.rgb if c.fill.fill_type else None)


def _border(c):
    b = c.border
    return tuple((s.style, s.color.rgb if s.color is not None else None) for s in (b.left, b.right, b.top, b.bottom))


def _align(c):
    a = c.alignment
    return (a.horizontal, a.vertical, bool(a.wrap_text))


def _look(ws):
    """Everything the notice shows, cell by cell, and how it prints."""
    cells = {c.coordinate: (c.value, _font(c), _fill(c), _border(c), _align(c), c.number_format)
             for row in ws.iter_rows() for c in row if c.value is not None or c.has_style}
    ps, pm = ws.page_setup, ws.page_margins
    return {
        "cells": cells,
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth},
        "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
        "page": (ps.paperSize, ps.orientation, ps.fitToWidth, ps.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage),
        "margins": (pm.left, pm.right, pm.top, pm.bottom, pm.header, pm.footer),
        "titles": ws.print_title_rows,
        "area": ws.print_area,
        "header_footer": (ws.oddHeader.center.text, ws.oddFooter.center.text),
        "centred": ws.print_options.horizontalCentered,
    }


def _sheet_of(path: Path, name: str = NOTICE):
    wb = openpyxl.load_workbook(path)
    return wb, wb[name]


# --- 1. the sheet reads back as the image ------------------------------------------------

def test_written_sheet_looks_exactly_like_the_image(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    result = write_image(book, image)
    assert result.added == (NOTICE,) and result.images == (NOTICE,)
    _wb, want = _sheet_of(image)
    wb, got = _sheet_of(book)
    assert wb.sheetnames[-1] == NOTICE  # added after the last sheet
    want_look, got_look = _look(want), _look(got)
    assert got_look["cells"]["A1"][0] == TITLE
    assert got_look["cells"]["A1"][1][:3] == ("宋体", 18.0, True)
    assert got_look["cells"]["A4"][2] == ("solid", "FFD9E1F2")
    assert got_look["cells"]["D6"][5] == "0.0;[Red]-0.0"
    assert got_look["cells"]["H6"][4][2] is True  # wrapped
    assert got_look["titles"] == "$3:$4" and got_look["area"] == "'公示'!$A$1:$H$68"
    for key in want_look:
        assert got_look[key] == want_look[key], key
    assert len(got_look["cells"]) > 400  # two pages of households


def test_the_workbooks_own_sheets_keep_their_look(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    before = {s: _look(openpyxl.load_workbook(book)[s]) for s in (S.ENTRIES.name, S.LEDGER.name)}
    write_image(book, image)
    wb = openpyxl.load_workbook(book)
    for name, look in before.items():
        assert _look(wb[name]) == look, name


def test_a_village_reads_the_same_and_no_new_finding_after_the_write(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")

    def findings():
        loaded = app.load(open_workbook(book))
        return validate(loaded.village, loaded.read_problems, today=TODAY).records()

    before = findings()
    write_image(book, image)
    write_image(book, build_notice_image(tmp_path / "四月.xlsx", households=12, month=4))
    assert findings() == before


# --- 2. everything else byte for byte --------------------------------------------------------

def test_rich_macro_workbook_keeps_every_other_part_byte_for_byte(rich, tmp_path, image):
    original = tmp_path / "original.xlsm"
    shutil.copyfile(rich, original)
    result = write_image(rich, image)
    assert result.added == (NOTICE,)
    old_parts, old_order = read_zip(original)
    new_parts, new_order = read_zip(rich)
    new_sheet = sheet_parts(new_parts)[NOTICE][0]
    assert new_order[:len(old_order)] == old_order and set(new_order) - set(old_order) == {new_sheet}
    changed = {n for n in old_parts if old_parts[n] != new_parts[n]}
    assert changed <= {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"}
    old_raw, new_raw = raw_members(original), raw_members(rich)
    for name in set(old_parts) - changed:
        assert new_raw[name] == old_raw[name], name  # not even recompressed
    for name in ("xl/vbaProject.bin", "xl/drawings/vmlDrawingButtons.vml", "xl/ctrlProps/ctrlProp1.xml",
                 "xl/media/image1.png", "xl/charts/chart1.xml", "xl/comments/comment2.xml"):
        assert name in old_parts and name not in changed
    wb = openpyxl.load_workbook(rich, keep_vba=True)
    assert wb.vba_archive is not None and "xl/vbaProject.bin" in wb.vba_archive.namelist()
    assert _look(wb[NOTICE]) == _look(openpyxl.load_workbook(image)[NOTICE])
    # the old names and the other sheets' print titles are all there, the notice's added
    old_wb = old_parts["xl/workbook.xml"].decode()
    new_wb = new_parts["xl/workbook.xml"].decode()
    for m in re.finditer(r"<definedName\b.*?</definedName>", old_wb):
        assert m.group(0) in new_wb
    # styles: the workbook's formats keep their indices (only appended to)
    old_styles, new_styles = old_parts["xl/styles.xml"].decode(), new_parts["xl/styles.xml"].decode()
    for lst in ("fonts", "fills", "borders", "cellXfs"):
        old_body = re.search(r"<%s\b[^>]*>(.*)</%s>" % (lst, lst), old_styles, re.S).group(1)
        new_body = re.search(r"<%s\b[^>]*>(.*)</%s>" % (lst, lst), new_styles, re.S).group(1)
        assert new_body.startswith(old_body), lst


def test_replacing_in_a_macro_workbook_changes_only_the_notice_and_its_print_area(rich, tmp_path, image):
    write_image(rich, image)
    first, order = read_zip(rich)
    first_raw = raw_members(rich)
    write_image(rich, build_notice_image(tmp_path / "四月.xlsx", households=25, month=4))
    second, second_order = read_zip(rich)
    notice = sheet_parts(second)[NOTICE][0]
    assert second_order == order
    assert {n for n in first if first[n] != second[n]} == {notice, "xl/workbook.xml"}
    second_raw = raw_members(rich)
    assert all(second_raw[n] == first_raw[n] for n in first if n not in (notice, "xl/workbook.xml"))
    assert openpyxl.load_workbook(rich, keep_vba=True)[NOTICE].print_area == "'公示'!$A$1:$H$33"


def test_the_old_notices_formula_cells_leave_the_calc_chain(rich, tmp_path):
    """Excel "repairs" a workbook whose calcChain names a formula cell that is not there."""
    from .fixtures_rich import rewrite_zip

    image = build_notice_image(tmp_path / "公示样表.xlsx")
    wb = openpyxl.load_workbook(image)
    wb[NOTICE]["G66"] = "=SUM(E5:E64)"
    wb.save(image)
    write_image(rich, image)
    parts, order = read_zip(rich)
    sheet_id = re.search(r'<sheet [^>]*name="公示" sheetId="(\d+)"', parts["xl/workbook.xml"].decode()).group(1)
    chain = parts["xl/calcChain.xml"].decode()
    others = re.findall(r"<c [^>]*/>", chain)
    parts["xl/calcChain.xml"] = chain.replace("</calcChain>", f'<c r="G66" i="{sheet_id}"/></calcChain>').encode()
    rewrite_zip(rich, parts, order)  # as Excel saves it after calculating the notice
    write_image(rich, build_notice_image(tmp_path / "四月.xlsx", households=8, month=4))
    chain = read_zip(rich)[0]["xl/calcChain.xml"].decode()
    assert f'i="{sheet_id}"' not in chain and len(re.findall(r"<c [^>]*/>", chain)) == len(others)


def _add_clerk_sheets(book: Path) -> None:
    """A clerk's workbook that already holds a 公示 (in the middle of the tabs, with a comment)
    and an archived copy 「公示（3月存档）」 of an earlier notice."""
    wb = openpyxl.load_workbook(book)
    old = wb.create_sheet(NOTICE, 7)
    old["A1"] = "旧的公示"
    old["B30"] = "=1+1"
    old["A1"].comment = openpyxl.comments.Comment("村文书的批注", "文书")
    archived = wb.create_sheet("公示（3月存档）", 8)
    archived["A1"] = "三月的公示（存档）"
    archived["A2"] = 42
    wb.save(book)


def test_replacing_keeps_tab_place_sheet_id_and_the_archived_copy(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    _add_clerk_sheets(book)
    before_parts, _ = read_zip(book)
    before_sheets = sheet_parts(before_parts)
    wb_before = before_parts["xl/workbook.xml"].decode()
    old_id = re.search(r'<sheet name="公示" sheetId="(\d+)"', wb_before).group(1)
    order = openpyxl.load_workbook(book).sheetnames
    result = write_image(book, image)
    assert result.added == ()
    parts, _ = read_zip(book)
    sheets = sheet_parts(parts)
    assert openpyxl.load_workbook(book).sheetnames == order
    assert re.search(r'<sheet [^>]*name="公示" sheetId="(\d+)"', parts["xl/workbook.xml"].decode()).group(1) == old_id
    assert sheets[NOTICE][0] == before_sheets[NOTICE][0]  # same part
    archived = before_sheets["公示（3月存档）"][0]
    assert parts[archived] == before_parts[archived]
    # the old notice's own parts (its comment and the comment's drawing) went with it; nothing dangles
    old_rels = before_parts[re.sub(r"([^/]+)$", r"_rels/\1.rels", before_sheets[NOTICE][0])].decode()
    own = {"xl/" + t.removeprefix("../").removeprefix("/xl/") for t in re.findall(r'Target="([^"]+)"', old_rels)}
    assert own and set(parts) == set(before_parts) - own - {re.sub(r"([^/]+)$", r"_rels/\1.rels",
                                                                   before_sheets[NOTICE][0])}
    for name in re.findall(r'PartName="/([^"]+)"', parts["[Content_Types].xml"].decode()):
        assert name in parts, name
    for name, data in parts.items():
        if name.endswith(".rels"):
            for target in re.findall(r'Target="([^"]+)"(?![^>]*External)', data.decode()):
                folder = name.rsplit("_rels/", 1)[0]
                resolved = target.lstrip("/") if target.startswith("/") else \
                    str(Path(folder, target)).replace("\\", "/")
                resolved = re.sub(r"[^/]+/\.\./", "", resolved)
                assert resolved in parts, (name, target)
    assert openpyxl.load_workbook(book)["公示（3月存档）"]["A1"].value == "三月的公示（存档）"
    got = openpyxl.load_workbook(book)[NOTICE]
    assert got["A1"].value == TITLE and got["B30"].value != "=1+1" and got["A1"].comment is None
    # the print names belong to the notice's tab index, no other sheet's
    index = order.index(NOTICE)
    names = re.findall(r'<definedName name="(_xlnm\.Print_\w+)" localSheetId="%d">([^<]*)<' % index,
                       parts["xl/workbook.xml"].decode())
    assert sorted(names) == [("_xlnm.Print_Area", "'公示'!$A$1:$H$68"), ("_xlnm.Print_Titles", "'公示'!$3:$4")]


def test_a_notice_named_with_surrounding_spaces_is_replaced_and_its_print_names_follow(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    wb = openpyxl.load_workbook(book)
    wb.create_sheet(" 公示 ")["A1"] = "旧的公示"
    wb.save(book)
    assert write_image(book, image).added == ()
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames.count(" 公示 ") == 1 and NOTICE not in wb.sheetnames
    ws = wb[" 公示 "]
    assert ws["A1"].value == TITLE and ws.print_area == "' 公示 '!$A$1:$H$68" and ws.print_title_rows == "$3:$4"


def test_replacing_twice_is_idempotent_and_styles_do_not_grow(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    write_image(book, image)
    first, _ = read_zip(book)
    april = build_notice_image(tmp_path / "四月.xlsx", households=30, month=4)
    write_image(book, april)
    second, _ = read_zip(book)
    assert second["xl/styles.xml"] == first["xl/styles.xml"]  # the same formats, reused
    write_image(book, april)
    third, _ = read_zip(book)
    assert third == second
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames.count(NOTICE) == 1
    assert _look(wb[NOTICE]) == _look(openpyxl.load_workbook(april)[NOTICE])
    assert len(re.findall(r'localSheetId="%d"' % wb.sheetnames.index(NOTICE),
                          third["xl/workbook.xml"].decode())) == 2


def test_written_together_with_a_table_and_a_patch(tmp_path, image):
    from jifen_xl.core.ledger import compute_ledger
    from jifen_xl.io.base import ColumnPatch

    book = build(tmp_path / "永宁寺村.xlsx")
    backend = open_workbook(book)
    ledger = compute_ledger(app.load(backend).village)
    first = backend.read_table(S.ENTRIES).codes("entry_id").iloc[0]
    result = backend.apply(backend.plan_write(WriteRequest(
        {"ledger": ledger}, patches=[ColumnPatch("entries", "status", {first: S.ENTRY_PUBLIC})],
        images={NOTICE: image})), backup=False)
    assert result.tables == ("ledger",) and result.patched == 1 and result.images == (NOTICE,)
    again = open_workbook(book)
    assert len(again.read_table(S.LEDGER).frame) == len(ledger)
    assert openpyxl.load_workbook(book)[NOTICE]["A1"].value == TITLE


# --- 3. what the image brings that a workbook reads differently ------------------------------

def _retheme(book: Path, accent1: str) -> None:
    """Give the workbook's theme another first accent colour (as a village's own theme would)."""
    parts, order = read_zip(book)
    theme = parts["xl/theme/theme1.xml"].decode()
    theme = re.sub(r"(<a:accent1>\s*<a:srgbClr val=\")[0-9A-Fa-f]{6}", r"\g<1>" + accent1, theme, count=1)
    parts["xl/theme/theme1.xml"] = theme.encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name in order:
            z.writestr(name, parts[name])


def test_theme_colours_keep_the_colour_the_image_showed(tmp_path):
    image = build_notice_image(tmp_path / "公示样表.xlsx")
    wb = openpyxl.load_workbook(image)
    ws = wb[NOTICE]
    ws["A3"].font = Font(name="黑体", size=12, color=Color(theme=4))  # accent 1: 4F81BD in openpyxl's theme
    ws["E67"].font = Font(name="宋体", size=11, color=Color(theme=4, tint=0.3999755851924192))  # 40% lighter
    wb.save(image)
    book = build(tmp_path / "永宁寺村.xlsx")
    _retheme(book, "C00000")
    write_image(book, image)
    got = openpyxl.load_workbook(book)[NOTICE]
    assert got["A3"].font.color.rgb == "FF4F81BD"
    lighter = got["E67"].font.color.rgb
    # Excel shows "Accent 1, lighter 40%" of 4F81BD as 95B3D7
    assert all(abs(int(lighter[i:i + 2], 16) - int("FF95B3D7"[i:i + 2], 16)) <= 2 for i in (2, 4, 6)), lighter
    # the same theme: the reference stays a theme reference
    same = build(tmp_path / "同主题.xlsx")
    write_image(same, image)
    assert openpyxl.load_workbook(same)[NOTICE]["A3"].font.color.theme == 4


def test_dates_stay_the_same_day_in_a_1904_workbook(tmp_path):
    image = build_notice_image(tmp_path / "公示样表.xlsx")
    wb = openpyxl.load_workbook(image)
    wb[NOTICE]["E68"] = dt.date(2026, 4, 1)
    wb[NOTICE]["E68"].number_format = "yyyy\"年\"m\"月\"d\"日\""
    wb.save(image)
    book = build(tmp_path / "永宁寺村.xlsx")
    bwb = openpyxl.load_workbook(book)
    bwb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    bwb.save(book)
    write_image(book, image)
    got = openpyxl.load_workbook(book)[NOTICE]["E68"]
    assert got.value == dt.datetime(2026, 4, 1) and got.number_format == "yyyy\"年\"m\"月\"d\"日\""


def test_no_second_selected_tab(tmp_path):
    """The image's sheet is its workbook's selected tab; two selected tabs would group the sheets
    in Excel (typing into one types into both)."""
    image = build_notice_image(tmp_path / "公示样表.xlsx")
    wb = openpyxl.load_workbook(image)
    wb[NOTICE].sheet_view.tabSelected = True
    wb.save(image)
    assert b'tabSelected="1"' in read_zip(image)[0]["xl/worksheets/sheet1.xml"]
    book = build(tmp_path / "永宁寺村.xlsx")

    def selected():
        parts, _ = read_zip(book)
        return sorted(n for n, data in parts.items() if n.startswith("xl/worksheets/sheet")
                      and b'tabSelected="1"' in data)

    before = selected()
    write_image(book, image)
    assert selected() == before and len(before) == 1


# --- 4. refusals -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("积分登记", "工作表「积分登记」是村里填写的「积分登记」，工具不会用整张样表覆盖它，没有写入。"
             "请检查要写入的工作表名称（工具整张写入的版式工作表只有：公示）。"),
    ("积分登记（2026）", "工作表「积分登记（2026）」是村里填写的「积分登记」，工具不会用整张样表覆盖它，没有写入。"
                    "请检查要写入的工作表名称（工具整张写入的版式工作表只有：公示）。"),
    ("月度台账", "工作表「月度台账」是工具按表格（tblLedger）逐行写入的工作表，不能用整张样表替换，工具没有写入。"
             "请检查要写入的工作表名称（工具整张写入的版式工作表只有：公示）。"),
    ("公示（3月存档）", "工具不管理名为「公示（3月存档）」的版式工作表，没有写入。工具整张写入的版式工作表只有：公示。"),
])
def test_refuses_a_name_that_is_not_a_free_layout_sheet(tmp_path, image, name, message):
    book = build(tmp_path / "永宁寺村.xlsx")
    before = book.read_bytes()
    with pytest.raises(errors.WriteRefused) as info:
        write_image(book, image, name=name)
    assert str(info.value) == message
    assert book.read_bytes() == before


def test_refuses_an_image_of_two_sheets_or_none(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    before = book.read_bytes()
    wb = openpyxl.load_workbook(image)
    wb.create_sheet("另一页")
    two = tmp_path / "两页.xlsx"
    wb.save(two)
    with pytest.raises(errors.WriteRefused) as info:
        write_image(book, two)
    assert str(info.value) == ("用来生成工作表「公示」的样表文件「两页.xlsx」应当只有一个工作表，实际有 2 个，工具没有写入工作簿。"
                               "请重新生成「公示」（检查公示模板），再重试。")
    with pytest.raises(errors.WriteRefused) as info:
        write_image(book, tmp_path / "没有.xlsx")
    assert str(info.value).startswith("用来生成工作表「公示」的样表文件「没有.xlsx」无法打开（")
    assert book.read_bytes() == before


def test_refuses_an_image_with_parts_of_its_own(tmp_path, image):
    """A comment (like a picture or a table) is a part of its own the writer does not carry over."""
    wb = openpyxl.load_workbook(image)
    wb[NOTICE]["H66"].comment = openpyxl.comments.Comment("盖章处", "文书")
    wb.save(image)
    book = build(tmp_path / "永宁寺村.xlsx")
    before = book.read_bytes()
    with pytest.raises(errors.WriteRefused) as info:
        write_image(book, image)
    assert str(info.value) == ("用来生成工作表「公示」的样表文件「公示样表.xlsx」含有图片、批注、表格、控件或外部链接"
                               "（工具只能写入单元格和版式），工具没有写入工作簿。请重新生成「公示」（检查公示模板），再重试。")
    assert book.read_bytes() == before


def test_a_workbook_that_is_not_a_village_workbook_gets_no_notice(tmp_path, image):
    other = tmp_path / "工资表.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "工资"
    wb.save(other)
    before = other.read_bytes()
    with pytest.raises(errors.WriteRefused) as info:
        write_image(other, image)
    assert str(info.value) == ("工作簿「工资表.xlsx」不是村级积分工作簿（缺少「积分登记」「住户名册」等工作表），"
                               "工具没有把「公示」写进去。请确认选择的是村里的积分工作簿。")
    assert other.read_bytes() == before


def test_open_in_excel_and_changed_since_read_are_refused(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    lock = tmp_path / "~$永宁寺村.xlsx"
    lock.write_bytes(b"x" * 165)
    with pytest.raises(errors.WorkbookLocked):
        write_image(book, image)
    lock.unlink()
    backend = open_workbook(book)
    wb = openpyxl.load_workbook(book)  # a clerk saves meanwhile
    wb[S.ENTRIES.name]["N2"] = "改过"
    wb.save(book)
    before = book.read_bytes()
    with pytest.raises(errors.WriteRefused) as info:
        backend.plan_write(WriteRequest(images={NOTICE: image}))
    assert "在工具读取之后又被修改过" in str(info.value)
    assert book.read_bytes() == before


def test_backup_is_kept_before_the_write(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    before = book.read_bytes()
    backend = open_workbook(book)
    result = backend.apply(backend.plan_write(WriteRequest(images={NOTICE: image})))
    assert result.backup is not None and result.backup.read_bytes() == before


# --- 5. LibreOffice --------------------------------------------------------------------------

@needs_lo
def test_libreoffice_prints_the_notice_and_reads_what_it_saved(tmp_path, image):
    book = build(tmp_path / "永宁寺村.xlsx")
    write_image(book, image)
    # LibreOffice saves the notice with shared strings: that image goes in too
    resaved = lo_convert(image, "xlsx", tmp_path / "lo")
    assert b"sharedStrings" in zipfile.ZipFile(resaved).read("[Content_Types].xml")
    write_image(book, resaved)
    got, want = _look(openpyxl.load_workbook(book)[NOTICE]), _look(openpyxl.load_workbook(resaved)[NOTICE])
    assert got["cells"]["A1"][0] == TITLE
    for key in want:
        assert got[key] == want[key], key
    # LibreOffice opens the written workbook itself and prints it: the notice's pages among them
    pdf = lo_convert(book, "pdf", tmp_path / "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert TITLE in text
    notice = text[text.index(TITLE):]
    assert notice.count("一、本月积分情况") >= 2  # the print titles repeat on the notice's second page
    assert "村民60号" in notice and "永宁寺村村民委员会" in notice
    footers = re.findall(r"第 (\d+) 页，共 (\d+) 页", notice)  # the footer, page numbers filled in
    assert len(footers) >= 2 and footers[-1][0] == footers[-1][1]


def test_conditional_formats_keep_their_look(tmp_path):
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill

    image = build_notice_image(tmp_path / "公示样表.xlsx")
    wb = openpyxl.load_workbook(image)
    wb[NOTICE].conditional_formatting.add("D5:D64", CellIsRule(
        operator="lessThan", formula=["0"], font=Font(color="FFC00000", bold=True),
        fill=PatternFill(bgColor="FFFFE0E0", fill_type="solid")))
    wb.save(image)
    book = build(tmp_path / "永宁寺村.xlsx")
    wb = openpyxl.load_workbook(book)  # the workbook has differential formats of its own
    wb[S.ENTRIES.name].conditional_formatting.add("H2:H100", CellIsRule(
        operator="greaterThan", formula=["100"], font=Font(color="FF0000FF")))
    wb.save(book)
    write_image(book, image)
    got = openpyxl.load_workbook(book)
    rules = [r for cf in got[NOTICE].conditional_formatting for r in cf.rules]
    assert [(r.operator, r.formula) for r in rules] == [("lessThan", ["0"])]
    dxf = rules[0].dxf
    assert (dxf.font.color.rgb, bool(dxf.font.b), dxf.fill.bgColor.rgb) == ("FFC00000", True, "FFFFE0E0")
    theirs = [r for cf in got[S.ENTRIES.name].conditional_formatting for r in cf.rules]
    assert theirs[0].dxf.font.color.rgb == "FF0000FF"


def test_vba_code_names_are_the_workbooks_own(tmp_path):
    """The replaced sheet keeps its VBA code name; the image's own (a template saved by Excel has
    one, maybe another sheet's name in the clerk's project) never comes over."""
    image = build_notice_image(tmp_path / "公示样表.xlsx")
    wb = openpyxl.load_workbook(image)
    wb[NOTICE].sheet_properties.codeName = "Sheet3"
    wb.save(image)
    book = build(tmp_path / "永宁寺村.xlsx")
    write_image(book, image)
    parts, _ = read_zip(book)
    assert b"codeName" not in parts[sheet_parts(parts)[NOTICE][0]]
    wb = openpyxl.load_workbook(book)
    wb[NOTICE].sheet_properties.codeName = "公示页"
    wb.save(book)
    write_image(book, image)
    parts, _ = read_zip(book)
    assert re.findall(rb'codeName="([^"]*)"', parts[sheet_parts(parts)[NOTICE][0]]) == ["公示页".encode()]


# --- 6. the styles merge on its own (text in, text out) -------------------------------------------

TARGET_STYLES = (
    '<x:styleSheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<x:numFmts count="1"><x:numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></x:numFmts>'
    '<x:fonts count="1"><x:font><x:sz val="11"/><x:name val="宋体"/></x:font></x:fonts>'
    '<x:fills count="2"><x:fill><x:patternFill patternType="none"/></x:fill>'
    '<x:fill><x:patternFill patternType="gray125"/></x:fill></x:fills>'
    '<x:borders count="1"><x:border><x:left/><x:right/><x:top/><x:bottom/><x:diagonal/></x:border></x:borders>'
    '<x:cellStyleXfs count="1"><x:xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></x:cellStyleXfs>'
    '<x:cellXfs count="2"><x:xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<x:xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></x:cellXfs>'
    '<x:cellStyles count="1"><x:cellStyle name="Normal" xfId="0" builtinId="0"/></x:cellStyles>'
    '<x:extLst><x:ext uri="{x14}"><x14:dxfs xmlns:x14="urn:x14" count="0"/></x:ext></x:extLst>'
    '</x:styleSheet>')
IMAGE_STYLES = (
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="0.##"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd"/>'
    '</numFmts><fonts count="2"><font><sz val="11"/><name val="宋体"/></font>'
    '<font><b val="1"/><sz val="18"/><name val="黑体"/><scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<dxfs count="1"><dxf><font><color rgb="FFFF0000"/></font></dxf></dxfs></styleSheet>')


def test_styles_merge_renumbers_clashing_number_formats_in_the_targets_prefix():
    from jifen_xl.ooxml.stylemerge import merge_styles

    text, xfs, dxfs = merge_styles(TARGET_STYLES, IMAGE_STYLES)
    assert '<x:numFmts count="2"><x:numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>' in text  # kept first
    # 0.## clashed with the workbook's 164: it takes 165; yyyy-mm-dd is the workbook's 164 already
    assert '<x:numFmt numFmtId="165" formatCode="0.##"/>' in text and text.count("yyyy-mm-dd") == 1
    # the image's first font is the workbook's font 0; its bold 黑体 is appended without its scheme
    assert '<x:fonts count="2">' in text and "<x:font><x:b val=\"1\"/><x:sz val=\"18\"/><x:name val=\"黑体\"/></x:font>" in text
    assert xfs == ["0", "2", "1"]  # xf 0 and the date format exist already; one new format (named style -> Normal)
    assert '<x:xf numFmtId="165" fontId="1" fillId="0" borderId="0" xfId="0"/>' in text
    # the dxfs list did not exist (the one in extLst is another): made before extLst, in the prefix
    assert dxfs == ["0"] and '<x:dxfs count="1"><x:dxf><x:font><x:color rgb="FFFF0000"/></x:font></x:dxf></x:dxfs>' \
        '<x:extLst>' in text
    again, xfs2, _ = merge_styles(text, IMAGE_STYLES)
    assert again == text and xfs2 == xfs
