"""The macro workbooks (issue 12): macros/*.bas, the built .xlsm files, build-workbook, new NAME.xlsm.

Read back with independent tools: oletools (olevba, and its MS-OVBA 2.4.1 decompression for a
walk over the ``dir`` stream written here), olefile for the ``PROJECT`` stream, LibreOffice
headless for the buttons, openpyxl and the toolkit's own reader for the sheets.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pandas as pd
import pytest
import xlwings
from click.testing import CliRunner
from oletools.olevba import VBA_Parser, decompress_stream

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.io import xlsm

from . import village_data as V
from .lo import lo_convert, needs_lo

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "macros"
WORKBOOKS = {kind: ROOT / "workbook" / name for name, kind in xlsm.STANDARD_BOOKS.items()}
BOOKS = (S.BOOK_VILLAGE, S.BOOK_TOWNSHIP)
RUNPYTHON = re.compile(r'^    RunPython "import jifen_xl\.macros as m; m\.(\w+)\(\)"$')
TODAY = dt.date(2026, 5, 1)


def bas(book: str) -> Path:
    return MACROS / f"{xlsm.MODULE_OF[book]}.bas"


def subs(text: str) -> dict[str, list[str]]:
    """Sub name -> its body lines, from VBA text."""
    out, current = {}, None
    for line in text.splitlines():
        start = re.match(r"^(?:Public )?Sub (\w+)\(\)$", line)
        if start:
            current = out.setdefault(start.group(1), [])
        elif line == "End Sub":
            current = None
        elif current is not None:
            current.append(line)
    return out


def modules(path: Path) -> dict[str, str]:
    """Module name -> source, as olevba reads them from ``path``."""
    vp = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _f, _s, name, code in vp.extract_macros()}
    finally:
        vp.close()


def without_attributes(text: str) -> list[str]:
    return [line for line in text.replace("\r\n", "\n").split("\n") if not line.startswith("Attribute VB_")]


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


# --- macros/*.bas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("book", BOOKS)
def test_bas_is_ascii_crlf_and_one_runpython_line_per_button(book):
    raw = bas(book).read_bytes()
    text = raw.decode("ascii")  # raises on any byte above 127
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert text.startswith(f'Attribute VB_Name = "{xlsm.MODULE_OF[book]}"\r\n')
    assert "Option Explicit\r\n" in text
    found = subs(text)
    buttons = S.buttons(book)
    assert sorted(found) == sorted(b.sub for b in buttons)
    for b in buttons:
        assert found[b.sub] == [f"    {b.statement}"], found[b.sub]
        if b.macro:
            assert RUNPYTHON.match(found[b.sub][0]).group(1) == b.macro
        else:  # a Sub of the xlwings module, called without arguments
            assert re.fullmatch(r"\w+", b.vba) and b.vba.isascii()


def test_buttons_are_declared_once_per_sub_and_sheet():
    assert len({b.sub for b in S.BUTTONS}) == len(S.BUTTONS)
    assert all(b.sub.isascii() and b.sub.isidentifier() for b in S.BUTTONS)
    # each button runs either a jifen_xl.macros function or (导入公式函数) a Sub of xlwings' module
    assert all(b.macro.isidentifier() != bool(b.vba) for b in S.BUTTONS)
    assert [b.caption for b in S.BUTTONS if b.vba] == ["导入公式函数"]
    names = {S.HELP_SHEET_NAME} | set(S.BY_NAME) | {s.name for s in S.TOWNSHIP_SHEETS}
    assert all(b.sheet in names and b.caption and b.help for b in S.BUTTONS)


def test_every_runpython_string_resolves_to_a_callable_of_jifen_xl_macros():
    # jifen_xl/macros.py is written by the live-backend part of issue 12 (another worktree):
    # this test passes once both are merged.
    macros = importlib.import_module("jifen_xl.macros")
    calls = [RUNPYTHON.match(body[0]) for book in BOOKS for body in subs(bas(book).read_text("ascii")).values()]
    names = [m.group(1) for m in calls if m]
    assert sorted(names) == sorted(b.macro for b in S.BUTTONS if b.macro)
    for name in names:
        assert callable(getattr(macros, name, None)), name


@pytest.mark.parametrize("book", BOOKS)
def test_every_other_buttons_statement_is_a_sub_of_the_built_workbooks_xlwings_module(book):
    found = modules(WORKBOOKS[book])
    xlwings_subs = subs(found["xlwings"])
    for b in S.buttons(book):
        if b.vba:  # ImportPythonUDFs: a Sub without arguments in the standalone module xlwings ships
            assert b.vba in xlwings_subs, b.vba
            assert sum(b.vba in subs(code) for code in found.values()) == 1  # no other module shadows it


# --- the built workbooks ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, Path]:
    """Both standard workbooks built again, by the command, in another process."""
    out = tmp_path_factory.mktemp("built")
    targets = [out / name for name in xlsm.STANDARD_BOOKS]
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "jifen_xl", "build-workbook", *map(str, targets)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "".join(f"已生成「{t}」。\n" for t in targets)
    return {kind: out / name for name, kind in xlsm.STANDARD_BOOKS.items()}


@pytest.mark.parametrize("book", BOOKS)
def test_committed_workbook_equals_a_fresh_build_byte_for_byte(book, fresh):
    assert WORKBOOKS[book].read_bytes() == fresh[book].read_bytes(), (
        "workbook/ is stale: run `jifen-xl build-workbook` and commit the result")
    assert app.standard_package(book) == fresh[book].read_bytes()  # and in this process


@pytest.mark.parametrize("book", BOOKS)
def test_olevba_reads_every_macros_module_back_exactly(book):
    found = modules(WORKBOOKS[book])
    ours = xlsm.MODULE_OF[book]
    assert without_attributes(found[ours]) == without_attributes(bas(book).read_text("ascii"))
    assert set(subs(found[ours])) == {b.sub for b in S.buttons(book)}


@pytest.mark.parametrize("book", BOOKS)
def test_the_xlwings_modules_are_the_pinned_xlwings_ones(book):
    found = modules(WORKBOOKS[book])
    shipped = modules(xlsm.quickstart_path())
    for name in xlsm.XLWINGS_MODULES:
        assert found[name] == shipped[name]
    version = re.search(r'^Public Const XLWINGS_VERSION As String = "([^"]+)"', found["xlwings"], re.M).group(1)
    assert version == xlwings.__version__
    assert "Module1" not in found  # the quickstart's sample module is not carried


def _dir_records(data: bytes):
    """(id, payload) of the decompressed ``dir`` stream (MS-OVBA 2.3.4.2): id/size records, but
    PROJECTVERSION's size field is a reserved 4 followed by 6 bytes."""
    i = 0
    while True:
        rid, size = struct.unpack_from("<HI", data, i)
        i += 6
        if rid == 0x0010:  # the terminator; its Reserved is the size field
            # pyOpenVBA writes 4 more zero bytes, as the Excel-authored template it starts from
            # has them (Excel's own quickstart file does not): readers stop at the terminator
            assert size == 0 and set(data[i:]) <= {0} and len(data) - i <= 4
            return
        if rid == 0x0009:
            size = 6
        yield rid, data[i:i + size]
        i += size


