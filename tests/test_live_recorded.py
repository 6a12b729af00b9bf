"""The buttons (``jifen_xl.macros``) and the live backend (``io.live.LiveBook``) run through xlwings'
own remote engine, which RECORDS the actions it would send to Excel. This is not Excel: the
workbook is a real file on disk, turned into the JSON an xlwings client sends (``remote_excel``);
each macro entry point runs on that Book; its recorded actions are applied to the file's cells as
Excel takes values; the result, read with the toolkit's own reader, must equal what the file
backend writes into a copy of the same file. The remote engine is under the PolyForm
Noncommercial licence (government use): these tests set ``XLWINGS_LICENSE_KEY`` themselves.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from jifen_xl import app, macros
from jifen_xl import schema as S
from jifen_xl.cli import closed_lines, published_lines
from jifen_xl.core.clean import FORMATS, ROW
from jifen_xl.io.pdf import find_soffice
from jifen_xl.io import live as L
from jifen_xl.io.live import LiveBook
from jifen_xl.io.xlsx import XlsxFile

from . import village_data as V
from .conftest import build
from .lo import needs_lo
from .remote_excel import Remote, alert_texts
from .test_cli import run
from .test_cycle import cycle_tables

TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _noncommercial(monkeypatch, tmp_path):
    """The remote engine's licence, for the tests only; files beside a remote Book go to tmp_path."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.chdir(tmp_path)


def _pair(tmp_path: Path, tables=None, name: str = "永宁寺村2026.xlsx") -> tuple[Path, Path]:
    """The clerk's workbook (shown to the remote Book) and a copy for the file backend."""
    book = build(tmp_path / name, tables)
    (tmp_path / "file").mkdir(exist_ok=True)
    copy = tmp_path / "file" / name
    shutil.copyfile(book, copy)
    return book, copy


def _norm(value):
    if value is None or value == "" or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else round(value, 9)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _cells(backend, spec) -> list[tuple]:
    frame = backend.read_table(spec).frame
    fields = [f for f in frame.columns if f != ROW]
    rows = [tuple(_norm(v) for v in row) for row in frame[[*fields, ROW]].itertuples(index=False)]
    return [r for r in rows if any(v is not None for v in r[:-1])]  # cleared rows are blank rows, no records


def assert_same_tables(remote: Remote, file: Path) -> None:
    """Every declared table of the recorded result equals the file backend's, cell for cell."""
    live, disk = remote.grid().backend(), XlsxFile(file)
    for spec in S.BY_KEY.values():
        assert live.has_sheet(spec) == disk.has_sheet(spec), spec.name
        if disk.has_sheet(spec):
            assert _cells(live, spec) == _cells(disk, spec), spec.name


def _sheet_index(path: Path, name: str) -> int:
    import python_calamine as pc

    return pc.CalamineWorkbook.from_path(str(path)).sheet_names.index(name)


# -- reading -----------------------------------------------------------------------------------------
def test_the_live_backend_reads_every_sheet_as_the_file_reader_does(tmp_path):
    book, _ = _pair(tmp_path, cycle_tables())
    live, disk = LiveBook(Remote(book).book), XlsxFile(book)
    for spec in S.CLERK_SHEETS:
        a, b = live.read_table(spec), disk.read_table(spec)
        assert (a.sheet_name, a.header_row, a.letters) == (b.sheet_name, b.header_row, b.letters)
        pd.testing.assert_frame_equal(a.frame, b.frame)
    assert live.operations == 2 * len(S.CLERK_SHEETS)  # each sheet: its extent, then one block of values


def test_an_error_cell_is_a_finding_not_a_value(tmp_path):
    book, _ = _pair(tmp_path)
    remote = Remote(book)
    sheet = next(s for s in remote.book.api["sheets"] if s["name"] == S.HOUSEHOLDS.name)
    sheet["values"][2][4] = "#DIV/0!"  # 家庭人口 of the second household, as Office.js sends an error
    table = LiveBook(remote.book).read_table(S.HOUSEHOLDS)
    assert table.frame.loc[table.frame[ROW] == 3, "members"].tolist() == [""]
    assert [(p.row, p.column, p.rule) for p in table.problems] == [(3, "家庭人口", "E-FMT-FORMULA")]


# -- the buttons, cell for cell against the file backend ---------------------------------------------
def test_validate_writes_the_findings_the_file_backend_writes_and_marks_each_cell(tmp_path):
    t = V.village_tables()
    t["entries"].loc[0, "hh_id"] = "0099"  # row 2: 户号 not in 住户名册
    t["entries"].loc[1, "date"] = None  # row 3: 日期 missing
    book, copy = _pair(tmp_path, t)
    remote = Remote(book)
    text = macros.validate(remote.book, confirm=False)
    expected = app.validate_book(XlsxFile(copy))
    assert text.startswith(f"共 {len(expected.report.errors)} 个错误、{len(expected.report.warnings)} 个警告")
    assert_same_tables(remote, copy)
    grid = remote.grid()
    cells = {(S.ENTRIES.name, 2, 3), (S.ENTRIES.name, 3, 2)}  # 户号 is column C, 日期 column B
    assert set(grid.colors) == cells and set(grid.colors.values()) == {L.MARK_COLOR}
    assert grid.notes == {(S.ENTRIES.name, 2, 3): "户号「0099」不在「住户名册」中", (S.ENTRIES.name, 3, 2): "「日期」不能为空"}
    message = S.FINDINGS.headers.index(S.FINDINGS.header_of("message")) + 1
    assert grid.links == {(S.FINDINGS.name, 2, message): f"#'{S.ENTRIES.name}'!C2",
                          (S.FINDINGS.name, 3, message): f"#'{S.ENTRIES.name}'!B3"}
    assert alert_texts(grid) == [text]


