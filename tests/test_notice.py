"""The monthly notice (公示), issue 9: its content, its templates, HTML, WeChat text, the filled
Excel notice and its PDF printed by LibreOffice.

Golden files (tests/golden/) hold what the small fixture village's notices must be; they were
checked by hand against the figures worked out in tests/village_data.py. To rewrite them after a
deliberate change: JIFEN_UPDATE_GOLDEN=1 pytest tests/test_notice.py, then read the diff.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl import app, render
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.core.notice import mask_name, notice_data
from jifen_xl.errors import JifenError, TemplateBroken, ValidationFailed
from jifen_xl.io.pdf import sheet_to_pdf
from jifen_xl.io.xlsxfill import fill_template

from . import village_data as V
from .conftest import build, village_from_tables
from .lo import needs_lo
from .xlsxdump import dump

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
TEMPLATE = ROOT / "templates" / render.NOTICE_XLSX
needs_poppler = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("pdffonts")),
                                   reason="poppler (pdftotext, pdftoppm, pdffonts) not installed")
#: The two months of the fixture: April is under publicity (公示中), March is closed (已确认).
MONTHS = {"2026-04": dt.date(2026, 5, 1), "2026-03": dt.date(2026, 4, 1)}
#: Household data that must never appear in a notice (tests/village_data.py).
PRIVATE = ["500106198001010011", "13800000001", "13800000002"]
HEADER = "户号户主当月加分当月扣分当月积分累计积分排名积分事由"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("JIFEN_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run with JIFEN_UPDATE_GOLDEN=1 and check it by hand"
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("notice") / "永宁寺村.xlsx")


@pytest.fixture(scope="module")
def village():
    return village_from_tables(V.village_tables())


@pytest.fixture(scope="module")
def outputs(book, tmp_path_factory):
    """Each month's notice written as HTML, WeChat text and filled xlsx (and April's PDF)."""
    out = {}
    for month, start in MONTHS.items():
        folder = tmp_path_factory.mktemp(f"out{month}")
        files = {k: folder / f"公示.{k}" for k in ("html", "txt", "xlsx")}
        result = app.notice_book(app.open_backend(book), month=month, start=start, today=start,
                                 html=files["html"], wechat=files["txt"], xlsx=files["xlsx"])
        out[month] = (result, files)
    return out


# --- content ------------------------------------------------------------------------------

def test_april_notice_counts_the_published_entry(village):
    # April: 2026-010 (0002, +30, 公示中) is on the notice; 累计积分 as it will stand once it counts.
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    lines = {h["hh_id"]: (h["head"], h["plus"], h["minus"], h["total"], h["cumulative"], h["rank"], h["reasons"])
             for h in data["households"]}
    assert lines == {
        "0001": ("张大山", 0, 0, 0, 106, 1, ""),
        "0002": ("李秀英", 30, 0, 30, 85, 2, "获得镇街级表彰奖励"),  # 55 + 30
        "0003": ("王建国", 0, 0, 0, 10, 5, ""),
        "0004": ("赵小红", 0, 0, 0, 18, 4, ""),
        "0006": ("周明", 0, 0, 0, 22, 3, ""),
    }  # 0005 孙老汉 has moved away (迁出): not on the notice
    assert data["title"] == "永宁寺村2026年4月乡村治理积分公示"
    assert data["totals"] == {"households": 5, "scored": 1, "entries": 1, "plus": 30, "minus": 0, "total": 30}
    assert data["period_sentence"] == (
        "现将永宁寺村2026年4月乡村治理积分情况予以公示，公示期为2026年5月1日至5月7日（共7天）。"
        "对公示内容有异议的，请在公示期内向异议受理人王文书（联系电话：023-65000000）提出，由积分评议小组调查核实后予以答复。")
    assert data["signature"]["review"] == "永宁寺村积分评议小组"
    assert data["signature"]["committee"] == "永宁寺村村民委员会"
    assert data["date_text"] == "2026年5月1日"


def test_january_reasons_name_items_and_deduction_categories(village):
    data = notice_data(village, "2026-01", start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 7))
    by_id = {h["hh_id"]: h for h in data["households"]}
    assert by_id["0001"]["reasons"] == "参与村级志愿者服务活动"
    assert (by_id["0004"]["minus"], by_id["0004"]["reasons"]) == (-3, "扣分：邻里纠纷")
    # the ledger's figures for January (tests/village_data.py EXPECTED)
    for hh_id, row in V.EXPECTED["2026-01"].items():
        assert (by_id[hh_id]["total"], by_id[hh_id]["cumulative"]) == (row[3], row[4])


def test_withdrawn_and_corrected_entries(village):
    # March: 2026-008 (0001, -2) was withdrawn (撤销): not on the notice. February: 2026-007 corrected 3 -> 2.
    march = {h["hh_id"]: h for h in notice_data(village, "2026-03", start=dt.date(2026, 4, 1),
                                                  end=dt.date(2026, 4, 7))["households"]}
    assert (march["0001"]["total"], march["0001"]["reasons"]) == (0, "")
    assert (march["0006"]["total"], march["0006"]["cumulative"], march["0006"]["reasons"]) == (20, 22, "先进事迹")
    feb = {h["hh_id"]: h for h in notice_data(village, "2026-02", start=dt.date(2026, 3, 1),
                                                end=dt.date(2026, 3, 7))["households"]}
    assert (feb["0006"]["total"], feb["0006"]["reasons"]) == (2, "参加技能培训")


def test_an_open_objection_keeps_the_entry_on_the_notice(tables):
    tables["objections"] = pd.concat([tables["objections"], V.frame("objections", [
        ("YY-04", "2026-010", "张大山", dt.date(2026, 5, 2), "表彰不属实", None, None, None, None, None)])])
    data = notice_data(village_from_tables(tables), "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    second = next(h for h in data["households"] if h["hh_id"] == "0002")
    assert (second["total"], second["cumulative"]) == (30, 85)


def test_the_notice_publish_prints(tables):
    """publish moves the month's 待公示 entries to 公示中 and prints the notice of the village so changed."""
    from jifen_xl.core.notice import as_published

    tables["entries"].loc[tables["entries"]["entry_id"] == "2026-010", "status"] = "待公示"
    village = village_from_tables(tables)
    before = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    after = notice_data(as_published(village, "2026-04"), "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    assert before["totals"]["entries"] == 0 and after["totals"]["entries"] == 1
    assert next(h for h in after["households"] if h["hh_id"] == "0002")["cumulative"] == 85


def test_mask_name():
    assert [mask_name(n) for n in ("张大山", "周明", "欧阳小明", "王", "")] == ["张*山", "周*", "欧**明", "*", ""]
    assert [mask_name(n) for n in ("阿卜杜拉·买买提", "热合曼•阿不都", "马·木")] == ["阿***·**提", "热**•**都", "马·*"]


def test_masked_names_keep_the_dots_of_a_name_in_parts(tmp_path, tables):
    """A head called 阿卜杜拉·买买提 reads as a name in two parts once masked, in the WeChat text
    and on the web page; the name itself appears in neither."""
    name = "阿卜杜拉·买买提"
    for key in ("households", "entries"):
        frame = tables[key]
        frame.loc[frame["hh_id"] == "0002", "head"] = name
    path = build(tmp_path / "永宁寺村.xlsx", tables)
    files = {k: tmp_path / f"公示.{k}" for k in ("html", "txt")}
    result = CliRunner().invoke(cli, ["notice", str(path), "--month", "2026-04", "--start", "2026-05-01", "--mask-names",
                                      "--html", str(files["html"]), "--wechat", str(files["txt"])])
    assert result.exit_code == 0, result.output
    text, page = files["txt"].read_text(encoding="utf-8"), files["html"].read_text(encoding="utf-8")
    assert "0002 阿***·**提：+30分" in text
    assert "<td>0002</td><td>阿***·**提</td>" in page
    assert name not in text + page and "买买" not in text + page


def test_masked_notice_hides_every_name(village):
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7), masked=True)
    assert [h["head"] for h in data["households"]] == ["张*山", "李*英", "王*国", "赵*红", "周*"]
    text = render.render_text(render.NOTICE_TEXT, data) + render.render_html(render.NOTICE_HTML, data)
    for name in ("张大山", "李秀英", "王建国", "赵小红", "周明"):
        assert name not in text


