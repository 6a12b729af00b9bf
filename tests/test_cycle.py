"""The monthly cycle from the CLI and the app (issue 9): publish a month, list its objections,
close it. Real workbooks on disk built from ``village_data`` (plus variations); the clerk's own
edits between the steps (typing an objection, deciding it) are made with openpyxl, standing in
for Excel's save. Expectations are worked out by hand (or, for the full year, by a pandas
computation written here that does not call the toolkit's ledger).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.core.catalogue import default_catalogue
from jifen_xl.errors import JifenError, ValidationFailed, WorkbookLocked

from . import village_data as V
from .conftest import build
from .fixtures_rich import read_zip, sheet_parts
from .lo import needs_lo
from .test_added_sheet import drop_sheet
from .test_cli import run
from .test_patch import undo_cells
from .test_xlsxwrite import calamine_rows

D = dt.date
ENTRY_HEADERS = S.ENTRIES.headers


# -- the workbooks ---------------------------------------------------------------------------------
def cycle_tables() -> dict[str, pd.DataFrame]:
    """``village_data`` with March not yet published: 2026-009 back to 待公示 and three more March
    entries (two with a blank 积分, one typed 「１」 in full-width digits); April has 2026-010 set to
    公示中 by hand (no 公示记录) and 2026-014 待公示. 0006's March exchange is dropped (it would
    spend points still under publicity)."""
    t = V.village_tables()
    entries = t["entries"].astype(object)
    entries.loc[entries["entry_id"] == "2026-009", "status"] = S.ENTRY_PENDING
    extra = [
        ("2026-011", D(2026, 3, 12), "0003", "王建国", "JC-22", "参与村级志愿者服务活动", 2, None, "个人申报", "刘会计", None, "待公示", None),
        ("2026-012", D(2026, 3, 18), "0004", "赵小红", "JC-13", "不乱倒垃圾", 1, "１", "平时发现", "陈老师", None, "待公示", None),
        ("2026-013", D(2026, 3, 20), "0002", "李秀英", "KF-02", "邻里纠纷", None, None, "群众反映", "刘会计", "调解记录", "待公示", None),
        ("2026-014", D(2026, 4, 1), "0001", "张大山", "JC-24", "参加技能培训", 1, None, "个人申报", "陈老师", None, "待公示", None),
    ]
    t["entries"] = pd.concat([entries, V.frame("entries", extra).astype(object)], ignore_index=True)
    t["exchanges"] = V.frame("exchanges", V.EXCHANGES[:1])
    return t


# Excel rows (header on row 1) of the entries above
ROW_OF = {f"2026-{n:03d}": n + 1 for n in range(1, 15)}


@pytest.fixture
def book(tmp_path) -> Path:
    (tmp_path / "村").mkdir()
    return build(tmp_path / "村" / "永宁寺村.xlsx", cycle_tables())


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    """A sheet's rows as dicts by header, read by python-calamine (not the toolkit's reader)."""
    rows = calamine_rows(path, sheet)
    return [dict(zip(rows[0], r)) for r in rows[1:] if any(v not in ("", None) for v in r)]


def entries_by_id(path: Path) -> dict[str, dict]:
    return {r["登记编号"]: r for r in sheet_rows(path, S.ENTRIES.name)}


def clerk_types_rows(path: Path, sheet: str, rows: dict[int, dict]) -> None:
    """The clerk types into some rows (row -> header -> value) and saves."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    headers = [c.value for c in ws[1]]
    for row, values in rows.items():
        for header, value in values.items():
            ws.cell(row, headers.index(header) + 1, value)
    wb.save(path)


def clerk_types(path: Path, sheet: str, row: int, values: dict) -> None:
    """The clerk types ``values`` (header -> value) into one row and saves."""
    clerk_types_rows(path, sheet, {row: values})


def objection(oid, entry_id, by, on, content, result=None, corrected=None, resolved=None) -> dict:
    return {"异议编号": oid, "登记编号": entry_id, "提出人": by, "提出日期": on, "异议内容": content,
            "核实人": "吴支书" if result else None, "处理结果": result, "更正后积分": corrected, "处理日期": resolved}


def publish_march(book: Path) -> app.PublishResult:
    return app.publish_book(app.open_backend(book), month="2026-03", start="2026-04-01", today=D(2026, 4, 3))


# -- publish ---------------------------------------------------------------------------------------
def test_publish_moves_exactly_the_months_pending_entries_and_fills_blank_points(book):
    before = entries_by_id(book)
    result = publish_march(book)
    assert result.moved == [("2026-009", 10), ("2026-011", 12), ("2026-012", 13), ("2026-013", 14)]
    assert result.adopted == []
    assert result.filled == {"2026-011": 6.0, "2026-013": -3.0}  # 2 × 3 (JC-22), 1 × −3 (KF-02, 数量 blank = 1)
    assert (result.start, result.end, result.days, result.households) == (D(2026, 4, 1), D(2026, 4, 7), 7, 4)
    after = entries_by_id(book)
    changed = {i: (before[i]["状态"], after[i]["状态"]) for i in after if before[i]["状态"] != after[i]["状态"]}
    assert changed == {i: ("待公示", "公示中") for i in ("2026-009", "2026-011", "2026-012", "2026-013")}
    assert after["2026-014"]["状态"] == "待公示" and after["2026-010"]["状态"] == "公示中"  # April untouched
    assert (after["2026-011"]["积分"], after["2026-013"]["积分"]) == (6.0, -3.0)
    assert after["2026-012"]["积分"] == "１" and after["2026-009"]["积分"] == 20.0  # typed: never overwritten
    others = [k for k in after if k not in ("2026-009", "2026-011", "2026-012", "2026-013")]
    assert {k: after[k] for k in others} == {k: before[k] for k in others}
    assert sheet_rows(book, S.PUBLICITY.name) == [
        {"月份": "2026-03", "公示开始": D(2026, 4, 1), "公示截止": D(2026, 4, 7), "登记条数": 4.0,
         "涉及户数": 4.0, "发布日期": D(2026, 4, 3)}]


