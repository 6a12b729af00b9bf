"""The printable township report (乡镇积分工作汇总报告, issue 11) for the township meeting: the
township workbook's tables on A4 landscape pages with charts, as HTML and as PDF (LibreOffice).

``report_data`` turns ``core.township.TownshipTables`` (the same tables the township workbook
shows: nothing is read or computed a second time) and the villages' 物资入库 into the plain dict
``templates/乡镇汇总报告.html.j2`` renders; ``write_report`` writes the page and prints it.
Charts are SVG images (``io.svgchart``): LibreOffice prints them, a browser shows them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..core.funding import funding_by_village, table_records
from ..core.township import KEY_DISTRICT, KEY_TOWNSHIP, KEY_YEAR, TownshipTables
from .svgchart import COLORS, bar_chart, hbar_chart

#: The template (``templates/``).
REPORT_HTML = "乡镇汇总报告.html.j2"
#: 汇总概况's columns on paper (区县/镇街/年度 are in the title; every other one is printed).
SUMMARY_PRINTED = ("village", "through", "households", "nonlocal", "taking_part", "participation", "reward",
                   "deduct", "total", "average", "ratio", "objections", "kept", "corrected", "withdrawn", "open",
                   "exchanges", "spent", "stock_value", "errors", "warnings")
#: Items in the 扣分热点 chart (the table lists every hotspot).
HOTSPOT_BARS = 12

# -- 汇总概况 on paper: fixed column widths and pages cut in Python ------------------------------------
# LibreOffice breaks a long table where the page is full, which left the 合计 row alone (or with one
# village) at the top of page 2 from about 17–20 villages on, and sized columns by their content, so a
# long village name widened its column and squeezed the figures. The table is printed with fixed column widths
# (a long name wraps inside its column) and cut into pages here, each under its own header row,
# the 合计 row always with village rows above it. Measured with LibreOffice 7.4, A4 landscape.

#: 汇总概况's column widths (shares of the table's width, by header; normalised when printed;
#: a header not listed gets ``SUMMARY_WIDTH_OTHER``).
SUMMARY_WIDTHS = {"镇街": 9.0, "村": 13.5, "台账截至": 6.0, "户数": 4.0, "非本村户籍户数": 4.5, "参与户数": 4.5,
                  "参与率": 5.0, "加分合计": 5.5, "扣分合计": 5.0, "积分合计": 5.5, "户均积分": 4.5, "奖扣比": 4.0,
                  "异议数": 3.5, "维持": 3.2, "更正": 3.2, "撤销": 3.2, "待处理": 3.5, "兑换笔数": 4.0, "兑换积分": 5.0,
                  "库存价值（积分）": 6.0, "错误数": 3.2, "警告数": 3.2}
SUMMARY_WIDTH_OTHER = 4.0
#: The table's width on paper (A4 landscape less 12 mm margins) and a cell's padding, in mm.
TABLE_MM, CELL_PAD_MM = 273.0, 2.4
#: The width of a Latin letter or digit at the table's 8 pt (a Chinese character is two), and of
#: the headline's 10.5 pt, in mm.
HALF_MM, HEADLINE_HALF_MM = 1.45, 1.9
#: Lines of table rows a page holds under the header row: the first page (below the title, a
#: headline of ``HEADLINE_LINES`` lines and the section title) and every next page; what follows
#: the 合计 row (the note) takes ``NOTE_LINES``.
FIRST_PAGE_LINES, PAGE_LINES, HEADLINE_LINES, NOTE_LINES = 16, 28, 3, 3
#: Village rows that always go with the 合计 row onto its page.
KEEP_WITH_TOTAL = 2
_BREAK = "\u200b"  # zero-width space: where LibreOffice may wrap a run of letters that has no space


def _units(text: str) -> int:
    """A text's width in half-width units (a Chinese or full-width character counts two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _lines(text: str, mm: float, half_mm: float = HALF_MM) -> int:
    """Lines ``text`` takes in a column ``mm`` wide (a Chinese text wraps at any character; a
    run of letters longer than the column is given break points, see ``_breakable``)."""
    room = max(int((mm - CELL_PAD_MM) / half_mm), 2)
    return max(1, math.ceil(_units(text) / room))


