"""The workbooks clerks really keep (issue 8, section 5): each test builds the small village on
disk, makes an edit a clerk makes (with openpyxl, some re-saved by LibreOffice so formulas carry
the values Excel would cache), runs the real pipeline and checks what the clerk sees.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.core.clean import FORMATS, CellFormats, clean_frame

from . import village_data as V
from .conftest import TODAY, build
from .lo import lo_convert, needs_lo

ENTRY_COLUMNS = {h: i + 1 for i, h in enumerate(S.ENTRIES.headers)}


def _edit(path: Path, edit) -> Path:
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    return path


def _col(sheet: S.SheetSpec, field: str) -> int:
    """1-based column of ``field`` in the toolkit's template (headers in declared order)."""
    return sheet.fields.index(field) + 1


def _find_row(ws, column: int, value) -> int:
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, column).value == value:
            return r
    raise AssertionError(f"{value!r} not found")


def _flat(report, rules=None) -> list[tuple]:
    return [(p.sheet, p.row, p.column, p.rule) for p in report.problems if rules is None or p.rule in rules]


@pytest.fixture
def book(tmp_path) -> Path:
    return build(tmp_path / "永宁寺村.xlsx")


def test_small_village_is_clean(book):
    """The baseline every edit below starts from: no findings at all."""
    _, report = app.check(app.open_backend(book), TODAY)
    assert report.problems == ()


# -- 1. rows that are not records -------------------------------------------------------------
def _add_totals_and_footers(wb) -> None:
    """What clerks add under their data: an Excel table totals row (汇总 + SUBTOTAL), a 合计 row
    with SUM formulas and a 制表人/审核人/填表日期 footer."""
    ent = wb[S.ENTRIES.name]
    table = ent.tables[S.ENTRIES.table]
    last = ent.max_row
    total = last + 1
    ent.cell(total, 1, "汇总")
    ent.cell(total, _col(S.ENTRIES, "qty"), f"=SUBTOTAL(109,G2:G{last})")
    ent.cell(total, _col(S.ENTRIES, "points"), f"=SUBTOTAL(109,H2:H{last})")
    table.ref = f"A1:{table.ref.split(':')[1].rstrip('0123456789')}{total}"
    table.totalsRowCount = 1
    ent.cell(total + 2, 1, "制表人：王文书")
    ent.cell(total + 2, 5, "审核人：吴支书")
    ent.cell(total + 2, 9, "填表日期：2026年11月30日")

    hh = wb[S.HOUSEHOLDS.name]
    last = hh.max_row
    hh.cell(last + 1, _col(S.HOUSEHOLDS, "head"), "合　计")
    for field in ("members", "carried_total", "carried_available"):
        c = _col(S.HOUSEHOLDS, field)
        letter = openpyxl.utils.get_column_letter(c)
        hh.cell(last + 1, c, f"=SUM({letter}2:{letter}{last})")
    hh.cell(last + 3, 1, "制表人：")
    hh.cell(last + 3, 2, "王文书")
    hh.cell(last + 3, 4, "审核人：")
    hh.cell(last + 3, 5, "吴支书")
    hh.cell(last + 4, 8, "2026年11月30日")  # the date line under the footer, without a label

    ex = wb[S.EXCHANGES.name]
    last = ex.max_row
    ex.cell(last + 1, 1, "小计")
    ex.cell(last + 1, _col(S.EXCHANGES, "points"), f"=SUM(F2:F{last})")
    ex.cell(last + 2, 1, "负责人：吴支书")


@needs_lo
def test_totals_rows_and_footers_are_not_records(book, tmp_path):
    _edit(book, _add_totals_and_footers)
    saved = lo_convert(book, "xlsx", tmp_path / "lo")  # formulas now carry their values
    loaded, report = app.check(app.open_backend(saved), TODAY)
    raw_entries, raw_hh = loaded.raw["entries"].frame, loaded.raw["households"].frame
    # the rows are there, with the values the formulas compute (6+1... = 68 points, 18 people)
    assert raw_entries.loc[raw_entries["entry_id"] == "汇总", "points"].tolist() == [68.0]
    assert raw_hh.loc[raw_hh["head"] == "合　计", "members"].tolist() == [18.0]
    assert report.problems == ()
    assert len(loaded.village["entries"]) == len(V.ENTRIES)
    assert len(loaded.village["households"]) == len(V.HOUSEHOLDS)
    assert len(loaded.village["exchanges"]) == len(V.EXCHANGES)
    result = app.ledger_book(app.open_backend(saved), month="2026-02", dry_run=True, today=TODAY)
    assert result.through == "2026-02"


