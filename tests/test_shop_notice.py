"""The love supermarket's monthly posting (物资接收与兑换公示), issue 10: `jifen-xl shop-notice`.

The month is March 2026 of tests/shop_month.py (figures worked by hand in its docstring). Golden
files (tests/golden/超市公示-*) were checked by hand against those figures; to rewrite them after a
deliberate change: JIFEN_UPDATE_GOLDEN=1 pytest tests/test_shop_notice.py, then read the diff.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl import app, render
from jifen_xl.cli import cli
from jifen_xl.errors import JifenError, ValidationFailed
from jifen_xl.io.xlsxfill import KEEP_ROWS, fill_template, plan_pages

from . import village_data as V
from .conftest import build
from .lo import needs_lo
from .shop_month import shop_tables
from .test_notice import PRIVATE, _golden, _gray, _pages, _squash, needs_poppler
from .test_validate import add, edit
from .xlsxdump import dump

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / render.SHOP_NOTICE_XLSX
D = dt.date
START = D(2026, 4, 1)
#: The four tables' header rows as pdftotext prints them (spaces squashed).
HEADERS = {
    "receipts": "日期入库编号来源类型捐赠方物资名称（规格/单位）数量折合金额（元）",
    "sources": "来源类型捐赠方笔数数量折合金额（元）",
    "households": "户号户主兑换物品（数量）兑换笔数消耗积分兑换后可用积分",
    "stock": "商品编码商品名称（规格/单位）期初库存本月入库本月出库期末库存备注",
}


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("shopnotice") / "永宁寺村.xlsx", shop_tables())


@pytest.fixture(scope="module")
def outputs(book, tmp_path_factory):
    folder = tmp_path_factory.mktemp("out")
    files = {k: folder / f"超市公示.{k}" for k in ("html", "txt", "xlsx")}
    result = app.shop_notice_book(app.open_backend(book), month="2026-03", today=START, html=files["html"],
                                  wechat=files["txt"], xlsx=files["xlsx"])
    return result, files


# --- the figures -----------------------------------------------------------------------------

def _independent(tables: dict, month: str) -> dict:
    """The month's figures by a plain walk over the rows (not jifen_xl.core)."""
    goods = {r.goods_id: r for r in tables["goods"].itertuples()}
    in_month = [r for r in tables["receipts"].itertuples() if str(r.date)[:7] == month]
    by_source = defaultdict(lambda: [0, 0, 0.0])
    for r in in_month:
        by_source[r.funding][0] += 1
        by_source[r.funding][1] += r.qty
        by_source[r.funding][2] += 0 if pd.isna(r.amount) else r.amount
    spent = defaultdict(float)
    count = defaultdict(int)
    for r in tables["exchanges"].itertuples():
        if str(r.date)[:7] == month:
            spent[r.hh_id] += r.points
            count[r.hh_id] += 1
    stock = {}
    for gid in goods:
        moves = [(str(r.date)[:7], r.qty) for r in tables["receipts"].itertuples() if r.goods_id == gid]
        outs = [(str(r.date)[:7], r.qty) for r in tables["exchanges"].itertuples() if r.goods_id == gid]
        opening = sum(q for m, q in moves if m < month) - sum(q for m, q in outs if m < month)
        received = sum(q for m, q in moves if m == month)
        issued = sum(q for m, q in outs if m == month)
        stock[gid] = (opening, received, issued, opening + received - issued)
    return {"sources": {k: tuple(v) for k, v in by_source.items()}, "spent": dict(spent), "count": dict(count),
            "stock": stock, "amount": sum(v[2] for v in by_source.values())}


def test_figures_equal_an_independent_walk(outputs):
    data = outputs[0].data
    want = _independent(shop_tables(), "2026-03")
    assert {s["source"]: (s["count"], s["qty"], s["amount"]) for s in data["sources"]} == want["sources"]
    assert {h["hh_id"]: h["points"] for h in data["households"]} == want["spent"]
    assert {h["hh_id"]: h["count"] for h in data["households"]} == want["count"]
    assert {g["goods_id"]: (g["opening"], g["received"], g["issued"], g["closing"]) for g in data["stock"]} == want["stock"]
    assert data["totals"]["amount"] == want["amount"] == 1040
    assert data["totals"]["points"] == sum(want["spent"].values()) == 86
    assert (data["totals"]["households"], data["totals"]["exchanges"], data["totals"]["receipts"]) == (3, 5, 4)