def test_publish_start_defaults_to_today_and_the_period_follows_the_settings(tmp_path):
    settings = dict(V.SETTINGS, publicity_days=10)
    path = build(tmp_path / "永宁寺村.xlsx", cycle_tables(), settings)
    result = app.publish_book(app.open_backend(path), month="2026-03", today=D(2026, 4, 2))
    assert (result.start, result.end, result.days) == (D(2026, 4, 2), D(2026, 4, 11), 10)


def test_publish_twice_records_two_periods_and_close_waits_for_the_latest(book):
    publish_march(book)
    clerk_types(book, S.ENTRIES.name, 16, dict(zip(ENTRY_HEADERS, (
        "2026-015", D(2026, 3, 30), "0006", "周明", "JC-13", "不乱倒垃圾", 1, None, "平时发现", "刘会计", None, "待公示"))))
    late = app.publish_book(app.open_backend(book), month="2026-03", start="2026-04-05", today=D(2026, 4, 5))
    assert late.moved == [("2026-015", 16)] and late.filled == {"2026-015": 1.0}
    assert [(r["月份"], r["公示截止"]) for r in sheet_rows(book, S.PUBLICITY.name)] == [
        ("2026-03", D(2026, 4, 7)), ("2026-03", D(2026, 4, 11))]
    with pytest.raises(JifenError) as err:
        app.close_book(app.open_backend(book), month="2026-03", date="2026-04-08", today=D(2026, 4, 20))
    assert str(err.value) == ("不能结账 2026-03：公示期到 2026-04-11 才结束（「公示记录」第 3 行），公示期内不能结账："
                              "请在 2026-04-12 或之后结账。工作簿未被改动。")


def test_publish_refuses_while_the_workbook_has_errors(book):
    clerk_types(book, S.ENTRIES.name, ROW_OF["2026-011"], {"户号": "9999"})
    before = book.read_bytes()
    with pytest.raises(ValidationFailed) as err:
        publish_march(book)
    assert str(err.value) == "工作簿有 1 个错误，不能发布公示。请先按上面列出的问题改正后重试。工作簿未被改动。"
    assert [(p.rule, p.row) for p in err.value.report.errors] == [("E-ENT-02", 12)]
    assert book.read_bytes() == before
    result = run("publish", book, "--month", "2026-03", "--start", "2026-04-01")
    assert result.exit_code == 1
    assert "E-ENT-02" in result.output and "户号「9999」" in result.output
    assert result.output.endswith("错误：工作簿有 1 个错误，不能发布公示。请先按上面列出的问题改正后重试。工作簿未被改动。\n")
    assert book.read_bytes() == before


def test_publish_refuses_a_month_with_nothing_pending_and_says_what_its_entries_are(book):
    before = book.read_bytes()
    backend = app.open_backend(book)
    with pytest.raises(JifenError) as err:
        app.publish_book(backend, month="2026-02", today=D(2026, 4, 3))
    assert str(err.value) == ("2026-02 没有“待公示”的登记，没有可公示的内容：这个月的登记中已确认 4 条"
                              "（已经公示过的月份不用再公示；公示期满后可用 jifen-xl close 结账）。工作簿未被改动。")
    with pytest.raises(JifenError) as err:
        app.publish_book(backend, month="2026-05", today=D(2026, 4, 3))
    assert str(err.value) == ("2026-05 没有“待公示”的登记，没有可公示的内容：「积分登记」中没有日期在 2026-05 的登记。"
                              "请核对月份，或先登记这个月的积分。工作簿未被改动。")
    publish_march(book)
    with pytest.raises(JifenError, match="这个月的登记中公示中 4 条、已撤销 1 条"):
        publish_march(book)  # 2026-008 was withdrawn by objection before
    result = run("publish", book, "--month", "2026-13")
    assert (result.exit_code, result.output) == (1, "错误：月份「2026-13」格式不对，请写成“年-月”，例如 2026-03。\n")
    assert run("publish", book, "--month", "2026-03", "--start", "四月一日").output == (
        "错误：公示开始日期「四月一日」不是有效日期，请写成“年-月-日”，例如 2026-04-01。\n")
    assert before != book.read_bytes()  # (only the publish above wrote)


def test_publish_dry_run_writes_nothing(book):
    before = book.read_bytes()
    result = app.publish_book(app.open_backend(book), month="2026-03", start="2026-04-01", today=D(2026, 4, 3),
                              dry_run=True)
    assert result.written is None and len(result.moved) == 4
    assert book.read_bytes() == before


