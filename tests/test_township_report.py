"""The printable township report (issue 11): ``township import --html/--pdf``.

A township of generated villages (months 1–11 settled by hand, one with planted mistakes, a lock
file) is imported once; the report's figures are checked against the township workbook's cells
and against plain Python over the village files read by python-calamine (never ``core``); the
PDF printed by LibreOffice is read back with pdftotext and pdftoppm: every page has the header
and its page number, the charts are drawn in their colours.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import numpy as np
import python_calamine
import pytest
from click.testing import CliRunner

from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.demo import generate_township
from jifen_xl.io.svgchart import COLORS, bar_chart, hbar_chart, nice_ticks
from jifen_xl.township import import_township

from .conftest import TODAY
from .lo import needs_lo

VILLAGES = ("石岗村", "龙泉村", "凤凰村")
REJECTED = "龙泉村"
SVG = "{http://www.w3.org/2000/svg}"


def records(path: Path, sheet: str) -> list[dict]:
    """A sheet's rows keyed by header (header on the first row holding 3+ texts), read by calamine."""
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    at = next(i for i, r in enumerate(rows) if sum(isinstance(v, str) and v.strip() != "" for v in r) >= 3)
    head = [str(v).strip() for v in rows[at]]
    return [dict(zip(head, r)) for r in rows[at + 1:] if any(v not in ("", None) for v in r)]


@pytest.fixture(scope="module")
def township(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    folder = base / "中梁镇各村"
    made = generate_township(folder, villages=list(VILLAGES), households=[40, 30, 50], mistakes_in=REJECTED,
                             seed=5, settled_months=11)
    (folder / "~$石岗村-2026.xlsx").write_bytes(b"\x06WPS Office")
    return base, folder, {v.village: v.path for v in made}


@pytest.fixture(scope="module")
def html_report(township):
    """The import with the report as HTML only (no LibreOffice needed)."""
    base, folder, _ = township
    out, html = base / "html" / "汇总.xlsx", base / "html" / "汇总报告.html"
    out.parent.mkdir()
    result = import_township(folder, out, workers=1, today=TODAY, html=html)
    return result, out, html.read_text(encoding="utf-8")


def _charts(page: str) -> dict[str, ET.Element]:
    """The report's SVG images (data URIs), by their alt text."""
    found = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"[^>]*alt="([^"]+)"', page)
    return {alt: ET.fromstring(base64.b64decode(data)) for data, alt in found}


def _cells(page: str) -> list[list[str]]:
    """Every table row of the page as its cell texts (tags stripped)."""
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, flags=re.S)]
            for r in rows]