def test_the_month_as_worked_by_hand(outputs):
    data = outputs[0].data
    assert data["title"] == "永宁寺村爱心超市 2026年3月物资接收与兑换公示"
    assert [(r["receipt_id"], r["source"], r["donor"], r["item"], r["qty"], r["amount_text"]) for r in data["receipts"]] == [
        ("RK-06", "财政补贴", "中梁镇", "肥皂（块）", 30, "60.00"),
        ("RK-03", "社会组织捐赠", "区慈善会", "食用油（5L/桶）", 4, "480.00"),
        ("RK-05", "社会组织捐赠", "区慈善会", "肥皂（块）", 20, "未填"),
        ("RK-04", "企业爱心捐助", "重庆某米业公司", "大米（5kg/袋）", 10, "500.00"),
    ]
    assert [(h["hh_id"], h["head"], h["goods"], h["points"], h["available"]) for h in data["households"]] == [
        ("0001", "张大山", "大米×2", 40, 26), ("0002", "李秀英", "食用油×1、肥皂×3", 36, 19), ("0006", "周明", "洗衣粉×2", 10, 12)]
    assert [(g["name"], g["closing"], g["mark"]) for g in data["stock"]] == [
        ("大米", 37, ""), ("洗衣粉", 48, ""), ("食用油", 3, "库存预警"), ("肥皂", 47, "")]
    assert data["totals"]["missing_amount"] == 1 and "另有1笔入库未填折合金额，不计入金额合计。" in data["note"]
    assert data["period_text"] == "2026年4月1日至4月7日"
    assert "异议受理人王文书（联系电话：023-65000000）" in data["period_sentence"]


def test_available_points_equal_the_ledger(book, outputs):
    """可用积分 on the posting is 月度台账's 可用积分 of the month (ledger run through March)."""
    ledger = app.ledger_book(app.open_backend(book), month="2026-03", dry_run=True).ledger
    march = ledger[ledger["month"] == "2026-03"].set_index("hh_id")["available"]
    for h in outputs[0].data["households"]:
        assert h["available"] == march[h["hh_id"]]


def test_a_month_without_receipts_or_exchanges_says_so(book):
    data = app.shop_notice_book(app.open_backend(book), month="2026-02", today=START).data
    assert data["receipts"] == [] and data["no_receipts"] == ["本月无物资入库"]
    assert data["households"] == [] and data["no_exchanges"] == ["本月无兑换"]
    assert [(g["goods_id"], g["opening"], g["closing"]) for g in data["stock"]] == [
        ("SP-01", 29, 29), ("SP-02", 50, 50), ("SP-03", 0, 0), ("SP-04", 0, 0)]
    text = "\n".join(app.shop_notice_book(app.open_backend(book), month="2026-02", today=START).messages)
    assert "本月无物资入库" in text and "本月无兑换" in text


def test_masked_names_in_html_and_wechat_only(book, tmp_path):
    html, txt, xlsx = tmp_path / "a.html", tmp_path / "a.txt", tmp_path / "a.xlsx"
    result = app.shop_notice_book(app.open_backend(book), month="2026-03", today=START, html=html, wechat=txt,
                                  xlsx=xlsx, masked=True)
    for path in (html, txt):
        text = path.read_text(encoding="utf-8")
        assert "张*山" in text and "李*英" in text and "周*" in text
        assert "张大山" not in text and "李秀英" not in text
    assert "张大山" in dump(xlsx)  # the board shows the names
    assert [h["head"] for h in result.data["households"]] == ["张大山", "李秀英", "周明"]


def test_no_private_data_in_any_output(outputs):
    _, files = outputs
    for text in (files["html"].read_text(encoding="utf-8"), files["txt"].read_text(encoding="utf-8"), dump(files["xlsx"])):
        for secret in PRIVATE:
            assert secret not in text


# --- golden outputs --------------------------------------------------------------------------

def test_golden_html(outputs):
    _golden("超市公示-2026-03.html", outputs[1]["html"].read_text(encoding="utf-8"))


def test_golden_wechat(outputs):
    _golden("超市公示-2026-03.txt", outputs[1]["txt"].read_text(encoding="utf-8"))


def test_golden_xlsx(outputs):
    _golden("超市公示-2026-03.xlsx.txt", dump(outputs[1]["xlsx"]))


def test_committed_template_equals_a_fresh_build(tmp_path):
    out = tmp_path / render.SHOP_NOTICE_XLSX
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_shop_notice_template.py"), str(out)], check=True,
                   capture_output=True)
    assert dump(out) == dump(TEMPLATE)
    assert dump(out, sheet=1) == dump(TEMPLATE, sheet=1)


# --- refusals --------------------------------------------------------------------------------