def test_totals_row_values_as_excel_caches_them(book):
    """Without LibreOffice: the same rows with the values Excel caches for the formulas."""
    def edit(wb):
        ent = wb[S.ENTRIES.name]
        total = ent.max_row + 1
        ent.cell(total, 1, "合计")
        ent.cell(total, _col(S.ENTRIES, "points"), 70)
        ent.cell(total + 1, 1, "制表人：王文书　审核人：吴支书　填表日期：2026-11-30")
    _edit(book, edit)
    _, report = app.check(app.open_backend(book), TODAY)
    assert report.problems == ()


def test_a_totals_row_whose_sum_was_never_calculated_is_not_reported(book):
    """A program (here openpyxl) writes the 合计 row's SUM without a result: that row is not a
    record, so its missing result is nobody's concern; an entry's own uncalculated formula is."""
    def edit(wb):
        ent = wb[S.ENTRIES.name]
        last = ent.max_row
        letter = openpyxl.utils.get_column_letter(_col(S.ENTRIES, "points"))
        ent.cell(last + 1, 1, "合计")
        ent.cell(last + 1, _col(S.ENTRIES, "points"), f"=SUM({letter}2:{letter}{last})")
        ent.cell(2, _col(S.ENTRIES, "evidence"), "=\"照片\"&\"1张\"")  # an entry's own formula, never calculated
    _edit(book, edit)
    _, report = app.check(app.open_backend(book), TODAY)
    assert _flat(report) == [(S.ENTRIES.name, 2, "证明材料", "E-FMT-NOCALC")]


def test_a_half_filled_entry_is_still_reported_and_a_head_named_heji_is_a_household(book):
    def edit(wb):
        ent = wb[S.ENTRIES.name]
        row = ent.max_row + 1
        ent.cell(row, 1, "2026-011")
        ent.cell(row, _col(S.ENTRIES, "points"), 5)  # half-filled: a real record, not a total
        ent.cell(row, _col(S.ENTRIES, "note"), "合计")  # a label in 备注 beside real data
        hh = wb[S.HOUSEHOLDS.name]
        hh.append(["0007", "合计", "本村户籍", "3组", 2, None, None, "正常", 0, 0, None])
    _edit(book, edit)
    loaded, report = app.check(app.open_backend(book), TODAY)
    assert "0007" in set(loaded.village["households"]["hh_id"])
    row = len(V.ENTRIES) + 2
    assert {(p.row, p.rule) for p in report.errors} >= {(row, "E-REQ")}
    assert all(p.sheet == S.ENTRIES.name and p.row == row for p in report.errors)


# -- 2. whitespace inside a person's name ------------------------------------------------------
def test_spaces_inside_names_are_not_part_of_them(book):
    def edit(wb):
        ent = wb[S.ENTRIES.name]
        scorers = ENTRY_COLUMNS["评议人"]
        ent.cell(2, scorers, "刘　会计、陈 老师")  # full-width and ASCII spaces inside names
        ent.cell(3, scorers, " 张 大山 ")
        ent.cell(4, scorers, "刘会计 陈老师")  # two members separated by a space instead of 、
        ent.cell(2, ENTRY_COLUMNS["户主姓名"], "张　大山")
        mem = wb[S.MEMBERS.name]
        mem.cell(_find_row(mem, 1, "陈老师"), 1, "陈　老师")
    _edit(book, edit)
    loaded, report = app.check(app.open_backend(book), TODAY)
    assert report.problems == ()
    assert "陈老师" in set(loaded.village["members"]["name"])
    assert loaded.village["entries"]["head"].iloc[0] == "张大山"


def test_unknown_names_among_space_separated_ones_are_reported_one_by_one(book):
    _edit(book, lambda wb: wb[S.ENTRIES.name].cell(2, ENTRY_COLUMNS["评议人"], "刘会计 王五"))
    _, report = app.check(app.open_backend(book), TODAY)
    assert [(p.row, p.rule, p.message) for p in report.problems] == [
        (2, "E-ENT-10", "评议人「王五」不是「小组成员」中积分评议小组的成员")]


# -- 3. invisible characters -------------------------------------------------------------------
def test_invisible_characters_pasted_from_wechat_are_dropped(book):
    def edit(wb):
        ent = wb[S.ENTRIES.name]
        ent.cell(2, ENTRY_COLUMNS["户号"], "\u200b0001")  # zero-width space
        ent.cell(3, ENTRY_COLUMNS["户号"], "0002\ufeff")  # BOM
        ent.cell(4, ENTRY_COLUMNS["指标编码"], "KF\u00ad-02")  # soft hyphen
        ent.cell(5, ENTRY_COLUMNS["评议人"], "刘\u200d会计")  # zero-width joiner
        ent.cell(6, ENTRY_COLUMNS["来源"], "\u2060平时发现")  # word joiner
        ent.cell(7, ENTRY_COLUMNS["登记编号"], "2026-00\u200c6")  # zero-width non-joiner
    _edit(book, edit)
    loaded, report = app.check(app.open_backend(book), TODAY)
    assert report.problems == ()
    entries = loaded.village["entries"]
    assert list(entries["hh_id"].iloc[:2]) == ["0001", "0002"]
    assert entries["entry_id"].iloc[5] == "2026-006"