# -- objections ------------------------------------------------------------------------------------
def test_objections_lists_the_open_ones_with_their_household_and_row(book):
    publish_march(book)
    clerk_types(book, S.OBJECTIONS.name, 5, objection("YY-04", "2026-011", "李秀英", D(2026, 4, 3), "只去了一次"))
    clerk_types(book, S.OBJECTIONS.name, 6, objection("YY-05", "2026-013", "李秀英", D(2026, 4, 4), "纠纷已经和解"))
    clerk_types(book, S.OBJECTIONS.name, 7, objection("YY-06", "2026-001", "周明", D(2026, 4, 4), "一月的也要查",
                                                      "维持", None, D(2026, 4, 5)))
    found = app.objections_book(app.open_backend(book), month="2026-03")
    assert [(o.objection_id, o.entry_id, o.hh_id, o.head, o.raised_by, o.raised_on, o.content, o.row, o.entry_row)
            for o in found] == [
        ("YY-04", "2026-011", "0003", "王建国", "李秀英", D(2026, 4, 3), "只去了一次", 5, 12),
        ("YY-05", "2026-013", "0002", "李秀英", "李秀英", D(2026, 4, 4), "纠纷已经和解", 6, 14)]
    assert app.objections_book(app.open_backend(book), month="2026-01") == []
    result = run("objections", book, "--month", "2026-03")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["异议编号", "登记编号", "户号", "户主姓名", "提出人", "提出日期", "异议内容", "「异议处理」行号"]
    assert lines[2].split() == ["YY-04", "2026-011", "0003", "王建国", "李秀英", "2026-04-03", "只去了一次", "5"]
    assert lines[3].split() == ["YY-05", "2026-013", "0002", "李秀英", "李秀英", "2026-04-04", "纠纷已经和解", "6"]
    assert lines[-1] == ("共 2 条对 2026-03 登记的未处理的异议。核实后请在「异议处理」的“处理结果”列填写维持、更正、撤销"
                         "（更正还要填“更正后积分”）。")
    import json

    got = json.loads(run("objections", book, "--json").output)
    assert [(o["异议编号"], o["户号"], o["「异议处理」行号"], o["「积分登记」行号"], o["月份"]) for o in got] == [
        ("YY-04", "0003", 5, 12, "2026-03"), ("YY-05", "0002", 6, 14, "2026-03")]
    assert run("objections", book, "--month", "2026-01").output == "没有对 2026-01 登记的未处理的异议。\n"


# -- close -----------------------------------------------------------------------------------------
def test_close_refuses_before_the_publicity_period_ends(book):
    publish_march(book)
    before = book.read_bytes()
    with pytest.raises(JifenError) as err:
        app.close_book(app.open_backend(book), month="2026-03", date="2026-04-07", today=D(2026, 4, 7))
    assert str(err.value) == ("不能结账 2026-03：公示期到 2026-04-07 才结束（「公示记录」第 2 行），公示期内不能结账："
                              "请在 2026-04-08 或之后结账。工作簿未被改动。")
    with pytest.raises(JifenError) as err:  # a close dated ahead would skip the period
        app.close_book(app.open_backend(book), month="2026-03", date="2026-04-09", today=D(2026, 4, 7))
    assert str(err.value) == ("不能结账 2026-03：结账日期 2026-04-09 晚于今天（2026-04-07），只能用今天或已经过去的日期结账。"
                              "工作簿未被改动。")
    with pytest.raises(JifenError) as err:
        app.close_book(app.open_backend(book), month="2026-04", date="2026-04-30", today=D(2026, 5, 1))
    assert str(err.value) == ("不能结账 2026-04：结账日期 2026-04-30 时这个月还没有过完，2026-04 最早从 2026-05-01 起才能结账。"
                              "工作簿未被改动。")
    result = run("close", book, "--month", "2026-03", "--date", "2026-04-07")
    assert (result.exit_code, result.output) == (1, "错误：不能结账 2026-03：公示期到 2026-04-07 才结束（「公示记录」第 2 行），"
                                                    "公示期内不能结账：请在 2026-04-08 或之后结账。工作簿未被改动。\n")
    assert book.read_bytes() == before


def test_close_refuses_while_an_objection_is_open_naming_it(book):
    publish_march(book)
    clerk_types(book, S.OBJECTIONS.name, 5, objection("YY-04", "2026-011", "李秀英", D(2026, 4, 3), "只去了一次"))
    clerk_types(book, S.OBJECTIONS.name, 6, objection("YY-05", "2026-013", "李秀英", D(2026, 4, 4), "纠纷已经和解",
                                                      "撤销", None, D(2026, 4, 6)))
    before = book.read_bytes()
    with pytest.raises(JifenError) as err:
        app.close_book(app.open_backend(book), month="2026-03", date="2026-04-08", today=D(2026, 4, 8))
    assert str(err.value) == ("不能结账 2026-03：「异议处理」中还有对本月登记的异议没有处理：YY-04（第 5 行，登记 2026-011）；"
                              "请核实后在「处理结果」列填写维持、更正、撤销（更正还要填「更正后积分」）。工作簿未被改动。")
    assert book.read_bytes() == before


def test_close_refuses_pending_entries_hand_set_publicity_and_earlier_open_months(book):
    with pytest.raises(JifenError) as err:
        app.close_book(app.open_backend(book), month="2026-04", date="2026-05-10", today=D(2026, 5, 10))
    assert str(err.value) == (
        "不能结账 2026-04：更早的月份还没有结账（2026-03：4 条登记仍处于待公示或公示中（「积分登记」第 10、12、13、14 行）），"
        "月份要按顺序结账：请先结账 2026-03；"
        "1 条登记还是“待公示”（「积分登记」第 15 行），还没有公示：请先运行 jifen-xl publish 发布 2026-04 的公示，公示期满后再结账；"
        "1 条登记是“公示中”（「积分登记」第 11 行），但「公示记录」中没有 2026-04 的公示记录，工具不知道公示期何时结束："
        "请运行 jifen-xl publish 补记这个月的公示期（--start 写公示实际开始的日期）。工作簿未被改动。")