def test_publish_publishes_the_earliest_month_with_pending_entries_as_the_file_backend_does(tmp_path):
    book, copy = _pair(tmp_path, cycle_tables())
    remote = Remote(book)
    text = macros.publish(remote.book, confirm=False)
    expected = app.publish_book(XlsxFile(copy), month="2026-03")  # January, February are settled
    sheet_line = f"填好的公示已放进工作簿的「{S.NOTICE_SHEET_NAME}」工作表，可直接打印张贴。"  # the file backend only
    assert text.splitlines()[:-1] == [x for x in published_lines(expected) if x != sheet_line]
    assert text.splitlines()[-1] == f"已生成微信群公示文字「{tmp_path / '2026-03积分公示（微信群）.txt'}」。"
    assert (tmp_path / "2026-03积分公示（微信群）.txt").read_text(encoding="utf-8").startswith("永宁寺村2026年3月乡村治理积分公示")
    assert_same_tables(remote, copy)
    # The remote engine cannot read formulas: only the patched rows are written, never row 11
    # between them (2026-010, April's, left 公示中), whatever it holds.
    assert "setFormula" not in remote.grid().funcs
    entries = _sheet_index(book, S.ENTRIES.name)
    status = S.ENTRIES.headers.index(S.ENTRIES.header_of("status"))
    written = {a["start_row"] + 1 + i for a in remote.actions if a["func"] == "setValues"
               and a["sheet_position"] == entries and a["start_column"] == status for i in range(a["row_count"])}
    assert written == {10, 12, 13, 14}  # 2026-009, 2026-011 .. 2026-013


def test_close_closes_the_earliest_open_month_as_the_file_backend_does(tmp_path):
    book, copy = _pair(tmp_path, cycle_tables())
    for path in (book, copy):  # March published on the 20th: its period is long over
        app.publish_book(XlsxFile(path), month="2026-03", start="2026-03-20", today=dt.date(2026, 3, 20))
    remote = Remote(book)
    text = macros.close_month(remote.book, confirm=False)
    expected = app.close_book(XlsxFile(copy), month="2026-03")
    sheet_line = f"工作簿的「{S.NOTICE_SHEET_NAME}」工作表已按结账结果重新填写，印上了校验码，可重新打印张贴。"
    assert text.splitlines() == [x for x in closed_lines(expected) if x != sheet_line]  # 公示: file backend only
    assert_same_tables(remote, copy)


def test_shop_writes_the_stock_ledger_as_the_file_backend_does(tmp_path):
    book, copy = _pair(tmp_path)
    remote = Remote(book)
    text = macros.shop(remote.book, confirm=False)
    expected = app.shop_book(XlsxFile(copy))
    assert text.startswith(f"「{S.STOCK.name}」已写到 {expected.through}。")
    assert_same_tables(remote, copy)


def test_rollover_makes_the_same_next_year_workbook_as_the_file_backend(tmp_path):
    t = V.village_tables()
    t["entries"].loc[t["entries"]["status"] == S.ENTRY_PUBLIC, "status"] = S.ENTRY_CONFIRMED
    book, copy = _pair(tmp_path, t)
    remote = Remote(book)
    text = macros.rollover(remote.book, confirm=False)
    made = tmp_path / "永宁寺村2027.xlsx"
    assert text.startswith(f"已生成 2027 年度工作簿「{made}」")
    expected = app.rollover_book(XlsxFile(copy), to=tmp_path / "file" / "永宁寺村2027.xlsx").path
    for spec in S.CLERK_SHEETS:
        assert _cells(XlsxFile(made), spec) == _cells(XlsxFile(expected), spec), spec.name