def _num(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def test_the_report_is_written_and_named(html_report):
    result, out, page = html_report
    assert set(result.reports) == {"html"} and out.is_file()
    assert "<title>中梁镇2026年度乡村治理积分工作汇总报告</title>" in page
    for section in ("一、各村汇总概况", "二、月度趋势", "三、各村比较", "四、扣分热点", "五、评优候选",
                    "六、爱心超市物资来源", "七、各村报送文件校验情况"):
        assert section in page
    assert "身份证" not in page and "联系电话" not in page


def test_summary_rows_equal_the_workbook_and_the_village_files(township, html_report):
    _, _, paths = township
    result, out, page = html_report
    book = {r["村"]: r for r in records(out, S.TOWNSHIP_SUMMARY.name)}
    table = _cells(page.split("一、各村汇总概况")[1].split("</table>")[0])
    headers, rows = table[0], {r[0]: r for r in table[1:]}
    assert headers[:2] == ["村", "台账截至"]
    assert set(rows) == {"石岗村", "凤凰村", "合计"}  # the rejected village is not counted
    for name, row in rows.items():
        printed = dict(zip(headers, row))
        for h in ("户数", "参与户数", "加分合计", "扣分合计", "积分合计", "异议数", "兑换笔数", "兑换积分"):
            assert _num(printed[h]) == pytest.approx(float(book[name][h])), (name, h)
        assert _num(printed["参与率"]) == pytest.approx(100 * float(book[name]["参与率"]), abs=0.05)
    for name in ("石岗村", "凤凰村"):  # independently, from the village's own file
        households = [r for r in records(paths[name], S.HOUSEHOLDS.name) if r["状态"] == S.HH_ACTIVE]
        spent = sum(float(r["消耗积分"]) for r in records(paths[name], S.EXCHANGES.name))
        printed = dict(zip(headers, rows[name]))
        assert _num(printed["户数"]) == len(households)
        assert _num(printed["兑换积分"]) == pytest.approx(spent)


def test_funding_by_village_equals_the_receipts(township, html_report):
    _, _, paths = township
    _, _, page = html_report
    table = _cells(page.split("六、爱心超市物资来源")[1].split("</table>")[0])
    head, rows = table[0], {r[0]: dict(zip(table[0], r)) for r in table[1:]}
    assert head[:len(S.FUNDING_SOURCES) + 1] == ["村", *S.FUNDING_SOURCES]
    total = defaultdict(float)
    for name in ("石岗村", "凤凰村"):
        by_source = defaultdict(float)
        for r in records(paths[name], S.RECEIPTS.name):
            by_source[r["来源类型"]] += float(r["折合金额"] or 0)
        for source in S.FUNDING_SOURCES:
            assert _num(rows[name][source]) == pytest.approx(round(by_source[source], 2)), (name, source)
            total[source] += by_source[source]
    assert all(_num(rows["合计"][s]) == pytest.approx(round(total[s], 2)) for s in S.FUNDING_SOURCES)


def test_the_charts_carry_the_months_and_villages(township, html_report):
    _, _, paths = township
    _, _, page = html_report
    charts = _charts(page)
    assert len(charts) == 3
    trend = next(svg for alt, svg in charts.items() if "每月" in alt)
    bars = defaultdict(int)
    for rect in trend.iter(f"{SVG}rect"):
        bars[rect.get("fill")] += 1
    # points: one bar per settled month (1–11; December is still to be published); exchanges:
    # one per month with an exchange in a counted village's file
    exchange_months = {str(r["日期"])[:7] for name in ("石岗村", "凤凰村")
                       for r in records(paths[name], S.EXCHANGES.name)}
    assert bars[COLORS[0]] == 11 + 1  # + the legend's swatch
    assert bars[COLORS[1]] == len(exchange_months) + 1
    texts = {t.text for svg in charts.values() for t in svg.iter(f"{SVG}text")}
    assert {"石岗村", "凤凰村"} <= texts and REJECTED not in texts
    assert "12月：各村尚未结账（公示中），积分未确定，不画积分柱。" in texts


def test_files_and_their_statuses_are_listed(html_report):
    result, _, page = html_report
    rows = {r[0]: r for r in _cells(page.split("<h2>七、各村报送文件校验情况</h2>")[1].split("</table>")[0])}
    assert rows["龙泉村-2026.xlsx"][2] == S.FILE_REJECTED and "个错误" in rows["龙泉村-2026.xlsx"][3]
    assert rows["~$石岗村-2026.xlsx"][2] == S.FILE_SKIPPED
    assert rows["石岗村-2026.xlsx"][2] == S.FILE_IMPORTED
    first = [f for f in result.files if f.file == "龙泉村-2026.xlsx"][0].findings
    assert first and all(p["问题说明"] in page for p in first)


def test_award_candidates_are_printed_with_their_rule(html_report):
    _, out, page = html_report
    cands = records(out, S.TOWNSHIP_CANDIDATES.name)
    assert cands, "the generated villages have candidates"
    section = page.split("五、评优候选")[1].split("六、")[0]
    for award in {c["荣誉"] for c in cands}:
        rule = next(c["依据规则"] for c in cands if c["荣誉"] == award)
        assert f"依据规则：{rule}" in section
    printed = [r for r in _cells(section) if len(r) == 5 and r[0] != "村"]
    assert sorted((r[0], r[1]) for r in printed) == sorted((c["村"], str(c["户号"])) for c in cands)


def _colour_share(pdf: Path, page: int, rgb: str) -> float:
    """The share of a page's pixels (pdftoppm, 40 dpi) close to the colour ``rgb`` (#rrggbb)."""
    ppm = subprocess.run(["pdftoppm", "-r", "40", "-f", str(page), "-l", str(page), str(pdf)],
                         capture_output=True, check=True).stdout
    _, size, _, data = ppm.split(b"\n", 3)
    w, h = map(int, size.split())
    px = np.frombuffer(data[: w * h * 3], dtype=np.uint8).reshape(-1, 3).astype(int)
    want = np.array([int(rgb[i:i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(px - want).sum(axis=1) < 60).mean())


@needs_lo
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_the_pdf_prints_headers_page_numbers_and_charts(township, tmp_path):
    _, folder, _ = township
    out, pdf = tmp_path / "汇总.xlsx", tmp_path / "汇总报告.pdf"
    result = CliRunner().invoke(cli, ["township", "import", str(folder), "-o", str(out), "--pdf", str(pdf),
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert f"已生成汇总报告「{pdf}」。" in result.output
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.rstrip("\f").split("\f")
    assert len(pages) >= 4
    for i, text in enumerate(pages, start=1):
        assert "沙坪坝区中梁镇" in text and "中梁镇2026年度乡村治理积分工作汇总报告" in text.replace(" ", "")
        assert f"第 {i} 页，共 {len(pages)} 页" in text
    trend = next(i for i, p in enumerate(pages, start=1) if "二、月度趋势" in p)
    hot = next(i for i, p in enumerate(pages, start=1) if "四、扣分热点" in p)
    assert _colour_share(pdf, trend, COLORS[0]) > 0.01 and _colour_share(pdf, trend, COLORS[1]) > 0.01
    assert _colour_share(pdf, hot, COLORS[1]) > 0.005
    assert _colour_share(pdf, 1, COLORS[0]) < 0.001  # the summary page has no chart colour: the test can fail


def test_report_outputs_are_refused_before_any_work(township, tmp_path):
    _, folder, _ = township
    out = tmp_path / "汇总.xlsx"
    result = CliRunner().invoke(cli, ["township", "import", str(folder), "-o", str(out), "--pdf",
                                      str(tmp_path / "报告.txt")])
    assert result.exit_code == 1
    assert "PDF 报告「报告.txt」的扩展名应为 .pdf" in result.output
    result = CliRunner().invoke(cli, ["township", "import", str(folder), "-o", str(out), "--html",
                                      str(tmp_path / "没有这个文件夹" / "报告.html")])
    assert result.exit_code == 1 and "文件夹" in result.output and "不存在" in result.output
    assert not out.exists()


def test_svg_charts_scale_and_escape():
    assert nice_ticks(0, 1043) == [0, 250, 500, 750, 1000, 1250]
    assert nice_ticks(-228, 0)[0] <= -228 and nice_ticks(-228, 0)[-1] == 0
    chart = bar_chart(["1月", "2月"], [("积分", [10, None])], title="A<B & C")
    root = ET.fromstring(chart.svg)  # well-formed, the title escaped
    assert any(t.text == "A<B & C" for t in root.iter(f"{SVG}text"))
    assert sum(1 for r in root.iter(f"{SVG}rect") if r.get("fill") == COLORS[0]) == 2  # one bar + legend
    tall = hbar_chart([f"村{i}" for i in range(40)], list(range(40)), title="t")
    assert tall.height <= 620  # 40 villages fit one landscape page