def test_refuses_a_workbook_with_errors(tmp_path):
    tables = edit(shop_tables(), "exchanges", 3, points=3)  # DH-04: 2 × 2 booked as 3 (E-EXC-08)
    book = build(tmp_path / "村.xlsx", tables)
    before = book.read_bytes()
    with pytest.raises(ValidationFailed) as err:
        app.shop_notice_book(app.open_backend(book), month="2026-03", today=START, html=tmp_path / "a.html")
    assert err.value.message == ("工作簿有 1 个错误，爱心超市公示上的数字可能不准，不能生成公示。"
                                 "请先按上面列出的问题改正后重试。")
    assert [p.rule for p in err.value.report.errors] == ["E-EXC-08"]
    assert not (tmp_path / "a.html").exists() and book.read_bytes() == before


@pytest.mark.parametrize("month, message", [
    ("2025-03", "月份「2025-03」不在工作簿的年度 2026 内。请核对「基本信息」中的年度或所给月份。"),
    ("三月", "月份「三月」格式不对，请写成“年-月”，例如 2026-03。"),
])
def test_refuses_a_month_it_cannot_use(book, month, message):
    with pytest.raises(JifenError) as err:
        app.shop_notice_book(app.open_backend(book), month=month, today=START)
    assert err.value.message == message


def test_cli_refuses_an_end_before_the_start(book):
    result = CliRunner().invoke(cli, ["shop-notice", str(book), "--month", "2026-03", "--start", "2026-04-05",
                                      "--end", "2026-04-01"])
    assert result.exit_code == 1
    assert result.output == "错误：公示截止日 2026-04-01 早于公示开始日 2026-04-05，请核对 --start/--end。\n"


def test_cli_never_writes_over_the_workbook(book):
    before = book.read_bytes()
    result = CliRunner().invoke(cli, ["shop-notice", str(book), "--month", "2026-03", "--pdf", str(book)])
    assert result.exit_code == 1
    assert result.output == "错误：输出文件「永宁寺村.xlsx」就是村里的工作簿，工具不会覆盖它。请换一个文件名。\n"
    assert book.read_bytes() == before


