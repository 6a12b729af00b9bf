"""An owned sheet the clerk's workbook lacks (made before the sheet was declared, or by hand
without it) is added by the lossless writer: after the last sheet, with its header, an Excel
table, widths, frozen header and print setup; every other part stays as it was."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from jifen_xl import errors
from jifen_xl import schema as S
from jifen_xl.io import look
from jifen_xl.io.xlsxwrite import write_owned

from .fixtures_rich import read_zip, rewrite_zip, sheet_parts
from .lo import lo_convert, needs_lo
from .test_cli import run
from .test_xlsxwrite import NOW, calamine_rows, findings_frame, ledger_frame, raw_members

WB, WB_RELS, CT = "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"
STYLES = "xl/styles.xml"


def drop_sheet(path: Path, name: str) -> None:
    """Remove sheet ``name`` from the package as if it had never been there: its entry in the
    workbook, its own defined names (the others' sheet positions follow), its relationship, its
    part, its tables and their content types."""
    parts, order = read_zip(path)
    part, _ = sheet_parts(parts)[name]
    wb = parts[WB].decode()
    rid = re.search(r'<sheet name="%s"[^>]*r:id="([^"]+)"' % name, wb).group(1)
    index = re.findall(r'<sheet name="([^"]*)"', wb).index(name)
    wb = re.sub(r'<definedName [^>]*localSheetId="%d"[^>]*>[^<]*</definedName>' % index, "", wb)
    wb = re.sub(r'(<definedName [^>]*localSheetId=")(\d+)"',
                lambda m: m.group(1) + str(int(m.group(2)) - (int(m.group(2)) > index)) + '"', wb)
    parts[WB] = re.sub(r'<sheet name="%s"[^>]*/>' % name, "", wb).encode()
    parts[WB_RELS] = re.sub(r'<Relationship [^>]*Id="%s"[^>]*/>' % rid, "", parts[WB_RELS].decode()).encode()
    folder, base = part.rsplit("/", 1)
    rels = f"{folder}/_rels/{base}.rels"
    gone = {part, rels} | {posixpath.normpath(posixpath.join(folder, t)).lstrip("/") for t in
                           re.findall(r'Target="([^"]*tables/[^"]*)"', parts.get(rels, b"").decode())}
    ct = parts[CT].decode()
    for g in gone:
        ct = re.sub(r'<Override PartName="/%s"[^>]*/>' % re.escape(g), "", ct)
    parts[CT] = ct.encode()
    rewrite_zip(path, parts, [n for n in order if n not in gone])
    assert name not in sheet_parts(read_zip(path)[0])


def without(text: str, *pieces: str) -> str:
    """``text`` with each of ``pieces`` (which must be there) taken out once."""
    for piece in pieces:
        assert piece in text, piece
        text = text.replace(piece, "", 1)
    return text


#: The styles part's lists, and the element each holds.
STYLE_LISTS = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border",
               "cellStyleXfs": "xf", "cellXfs": "xf", "cellStyles": "cellStyle", "dxfs": "dxf"}


def style_lists(text: str) -> tuple[str, dict[str, list[str]]]:
    """The styles part without its lists' contents, and each list's items in order."""
    items = {}
    for name, child in STYLE_LISTS.items():
        m = re.search(r"<%s\b[^>]*?(?:/>|>(.*?)</%s>)" % (name, name), text, re.S)
        body = (m.group(1) or "") if m else ""
        items[name] = re.findall(r"<%s\b[^>]*?(?:/>|>.*?</%s>)" % (child, child), body, re.S)
        if m:
            text = text[:m.start()] + f"<{name}/>" + text[m.end():]
    return text, items


def assert_only_appended(old: str, new: str, grown: dict[str, int]) -> None:
    """Every item of ``old``'s style lists keeps its index in ``new``; ``grown`` says how many
    items each list gained at its end; nothing else in the part changed."""
    old_rest, old_items = style_lists(old)
    new_rest, new_items = style_lists(new)
    assert new_rest == old_rest
    for name, items in old_items.items():
        assert new_items[name][:len(items)] == items, name
        assert len(new_items[name]) - len(items) == grown.get(name, 0), name
        if items or grown.get(name):
            assert re.search(r'<%s count="%d"' % (name, len(new_items[name])), new), name


def test_missing_findings_sheet_is_added_and_nothing_else_changes(rich):
    drop_sheet(rich, S.FINDINGS.name)
    before, _ = read_zip(rich)
    before_raw = raw_members(rich)
    result = write_owned(rich, {"findings": findings_frame()}, now=NOW)
    assert result.added == (S.FINDINGS.name,)

    after, order = read_zip(rich)
    changed = sorted(n for n in before if before[n] != after[n])
    assert changed == sorted([WB, WB_RELS, CT, STYLES])
    unchanged_raw = {n for n in before_raw if n not in changed}
    assert all(raw_members(rich)[n] == before_raw[n] for n in unchanged_raw)
    new_parts = [n for n in order if n not in before]
    part = sheet_parts(after)[S.FINDINGS.name][0]
    assert part in new_parts and any(n.startswith("xl/tables/") for n in new_parts)

    # workbook: one sheet after the last, one print-titles name; nothing else touched
    new_wb = after[WB].decode()
    sheet_tag = re.search(r'<sheet [^>]*name="%s"[^>]*/>' % S.FINDINGS.name, new_wb).group(0)
    rid = re.search(r'r:id="([^"]+)"', sheet_tag).group(1)
    rns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    assert sheet_tag == (f'<sheet xmlns:r="{rns}" name="{S.FINDINGS.name}" sheetId="{len(S.SHEETS) + 1}" '
                         f'r:id="{rid}"/>')
    titles = (f'<definedName name="_xlnm.Print_Titles" localSheetId="{len(S.SHEETS)}">\'{S.FINDINGS.name}\'!$1:$1'
              "</definedName>")
    assert new_wb.index(sheet_tag) + len(sheet_tag) == new_wb.index("</sheets>")
    assert without(new_wb, sheet_tag, titles) == before[WB].decode()
    new_rels = after[WB_RELS].decode()
    rel = re.search(r'<Relationship Id="%s"[^>]*/>' % rid, new_rels).group(0)
    assert f'Target="{posixpath.relpath(part, "xl")}"' in rel
    assert without(new_rels, rel) == before[WB_RELS].decode()
    new_ct = after[CT].decode()
    overrides = [re.search(r'<Override PartName="/%s"[^>]*/>' % re.escape(n), new_ct).group(0)
                 for n in new_parts if not n.endswith(".rels")]
    assert len(overrides) == 2 and without(new_ct, *overrides) == before[CT].decode()
    # styles: a font, a fill, a border and cell formats appended (the header row; text wrapping at
    # the top for 问题说明 and 修改建议; the short columns aligned to the top); nothing renumbered
    assert_only_appended(before[STYLES].decode(), after[STYLES].decode(),
                         {"fonts": 1, "fills": 1, "borders": 1, "cellXfs": 3})

    rows = calamine_rows(rich, S.FINDINGS.name)
    assert rows[0] == S.FINDINGS.headers
    assert [r[6] for r in rows[1:]] == findings_frame()["rule"].tolist()


def test_the_added_sheet_looks_like_the_templates_to_another_reader(rich):
    drop_sheet(rich, S.LEDGER.name)
    write_owned(rich, {"ledger": ledger_frame(4)}, backup=False)
    wb = openpyxl.load_workbook(rich)
    ws = wb[S.LEDGER.name]
    assert wb.sheetnames[-1] == S.LEDGER.name
    assert ws.freeze_panes == "A2"
    assert ws.print_title_rows in ("1:1", "$1:$1")
    assert ws.page_setup.paperSize in (9, "9")
    (table,) = ws.tables.values()
    assert table.name == S.LEDGER.table and table.ref == "A1:K5"
    assert [c.name for c in table.tableColumns] == S.LEDGER.headers
    assert ws.column_dimensions["A"].width == S.LEDGER.columns[0].width
    # the clerk's own defined names and sheets are where they were
    assert wb.defined_names["村名"].attr_text == "'基本信息'!$B$4"
    assert wb.sheetnames[:-1] == [n for n in [S.HELP_SHEET_NAME] + [s.name for s in S.SHEETS] if n != S.LEDGER.name]


def test_table_name_taken_elsewhere_gets_a_fresh_one(rich):
    drop_sheet(rich, S.FINDINGS.name)
    parts, order = read_zip(rich)
    # the clerk named a table of 积分兑换 like ours
    name = next(n for n, d in parts.items() if n.startswith("xl/tables/") and b'"tblExchanges"' in d)
    parts[name] = parts[name].replace(b'"tblExchanges"', f'"{S.FINDINGS.table}"'.encode())
    rewrite_zip(rich, parts, order)
    write_owned(rich, {"findings": findings_frame()}, backup=False)
    wb = openpyxl.load_workbook(rich)
    assert list(wb[S.FINDINGS.name].tables) == [f"{S.FINDINGS.table}2"]
    ids = [int(re.search(rb' id="(\d+)"', d).group(1)) for n, d in read_zip(rich)[0].items()
           if n.startswith("xl/tables/")]
    assert len(ids) == len(set(ids))


def test_a_workbook_without_defined_names_gets_them_in_schema_order(tmp_path):
    path = tmp_path / "无名称.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "草稿"
    for spec in S.CLERK_SHEETS:  # a village workbook by hand: the clerk's sheets with their headers
        wb.create_sheet(spec.name).append(spec.headers)
    wb.save(path)
    write_owned(path, {"findings": findings_frame()}, backup=False)
    text = read_zip(path)[0][WB].decode()
    assert text.index("</sheets>") < text.index("<definedNames>") < text.index("<calcPr")
    assert openpyxl.load_workbook(path)[S.FINDINGS.name].print_title_rows in ("1:1", "$1:$1")


@needs_lo
def test_libreoffice_opens_the_added_sheet_and_keeps_it(rich, tmp_path):
    drop_sheet(rich, S.FINDINGS.name)
    write_owned(rich, {"findings": findings_frame()}, backup=False)
    again = lo_convert(rich, "xlsx", tmp_path / "lo")
    rows = calamine_rows(again, S.FINDINGS.name)
    assert rows[0] == S.FINDINGS.headers
    assert [r[0] for r in rows[1:]] == findings_frame()["level"].tolist()
    assert calamine_rows(again, S.ENTRIES.name)[1][0] == "E0001"


def test_validate_and_ledger_add_their_sheets_and_say_so(village_book):
    for spec in (S.FINDINGS, S.LEDGER):
        drop_sheet(village_book, spec.name)
    first = run("validate", village_book)
    assert first.exit_code == 0, first.output
    assert f"工作簿原来没有「{S.FINDINGS.name}」工作表，已在最后新增。" in first.output
    ledger = run("ledger", village_book)
    assert ledger.exit_code == 0, ledger.output
    assert f"工作簿原来没有「{S.LEDGER.name}」工作表，已在最后新增。" in ledger.output
    again = run("validate", village_book)
    assert again.exit_code == 0 and "新增" not in again.output
    wb = openpyxl.load_workbook(village_book, read_only=True)
    names = wb.sheetnames
    wb.close()  # a read-only workbook keeps its file open until closed
    assert names[-2:] == [S.FINDINGS.name, S.LEDGER.name] and names.count(S.FINDINGS.name) == 1
    assert len(calamine_rows(village_book, S.LEDGER.name)) > 1


def test_a_strict_workbook_is_not_extended_but_refused_with_the_template_advice(rich):
    drop_sheet(rich, S.FINDINGS.name)
    parts, order = read_zip(rich)
    parts[WB] = parts[WB].replace(b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                                  b'xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"')
    rewrite_zip(rich, parts, order)
    before = rich.read_bytes()
    with pytest.raises(errors.WriteRefused, match="模板工作簿中把「校验结果」工作表"):
        write_owned(rich, {"findings": findings_frame()})
    assert rich.read_bytes() == before


def test_a_workbook_that_is_not_a_village_workbook_gets_no_sheet(tmp_path):
    path = tmp_path / "别的表.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "草稿"
    wb.create_sheet(S.ENTRIES.name).append(S.ENTRIES.headers)  # one clerk sheet of nine
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(errors.WriteRefused, match="中没有工作表「校验结果」"):
        write_owned(path, {"findings": findings_frame()})
    assert path.read_bytes() == before


def test_a_workbook_declaring_its_namespaces_on_each_sheet_opens_after_the_addition(rich):
    """The Open XML SDK writes <x:workbook> with xmlns:r on every <x:sheet>, not on the root."""
    rns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    drop_sheet(rich, S.FINDINGS.name)
    parts, order = read_zip(rich)
    wb = parts[WB].decode().replace(f' xmlns:r="{rns}"', "")
    wb = re.sub(r"<(/?)(?![?!])([A-Za-z])", r"<\1x:\2", wb).replace(f'xmlns="{main}"', f'xmlns:x="{main}"')
    parts[WB] = re.sub(r"(<x:sheet [^>]*?)\s*/>", r'\1 xmlns:r="%s"/>' % rns, wb).encode()
    rewrite_zip(rich, parts, order)
    write_owned(rich, {"findings": findings_frame()}, backup=False)
    assert openpyxl.load_workbook(rich).sheetnames[-1] == S.FINDINGS.name


def test_an_empty_defined_names_element_is_filled_not_repeated(rich):
    drop_sheet(rich, S.FINDINGS.name)
    parts, order = read_zip(rich)
    parts[WB] = re.sub(rb"<definedNames>.*?</definedNames>", b"<definedNames />", parts[WB])
    rewrite_zip(rich, parts, order)
    write_owned(rich, {"findings": findings_frame()}, backup=False)
    text = read_zip(rich)[0][WB].decode()
    assert text.count("<definedNames") == 1 and "_xlnm.Print_Titles" in text


def test_two_sheets_added_in_one_write_get_their_own_tables(rich):
    for spec in (S.LEDGER, S.STOCK):
        drop_sheet(rich, spec.name)
    result = write_owned(rich, {"ledger": ledger_frame(2), "stock": pd.DataFrame(columns=S.STOCK.fields)},
                         backup=False)
    assert result.added == (S.LEDGER.name, S.STOCK.name)
    tables = [d for n, d in read_zip(rich)[0].items() if n.startswith("xl/tables/")]
    ids = [re.search(rb' id="(\d+)"', d).group(1) for d in tables]
    names = [re.search(rb' name="([^"]+)"', d).group(1) for d in tables]
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names)
    wb = openpyxl.load_workbook(rich)
    assert wb.sheetnames[-2:] == [S.LEDGER.name, S.STOCK.name]


def test_names_left_behind_by_a_deleted_sheet_are_not_reused(rich):
    """A tool that deleted a sheet left its content-type entry and its relationships part."""
    drop_sheet(rich, S.FINDINGS.name)
    parts, order = read_zip(rich)
    taken = {n for n in parts if n.startswith("xl/worksheets/sheet")}
    ghost = next(f"xl/worksheets/sheet{n}.xml" for n in range(1, 99) if f"xl/worksheets/sheet{n}.xml" not in taken)
    parts[CT] = parts[CT].replace(b"</Types>", f'<Override PartName="/{ghost}" ContentType="application/'
                                  'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'.encode())
    rewrite_zip(rich, parts, order)
    write_owned(rich, {"findings": findings_frame()}, backup=False)
    after = read_zip(rich)[0]
    part = sheet_parts(after)[S.FINDINGS.name][0]
    assert part != ghost and after[CT].decode().count(f'PartName="/{part}"') == 1
    assert openpyxl.load_workbook(rich)[S.FINDINGS.name].max_row == 4


def test_long_text_in_the_added_findings_sheet_wraps(rich):
    drop_sheet(rich, S.FINDINGS.name)
    write_owned(rich, {"findings": findings_frame()}, backup=False)
    ws = openpyxl.load_workbook(rich)[S.FINDINGS.name]
    for spec_col, letter in zip(S.FINDINGS.columns, "ABCDEFG"):
        assert ws[f"{letter}2"].alignment.wrap_text is (True if spec_col.wraps else None), spec_col.header


ARCHIVED = "月度台账（10月公示）"


def test_an_archived_copy_is_never_taken_for_the_owned_sheet(tmp_path):
    """SPEC: an owned sheet is found by its exact name (surrounding spaces aside). A clerk who
    renamed 月度台账 to 「月度台账（10月公示）」 to keep October's publicised figures keeps them:
    the reader does not read it as 月度台账, and ``ledger`` adds a new 月度台账 beside it instead
    of overwriting it."""
    from jifen_xl import app
    from jifen_xl.io.xlsx import XlsxFile

    from .conftest import TODAY, build

    book = build(tmp_path / "永宁寺村.xlsx")
    parts, order = read_zip(book)
    ledger_part, _ = sheet_parts(parts)[S.LEDGER.name]
    parts[WB] = parts[WB].replace(f'name="{S.LEDGER.name}"'.encode(), f'name="{ARCHIVED}"'.encode())
    parts[ledger_part] = parts[ledger_part].replace(  # the figures the clerk archived
        b"</sheetData>", '<row r="2"><c r="A2" t="inlineStr"><is><t>2026-10</t></is></c>'
        '<c r="D2"><v>37</v></c></row></sheetData>'.encode())
    rewrite_zip(book, parts, order)
    archived = parts[ledger_part]

    reader = XlsxFile(book)
    assert ARCHIVED in reader.sheet_names and not reader.has_sheet(S.LEDGER)

    result = app.ledger_book(app.open_backend(book), today=TODAY)
    assert result.written.added == (S.LEDGER.name,)
    after, _ = read_zip(book)
    found = sheet_parts(after)
    assert found[ARCHIVED][0] == ledger_part and after[ledger_part] == archived  # byte for byte
    written = XlsxFile(book).read_table(S.LEDGER)
    assert written.sheet_name == S.LEDGER.name and len(written.frame) == len(result.ledger) > 0
    assert openpyxl.load_workbook(book)[ARCHIVED]["D2"].value == 37


@pytest.mark.parametrize("name", [f" {S.LEDGER.name}", f"{S.LEDGER.name} "])
def test_surrounding_spaces_do_not_hide_the_owned_sheet(tmp_path, name):
    from jifen_xl import app
    from jifen_xl.io.xlsx import XlsxFile

    from .conftest import TODAY, build

    book = build(tmp_path / "永宁寺村.xlsx")
    parts, order = read_zip(book)
    parts[WB] = parts[WB].replace(f'name="{S.LEDGER.name}"'.encode(), f'name="{name}"'.encode())
    rewrite_zip(book, parts, order)
    result = app.ledger_book(app.open_backend(book), today=TODAY)
    assert result.written.added == ()
    book_after = XlsxFile(book)
    assert book_after.sheet_names.count(name) == 1 and S.LEDGER.name not in book_after.sheet_names
    assert len(book_after.read_table(S.LEDGER).frame) == len(result.ledger)


# --- the look of an added sheet (issue 8, section 6): as the template's, in every program ----------


#: 30 CJK characters: 60 width units; 问题说明 is 48 wide (47 units to a line): two lines.
TWO_LINES = "户号「0001」的指标累计分值超过每月上限请核对本月登记的数量和分值是否正确"[:30]
#: 70 CJK characters in 修改建议 (40 wide, 39 units to a line): 140 units, four lines.
FOUR_LINES = "请核对" * 23 + "再改"


def long_findings() -> pd.DataFrame:
    assert len(TWO_LINES) == 30 and len(FOUR_LINES) == 71
    return pd.DataFrame([
        ["错误", "积分登记", 3, "数量", "数量不是数字", "请填写数字", "E-ENT-02"],
        ["错误", "积分登记", 4, "积分", TWO_LINES, "请核对", "E-ENT-12"],
        ["警告", "积分登记", 5, "备注", "短", FOUR_LINES, "W-ENT-15"],
    ], columns=S.FINDINGS.fields)


def cell_looks(ws, rows: int) -> list[tuple]:
    """Each cell's format as another reader sees it, over the first ``rows`` rows."""
    return [(c.coordinate, c.font.b, c.font.sz, c.font.color.rgb if c.font.color else None, c.fill.fill_type,
             c.fill.fgColor.rgb, c.border.left.style, c.border.bottom.style, c.alignment.horizontal,
             c.alignment.vertical, c.alignment.wrap_text, c.number_format)
            for row in ws.iter_rows(min_row=1, max_row=rows) for c in row]


def test_the_added_sheets_header_has_its_own_look_and_old_formats_keep_theirs(village_book):
    """Bold, filled and bordered header cells (LibreOffice and WPS do not draw table styles), and
    every cell formatted before reads the same format after the styles part grew."""
    drop_sheet(village_book, S.FINDINGS.name)
    before_book = openpyxl.load_workbook(village_book)
    before = {name: cell_looks(before_book[name], 6) for name in before_book.sheetnames}
    old_styles = read_zip(village_book)[0][STYLES].decode()
    result = write_owned(village_book, {"findings": long_findings()}, backup=False)
    assert result.added == (S.FINDINGS.name,)

    assert_only_appended(old_styles, read_zip(village_book)[0][STYLES].decode(),
                         {"fonts": 1, "fills": 1, "borders": 1, "cellXfs": 3})
    book = openpyxl.load_workbook(village_book)
    assert {name: cell_looks(book[name], 6) for name in before} == before
    ws = book[S.FINDINGS.name]
    assert [c.value for c in ws[1]] == S.FINDINGS.headers
    for cell in ws[1]:
        assert cell.font.b is True, cell.coordinate
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == "FF" + look.OWNED_HEADER_FILL
        for side in (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom):
            assert side.style == "thin" and side.color.rgb == "FF" + look.HEADER_BORDER
        assert (cell.alignment.horizontal, cell.alignment.vertical, cell.alignment.wrap_text) == (
            "center", "center", True)
        assert cell.font.sz == book[S.ENTRIES.name]["A2"].font.sz  # the workbook's own font, made bold
    assert ws.cell(1, len(S.FINDINGS.columns) + 1).fill.fill_type is None  # nothing beside the table
    for spec_col, cell in zip(S.FINDINGS.columns, ws[2]):  # data: no fill, no bold, top-aligned
        assert cell.fill.fill_type is None and not cell.font.b
        assert cell.alignment.vertical == "top" and bool(cell.alignment.wrap_text) is spec_col.wraps
    assert ws.sheet_format.defaultRowHeight == look.ROW_POINTS
    m = ws.page_margins
    assert (m.left, m.right, m.top, m.bottom, m.header, m.footer) == look.MARGINS


@pytest.mark.parametrize("added", [True, False], ids=["added", "rewritten"])
def test_rows_of_long_findings_are_as_tall_as_their_lines(village_book, added):
    """A two-line 问题说明 and a four-line 修改建议 get look.row_points of two and four lines,
    whether the sheet was there or is added; a one-line row keeps the default height."""
    if added:
        drop_sheet(village_book, S.FINDINGS.name)
    write_owned(village_book, {"findings": long_findings()}, backup=False)
    ws = openpyxl.load_workbook(village_book)[S.FINDINGS.name]
    assert ws.row_dimensions[2].height is None
    assert ws.row_dimensions[3].height == look.row_points([2])[0] == 34
    assert ws.row_dimensions[4].height == look.row_points([4])[0] == 66
    assert ws.row_dimensions[3].customHeight and ws.row_dimensions[4].customHeight


def test_a_tall_first_row_of_the_last_write_is_not_repeated(village_book):
    """The first old row is the one whose height new rows repeat; grown for a long finding, it
    would make every short finding of the next write as tall."""
    write_owned(village_book, {"findings": long_findings().iloc[[2, 0, 1]]}, backup=False)
    assert openpyxl.load_workbook(village_book)[S.FINDINGS.name].row_dimensions[2].height == 66
    write_owned(village_book, {"findings": long_findings().iloc[[0, 0, 1]]}, backup=False)
    ws = openpyxl.load_workbook(village_book)[S.FINDINGS.name]
    assert [ws.row_dimensions[r].height for r in (2, 3, 4)] == [None, None, 34]