def test_verification_code_is_printed_after_a_close(village, tmp_path):
    data = notice_data(village, "2026-03", start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 7), code="K7Q2-M9XD")
    assert "\n封账校验码：K7Q2-M9XD\n" in render.render_text(render.NOTICE_TEXT, data)
    assert '<p class="code">封账校验码：K7Q2-M9XD</p>' in render.render_html(render.NOTICE_HTML, data)
    ws = openpyxl.load_workbook(fill_template(TEMPLATE, data, tmp_path / "公示.xlsx")).active
    assert ws["A11"].value == "封账校验码：K7Q2-M9XD"


def test_every_name_is_documented(village):
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    readme = (ROOT / "templates" / "README.md").read_text(encoding="utf-8")
    names = list(data) + list(data["households"][0]) + list(data["totals"]) + list(data["signature"])
    assert [n for n in names if f"`{n}`" not in readme] == []


# --- golden outputs -----------------------------------------------------------------------

@pytest.mark.parametrize("month", MONTHS)
def test_golden_html(outputs, month):
    _golden(f"公示-{month}.html", outputs[month][1]["html"].read_text(encoding="utf-8"))


@pytest.mark.parametrize("month", MONTHS)
def test_golden_wechat(outputs, month):
    _golden(f"公示-{month}.txt", outputs[month][1]["txt"].read_text(encoding="utf-8"))