@pytest.mark.parametrize("book", BOOKS)
def test_vba_project_streams_follow_ms_ovba_and_the_code_names_match(book):
    package = parts(WORKBOOKS[book])
    ole = olefile.OleFileIO(package[xlsm.VBA_PART])
    records = list(_dir_records(decompress_stream(bytearray(ole.openstream("VBA/dir").read()))))
    code_page = struct.unpack("<H", dict(records)[0x0003])[0]
    assert code_page == 1252
    found, current = {}, None
    for rid, payload in records:
        if rid == 0x0019:
            current = found.setdefault(payload.decode("cp1252"), {})
        elif rid == 0x001A:
            current["stream"] = payload.decode("cp1252")
        elif rid == 0x0031:
            current["offset"] = struct.unpack("<I", payload)[0]
        elif rid in (0x0021, 0x0022):
            current["type"] = rid
    assert struct.unpack("<H", dict(records)[0x000F])[0] == len(found)
    ours = xlsm.MODULE_OF[book]
    # our module's source, decompressed from MODULEOFFSET (2.4.1), is the .bas file
    stream = ole.openstream(f"VBA/{found[ours]['stream']}").read()
    source = decompress_stream(bytearray(stream[found[ours]["offset"]:])).decode("cp1252")
    assert without_attributes(source) == without_attributes(bas(book).read_text("ascii"))
    assert found[ours]["type"] == found["xlwings"]["type"] == 0x0021  # procedural
    # the PROJECT stream declares a document module for the workbook and each sheet, under the
    # code names workbook.xml and the sheets carry
    project = ole.openstream("PROJECT").read().decode("cp1252").split("\r\n")
    documents = [line[len("Document="):].split("/")[0] for line in project if line.startswith("Document=")]
    book_xml = package["xl/workbook.xml"].decode()
    assert re.search(r'<workbookPr\b[^>]*codeName="ThisWorkbook"', book_xml)
    sheet_names = [re.search(r'<sheetPr\b[^>]*codeName="(\w+)"', package[p].decode()).group(1)
                   for _n, p in xlsm.sheet_parts(package)]
    assert documents == ["ThisWorkbook", *sheet_names]
    assert sheet_names == [f"Sheet{i}" for i in range(1, len(sheet_names) + 1)]
    assert {f"Module={ours}", "Module=xlwings", "Class=Dictionary"} <= set(project)
    assert all(found[d]["type"] == 0x0022 for d in documents)
    ole.close()