def test_close_applies_the_outcomes_and_writes_the_ledger_through_the_month(book):
    publish_march(book)
    clerk_types(book, S.OBJECTIONS.name, 5, objection("YY-04", "2026-011", "李秀英", D(2026, 4, 3), "只去了一次",
                                                      "更正", 4, D(2026, 4, 6)))
    clerk_types(book, S.OBJECTIONS.name, 6, objection("YY-05", "2026-013", "李秀英", D(2026, 4, 4), "纠纷已经和解",
                                                      "撤销", None, D(2026, 4, 6)))
    clerk_types(book, S.OBJECTIONS.name, 7, objection("YY-06", "2026-009", "张大山", D(2026, 4, 4), "事迹属实吗",
                                                      "维持", None, D(2026, 4, 6)))
    result = app.close_book(app.open_backend(book), month="2026-03", date="2026-04-08", today=D(2026, 4, 9))
    assert (result.confirmed, result.corrected, result.withdrawn, result.kept) == (3, 1, 1, 0)
    assert result.written.backup is not None and result.written.tables == ("ledger", "seals", "sealed_entries")
    after = entries_by_id(book)
    assert {i: (after[i]["状态"], after[i]["积分"]) for i in ("2026-008", "2026-009", "2026-011", "2026-012", "2026-013",
                                                            "2026-010", "2026-014")} == {
        "2026-008": ("已撤销", -2.0), "2026-009": ("已确认", 20.0), "2026-011": ("已确认", 4.0),
        "2026-012": ("已确认", "１"), "2026-013": ("已撤销", -3.0), "2026-010": ("公示中", 30.0), "2026-014": ("待公示", "")}
    ledger = sheet_rows(book, S.LEDGER.name)
    assert sorted({r["月份"] for r in ledger}) == ["2026-01", "2026-02", "2026-03"]
    got = {(r["月份"], r["户号"]): (r["基础积分"], r["贡献积分"], r["扣分"], r["当月积分"], r["累计积分"], r["累计兑换"],
                                   r["可用积分"], r["村内排名"]) for r in ledger}
    # by hand: Jan and Feb as village_data; March: 0003 +4 (the 更正 of 6), 0004 +1, 0006 +20 (its
    # March exchange is not in this workbook), 0002's −3 withdrawn.
    march = {"0001": (0, 0, 0, 0, 106, 20, 66, 1), "0002": (0, 0, 0, 0, 55, 0, 55, 2),
             "0006": (0, 20, 0, 20, 22, 0, 22, 3), "0004": (1, 0, 0, 1, 19, 0, 4, 4),
             "0003": (4, 0, 0, 4, 14, 0, 14, 5)}
    want = {(m, h): v for m, rows in V.EXPECTED.items() if m != "2026-03" for h, v in rows.items()}
    want |= {("2026-03", h): v for h, v in march.items()}
    assert got == {k: tuple(float(x) for x in v) for k, v in want.items()}
    assert result.month_rows["hh_id"].tolist() == ["0001", "0002", "0006", "0004", "0003"]


def test_close_from_the_cli_says_what_it_did(book):
    publish_march(book)
    clerk_types(book, S.OBJECTIONS.name, 5, objection("YY-04", "2026-011", "李秀英", D(2026, 4, 3), "只去了一次",
                                                      "更正", 4, D(2026, 4, 6)))
    clerk_types(book, S.OBJECTIONS.name, 6, objection("YY-05", "2026-013", "李秀英", D(2026, 4, 4), "纠纷已经和解",
                                                      "撤销", None, D(2026, 4, 6)))
    import json

    dry = run("close", book, "--month", "2026-03", "--date", "2026-04-08", "--dry-run", "--json")
    answer = json.loads(dry.output)
    code, digest = answer.pop("校验码"), answer.pop("摘要")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code) and re.fullmatch(r"[0-9a-f]{64}", digest)
    assert answer == {
        "月份": "2026-03", "结账日期": "2026-04-08", "确认": 3, "其中更正": 1, "撤销": 1, "原已确认": 0,
        "加分": 25.0, "扣分": 0.0, "当月积分合计": 25.0, "有积分变动的户数": 3, "已写入": False}
    result = run("close", book, "--month", "2026-03", "--date", "2026-04-08", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "（试运行：只检查和计算，没有写入工作簿。）\n"
        "2026-03 已结账（结账日期 2026-04-08）：3 条登记确认（其中 1 条按异议处理结果更正了积分），1 条撤销。\n"
        "本月 3 户有积分变动：加分 25，扣分 0，当月积分合计 25。「月度台账」为 2026年1月至3月（共 15 行）。\n"
        f"本月已封账，校验码 {code}（记在「封账记录」）：以后打印的公示和积分卡都带这个校验码，"
        f"可用 jifen-xl verify 工作簿 --code {code} 核对本月数据是否被改动过。\n")
    before = book.read_bytes()
    result = run("close", book, "--month", "2026-03", "--date", "2026-04-08")
    assert result.exit_code == 0, result.output
    backup = re.fullmatch(r"已写入「永宁寺村.xlsx」；原文件备份在「(.+)」。", result.output.splitlines()[-1]).group(1)
    assert Path(backup).parent == book.parent / "备份" and Path(backup).read_bytes() == before
    assert entries_by_id(book)["2026-011"]["积分"] == 4.0


def test_publish_from_the_cli_says_what_it_did(book):
    import json

    before = book.read_bytes()
    dry = run("publish", book, "--month", "2026-03", "--start", "2026-04-01", "--json", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output) == {
        "月份": "2026-03", "公示开始": "2026-04-01", "公示截止": "2026-04-07", "公示天数": 7,
        "改为公示中": ["2026-009", "2026-011", "2026-012", "2026-013"], "补记公示期": [],
        "填入积分": {"2026-011": 6.0, "2026-013": -3.0}, "涉及户数": 4, "已写入": False}
    assert book.read_bytes() == before
    result = run("publish", book, "--month", "2026-03", "--start", "2026-04-01")
    assert result.exit_code == 0, result.output
    backup = next((book.parent / "备份").glob("*.xlsx"))
    assert result.output == (
        "2026-03 的积分公示：4 条登记，涉及 4 户。\n"
        "4 条登记由“待公示”改为“公示中”。\n"
        "2 条登记的积分原为空，已按 数量 × 分值 填入；已填写的积分未改动。\n"
        "公示期 2026-04-01 至 2026-04-07（7 天）。对公示有异议的，请在公示期内向 王文书、023-65000000 提出，"
        "异议登记在「异议处理」工作表。\n"
        "公示期满后（2026-04-08 起）可运行 jifen-xl close 结账。\n"
            "填好的公示已放进工作簿的「公示」工作表，可直接打印张贴。\n"
            "工作簿原来没有「公示」工作表，已在最后新增。\n"
        f"已写入「{book.name}」；原文件备份在「{backup}」。\n")