@pytest.mark.parametrize("month", MONTHS)
def test_golden_xlsx(outputs, month):
    _golden(f"公示-{month}.xlsx.txt", dump(outputs[month][1]["xlsx"]))


def test_sheet_image_is_one_sheet(outputs):
    wb = openpyxl.load_workbook(outputs["2026-04"][1]["xlsx"])
    assert wb.sheetnames == [S.NOTICE_SHEET_NAME]
    ws = wb.active
    # numbers stay numbers (a cell holding one {{ … }}), text stays text
    assert [c.value for c in ws[5]] == ["0002", "李秀英", 30, 0, 30, 85, 2, "获得镇街级表彰奖励"]


def test_html_escapes(village):
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    data["households"][0]["head"] = "<b>张&大山</b>"
    html = render.render_html(render.NOTICE_HTML, data)
    assert "&lt;b&gt;张&amp;大山&lt;/b&gt;" in html and "<b>张" not in html


def test_html_prints_the_header_on_every_page_and_the_totals_once(village):
    """Printed from a browser, the header row repeats on each page (a header group) while the totals
    row stays under the last household: a footer group would repeat 「合计」 on every page."""
    from html.parser import HTMLParser

    page = render.render_html(render.NOTICE_HTML, notice_data(village, "2026-04", start=dt.date(2026, 5, 1),
                                                              end=dt.date(2026, 5, 7)))
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    rules = {sel.strip(): body for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", style, flags=re.S))}
    assert "table-header-group" in rules["thead"]
    assert "table-row-group" in rules.get("tfoot", "")

    class Rows(HTMLParser):
        where, found = None, []

        def handle_starttag(self, tag, attrs):
            if tag in ("thead", "tbody", "tfoot"):
                self.where = tag

        def handle_data(self, data):
            if data.startswith("合计"):
                self.found.append(self.where)

    parser = Rows()
    parser.feed(page)
    assert parser.found == ["tfoot"]


def test_no_private_data_in_any_output(outputs):
    for _, files in outputs.values():
        texts = [files["html"].read_text(encoding="utf-8"), files["txt"].read_text(encoding="utf-8"), dump(files["xlsx"])]
        for text in texts:
            for secret in PRIVATE:
                assert secret not in text


# --- WeChat messages ------------------------------------------------------------------------

def test_split_messages_keeps_lines_whole_and_numbers_them():
    lines = [f"{i:04d} 村民{i}：+3分（参与村级志愿者服务活动），累计{i * 3}分，第{i}名" for i in range(1, 41)]
    text = "永宁寺村2026年4月乡村治理积分公示\n\n现将……予以公示。\n\n" + "\n".join(lines) + "\n\n合计：40户\n\n落款\n"
    messages = render.split_messages(text, limit=300)
    n = len(messages)
    assert n >= 3
    for i, m in enumerate(messages, start=1):
        assert len(m) <= 300
        assert m.startswith(f"（{i}/{n}）永宁寺村2026年4月乡村治理积分公示")
    body = [line for m in messages for line in m.split("\n")]
    assert [line for line in body if re.match(r"\d{4} ", line)] == lines  # every line whole, in order
    assert messages[-1].endswith("落款")


def test_short_text_is_one_message():
    assert render.split_messages("标题\n\n正文\n") == ["标题\n\n正文"]


# --- the Excel template -------------------------------------------------------------------

def test_committed_template_equals_a_fresh_build(tmp_path):
    out = tmp_path / render.NOTICE_XLSX
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_notice_template.py"), str(out)], check=True,
                   capture_output=True)
    assert dump(out) == dump(TEMPLATE)
    assert dump(out, sheet=1) == dump(TEMPLATE, sheet=1)