@pytest.mark.parametrize("book", BOOKS)
def test_package_is_macro_enabled_with_a_related_project(book):
    package = parts(WORKBOOKS[book])
    types = package["[Content_Types].xml"].decode()
    assert 'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"' in types
    assert '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' in types
    rels = package["xl/_rels/workbook.xml.rels"].decode()
    assert re.search(r'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
                     r'Target="vbaProject.bin"', rels)
    with zipfile.ZipFile(WORKBOOKS[book]) as z:
        assert {i.date_time for i in z.infolist()} == {xlsm.ZIP_DATE}
    assert f"<dcterms:created xsi:type=\"dcterms:W3CDTF\">{xlsm.BUILD_TIMESTAMP}<" in package["docProps/core.xml"].decode()


def lo_buttons(path: Path, out: Path) -> dict[str, str]:
    """Caption -> the macro LibreOffice binds the button to, from the .ods it converts ``path`` to."""
    ods = lo_convert(path, "ods", out)
    with zipfile.ZipFile(ods) as z:
        content = z.read("content.xml").decode()
    found = {}
    for label, body in re.findall(r'<form:button\b[^>]*form:label="([^"]*)"[^>]*>(.*?)</form:button>', content, re.S):
        href = re.search(r'script:event-name="form:performaction" xlink:href="vnd\.sun\.star\.script:([^?"]+)\?', body)
        found[label] = href.group(1) if href else None
    return found


@needs_lo
@pytest.mark.parametrize("book", BOOKS)
def test_libreoffice_opens_it_and_sees_the_buttons_bound_to_their_subs(book, tmp_path):
    found = lo_buttons(WORKBOOKS[book], tmp_path / "lo")
    assert found == {b.caption: f"VBAProject.{xlsm.MODULE_OF[book]}.{b.sub}" for b in S.buttons(book)}