def _breakable(text: str, mm: float) -> str:
    """``text`` with zero-width spaces inside runs of letters or digits wider than the column,
    so LibreOffice wraps them there instead of widening the table."""
    room = max(int((mm - CELL_PAD_MM) / HALF_MM), 2)
    if _units(text) <= room:
        return text
    return re.sub(r"[^\s\u3000-\u9fff\uff00-\uffef]{%d,}" % room,
                  lambda m: _BREAK.join(m.group(0)), text)


def summary_pages(summary: dict, headline: str = "") -> dict:
    """汇总概况 laid out for paper: ``widths`` (pixels per column, at 96 per inch), ``pages`` (each
    ``{"rows": [{"cells": [...], "bold": bool}, ...], "total": bool}``: the village rows under one
    header row, ``total`` on the last), the rows' long texts made breakable.

    :param summary: ``report_data``'s ``summary`` (headers, rows, total; ``bold``: the positions
        of the rows printed bold, a district's 小计 rows).
    :param headline: the paragraph above the table on the first page (its length moves the cut).
    """
    headers = list(summary["headers"])
    raw = [SUMMARY_WIDTHS.get(h, SUMMARY_WIDTH_OTHER) for h in headers]
    mm = [TABLE_MM * w / sum(raw) for w in raw]
    widths = [round(w / 25.4 * 96) for w in mm]  # pixels: LibreOffice ignores a <col>'s width in percent
    texts = [i for i, h in enumerate(headers) if h in ("村", "镇街")]

    def shaped(row: list[str]) -> tuple[list[str], int]:
        cells = [(_breakable(v, mm[i]) if i in texts else v) for i, v in enumerate(row)]
        return cells, max([_lines(row[i], mm[i]) for i in texts] or [1])

    room = FIRST_PAGE_LINES - max(0, _lines(headline, TABLE_MM, HEADLINE_HALF_MM) - HEADLINE_LINES) * 2
    pages: list[list[dict]] = [[]]
    used = 0
    bold = set(summary.get("bold", ()))
    for i, row in enumerate(summary["rows"]):
        cells, lines = shaped(row)
        if used + lines > room and pages[-1]:
            pages.append([])
            used, room = 0, PAGE_LINES
        pages[-1].append({"cells": cells, "bold": i in bold})
        used += lines
    total, total_lines = shaped(summary["total"])
    if used + total_lines + NOTE_LINES > room and pages[-1]:
        # the 合计 row would open a page of its own: the last villages go with it
        keep, rest = pages[-1][-KEEP_WITH_TOTAL:], pages[-1][:-KEEP_WITH_TOTAL]
        if rest:
            pages[-1:] = [rest, keep]
    while len(pages) > 1 and len(pages[-1]) < KEEP_WITH_TOTAL and len(pages[-2]) > KEEP_WITH_TOTAL:
        pages[-1].insert(0, pages[-2].pop())  # a last page of one village and 合计: one more goes with them
    return {"widths": widths, "total": total,
            "pages": [{"rows": rows, "total": i == len(pages) - 1} for i, rows in enumerate(pages)]}


def _blank(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def figure(value, *, percent: bool = False, places: int = 2) -> str:
    """A figure as printed: 1,234 / 12.5 / 85.3% / 「—」 when blank."""
    if _blank(value) or value == "":
        return "—"
    if isinstance(value, str):
        return value
    value = float(value)
    if percent:
        return f"{value * 100:.1f}%"
    value = round(value, places) + 0.0
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.{places}f}".rstrip("0").rstrip(".")


def _cell(field: str, value) -> str:
    if field == "participation":
        return figure(value, percent=True)
    if field in ("year", "rank"):
        return "—" if _blank(value) else str(int(value))
    if field == "row":
        return "" if _blank(value) else str(int(value))
    if field == "through":
        return "—" if _blank(value) or value == "" else str(value)
    if field in ("village", "file", "status", "reason", "level", "message", "sheet", "column", "rule",
                 "award", "hh_id", "head", "code", "name", "category", "district", "township"):
        return "" if _blank(value) else str(value)
    return figure(value)


def _rows(frame: pd.DataFrame, fields) -> list[list[str]]:
    return [[_cell(f, v) for f, v in zip(fields, rec)] for rec in frame[list(fields)].itertuples(index=False)]


def _place(place: dict) -> dict:
    return {"district": place.get(KEY_DISTRICT) or "", "township": place.get(KEY_TOWNSHIP) or "",
            "year": place.get(KEY_YEAR)}