# -- 4. a member's 户号 typed as a number --------------------------------------------------------
def test_recusal_still_applies_when_a_members_hh_id_is_a_number(book):
    def edit(wb):
        mem = wb[S.MEMBERS.name]
        mem.cell(_find_row(mem, 1, "张大山"), _col(S.MEMBERS, "hh_id"), 1)  # Excel ate the zeros of 0001
        ent = wb[S.ENTRIES.name]
        ent.cell(2, ENTRY_COLUMNS["评议人"], "张大山")  # entry 2026-001 is household 0001's own
    _edit(book, edit)
    _, report = app.check(app.open_backend(book), TODAY)
    member_row = 2
    assert [(p.sheet, p.row, p.rule, p.message, p.fix) for p in report.problems] == [
        (S.MEMBERS.name, member_row, "E-REF", "户号「1」不在「住户名册」中",
         "住户名册中的户号是「0001」：请把该列设为文本格式后按「0001」输入"),
        (S.ENTRIES.name, 2, "E-ENT-11", "评议人「张大山」为本户（户号「0001」）评分，应当回避", "请改由其他评议小组成员评分"),
    ]


def test_a_member_without_household_needs_no_hh_id(book):
    _, report = app.check(app.open_backend(book), TODAY)
    assert not _flat(report, {"E-REF"})


# -- 5. 户号 stored as a number and shown through 0000 -------------------------------------------
def test_code_shown_through_its_number_format_as_the_reader_hands_it_over(book):
    """The reader leaves each numeric code cell's number format in ``frame.attrs[FORMATS]``
    (``io.xlsxread``; more in tests/test_number_formats.py): the same formats openpyxl reads."""
    def edit(wb):
        ent = wb[S.ENTRIES.name]
        for r in (2, 3):
            cell = ent.cell(r, ENTRY_COLUMNS["户号"])
            cell.value, cell.number_format = int(cell.value), "0000"
        cell = ent.cell(4, ENTRY_COLUMNS["户号"])
        cell.value, cell.number_format = int(cell.value), "General"  # shown 4: not 0004
    _edit(book, edit)
    backend = app.open_backend(book)
    raw = backend.read_table(S.ENTRIES)
    wb = openpyxl.load_workbook(book)
    ws = wb[S.ENTRIES.name]
    column = ENTRY_COLUMNS["户号"]
    formats = [ws.cell(int(r), column).number_format for r in raw.frame["excel_row"]]
    numeric = [isinstance(ws.cell(int(r), column).value, int) for r in raw.frame["excel_row"]]
    assert raw.frame.attrs[FORMATS]["hh_id"] == [f if n and f != "General" else None
                                                for f, n in zip(formats, numeric)]
    plain, _ = clean_frame(S.ENTRIES, raw.frame, formats=CellFormats())
    assert list(plain["hh_id"].iloc[:3]) == ["1", "2", "4"]  # what the raw values alone give
    typed, problems = clean_frame(S.ENTRIES, raw.frame)
    assert problems == []
    assert list(typed["hh_id"].iloc[:3]) == ["0001", "0002", "4"]


# -- 6. several decisions on one entry ---------------------------------------------------------
OBJ = {h: i + 1 for i, h in enumerate(S.OBJECTIONS.headers)}


def test_a_withdrawal_reviewed_into_a_correction_leaves_the_correction(book, tmp_path):
    def edit(wb):
        ws = wb[S.OBJECTIONS.name]
        # YY-02 withdrew 2026-008 on 03-09; reviewed and corrected to -1 on 03-20.
        ws.append(["YY-04", "2026-008", "张大山", dt.date(2026, 3, 12), "复核：确有此事但情节较轻", "陈老师",
                   "更正", -1, dt.date(2026, 3, 20), None])
        ent = wb[S.ENTRIES.name]
        ent.cell(_find_row(ent, 1, "2026-008"), ENTRY_COLUMNS["状态"], "已确认")  # the review confirmed it
    _edit(book, edit)
    result = app.ledger_book(app.open_backend(book), month="2026-03", dry_run=True, today=TODAY)
    march = result.ledger.set_index(["month", "hh_id"]).loc[("2026-03", "0001")]
    # 0001 in March: only 2026-008, now -1 (it was withdrawn before the review)
    assert (march["deduct"], march["month_total"]) == (-1.0, -1.0)