def test_cli_prints_the_wechat_text(book):
    before = book.read_bytes()
    result = CliRunner().invoke(cli, ["shop-notice", str(book), "--month", "2026-03", "--start", "2026-04-01",
                                      "--mask-names"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("（1/2）永宁寺村爱心超市 2026年3月物资接收与兑换公示\n\n现将永宁寺村爱心超市2026年3月")
    assert "0002 李*英：食用油×1、肥皂×3，消耗36分，可用19分\n" in result.output
    assert "2026-03 爱心超市公示期：2026-04-01 至 2026-04-07；入库 4 笔，兑换 5 笔（3 户）。\n" in result.output
    assert book.read_bytes() == before  # read only


def test_cli_help_is_chinese():
    result = CliRunner().invoke(cli, ["shop-notice", "--help"])
    assert result.exit_code == 0
    assert "物资接收与兑换公示" in result.output and "--mask-names" in result.output


# --- the pages -------------------------------------------------------------------------------

def test_plan_pages_breaks_between_repetitions_and_repeats_the_header():
    plain = [(("plain", False, 1), 30.0, None), (("plain", False, 2), 20.0, None)]
    reps = [(("rep", True, i, 30, 1, 2), 20.0, 20.0) for i in range(30)]
    tail = [(("plain", False, 9), 20.0, None)]
    breaks = plan_pages(plain + reps + tail, 300.0)
    # page 1: title, header, 12 rows (290 points); then header + 14 rows per page; the total row
    # goes with the last KEEP_ROWS rows
    assert breaks == {14: 2, 28: 2}
    assert all(KEEP_ROWS <= p - 2 <= 30 - KEEP_ROWS for p in breaks)


def test_plan_pages_keeps_a_table_whole_after_a_blank_row():
    rows = [(("plain", False, 1), 200.0, None), (("plain", True, 2), 10.0, None)]
    rows += [(("plain", False, 3), 20.0, None)] + [(("rep", True, i, 3, 1, 3), 20.0, 20.0) for i in range(3)]
    # the short table (heading + 3 rows) does not fit under the first 210 points: it moves whole
    assert plan_pages(rows, 250.0) == {2: None}


@pytest.fixture(scope="module")
def long_posting(tmp_path_factory):
    """60 more households, each exchanging in March: the posting runs over several pages."""
    tables = shop_tables()
    extra = [(f"{n:04d}", f"村民{n}", "本村户籍", "1组", 3, f"139{n:08d}", f"5001061990{n:08d}", "正常", 50, 50, None)
             for n in range(100, 160)]
    tables = add(tables, "households", *extra)
    tables = add(tables, "receipts", ("RK-07", D(2026, 3, 1), "村集体经济收入", "永宁寺村股份经济合作社", "SP-04", 200, 400,
                                      "王文书", None))
    tables = add(tables, "exchanges", *[(f"DH-{n}", D(2026, 3, 25), f"{n:04d}", "SP-04", 1 + n % 3, 2 * (1 + n % 3),
                                         "王文书", None) for n in range(100, 160)])
    folder = tmp_path_factory.mktemp("long")
    book = build(folder / "永宁寺村.xlsx", tables)
    return book, folder, extra


def test_the_sheet_image_repeats_headers_at_planned_breaks(long_posting):
    book, folder, _ = long_posting
    xlsx = folder / "超市公示.xlsx"
    app.shop_notice_book(app.open_backend(book), month="2026-03", today=START, xlsx=xlsx)
    ws = openpyxl.load_workbook(xlsx).active
    breaks = [b.id for b in ws.row_breaks.brk]
    assert breaks, "a posting of 63 households has planned page breaks"
    for row in breaks:
        first = "".join(str(c.value or "") for c in ws[row + 1])
        # a table's header again, or a new section's heading (一、… 四、)
        assert first in HEADERS.values() or re.match("[一二三四]、", first), f"row {row + 1} begins a page with {first!r}"


@needs_lo
@needs_poppler
def test_long_posting_pdf_has_every_household_and_a_header_on_every_page(long_posting):
    book, folder, extra = long_posting
    pdf = folder / "超市公示.pdf"
    result = app.shop_notice_book(app.open_backend(book), month="2026-03", today=START, pdf=pdf)
    pages = _pages(pdf)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        flat = _squash(page)
        assert any(h in flat for h in HEADERS.values()), f"page {number} has no table header"
        assert f"第{number}页共{len(pages)}页" in flat
        gray = _gray(pdf, number)
        assert abs(gray.shape[1] - 595) <= 1 and abs(gray.shape[0] - 842) <= 1  # A4 portrait
        assert gray[:, -36:].min() > 200 and gray[:, :36].min() > 200, f"page {number}: ink in a side margin"
        lines = [line for line in page.split("\n") if line.strip() and "页" not in line]
        assert not re.fullmatch(r"\s*合计.*", lines[0]), f"page {number} begins with an orphaned total"
    everything = _squash("".join(pages))
    for h in result.data["households"]:
        assert h["hh_id"] + h["head"] + h["goods"] in everything
    for g in result.data["stock"]:
        assert g["goods_id"] + g["item"] in everything
    last = _squash(pages[-1])
    assert "永宁寺村爱心超市永宁寺村村民委员会2026年4月1日" in last and HEADERS["stock"] in last
    for _, _, _, _, _, phone, id_number, *_ in extra:
        assert phone not in everything and id_number not in everything


@needs_lo
@needs_poppler
def test_pdf_of_the_fixture_month(book, tmp_path):
    pdf = tmp_path / "超市公示.pdf"
    result = app.shop_notice_book(app.open_backend(book), month="2026-03", today=START, pdf=pdf)
    flat = _squash("".join(_pages(pdf)))
    assert result.data["title"].replace(" ", "") in flat
    for header in HEADERS.values():
        assert header in flat
    for r in result.data["receipts"]:
        assert r["receipt_id"] in flat and r["donor"] in flat
    for h in result.data["households"]:
        assert h["hh_id"] + h["head"] + h["goods"] in flat
    assert "合计3类来源4641,040.00" in flat and "合计（3户）586" in flat
    for secret in PRIVATE:
        assert secret not in flat


def test_fill_template_without_paginate_is_unchanged(tmp_path, outputs):
    """The points notice's filler (no planned pages) leaves no manual break in the shop template."""
    out = fill_template(TEMPLATE, outputs[0].data, tmp_path / "x.xlsx")
    assert not openpyxl.load_workbook(out).active.row_breaks.brk
    assert V.SETTINGS["village"] in dump(out)


def test_every_name_is_documented(outputs):
    data = outputs[0].data
    readme = (ROOT / "templates" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The supermarket posting's names", 1)[1].split("\n## ", 1)[0]
    names = [*data, *data["receipts"][0], *data["sources"][0], *data["households"][0], *data["stock"][0],
             *data["totals"], *data["signature"]]
    shared = {"title", "district", "township", "village", "year", "month", "month_text", "start", "end", "days",
              "start_text", "end_text", "period_text", "objection_contact", "objection_phone", "period_sentence",
              "note", "date", "date_text", "made", "masked"}
    assert [n for n in dict.fromkeys(names) if f"`{n}`" not in section] == []
    assert shared <= set(data)