def _trend_chart(tables: TownshipTables, level: S.Level):
    m = tables.monthly
    months = m["month"].tolist()
    labels = [f"{int(x[5:7])}月" if isinstance(x, str) and len(x) >= 7 else str(x) for x in months]
    totals = [None if _blank(v) else float(v) for v in m["total"]]
    spent = [None if _blank(v) else float(v) for v in m["spent"]]
    pending = [lab for lab, v in zip(labels, totals) if v is None]
    note = (f"{'、'.join(pending)}：各村尚未结账（公示中），积分未确定，不画积分柱。" if pending else "")
    return bar_chart(labels, [(f"{level.whole}已确认积分", totals), (f"{level.whole}兑换积分", spent)],
                     title=f"{level.whole}每月已确认积分与兑换积分", unit="积分", note=note)


def _village_chart(tables: TownshipTables, level: S.Level):
    if level.place:  # a district compares its townships (their 小计 rows)
        s = tables.summary.loc[_subtotals(tables, level), ["township", "average"]].rename(columns={"township": "village"})
    else:
        s = tables.summary[["village", "average"]].copy()
    s["average"] = pd.to_numeric(s["average"], errors="coerce").fillna(0.0)
    s = s.sort_values("average", ascending=False, kind="stable")
    return hbar_chart([str(v) for v in s["village"]], s["average"].tolist(),
                      title=f"{level.units}户均积分（全年已确认积分 ÷ 正常户数）",
                      unit="积分/户", color=COLORS[2])


def _hotspot_chart(tables: TownshipTables):
    h = tables.hotspots.head(HOTSPOT_BARS)
    if h.empty:
        return None
    labels = [f"{n}（{c}）" if n else str(c) for n, c in zip(h["name"], h["code"])]
    return hbar_chart(labels, [float(v) for v in h["count"]], title=f"扣分次数最多的项目（前 {len(h)} 项）",
                      unit="次", color=COLORS[1], label_width=300)


def _candidates(tables: TownshipTables) -> list[dict]:
    c = tables.candidates
    out = []
    fields = ("village", "hh_id", "head", "points", "rank")
    for award in [a for a in S.AWARDS if a in set(c["award"])] + sorted(set(c["award"]) - set(S.AWARDS)):
        part = c[c["award"] == award]
        rules = [r for r in dict.fromkeys(part["rule"].tolist()) if not _blank(r)]
        out.append({"award": award, "rule": "；".join(rules), "rows": _rows(part, fields), "count": len(part)})
    return out


def _subtotals(tables: TownshipTables, level: S.Level) -> pd.Series:
    """Which 汇总概况 rows are a township's 小计 (a district's report; none in a township's)."""
    return tables.summary["village"].eq(level.subtotal) if level.place else \
        pd.Series(False, index=tables.summary.index)


def _headline(tables: TownshipTables, counts: dict, level: S.Level) -> str:
    t = tables.total
    villages = int((~_subtotals(tables, level)).sum())
    parts = [f"本次共收到 {sum(counts.values())} 个文件，{villages} 个村的数据计入汇总"]
    other = "、".join(f"{s} {n} 个" for s, n in counts.items() if n and s not in (S.FILE_IMPORTED,))
    if other:
        parts[-1] += f"（{other}，见“七、各村报送文件校验情况”）"
    parts.append(f"正常户 {figure(t['households'])} 户，其中非本村户籍常住 {figure(t['nonlocal'])} 户；"
                 f"全年有已确认积分的 {figure(t['taking_part'])} 户，参与率 {figure(t['participation'], percent=True)}")
    ratio = f"，加分是扣分的 {figure(t['ratio'])} 倍" if not _blank(t["ratio"]) else "，全年没有扣分"
    parts.append(f"已确认积分合计 {figure(t['total'])} 分（加分 {figure(t['reward'])}，扣分 {figure(t['deduct'])}{ratio}），"
                 f"户均 {figure(t['average'])} 分")
    parts.append(f"异议 {figure(t['objections'])} 件（维持 {figure(t['kept'])}、更正 {figure(t['corrected'])}、"
                 f"撤销 {figure(t['withdrawn'])}、待处理 {figure(t['open'])}）；爱心超市兑换 {figure(t['exchanges'])} 笔，"
                 f"消耗积分 {figure(t['spent'])}，库存价值 {figure(t['stock_value'])} 积分")
    return "。".join(parts) + "。"