def test_buttons_sit_in_the_rows_of_the_help_sheet_beside_what_they_do():
    wb = openpyxl.load_workbook(WORKBOOKS[S.BOOK_VILLAGE], keep_vba=True)
    try:
        ws = wb[S.HELP_SHEET_NAME]
        rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
        for b in S.buttons(S.BOOK_VILLAGE):
            assert ws.cell(rows[b.caption], 2).value == b.help
        assert wb.vba_archive is not None
    finally:
        wb.close()
    vml = parts(WORKBOOKS[S.BOOK_VILLAGE])["xl/drawings/vmlDrawingButtons1.vml"].decode()
    anchors = re.findall(r"<x:Anchor>([^<]*)</x:Anchor><x:PrintObject>False</x:PrintObject><x:AutoFill>False"
                         r"</x:AutoFill><x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)
    # column A only, each in its own caption's row (0-based in VML)
    assert [(int(a.split(",")[0]), int(a.split(",")[2]), int(a.split(",")[4]), int(a.split(",")[6]), sub)
            for a, sub in anchors] == [(0, rows[b.caption] - 1, 0, rows[b.caption] - 1, b.sub)
                                       for b in S.buttons(S.BOOK_VILLAGE)]


# --- new NAME.xlsm, and what the toolkit does with it ------------------------------------------------


def _read_all(path: Path):
    loaded, report = app.check(app.open_backend(path), today=TODAY)
    return loaded.village.tables, loaded.village.settings, [(p.rule, p.sheet, p.row) for p in report.problems]


def test_new_xlsm_is_read_like_the_xlsx_of_the_same_village(tmp_path):
    args = ["--district", "沙坪坝区", "--township", "中梁镇", "--village", "永宁寺村", "--year", "2026"]
    runner = CliRunner()
    r1 = runner.invoke(cli, ["new", str(tmp_path / "永宁寺村.xlsm"), *args])
    r2 = runner.invoke(cli, ["new", str(tmp_path / "永宁寺村.xlsx"), *args])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert r1.output == (f"已新建工作簿「{tmp_path / '永宁寺村.xlsm'}」：永宁寺村 2026 年度，积分指标已按区委通知附件预置。\n"
                         f"按钮在“{S.HELP_SHEET_NAME}”工作表中。在 Excel 中使用前，请把工作簿所在的文件夹设为受信任位置"
                         "（文件 → 选项 → 信任中心 → 信任中心设置 → 受信任位置），否则按钮不会运行。\n")
    tables, settings, problems = _read_all(tmp_path / "永宁寺村.xlsm")
    tables_x, settings_x, problems_x = _read_all(tmp_path / "永宁寺村.xlsx")
    assert (settings, problems) == (settings_x, problems_x)
    assert sorted(tables) == sorted(tables_x) and len(tables["indicators"]) > 0
    for key in tables:
        pd.testing.assert_frame_equal(tables[key], tables_x[key])
    assert modules(tmp_path / "永宁寺村.xlsm")["JifenVillage"] == modules(WORKBOOKS[S.BOOK_VILLAGE])["JifenVillage"]
    again = runner.invoke(cli, ["new", str(tmp_path / "永宁寺村.xlsm"), *args])
    assert again.exit_code == 1 and "已存在" in again.output


def test_new_xlsm_and_rollover_need_no_vba_writer_on_a_clerks_machine(tmp_path):
    # pyOpenVBA is build-time only: a clerk's `new NAME.xlsm` and next year's .xlsm take the built
    # standard workbook's VBA project (the same bytes a fresh build gives); the child processes
    # make the module unimportable to show nothing reaches for it.
    from .test_rollover import settled_tables

    blocked = "import sys, datetime; sys.modules['pyopenvba'] = None\n"
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    args = ["--district", "沙坪坝区", "--township", "中梁镇", "--village", "永宁寺村", "--year", "2026"]
    made = subprocess.run([sys.executable, "-c", blocked + "from jifen_xl.cli import cli; cli(sys.argv[1:])",
                           "new", str(tmp_path / "永宁寺村.xlsm"), *args],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    assert xlsm.vba_bytes(tmp_path / "永宁寺村.xlsm") == xlsm.vba_bytes(WORKBOOKS[S.BOOK_VILLAGE])
    this_year, to = tmp_path / "永宁寺村2026.xlsm", tmp_path / "永宁寺村2027.xlsm"
    this_year.write_bytes(xlsm.village_package(dict(V.SETTINGS), settled_tables()))
    rolled = subprocess.run([sys.executable, "-c", blocked + "from jifen_xl import app\n"
                             "app.rollover_book(app.open_backend(sys.argv[1]), to=sys.argv[2], "
                             "today=datetime.date(2027, 1, 5))", str(this_year), str(to)],
                            capture_output=True, text=True, env=env, timeout=300, check=False)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert xlsm.vba_bytes(to) == xlsm.vba_bytes(WORKBOOKS[S.BOOK_VILLAGE])
    _buttons_kept(parts(tmp_path / "永宁寺村.xlsm"), to)


def test_new_refuses_another_suffix(tmp_path):
    r = CliRunner().invoke(cli, ["new", str(tmp_path / "永宁寺村.xls"), "--district", "区", "--township", "镇",
                                 "--village", "村", "--year", "2026"])
    assert r.exit_code == 1
    assert "「永宁寺村.xls」的扩展名应为 .xlsx（不带按钮）或 .xlsm（带按钮），例如 永宁寺村.xlsm。" in r.output


def _buttons_kept(before: dict[str, bytes], path: Path) -> None:
    after = parts(path)
    assert after[xlsm.VBA_PART] == before[xlsm.VBA_PART]
    assert conf_of(after) == conf_of(before) == {k.upper(): v for k, v in S.XLWINGS_CONF.rows}
    assert after["xl/drawings/vmlDrawingButtons1.vml"] == before["xl/drawings/vmlDrawingButtons1.vml"]
    help_part = dict(xlsm.sheet_parts(after))[S.HELP_SHEET_NAME]
    assert re.search(r"<legacyDrawing\b[^>]*r:id=", after[help_part].decode())
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in after["[Content_Types].xml"].decode()


def test_validate_ledger_publish_writes_keep_the_vba_project_and_the_buttons(tmp_path):
    tables = V.village_tables()
    entries = tables["entries"].copy()
    entries.loc[entries.entry_id == "2026-010", "status"] = S.ENTRY_PENDING
    tables["entries"] = entries
    path = tmp_path / "永宁寺村.xlsm"
    path.write_bytes(xlsm.village_package(dict(V.SETTINGS), tables))
    before = parts(path)
    assert app.validate_book(app.open_backend(path)).written is not None
    _buttons_kept(before, path)
    assert app.ledger_book(app.open_backend(path), today=TODAY).written is not None
    _buttons_kept(before, path)
    published = app.publish_book(app.open_backend(path), month="2026-04", start="2026-05-01", today=TODAY)
    assert published.written is not None and [e for e, _ in published.moved] == ["2026-010"]
    _buttons_kept(before, path)
    loaded, _report = app.check(app.open_backend(path), today=TODAY)
    assert loaded.village.tables["entries"].set_index("entry_id").loc["2026-010", "status"] == S.ENTRY_PUBLIC


@needs_lo
def test_township_import_into_the_xlsm_keeps_its_vba_and_button(tmp_path):
    from jifen_xl.township import import_township

    from .conftest import build

    folder = tmp_path / "各村"
    folder.mkdir()
    build(folder / "永宁寺村.xlsx")
    out = tmp_path / "中梁镇积分汇总.xlsm"
    shutil.copyfile(WORKBOOKS[S.BOOK_TOWNSHIP], out)
    before = parts(out)
    import_township(folder, out, workers=1, today=TODAY)
    after = parts(out)
    assert after[xlsm.VBA_PART] == before[xlsm.VBA_PART]
    wb = openpyxl.load_workbook(out, read_only=True)
    try:
        summary = list(wb[S.TOWNSHIP_SUMMARY.name].iter_rows(values_only=True))
    finally:
        wb.close()
    assert summary[1][2] == "永宁寺村"
    assert lo_buttons(out, tmp_path / "lo") == {"导入各村台账": "VBAProject.JifenTownship.JifenTownshipImport"}


def test_build_workbook_refuses_a_name_that_is_not_xlsm_or_a_village_file(tmp_path):
    r = CliRunner().invoke(cli, ["build-workbook", str(tmp_path / "台账.xlsx")])
    assert r.exit_code == 1 and "「台账.xlsx」的扩展名应为 .xlsm（启用宏的工作簿）。" in r.output
    assert not (tmp_path / "台账.xlsx").exists()
    mine = tmp_path / "永宁寺村.xlsm"
    mine.write_bytes(b"the village's own data")
    r = CliRunner().invoke(cli, ["build-workbook", str(mine)])
    assert r.exit_code == 1 and f"文件「{mine}」已存在，为防止覆盖村里的数据，工具不会改写它。" in r.output
    assert mine.read_bytes() == b"the village's own data"


def test_rollover_to_an_xlsm_gives_next_years_workbook_with_the_buttons(tmp_path):
    from .test_rollover import CARRIED, carried_of, settled_tables

    this_year = tmp_path / "永宁寺村2026.xlsm"
    this_year.write_bytes(xlsm.village_package(dict(V.SETTINGS), settled_tables()))
    to = tmp_path / "永宁寺村2027.xlsm"
    result = app.rollover_book(app.open_backend(this_year), to=to, today=dt.date(2027, 1, 5))
    assert result.path == to
    carried, (loaded, report) = carried_of(to)
    assert carried == CARRIED and list(report.errors) == [] and loaded.village.year == 2027
    found = modules(to)
    assert found["JifenVillage"] == modules(WORKBOOKS[S.BOOK_VILLAGE])["JifenVillage"]
    wb = openpyxl.load_workbook(to, read_only=True)
    try:
        assert wb[S.HELP_SHEET_NAME]["A1"].value.endswith(f"2027年度乡村治理积分制工作簿 {S.HELP_SHEET_NAME}")
    finally:
        wb.close()


def test_district_workbook_stays_xlsx(tmp_path):
    from jifen_xl.district import import_district
    from jifen_xl.errors import WriteRefused

    (tmp_path / "各镇").mkdir()
    with pytest.raises(WriteRefused) as exc:
        import_district(tmp_path / "各镇", tmp_path / "沙坪坝区.xlsm")
    assert exc.value.message == ("汇总工作簿「沙坪坝区.xlsm」必须保存为 .xlsx 文件（只有乡镇汇总工作簿带按钮），"
                                 "请把输出文件名改为以 .xlsx 结尾。")
    assert not (tmp_path / "沙坪坝区.xlsm").exists()


def test_the_clerks_readme_names_every_button_and_its_command():
    text = (ROOT / "workbook" / "README.md").read_text("utf-8")
    for b in S.BUTTONS:
        row = next(line for line in text.splitlines() if line.startswith(f"| {b.caption} |"))
        assert ("`jifen-xl " in row) if b.macro else (f"`{b.vba}`" in row)
    for name in xlsm.STANDARD_BOOKS:
        assert f"`{name}`" in text


def test_the_township_button_sits_beside_the_summary_table_not_over_it():
    package = parts(WORKBOOKS[S.BOOK_TOWNSHIP])
    summary = dict(xlsm.sheet_parts(package))[S.TOWNSHIP_SUMMARY.name]
    rels = package[xlsm._rels_name(summary)].decode()
    vml = next(package[n].decode() for n in package if n.endswith(".vml") and n.rsplit("/", 1)[-1] in rels)
    anchor = re.search(r"<x:Anchor>([^<]*)</x:Anchor>(?:(?!</v:shape>).)*<x:FmlaMacro>\[0\]!JifenTownshipImport<",
                       vml, re.S).group(1)
    left_col, _, top_row, _, right_col, _, bottom_row, _ = (int(v) for v in anchor.split(","))
    table = re.search(r'ref="A1:([A-Z]+)\d+"', next(package[n].decode() for n in package
                                                    if n.startswith("xl/tables/") and "tblTownSummary" in
                                                    package[n].decode())).group(1)
    last = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(table)))  # 1-based
    assert left_col >= last + 1 and right_col >= left_col  # 0-based: at least one empty column between
    assert top_row == bottom_row == 0  # in the frozen header row