def test_two_corrections_the_later_undated_is_an_error_naming_the_rows(book):
    def edit(wb):
        ws = wb[S.OBJECTIONS.name]
        ws.append(["YY-04", "2026-007", "周明", dt.date(2026, 3, 6), "培训其实没去", "刘会计",
                   "更正", 0, None, None])
    _edit(book, edit)
    with pytest.raises(Exception) as info:
        app.ledger_book(app.open_backend(book), dry_run=True, today=TODAY)
    report = info.value.report
    assert [(p.sheet, p.row, p.column, p.rule, p.message) for p in report.errors] == [
        (S.OBJECTIONS.name, 5, "处理日期", "E-OBJ-06",
         "登记「2026-007」有 2 个处理结果（第 2、5 行），本行没有处理日期，无法确定以哪个为准")]
    assert not _flat(report, {"W-OBJ-04"})  # the undated row gets the error, not also the warning


def test_the_later_correction_by_date_stands_whatever_the_row_order(book):
    def edit(wb):
        ws = wb[S.OBJECTIONS.name]
        # written above YY-01 in the sheet, but decided later (03-08 > 03-05): 0 stands, not 2
        ws.insert_rows(2)
        for k, v in enumerate(["YY-00", "2026-007", "周明", dt.date(2026, 3, 6), "培训其实没去", "刘会计",
                               "更正", 0, dt.date(2026, 3, 8), None], start=1):
            ws.cell(2, k, v)
        ws.tables[S.OBJECTIONS.table].ref = ws.tables[S.OBJECTIONS.table].ref[:-1] + str(ws.max_row)
    _edit(book, edit)
    result = app.ledger_book(app.open_backend(book), month="2026-02", dry_run=True, today=TODAY)
    feb = result.ledger.set_index(["month", "hh_id"]).loc[("2026-02", "0006")]
    assert feb["month_total"] == 0.0


# -- 7. a month that cannot be closed is never written -----------------------------------------
def test_ledger_month_under_publicity_is_refused_through_the_cli(book):
    def edit(wb):
        ws = wb[S.OBJECTIONS.name]
        ws.append(["YY-04", "2026-010", "赵小红", dt.date(2026, 4, 3), "表彰名单里没有她", None, None, None, None, None])
    _edit(book, edit)
    before = book.read_bytes()
    result = CliRunner().invoke(cli, ["ledger", str(book), "--month", "2026-04"])
    assert result.exit_code == 1
    assert result.output == (
        "错误：不能生成 2026-04 的月度台账。2026-04：1 条登记仍处于待公示或公示中（「积分登记」第 11 行），"
        "「异议处理」中有未处理的异议 YY-04（第 5 行）。公示期结束、异议处理完、登记状态改为“已确认”之后，"
        "这个月才能结账，台账按月依次生成；也可以只生成到 2026-03。工作簿未被改动。\n")
    assert book.read_bytes() == before
    later = CliRunner().invoke(cli, ["ledger", str(book), "--month", "2026-06", "--dry-run"])
    assert later.exit_code == 1 and "不能生成 2026-06 的月度台账。2026-04：" in later.output


def test_an_earlier_open_month_is_named_when_a_later_month_is_asked(book):
    def edit(wb):
        ws = wb[S.OBJECTIONS.name]
        ws.append(["YY-04", "2026-005", "赵小红", dt.date(2026, 2, 16), "那天没去志愿服务", None, None, None, None, None])
        ent = wb[S.ENTRIES.name]
        ent.cell(_find_row(ent, 1, "2026-005"), ENTRY_COLUMNS["状态"], "公示中")  # back under publicity
        ent.cell(_find_row(ent, 1, "2026-010"), ENTRY_COLUMNS["状态"], "已确认")  # April itself is settled
    _edit(book, edit)
    result = CliRunner().invoke(cli, ["ledger", str(book), "--month", "2026-04", "--dry-run"])
    assert result.exit_code == 1
    assert result.output.startswith(
        "错误：不能生成 2026-04 的月度台账。2026-02：1 条登记仍处于待公示或公示中（「积分登记」第 6 行），"
        "「异议处理」中有未处理的异议 YY-04（第 5 行）。")
    assert "也可以只生成到 2026-01。" in result.output


def test_ledger_without_month_stops_before_the_first_unsettled_month(book):
    result = CliRunner().invoke(cli, ["ledger", str(book), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2026-04 还有待公示/公示中的登记或未处理的异议，暂不计入台账。\n月度台账：3 个月，5 户。")
    res = app.ledger_book(app.open_backend(book), dry_run=True, today=TODAY)
    assert res.through == "2026-03" and res.unsettled == ["2026-04"]
    ok = CliRunner().invoke(cli, ["ledger", str(book), "--month", "2026-03", "--dry-run"])
    assert ok.exit_code == 0, ok.output
