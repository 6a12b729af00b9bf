"""The township report's 汇总概况 on paper (issue 11): with 20, 30 and 40 villages (and 17, where
LibreOffice's own page break left the 合计 row with a single village above it) the table breaks
across pages with its header row on each, the 合计 row never alone at the top of a page, and long
village names wrap inside their column instead of widening the table off the page.

One township of 40 small generated villages (two with long names) is imported once; the reports
of its first 20, 30 and 40 villages are printed by LibreOffice and read back page by page
(pdftotext for the rows on each page, pdftoppm for the page's right margin).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from jifen_xl.demo import generate_township
from jifen_xl.demo.township import VILLAGE_NAMES
from jifen_xl.io.township_report import summary_pages
from jifen_xl.township import TownshipResult, import_township, township_report

from .conftest import TODAY
from .lo import needs_lo

LONG_CJK = "黄桷坪街道办事处新华社区居民委员会第二村民小组联合村"
LONG_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz村"
NAMES = list(VILLAGE_NAMES) + [f"{n[:-1]}二村" for n in VILLAGE_NAMES]
NAMES[5], NAMES[26] = LONG_CJK, LONG_LATIN
#: The 合计 row as pdftotext reads it: 村, then 台账截至 (a month, or — when the villages differ), 户数.
TOTAL = re.compile(r"合计(—|\d{4}-\d\d)\d")


@pytest.fixture(scope="module")
def township(tmp_path_factory) -> TownshipResult:
    folder = tmp_path_factory.mktemp("pages") / "各村"
    generate_township(folder, villages=NAMES, households=14, seed=4, settled_months=11, entries_per_household=3)
    return import_township(folder, None, workers=2, today=TODAY)


def _first(result: TownshipResult, n: int) -> TownshipResult:
    """The township of the first ``n`` villages of ``result`` (their files and extracts only)."""
    keep = {e.meta["file"] for e in result.extracts[:n]}
    return TownshipResult([f for f in result.files if f.file in keep], result.villages[:n], result.extracts[:n],
                          result.year)


def _page_texts(pdf: Path, mode: str) -> list[str]:
    out = subprocess.run(["pdftotext", mode, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return out.rstrip("\f").split("\f")


def _right_margin_is_blank(pdf: Path, page: int) -> bool:
    """Nothing printed in the page's right 8 mm (the margin is 12 mm): the table stays on the page."""
    ppm = subprocess.run(["pdftoppm", "-r", "60", "-f", str(page), "-l", str(page), str(pdf)], capture_output=True,
                         check=True).stdout
    _, size, _, data = ppm.split(b"\n", 3)
    w, h = map(int, size.split())
    px = np.frombuffer(data[: w * h * 3], dtype=np.uint8).reshape(h, w, 3)
    strip = px[:, w - int(w * 8 / 297):]
    return bool((strip > 235).all())


def test_names_are_distinct_and_none_is_part_of_another():
    assert len(set(NAMES)) == 40 and not any(a != b and a in b for a in NAMES for b in NAMES)


@needs_lo
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize("n", [17, 20, 30, 40])
def test_the_summary_breaks_across_pages_with_its_header_and_never_leaves_the_total_alone(township, tmp_path, n):
    part = _first(township, n)
    pdf = tmp_path / "报告.pdf"
    township_report(part, pdf=pdf, html=tmp_path / "报告.html", today=TODAY)
    names = [str(v["村"]) for v in part.villages]
    assert len(names) == n
    raw = _page_texts(pdf, "-raw")
    summary = [i for i, text in enumerate(raw) if i < next(j for j, t in enumerate(raw) if "二、月度趋势" in t)]
    assert len(summary) >= 2  # 20 villages and more do not fit one page with the title
    seen: list[str] = []
    for i in summary:
        flat = re.sub(r"[\s\u200b]", "", raw[i])
        assert "台账截至" in flat and "库存价值（积分）" in flat and "警告数" in flat, f"page {i + 1} has the header"
        here = sorted((flat.index(name), name) for name in names if name in flat)
        seen += [name for _, name in here]
        assert _right_margin_is_blank(pdf, i + 1), f"page {i + 1}: the table runs into the margin"
        total = TOTAL.search(flat)
        if total is not None:
            assert i == summary[-1]
            before = [at for at, _ in here if at < total.start()]
            assert len(before) >= 2, f"page {i + 1}: the 合计 row has {len(before)} village rows above it"
    assert seen == names  # every village once, in order, none lost at a page break
    assert TOTAL.search(re.sub(r"[\s\u200b]", "", raw[summary[-1]]))
    # the long names are printed whole (wrapped inside their column)
    page = (tmp_path / "报告.html").read_text(encoding="utf-8").replace("\u200b", "")
    for name in (LONG_CJK, LONG_LATIN):
        assert (name in page) == (name in names)
    assert n < 40 or {LONG_CJK, LONG_LATIN} <= set(names)


def test_the_pages_are_cut_before_the_total_would_stand_alone():
    """The cut itself: a page's worth of rows, then the 合计 row with village rows above it."""
    row = ["石岗村", "2026-11"] + ["1"] * 19
    headers = ["村", "台账截至"] + [f"列{i}" for i in range(19)]
    for n in range(1, 80):
        laid = summary_pages({"headers": headers, "rows": [list(row) for _ in range(n)], "total": ["合计"] + row[1:]})
        pages = [len(p["rows"]) for p in laid["pages"]]
        assert sum(pages) == n and [p["total"] for p in laid["pages"]] == [False] * (len(pages) - 1) + [True]
        assert pages[-1] >= min(2, n), (n, pages)
        assert all(p > 0 for p in pages)
    long = summary_pages({"headers": headers, "rows": [[LONG_LATIN] + row[1:]], "total": ["合计"] + row[1:]})
    assert long["pages"][0]["rows"][0]["cells"][0].replace("\u200b", "") == LONG_LATIN
    assert "\u200b" in long["pages"][0]["rows"][0]["cells"][0]  # a run of letters wider than the column gets break points
    assert sum(long["widths"]) == pytest.approx(1032, abs=len(headers))  # A4 landscape less margins, 96 px/in