def test_hand_set_publicity_is_recorded_by_publish_then_closed(book):
    """2026-010 was set to 公示中 by hand before the toolkit: close asks for publish, which records
    the period (and publishes 2026-014 with it); close then waits for that period."""
    publish_march(book)
    app.close_book(app.open_backend(book), month="2026-03", date="2026-04-08", today=D(2026, 4, 8))
    result = app.publish_book(app.open_backend(book), month="2026-04", start="2026-05-01", today=D(2026, 5, 1))
    assert result.moved == [("2026-014", 15)] and result.adopted == [("2026-010", 11)]
    assert result.filled == {"2026-014": 3.0}
    closed = app.close_book(app.open_backend(book), month="2026-04", date="2026-05-08", today=D(2026, 5, 8))
    assert (closed.confirmed, closed.kept) == (2, 0)
    april = closed.month_rows.set_index("hh_id")
    # by hand: 0002 had 55 after February, −3 in March (2026-013, no objection), +30 in April
    assert (april.loc["0002", "cumulative"], april.loc["0001", "cumulative"]) == (82.0, 109.0)


def test_a_workbook_without_the_publicity_sheet_has_no_records_and_gets_the_sheet(tmp_path):
    path = build(tmp_path / "永宁寺村.xlsx")  # village_data: Jan–Mar confirmed by hand, April 公示中 by hand
    drop_sheet(path, S.PUBLICITY.name)
    closed = app.close_book(app.open_backend(path), month="2026-03", date="2026-04-10", today=D(2026, 4, 10))
    assert (closed.confirmed, closed.withdrawn, closed.kept) == (0, 0, 1)  # 2026-008 already 已撤销
    with pytest.raises(JifenError, match="但「公示记录」中没有 2026-04 的公示记录"):
        app.close_book(app.open_backend(path), month="2026-04", date="2026-05-10", today=D(2026, 5, 10))
    published = app.publish_book(app.open_backend(path), month="2026-04", start="2026-05-01", today=D(2026, 5, 1))
    assert published.written.added == (S.PUBLICITY.name, S.NOTICE_SHEET_NAME)
    assert sheet_rows(path, S.PUBLICITY.name)[0]["登记条数"] == 1.0


def test_already_closed_month_is_refused(book):
    publish_march(book)
    first = app.close_book(app.open_backend(book), month="2026-03", date="2026-04-09", today=D(2026, 4, 9))
    before = book.read_bytes()
    with pytest.raises(JifenError) as err:
        app.close_book(app.open_backend(book), month="2026-03", date="2026-04-10", today=D(2026, 4, 10))
    assert str(err.value) == ("2026-03 已经结账封存（「封账记录」第 2 行，2026-04-09），不能再次结账。"
                              "要更正这个月的登记，请在未结账的月份新增一条登记，在备注中写明它更正的登记编号。工作簿未被改动。")
    assert book.read_bytes() == before
    assert [r["校验码"] for r in sheet_rows(book, S.SEALS.name)] == [first.code]


# -- the foundation's guarantees -------------------------------------------------------------------
def changed_parts(before: dict, after: dict) -> set[str]:
    return {n for n in set(before) | set(after) if before.get(n) != after.get(n)}


def test_writes_keep_every_untouched_byte_and_make_a_backup(book):
    parts0, _ = read_zip(book)
    sheets = sheet_parts(parts0)
    entries_part, publicity_part = sheets[S.ENTRIES.name][0], sheets[S.PUBLICITY.name][0]
    old = book.read_bytes()
    result = publish_march(book)
    assert result.written.backup.read_bytes() == old
    parts1, _ = read_zip(book)
    changed = changed_parts(parts0, parts1)
    assert entries_part in changed and publicity_part in changed
    # the first publish also adds the 公示 sheet: a new sheet part, its styles, and the package's lists of parts
    notice_part = sheet_parts(parts1)[S.NOTICE_SHEET_NAME][0]
    assert notice_part not in parts0
    package = {"[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/workbook.xml", "xl/styles.xml"}
    assert all(n in (entries_part, publicity_part, notice_part) or n in package or n.startswith("xl/tables/")
               for n in changed), changed
    status, points = "L", "H"  # 状态 and 积分 in the template's column order
    assert S.ENTRIES.fields.index("status") == 11 and S.ENTRIES.fields.index("points") == 7
    refs = [f"{status}{r}" for _, r in result.moved] + [f"{points}{ROW_OF[i]}" for i in result.filled]
    assert undo_cells(parts1[entries_part].decode(), parts0[entries_part].decode(), refs) == parts0[entries_part].decode()

    old = book.read_bytes()
    closed = app.close_book(app.open_backend(book), month="2026-03", date="2026-04-08", today=D(2026, 4, 8))
    assert closed.written.backup.read_bytes() == old
    parts2, _ = read_zip(book)
    ledger_part, seals_part, details_part = (sheets[s.name][0] for s in (S.LEDGER, S.SEALS, S.SEALED_ENTRIES))
    changed = changed_parts(parts1, parts2)
    # the 公示 sheet shows March: it is filled again with the month's code (same styles: styles.xml unchanged)
    assert {ledger_part, seals_part, details_part, notice_part} <= changed
    assert all(n in (entries_part, ledger_part, seals_part, details_part, notice_part) or n.startswith("xl/tables/")
               for n in changed), changed
    refs = [f"{status}{ROW_OF[i]}" for i in ("2026-009", "2026-011", "2026-012", "2026-013")]
    assert undo_cells(parts2[entries_part].decode(), parts1[entries_part].decode(), refs) == parts1[entries_part].decode()


