"""The township import's acceptance (issue 11): one folder of village workbooks made by different
means, imported through the command line, and every table of the township workbook equal to an
independent computation; the printed report's charts drawn by LibreOffice.

The folder, as a township officer receives it:

- 石岗村, 龙泉村: made by the toolkit (``generate_village`` + ``build_workbook``);
- 关口村: made by "another tool": openpyxl straight from SPEC.md's headers
  (``tests/test_shop_acceptance.write_independent``: a title row above a header, an extra
  column, another column order), with numbers typed as text in a few cells;
- 桂花村: a toolkit workbook re-saved by LibreOffice headless;
- 玉溪村宽表.xlsx: a wide-layout (宽表) workbook with its own 导入映射 (the committed example);
- 新发村-2026.xlsx: a damaged copy (a truncated zip); 旧版/龙泉村-2026.xlsx: the same village and
  year as 龙泉村, older; ``~$石岗村-2026.xlsx``: Excel's lock file; 报送说明.txt: no workbook.

The expectations are plain Python over the cells openpyxl reads (by header), never through
``jifen_xl``'s reader or ``core``: each village's counted entries (已确认, objections applied, no
open objection), its households and exchanges, the wide file from its own columns; then the
SPEC's meanings (户数, 参与户数, 加分/扣分/积分合计, …) counted and summed by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.demo import generate_village
from jifen_xl.io.collect import LOCK_REASON
from jifen_xl.io.svgchart import COLORS
from jifen_xl.io.template import build_workbook

from .lo import lo_convert, needs_lo
from .test_shop_acceptance import SETTINGS as SHOP_SETTINGS
from .test_shop_acceptance import write_independent
from .xlsxdump import book_table

pytestmark = [needs_lo, pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                           reason="poppler-utils not installed")]

ROOT = Path(__file__).resolve().parents[1]
WIDE_EXAMPLE = ROOT / "templates" / "宽表映射示例.xlsx"
IMPORTED, WARNED, REJECTED, SKIPPED, DUPLICATE = S.IMPORT_STATUSES
YEAR = 2026
PLACE = ("沙坪坝区", "中梁镇")
#: Each village's last settled month (台账截至), as the files were made: the toolkit's villages
#: settled January–November (December still 待公示), 关口村's entries run to April, all confirmed;
#: the wide file's figures are final, the last period (全年, 第4季度) ends in December.
THROUGH = {"石岗村": "2026-11", "龙泉村": "2026-11", "桂花村": "2026-11", "关口村": "2026-04", "玉溪村": "2026-12"}
FULL_WIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


# --- the folder ------------------------------------------------------------------------------------

def _older(path: Path, minutes: int) -> None:
    stamp = path.stat().st_mtime - minutes * 60
    os.utime(path, (stamp, stamp))


def _typed_as_text(path: Path) -> None:
    """Numbers typed as text in a few cells, as a clerk's other tool leaves them: 积分登记's
    数量 and 积分, 积分兑换's 数量 and 消耗积分 (one in full-width digits)."""
    wb = openpyxl.load_workbook(path)
    for name, key, changes in (("积分登记", "GK-07", ("数量", "积分")), ("积分登记", "GK-10", ("积分",)),
                               ("积分兑换", "DH-04", ("数量",)), ("积分兑换", "DH-06", ("消耗积分",))):
        ws = wb[name]
        head = [c.value for c in ws[1]]
        row = next(r for r in ws.iter_rows(min_row=2) if key in [c.value for c in r])
        for h in changes:
            cell = row[head.index(h)]
            cell.value = str(cell.value) if key != "DH-06" else str(cell.value).translate(
                str.maketrans("0123456789", "０１２３４５６７８９"))
            cell.number_format = "@"
    wb.save(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> tuple[Path, dict[str, str], dict[str, Path]]:
    """The folder, the status each file must get, and each village's file (the one counted)."""
    base = tmp_path_factory.mktemp("acceptance")
    root = base / "中梁镇2026年11月报送"
    root.mkdir()
    sources: dict[str, Path] = {}
    for name, hh, seed in (("石岗村", 48, 21), ("龙泉村", 40, 22)):
        settings, tables = generate_village(households=hh, seed=seed, village=name, settled_months=11)
        sources[name] = build_workbook(root / f"{name}-2026.xlsx", settings, tables)
    settings, tables = generate_village(households=36, seed=23, village="桂花村", settled_months=11)
    made = build_workbook(base / "桂花村-2026.xlsx", settings, tables)
    sources["桂花村"] = lo_convert(made, "xlsx", root)
    other = [("区县", PLACE[0]), ("镇街", PLACE[1])] + [kv for kv in SHOP_SETTINGS if kv[0] not in ("区县", "镇街")]
    sources["关口村"] = write_independent(root / "关口村积分台账.xlsx", settings=other)
    _typed_as_text(sources["关口村"])
    sources["玉溪村"] = Path(shutil.copyfile(WIDE_EXAMPLE, root / "玉溪村宽表.xlsx"))
    # the same village and year sent before: older, in a subfolder
    (root / "旧版").mkdir()
    shutil.copyfile(sources["龙泉村"], root / "旧版" / "龙泉村-2026.xlsx")
    _older(root / "旧版" / "龙泉村-2026.xlsx", 24 * 60)
    whole = sources["石岗村"].read_bytes()
    (root / "新发村-2026.xlsx").write_bytes(whole[: len(whole) * 2 // 3])
    (root / "~$石岗村-2026.xlsx").write_bytes(b"\x06WPS Office")
    (root / "报送说明.txt").write_text("请各村于每月 5 日前报送上月积分工作簿。", encoding="utf-8")
    expected = {"石岗村-2026.xlsx": IMPORTED, "龙泉村-2026.xlsx": IMPORTED, "桂花村-2026.xlsx": IMPORTED,
                "关口村积分台账.xlsx": IMPORTED, "玉溪村宽表.xlsx": IMPORTED, "旧版/龙泉村-2026.xlsx": DUPLICATE,
                "新发村-2026.xlsx": SKIPPED, "~$石岗村-2026.xlsx": SKIPPED, "报送说明.txt": SKIPPED}
    return root, expected, sources


@pytest.fixture(scope="module")
def imported(folder, tmp_path_factory):
    """``jifen-xl township import DIR -o OUT.xlsx --json --pdf OUT.pdf`` through the CLI."""
    root, _, _ = folder
    out_dir = tmp_path_factory.mktemp("out")
    out, pdf = out_dir / "中梁镇2026年积分汇总.xlsx", out_dir / "中梁镇2026年积分汇总报告.pdf"
    run = CliRunner().invoke(cli, ["township", "import", str(root), "-o", str(out), "--json", "--pdf", str(pdf),
                                   "--workers", "2"])
    assert run.exit_code == 0, run.output
    return json.loads(run.stdout), out, pdf


# --- reading by header, plain Python ----------------------------------------------------------------

def _rows(ws, first: str) -> list[dict]:
    """The records under the header row (the first row holding the header ``first``), keyed by
    header; blank rows skipped; columns without a header dropped."""
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if first in r)
    head = [str(h).strip() if h is not None else None for h in rows[at]]
    out = []
    for r in rows[at + 1:]:
        rec = {h: v for h, v in zip(head, r) if h}
        if any(v not in (None, "") for v in rec.values()):
            out.append(rec)
    return out


def _num(v) -> float | None:
    if v is None or v == "":
        return None
    return float(str(v).translate(FULL_WIDTH).replace(",", "")) if isinstance(v, str) else float(v)


def _day(v) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


def _text(v) -> str | None:
    return None if v is None else str(v).strip()


class Village:
    """What one village file holds, as plain records: households, counted entries, objections,
    exchanges, goods and receipts, each from the cells openpyxl reads."""

    def __init__(self, name: str):
        self.name = name
        self.households: list[dict] = []  # hh, head, hukou, status, carried (上年累计积分)
        self.entries: list[dict] = []  # counted: hh, month, code, name, category, kind, points
        self.objections: list[str] = []  # 处理结果, blank = 待处理
        self.exchanges: list[dict] = []  # month, hh, points
        self.stock_value = 0.0

    @property
    def active(self) -> dict[str, dict]:
        return {h["hh"]: h for h in self.households if h["status"] == S.HH_ACTIVE}


def contract_village(path: Path) -> Village:
    """A village workbook under the exchange contract (any maker), read by header."""
    wb = openpyxl.load_workbook(path, data_only=True)
    settings = {r["项目"]: r["内容"] for r in _rows(wb["基本信息"], "项目")}
    v = Village(str(settings["村"]))
    year = int(str(settings["年度"]).translate(FULL_WIDTH))
    v.households = [{"hh": _text(h["户号"]), "head": _text(h["户主姓名"]), "hukou": h["户籍类型"], "status": h["状态"],
                     "carried": _num(h["上年累计积分"]) or 0.0} for h in _rows(wb["住户名册"], "户号")]
    catalogue = defaultdict(list)
    for c in _rows(wb["积分指标"], "指标编码"):
        catalogue[_text(c["指标编码"])].append(c)

    def item(code: str, day: dt.date) -> dict:
        return next(c for c in catalogue[code] if (c["生效日期"] is None or _day(c["生效日期"]) <= day)
                    and (c["失效日期"] is None or day <= _day(c["失效日期"])))

    objections = _rows(wb["异议处理"], "异议编号")
    v.objections = [o["处理结果"] or "待处理" for o in objections]
    decided: dict[str, dict] = {}
    for o in sorted((o for o in objections if o["处理结果"]), key=lambda o: _day(o["处理日期"])):
        decided[_text(o["登记编号"])] = o  # the latest decision stands
    undecided = {_text(o["登记编号"]) for o in objections if not o["处理结果"]}
    for e in _rows(wb["积分登记"], "登记编号"):
        key, day = _text(e["登记编号"]), _day(e["日期"])
        if e["状态"] != "已确认" or day.year != year or key in undecided:
            continue
        o = decided.get(key)
        if o is not None and o["处理结果"] == "撤销":
            continue
        c = item(_text(e["指标编码"]), day)
        points = _num(e["积分"])
        if points is None:
            points = (_num(e["数量"]) or 1) * _num(c["分值"])
        if o is not None and o["处理结果"] == "更正":
            points = _num(o["更正后积分"])
        v.entries.append({"hh": _text(e["户号"]), "month": f"{day:%Y-%m}", "code": _text(e["指标编码"]),
                          "name": c["指标名称"], "category": c["指标类别"], "kind": c["积分类型"], "points": points})
    for x in _rows(wb["积分兑换"], "兑换编号"):
        day = _day(x["日期"])
        if day.year == year:
            v.exchanges.append({"month": f"{day:%Y-%m}", "hh": _text(x["户号"]), "goods": _text(x["商品编码"]),
                                "qty": _num(x["数量"]), "points": _num(x["消耗积分"])})
    price = {_text(g["商品编码"]): _num(g["兑换积分"]) for g in _rows(wb["商品目录"], "商品编码")}
    stock = defaultdict(float)
    for r in _rows(wb["物资入库"], "入库编号"):
        stock[_text(r["商品编码"])] += _num(r["数量"])
    for x in v.exchanges:
        stock[x["goods"]] -= x["qty"]
    v.stock_value = sum(q * price[g] for g, q in stock.items())
    wb.close()
    return v


def wide_village(path: Path) -> Village:
    """The wide workbook from its own columns: each filled points cell is one final entry at its
    period's last month (a deduction column's figure counts negative)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    mapping = _rows(wb[S.WIDE_MAPPING.name], "用途")
    place = {m["用途"]: m["取值"] for m in mapping if m["用途"] in S.WIDE_PLACE}
    column = {m["用途"]: m["列名"] for m in mapping if m["用途"] in (S.WIDE_HH_ID, S.WIDE_HEAD, S.WIDE_HUKOU)}
    sheet = next(m["取值"] for m in mapping if m["用途"] == S.WIDE_SHEET)
    ends = {"第1季度": 3, "第2季度": 6, "第3季度": 9, "第4季度": 12, "上半年": 6, "下半年": 12, "全年": 12}
    v = Village(place["村"])
    for r in _rows(wb[sheet], column[S.WIDE_HH_ID]):
        hh = _text(r[column[S.WIDE_HH_ID]])
        v.households.append({"hh": hh, "head": r[column[S.WIDE_HEAD]], "hukou": r[column[S.WIDE_HUKOU]],
                             "status": S.HH_ACTIVE, "carried": 0.0})
        for m in (m for m in mapping if m["用途"] == S.WIDE_POINTS):
            value = _num(r.get(m["列名"]))
            if not value:
                continue
            v.entries.append({"hh": hh, "month": f"{place['年度']}-{ends[m['期间']]:02d}", "code": m["指标编码"],
                              "name": m["指标名称"], "category": m["指标类别"], "kind": m["积分类型"],
                              "points": -abs(value) if m["积分类型"] == S.KIND_DEDUCT else value})
    wb.close()
    return v


@pytest.fixture(scope="module")
def villages(folder) -> dict[str, Village]:
    _, _, sources = folder
    return {name: wide_village(path) if name == "玉溪村" else contract_village(path) for name, path in sources.items()}


# --- the expected tables ---------------------------------------------------------------------------

def _r(x: float, places: int = 6) -> float:
    return round(x + 0.0, places)


def expected_summary(v: Village) -> dict:
    active = v.active
    reward = sum(e["points"] for e in v.entries if e["kind"] != S.KIND_DEDUCT)
    deduct = sum(e["points"] for e in v.entries if e["kind"] == S.KIND_DEDUCT)
    n = len(active)
    taking_part = len({e["hh"] for e in v.entries if e["hh"] in active})
    return {"区县": PLACE[0], "镇街": PLACE[1], "村": v.name, "年度": YEAR, "台账截至": THROUGH[v.name], "户数": n,
            "非本村户籍户数": sum(h["hukou"] == "非本村户籍常住" for h in active.values()),
            "参与户数": taking_part, "参与率": round(taking_part / n, 4), "加分合计": reward, "扣分合计": deduct,
            "积分合计": reward + deduct, "户均积分": round((reward + deduct) / n, 2),
            "奖扣比": round(reward / -deduct, 2) if deduct < 0 else None, "异议数": len(v.objections),
            "维持": v.objections.count("维持"), "更正": v.objections.count("更正"), "撤销": v.objections.count("撤销"),
            "待处理": v.objections.count("待处理"), "兑换笔数": len(v.exchanges),
            "兑换积分": sum(x["points"] for x in v.exchanges), "库存价值（积分）": v.stock_value}


def household_points(villages: dict[str, Village]) -> list[dict]:
    """Per household 正常: year points, deductions, points per category, cumulative at 台账截至."""
    out = []
    for v in villages.values():
        for hh, h in v.active.items():
            mine = [e for e in v.entries if e["hh"] == hh]
            by_category = defaultdict(float)
            for e in mine:
                by_category[e["category"]] += e["points"]
            out.append({"村": v.name, "户号": hh, "户主姓名": h["head"], "年度积分": _r(sum(e["points"] for e in mine)),
                        "累计积分": _r(h["carried"] + sum(e["points"] for e in mine if e["month"] <= THROUGH[v.name])),
                        "扣分次数": sum(e["kind"] == S.KIND_DEDUCT for e in mine), "by_category": by_category})
    return out


def _min_rank(values: list[float]) -> list[int]:
    """Places of ``values``, the largest first, ties sharing the best place (1, 2, 2, 4)."""
    return [1 + sum(o > x for o in values) for x in values]


# --- the workbook read back --------------------------------------------------------------------------

def _same(got, want) -> bool:
    if isinstance(want, float) or isinstance(got, float):
        return got is not None and want is not None and abs(float(got) - float(want)) < 1e-6
    return got == want


# --- every file has its status ---------------------------------------------------------------------

def test_every_file_has_its_status_and_a_chinese_reason(folder, imported):
    _, expected, _ = folder
    printed, _, _ = imported
    files = {f["文件"]: f for f in printed["files"]}
    assert {n: f["状态"] for n, f in files.items()} == expected
    assert files["~$石岗村-2026.xlsx"]["原因"] == LOCK_REASON
    assert "已损坏" in files["新发村-2026.xlsx"]["原因"]
    assert files["报送说明.txt"]["原因"].startswith("不是工作簿")
    assert files["旧版/龙泉村-2026.xlsx"]["原因"].startswith("与「龙泉村-2026.xlsx」是同一个村同一年度")
    assert files["玉溪村宽表.xlsx"]["原因"] == "宽表（按映射导入）。"
    for f in printed["files"]:
        if f["状态"] != IMPORTED or f["原因"]:
            assert f["原因"] and any("\u4e00" <= ch <= "\u9fff" for ch in f["原因"]), f
            assert "Traceback" not in f["原因"] and "Error" not in f["原因"]
    assert sorted(v["村"] for v in printed["villages"]) == sorted(THROUGH)


# --- the township workbook against the independent computation --------------------------------------------

def test_summary_equals_the_independent_computation(villages, imported):
    printed, out, _ = imported
    rows = book_table(out, S.TOWNSHIP_SUMMARY)
    total = rows[-1]
    assert total["村"] == S.TOTAL_LABEL
    by_village = {r["村"]: r for r in rows[:-1]}
    assert sorted(by_village) == sorted(THROUGH)
    for name, v in villages.items():
        want, got = expected_summary(v), by_village[name]
        assert want["积分合计"] != 0 and want["户数"] > 0
        for header, value in want.items():
            assert _same(got[header], value), (name, header, got[header], value)
        json_row = next(j for j in printed["villages"] if j["村"] == name)
        assert all(_same(json_row[h], want[h]) for h in ("户数", "参与户数", "加分合计", "扣分合计", "积分合计", "异议数",
                                                         "兑换积分")), name
    assert any(v["扣分合计"] < 0 for v in rows[:-1]) and any(v["更正"] for v in rows[:-1])  # not a trivial township


def test_the_total_row_is_the_sum_of_the_village_rows(imported):
    _, out, _ = imported
    rows = book_table(out, S.TOWNSHIP_SUMMARY)
    total, villages = rows[-1], rows[:-1]
    for header in ("户数", "非本村户籍户数", "参与户数", "加分合计", "扣分合计", "积分合计", "异议数", "维持", "更正", "撤销",
                   "待处理", "兑换笔数", "兑换积分", "库存价值（积分）", "错误数", "警告数"):
        assert _same(total[header], sum(float(v[header] or 0) for v in villages)), header
    assert (total["区县"], total["镇街"], total["年度"]) == (*PLACE, YEAR)
    assert _same(total["参与率"], round(total["参与户数"] / total["户数"], 4))  # recomputed from the sums
    assert _same(total["户均积分"], round(total["积分合计"] / total["户数"], 2))
    assert _same(total["奖扣比"], round(total["加分合计"] / -total["扣分合计"], 2))


def test_monthly_trend_equals_the_independent_computation(villages, imported):
    _, out, _ = imported
    got = {(r["月份"], r["村"]): r for r in book_table(out, S.TOWNSHIP_TREND)}
    months = [f"{YEAR}-{m:02d}" for m in range(1, 13)]  # the wide file's 全年 ends in December
    assert sorted(got) == sorted((m, name) for m in months for name in villages)
    for (month, name), row in got.items():
        v = villages[name]
        spent = sum(x["points"] for x in v.exchanges if x["month"] == month)
        assert _same(row["兑换积分"], float(spent)), (month, name)
        if month > THROUGH[name]:  # not settled yet: blank, which is not 0
            assert row["积分合计"] is None and row["参与户数"] is None, (month, name)
            continue
        entries = [e for e in v.entries if e["month"] == month]
        assert _same(row["积分合计"], float(sum(e["points"] for e in entries))), (month, name)
        assert row["参与户数"] == len({e["hh"] for e in entries if e["hh"] in v.active}), (month, name)


def test_deduction_hotspots_equal_the_independent_computation(villages, imported):
    _, out, _ = imported
    items: dict[tuple, dict] = {}
    for v in villages.values():
        for e in (e for e in v.entries if e["kind"] == S.KIND_DEDUCT):
            it = items.setdefault((e["code"], e["name"]), {"category": e["category"], "count": 0, "hh": set(),
                                                            "villages": set(), "points": 0.0})
            it["count"] += 1
            it["hh"].add((v.name, e["hh"]))
            it["villages"].add(v.name)
            it["points"] += e["points"]
    want = sorted(((code, name, it["category"], it["count"], len(it["hh"]), len(it["villages"]), _r(it["points"]))
                   for (code, name), it in items.items()), key=lambda t: (-t[3], t[6], t[0]))
    cut = want[min(20, len(want)) - 1][3]
    want = [w for w in want if w[3] >= cut]
    got = [tuple(r.values()) for r in book_table(out, S.TOWNSHIP_HOTSPOTS)]
    assert len(got) == len(want) and len(want) >= 3
    for g, w in zip(got, want):
        assert g[:6] == w[:6] and _same(g[6], w[6]), (g, w)
    assert any(w[5] > 1 for w in want)  # items shared by villages


def test_household_ranking_equals_the_independent_computation(villages, imported):
    _, out, _ = imported
    hp = household_points(villages)
    places = _min_rank([h["年度积分"] for h in hp])
    want = sorted(((p, h["村"], h["户号"], h["户主姓名"], h["年度积分"], h["累计积分"], h["扣分次数"])
                   for p, h in zip(places, hp) if p <= 100), key=lambda t: (t[0], -t[5], t[1], t[2]))
    got = [(r["名次"], r["村"], str(r["户号"]), r["户主姓名"], r["年度积分"], r["累计积分"], r["扣分次数"])
           for r in book_table(out, S.TOWNSHIP_RANKING)]
    assert len(got) == len(want) and len(want) >= 100 and len(hp) > len(want)  # the top 100 (ties kept) of more
    assert sorted(got, key=lambda t: (t[0], -t[5], t[1], t[2])) == [
        (p, v, h, n, pytest.approx(y), pytest.approx(c), d) for p, v, h, n, y, c, d in want]
    assert [g[0] for g in got] == sorted(g[0] for g in got)  # printed best first
    assert {g[1] for g in got} >= {"关口村", "玉溪村"}  # the other tool's and the wide file's households rank too


def test_award_candidates_follow_the_rules_sheet(villages, imported):
    _, out, _ = imported
    rules = book_table(out, S.AWARD_RULES)
    assert [r["荣誉"] for r in rules] == list(S.AWARDS)
    hp = household_points(villages)
    got = book_table(out, S.TOWNSHIP_CANDIDATES)
    for rule in rules:
        pool = []
        for h in hp:
            basis = _r(h["by_category"].get(rule["指标类别"], 0.0) if rule["指标类别"] else h["年度积分"])
            if basis >= rule["最低积分"] and basis > 0 and not (rule["全年无扣分"] == S.YES and h["扣分次数"]):
                pool.append((h["村"], h["户号"], h["户主姓名"], basis))
        want = []
        for name in villages:
            mine = [p for p in pool if p[0] == name]
            for p, place in zip(mine, _min_rank([m[3] for m in mine])):
                if rule["每村名额"] is None or place <= rule["每村名额"]:
                    want.append((*p, place))
        assert rule["全镇名额"] is None  # the default rules: no township quota, 名次 within the village
        mine = [(r["村"], str(r["户号"]), r["户主姓名"], r["依据积分"], r["名次"]) for r in got if r["荣誉"] == rule["荣誉"]]
        if not want:
            assert len(mine) == 1 and mine[0][0] is None, rule["荣誉"]
            continue
        assert sorted(mine) == sorted((v, h, n, pytest.approx(b), p) for v, h, n, b, p in want), rule["荣誉"]
        texts = {r["依据规则"] for r in got if r["荣誉"] == rule["荣誉"]}
        assert len(texts) == 1 and f"≥ {rule['最低积分']:g}" in texts.pop()
    assert len(got) >= 5


# --- the printed report -----------------------------------------------------------------------------------

def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.rstrip("\f").split("\f")


def _pixels(pdf: Path, page: int, dpi: int = 40) -> np.ndarray:
    ppm = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), str(pdf)],
                         capture_output=True, check=True).stdout
    _, size, _, data = ppm.split(b"\n", 3)
    w, h = map(int, size.split())
    return np.frombuffer(data[: w * h * 3], dtype=np.uint8).reshape(h, w, 3).astype(int)


def _share(px: np.ndarray, rgb: str) -> float:
    want = np.array([int(rgb[i:i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(px - want).sum(axis=-1) < 60).mean())


def test_the_report_pdf_draws_its_charts(imported, tmp_path):
    printed, _, pdf = imported
    assert pdf.is_file()
    pages = _pages(pdf)
    flat = [" ".join(p.split()) for p in pages]
    trend = next(i for i, p in enumerate(flat, start=1) if "二、月度趋势" in p)
    compare = next(i for i, p in enumerate(flat, start=1) if "三、各村比较" in p)
    hot = next(i for i, p in enumerate(flat, start=1) if "四、扣分热点" in p)
    # the chart's texts are drawn as text: titles, legends, axis labels
    assert "全镇每月已确认积分与兑换积分" in flat[trend - 1].replace(" ", "")
    assert "全镇已确认积分" in flat[trend - 1] and "全镇兑换积分" in flat[trend - 1]
    assert all(f"{m}月" in flat[trend - 1] for m in range(1, 13))
    assert "各村户均积分" in flat[compare - 1].replace(" ", "")
    assert all(name in flat[compare - 1] for name in THROUGH)
    assert "扣分次数最多的项目" in flat[hot - 1].replace(" ", "")
    # and their bars in the series colours, inside the chart's area only
    px = _pixels(pdf, trend)
    assert _share(px, COLORS[0]) > 0.01 and _share(px, COLORS[1]) > 0.003
    assert _share(_pixels(pdf, compare), COLORS[2]) > 0.005
    assert _share(_pixels(pdf, hot), COLORS[1]) > 0.005
    assert _share(_pixels(pdf, 1), COLORS[0]) < 0.001 and _share(_pixels(pdf, 1), COLORS[2]) < 0.001
    for i in (trend, compare, hot):  # kept as PNGs to look at (pdftoppm)
        subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(i), "-l", str(i), str(pdf), str(tmp_path / f"p{i}")],
                       check=True)
    assert all(p.stat().st_size > 5000 for p in tmp_path.glob("p*.png"))