def _funding(receipts: dict[str, pd.DataFrame], year) -> dict:
    table = funding_by_village(receipts, year)
    rows = table_records(table)
    columns = list(rows[0]) if rows else []
    return {"columns": columns, "rows": [[figure(r[c]) if not isinstance(r[c], str) else r[c] for c in columns]
                                         for r in rows]}


def report_data(tables: TownshipTables, *, receipts: dict[str, pd.DataFrame], counts: dict[str, int],
                warnings: list[str] = (), made: dt.date | None = None, level: S.Level = S.LEVEL_TOWNSHIP) -> dict:
    """The data of ``templates/乡镇汇总报告.html.j2``.

    :param tables: ``core.township.township_tables`` of the import (the township workbook's tables).
    :param receipts: each consolidated village's 物资入库 of the year (``VillageExtract.receipts``),
        by its name in the tables.
    :param counts: files per status (``TownshipResult.counts``).
    :param warnings: the import's batch warnings (duplicates), printed under the files.
    :param made: the report's date (default today).
    :param level: a township's report (default) or a district's (``schema.LEVEL_DISTRICT``: the
        texts say 全区, 汇总概况 prints each row's 镇街, the comparison is per 镇街).
    """
    made = made or dt.date.today()
    place = _place(tables.place)
    year = place["year"]
    who = place["district"] if level.place else place["township"]
    title = f"{who}{f'{year}年度' if year else ''}乡村治理积分工作汇总报告"
    printed = (("township",) if level.place else ()) + SUMMARY_PRINTED
    summary_headers = [S.TOWNSHIP_SUMMARY.header_of(f) for f in printed]
    monthly_spec = S.level_spec(S.TOWNSHIP_TREND_TOTAL, level)
    total = pd.DataFrame([tables.total])
    hot_fields = S.TOWNSHIP_HOTSPOTS.fields
    check_fields = S.TOWNSHIP_CHECKS.fields
    finding_fields = ("file", "level", "sheet", "row", "column", "message")
    hotspot_chart = _hotspot_chart(tables)
    through = sorted({str(v) for v in tables.summary["through"] if not _blank(v)})
    return {
        "title": title, "place": place, "made": made.isoformat(),
        "through": through[-1] if len(through) == 1 else ("、".join(through) if through else None),
        "villages": int((~_subtotals(tables, level)).sum()), "files": sum(counts.values()), "counts": counts,
        "headline": _headline(tables, counts, level),
        "level": {"whole": level.whole, "units": level.units, "book": level.book},
        "summary": {"headers": summary_headers, "rows": _rows(tables.summary, printed),
                    "total": _rows(total, printed)[0],
                    "bold": [int(i) for i in np.flatnonzero(_subtotals(tables, level).to_numpy(dtype=bool))]},
        "charts": {"trend": _trend_chart(tables, level), "villages": _village_chart(tables, level),
                   "hotspots": hotspot_chart},
        "monthly": {"headers": monthly_spec.headers, "rows": _rows(tables.monthly, monthly_spec.fields)},
        "hotspots": {"headers": [S.TOWNSHIP_HOTSPOTS.header_of(f) for f in hot_fields],
                     "rows": _rows(tables.hotspots, hot_fields)},
        "candidates": _candidates(tables),
        "funding": _funding(receipts, year),
        "checks": {"headers": [S.TOWNSHIP_CHECKS.header_of(f) for f in check_fields],
                   "rows": _rows(tables.files, check_fields)},
        "findings": {"headers": [S.TOWNSHIP_CHECK_FINDINGS.header_of(f) for f in finding_fields],
                     "rows": _rows(tables.findings, finding_fields)},
        "warnings": list(warnings),
    }


def write_report(data: dict, *, html: str | Path | None = None, pdf: str | Path | None = None) -> dict[str, Path]:
    """Render the report and write it as HTML and/or PDF (LibreOffice headless, A4 landscape).

    :returns: the files written, by kind (``html``, ``pdf``).
    :raises JifenError: LibreOffice is missing or fails (the HTML, when asked, is written first).
    """
    from ..render import render_html
    from .pdf import html_to_pdf

    data = {**data, "summary": {**data["summary"], **summary_pages(data["summary"], data.get("headline", ""))}}
    page = render_html(REPORT_HTML, data)
    out: dict[str, Path] = {}
    if html is not None:
        out["html"] = Path(html)
        out["html"].write_text(page, encoding="utf-8")
    if pdf is not None:
        out["pdf"] = html_to_pdf(page, pdf)
    return out