def test_publish_and_close_refuse_a_workbook_open_in_excel(book):
    lock = book.parent / f"~${book.name}"
    lock.write_bytes(b"")
    before = book.read_bytes()
    with pytest.raises(WorkbookLocked):
        publish_march(book)
    with pytest.raises(WorkbookLocked):
        app.close_book(app.open_backend(book), month="2026-03", date="2026-04-08", today=D(2026, 4, 8))
    result = run("publish", book, "--month", "2026-03", "--start", "2026-04-01")
    assert result.exit_code == 1 and result.output.startswith("错误：") and "打开" in result.output
    assert book.read_bytes() == before and not (book.parent / "备份").exists()
    lock.unlink()


def test_the_cycle_through_the_memory_backend_matches_the_file(book, tmp_path):
    from .test_contract import Workbook

    copy = Path(shutil.copyfile(book, tmp_path / "副本.xlsx"))
    got = {}
    for kind, path in (("file", book), ("memory", copy)):
        wb = Workbook(kind, path)
        app.publish_book(wb.open(), month="2026-03", start="2026-04-01", today=D(2026, 4, 3))
        closed = app.close_book(wb.open(), month="2026-03", date="2026-04-08", today=D(2026, 4, 8))
        entries = app.load(wb.open()).village["entries"]
        got[kind] = (entries[["entry_id", "status", "points"]].astype(object).fillna("").to_dict("records"),
                     closed.ledger.to_dict("records"))
    assert got["file"] == got["memory"]


# -- a full year -----------------------------------------------------------------------------------
HOUSEHOLD_IDS = ["0001", "0002", "0003", "0004", "0006"]  # the 正常 households of village_data
ROTATION = [("JC-22", 2), ("JC-01", None), ("JC-13", 1), ("KF-02", 1), ("JC-24", 1), ("KF-10", 3)]


def year_entries() -> list[tuple]:
    """One entry per household per month, every one 待公示; some 积分 typed (equal to 数量 × 分值)."""
    heads = {h[0]: h[1] for h in V.HOUSEHOLDS}
    values = default_catalogue(2026).set_index("code")
    out, n = [], 0
    for month in range(1, 13):
        for i, hh in enumerate(HOUSEHOLD_IDS):
            code, qty = ROTATION[(i + month) % len(ROTATION)]
            if month == 6 and hh == "0003":
                code, qty = "GX-03", 1
            n += 1
            typed = (qty or 1) * values.loc[code, "points"] if n % 4 == 0 else None
            deduct = code.startswith("KF")
            out.append((f"2026-{n:03d}", D(2026, month, 3 + i), hh, heads[hh], code, values.loc[code, "name"], qty, typed,
                        "群众反映" if deduct else "个人申报", "刘会计", "照片" if deduct else None, "待公示", None))
    return out


def year_objections() -> list[tuple]:
    """Per month (entries 5m−4 .. 5m): the second entry corrected, the third withdrawn, the fourth
    kept — typed after the month is published; decided before the close."""
    out = []
    for month in range(1, 13):
        first = 5 * (month - 1) + 1
        for k, result in ((1, "更正"), (2, "撤销"), (3, "维持")):
            out.append((month, f"YY-{month:02d}{k}", f"2026-{first + k:03d}", result))
    return out


def independent_ledger(entries: list[tuple], decisions: dict[str, tuple[str, float | None]]) -> pd.DataFrame:
    """The 12 months' ledger computed here from the data (SPEC: confirmed points by month and kind,
    累计 = 上年累计 + points so far, 可用 = 上年可用 + points so far − 兑换 so far, rank by 累计 with
    ties sharing the best rank)."""
    cat = default_catalogue(2026).set_index("code")
    e = pd.DataFrame([(x[0], x[1], x[2], x[4], x[6]) for x in entries], columns=["id", "date", "hh", "code", "qty"])
    e["points"] = e["qty"].fillna(1) * e["code"].map(cat["points"])
    e["kind"] = e["code"].map(cat["kind"]).map({"基础积分": "basic", "贡献积分": "contrib", "扣分项目": "deduct"})
    outcome = e["id"].map(lambda i: decisions.get(i, ("维持", None))[0])
    corrected = e["id"].map(lambda i: decisions.get(i, ("维持", None))[1])
    e.loc[outcome.eq("更正"), "points"] = corrected[outcome.eq("更正")]
    e = e[outcome.ne("撤销")]
    e["month"] = pd.to_datetime(e["date"]).dt.month
    sums = e.pivot_table(index=["hh", "month"], columns="kind", values="points", aggfunc="sum", fill_value=0)
    grid = pd.MultiIndex.from_product([HOUSEHOLD_IDS, range(1, 13)], names=["hh", "month"])
    out = sums.reindex(grid, fill_value=0).reindex(columns=["basic", "contrib", "deduct"], fill_value=0).reset_index()
    out["total"] = out[["basic", "contrib", "deduct"]].sum(axis=1)
    carried = {h[0]: (h[8] or 0, h[9] or 0) for h in V.HOUSEHOLDS}
    spent = {(x[2], x[1].month): x[5] for x in V.EXCHANGES[:1]}
    out["spent_month"] = [spent.get((h, m), 0) for h, m in zip(out["hh"], out["month"])]
    out["earned"] = out.groupby("hh")["total"].cumsum()
    out["spent"] = out.groupby("hh")["spent_month"].cumsum()
    out["cumulative"] = out["hh"].map(lambda h: carried[h][0]) + out["earned"]
    out["available"] = out["hh"].map(lambda h: carried[h][1]) + out["earned"] - out["spent"]
    out["rank"] = out.groupby("month")["cumulative"].rank(method="min", ascending=False)
    out["month"] = out["month"].map(lambda m: f"2026-{m:02d}")
    return out


