"""Points cards (积分卡): the small village's cards worked by hand, lookups, refusals, the printed card."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl.cli import cli
from jifen_xl.errors import JifenError, ValidationFailed

from . import village_data as V
from .conftest import TODAY, build
from .lo import needs_lo
from .test_supervise import assert_page_numbers


def card_of(book, household):
    return app.card_book(app.open_backend(book), household=household, today=TODAY).card


def test_card_of_a_household_with_a_corrected_entry_and_an_exchange(village_book):
    card = card_of(village_book, "0006")
    assert card.household == {"hh_id": "0006", "head": "周明", "hukou": "本村户籍", "group": "3组", "status": "正常"}
    # April's only entry (2026-010, 0002) is still 公示中 and no exchange follows March: the card runs to March.
    assert card.through == "2026-03"
    # 上年累计积分 0 and 上年可用积分 0 (a zero in 住户名册).
    assert (card.carried_total, card.carried_available) == (0, 0)
    # 2026-007: 参加技能培训 3, objection YY-01 corrected it to 2; 2026-009: 先进事迹 +20. 2 + 20 = 22.
    assert card.year_points == 22
    assert card.cumulative == 22  # 0 + 22
    assert card.spent == 10  # DH-02: 2 bags of 洗衣粉, 10 points
    assert card.available == 12  # 0 + 22 - 10
    # March 累计积分: 0001 106, 0002 55, 0006 22, 0004 18, 0003 10 -> third of five.
    assert (card.rank, card.households_ranked) == (3, 5)
    assert [(e["entry_id"], e["date"], e["item"], e["points"], e["status"], e["scorers"], e["objection"])
            for e in card.entries] == [
        ("2026-007", "2026-02-25", "参加技能培训", 2, "已确认", "陈老师", "异议更正为 2"),
        ("2026-009", "2026-03-10", "先进事迹", 20, "已确认", "张大山", ""),
    ]
    # month, basic, contrib, deduct, month_total, cumulative, spent, available, rank
    assert [(m["month"], m["basic"], m["contrib"], m["deduct"], m["month_total"], m["cumulative"], m["spent"],
             m["available"], m["rank"]) for m in card.months] == [
        ("2026-01", 0, 0, 0, 0, 0, 0, 0, 4),     # nothing yet; four-way tie with 0003 behind 0001, 0002, 0004
        ("2026-02", 2, 0, 0, 2, 2, 0, 2, 5),     # +2 (corrected); last of five
        ("2026-03", 0, 20, 0, 20, 22, 10, 12, 3),  # +20; 10 spent
    ]
    assert card.exchanges == [{"exchange_id": "DH-02", "date": "2026-03-15", "goods": "洗衣粉", "qty": 2, "points": 10}]


def test_card_shows_a_withdrawn_entry_without_points_and_exchanges_never_lower_the_lifetime_total(village_book):
    card = card_of(village_book, "0001")
    assert (card.carried_total, card.carried_available) == (100, 80)
    # 2026-001 +6 counts; 2026-008 (-2) was withdrawn by objection YY-02: shown, worth 0.
    assert [(e["entry_id"], e["points"], e["status"], e["objection"], e["counted"]) for e in card.entries] == [
        ("2026-001", 6, "已确认", "", True), ("2026-008", 0, "已撤销", "异议撤销", False)]
    assert card.cumulative == 106  # 100 + 6: the 20 points spent in January do not lower it
    assert card.spent == 20
    assert card.available == 66  # 80 + 6 - 20
    assert card.rank == 1


def test_card_by_head_name_and_an_entry_still_under_publicity(village_book):
    card = card_of(village_book, "李秀英")
    assert card.household["hh_id"] == "0002"
    # 2026-002 +2 (文明礼貌, 数量 blank = 1 x 2), 2026-005 +3; 2026-010 +30 is 公示中 and does not count yet.
    assert card.cumulative == 55  # 50 + 2 + 3
    assert card.available == 55  # 50 + 5, nothing spent
    assert card.pending == 1
    assert [(e["entry_id"], e["points"], e["status"], e["counted"]) for e in card.entries][-1] == (
        "2026-010", 30, "公示中", False)


def test_a_number_typed_for_a_padded_code_finds_the_household(village_book):
    assert card_of(village_book, "6").household["hh_id"] == "0006"


def test_unknown_household_suggests_close_matches(village_book):
    with pytest.raises(JifenError) as exc:
        card_of(village_book, "张大")
    assert exc.value.message == ("「住户名册」中没有户号或户主姓名为「张大」的住户。最接近的是：0001（张大山）。"
                                 "请核对后重新输入户号。")


def test_a_name_two_households_share_must_be_given_as_a_code(tmp_path):
    tables = V.village_tables()
    tables["households"] = V.frame("households", V.HOUSEHOLDS + [
        ("0007", "周明", "本村户籍", "3组", 2, None, None, "正常", None, None, "与 0006 同名")])
    book = build(tmp_path / "同名.xlsx", tables)
    with pytest.raises(JifenError) as exc:
        card_of(book, "周明")
    assert exc.value.message == "「住户名册」中户主姓名为「周明」的有 2 户（户号 0006、0007），请用户号指定，例如 --household 0006。"


def test_card_refuses_while_the_workbook_has_errors(tmp_path):
    tables = V.village_tables()
    tables["entries"] = V.frame("entries", V.ENTRIES + [
        ("2026-011", dt.date(2026, 3, 3), "0006", "周明", "XX-99", "无此指标", 1, 5, "平时发现", "陈老师", None, "已确认", None)])
    book = build(tmp_path / "有错.xlsx", tables)
    with pytest.raises(ValidationFailed) as exc:
        card_of(book, "0006")
    assert exc.value.message == ("工作簿有 1 个错误，积分卡上的数字可能不准，不能生成积分卡。请先按上面列出的问题改正后重试。")


def test_cli_card_text_and_json(village_book):
    text = CliRunner().invoke(cli, ["card", str(village_book), "--household", "0006"])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[:2] == [
        "永宁寺村 2026 年积分卡　户号 0006　户主 周明　本村户籍　3组",
        "上年累计积分 0　本年已确认 22　累计积分 22　累计兑换 10　可用积分 12　村内排名 第 3 名（共 5 户，截至 2026-03）"]
    data = json.loads(CliRunner().invoke(cli, ["card", str(village_book), "--household", "0006", "--json"]).output)
    assert (data["cumulative"], data["available"], data["rank"]) == (22, 12, 3)
    missing = CliRunner().invoke(cli, ["card", str(village_book), "--household", "张大"])
    assert missing.exit_code == 1
    assert missing.output == "错误：「住户名册」中没有户号或户主姓名为「张大」的住户。最接近的是：0001（张大山）。请核对后重新输入户号。\n"


@needs_lo
def test_printed_card_pdf_and_html(village_book, tmp_path):
    html, pdf = tmp_path / "积分卡.html", tmp_path / "积分卡.pdf"
    result = CliRunner().invoke(cli, ["card", str(village_book), "--household", "0001", "--html", str(html),
                                      "--pdf", str(pdf)])
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for shown in (page, text):
        assert "永宁寺村乡村治理积分卡" in shown
        assert "张大山" in shown and "参与村级志愿者服务活动" in shown
        # privacy: never the 身份证号 or 联系电话 of 住户名册
        assert "500106198001010011" not in shown and "13800000001" not in shown
    # the figures row of 积分情况: 上年累计 100, 本年已确认 6, 累计 106, 累计兑换 20, 可用 66, rank 1 of 5
    figures = [line.split() for line in text.splitlines() if line.strip().startswith("100")][0]
    assert figures[:5] == ["100", "6", "106", "20", "66"]
    assert "".join(figures[5:]) == "第1名/5户"
    assert_page_numbers(pdf, text)
    assert "Noto" in subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
        assert (tmp_path / "p-1.png").stat().st_size > 5000  # a page with content, not a blank one


def test_card_after_a_close_carries_the_code_of_the_latest_sealed_month(village_book, tmp_path):
    """A card printed after months were closed shows the latest sealed month's verification code,
    the very code that month's notice prints; before any close it shows none."""
    from .sealing import seal_book

    before = CliRunner().invoke(cli, ["card", str(village_book), "--household", "0006"])
    assert "封账校验码" not in before.output
    seal_book(village_book, ["2026-01", "2026-02", "2026-03"])
    march = app.notice_book(app.open_backend(village_book), month="2026-03", today=TODAY).data["code"]
    assert len(march) == 9 and march[4] == "-"
    html = tmp_path / "积分卡.html"
    result = CliRunner().invoke(cli, ["card", str(village_book), "--household", "0006", "--html", str(html)])
    assert result.exit_code == 0, result.output
    line = f"已结账封存至 2026-03，封账校验码：{march}（与该月公示上印的校验码相同）。"
    assert line in result.output.splitlines()
    assert line in html.read_text(encoding="utf-8")
    data = json.loads(CliRunner().invoke(cli, ["card", str(village_book), "--household", "0006", "--json"]).output)
    assert (data["sealed_through"], data["code"]) == ("2026-03", march)