@needs_lo
def test_print_buttons_write_the_cli_s_pages_beside_the_workbook(tmp_path):
    book, copy = _pair(tmp_path, cycle_tables())
    for path in (book, copy):
        app.publish_book(XlsxFile(path), month="2026-03", start="2026-03-20", today=dt.date(2026, 3, 20))
    # the clerk selected 0004's row in 住户名册 (its 5th row)
    remote = Remote(book, selection="B5", active=_sheet_index(book, S.HOUSEHOLDS.name))
    assert remote.book.sheets.active.name == S.HOUSEHOLDS.name
    macros.print_cards(remote.book, confirm=False)
    macros.print_notice(remote.book, confirm=False)
    macros.supervise(remote.book, confirm=False)
    out = tmp_path / "file"
    run("card", copy, "--household", "0004", "--html", out / "积分卡_0004.html")
    run("notice", copy, "--month", "2026-03", "--html", out / "2026-03积分公示.html")
    run("supervise", copy, "--html", out / "监督报告.html")
    for name in ("积分卡_0004", "2026-03积分公示", "监督报告"):
        assert (tmp_path / f"{name}.html").read_text(encoding="utf-8") == (out / f"{name}.html").read_text(encoding="utf-8")
        assert (tmp_path / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    assert remote.grid().funcs == ["alert"] * 3  # read-only buttons write nothing into the workbook


def test_print_cards_without_a_household_row_selected_makes_every_household_s_card(tmp_path):
    book, copy = _pair(tmp_path)
    remote = Remote(book, selection="A1", active=0)
    text = macros.print_cards(remote.book, confirm=False)
    folder = tmp_path / "积分卡"
    normal = ["0001", "0002", "0003", "0004", "0006"]  # 0005 moved away
    assert text == f"已生成 5 户的积分卡（网页），在「{folder}」文件夹中，可用浏览器打开后打印。"
    assert sorted(p.name for p in folder.iterdir()) == [f"积分卡_{h}.html" for h in normal]
    for h in normal:
        expected = app.card_book(XlsxFile(copy), household=h, html=tmp_path / "file" / f"{h}.html").html
        assert (folder / f"积分卡_{h}.html").read_text(encoding="utf-8") == expected.read_text(encoding="utf-8")
    assert remote.grid().funcs == ["alert"]


# -- refusals and confirmation -----------------------------------------------------------------------
def test_a_refusal_is_shown_in_a_box_with_the_text_the_cli_prints(tmp_path):
    book, copy = _pair(tmp_path, cycle_tables())
    remote = Remote(book)
    assert macros.close_month(remote.book, confirm=False) is None  # March is not published yet
    cli = run("close", copy, "--month", "2026-03")
    assert cli.exit_code == 1
    grid = remote.grid()
    assert grid.funcs == ["alert"]
    text, title, buttons, mode, _callback = grid.alerts[0]
    assert (title, buttons, mode) == (macros.TITLE, "ok", "critical")
    assert cli.output.strip() == f"错误：{text}"


def test_a_button_asks_first_and_an_engine_that_cannot_answer_writes_nothing(tmp_path):
    book, _ = _pair(tmp_path, cycle_tables())
    remote = Remote(book)
    assert macros.publish(remote.book) is None  # the remote engine cannot wait for the clerk's answer
    grid = remote.grid()
    assert grid.funcs == ["alert"]
    assert grid.alerts[0][:3] == ["发布 2026-03 的积分公示？（公示期从今天开始）", macros.TITLE, "ok_cancel"]


# -- range operations do not grow with rows ----------------------------------------------------------
def _village_year(tmp_path: Path, households: int, per: float) -> Path:
    from jifen_xl.demo.village import generate_village
    from jifen_xl.io.template import build_workbook

    settings, tables = generate_village(households=households, seed=7, entries_per_household=per)
    # at every size, a January entry's points corrected after an objection: 封账 sets 积分 too
    entries, objections = tables["entries"], tables["objections"]
    first = entries[(entries["date"].dt.month == 1) & (entries["status"] == S.ENTRY_PENDING)].iloc[0]
    objections.loc[0, ["entry_id", "raised_on", "result", "corrected_points", "resolved_on"]] = \
        [first["entry_id"], pd.Timestamp("2026-01-21"), "更正", 1.0, pd.Timestamp("2026-01-25")]
    return build_workbook(tmp_path / f"村{households}.xlsx", settings, tables)


def _operations(path: Path, tmp_path: Path) -> dict[str, tuple]:
    """Each button's calls into Excel on the workbook ``path``: (range operations the live backend
    made, the actions the macro recorded, in order). The engine reads formulas (``formula_reads``),
    as Excel does, so 积分登记's patched columns take the formula-keeping path, and tells merged
    blocks (there are none: one call per sheet says so)."""
    out = {}
    # January published on the 20th, in a copy: its period is over, 封账 closes it
    published = tmp_path / f"{path.stem}-published.xlsx"
    shutil.copyfile(path, published)
    app.publish_book(XlsxFile(published), month="2026-01", start="2026-01-20", today=dt.date(2026, 1, 20))
    steps = {"validate": (path, app.validate_book), "shop": (path, app.shop_book),
             "publish": (path, lambda live: app.publish_book(live, month="2026-01")),
             "close_month": (published, lambda live: app.close_book(live, month="2026-01"))}
    for name, (book, use_case) in steps.items():
        live = LiveBook(Remote(book, formulas=True, merged=True).book)
        use_case(live)
        remote = Remote(book, formulas=True, merged=True)
        assert getattr(macros, name)(remote.book, confirm=False) is not None, name
        out[name] = (live.operations, [a["func"] for a in remote.actions])
    return out


def test_range_operations_of_a_macro_do_not_grow_with_rows(tmp_path):
    """A village-year of 60 entries and one of 60,000: the same calls into Excel, for the buttons
    that read the whole workbook and write owned sheets and 积分登记's columns."""
    small, large = (_operations(_village_year(tmp_path, households, per), tmp_path)
                    for households, per in ((20, 3), (1000, 60)))
    assert small == large
    assert all(ops < 60 for ops, _funcs in large.values()), large
    assert "setFormula" in large["publish"][1] and "setFormula" in large["close_month"][1]


def test_findings_are_marked_on_a_bounded_number_of_cells(tmp_path):
    t = V.village_tables()
    many = pd.concat([t["entries"]] * 120, ignore_index=True)  # 1,200 entries, every 登记编号 repeated
    t["entries"] = many
    book, _ = _pair(tmp_path, t)
    remote = Remote(book)
    macros.validate(remote.book, confirm=False)
    grid = remote.grid()
    assert len(grid.colors) == L.MAX_MARKS and len(grid.notes) == L.MAX_NOTES and len(grid.links) == L.MAX_LINKS
    assert len(remote.actions) <= 2 + L.MAX_LINKS + L.MAX_MARKS + L.MAX_NOTES + 2


def test_text_that_excel_would_turn_into_a_number_or_a_date_is_written_as_text(tmp_path):
    book, copy = _pair(tmp_path)
    remote = Remote(book)
    app.ledger_book(LiveBook(remote.book))
    app.ledger_book(XlsxFile(copy))
    values = [v for a in remote.actions if a["func"] == "setValues" for row in a["values"] for v in row]
    assert "'0001" in values and "'2026-01" in values
    assert_same_tables(remote, copy)


def test_code_formats_are_not_read_when_code_columns_hold_text(tmp_path):
    book, _ = _pair(tmp_path)
    table = LiveBook(Remote(book).book).read_table(S.HOUSEHOLDS)
    assert FORMATS not in table.frame.attrs


# -- UDFs ---------------------------------------------------------------------------------------------
def test_udfs_called_from_the_workbook_give_the_ledger_s_figures(tmp_path):
    from jifen_xl import udfs

    book, copy = _pair(tmp_path)
    remote = Remote(book)
    caller = remote.book.sheets[0].range("A1")
    udfs.clear_cache()
    led = app.ledger_book(XlsxFile(copy), dry_run=True)
    last = led.ledger[led.ledger["month"] == led.through]
    assert led.through == "2026-03" and len(last) == 5  # 0005 moved away
    for row in last.itertuples(index=False):
        assert udfs.JIFEN_TOTAL(row.hh_id, caller) == row.cumulative
        assert udfs.JIFEN_BALANCE(row.hh_id, caller) == row.available
        assert udfs.JIFEN_RANK(row.hh_id, caller) == row.rank
    assert udfs.JIFEN_TOTAL(6.0, caller) == udfs.JIFEN_TOTAL("0006", caller) == 22  # 户号 typed as a number
    wrong = udfs.JIFEN_TOTAL("0099", caller)
    assert isinstance(wrong, str) and "0099" in wrong and "住户名册" in wrong
    assert udfs.JIFEN_TOTAL("0005", caller) == "户号「0005」不在「月度台账」中（该户状态不是正常）"  # 迁出
    # 参与村级志愿者服务活动 is worth 3 (2026-001: 2 × 3 = 6 points)
    assert udfs.JIFEN_EXPECTED("JC-22", 2, dt.datetime(2026, 1, 5), caller=caller) == 6
    assert udfs.JIFEN_EXPECTED("XX-99", 1, caller=caller) == "指标编码「XX-99」不在「积分指标」中"
    assert remote.actions == []  # a UDF never writes


def test_udfs_read_the_workbook_once_for_a_sheet_of_formulas(tmp_path):
    from jifen_xl import udfs

    book, _ = _pair(tmp_path)
    remote = Remote(book)
    caller = remote.book.sheets[0].range("A1")
    udfs.clear_cache()
    udfs.JIFEN_TOTAL("0001", caller)
    first = udfs._cache.copy()
    for hh in ("0002", "0003", "0004"):
        udfs.JIFEN_BALANCE(hh, caller)
    assert udfs._cache == first  # the same figures object: not read again


def test_validating_again_unmarks_the_cells_fixed_since(tmp_path):
    t = V.village_tables()
    t["entries"].loc[0, "hh_id"] = "0099"  # C2
    t["entries"].loc[1, "date"] = None  # B3
    book, _ = _pair(tmp_path, t)
    first = Remote(book)
    macros.validate(first.book, confirm=False)
    grid = first.grid()
    assert set(grid.colors) == {(S.ENTRIES.name, 2, 3), (S.ENTRIES.name, 3, 2)}
    rows = dict(grid.sheets)[S.ENTRIES.name]
    rows[1][2] = "0001"  # the clerk fixes C2 and presses 校验 again
    again = Remote(payload=grid.payload(first.payload))
    macros.validate(again.book, confirm=False)
    grid.apply(again.actions)
    assert set(grid.colors) == {(S.ENTRIES.name, 3, 2)}
    assert grid.notes == {(S.ENTRIES.name, 3, 2): "「日期」不能为空"}
    assert _cells(grid.backend(), S.FINDINGS)[0][:4] == ("错误", S.ENTRIES.name, 3, "日期")
    assert len(_cells(grid.backend(), S.FINDINGS)) == 1


# -- the township button ------------------------------------------------------------------------------
TOWNSHIP_XLSM = Path(__file__).resolve().parents[1] / "workbook" / "乡镇积分汇总.xlsm"
TOWNSHIP_NAME = "中梁镇2026年积分汇总.xlsm"


def _villages(tmp_path: Path) -> Path:
    villages = tmp_path / macros.VILLAGES_FOLDER
    villages.mkdir()
    for name in ("永宁寺村", "玉溪村"):
        build(villages / f"{name}.xlsx", settings=dict(V.SETTINGS, village=name))
    return villages


def _edit_rules(tmp_path: Path, edits: dict[tuple[int, int], object]) -> tuple[Remote, Path]:
    """The officer's township workbook with 评优规则's cells (Excel row, column) edited: shown to
    the remote Book as the clerk's Excel would send it, and saved as a file (openpyxl, keeping
    the VBA) in ``file/`` for the CLI."""
    import openpyxl

    from jifen_xl.ooxml.sheetxml import column_letters

    from .remote_excel import book_json

    shutil.copyfile(TOWNSHIP_XLSM, tmp_path / TOWNSHIP_NAME)
    payload = book_json(tmp_path / TOWNSHIP_NAME)
    sheet = next(s for s in payload["sheets"] if s["name"] == S.AWARD_RULES.name)
    wb = openpyxl.load_workbook(tmp_path / TOWNSHIP_NAME, keep_vba=True)
    values = sheet["values"]
    for (r, c), value in edits.items():
        width = max(len(values[0]), c)
        while len(values) < r:  # a row typed below the used range widens it, as Excel sends it
            values.append([""] * width)
        for row in values:
            row.extend([""] * (width - len(row)))
        values[r - 1][c - 1] = "" if value is None else value
        wb[S.AWARD_RULES.name].cell(r, c).value = value
    sheet["used_range_address"] = f"A1:{column_letters(len(values[0]))}{len(values)}"
    (tmp_path / "file").mkdir(exist_ok=True)
    wb.save(tmp_path / "file" / TOWNSHIP_NAME)
    return Remote(payload=payload), tmp_path / "file" / TOWNSHIP_NAME


def _sheets(path: Path) -> dict[str, list]:
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def test_township_import_takes_the_rules_edited_in_the_live_book_as_the_cli_takes_them_from_the_file(tmp_path):
    from jifen_xl.io.township_book import read_award_rules

    from .xlsxdump import book_table

    villages = _villages(tmp_path)
    award, minimum, quota = (S.AWARD_RULES.headers.index(S.AWARD_RULES.header_of(f)) + 1
                             for f in ("award", "min_points", "per_village"))
    assert read_award_rules(TOWNSHIP_XLSM).loc[0, "award"] == "星级文明户"  # row 2
    # the officer lowers 星级文明户's threshold from 60 to 10 with 2 per village, and adds a rule
    edits = {(2, minimum): 10, (2, quota): 2, (6, award): "进步之星", (6, minimum): 0, (6, quota): 1,
             (6, S.AWARD_RULES.headers.index(S.AWARD_RULES.header_of("no_deduction")) + 1): "否"}
    remote, file_copy = _edit_rules(tmp_path, edits)
    text = macros.township_import(remote.book, confirm=False)
    stem = f"中梁镇2026年积分汇总（{TODAY.month}月{TODAY.day}日导入）"
    made, report = tmp_path / f"{stem}.xlsx", tmp_path / f"{stem}汇总报告.html"
    pdf = tmp_path / f"{stem}汇总报告.pdf"
    assert text.splitlines() == [
        f"已导入 2 个村的台账（「{macros.VILLAGES_FOLDER}」中共 2 个文件：{S.FILE_IMPORTED} 2 个）。",
        f"已生成乡镇汇总工作簿「{made}」，请在文件夹中打开它。",  # the remote engine opens no file
        *([f"已生成「{pdf}」。"] if find_soffice() else []), f"已生成「{report}」。",
        *([] if find_soffice() else ["没有找到 LibreOffice，只生成了网页版（.html），可用浏览器打开后打印。"])]
    assert pdf.exists() == bool(find_soffice()) and report.exists()
    assert remote.grid().funcs == ["alert"]  # the township workbook itself is not written
    # the CLI, on the file holding the same rules, writes the same workbook
    cli = run("township", "import", villages, "-o", file_copy, "--workers", "1")
    assert cli.exit_code == 0, cli.output
    ours, theirs = _sheets(made), _sheets(file_copy)
    assert list(ours) == list(theirs)
    for name in ours:
        assert ours[name] == theirs[name], name
    def chosen(path: Path) -> list[tuple]:
        fields = ("award", "village", "hh_id", "points")
        return [tuple(c[S.TOWNSHIP_CANDIDATES.header_of(f)] for f in fields)
                for c in book_table(path, S.TOWNSHIP_CANDIDATES) if c[S.TOWNSHIP_CANDIDATES.header_of("hh_id")]]

    assert chosen(made) == [("星级文明户", v, hh, pts) for v in ("永宁寺村", "玉溪村")
                            for hh, pts in (("0006", 22), ("0003", 10))] + \
        [("进步之星", v, "0006", 22) for v in ("永宁寺村", "玉溪村")]
    # the rules as the workbook was shipped (60 points): nobody in these villages qualifies
    default = tmp_path / "default.xlsx"
    assert run("township", "import", villages, "-o", default, "--workers", "1").exit_code == 0
    assert chosen(default) == []


def test_township_import_refuses_a_wrong_rule_before_any_work_with_the_cli_s_text(tmp_path):
    villages = _villages(tmp_path)
    minimum = S.AWARD_RULES.headers.index(S.AWARD_RULES.header_of("min_points")) + 1
    remote, file_copy = _edit_rules(tmp_path, {(3, minimum): -5})
    before = sorted(p.name for p in tmp_path.iterdir())
    assert macros.township_import(remote.book, confirm=False) is None
    grid = remote.grid()
    assert grid.funcs == ["alert"]
    text, _title, _buttons, mode, _callback = grid.alerts[0]
    assert mode == "critical"
    assert text == ("「中梁镇2026年积分汇总.xlsm」的“评优规则”工作表有 1 处需要修改，汇总工作簿没有写入：\n"
                    "第 3 行“最低积分”：最低积分「-5」是负数。请填写 0 或正数")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    cli = run("township", "import", villages, "-o", file_copy, "--workers", "1")
    assert cli.exit_code == 1 and f"错误：{text}" in cli.output


def test_township_import_without_the_villages_folder_says_how_to_make_it(tmp_path):
    build(tmp_path / "永宁寺村.xlsx")  # a village workbook beside the township one: NOT imported
    shutil.copyfile(TOWNSHIP_XLSM, tmp_path / TOWNSHIP_NAME)
    remote = Remote(tmp_path / TOWNSHIP_NAME)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert macros.township_import(remote.book, confirm=False) is None
    grid = remote.grid()
    assert grid.funcs == ["alert"]
    assert grid.alerts[0][0] == (f"没有找到存放各村台账的文件夹「{tmp_path / '各村台账'}」。请在本工作簿所在的文件夹"
                                 f"「{tmp_path}」里新建一个名为“各村台账”的文件夹，把各村报送的工作簿（.xlsx）放进去，"
                                 "再按“导入各村台账”。")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_owned_sheet_the_workbook_lacks_is_added_after_the_last_one(tmp_path):
    from .test_added_sheet import drop_sheet

    t = V.village_tables()
    t["entries"].loc[0, "hh_id"] = "0099"
    book, copy = _pair(tmp_path, t)
    for path in (book, copy):
        drop_sheet(path, S.FINDINGS.name)
    remote = Remote(book)
    macros.validate(remote.book, confirm=False)
    app.validate_book(XlsxFile(copy))
    grid = remote.grid()
    assert grid.funcs[0] == "addSheet" and grid.sheets[-1][0] == S.FINDINGS.name
    assert_same_tables(remote, copy)


#: The buttons' functions, as the issue's design names them (``schema.BUTTONS`` once declared).
BUTTON_MACROS = ("validate", "publish", "print_notice", "close_month", "shop", "print_cards", "supervise",
                 "rollover", "township_import")


def test_every_button_has_its_entry_point():
    # 导入公式函数 calls xlwings' ImportPythonUDFs, not a function of ours (its macro is empty)
    names = [b.macro for b in getattr(S, "BUTTONS", ()) if b.macro] or list(BUTTON_MACROS)
    assert sorted(names) == sorted(BUTTON_MACROS)
    for name in names:
        assert callable(getattr(macros, name)), name


def test_the_runtime_never_loads_xlwings_licensed_engine():
    """Importing the buttons, the UDFs and the live backend needs no licence key (only these tests do)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_LICENSE_KEY"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    code = ("import sys, jifen_xl.macros, jifen_xl.udfs, jifen_xl.io.live; "
            "print(sorted(m for m in sys.modules if m.startswith('xlwings.pro._xl')))")  # the licensed engines
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_validate_says_so_when_the_findings_sheet_cannot_be_written(tmp_path):
    t = V.village_tables()
    t["entries"].loc[0, "hh_id"] = "0099"
    book, _ = _pair(tmp_path, t)
    remote = Remote(book)
    findings = next(s for s in remote.book.api["sheets"] if s["name"] == S.FINDINGS.name)
    letter = chr(ord("A") + len(S.FINDINGS.headers))  # the clerk typed a note beside the table
    findings["values"] = [list(S.FINDINGS.headers) + [""], [""] * len(S.FINDINGS.headers) + ["村里的备注"]]
    findings["used_range_address"] = f"A1:{letter}2"
    assert macros.validate(remote.book, confirm=False) is None
    grid = remote.grid()
    assert grid.funcs == ["alert"]  # nothing written
    assert grid.alerts[0][0] == ("共 1 个错误、0 个警告。上面的校验结果没有写入「校验结果」工作表。"
                                 f"「校验结果」工作表的第 {letter} 列不是工具生成的列，但下面的行里有手工填写的内容；"
                                 "工具重写「校验结果」时会覆盖它。请把这一列移到别的工作表（或删除）后再试。")


def test_without_libreoffice_the_print_buttons_make_the_web_page_and_say_so(tmp_path, monkeypatch):
    monkeypatch.setenv("JIFEN_SOFFICE", str(tmp_path / "no-such-soffice"))
    book, _ = _pair(tmp_path)
    text = macros.supervise(Remote(book).book, confirm=False)
    assert text == (f"已生成「{tmp_path / '监督报告.html'}」。\n"
                    "没有找到 LibreOffice，只生成了网页版（.html），可用浏览器打开后打印。")
    assert not (tmp_path / "监督报告.pdf").exists()


# -- a clerk's formulas --------------------------------------------------------------------------------
def _with_formulas(path: Path, sheet: str, cells: dict[str, tuple[str, object]]) -> None:
    """Make cells of ``sheet`` formulas with their cached values, as Excel saves them (``cells``:
    reference -> (formula without "=", cached value: a number or a text)); a cell the row lacks is
    added at the row's end (a column right of the table)."""
    import posixpath
    import zipfile
    from xml.sax.saxutils import escape

    from .remote_excel import _resolve

    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    parts = dict((i.filename, data) for i, data in items)
    rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="([^"]+)"', parts["xl/workbook.xml"].decode()).group(1)
    target = re.search(rf'<Relationship[^>]*Id="{rid}"[^>]*Target="([^"]+)"|<Relationship[^>]*Target="([^"]+)"[^>]*Id="{rid}"',
                       parts["xl/_rels/workbook.xml.rels"].decode())
    part = _resolve("xl", target.group(1) or target.group(2))
    xml = parts[part].decode()
    for ref, (formula, cached) in cells.items():
        kind = ' t="str"' if isinstance(cached, str) else ""
        new = f'<c r="{ref}"{{style}}{kind}><f>{escape(formula)}</f><v>{escape(str(cached))}</v></c>'
        found = re.search(rf'<c r="{ref}"(?P<style> s="\d+")?[^>]*?(?:/>|>.*?</c>)', xml)
        if found:
            xml = xml[:found.start()] + new.format(style=found.group("style") or "") + xml[found.end():]
        else:
            row = re.search(rf'<row r="{re.sub(r"[A-Z]+", "", ref)}"[^>]*>.*?(?=</row>)', xml)
            xml = xml[:row.end()] + new.format(style="") + xml[row.end():]
    parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, _data in items:
            z.writestr(info, parts[info.filename])
    assert posixpath.basename(part).endswith(".xml")