def test_a_full_year_published_and_closed_month_by_month(tmp_path):
    entries = year_entries()
    tables = V.village_tables()
    tables["entries"] = V.frame("entries", entries).astype(object)
    tables["objections"] = V.frame("objections", [])
    tables["exchanges"] = V.frame("exchanges", V.EXCHANGES[:1])  # 0001 spends 20 of its 80 carried in January
    path = build(tmp_path / "永宁寺村.xlsx", tables)
    cat = default_catalogue(2026).set_index("code")
    by_id = {x[0]: x for x in entries}
    decisions: dict[str, tuple[str, float | None]] = {}
    row = 2  # the next free row of 异议处理
    for month in range(1, 13):
        label = f"2026-{month:02d}"
        start = D(2026 + month // 12, month % 12 + 1, 1)  # the notice goes up on the 1st of the next month
        close_day = start + dt.timedelta(days=7)
        published = app.publish_book(app.open_backend(path), month=label, start=start, today=start)
        assert [i for i, _ in published.moved] == [x[0] for x in entries if x[1].month == month]
        # objections come in during the period; close refuses while they are open
        mine = [o for o in year_objections() if o[0] == month]
        clerk_types_rows(path, S.OBJECTIONS.name, {row + k: objection(oid, eid, "周明", start, "有异议")
                                                   for k, (_m, oid, eid, _r) in enumerate(mine)})
        assert [o.objection_id for o in app.objections_book(app.open_backend(path), month=label)] == [
            o[1] for o in mine]
        with pytest.raises(JifenError, match=f"{mine[0][1]}（第 {row} 行，登记 {mine[0][2]}）"):
            app.close_book(app.open_backend(path), month=label, date=close_day, today=close_day)
        # the review group decides them
        decided = {}
        for k, (_m, _oid, eid, result) in enumerate(mine):
            computed = (by_id[eid][6] or 1) * cat.loc[by_id[eid][4], "points"]
            corrected = (1.0 if computed > 0 else -1.0) if result == "更正" else None
            decisions[eid] = (result, corrected)
            decided[row + k] = {"核实人": "吴支书", "处理结果": result, "更正后积分": corrected,
                                "处理日期": start + dt.timedelta(days=5)}
        clerk_types_rows(path, S.OBJECTIONS.name, decided)
        row += len(mine)
        closed = app.close_book(app.open_backend(path), month=label, date=close_day, today=close_day)
        assert (closed.confirmed, closed.corrected, closed.withdrawn, closed.kept) == (4, 1, 1, 0)
        assert sorted(closed.ledger["month"].unique()) == [f"2026-{m:02d}" for m in range(1, month + 1)]
    ledger = pd.DataFrame(sheet_rows(path, S.LEDGER.name))
    want = independent_ledger(entries, decisions).set_index(["hh", "month"]).sort_index()
    got = ledger.set_index(["户号", "月份"]).sort_index()
    assert got.index.tolist() == want.index.tolist()
    for mine_, theirs in (("基础积分", "basic"), ("贡献积分", "contrib"), ("扣分", "deduct"), ("当月积分", "total"),
                          ("累计积分", "cumulative"), ("累计兑换", "spent"), ("可用积分", "available"),
                          ("村内排名", "rank")):
        assert got[mine_].astype(float).round(6).tolist() == want[theirs].astype(float).round(6).tolist(), mine_
    statuses = {r["登记编号"]: r["状态"] for r in sheet_rows(path, S.ENTRIES.name)}
    assert statuses == {x[0]: ("已撤销" if decisions.get(x[0], ("",))[0] == "撤销" else "已确认") for x in entries}
    points = {r["登记编号"]: r["积分"] for r in sheet_rows(path, S.ENTRIES.name)}
    assert all(points[i] == c for i, (r, c) in decisions.items() if r == "更正")
    # every close sealed its month, chained to the one before; the chain verifies as written
    seals = sheet_rows(path, S.SEALS.name)
    assert [r["月份"] for r in seals] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [r["上月摘要"] or "" for r in seals] == [""] + [r["摘要"] for r in seals[:-1]]
    assert len(sheet_rows(path, S.SEALED_ENTRIES.name)) == len(entries)
    verified = app.verify_book(app.open_backend(path), code=seals[4]["校验码"].lower().replace("-", ""))
    assert verified.ok and verified.code_month.month == "2026-05" and verified.code_month.intact
    # the notice of a closed month carries its code
    notice = app.notice_book(app.open_backend(path), month="2026-05", today=D(2027, 1, 10))
    assert notice.data["code"] == seals[4]["校验码"]
    # a sealed entry edited afterwards (its 数量 doubled by hand) is named by verify and validate
    e = next(i for i, x in enumerate(entries) if x[1].month == 5 and x[0] not in decisions)
    clerk_types(path, S.ENTRIES.name, e + 2, {"积分": 2 * points[entries[e][0]]})
    tampered = app.verify_book(app.open_backend(path))
    assert not tampered.intact and [(p.row, p.rule) for p in tampered.findings] == [(e + 2, "E-SEAL-01")]
    report = app.validate_book(app.open_backend(path), dry_run=True).report
    # (the doubled 积分 also disagrees with 数量 × 分值, E-ENT-07, and the total it makes, E-ENT-12)
    assert {(p.sheet, p.row, p.column) for p in report.errors} == {(S.ENTRIES.name, e + 2, "积分")}
    assert "E-SEAL-01" in {p.rule for p in report.errors}


# -- publish puts the notice into the workbook and beside it ----------------------------------------
@needs_lo
def test_publish_fills_the_notice_sheet_in_the_same_write_and_prints_it(book, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = app.publish_book(app.open_backend(book), month="2026-03", start="2026-04-01", today=D(2026, 4, 3),
                              pdf=out / "公示.pdf", html=out / "公示.html", wechat=out / "公示.txt", masked=True)
    assert result.written.images == (S.NOTICE_SHEET_NAME,) and S.NOTICE_SHEET_NAME in result.written.added
    sheet = calamine_rows(book, S.NOTICE_SHEET_NAME)
    text = "\n".join("\t".join(str(v) for v in row) for row in sheet)
    assert "永宁寺村2026年3月乡村治理积分公示" in text and "2026年4月1日至4月7日" in text
    # the board notice shows names as they are; 0003 earned 2 × 3 = 6 (its blank 积分 filled by this publish)
    lines = {row[0]: row for row in sheet if str(row[0]).startswith("000")}
    assert set(lines) == {"0001", "0002", "0003", "0004", "0006"}  # 0005 moved away
    assert lines["0003"][1] == "王建国" and 6 in lines["0003"]
    printed = subprocess.run(["pdftotext", "-layout", str(out / "公示.pdf"), "-"], capture_output=True,
                             text=True, check=True).stdout
    assert "王建国" in printed and "永宁寺村2026年3月乡村治理积分公示" in printed
    # the WeChat text and the web page mask the names; neither shows an ID number or a phone of a household
    for name in ("公示.txt", "公示.html"):
        page = (out / name).read_text(encoding="utf-8")
        assert "王*国" in page and "王建国" not in page
        assert "500106198001010011" not in page and "13800000001" not in page
    assert sorted(result.outputs.values()) == sorted([out / "公示.pdf", out / "公示.html", out / "公示.txt"])


def test_publish_refuses_the_workbook_itself_as_an_output_and_writes_nothing(book):
    before = book.read_bytes()
    with pytest.raises(JifenError) as exc:
        app.publish_book(app.open_backend(book), month="2026-03", start="2026-04-01", today=D(2026, 4, 3),
                         html=book)
    assert exc.value.message == "输出文件「永宁寺村.xlsx」就是村里的工作簿，工具不会覆盖它。请换一个文件名。"
    assert book.read_bytes() == before


def test_close_refuses_to_rewrite_a_sealed_month_that_recomputes_differently(book):
    """月度台账 is written from January at every close: 0002's 上年可用积分 lowered after March's
    close would change March's 可用积分 and break its seal without a word. The close refuses,
    names the month, 户号 and figure, and writes nothing; verify still finds March intact. (An
    exchange back-dated into March is refused earlier, by validate's E-SEAL-10: test_seal.)"""
    publish_march(book)
    app.close_book(app.open_backend(book), month="2026-03", date="2026-04-08", today=D(2026, 4, 8))
    app.publish_book(app.open_backend(book), month="2026-04", start="2026-05-01", today=D(2026, 5, 1))
    clerk_types(book, S.HOUSEHOLDS.name, 3, {"上年可用积分": 45})
    before = book.read_bytes()
    with pytest.raises(JifenError) as err:
        app.close_book(app.open_backend(book), month="2026-04", date="2026-05-08", today=D(2026, 5, 8))
    assert str(err.value) == (
        "不能结账 2026-04：已封账月份按现在的数据重算，与封账时的「月度台账」不符，工具不会改写已封账的月份："
        "2026-03 户号「0002」的可用积分：封账时为 52（「月度台账」第 13 行），重算为 47。"
        "可能是「积分兑换」的兑换、「住户名册」的上年积分或户的状态在封账后被改到了已封账的月份。"
        "请恢复原来的数据；更正请记在未结账的月份。工作簿未被改动。")
    assert book.read_bytes() == before
    assert app.verify_book(app.open_backend(book)).intact


def test_publish_of_a_sealed_month_says_it_is_sealed_and_how_to_reprint(book):
    publish_march(book)
    app.close_book(app.open_backend(book), month="2026-03", date="2026-04-09", today=D(2026, 4, 9))
    before = book.read_bytes()
    with pytest.raises(JifenError) as err:
        app.publish_book(app.open_backend(book), month="2026-03", start="2026-04-10", today=D(2026, 4, 10))
    assert str(err.value) == ("2026-03 已经结账封存（「封账记录」第 2 行，2026-04-09），不能再发布公示。"
                              "要重新打印这个月的公示，请用 jifen-xl notice 工作簿 --month 2026-03；"
                              "要更正这个月的登记，请在未结账的月份新增一条登记，在备注中写明它更正的登记编号。工作簿未被改动。")
    assert book.read_bytes() == before


def test_close_fills_the_notice_sheet_again_with_the_code_when_it_shows_the_month(book, tmp_path):
    publish_march(book)
    closed = app.close_book(app.open_backend(book), month="2026-03", date="2026-04-08", today=D(2026, 4, 8))
    assert closed.written.images == (S.NOTICE_SHEET_NAME,)
    text = "\n".join("\t".join(str(v) for v in row) for row in calamine_rows(book, S.NOTICE_SHEET_NAME))
    assert "永宁寺村2026年3月乡村治理积分公示" in text and closed.code in text
    # April published before March is closed: the sheet shows April's notice and stays as it is
    other = tmp_path / "另一村"
    other.mkdir()
    second = build(other / "永宁寺村.xlsx", cycle_tables())
    publish_march(second)
    app.publish_book(app.open_backend(second), month="2026-04", start="2026-04-05", today=D(2026, 4, 5))
    before = calamine_rows(second, S.NOTICE_SHEET_NAME)
    closed = app.close_book(app.open_backend(second), month="2026-03", date="2026-04-08", today=D(2026, 4, 8))
    assert closed.written.images == () and calamine_rows(second, S.NOTICE_SHEET_NAME) == before
