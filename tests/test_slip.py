"""The exchange slip (兑换单, issue 10): figures worked by hand from tests/village_data.py, lookups,
refusals with their exact messages, and the printed page (two copies, a page per exchange).

Spendable points (可用积分) on an exchange's day = 上年可用积分 + the 已确认 points dated up to that
day − the household's earlier exchanges (same day: earlier rows), as the check E-EXC-03 walks them.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl.cli import cli
from jifen_xl.errors import JifenError, ValidationFailed

from . import village_data as V
from .conftest import TODAY, build
from .lo import needs_lo
from .test_validate import add

D = dt.date

# 0002 (李秀英): 上年可用积分 50; 2026-002 +2 on 01-09; 2026-005 +3 on 02-14; 2026-010 +30 on 04-02 is
# still 公示中 (not spendable). Two exchanges on 02-14 (the day of 2026-005) and one in April.
MORE_EXCHANGES = [
    ("DH-03", D(2026, 2, 14), "0002", "SP-02", 1, 5, "刘会计", "当天登记的 3 分已确认"),
    ("DH-04", D(2026, 2, 14), "0002", "SP-02", 2, 10, "刘会计", None),
    ("DH-05", D(2026, 4, 5), "0002", "SP-01", 1, 20, "王文书", None),
]


@pytest.fixture
def shop_book(tmp_path):
    return build(tmp_path / "永宁寺村.xlsx", add(V.village_tables(), "exchanges", *MORE_EXCHANGES))


def slips(book, **kw):
    return app.slip_book(app.open_backend(book), today=TODAY, **kw)


def figures(s: dict) -> tuple:
    return (s["exchange_id"], s["date"], s["household"]["hh_id"], s["household"]["head"], s["goods"]["goods_id"],
            s["goods"]["name"], s["goods"]["unit"], s["qty"], s["price"], s["points"], s["available_before"],
            s["available_after"], s["handler"])


def test_the_slip_of_the_fixture_exchanges_by_hand(village_book):
    # DH-01: 0001 张大山 on 01-25: 上年可用 80 + 2026-001 (+6, 01-05) = 86; 1 bag of rice, 20 points -> 66.
    one = slips(village_book, exchange="DH-01").slips
    assert [figures(s) for s in one] == [
        ("DH-01", "2026-01-25", "0001", "张大山", "SP-01", "大米", "袋", 1, 20, 20, 86, 66, "王文书")]
    s = one[0]
    assert s["place"] == {"district": "沙坪坝区", "township": "中梁镇", "village": "永宁寺村", "year": 2026}
    assert (s["goods"]["spec"], s["household"]["group"], s["date_text"]) == ("5kg", "1组", "2026年1月25日")
    # DH-02: 0006 周明 on 03-15: 0 + 2026-007 (3, corrected to 2 by YY-01) + 2026-009 (+20) = 22; 2 x 5 -> 12.
    assert figures(slips(village_book, exchange="DH-02").slips[0])[8:] == (5, 10, 22, 12, "王文书")


def test_same_day_exchanges_in_row_order_and_only_confirmed_points(shop_book):
    got = {s["exchange_id"]: (s["available_before"], s["available_after"])
           for s in slips(shop_book, month="2026-02").slips + slips(shop_book, month="2026-04").slips}
    # 02-14: 50 + 2 + 3 (the entry of that very day counts) = 55 -> DH-03 (5) -> 50 -> DH-04 (10) -> 40.
    # 04-05: the 30 points of 2026-010 are 公示中, not spendable: 40 -> DH-05 (20) -> 20.
    assert got == {"DH-03": (55, 50), "DH-04": (50, 40), "DH-05": (40, 20)}
    assert slips(shop_book, exchange="DH-03").slips[0]["note"] == "当天登记的 3 分已确认"


def test_a_month_gives_its_exchanges_by_date(shop_book):
    result = slips(shop_book, month="2026-02")
    assert result.month == "2026-02"
    assert [s["exchange_id"] for s in result.slips] == ["DH-03", "DH-04"]


@pytest.mark.parametrize("typed", ["DH-02", "dh-02", " DH-02 ", "2", "02"])
def test_an_exchange_is_found_by_its_id_in_any_case_or_by_its_number(village_book, typed):
    assert slips(village_book, exchange=typed).slips[0]["exchange_id"] == "DH-02"


def test_an_unknown_exchange_suggests_the_closest_ids(village_book):
    with pytest.raises(JifenError) as exc:
        slips(village_book, exchange="DH-9")
    assert exc.value.message == ("「积分兑换」中没有兑换编号为「DH-9」的兑换。最接近的是：DH-02、DH-01。"
                                 "请核对后重新输入兑换编号。")
    with pytest.raises(JifenError) as exc:
        slips(village_book, exchange="XYZ")
    assert exc.value.message == "「积分兑换」中没有兑换编号为「XYZ」的兑换。请核对「积分兑换」中的兑换编号后重新输入。"


def test_a_number_two_ids_share_must_be_written_in_full(tmp_path):
    book = build(tmp_path / "两个2号.xlsx", add(V.village_tables(), "exchanges",
                                               ("HX-2", D(2026, 3, 20), "0002", "SP-02", 1, 5, None, None)))
    with pytest.raises(JifenError) as exc:
        slips(book, exchange="2")
    assert exc.value.message == "「积分兑换」中编号为 2 的兑换有 2 条（DH-02、HX-2），请写完整的兑换编号，例如 --exchange DH-02。"


def test_exchange_or_month_one_of_them(village_book):
    message = ("请用 --exchange 指定一笔兑换（例如 --exchange DH0012），或用 --month 指定月份"
               "（例如 --month 2026-03，打印该月全部兑换单），二者选一。")
    for kw in ({}, {"exchange": "DH-01", "month": "2026-01"}):
        with pytest.raises(JifenError) as exc:
            slips(village_book, **kw)
        assert exc.value.message == message


def test_a_month_without_exchanges(village_book):
    with pytest.raises(JifenError) as exc:
        slips(village_book, month="2026-02")
    assert exc.value.message == "2026-02 没有兑换记录（「积分兑换」中没有这个月的兑换），没有生成兑换单。请核对月份。"


def test_slip_refuses_while_the_workbook_has_errors(tmp_path):
    # 0006 has 12 points left after DH-02: a rice bag (20) on 03-20 overspends (E-EXC-03).
    book = build(tmp_path / "有错.xlsx", add(V.village_tables(), "exchanges",
                                             ("DH-03", D(2026, 3, 20), "0006", "SP-01", 1, 20, None, None)))
    with pytest.raises(ValidationFailed) as exc:
        slips(book, exchange="DH-02")
    assert exc.value.message == "工作簿有 1 个错误，兑换单上的积分可能不准，不能生成兑换单。请先按上面列出的问题改正后重试。"
    assert [p.rule for p in exc.value.report.errors] == ["E-EXC-03"]


def test_the_workbook_is_never_an_output(village_book):
    with pytest.raises(JifenError) as exc:
        slips(village_book, exchange="DH-01", html=village_book)
    assert exc.value.message == f"输出文件「{village_book.name}」就是村里的工作簿，工具不会覆盖它。请换一个文件名。"


def test_cli_slip_text_json_and_a_refusal(village_book):
    text = CliRunner().invoke(cli, ["slip", str(village_book), "--exchange", "dh-02"])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines() == [
        "永宁寺村爱心超市积分兑换单　兑换编号 DH-02　日期 2026-03-15",
        "户主 周明（户号 0006，3组）",
        "商品 洗衣粉（1kg）（SP-02）　数量 2 袋　兑换积分 5 分/袋　消耗积分 10",
        "兑换前可用积分 22　兑换后可用积分 12　经办人 王文书"]
    data = json.loads(CliRunner().invoke(cli, ["slip", str(village_book), "--exchange", "DH-01", "--json"]).output)
    assert (data["household"]["head"], data["goods"]["name"], data["available_after"]) == ("张大山", "大米", 66)
    month = json.loads(CliRunner().invoke(cli, ["slip", str(village_book), "--month", "2026-03", "--json"]).output)
    assert [s["exchange_id"] for s in month] == ["DH-02"]
    missing = CliRunner().invoke(cli, ["slip", str(village_book), "--exchange", "XYZ"])
    assert (missing.exit_code, missing.output) == (
        1, "错误：「积分兑换」中没有兑换编号为「XYZ」的兑换。请核对「积分兑换」中的兑换编号后重新输入。\n")


def test_html_slip_has_two_copies_names_and_no_private_data(village_book, tmp_path):
    html = tmp_path / "兑换单.html"
    slips(village_book, exchange="DH-01", html=html)
    page = html.read_text(encoding="utf-8")
    assert page.count("永宁寺村爱心超市积分兑换单</h1>") == 2
    assert "存根联" in page and "户主联" in page and "沿此线剪开" in page
    assert "张大山" in page and "大米" in page and "SP-01" in page
    assert "500106198001010011" not in page and "13800000001" not in page


@needs_lo
def test_printed_slips_of_a_month_a_page_each(shop_book, tmp_path):
    pdf = tmp_path / "兑换单.pdf"
    result = CliRunner().invoke(cli, ["slip", str(shop_book), "--month", "2026-02", "--pdf", str(pdf)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"已生成「{pdf}」。"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert (int(fields["Pages"]), fields["Page size"].split()[-1]) == (2, "(A4)")
    pages = [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                            text=True, check=True).stdout for i in (1, 2)]
    for page, (ex_id, before, after) in zip(pages, [("DH-03", "55", "50"), ("DH-04", "50", "40")]):
        flat = " ".join(page.split())
        assert flat.count("永宁寺村爱心超市积分兑换单") == 2  # 存根联 and 户主联
        assert flat.count(f"兑换编号：{ex_id}") == 2
        assert "李秀英" in flat and "洗衣粉" in flat and "户主签字" in flat and "经办人签字" in flat
        assert f"兑换前可用积分 {before}" in flat and f"兑换后可用积分 {after}" in flat
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    assert (tmp_path / "p-1.png").stat().st_size > 5000  # a page with content, not a blank one