def test_build_workbook_without_a_file_rebuilds_the_workbook_folder_of_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["build-workbook"])
    assert r.exit_code == 1
    assert r.output == ("错误：当前文件夹中没有存放标准工作簿的文件夹「workbook」：请在源代码目录中运行，"
                        "或写出要生成的文件名，例如 jifen-xl build-workbook 村级积分台账.xlsm。\n")
    (tmp_path / "workbook").mkdir()
    r = CliRunner().invoke(cli, ["build-workbook"])
    assert r.exit_code == 0, r.output
    for name, kind in xlsm.STANDARD_BOOKS.items():
        assert (tmp_path / "workbook" / name).read_bytes() == WORKBOOKS[kind].read_bytes()


# --- the xlwings.conf sheet and the worksheet functions (UDFs) -----------------------------------


def _sheet_cells(package: dict[str, bytes], part: str) -> dict[str, str]:
    """Cell reference -> text of a worksheet part, read from the XML (shared or inline strings)."""
    shared = [re.sub(r"<[^>]+>", "", si) for si in
              re.findall(r"<si>(.*?)</si>", package.get("xl/sharedStrings.xml", b"").decode(), re.S)]
    out = {}
    for ref, attrs, body in re.findall(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', package[part].decode(), re.S):
        value = re.search(r"<v>(.*?)</v>", body or "")
        if 't="s"' in attrs and value:
            out[ref] = shared[int(value.group(1))]
        elif 't="inlineStr"' in attrs:
            out[ref] = re.sub(r"<[^>]+>", "", body)
        elif value:
            out[ref] = value.group(1)
    return out


def conf_of(package: dict[str, bytes]) -> dict[str, str] | None:
    """What xlwings' ``GetConfigFromSheet`` reads from the package's ``xlwings.conf`` sheet: keys
    in column A from A1 down to the first blank (upper-cased), values beside them; None without
    the sheet."""
    found = dict(xlsm.sheet_parts(package)).get(S.XLWINGS_CONF.name)
    if found is None:
        return None
    cells = _sheet_cells(package, found)
    out, row = {}, 1
    while cells.get(f"A{row}", "") != "":
        out[cells[f"A{row}"].upper()] = cells.get(f"B{row}", "")
        row += 1
    return out


def test_the_village_xlsm_has_the_hidden_xlwings_conf_sheet_that_names_the_udf_module():
    package = parts(WORKBOOKS[S.BOOK_VILLAGE])
    # the plain XML: a hidden sheet of exactly that name, and what GetConfigFromSheet makes of it
    tag = re.search(r'<sheet\b[^>]*name="xlwings\.conf"[^>]*/>', package["xl/workbook.xml"].decode()).group(0)
    assert 'state="hidden"' in tag
    assert conf_of(package) == {"UDF MODULES": "jifen_xl.udfs"}
    # openpyxl (keep_vba): the same two cells, nothing else in the sheet
    wb = openpyxl.load_workbook(WORKBOOKS[S.BOOK_VILLAGE], keep_vba=True)
    try:
        ws = wb[S.XLWINGS_CONF.name]
        assert ws.sheet_state == "hidden" and wb.sheetnames[-1] == S.XLWINGS_CONF.name
        assert [[c.value for c in row] for row in ws.iter_rows()] == [list(r) for r in S.XLWINGS_CONF.rows]
    finally:
        wb.close()
    # the xlwings module in the workbook looks for that sheet and asks for those keys
    xlwings_vba = modules(WORKBOOKS[S.BOOK_VILLAGE])["xlwings"]
    project = re.search(r'^Public Const PROJECT_NAME As String = "(\w+)"', xlwings_vba, re.M).group(1)
    assert f"{project}.conf" == S.XLWINGS_CONF.name
    assert 'wb.Sheets(PROJECT_NAME & ".conf")' in xlwings_vba and "d.Add UCase(cell.Value)" in xlwings_vba
    for key, _value in S.XLWINGS_CONF.rows:
        assert f'GetConfig("{key.upper()}")' in xlwings_vba
    # the interpreter is left to the clerk's own settings: a key on the sheet would override them
    assert not any(k.upper().startswith("INTERPRETER") for k, _v in S.XLWINGS_CONF.rows)
    # the UDF module it names is the package's
    assert importlib.util.find_spec(S.XLWINGS_CONF.rows[0][1]).origin == str(ROOT / "jifen_xl" / "udfs.py")


def test_only_the_village_xlsm_gets_the_conf_sheet(tmp_path):
    assert conf_of(parts(WORKBOOKS[S.BOOK_TOWNSHIP])) is None  # its workbook has no village to compute from
    args = ["--district", "沙坪坝区", "--township", "中梁镇", "--village", "永宁寺村", "--year", "2026"]
    for name in ("永宁寺村.xlsm", "永宁寺村.xlsx"):
        assert CliRunner().invoke(cli, ["new", str(tmp_path / name), *args]).exit_code == 0
    assert conf_of(parts(tmp_path / "永宁寺村.xlsm")) == {"UDF MODULES": "jifen_xl.udfs"}
    assert conf_of(parts(tmp_path / "永宁寺村.xlsx")) is None


def test_validating_the_built_xlsm_says_nothing_about_the_conf_sheet_and_keeps_it(tmp_path):
    path = tmp_path / "村级积分台账.xlsm"
    shutil.copyfile(WORKBOOKS[S.BOOK_VILLAGE], path)
    before = parts(path)
    # the empty standard workbook has findings (no village name, no members yet): exactly those
    # of the same workbook built as an .xlsx, which has no conf sheet
    from jifen_xl.io.template import build_workbook

    plain = build_workbook(tmp_path / "plain.xlsx", {"year": xlsm.STANDARD_YEAR})
    _t, _s, found = _read_all(path)
    assert found == _read_all(plain)[2] and found
    result = app.validate_book(app.open_backend(path))
    assert result.written is not None
    assert all(S.XLWINGS_CONF.name not in f"{p.sheet}{p.message}{p.fix}" for p in result.report.problems)
    _buttons_kept(before, path)
    after = parts(path)
    conf_part = dict(xlsm.sheet_parts(after))[S.XLWINGS_CONF.name]
    assert after[conf_part] == before[conf_part]


def test_the_help_sheet_describes_each_worksheet_function_and_the_import_button():
    wb = openpyxl.load_workbook(WORKBOOKS[S.BOOK_VILLAGE], read_only=True)
    try:
        rows = [r[:2] for r in wb[S.HELP_SHEET_NAME].iter_rows(values_only=True)]
    finally:
        wb.close()
    described = {a: b for a, b in rows if a in {u.name for u in S.UDFS}}
    assert described == {u.name: f"{u.help}例如 {u.example}" for u in S.UDFS}
    text = "".join(str(v) for row in rows for v in row if v)
    assert "信任对 VBA 工程对象模型的访问" in text and "Windows" in text and "导入公式函数" in text


def _udf_names_in_module() -> list[str]:
    import inspect

    from jifen_xl import udfs

    return sorted(n for n, f in vars(udfs).items() if inspect.isfunction(f) and f.__module__ == udfs.__name__
                  and n.isupper())


def test_the_guide_and_the_help_sheet_name_exactly_the_functions_of_jifen_xl_udfs():
    names = _udf_names_in_module()
    assert names == sorted(u.name for u in S.UDFS)
    assert all(n.isascii() and n.isidentifier() and n == n.upper() for n in names)
    text = (ROOT / "workbook" / "README.md").read_text("utf-8")
    section = text[text.index("## 五、公式函数"):text.index("## 六、")]
    assert sorted(set(re.findall(r"\bJIFEN_[A-Z_]+\b", section))) == names
    for u in S.UDFS:
        assert f"| `{u.name}` | {u.help} | `{u.example}` |" in section
    for words in ("信任对 VBA 工程对象模型的访问", "Windows", "Excel for Mac 不支持", "WPS 表格不支持", "函数不会丢失"):
        assert words in section, words


#: Runs xlwings' own UDF decorators and VBA wrapper generator (xlwings.udfs, which Windows
#: imports) over jifen_xl.udfs. xlwings.udfs imports three Windows-only COM modules at its top;
#: none of them is called by the decorators or the generator, so they are stood in for here.
_WINDOWS_UDFS = r"""
import io, json, sys, types
com = types.ModuleType("pythoncom"); com.CoInitialize = lambda: None
pwt = types.ModuleType("pywintypes"); pwt.com_error = type("com_error", (Exception,), {})
w32, client = types.ModuleType("win32com"), types.ModuleType("win32com.client")
client.Dispatch, w32.client = None, client
sys.modules.update({"pythoncom": com, "pywintypes": pwt, "win32com": w32, "win32com.client": client})
import xlwings
import xlwings.udfs as xu
xlwings.func, xlwings.arg, xlwings.ret = xu.xlfunc, xu.xlarg, xu.xlret  # as xlwings binds them on Windows
import jifen_xl.udfs as mod
class Workbook:  # all generate_vba_wrapper reads of Excel's workbook object
    Name = "村级积分台账.xlsm"
out = io.StringIO()
xu.generate_vba_wrapper("jifen_xl.udfs", mod, out, Workbook())
funcs = {n: f.__xlfunc__ for n, f in vars(mod).items() if hasattr(f, "__xlfunc__")}
print(json.dumps({"vba": out.getvalue(), "funcs": funcs}, ensure_ascii=False, default=str))
"""

#: VBA's reserved words and the built-in names a parameter must not take (a wrapper with one
#: does not compile: ``date`` was the trap).
_VBA_RESERVED = {w.lower() for w in (
    "And As Boolean ByRef Byte ByVal Call Case Const Currency Date Decimal Declare Dim Do Double Each Else "
    "ElseIf Empty End Enum Eqv Erase Error Event Exit False For Friend Function Get Global GoSub GoTo If Imp "
    "Implements In Integer Is Let Like Long LongLong LongPtr Loop LSet Me Mod New Next Not Nothing Null Object On "
    "Option Optional Or ParamArray Preserve Private Property Public RaiseEvent ReDim Rem Resume Return RSet Select "
    "Set Single Static Step Stop String Sub Then To True Type TypeOf Until Variant Wend While With WithEvents Xor "
    "Name Line Open Close Print Input Write Put Seek Lock Unlock Width Kill").split()}


def test_udfs_as_xlwings_declares_them_on_windows_linux_runs_the_generator_with_com_stubbed():
    """What Windows Excel gets from 导入公式函数: xlwings' import_udfs generates this VBA module and
    registers each description with MacroOptions. Linux limit: the generation runs here with
    pythoncom/pywintypes/win32com stood in for (they do not exist here); the import into a real
    VBA project and the wizard itself need Windows Excel (workbook/README.md's release checklist)."""
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _WINDOWS_UDFS], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    import json

    made = json.loads(proc.stdout)
    funcs, vba = made["funcs"], made["vba"]
    assert sorted(funcs) == _udf_names_in_module() == sorted(u.name for u in S.UDFS)  # every one is an @xw.func
    described = {u.name: u.help for u in S.UDFS}
    for name, f in funcs.items():
        assert f["name"] == name and f["category"] == S.UDF_CATEGORY and not f["sub"]
        doc = f["ret"]["doc"]  # the function wizard's description (MacroOptions keeps 255 characters)
        assert doc == described[name] and len(doc) <= 255 and "\n" not in doc
        assert re.search(r"[\u4e00-\u9fff]", doc)
        shown = [a for a in f["args"] if a["vba"] is None]  # `caller` is filled in by xlwings
        assert [a["name"] for a in f["args"] if a["vba"] is not None] == ["caller"]
        for a in shown:  # each argument's description is Chinese too, not xlwings' "Positional argument 1"
            assert re.search(r"[\u4e00-\u9fff]", a["doc"]) and len(a["doc"]) <= 255, a
            assert a["name"].isascii() and a["name"].lower() not in _VBA_RESERVED, a["name"]
    # the VBA module: ASCII (a Western code page, as every VBA source), one Function per UDF, each
    # calling back into jifen_xl.udfs under its own name
    assert vba.isascii()
    declared = re.findall(r"^Function (\w+)\(([^)]*)\)$", vba, re.M)
    assert sorted(n for n, _ in declared) == sorted(funcs)
    for name, params in declared:
        assert f'{name} = XLPy.CallUDF("jifen_xl.udfs", "{name}", Array(' in vba
        for p in (x.split()[-1] for x in params.split(",") if x.strip()):
            assert p.lower() not in _VBA_RESERVED, (name, p)
