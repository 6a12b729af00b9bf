"""Year rollover (年度结转): next year's workbook read back by the toolkit and by LibreOffice, the
carried totals against a hand computation, and the refusals."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl.cli import cli
from jifen_xl.core.catalogue import default_catalogue
from jifen_xl.errors import JifenError, ValidationFailed

from . import village_data as V
from .conftest import TODAY, build
from .lo import lo_convert, needs_lo

D = dt.date


def settled_tables() -> dict:
    """The small village with the year settled, and things rollover must leave behind:

    - 2026-010 (0002, +30 in April) is 已确认;
    - a December exchange DH-03: 0002 spends 5 (after its last entry month);
    - members serve to 2028-12-31, but a fourth reviewer, 何大姐, ends on 2026-12-31;
    - a catalogue row JC-99 expired on 2026-06-30.
    """
    tables = V.village_tables()
    tables["entries"] = V.frame("entries", [e if e[0] != "2026-010" else e[:11] + ("已确认", None) for e in V.ENTRIES])
    tables["exchanges"] = V.frame("exchanges", V.EXCHANGES + [("DH-03", D(2026, 12, 10), "0002", "SP-02", 1, 5, "王文书", None)])
    members = [m[:5] + (D(2028, 12, 31),) for m in V.MEMBERS]
    members.append(("何大姐", None, "积分评议小组", "组员", D(2024, 1, 1), D(2026, 12, 31)))
    tables["members"] = V.frame("members", members)
    catalogue = default_catalogue(2026)
    expired = catalogue.iloc[[0]].assign(code="JC-99", name="旧指标", valid_to=D(2026, 6, 30))
    tables["indicators"] = pd.concat([catalogue, expired], ignore_index=True)
    return tables


# Carried into 2027, worked by hand (上年累计积分 / 上年可用积分 = December's 累计积分 / 可用积分):
CARRIED = {
    "0001": (106, 66),  # 100 + 6 (2026-001); 80 + 6 - 20 (DH-01). 2026-008 withdrawn.
    "0002": (85, 80),   # 50 + 2 + 3 + 30; 50 + 35 - 5 (DH-03 in December)
    "0003": (10, 10),   # 0 + 10 (2026-004, objection kept)
    "0004": (18, 3),    # 20 - 3 + 1; 5 - 3 + 1
    "0006": (22, 12),   # 0 + 2 (2026-007 corrected 3 -> 2) + 20; 22 - 10 (DH-02)
}


@pytest.fixture
def settled(tmp_path):
    return build(tmp_path / "永宁寺村2026.xlsx", settled_tables())


def roll(book, to, **kw):
    return app.rollover_book(app.open_backend(book), to=to, today=TODAY, **kw)


def carried_of(book) -> tuple[dict, object]:
    loaded, report = app.check(app.open_backend(book), dt.date(2027, 1, 5))
    hh = loaded.village["households"]
    return {r.hh_id: (r.carried_total, r.carried_available) for r in hh.itertuples(index=False)}, (loaded, report)


def test_rollover_carries_active_households_and_their_totals(settled, tmp_path):
    to = tmp_path / "永宁寺村2027.xlsx"
    result = roll(settled, to)
    assert result.path == to and result.rollover.through == "2026-12"
    carried, (loaded, report) = carried_of(to)
    assert carried == CARRIED  # 0005 (迁出) left behind
    assert list(report.errors) == []
    village = loaded.village
    assert village.year == 2027
    assert {k: village.settings[k] for k in ("district", "township", "village", "publicity_days")} == {
        "district": "沙坪坝区", "township": "中梁镇", "village": "永宁寺村", "publicity_days": 7}
    assert result.rollover.left_behind == [{"hh_id": "0005", "head": "孙老汉", "status": "迁出"}]
    hh = village["households"].set_index("hh_id")
    assert (hh.loc["0003", "hukou"], hh.loc["0003", "note"]) == ("非本村户籍常住", "2025年迁入")
    # the catalogue without the expired row; the members still serving
    codes = set(village["indicators"]["code"])
    assert "JC-99" not in codes and codes == set(default_catalogue(2026)["code"])
    assert result.rollover.dropped_items == [{"code": "JC-99", "name": "旧指标", "valid_to": "2026-06-30"}]
    assert sorted(village["members"]["name"]) == sorted(m[0] for m in V.MEMBERS)
    assert result.rollover.ended_members == [{"name": "何大姐", "group": "积分评议小组", "term_to": "2026-12-31"}]
    assert list(village["goods"]["goods_id"]) == ["SP-01", "SP-02"]
    assert village["entries"].empty and village["exchanges"].empty


def test_the_new_year_ledger_starts_from_the_carried_totals(settled, tmp_path):
    to = roll(settled, tmp_path / "永宁寺村2027.xlsx").path
    loaded, _ = app.check(app.open_backend(to), dt.date(2027, 2, 1))
    from jifen_xl.core.ledger import compute_ledger

    jan = compute_ledger(loaded.village, pd.Period("2027-01", "M")).set_index("hh_id")
    assert {h: (r.cumulative, r.available) for h, r in jan.iterrows()} == CARRIED


@needs_lo
def test_libreoffice_opens_the_new_workbook(settled, tmp_path):
    to = roll(settled, tmp_path / "永宁寺村2027.xlsx").path
    resaved = lo_convert(to, "xlsx", tmp_path / "lo")
    carried, (_, report) = carried_of(resaved)
    assert carried == CARRIED
    assert list(report.errors) == []


def test_refuses_while_months_are_not_settled(village_book, tmp_path):
    to = tmp_path / "2027.xlsx"
    with pytest.raises(JifenError) as exc:
        roll(village_book, to)
    assert exc.value.message == (
        "2026 年还有 1 个月没有结账，不能结转到 2027 年度。2026-04：1 条登记仍处于待公示或公示中（「积分登记」第 11 行）。"
        "请等公示期满、异议处理完、登记状态改为“已确认”后再结转。没有生成新工作簿。")
    assert not to.exists()


def test_refuses_an_open_objection(tmp_path):
    tables = settled_tables()
    tables["entries"] = V.frame("entries", list(tables["entries"].itertuples(index=False, name=None)) + [
        ("2026-011", D(2026, 5, 8), "0003", "王建国", "GX-04", "先进事迹", 1, 20, "他人报告", "陈老师", None, "公示中", None)])
    tables["objections"] = V.frame("objections", V.OBJECTIONS + [
        ("YY-04", "2026-011", "李秀英", D(2026, 5, 12), "先进事迹是否属实", None, None, None, None, None)])
    book = build(tmp_path / "异议.xlsx", tables)
    with pytest.raises(JifenError) as exc:
        roll(book, tmp_path / "2027.xlsx")
    assert exc.value.message == (
        "2026 年还有 1 个月没有结账，不能结转到 2027 年度。2026-05：1 条登记仍处于待公示或公示中（「积分登记」第 12 行），"
        "「异议处理」中有未处理的异议 YY-04（第 5 行）。"
        "请等公示期满、异议处理完、登记状态改为“已确认”后再结转。没有生成新工作簿。")


def test_refuses_an_existing_target_and_errors(settled, tmp_path):
    to = tmp_path / "已有.xlsx"
    to.write_bytes(b"clerk's file")
    with pytest.raises(JifenError) as exc:
        roll(settled, to)
    assert exc.value.message == f"文件「{to}」已存在，为防止覆盖已有数据，工具不会改写它。请换一个文件名，或先把原文件移走。"
    assert to.read_bytes() == b"clerk's file"
    tables = settled_tables()
    tables["entries"] = V.frame("entries", list(tables["entries"].itertuples(index=False, name=None)) + [
        ("2026-011", D(2026, 3, 3), "0006", "周明", "XX-99", "无此指标", 1, 5, "平时发现", "陈老师", None, "已确认", None)])
    bad = build(tmp_path / "有错.xlsx", tables)
    with pytest.raises(ValidationFailed) as failed:
        roll(bad, tmp_path / "2027.xlsx")
    assert failed.value.message == "工作簿有 1 个错误，不能结转到下一年度。请先按上面列出的问题改正后重试。没有生成新工作簿。"
    with pytest.raises(JifenError) as same:
        roll(settled, settled)
    assert same.value.message == f"新年度的工作簿不能写在本工作簿「{settled.name}」上，请换一个文件名。"
    with pytest.raises(JifenError) as year:
        roll(settled, tmp_path / "2028.xlsx", year=2028)
    assert year.value.message == "新工作簿的年度只能是 2027（「基本信息」的年度 2026 的下一年），不能是 2028。"


def test_cli_rollover(settled, tmp_path):
    to = tmp_path / "永宁寺村2027.xlsx"
    out = CliRunner().invoke(cli, ["rollover", str(settled), "--to", str(to)])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        f"已生成 2027 年度工作簿「{to}」：带入 5 户，上年累计积分、上年可用积分按 2026 年 12 月底的累计积分、可用积分带入（积分永不清零）。",
        "没有带入的住户（已迁出或注销）：0005 孙老汉（迁出）。",
        "已失效、没有带入的积分指标：JC-99 旧指标（2026-06-30 失效）。",
        "任期已满、没有带入的小组成员：何大姐（积分评议小组，2026-12-31 任期结束）。请在新工作簿的「小组成员」中登记新一届成员。",
    ]
    again = CliRunner().invoke(cli, ["rollover", str(settled), "--to", str(to)])
    assert again.exit_code == 1
    assert again.output == f"错误：文件「{to}」已存在，为防止覆盖已有数据，工具不会改写它。请换一个文件名，或先把原文件移走。\n"


# -- a year closed and sealed -----------------------------------------------------------------------
@pytest.fixture
def sealed_year(tmp_path):
    from .sealing import seal_book

    path = build(tmp_path / "永宁寺村2026.xlsx", settled_tables())
    seal_book(path, [f"2026-{m:02d}" for m in range(1, 13)], dt.date(2027, 1, 9))
    return path


def test_a_sealed_year_carries_exactly_decembers_sealed_figures(sealed_year, tmp_path):
    from .test_cycle import sheet_rows

    december = {r["户号"]: (r["累计积分"], r["可用积分"]) for r in sheet_rows(sealed_year, "月度台账")
                if r["月份"] == "2026-12"}
    assert december == CARRIED
    carried, _ = carried_of(roll(sealed_year, tmp_path / "永宁寺村2027.xlsx").path)
    assert carried == december


def test_rollover_refuses_a_sealed_year_that_recomputes_differently(sealed_year, tmp_path):
    """0004's 上年可用积分 raised after the year was sealed: December's sealed 可用积分 (3) is no
    longer what the data give (8); carrying 8 would silently differ from the sealed ledger."""
    import openpyxl

    wb = openpyxl.load_workbook(sealed_year)
    ws = wb["住户名册"]
    cols = {c.value: c.column for c in ws[1]}
    ws.cell(5, cols["上年可用积分"]).value = 10
    wb.save(sealed_year)
    to = tmp_path / "永宁寺村2027.xlsx"
    with pytest.raises(JifenError) as err:
        roll(sealed_year, to)
    message = str(err.value)
    assert message.startswith("不能结转到 2027 年度：已封账月份按现在的数据重算，与封账时的「月度台账」不符，")
    assert "2026-01 户号「0004」的可用积分：封账时为 2（「月度台账」第 4 行），重算为 7；" in message
    assert "重算为 8；另有 2 处不符。可能是「积分兑换」的兑换" in message  # 12 months, the first 10 named
    assert not to.exists()


def test_a_settled_year_without_seals_still_rolls_over(settled, tmp_path):
    """Legacy: every month 已确认 by hand, none sealed: rollover carries the recomputed totals."""
    carried, _ = carried_of(roll(settled, tmp_path / "永宁寺村2027.xlsx").path)
    assert carried == CARRIED