def _letter(spec, field: str) -> str:
    from jifen_xl.ooxml.sheetxml import column_letters

    return column_letters(spec.headers.index(spec.header_of(field)) + 1)


def _file_formulas(path: Path, sheet: str) -> dict[str, str]:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    try:
        return {c.coordinate: c.value for row in wb[sheet].iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")}
    finally:
        wb.close()


def test_publish_keeps_a_formula_between_the_patched_rows_on_an_engine_that_reads_formulas(tmp_path):
    """Formulas read from the file by openpyxl (xlwings' remote engine cannot read them: see
    ``remote_excel.formula_reads``): 积分登记.状态 is read and written back as one block of formulas."""
    book, copy = _pair(tmp_path, cycle_tables())
    status = _letter(S.ENTRIES, "status")
    for path in (book, copy):  # 2026-010 (row 11, April's, between March's rows 10 and 12-14)
        _with_formulas(path, S.ENTRIES.name, {f"{status}11": ('IF(TRUE,"公示中")', "公示中")})
    remote = Remote(book, formulas=True)
    assert macros.publish(remote.book, confirm=False) is not None
    app.publish_book(XlsxFile(copy), month="2026-03")
    grid = remote.grid()
    entries = _sheet_index(book, S.ENTRIES.name)
    column = S.ENTRIES.headers.index(S.ENTRIES.header_of("status"))
    written = [a for a in remote.actions if a["sheet_position"] == entries and a["start_column"] == column]
    assert [(a["func"], a["start_row"] + 1, a["row_count"]) for a in written] == [("setFormula", 10, 5)]
    assert written[0]["values"][1] == ['=IF(TRUE,"公示中")']  # row 11 written back as it was
    assert grid.formulas == {(S.ENTRIES.name, 11, column + 1): '=IF(TRUE,"公示中")'}
    assert_same_tables(remote, copy)
    assert _file_formulas(copy, S.ENTRIES.name) == {f"{status}11": '=IF(TRUE,"公示中")'}  # the file backend keeps it too


def test_a_formula_in_a_cell_the_button_would_set_is_refused_as_the_cli_refuses_it(tmp_path):
    """On an engine that reads formulas (from the file by openpyxl here, as Excel would give them)."""
    book, copy = _pair(tmp_path, cycle_tables())
    status = _letter(S.ENTRIES, "status")
    for path in (book, copy):  # 2026-011 (row 12): March's, 待公示, to be set 公示中
        _with_formulas(path, S.ENTRIES.name, {f"{status}12": ('IF(TRUE,"待公示")', "待公示")})
    remote = Remote(book, formulas=True)
    assert macros.publish(remote.book, confirm=False) is None
    cli = run("publish", copy, "--month", "2026-03")
    grid = remote.grid()
    assert grid.funcs == ["alert"]  # refused before any write
    text = grid.alerts[0][0]
    assert text == (f"工作簿「{book.name}」的工作表「积分登记」第 12 行「状态」列（{status}12）是公式，工具不会覆盖公式，"
                    "没有写入。请把该单元格改为直接填写的内容后重试。")
    assert cli.exit_code == 1 and cli.output.strip() == f"错误：{text}"


def test_recorded_writes_never_touch_a_clerk_s_formula_cells_on_an_engine_without_formula_reads(tmp_path):
    """xlwings' remote engine as it is (values only): =B2 right of 积分登记's table and a formula
    in 积分指标's 分值 stay exactly (no action covers them) through 生成公示 and 封账."""
    extra = _letter(S.ENTRIES, S.ENTRIES.columns[-1].field)
    extra = chr(ord(extra) + 1)  # the column right of the table
    points = _letter(S.INDICATORS, "points")
    formulas = {S.ENTRIES.name: {f"{extra}{r}": ("B2", 0) for r in range(2, 16)},
                S.INDICATORS.name: {f"{points}2": ("1+1", 2)}}
    actions, copies = [], []
    for step in ("publish", "close_month"):
        folder = tmp_path / step
        folder.mkdir()
        book, copy = _pair(folder, cycle_tables())
        for path in (book, copy):
            for sheet, cells in formulas.items():
                _with_formulas(path, sheet, cells)
            if step == "close_month":  # March published on the 20th: its period is over
                app.publish_book(XlsxFile(path), month="2026-03", start="2026-03-20", today=dt.date(2026, 3, 20))
        remote = Remote(book)
        assert getattr(macros, step)(remote.book, confirm=False) is not None
        if step == "publish":
            app.publish_book(XlsxFile(copy), month="2026-03")
        else:
            app.close_book(XlsxFile(copy), month="2026-03")
        assert_same_tables(remote, copy)
        actions += remote.actions
        copies.append(copy)
    names = [name for name, _rows in remote.grid().sheets]
    for a in actions:
        if a.get("start_row") is None or a["func"] in ("alert", "resizeTable"):
            continue
        sheet = names[a["sheet_position"]]
        covered = {(r, c) for r in range(a["start_row"] + 1, a["start_row"] + 1 + a["row_count"])
                   for c in range(a["start_column"] + 1, a["start_column"] + 1 + a["column_count"])}
        for ref in formulas.get(sheet, {}):
            from jifen_xl.ooxml.sheetxml import column_number

            cell = (int(re.sub(r"[A-Z]+", "", ref)), column_number(re.sub(r"\d+", "", ref)))
            assert cell not in covered, (a["func"], sheet, ref)
    for copy in copies:  # and the file backend keeps them too
        for sheet, cells in formulas.items():
            assert _file_formulas(copy, sheet) == {ref: f"={f}" for ref, (f, _v) in cells.items()}


# -- merged cells ----------------------------------------------------------------------------------------
def _merge_like_a_clerk(path: Path, *, status_rows: tuple[int, int] | None = None) -> None:
    """A clerk's merges (openpyxl): a title row above 住户名册's header merged across the table,
    住户名册.备注 merged over rows 4-5 (households 2 and 3), 积分登记.备注 merged over rows 2-4 (its text in row 2 only);
    ``status_rows``: 积分登记.状态 merged over those rows too."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    hh = wb[S.HOUSEHOLDS.name]
    hh.insert_rows(1)
    hh["A1"] = "永宁寺村住户名册（2026年）"
    note = _letter(S.HOUSEHOLDS, "note")
    hh[f"{note}4"] = "同住一院"
    hh[f"{note}5"] = None
    hh.merge_cells(f"{note}4:{note}5")
    hh.merge_cells(f"A1:{_letter(S.HOUSEHOLDS, S.HOUSEHOLDS.columns[-1].field)}1")
    entries = wb[S.ENTRIES.name]
    note = _letter(S.ENTRIES, "note")
    entries[f"{note}2"] = "第一季度集中登记"
    for r in (3, 4):
        entries[f"{note}{r}"] = None
    entries.merge_cells(f"{note}2:{note}4")
    if status_rows is not None:
        status = _letter(S.ENTRIES, "status")
        for r in range(status_rows[0] + 1, status_rows[1] + 1):
            entries[f"{status}{r}"] = None
        entries.merge_cells(f"{status}{status_rows[0]}:{status}{status_rows[1]}")
    wb.save(path)
    wb.close()


def test_merged_cells_read_as_the_file_reader_reads_them_where_the_engine_tells_merged_blocks(tmp_path):
    """Merged blocks answered from the file (python-calamine), as Excel's MergeCells/MergeArea
    would: xlwings' remote engine cannot tell them (there a block reads as Excel shows it, its
    value in the top-left cell only)."""
    book, copy = _pair(tmp_path, cycle_tables())
    for path in (book, copy):
        _merge_like_a_clerk(path)
    live, disk = LiveBook(Remote(book, merged=True).book), XlsxFile(book)
    for spec in S.CLERK_SHEETS:
        a, b = live.read_table(spec), disk.read_table(spec)
        assert (a.sheet_name, a.header_row, a.letters) == (b.sheet_name, b.header_row, b.letters), spec.name
        pd.testing.assert_frame_equal(a.frame, b.frame)
    households = live.read_table(S.HOUSEHOLDS)
    assert households.header_row == 2
    assert households.frame["note"].tolist()[1:3] == ["同住一院", "同住一院"]  # rows 4-5 now
    assert live.read_table(S.ENTRIES).frame["note"].tolist()[:3] == ["第一季度集中登记"] * 3
    # each sheet: its extent, its values, whether it has a merged block (one call); the 3 blocks
    # (the title, two 备注) are found by halving the range, at most 20 calls each, never row by row
    assert live.operations <= 3 * len(S.CLERK_SHEETS) + 3 * 20


def test_buttons_write_around_merged_cells_as_the_file_backend_does(tmp_path):
    book, copy = _pair(tmp_path, cycle_tables())
    for path in (book, copy):
        _merge_like_a_clerk(path)
    remote = Remote(book, merged=True, formulas=True)
    assert macros.validate(remote.book, confirm=False) is not None
    app.validate_book(XlsxFile(copy))
    assert_same_tables(remote, copy)
    remote = Remote(book, merged=True, formulas=True)
    assert macros.publish(remote.book, confirm=False) is not None
    app.publish_book(XlsxFile(copy), month="2026-03")
    assert_same_tables(remote, copy)
    note = S.ENTRIES.headers.index(S.ENTRIES.header_of("note"))
    entries = _sheet_index(book, S.ENTRIES.name)
    assert not [a for a in remote.actions if a.get("sheet_position") == entries and a.get("start_column") == note]


def test_a_merged_block_over_cells_a_button_would_set_is_refused_as_the_cli_refuses_it(tmp_path):
    book, copy = _pair(tmp_path, cycle_tables())
    for path in (book, copy):  # 2026-011 and 2026-012 (rows 12-13), both to be set 公示中
        _merge_like_a_clerk(path, status_rows=(12, 13))
    remote = Remote(book, merged=True, formulas=True)
    assert macros.publish(remote.book, confirm=False) is None
    cli = run("publish", copy, "--month", "2026-03")
    grid = remote.grid()
    assert grid.funcs == ["alert"]
    status = _letter(S.ENTRIES, "status")
    assert grid.alerts[0][0] == (f"工作簿「{book.name}」的工作表「积分登记」第 12 行「状态」列（{status}12）在合并单元格里，"
                                 "工具不会改写它，没有写入。请取消合并单元格后重试。")
    assert cli.exit_code == 1 and cli.output.strip() == f"错误：{grid.alerts[0][0]}"


def test_a_merged_block_between_the_patched_rows_is_written_around(tmp_path):
    """2026-010's 状态 and 备注 merged (row 11, between March's rows 10 and 12-14): the 状态 block
    is written in two pieces around it (Excel refuses to change part of a merged block)."""
    import openpyxl

    book, copy = _pair(tmp_path, cycle_tables())
    status, note = _letter(S.ENTRIES, "status"), _letter(S.ENTRIES, "note")
    for path in (book, copy):
        wb = openpyxl.load_workbook(path)
        wb[S.ENTRIES.name].merge_cells(f"{status}11:{note}11")
        wb.save(path)
    remote = Remote(book, merged=True, formulas=True)
    assert macros.publish(remote.book, confirm=False) is not None
    app.publish_book(XlsxFile(copy), month="2026-03")
    assert_same_tables(remote, copy)
    entries = _sheet_index(book, S.ENTRIES.name)
    column = S.ENTRIES.headers.index(S.ENTRIES.header_of("status"))
    written = [(a["func"], a["start_row"] + 1, a["row_count"]) for a in remote.actions
               if a.get("sheet_position") == entries and a.get("start_column") == column]
    assert written == [("setFormula", 10, 1), ("setFormula", 12, 3)]