def _broken(tmp_path, edits: dict) -> Path:
    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb.worksheets[0]
    for coordinate, value in edits.items():
        ws[coordinate] = value
    path = tmp_path / render.NOTICE_XLSX
    wb.save(path)
    return path


BROKEN = {
    "unknown household field": (
        {"B5": "{{ h.hed }}"},
        "「公示模板.xlsx」工作表「公示」单元格 B5：「{{ h.hed }}」中「h」没有「hed」这一项。"
        "可以用的有：hh_id、head、plus、minus、total、cumulative、rank、items、deductions、reasons。"),
    "unknown name": (
        {"A1": "{{ titel }}"},
        "「公示模板.xlsx」工作表「公示」单元格 A1：「{{ titel }}」中的名称「titel」不存在。可以用的名称有：title、district、"
        "township、village、year、month、month_text、start、end、days、start_text、end_text、period_text、"
        "objection_contact、objection_phone、period_sentence、note、households、totals、signature、date、date_text、"
        "made、code、masked。"),
    "syntax": (
        {"A1": "{{ title }"},
        "「公示模板.xlsx」工作表「公示」单元格 A1：「{{ title }」多了一个「}」，或者「{{」和「}}」不配对。"
        "占位符要写成 {{ 名称 }}，例如 {{ title }}（技术信息：unexpected '}'）。"),
    "unclosed if": (
        {"A9": "{% if code %}封账校验码：{{ code }}"},
        "「公示模板.xlsx」工作表「公示」单元格 A9：「{% if code %}封账校验码：{{ code }}」缺少结束的「}}」或「%}」，"
        "或者一组「{% if %}」缺少「{% endif %}」。占位符要写成 {{ 名称 }}，例如 {{ title }}（技术信息：Unexpected end of "
        "template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that "
        "needs to be closed is 'if'.）。"),
    "block without its end": (
        {"A6": None},
        "「公示模板.xlsx」工作表「公示」单元格 A4：「{% for h in households %}」没有对应的「{% endfor %}」。"
        "请在要重复的最后一行下面一行的第一个单元格写 {% endfor %}。"),
    "end without its block": (
        {"A4": None},
        "「公示模板.xlsx」工作表「公示」单元格 A6：「{% endfor %}」前面没有对应的「{% for … in … %}」。"
        "请在要重复的第一行上面一行写 {% for h in households %}，或删掉这个 {% endfor %}。"),
    "marker row with more": (
        {"C4": "说明"},
        "「公示模板.xlsx」工作表「公示」单元格 A4：「{% for h in households %}」所在的行只用来标出重复的行，不会打印，"
        "不能再有别的内容（C4 中有「说明」）。请把这些内容移到别的行。"),
    "arithmetic on a name": (
        {"B5": "{{ h.head + 1 }}"},
        "「公示模板.xlsx」工作表「公示」单元格 B5：「{{ h.head + 1 }}」无法计算：把不能一起运算的值放在了一起（例如文字加数字）。"
        "请核对占位符里的运算，或改回模板原来的写法（技术信息：TypeError: can only concatenate str (not \"int\") to str）。"),
    "division by zero": (
        {"A1": "{{ totals.plus / 0 }}"},
        "「公示模板.xlsx」工作表「公示」单元格 A1：「{{ totals.plus / 0 }}」无法计算：除数是 0。"
        "请核对占位符里的运算，或改回模板原来的写法（技术信息：ZeroDivisionError: division by zero）。"),
    "for written wrong": (
        {"A4": "{% for in households %}"},
        "「公示模板.xlsx」工作表「公示」单元格 A4：「{% for in households %}」写法有误：标出重复的行要写成 "
        "{% for h in households %}（for、变量名、in、列表名之间用空格隔开）。"),
    "not a list": (
        {"A4": "{% for h in title %}"},
        "「公示模板.xlsx」工作表「公示」单元格 A4：「{% for h in title %}」中的「title」不是可以逐项重复的列表，"
        "例如 {% for h in households %}。"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_template_names_the_cell(tmp_path, village, case):
    edits, message = BROKEN[case]
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    with pytest.raises(TemplateBroken) as err:
        fill_template(_broken(tmp_path, edits), data, tmp_path / "out.xlsx")
    assert err.value.message == message
    assert not (tmp_path / "out.xlsx").exists()


def test_a_village_template_with_two_rows_per_household(tmp_path, village):
    """A clerk's own layout: a serial number column and each household on two rows (merged reason)."""
    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb.worksheets[0]
    ws.insert_rows(6)  # a second row inside the block: the reasons merged over A:H
    ws["A6"] = "事由：{{ h.reasons }}"
    ws.merge_cells("A6:H6")
    for rng in [r for r in ws.merged_cells.ranges if r.min_row >= 7]:  # insert_rows does not move merges
        rng.shift(0, 1)
    ws["G5"] = "{{ loop.index }}"
    path = tmp_path / "本村公示模板.xlsx"
    wb.save(path)
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    out = openpyxl.load_workbook(fill_template(path, data, tmp_path / "out.xlsx")).active
    assert [out.cell(r, 7).value for r in (4, 6, 8, 10, 12)] == [1, 2, 3, 4, 5]
    assert out["A7"].value == "事由：获得镇街级表彰奖励"
    assert {"A5:H5", "A7:H7", "A9:H9", "A11:H11", "A13:H13"} <= {str(r) for r in out.merged_cells.ranges}
    assert out["A14"].value == "合计（5户）"
    assert out.print_title_rows == "$3:$3"


def test_no_households_leaves_no_block_rows(tmp_path, village):
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    data["households"] = []
    ws = openpyxl.load_workbook(fill_template(TEMPLATE, data, tmp_path / "公示.xlsx")).active
    assert [ws.cell(r, 1).value for r in (3, 4)] == ["户号", "合计（5户）"]
    assert "A4:B4" in {str(r) for r in ws.merged_cells.ranges}


def test_print_titles_inside_the_block_are_refused(tmp_path, village):
    wb = openpyxl.load_workbook(TEMPLATE)
    wb.worksheets[0].print_title_rows = "5:5"
    wb.save(tmp_path / render.NOTICE_XLSX)
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    with pytest.raises(TemplateBroken) as err:
        fill_template(tmp_path / render.NOTICE_XLSX, data, tmp_path / "out.xlsx")
    assert err.value.message == ("「公示模板.xlsx」工作表「公示」单元格 A5：打印标题行（第 5—5 行）落在重复的行或标记行里。"
                                 "请在“页面布局 → 打印标题”中改选表头所在的行。")


# --- app and command line -----------------------------------------------------------------

def test_notice_refuses_a_month_not_yet_published(book, tmp_path):
    with pytest.raises(JifenError) as err:
        app.notice_book(app.open_backend(book), month="2026-05", start=dt.date(2026, 6, 1))
    assert err.value.message == "2026-05 还没有发布公示：这个月没有“公示中”或“已确认”的登记。请核对月份。"


def test_notice_of_pending_entries_asks_to_publish(tmp_path, tables):
    tables["entries"] = pd.concat([tables["entries"], V.frame("entries", [
        ("2026-011", dt.date(2026, 5, 3), "0004", "赵小红", "JC-13", "不乱倒垃圾", 1, 1, "平时发现", "张大山", None,
         "待公示", None)])])
    path = build(tmp_path / "永宁寺村.xlsx", tables)
    with pytest.raises(JifenError) as err:
        app.notice_book(app.open_backend(path), month="2026-05")
    assert err.value.message == ("2026-05 还没有发布公示：这个月没有“公示中”或“已确认”的登记，有 1 条“待公示”"
                                 "（「积分登记」第 12 行），请先运行 jifen-xl publish 发布公示。")


def test_notice_refuses_a_workbook_with_errors(tmp_path, tables):
    tables["entries"].loc[0, "hh_id"] = "9999"  # no such household
    path = build(tmp_path / "永宁寺村.xlsx", tables)
    with pytest.raises(ValidationFailed):
        app.notice_book(app.open_backend(path), month="2026-04", start=dt.date(2026, 5, 1))


def test_notice_default_period_is_today_plus_publicity_days(book):
    result = app.notice_book(app.open_backend(book), month="2026-04", today=dt.date(2026, 5, 6))
    assert (result.start, result.end, result.from_record) == (dt.date(2026, 5, 6), dt.date(2026, 5, 12), False)
    assert result.files == []


def test_cli_prints_the_wechat_text(book):
    before = book.read_bytes()
    result = CliRunner().invoke(cli, ["notice", str(book), "--month", "2026-04", "--start", "2026-05-01", "--mask-names"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("永宁寺村2026年4月乡村治理积分公示\n\n现将永宁寺村2026年4月")
    assert "0002 李*英：+30分（获得镇街级表彰奖励），累计85分，第2名\n" in result.output
    assert "2026-04 公示期：2026-05-01 至 2026-05-07，5 户。\n" in result.output
    assert book.read_bytes() == before  # read only


def test_cli_never_writes_over_the_workbook(book):
    before = book.read_bytes()
    result = CliRunner().invoke(cli, ["notice", str(book), "--month", "2026-04", "--xlsx", str(book)])
    assert result.exit_code == 1
    assert result.output == "错误：输出文件「永宁寺村.xlsx」就是村里的工作簿，工具不会覆盖它。请换一个文件名。\n"
    assert book.read_bytes() == before


def test_cli_bad_date(book):
    result = CliRunner().invoke(cli, ["notice", str(book), "--month", "2026-04", "--start", "4月1日"])
    assert result.exit_code == 2
    assert "错误：'--start' 的值不对：日期「4月1日」格式不对，请写成“年-月-日”，例如 2026-04-01。" in result.output


@pytest.mark.skipif("publicity" not in S.BY_KEY, reason="公示记录 (H1a) not declared in this branch yet")
def test_period_comes_from_the_publicity_record(tmp_path):
    from jifen_xl.io.base import WriteRequest

    path = build(tmp_path / "永宁寺村.xlsx")
    spec = S.BY_KEY["publicity"]
    row = {spec.column_by_header("月份").field: "2026-04", spec.column_by_header("公示开始").field: dt.date(2026, 5, 2),
           spec.column_by_header("公示截止").field: dt.date(2026, 5, 8)}
    backend = app.open_backend(path)
    backend.apply(backend.plan_write(WriteRequest({"publicity": pd.DataFrame([row], columns=spec.fields)})))
    result = app.notice_book(app.open_backend(path), month="2026-04", today=dt.date(2026, 5, 20))
    assert (result.start, result.end, result.from_record) == (dt.date(2026, 5, 2), dt.date(2026, 5, 8), True)
    with pytest.raises(JifenError, match="公示期以「公示记录」为准"):
        app.notice_book(app.open_backend(path), month="2026-04", start=dt.date(2026, 5, 3))


def test_templates_found_from_an_installed_package(tmp_path):
    """setup.cfg's data_files install the templates where render finds them without the checkout."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "templates", src / "templates")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "jifen_xl", src / "jifen_xl", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "install_data", "-d", str(venv)],
                   cwd=src, check=True, capture_output=True)
    site = tmp_path / "site"
    shutil.copytree(ROOT / "jifen_xl", site / "jifen_xl", ignore=shutil.ignore_patterns("__pycache__"))
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    found = subprocess.run([str(python), "-c", "from jifen_xl import render; print(render.templates_dir())"],
                           env={**os.environ, "PYTHONPATH": str(site)}, cwd=tmp_path, capture_output=True, text=True,
                           check=True)
    installed = venv / "share" / "jifen_xl" / "templates"
    assert Path(found.stdout.strip()) == installed
    assert sorted(p.name for p in installed.iterdir()) == sorted(p.name for p in (ROOT / "templates").iterdir())


# --- the printed notice (LibreOffice) ---------------------------------------------------------

def _gray(pdf: Path, page: int, dpi: int = 72) -> np.ndarray:
    data = subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page), str(pdf)],
                          capture_output=True, check=True).stdout
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height = int(m.group(1)), int(m.group(2))
    return np.frombuffer(data[m.end():m.end() + width * height], dtype=np.uint8).reshape(height, width)


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def printed(book, tmp_path_factory) -> Path:
    pdf = tmp_path_factory.mktemp("pdf") / "公示.pdf"
    app.notice_book(app.open_backend(book), month="2026-04", start=dt.date(2026, 5, 1), pdf=pdf)
    return pdf


@needs_lo
@needs_poppler
def test_pdf_text_is_the_notice(printed, village):
    pages = _pages(printed)
    assert len(pages) == 1
    page = pages[0]
    data = notice_data(village, "2026-04", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 7))
    flat = _squash(page)
    assert data["title"] in flat and _squash(data["period_sentence"]) in flat and HEADER in flat
    for h in data["households"]:  # each household's line, whole, in one printed line
        cells = [h["hh_id"], h["head"], str(h["plus"]), str(h["minus"]), str(h["total"]), str(h["cumulative"]),
                 str(h["rank"]), h["reasons"]]
        assert any(line.split() == [c for c in cells if c] for line in page.split("\n")), h
    for sign in ("永宁寺村积分评议小组", "永宁寺村监督管理小组", "永宁寺村村民委员会", "2026年5月1日"):
        assert sign in flat
    assert "第1页共1页" in flat
    for secret in PRIVATE:
        assert secret not in flat


@needs_lo
@needs_poppler
def test_pdf_embeds_a_cjk_font(printed):
    fonts = subprocess.run(["pdffonts", str(printed)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    cjk = [r for r in rows if "CJK" in r[0]]
    assert cjk and all(r[-5] == "yes" for r in cjk)  # the "emb" column


@needs_lo
@needs_poppler
def test_pdf_nothing_in_the_margins(printed):
    gray = _gray(printed, 1)
    height, width = gray.shape
    assert abs(width - 595) <= 1 and abs(height - 842) <= 1  # A4 portrait at 72 dpi
    margin = 36  # half an inch: the template's side margins are 0.6 inch
    assert gray[:, width - margin:].min() > 200, "ink in the right margin: the table is cut or too wide"
    assert gray[:, :margin].min() > 200
    assert gray[:, margin:width - margin].min() < 100  # and there is a notice in between


@pytest.fixture(scope="module")
def long_notice(tmp_path_factory):
    """A village of 150 households: its notice runs over several pages."""
    tables = V.village_tables()
    extra = [(f"{n:04d}", f"村民{n}", "本村户籍", f"{n % 9 + 1}组", 3, f"139{n:08d}", f"5001061990{n:08d}", "正常",
              n % 40, n % 20, None) for n in range(100, 250)]
    tables["households"] = pd.concat([tables["households"], V.frame("households", extra)], ignore_index=True)
    folder = tmp_path_factory.mktemp("long")
    book = build(folder / "永宁寺村.xlsx", tables)
    pdf = folder / "公示.pdf"
    result = app.notice_book(app.open_backend(book), month="2026-04", start=dt.date(2026, 5, 1), pdf=pdf,
                             wechat=folder / "公示.txt")
    return result, pdf, folder / "公示.txt", extra


@needs_lo
@needs_poppler
def test_long_notice_repeats_the_header_row_on_every_page(long_notice):
    result, pdf, _, extra = long_notice
    pages = _pages(pdf)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        flat = _squash(page)
        assert HEADER in flat, f"page {number} has no header row"
        assert f"第{number}页共{len(pages)}页" in flat
        assert _gray(pdf, number)[:, -36:].min() > 200
    everything = _squash("".join(pages))
    for hh_id, head, *_ in extra:
        assert hh_id + head in everything
    for _, _, _, _, _, phone, id_number, *_ in extra:
        assert phone not in everything and id_number not in everything


def test_long_wechat_text_is_several_messages(long_notice):
    result, _, txt, extra = long_notice
    assert len(result.messages) >= 3
    assert all(len(m) <= render.MESSAGE_CHARS for m in result.messages)
    text = txt.read_text(encoding="utf-8")
    assert all(f"\n{hh_id} {head}：" in text for hh_id, head, *_ in extra)


def test_sheet_to_pdf_without_libreoffice(tmp_path, monkeypatch, outputs):
    monkeypatch.setenv("JIFEN_SOFFICE", str(tmp_path / "no-such-soffice"))
    with pytest.raises(JifenError) as err:
        sheet_to_pdf(outputs["2026-04"][1]["xlsx"], tmp_path / "x.pdf")
    assert err.value.message.startswith("没有找到 LibreOffice（soffice），无法生成 PDF。")
    assert not (tmp_path / "x.pdf").exists()


@needs_lo
@needs_poppler
def test_signature_block_never_stands_alone_on_the_last_page(tmp_path):
    """40 households fill the first page to its last row: printed as filled, the totals and the
    signature block would make a page of their own under a bare header row. The printed notice
    carries its last two households over with them."""
    tables = V.village_tables()
    extra = [(f"{n:04d}", f"村民{n}", "本村户籍", f"{n % 9 + 1}组", 3, None, None, "正常", 0, 0, None)
             for n in range(100, 135)]
    tables["households"] = pd.concat([tables["households"], V.frame("households", extra)], ignore_index=True)
    book = build(tmp_path / "永宁寺村.xlsx", tables)
    pdf, image = tmp_path / "公示.pdf", tmp_path / "公示.xlsx"
    result = app.notice_book(app.open_backend(book), month="2026-04", start=dt.date(2026, 5, 1), pdf=pdf, xlsx=image)
    assert len(result.data["households"]) == 40

    def households_on(page: str) -> list[str]:
        return re.findall(r"^\s*(\d{4})\s", page, re.M)

    # the case is real: the sheet as filled prints its signature block alone on the last page
    plain = sheet_to_pdf(image, tmp_path / "plain.pdf")
    assert len(_pages(plain)) == 2 and households_on(_pages(plain)[-1]) == []
    pages = _pages(pdf)
    assert len(pages) == 2
    last = _squash(pages[-1])
    assert households_on(pages[-1]) == ["0133", "0134"]
    assert "合计（40户）" in last and "永宁寺村村民委员会" in last and "第2页共2页" in last
    assert households_on(pages[0])[-1] == "0132"
