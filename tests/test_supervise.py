"""监督报告: per-scorer figures and objection rates, unscored households, rewards against deductions,
deductions without evidence, 回避 violations and the sealed-months section, on real workbooks."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass

import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.core.supervise import Period, supervision_report
from jifen_xl.errors import JifenError
from jifen_xl.render import render_html

from . import village_data as V
from .conftest import TODAY, build, village_from_tables
from .lo import needs_lo

D = dt.date


def report(book, **kw):
    return app.supervise_book(app.open_backend(book), today=TODAY, **kw).supervision.as_dict()


def planted_tables() -> dict:
    """The small village with planted problems:

    - 刘会计 lives in household 0004 (小组成员.户号) and scored its 2026-003: 回避 (member's 户号);
    - 2026-011: 张大山 scores his own household 0001: 回避 (he is its 户主, and his 户号 is 0001);
    - 2026-012: a deduction for 0003 with no 证明材料;
    - 0007 (正常) has no entry all year;
    - May holds one deduction only (2026-013, with evidence).
    """
    tables = V.village_tables()
    members = [m if m[0] != "刘会计" else ("刘会计", "0004") + m[2:] for m in V.MEMBERS]
    tables["members"] = V.frame("members", members)
    tables["households"] = V.frame("households", V.HOUSEHOLDS + [
        ("0007", "钱多多", "本村户籍", "1组", 2, None, None, "正常", None, None, None)])
    tables["entries"] = V.frame("entries", V.ENTRIES + [
        ("2026-011", D(2026, 3, 20), "0001", "张大山", "JC-01", "文明礼貌", None, None, "平时发现", "张大山", None, "已确认", None),
        ("2026-012", D(2026, 3, 22), "0003", "王建国", "KF-02", "邻里纠纷", 1, -3, "群众反映", "陈老师", None, "已确认", None),
        ("2026-013", D(2026, 5, 6), "0002", "李秀英", "KF-02", "邻里纠纷", 1, -3, "群众反映", "陈老师", "调解记录", "已确认", None),
    ])
    return tables


@pytest.fixture
def planted(tmp_path):
    return build(tmp_path / "监督.xlsx", planted_tables())


def test_per_scorer_figures_and_objection_rates_over_the_year(village_book):
    d = report(village_book, year="2026")
    assert d["period"] == "2026年度（1—11月）" and d["entries"] == 10  # TODAY is 2026-11-28
    rows = {s["scorer"]: s for s in d["scorers"]}
    keys = ("entries", "rewards", "reward_points", "deductions", "deduction_points", "total", "average",
            "objected", "objection_rate", "kept", "corrected", "withdrawn", "open")
    # 陈老师: 2026-001 (+6, with 刘会计), 004 (+10, YY-03 维持), 007 (3 corrected to 2 by YY-01), 010 (+30 公示中).
    # 6 + 10 + 2 + 30 = 48 over 4 scored entries = 12; objections on 2 of 4 = 50 %.
    assert tuple(rows["陈老师"][k] for k in keys) == (4, 4, 48, 0, 0, 48, 12, 2, 50, 1, 1, 0, 0)
    # 刘会计: 001 (+6), 003 (-3), 005 (+3), 008 (-2 withdrawn by YY-02: counted as scored, no points).
    # 6 - 3 + 3 = 6 over 3 entries with points = 2; 1 objection of 4 = 25 %.
    assert tuple(rows["刘会计"][k] for k in keys) == (4, 2, 9, 1, -3, 6, 2, 1, 25, 0, 0, 1, 0)
    # 张大山: 002 (+2), 006 (+1), 009 (+20) = 23; 23 / 3 = 7.67; no objection.
    assert tuple(rows["张大山"][k] for k in keys) == (3, 3, 23, 0, 0, 23, 7.67, 0, 0, 0, 0, 0, 0)
    # rewards 6 + 2 + 10 + 3 + 1 + 2 + 20 + 30 = 74 in 8 entries; one deduction of 3 (008 withdrawn)
    assert d["balance"] == {"rewards": 8, "reward_points": 74, "deductions": 1, "deduction_points": 3,
                            "ratio": 24.67, "rewards_dominate": True}
    assert d["no_evidence"] == [] and d["recusal"] == [] and d["sealed_changes"] == []


def test_households_not_scored_for_three_months(village_book, planted):
    # Through March nobody waits three months: 0001's last entry is 2026-01-05 (its March -2 was withdrawn).
    assert report(village_book, month="2026-03")["unscored"] == []
    # Through April: 0001 has gone February, March and April without a score.
    assert report(village_book, month="2026-04")["unscored"] == [
        {"hh_id": "0001", "head": "张大山", "group": "1组", "last": "2026-01-05", "months": 3}]
    # 0007 was never scored: January .. March = 3 months; 0005 moved away and is never listed.
    assert report(planted, month="2026-03")["unscored"] == [
        {"hh_id": "0007", "head": "钱多多", "group": "1组", "last": None, "months": 3}]


def test_planted_recusal_and_deduction_without_evidence(planted):
    d = report(planted, month="2026-03")
    # 2026-011 (row 12): 张大山 is both 0001's 户主 and registered with 户号 0001.
    assert [(x["entry_id"], x["row"], x["hh_id"], x["scorer"], x["reason"]) for x in d["recusal"]] == [
        ("2026-011", 12, "0001", "张大山", "评议人是本户户主")]
    # January's 2026-003 (刘会计 scoring 0004, his own household) is outside March; the year sees both.
    year = report(planted, year=2026)
    assert [(x["entry_id"], x["scorer"], x["reason"]) for x in year["recusal"]] == [
        ("2026-003", "刘会计", "评议人在「小组成员」中登记的户号就是本户"),
        ("2026-011", "张大山", "评议人是本户户主")]
    assert [(x["entry_id"], x["row"], x["hh_id"], x["head"], x["item"], x["points"], x["scorers"])
            for x in d["no_evidence"]] == [("2026-012", 13, "0003", "王建国", "邻里纠纷", -3, "陈老师")]


def test_deductions_outweighing_rewards_are_called_out(planted):
    d = report(planted, month="2026-05")
    assert d["balance"] == {"rewards": 0, "reward_points": 0, "deductions": 1, "deduction_points": 3,
                            "ratio": 0.0, "rewards_dominate": False}
    out = CliRunner().invoke(cli, ["supervise", str(planted), "--month", "2026-05"])
    assert out.exit_code == 0, out.output
    assert "三、加分 0 条共 0 分，扣分 1 条共 3 分。扣分多于加分，不符合“奖为主、罚为辅”，请评议小组注意。" in out.output
    # the 回避 violations are errors of the workbook (E-ENT-11): the report is made and says so
    assert out.output.rstrip().endswith("工作簿另有 2 个错误，可运行 jifen-xl validate 查看。")


def test_default_period_is_the_year_up_to_today(village_book):
    d = app.supervise_book(app.open_backend(village_book), today=D(2026, 4, 15)).supervision.as_dict()
    assert (d["period"], d["first_month"], d["last_month"]) == ("2026年度（1—4月）", "2026-01", "2026-04")
    # --year names the same period while the year runs (a month to come is no month a household
    # went unscored), and the whole year once it is over
    named = app.supervise_book(app.open_backend(village_book), year=2026, today=D(2026, 4, 15)).supervision.as_dict()
    assert (named["period"], named["last_month"]) == ("2026年度（1—4月）", "2026-04")
    after = app.supervise_book(app.open_backend(village_book), year=2026, today=D(2027, 1, 5)).supervision.as_dict()
    assert (after["period"], after["first_month"], after["last_month"]) == ("2026年度", "2026-01", "2026-12")


def test_period_refusals(village_book):
    with pytest.raises(JifenError) as both:
        report(village_book, month="2026-03", year="2026")
    assert both.value.message == "--month 和 --year 只能指定一个：按月报告写 --month 2026-03，按年度报告写 --year 2026。"
    with pytest.raises(JifenError) as other:
        report(village_book, year="2025")
    assert other.value.message == "年度「2025」与工作簿的年度 2026 不同：一个工作簿只记一年。请写 --year 2026，或打开 2025 年的工作簿。"


@dataclass
class FakeSealChange:  # the shape core.seal.check_seals is to return (H1b); plain data, not a mock of it
    month: str
    kind: str
    entry_id: str
    field: str
    sealed: object
    current: object
    row: int


def test_sealed_month_changes_are_rendered_when_given(tables):
    village = village_from_tables(tables)
    changes = [FakeSealChange("2026-02", "修改", "2026-005", "积分", 3, 5, 6),
               {"month": "2026-01", "kind": "删除", "entry_id": "2026-002", "row": None}]
    d = supervision_report(village, Period.month(pd.Period("2026-03", "M")), sealed_changes=changes).as_dict()
    assert d["sealed_changes"] == [
        {"month": "2026-02", "kind": "修改", "entry_id": "2026-005", "field": "积分", "sealed": 3, "current": 5, "row": 6,
         "sheet": ""},
        {"month": "2026-01", "kind": "删除", "entry_id": "2026-002", "field": "", "sealed": "", "current": "", "row": "",
         "sheet": ""}]
    page = render_html("监督报告.html.j2", dict(d, errors=0, warnings=0, made="2026-04-01"))
    section = page.split("六、已封账月份的改动", 1)[1]
    assert "2026-005" in section and "2026-002" in section and "删除" in section and "没有发现改动" not in section


def test_cli_json(planted):
    out = CliRunner().invoke(cli, ["supervise", str(planted), "--year", "2026", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [x["entry_id"] for x in data["recusal"]] == ["2026-003", "2026-011"]


@needs_lo
def test_printed_report(planted, tmp_path):
    pdf = tmp_path / "监督报告.pdf"
    out = CliRunner().invoke(cli, ["supervise", str(planted), "--year", "2026", "--pdf", str(pdf)])
    assert out.exit_code == 0, out.output
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "永宁寺村乡村治理积分工作监督报告" in text
    recusal = text.split("五、应当回避而没有回避", 1)[1].split("六、", 1)[0]
    assert "2026-011" in recusal and "评议人是本户户主" in recusal
    evidence = text.split("四、没有证明材料的扣分", 1)[1].split("五、", 1)[0]
    assert "2026-012" in evidence and "2026-013" not in evidence
    assert "钱多多" in text.split("二、", 1)[1].split("三、", 1)[0]
    assert_page_numbers(pdf, text)


def assert_page_numbers(pdf, text):
    """Every page carries 「第 i 页，共 n 页」 (LibreOffice's footer from the template)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert [f"第 {i} 页，共 {pages} 页" in text for i in range(1, pages + 1)] == [True] * pages


@needs_lo
def test_a_change_to_a_sealed_month_reads_in_chinese(tmp_path):
    """A sealed entry's 积分 edited afterwards: the report names the column by its header, the
    values as the clerk typed them and the sheet, in the terminal, the web page and the PDF."""
    import openpyxl

    from .sealing import seal_book

    book = build(tmp_path / "监督.xlsx", planted_tables())
    seal_book(book, ["2026-01", "2026-02"])
    wb = openpyxl.load_workbook(book)
    ws = wb[S.ENTRIES.name]
    column = [c.value for c in ws[1]].index(S.ENTRIES.header_of("points")) + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "2026-002")
    ws.cell(row, column).value = 99
    wb.save(book)
    html, pdf = tmp_path / "监督报告.html", tmp_path / "监督报告.pdf"
    out = CliRunner().invoke(cli, ["supervise", str(book), "--year", "2026", "--html", str(html), "--pdf", str(pdf)])
    assert out.exit_code == 0, out.output
    section = out.output.split("六、已封账月份的改动：\n", 1)[1].splitlines()
    assert section[0].split() == ["月份", "类型", "登记编号", "项目", "封账时", "现在", "工作表", "行号"]
    assert section[2].split() == ["2026-01", "修改", "2026-002", "积分", "2", "99", "积分登记", str(row)]
    page = html.read_text(encoding="utf-8").split("六、已封账月份的改动", 1)[1]
    assert "<td>积分</td>" in page and "<td>2</td><td>99</td><td>积分登记</td>" in page and "points" not in page
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    changes = [line.split() for line in text.split("六、已封账月份的改动", 1)[1].splitlines() if "2026-002" in line]
    assert changes == [["2026-01", "修改", "2026-002", "积分", "2", "99", "积分登记", str(row)]]
