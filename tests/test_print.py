"""What a clerk sees when the template is printed (A4, LibreOffice headless as the printer).

One realistic workbook (a small demo village with a few long texts planted where clerks write
long texts) is built by the template builder and printed to PDF once. The PDF is then read
back as text (pdftotext: what is printed, clipped text is not) and as pixels (pdftoppm: grid
lines, the header row's fill), page by page.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import openpyxl
import pytest

from jifen_xl import schema
from jifen_xl.demo import generate_village
from jifen_xl.io import look
from jifen_xl.io.template import _help_rows, build_workbook

from .lo import lo_convert, needs_lo

needs_poppler = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
                                   reason="poppler (pdftotext, pdftoppm) not installed")
pytestmark = [needs_lo, needs_poppler]

#: Long texts, where clerks write them: (sheet key, row position, field, text).
LONG = [
    ("indicators", 0, "resolution", "2026年1月8日村民代表会议第三次会议表决通过，永宁寺村民代〔2026〕1号决议，报镇政府备案"),
    ("indicators", 1, "name", "积极参与村级志愿者服务活动并在防汛抢险中表现突出"),
    ("receipts", 0, "donor", "重庆市沙坪坝区青年志愿者协会爱心公益服务中心"),
    ("objections", 0, "content", "该户认为当月参加了村里组织的环境卫生整治志愿服务活动，但登记中没有计分，申请核实并补登"),
    ("objections", 1, "note", "第一次核实：情况属实\n第二次核实：维持原登记，已告知提出人"),
    ("entries", 0, "scorers", "唐强学、周永宏、胡宏海"),
]
DPI = 72


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """(workbook path, settings, PDF path, [(sheet name, page text, page number)])."""
    settings, tables = generate_village(households=12, seed=2026, year=2026)
    for key, pos, field, text in LONG:
        tables[key] = tables[key].copy()
        tables[key].loc[tables[key].index[pos], field] = text
    folder = tmp_path_factory.mktemp("print")
    book = build_workbook(folder / "永宁寺村.xlsx", settings, tables)
    pdf = lo_convert(book, "pdf", folder / "pdf", timeout=300)
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = []
    for number, page in enumerate(text.split("\f")[:-1], start=1):
        first = page.strip().split("\n", 1)[0]  # the page header: place and sheet name
        name = first.rsplit(" ", 1)[-1]
        pages.append((name, page, number))
    return book, settings, pdf, pages


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pages_of(pages, name: str) -> list[tuple[str, int]]:
    found = [(text, number) for sheet, text, number in pages if sheet == name]
    assert found, f"no printed page of {name}"
    return found


def _gray(pdf, page: int, dpi: int = DPI) -> np.ndarray:
    """The page rendered in grey levels (0 black .. 255 white), rows x columns."""
    data = subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page), str(pdf)],
                          capture_output=True, check=True).stdout
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height = int(m.group(1)), int(m.group(2))
    return np.frombuffer(data[m.end():m.end() + width * height], dtype=np.uint8).reshape(height, width)


def _longest_runs(dark: np.ndarray) -> np.ndarray:
    """The longest run of dark pixels down each column of ``dark``."""
    count = np.cumsum(dark, axis=0, dtype=np.int64)
    last_break = np.maximum.accumulate(np.where(dark, 0, count), axis=0)
    return (count - last_break).max(axis=0)


def _lines(runs: np.ndarray, share: float = 0.9) -> list[int]:
    """Positions of the lines (runs at least ``share`` of the longest), neighbouring pixels merged."""
    at = np.flatnonzero(runs >= share * runs.max())
    return [int(g[0]) for g in np.split(at, np.flatnonzero(np.diff(at) > 2) + 1) if len(g)]


# --- text: nothing cut off ------------------------------------------------------------------


def test_pdf_has_every_sheet(printed):
    _, _, _, pages = printed
    assert {name for name, _, _ in pages} == {schema.HELP_SHEET_NAME} | {s.name for s in schema.SHEETS}


@pytest.mark.parametrize("key,pos,field,text", LONG, ids=[f"{k}.{f}" for k, _, f, _ in LONG])
def test_long_text_prints_whole(printed, key, pos, field, text):
    """Long texts wrap inside their column and the row is tall enough: every character is printed."""
    _, _, _, pages = printed
    printed_text = _squash("".join(t for t, _ in _pages_of(pages, schema.sheet(key).name)))
    assert _squash(text) in printed_text


def test_help_sheet_prints_whole(printed):
    """Every label and text of 使用说明 is printed whole (merged cells do not grow by themselves)."""
    _, settings, _, pages = printed
    printed_text = _squash("".join(t for t, _ in _pages_of(pages, schema.HELP_SHEET_NAME)))
    texts = [t for row in _help_rows(settings) for t in row[1:] if t]
    assert texts
    cut = [t for t in texts if _squash(t) not in printed_text]
    assert not cut


# --- pages: width, repeated header -------------------------------------------------------------


@pytest.mark.parametrize("spec", schema.SHEETS, ids=lambda s: s.key)
def test_every_page_has_the_whole_header_row(printed, spec):
    """Fit to the page width (no column pushed to another page) and the header row repeated on
    every page of a long sheet."""
    _, _, _, pages = printed
    sheet_pages = _pages_of(pages, spec.name)
    if spec.key == "entries":
        assert len(sheet_pages) > 2  # a long sheet: the repeat is really tested
    for text, number in sheet_pages:
        words = set(text.split())
        missing = [h for h in spec.headers if h not in words]
        assert not missing, f"page {number}"


# --- pixels: grid and header -----------------------------------------------------------------------


@pytest.mark.parametrize("spec", schema.SHEETS, ids=lambda s: s.key)
def test_no_empty_bordered_column_beside_the_table(printed, spec):
    """As many vertical grid lines as the table has columns, plus one: nothing bordered beside it."""
    _, _, pdf, pages = printed
    _, number = _pages_of(pages, spec.name)[0]
    gray = _gray(pdf, number)
    verticals = _lines(_longest_runs(gray < 200))
    assert len(verticals) == len(spec.columns) + 1, verticals


@pytest.mark.parametrize("spec", [s for s in schema.SHEETS if s.key in ("households", "entries", "ledger")],
                         ids=lambda s: s.key)
def test_header_row_is_visibly_distinct(printed, spec):
    """The header row prints with its fill, the data rows without, in LibreOffice too."""
    _, _, pdf, pages = printed
    _, number = _pages_of(pages, spec.name)[0]
    gray = _gray(pdf, number)
    dark = gray < 200
    left, *_, right = _lines(_longest_runs(dark))
    top, header_bottom, *rest = _lines(_longest_runs(dark[:, left:right + 1].T))
    header = gray[top + 2:header_bottom - 1, left + 2:right - 1]
    assert np.median(header) < 245
    if rest:  # a data row below
        data = gray[header_bottom + 2:rest[0] - 1, left + 2:right - 1]
        assert np.median(data) > 250


# --- cell formatting (what WPS and LibreOffice draw without the table style) --------------------------


@pytest.mark.parametrize("spec", schema.SHEETS, ids=lambda s: s.key)
def test_header_cells_carry_their_own_look(printed, spec):
    book = openpyxl.load_workbook(printed[0])
    ws = book[spec.name]
    for cell in ws[1][: len(spec.columns)]:
        assert cell.font.b is True
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith(look.header_fill(spec))
        for side in (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom):
            assert side.style == "thin"
        assert cell.alignment.wrap_text
    assert ws.cell(1, len(spec.columns) + 1).fill.fill_type is None  # nothing beside the table
    assert ws.cell(2, 1).fill.fill_type is None  # the data rows keep no fill


def test_long_text_cells_wrap_and_rows_grow(printed):
    book = openpyxl.load_workbook(printed[0])
    for key, pos, field, text in LONG:
        spec = schema.sheet(key)
        cell = book[spec.name].cell(2 + pos, spec.fields.index(field) + 1)
        assert cell.value == text and cell.alignment.wrap_text and cell.alignment.vertical == "top"
        height = book[spec.name].row_dimensions[2 + pos].height
        assert height and height >= 2 * look.LINE_POINTS, (key, field)


# --- a sheet the lossless writer writes: 校验结果 added to, or rewritten in, a clerk's workbook ---------

#: A long 问题说明 and 修改建议, as the rules write them for a clerk's long cell (five and three lines).
LONG_FINDING = ("户号「0107」的指标「GX-03 积极参与村级志愿者服务活动并在防汛抢险中表现突出」在2026年7月累计"
                "登记 5 次共 25 分，超过每月上限 10 分（从本行起超出），超出的登记不计入当月积分")
LONG_FIX = "请核对本行的数量和分值；如确需超出上限，请先在「积分指标」中修改每月上限并注明村民代表会议决议依据"
#: Two lines in LibreOffice (40 CJK characters: 80 width units in 问题说明, 48 wide), 30 points
#: (two of Excel's 15-point lines) not being enough for them.
TWO_LINE_FINDING = "该户本月的环境卫生评比积分已按村民代表会议决议登记两次请删除重复的一条登记后再重新校验"
#: Findings enough for three A4 pages, the long one in the middle (a page break may fall anywhere).
FINDINGS_ROWS = 70


def _findings():
    import pandas as pd

    rows = [["错误" if i % 3 else "警告", "积分登记", 3 + i, "数量", f"第 {3 + i} 行的数量不是数字", "请填写数字",
             "E-ENT-02"] for i in range(FINDINGS_ROWS)]
    rows[FINDINGS_ROWS // 2][4:6] = [LONG_FINDING, LONG_FIX]
    rows[10][4] = TWO_LINE_FINDING
    return pd.DataFrame(rows, columns=schema.FINDINGS.fields)


@pytest.fixture(scope="module", params=["added", "rewritten"])
def printed_findings(request, tmp_path_factory):
    """(PDF, [(page text, page number)] of 校验结果) of a workbook whose 校验结果 the lossless
    writer added (the workbook lacked it) or rewrote, printed by LibreOffice."""
    from jifen_xl.io.xlsxwrite import write_owned

    from .conftest import build
    from .test_added_sheet import drop_sheet

    folder = tmp_path_factory.mktemp(f"findings-{request.param}")
    book = build(folder / "永宁寺村.xlsx")
    if request.param == "added":
        drop_sheet(book, schema.FINDINGS.name)
    result = write_owned(book, {"findings": _findings()}, backup=False)
    assert result.added == ((schema.FINDINGS.name,) if request.param == "added" else ())
    pdf = lo_convert(book, "pdf", folder / "pdf", timeout=300)
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [(page, number) for number, page in enumerate(text.split("\f")[:-1], start=1)
             if page.strip().split("\n", 1)[0].rsplit(" ", 1)[-1] == schema.FINDINGS.name]
    assert pages, "no printed page of 校验结果"
    return pdf, pages


def test_written_findings_print_whole_with_the_header_on_every_page(printed_findings):
    """The long 问题说明 and 修改建议 print whole (rows as tall as their lines: LibreOffice cuts
    off what does not fit), every finding is printed, and each page starts with the header row."""
    _, pages = printed_findings
    assert len(pages) > 1  # the repeated header row is really tested
    whole = _squash("".join(text for text, _ in pages))
    assert _squash(LONG_FINDING) in whole and _squash(LONG_FIX) in whole
    assert _squash(TWO_LINE_FINDING) in whole
    assert all(f"第{3 + i}行的数量不是数字" in whole for i in range(FINDINGS_ROWS) if i not in (10, FINDINGS_ROWS // 2))
    for text, number in pages:
        assert not [h for h in schema.FINDINGS.headers if h not in text.split()], f"page {number}"


def test_written_findings_header_row_is_visibly_distinct(printed_findings):
    """The header row prints filled, on every page, the data rows without: cell formatting that
    LibreOffice draws (it does not draw Excel's table styles)."""
    pdf, pages = printed_findings
    for _, number in pages:
        gray = _gray(pdf, number)
        dark = gray < 200
        left, *_, right = _lines(_longest_runs(dark))
        top, header_bottom, next_line, *_ = _lines(_longest_runs(dark[:, left:right + 1].T))
        assert np.median(gray[top + 2:header_bottom - 1, left + 2:right - 1]) < 245, f"page {number}"
        assert np.median(gray[header_bottom + 2:next_line - 1, left + 2:right - 1]) > 250, f"page {number}"


def test_written_findings_last_lines_are_not_cut_by_the_row_below(printed_findings):
    """In every grown row, each cell's last line of text ends above the row's bottom grid line
    (LibreOffice draws a row at its height and cuts off what does not fit: at 15 points a line,
    two lines of CJK text run into the line below)."""
    pdf, pages = printed_findings
    dpi = 144  # two pixels a point
    grown = 0
    for _, number in pages:
        dark = _gray(pdf, number, dpi) < 200
        verticals = _lines(_longest_runs(dark))
        rows = _lines(_longest_runs(dark[:, verticals[0]:verticals[-1] + 1].T))
        usual = np.median(np.diff(rows))
        for top, bottom in zip(rows, rows[1:]):
            if bottom - top < 1.5 * usual:
                continue
            grown += 1
            for left, right in zip(verticals, verticals[1:]):
                cell = dark[top + 2:bottom - 1, left + 2:right - 1]
                inked = np.flatnonzero(cell.any(axis=1))
                assert not len(inked) or cell.shape[0] - 1 - inked[-1] >= 2, (number, top, left)
    assert grown == 2  # the two-line and the five-line finding
