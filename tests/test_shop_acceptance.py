"""The love supermarket's acceptance (issue 10): a workbook made by other means (openpyxl straight
from the contract's headers as SPEC.md lists them, then re-saved by LibreOffice headless) run
through the CLI, its 库存台账 and 月度台账 against a plain-Python walk of its rows; one planted
mistake per check of the issue, each with its exact message; the issue's opening examples; and
reconciliation and traceability over every fixture workbook and the demo village.

Nothing here computes an expectation through jifen_xl: the village below is literal rows, the
walks are plain Python, the sheets are read back with python-calamine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import openpyxl
import python_calamine
import pytest
from click.testing import CliRunner

from jifen_xl.cli import cli

from .lo import lo_convert, needs_lo

D = dt.date
ROOT = Path(__file__).resolve().parents[1]
YEAR = 2026

# -- the independent village, as literal rows under the contract's headers (SPEC.md) -----------------------
SETTINGS = [("区县", "沙坪坝区"), ("镇街", "青木关镇"), ("村", "关口村"), ("年度", YEAR), ("公示天数", 7),
            ("异议受理人", "郭书记"), ("联系电话", "023-65111111")]

HH_HEADERS = ["户号", "户主姓名", "户籍类型", "村民小组", "家庭人口", "联系电话", "身份证号", "状态", "上年累计积分",
              "上年可用积分", "备注"]
HOUSEHOLDS = [
    ("0101", "陈光明", "本村户籍", "一组", 4, None, None, "正常", 180, 150, None),
    ("0102", "刘桂芳", "本村户籍", "一组", 3, None, None, "正常", 60, 20, None),
    ("0103", "杨德福", "非本村户籍常住", "二组", 2, None, None, "正常", None, None, "2025年租住"),
    ("0104", "黄秀兰", "本村户籍", "二组", 5, None, None, "正常", 320, 300, None),
    ("0105", "吴老根", "本村户籍", "三组", 1, None, None, "迁出", 15, 15, "2026年1月迁出"),
]

IND_HEADERS = ["指标编码", "积分类型", "指标类别", "指标名称", "分值", "每月上限", "每年上限", "生效日期", "失效日期",
               "决议依据", "备注"]
RESOLUTION = "2026年1月2日村民代表会议"
INDICATORS = [
    ("A01", "基础积分", "人居环境", "庭院整洁", 5, None, None, D(2026, 1, 1), None, RESOLUTION, None),
    ("A02", "基础积分", "公益事业", "参加志愿服务", 3, None, None, D(2026, 1, 1), None, RESOLUTION, None),
    ("B01", "贡献积分", "表彰奖励", "获得镇级表彰", 30, None, None, D(2026, 1, 1), None, RESOLUTION, None),
    ("C01", "扣分项目", "邻里纠纷", "邻里纠纷", -10, None, None, D(2026, 1, 1), None, RESOLUTION, None),
]

MEM_HEADERS = ["姓名", "户号", "小组", "职务", "任期开始", "任期结束"]
MEMBERS = [
    ("林志强", None, "积分评议小组", "组长", D(2026, 1, 1), D(2026, 12, 31)),
    ("何丽", None, "积分评议小组", "组员", D(2026, 1, 1), D(2026, 12, 31)),
    ("马建军", None, "积分评议小组", "组员", D(2026, 1, 1), D(2026, 12, 31)),
    ("郭书记", None, "监督管理小组", "组长", D(2026, 1, 1), D(2026, 12, 31)),
    ("谢主任", None, "监督管理小组", "组员", D(2026, 1, 1), D(2026, 12, 31)),
    ("唐委员", None, "监督管理小组", "组员", D(2026, 1, 1), D(2026, 12, 31)),
]

ENT_HEADERS = ["登记编号", "日期", "户号", "户主姓名", "指标编码", "指标名称", "数量", "积分", "来源", "评议人",
               "证明材料", "状态", "备注"]
ENTRIES = [
    ("GK-01", D(2026, 1, 6), "0101", "陈光明", "A01", "庭院整洁", 1, 5, "平时发现", "林志强", None, "已确认", None),
    ("GK-02", D(2026, 1, 10), "0102", "刘桂芳", "A02", "参加志愿服务", 2, 6, "个人申报", "何丽", None, "已确认", None),
    ("GK-03", D(2026, 1, 15), "0104", "黄秀兰", "C01", "邻里纠纷", 1, -10, "群众反映", "马建军", "调解记录", "已确认", None),
    ("GK-04", D(2026, 2, 3), "0103", "杨德福", "B01", "获得镇级表彰", 1, 30, "他人报告", "林志强", "表彰文件", "已确认", None),
    # objected, corrected 5 -> 3
    ("GK-05", D(2026, 2, 12), "0102", "刘桂芳", "A01", "庭院整洁", 1, 5, "平时发现", "何丽", None, "已确认", None),
    # objected, withdrawn
    ("GK-06", D(2026, 2, 20), "0101", "陈光明", "A02", "参加志愿服务", 3, 9, "个人申报", "马建军", None, "已撤销", None),
    ("GK-07", D(2026, 3, 5), "0104", "黄秀兰", "A01", "庭院整洁", 2, 10, "平时发现", "林志强", None, "已确认", None),
    ("GK-08", D(2026, 3, 18), "0101", "陈光明", "B01", "获得镇级表彰", 1, 30, "他人报告", "何丽", "表彰文件", "已确认", None),
    ("GK-09", D(2026, 4, 8), "0103", "杨德福", "A02", "参加志愿服务", 1, 3, "个人申报", "马建军", None, "已确认", None),
    ("GK-10", D(2026, 4, 20), "0102", "刘桂芳", "A01", "庭院整洁", 2, 10, "平时发现", "林志强", None, "已确认", None),
]

OBJ_HEADERS = ["异议编号", "登记编号", "提出人", "提出日期", "异议内容", "核实人", "处理结果", "更正后积分", "处理日期",
               "备注"]
OBJECTIONS = [
    ("YY-01", "GK-05", "黄秀兰", D(2026, 2, 16), "院子只收拾了一半", "林志强、马建军", "更正", 3, D(2026, 2, 24), None),
    ("YY-02", "GK-06", "刘桂芳", D(2026, 2, 22), "那天没去", "何丽", "撤销", None, D(2026, 2, 27), None),
]

GOODS_HEADERS = ["商品编码", "商品名称", "规格", "单位", "兑换积分", "预警库存", "备注"]
GOODS = [
    ("G01", "大米", "10kg", "袋", 50, 2, None),
    ("G02", "食用油", "5L", "桶", 40, 1, None),
    ("G03", "保温杯", "500ml", "个", 15, 3, None),
    ("G04", "洗洁精", "1.5kg", "瓶", 10, None, None),
]

# 物资入库 gets a column of the clerk's own (发票号), as the contract allows.
REC_HEADERS = ["入库编号", "日期", "来源类型", "捐赠方", "商品编码", "数量", "折合金额", "经办人", "备注"]
RECEIPTS = [
    ("RK-01", D(2026, 1, 4), "财政补贴", "青木关镇人民政府", "G01", 6, 360, "唐会计", None),
    ("RK-02", D(2026, 1, 4), "企业爱心捐助", "重庆粮油有限公司", "G02", 4, 280, "唐会计", None),
    ("RK-03", D(2026, 2, 1), "社会组织捐赠", "区慈善会", "G03", 10, 250, "唐会计", None),
    ("RK-04", D(2026, 3, 2), "帮扶单位支持", "区农业农村委", "G04", 20, 160, "唐会计", None),
    ("RK-05", D(2026, 3, 20), "村集体经济收入", "关口村股份经济合作联合社", "G01", 4, 240, "唐会计", None),
    ("RK-06", D(2026, 4, 2), "其他", "爱心人士李先生", "G03", 5, 125, "唐会计", None),
]

EXC_HEADERS = ["兑换编号", "日期", "户号", "商品编码", "数量", "消耗积分", "经办人", "备注"]
EXCHANGES = [
    ("DH-01", D(2026, 1, 20), "0101", "G01", 1, 50, "唐会计", None),
    ("DH-02", D(2026, 2, 15), "0103", "G03", 2, 30, "唐会计", None),   # 0103 spends all it has: 0 left
    ("DH-03", D(2026, 3, 12), "0104", "G04", 1, 10, "唐会计", None),
    ("DH-04", D(2026, 3, 25), "0101", "G01", 2, 100, "唐会计", None),  # 上年可用积分 pays for it
    ("DH-05", D(2026, 3, 30), "0102", "G04", 2, 20, "唐会计", None),
    ("DH-06", D(2026, 4, 15), "0104", "G01", 2, 100, "唐会计", None),  # 2 bags of 50-point rice: 100
    ("DH-07", D(2026, 4, 22), "0102", "G03", 1, 15, "唐会计", None),   # needs GK-10 (04-20, 已确认)
    ("DH-08", D(2026, 4, 28), "0101", "G04", 2, 20, "唐会计", None),
]
# 积分兑换 is laid out in the clerk's own column order (the contract fixes names, not places).
EXC_LAYOUT = ["日期", "兑换编号", "商品编码", "户号", "数量", "消耗积分", "备注", "经办人"]


def _tables() -> dict[str, list[tuple]]:
    return {"households": list(HOUSEHOLDS), "indicators": list(INDICATORS), "members": list(MEMBERS),
            "entries": list(ENTRIES), "objections": list(OBJECTIONS), "goods": list(GOODS),
            "receipts": list(RECEIPTS), "exchanges": list(EXCHANGES)}


def _replace(rows: list[tuple], key: str, headers: list[str], **changes) -> list[tuple]:
    """``rows`` with the row whose first value is ``key`` changed (by header)."""
    out = []
    for row in rows:
        if row[0] == key:
            row = list(row)
            for header, value in changes.items():
                row[headers.index(header)] = value
            row = tuple(row)
        out.append(row)
    return out


def write_independent(path: Path, tables: dict[str, list[tuple]] | None = None,
                      settings: list[tuple] | None = None) -> Path:
    """The village as a clerk might build it by hand: plain sheets (no Excel tables, no
    dropdowns), a title row above 商品目录's header, an extra column in 物资入库, 积分兑换's columns
    in another order; 户号 and 编号 as text. openpyxl only, no jifen_xl code.

    :param settings: 基本信息's rows (default ``SETTINGS``; the township acceptance puts the
        village into another township)."""
    t = tables or _tables()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)

    def sheet(name, headers, rows, *, title=None, layout=None, extra=None):
        ws = wb.create_sheet(name)
        if title:
            ws.append([title])
        order = layout or headers
        ws.append(order + ([extra[0]] if extra else []))
        for i, row in enumerate(rows):
            values = dict(zip(headers, row))
            ws.append([values[h] for h in order] + ([extra[1](i)] if extra else []))
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.isdigit():
                    cell.number_format = "@"
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"

    sheet("基本信息", ["项目", "内容"], settings or SETTINGS)
    sheet("住户名册", HH_HEADERS, t["households"])
    sheet("积分指标", IND_HEADERS, t["indicators"])
    sheet("小组成员", MEM_HEADERS, t["members"])
    sheet("积分登记", ENT_HEADERS, t["entries"])
    sheet("异议处理", OBJ_HEADERS, t["objections"])
    sheet("商品目录", GOODS_HEADERS, t["goods"], title="关口村爱心超市商品目录")
    sheet("物资入库", REC_HEADERS, t["receipts"], extra=("发票号", lambda i: f"FP2026{i + 1:04d}"))
    sheet("积分兑换", EXC_HEADERS, t["exchanges"], layout=EXC_LAYOUT)
    wb.save(path)
    return path


# -- independent computations: plain Python walks over the literal rows ------------------------------------
def walk_stock(tables: dict[str, list[tuple]] | None = None) -> list[tuple]:
    """库存台账 month by month: (月份, 商品编码, 商品名称, 期初, 入库, 出库, 期末)."""
    t = tables or _tables()
    last = max(r[1].month for r in t["receipts"] + t["exchanges"])
    out, stock = [], {g[0]: 0 for g in t["goods"]}
    for m in range(1, last + 1):
        for gid, name, *_ in t["goods"]:
            got = sum(r[5] for r in t["receipts"] if r[4] == gid and r[1].month == m)
            gone = sum(x[4] for x in t["exchanges"] if x[3] == gid and x[1].month == m)
            out.append((f"{YEAR}-{m:02d}", gid, name, stock[gid], got, gone, stock[gid] + got - gone))
            stock[gid] += got - gone
    return out


def _effective_points(t: dict[str, list[tuple]]) -> list[tuple[str, dt.date, float]]:
    """(户号, 日期, points that count) of the confirmed entries, objections applied."""
    decided = {}
    for o in sorted(t["objections"], key=lambda o: o[8]):
        decided[o[1]] = o  # the latest decision stands
    out = []
    for e in t["entries"]:
        if e[11] != "已确认":
            continue
        o = decided.get(e[0])
        pts = e[7] if o is None or o[6] == "维持" else (o[7] if o[6] == "更正" else 0)
        out.append((e[2], e[1], pts))
    return out


def walk_ledger(tables: dict[str, list[tuple]] | None = None) -> dict[tuple[str, str], tuple]:
    """(月份, 户号) -> (累计积分, 累计兑换, 可用积分) for the 正常 households, January to the last
    month with a confirmed entry."""
    t = tables or _tables()
    earned = _effective_points(t)
    last = max(d.month for _, d, _ in earned)
    out = {}
    for hh in t["households"]:
        if hh[7] != "正常":
            continue
        for m in range(1, last + 1):
            got = sum(p for h, d, p in earned if h == hh[0] and d.month <= m)
            spent = sum(x[5] for x in t["exchanges"] if x[2] == hh[0] and x[1].month <= m)
            out[(f"{YEAR}-{m:02d}", hh[0])] = ((hh[8] or 0) + got, spent, (hh[9] or 0) + got - spent)
    return out


def walk_balances(tables: dict[str, list[tuple]] | None = None) -> dict[str, float]:
    """兑换编号 -> the household's spendable points right after it (its day's confirmed points
    counted, earlier exchanges and same-day earlier rows counted, 上年可用积分 included)."""
    t = tables or _tables()
    carried = {h[0]: h[9] or 0 for h in t["households"]}
    earned = _effective_points(t)
    out, spent = {}, defaultdict(float)
    for x in t["exchanges"]:
        spent[x[2]] += x[5]
        out[x[0]] = carried[x[2]] + sum(p for h, d, p in earned if h == x[2] and d <= x[1]) - spent[x[2]]
    return out


# -- reading a workbook back, not through jifen_xl --------------------------------------------------------
def read_sheet(path: Path, name: str, first_header: str) -> list[dict]:
    """A sheet's rows as dicts by header (the header row is the first row starting with
    ``first_header`` in any column); blank rows dropped."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    if name not in book.sheet_names:
        return []
    rows = book.get_sheet_by_name(name).to_python()
    top = next(i for i, r in enumerate(rows) if first_header in r)
    headers = rows[top]
    return [dict(zip(headers, r)) for r in rows[top + 1:] if any(v not in ("", None) for v in r)]


def _int(v):
    return int(v) if isinstance(v, float) and v.is_integer() else v


def stock_rows(path: Path) -> list[tuple]:
    heads = ["月份", "商品编码", "商品名称", "期初库存", "本月入库", "本月出库", "期末库存"]
    return [tuple(_int(r[h]) for h in heads) for r in read_sheet(path, "库存台账", "月份")]


def ledger_rows(path: Path) -> dict[tuple[str, str], tuple]:
    return {(r["月份"], r["户号"]): (_int(r["累计积分"]), _int(r["累计兑换"]), _int(r["可用积分"]))
            for r in read_sheet(path, "月度台账", "月份")}


def _cli(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "jifen_xl", *map(str, args)], capture_output=True, text=True,
                          env=env, check=False, timeout=300)


# -- the independent workbook, re-saved by LibreOffice -------------------------------------------------------
def test_the_walks_by_hand():
    """The walks themselves, checked against figures worked by hand in the rows' comments."""
    stock = walk_stock()
    assert stock[-4:] == [("2026-04", "G01", "大米", 7, 0, 2, 5), ("2026-04", "G02", "食用油", 4, 0, 0, 4),
                          ("2026-04", "G03", "保温杯", 8, 5, 1, 12), ("2026-04", "G04", "洗洁精", 17, 0, 2, 15)]
    led = walk_ledger()
    # 0101: 150 carried + 5 + 30 (GK-06 withdrawn) − 50 − 100 − 20 = 15; 累计 180 + 35 = 215
    assert led[("2026-04", "0101")] == (215, 170, 15)
    # 0102: 20 + 6 + 3 (corrected) + 10 − 20 − 15 = 4
    assert led[("2026-04", "0102")] == (79, 35, 4)
    # 0104: 300 − 10 + 10 − 10 − 100 = 190; 累计兑换 10 + 100 = 110 (not 60)
    assert led[("2026-04", "0104")] == (320, 110, 190)
    balances = walk_balances()
    assert balances["DH-02"] == 0 and balances["DH-07"] == 4 and min(balances.values()) == 0


@pytest.fixture(scope="module")
def resaved(tmp_path_factory) -> Path:
    """The independent workbook, re-saved by LibreOffice headless (as a clerk's LibreOffice would)."""
    folder = tmp_path_factory.mktemp("independent")
    made = write_independent(folder / "关口村.xlsx")
    return lo_convert(made, "xlsx", folder / "lo")


@needs_lo
def test_the_issues_opening_examples(resaved, tmp_path):
    """Tried as a new user would (issue 10): 2 bags of 50-point rice booked at 50 passed and 累计兑换
    showed 60 instead of 110; 12 保温杯 with 10 in stock passed; 预警库存 warned about nothing."""
    booked_at_50 = _variant(tmp_path, "rice", exchanges=_replace(EXCHANGES, "DH-06", EXC_HEADERS, 消耗积分=50))
    refused = _cli("ledger", booked_at_50)
    assert refused.returncode == 1 and "E-EXC-08" in refused.stderr and "数量 2 × 兑换积分 50 = 100" in refused.stderr
    assert ledger_rows(booked_at_50) == {}  # nothing written but 校验结果
    booked_right = shutil.copyfile(resaved, tmp_path / "right.xlsx")
    assert _cli("ledger", booked_right).returncode == 0
    assert ledger_rows(booked_right)[("2026-04", "0104")][1] == 110  # DH-03 10 + DH-06 2 × 50
    assert [f[-1] for f in _findings(_variant(tmp_path, "cups", **PLANTED["beyond_stock"][0]))] == ["E-EXC-07",
                                                                                                   "W-GDS-01"]
    assert [f[-1] for f in _findings(_variant(tmp_path, "alert", **PLANTED["low_stock"][0]), "validate")] == [
        "W-GDS-01"]


@needs_lo
def test_shop_and_ledger_on_the_independent_workbook_equal_the_walks(resaved):
    assert _cli("validate", resaved, "--json", "--dry-run").stdout.strip() == "[]"
    shop = _cli("shop", resaved, "--json", "--dry-run")
    assert shop.returncode == 0, shop.stderr
    walked = walk_stock()
    heads = ["月份", "商品编码", "商品名称", "期初库存", "本月入库", "本月出库", "期末库存"]
    assert json.loads(shop.stdout) == [dict(zip(heads, r)) for r in walked]

    done = _cli("shop", resaved)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("库存台账：4 种商品，2026年1月至4月。2026年4月的库存：\n")
    assert stock_rows(resaved) == walked

    led = _cli("ledger", resaved)
    assert led.returncode == 0, led.stdout + led.stderr
    assert ledger_rows(resaved) == walk_ledger()
    # 累计积分 never falls with an exchange: 0104 spent 110 from January to April; its 累计积分 rose
    # from 310 to 320 (GK-07, +10 in March) while its 可用积分 fell from 290 to 190
    rows = ledger_rows(resaved)
    assert (rows[("2026-01", "0104")], rows[("2026-04", "0104")]) == ((310, 0, 290), (320, 110, 190))
    # the stock ledger written before is still there, untouched by the ledger's write
    assert stock_rows(resaved) == walked
    assert reconcile(resaved) == (16, 16)


# -- reconciliation and traceability, on any workbook ---------------------------------------------------------
def _day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _month(value) -> str:
    d = _day(value)
    return f"{d.year:04d}-{d.month:02d}"


def sheet_points(path: Path) -> dict[str, list[tuple[dt.date, float]]]:
    """户号 -> [(日期, points that count)] of the 已确认 entries as the sheets hold them: the latest
    decided objection by 处理日期 stands (更正 → 更正后积分, 撤销 → 0), a blank 积分 is 数量 (blank 1) ×
    the 分值 of the catalogue row in force on the entry's date."""
    items = read_sheet(path, "积分指标", "指标编码")
    decided = {}
    for o in sorted((o for o in read_sheet(path, "异议处理", "异议编号") if o["处理结果"] in ("维持", "更正", "撤销")),
                    key=lambda o: _day(o["处理日期"])):
        decided[o["登记编号"]] = o
    out = defaultdict(list)
    for e in read_sheet(path, "积分登记", "登记编号"):
        if e["状态"] != "已确认":
            continue
        day = _day(e["日期"])
        points = e["积分"]
        if points in ("", None):
            value = next(i["分值"] for i in items if i["指标编码"] == e["指标编码"] and _day(i["生效日期"]) <= day
                         and (i["失效日期"] in ("", None) or day <= _day(i["失效日期"])))
            points = (e["数量"] if e["数量"] not in ("", None) else 1) * value
        o = decided.get(e["登记编号"])
        if o is not None and o["处理结果"] != "维持":
            points = o["更正后积分"] if o["处理结果"] == "更正" else 0
        out[e["户号"]].append((day, points))
    return out


def reconcile(path: Path) -> tuple[int, int]:
    """Check 库存台账 and 月度台账 as written in ``path`` against its own 物资入库 and 积分兑换:
    every item every month, 期初 + 入库 − 出库 = 期末, months chain, stock never below zero (on
    any day, not only at month ends); Σ 本月入库 = Σ receipts' 数量 and Σ 本月出库 = Σ exchanges'
    数量 per item (every unit traceable to a row); 累计兑换 = Σ 消耗积分 of the household's exchanges
    up to the month (every point spent traceable); 累计积分 and 可用积分 recomputed from the confirmed
    entries (objections applied) and the exchanges; no exchange takes a household's balance below
    zero on its day, and a negative 可用积分 at a month's end comes from deductions only (a
    household whose deductions outweigh its points, SPEC's formula), never from spending;
    累计积分 moves by 当月积分 only (exchanges never lower it). Returns (stock rows, ledger rows)."""
    goods = read_sheet(path, "商品目录", "商品编码")
    receipts = read_sheet(path, "物资入库", "入库编号")
    exchanges = read_sheet(path, "积分兑换", "兑换编号")
    stock = read_sheet(path, "库存台账", "月份")
    year = int(dict((r["项目"], r["内容"]) for r in read_sheet(path, "基本信息", "项目"))["年度"])

    # -- stock
    months = sorted({r["月份"] for r in stock})
    if stock:
        assert months == [f"{year}-{m:02d}" for m in range(1, len(months) + 1)]
        ids = [g["商品编码"] for g in goods]
        by_month = defaultdict(list)
        for r in stock:
            by_month[r["月份"]].append(r["商品编码"])
        assert all(sorted(v) == sorted(ids) for v in by_month.values()), "every item every month"
        last = months[-1]
        for gid in ids:
            rows = sorted((r for r in stock if r["商品编码"] == gid), key=lambda r: r["月份"])
            previous = None
            for r in rows:
                assert r["期初库存"] + r["本月入库"] - r["本月出库"] == r["期末库存"], r
                assert r["期初库存"] >= 0 and r["期末库存"] >= 0, r
                if previous is not None:
                    assert r["期初库存"] == previous["期末库存"], (previous, r)
                previous = r
            got = sum(x["数量"] for x in receipts if x["商品编码"] == gid and _month(x["日期"]) <= last)
            gone = sum(x["数量"] for x in exchanges if x["商品编码"] == gid and _month(x["日期"]) <= last)
            before = sum(x["数量"] for x in receipts if x["商品编码"] == gid and _day(x["日期"]).year < year) - sum(
                x["数量"] for x in exchanges if x["商品编码"] == gid and _day(x["日期"]).year < year)
            assert rows[0]["期初库存"] == before
            assert sum(r["本月入库"] for r in rows) + before == got
            assert sum(r["本月出库"] for r in rows) == gone
            assert rows[-1]["期末库存"] == got - gone
            # day by day: a receipt of the day first, then the day's exchanges in row order
            events = sorted([(_day(x["日期"]), 0, i, x["数量"]) for i, x in enumerate(receipts) if x["商品编码"] == gid]
                            + [(_day(x["日期"]), 1, i, -x["数量"]) for i, x in enumerate(exchanges)
                               if x["商品编码"] == gid])
            level = 0
            for *_, delta in events:
                level += delta
                assert level >= 0, (gid, events)

    # -- points
    ledger = read_sheet(path, "月度台账", "月份")
    carried = {h["户号"]: (h["上年累计积分"] or 0, h["上年可用积分"] or 0) for h in read_sheet(path, "住户名册", "户号")}
    earned = sheet_points(path)
    # spending never takes a household below zero: its balance right after each exchange, in date
    # order (same day: rows in order), with the confirmed points dated up to that day
    spent_so_far = defaultdict(float)
    for i, x in sorted(enumerate(exchanges), key=lambda p: (_day(p[1]["日期"]), p[0])):
        hh, day = x["户号"], _day(x["日期"])
        spent_so_far[hh] += x["消耗积分"]
        balance = carried[hh][1] + sum(p for d, p in earned[hh] if d <= day) - spent_so_far[hh]
        assert balance >= -1e-9, (x, balance)
    previous = {}
    for r in sorted(ledger, key=lambda r: r["月份"]):
        hh, month = r["户号"], r["月份"]
        spent = sum(x["消耗积分"] for x in exchanges
                    if x["户号"] == hh and _day(x["日期"]).year == year and _month(x["日期"]) <= month)
        assert r["累计兑换"] == pytest.approx(spent), r
        total, avail = carried[hh]
        points = sum(p for d, p in earned[hh] if d.year == year and _month(d) <= month)
        assert r["累计积分"] == pytest.approx(total + points), r
        assert r["可用积分"] == pytest.approx(avail + points - spent), r
        # a negative 可用积分 comes from deductions, never from spending
        assert r["可用积分"] >= min(0, avail + points) - 1e-9, r
        assert r["累计积分"] == pytest.approx(previous.get(hh, total) + r["当月积分"]), r
        previous[hh] = r["累计积分"]
    if ledger:  # every exchange of a settled month is in some household's 累计兑换
        settled = max(r["月份"] for r in ledger)
        last_rows = [r for r in ledger if r["月份"] == settled]
        assert sum(r["累计兑换"] for r in last_rows) == pytest.approx(
            sum(x["消耗积分"] for x in exchanges if _day(x["日期"]).year == year and _month(x["日期"]) <= settled))
    return len(stock), len(ledger)


# -- one planted mistake per check of the issue, each with its exact message -----------------------------------
def _variant(tmp_path: Path, name: str, **tables) -> Path:
    t = _tables()
    t.update(tables)
    return write_independent(tmp_path / f"{name}.xlsx", t)


def _findings(book: Path, command: str = "shop") -> list[tuple]:
    """The findings ``jifen-xl COMMAND BOOK --json --dry-run`` prints on standard output."""
    res = CliRunner().invoke(cli, [command, str(book), "--json", "--dry-run"])
    records = json.loads(res.stdout)
    assert res.exit_code == (1 if any(r["级别"] == "错误" for r in records) else 0), res.output
    return [tuple(r[h] for h in ["级别", "工作表", "行号", "列名", "问题说明", "修改建议", "规则编号"]) for r in records]


PLANTED = {
    # unknown 商品编码 (an exchange's and a receipt's)
    "unknown_goods": (
        dict(exchanges=_replace(EXCHANGES, "DH-08", EXC_HEADERS, 商品编码="G09")),
        [("错误", "积分兑换", 9, "商品编码", "商品编码「G09」不在「商品目录」中", "请从下拉列表选择商品编码", "E-EXC-02")]),
    "unknown_goods_received": (
        dict(receipts=_replace(RECEIPTS, "RK-06", REC_HEADERS, 商品编码="G9")),
        [("错误", "物资入库", 7, "商品编码", "商品编码「G9」不在「商品目录」中", "请填写「商品目录」中已有的商品编码", "E-REF")]),
    # 数量 not a positive whole number
    "fractional_quantity": (
        dict(exchanges=_replace(EXCHANGES, "DH-07", EXC_HEADERS, 数量=1.5)),
        [("错误", "积分兑换", 8, "数量", "数量 1.5 不是正整数", "兑换数量填 1、2、3 这样的正整数", "E-EXC-05")]),
    "zero_received": (
        dict(receipts=_replace(RECEIPTS, "RK-04", REC_HEADERS, 数量=0)),
        [("错误", "物资入库", 5, "数量", "「数量」0 不合理，应为正整数", "请改为正整数", "E-RANGE")]),
    # a receipt without 来源类型 or 捐赠方
    "no_source": (
        dict(receipts=_replace(RECEIPTS, "RK-02", REC_HEADERS, 来源类型=None)),
        [("错误", "物资入库", 3, "来源类型", "「来源类型」不能为空", "请填写「来源类型」", "E-REQ")]),
    "no_donor": (
        dict(receipts=_replace(RECEIPTS, "RK-03", REC_HEADERS, 捐赠方=None)),
        [("错误", "物资入库", 4, "捐赠方", "入库「RK-03」没有填写捐赠方",
          "请填写提供物资或资金的单位或个人（财政补贴填拨款单位，如区财政局、镇人民政府）", "E-RCV-01")]),
    # an exchange that would take stock below zero on its date: 12 保温杯 with 10 in stock
    "beyond_stock": (
        dict(exchanges=EXCHANGES + [("DH-09", D(2026, 2, 10), "0104", "G03", 12, 180, "唐会计", None)]),
        [("错误", "积分兑换", 10, "数量",
          "兑换「DH-09」换出「保温杯」（G03）12 个，但 2026-02-10 当天库存只有 10 个，兑换后库存为负",
          "请先在「物资入库」登记这批物资的入库（入库日期不晚于兑换日期），或核对这次兑换的商品编码、数量和日期",
          "E-EXC-07"),
         # and, the 12 counted, 保温杯 ends April at 10 − 12 − 2 + 5 − 1 = 0
         ("警告", "商品目录", 5, "预警库存", "「保温杯」（G03）2026-04 月末库存为 0，不高于预警库存 3",
          "请及时补货，到货后在「物资入库」登记入库", "W-GDS-01")]),
    # an exchange that would take 可用积分 below zero: GK-10 (04-20) still 公示中, so 0102 has 4 − 10 = −6
    # after DH-07 (only 已确认 points are spendable)
    "unconfirmed_points": (
        dict(entries=_replace(ENTRIES, "GK-10", ENT_HEADERS, 状态="公示中")),
        [("错误", "积分兑换", 8, "消耗积分", "户号「0102」兑换后可用积分为 -6，积分不足",
          "只能用已确认的积分兑换；请核对兑换数量或日期", "E-EXC-03")]),
    # without 上年可用积分 0101 could not afford its rice
    "no_carried_points": (
        dict(households=_replace(HOUSEHOLDS, "0101", HH_HEADERS, 上年可用积分=0)),
        [("错误", "积分兑换", 2, "消耗积分", "户号「0101」兑换后可用积分为 -45，积分不足",
          "只能用已确认的积分兑换；请核对兑换数量或日期", "E-EXC-03")]),
    # 消耗积分 ≠ 数量 × 兑换积分: 2 bags of 50-point rice booked at 50
    "mispriced": (
        dict(exchanges=_replace(EXCHANGES, "DH-06", EXC_HEADERS, 消耗积分=50)),
        [("错误", "积分兑换", 7, "消耗积分", "消耗积分 50 与数量 2 × 兑换积分 50 = 100 不符",
          "请把消耗积分改为 100（「商品目录」中「大米」每袋兑换积分为 50）", "E-EXC-08")]),
    # an exchange by a household that has left
    "departed": (
        dict(exchanges=_replace(EXCHANGES, "DH-08", EXC_HEADERS, 户号="0105", 数量=1, 消耗积分=10)),
        [("错误", "积分兑换", 9, "户号", "户号「0105」（吴老根）在「住户名册」中的状态是「迁出」，已不能兑换",
          "请核对户号是否填错；该户确已迁出或注销的，这次兑换不能记在该户名下，请删除这一行", "E-EXC-09")]),
    # an item at or below 预警库存 (警告): 大米 ends April at 5
    "low_stock": (
        dict(goods=_replace(GOODS, "G01", GOODS_HEADERS, 预警库存=5)),
        [("警告", "商品目录", 3, "预警库存", "「大米」（G01）2026-04 月末库存为 5，不高于预警库存 5",
          "请及时补货，到货后在「物资入库」登记入库", "W-GDS-01")]),
}


@pytest.mark.parametrize("case", list(PLANTED))
def test_each_planted_mistake_gives_its_exact_message(tmp_path, case):
    tables, expected = PLANTED[case]
    book = _variant(tmp_path, case, **tables)
    assert _findings(book, "validate") == expected
    if expected[0][0] == "错误":  # shop refuses with the same findings, on standard output
        assert _findings(book, "shop") == expected


# -- reconciliation over every fixture workbook and the demo -------------------------------------------------------
def _shop_and_ledger(book: Path) -> None:
    for command in ("shop", "ledger"):
        res = CliRunner().invoke(cli, [command, str(book)])
        assert res.exit_code == 0, res.output


def test_the_small_village_reconciles(tmp_path):
    """tests/village_data.py, built by the toolkit's template builder."""
    from .conftest import build

    book = build(tmp_path / "永宁寺村.xlsx")
    _shop_and_ledger(book)
    assert reconcile(book) == (6, 15)  # 2 items × 3 months; 5 households × 3 settled months


def test_the_rich_workbook_is_refused_and_its_stock_ledger_left_as_it_was(rich):
    """fixtures_rich carries planted errors (formulas without results, scorers not in the groups)
    and no supermarket rows: shop refuses, prints the same findings as validate on standard
    output, and leaves its 库存台账 (an old row that reconciles by itself) untouched."""
    before = read_sheet(rich, "库存台账", "月份")
    assert before == [{"月份": "2025-02", "商品编码": "G01", "商品名称": "洗衣粉", "期初库存": 10, "本月入库": 5,
                       "本月出库": 3, "期末库存": 12}]
    checked = _cli("validate", rich, "--json", "--dry-run")
    shop = _cli("shop", rich, "--json")
    assert shop.returncode == 1 and checked.returncode == 1
    assert json.loads(shop.stdout) == json.loads(checked.stdout) and len(json.loads(shop.stdout)) == 9
    assert shop.stderr == "错误：工作簿有 9 个错误，没有生成「库存台账」，问题已写入「校验结果」工作表。请先按上面列出的问题改正后重试。\n"
    assert read_sheet(rich, "库存台账", "月份") == before
    assert len(read_sheet(rich, "校验结果", "级别")) == 9


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> tuple[Path, str]:
    """``jifen-xl demo DIR --households 60 --seed 7``: the demo's whole cycle on a smaller village."""
    folder = tmp_path_factory.mktemp("demo") / "示范"
    res = _cli("demo", folder, "--households", 60, "--seed", 7)
    assert res.returncode == 0, res.stdout + res.stderr
    return folder, res.stdout


def test_the_demo_reconciles_and_says_its_months_in_one_style(small_demo):
    folder, out = small_demo
    clean = folder / "永宁寺村-2026.xlsx"
    shop_line = next(line for line in out.splitlines() if line.startswith("爱心超市：「库存台账」已写入"))
    goods = read_sheet(clean, "商品目录", "商品编码")
    stock = read_sheet(clean, "库存台账", "月份")
    closing = sum(r["期末库存"] for r in stock if r["月份"] == "2026-12")
    assert shop_line == (f"爱心超市：「库存台账」已写入，{len(goods)} 种商品，2026年1月至12月，期末库存合计 {closing:g}"
                         f"（jifen-xl shop 重新生成）。")
    n_stock, n_ledger = reconcile(clean)  # as the demo left it: 12 months of stock, 11 closed months
    assert n_stock == 12 * len(goods) and n_ledger > 11 * 40
    exchanges = read_sheet(clean, "积分兑换", "兑换编号")
    assert len(exchanges) > 50 and sum(r["本月出库"] for r in stock) == sum(x["数量"] for x in exchanges)


def test_the_demo_with_mistakes_is_refused_by_shop_on_stdout(small_demo):
    """The demo's copy with planted mistakes: shop --json lists exactly what validate --json lists,
    among them the supermarket's planted mistakes, and writes no 库存台账."""
    folder, _ = small_demo
    wrong = folder / "永宁寺村-2026-有错误.xlsx"
    shop = _cli("shop", wrong, "--json", "--dry-run")
    checked = _cli("validate", wrong, "--json", "--dry-run")
    assert shop.returncode == 1 and json.loads(shop.stdout) == json.loads(checked.stdout)
    assert {"E-EXC-08", "E-EXC-09", "E-RCV-01"} <= {f["规则编号"] for f in json.loads(shop.stdout)}
    assert "没有生成「库存台账」（按 --dry-run 没有写入工作簿）" in shop.stderr
    assert read_sheet(wrong, "库存台账", "月份") == []


def test_the_demo_village_at_full_size_reconciles(tmp_path):
    """The demo's village (320 households, seed 2026) with January–November settled by hand, so its
    月度台账 has eleven months: before the demo reserved the year's deductions, household 0193
    spent 50 of its 58 carried points in February and a June deduction left it at −2."""
    from jifen_xl.demo import generate_village
    from jifen_xl.io.template import build_workbook

    settings, tables = generate_village(settled_months=11)
    book = build_workbook(tmp_path / "永宁寺村-2026.xlsx", settings, tables)
    _shop_and_ledger(book)
    n_stock, n_ledger = reconcile(book)
    assert n_stock == 12 * 14 and n_ledger > 11 * 300
    spenders = {x["户号"] for x in read_sheet(book, "积分兑换", "兑换编号")}
    assert len(spenders) > 100
    assert all(r["可用积分"] >= 0 for r in read_sheet(book, "月度台账", "月份") if r["户号"] in spenders)


def test_reconcile_fails_on_a_ledger_that_does_not_add_up(tmp_path):
    """The checker itself: one figure changed in 库存台账 or 月度台账 is caught."""
    from .conftest import build

    book = build(tmp_path / "永宁寺村.xlsx")
    _shop_and_ledger(book)
    for sheet, header, row in (("库存台账", "期末库存", 3), ("月度台账", "累计兑换", 2), ("月度台账", "可用积分", 4)):
        copy = shutil.copyfile(book, tmp_path / f"{sheet}{header}.xlsx")
        wb = openpyxl.load_workbook(copy)
        ws = wb[sheet]
        col = [c.value for c in ws[1]].index(header) + 1
        ws.cell(row, col).value = (ws.cell(row, col).value or 0) + 1
        wb.save(copy)
        with pytest.raises(AssertionError):
            reconcile(copy)


def test_shop_shows_its_low_stock_warning_and_counts_the_others(tmp_path):
    """The clerk running shop sees each item at or below 预警库存 where the stock is shown; other
    warnings (here 上年可用积分 above 上年累计积分, W-HH-02) are counted with a pointer to validate."""
    book = _variant(tmp_path, "low", goods=_replace(GOODS, "G01", GOODS_HEADERS, 预警库存=5),
                    households=_replace(HOUSEHOLDS, "0103", HH_HEADERS, 上年累计积分=10, 上年可用积分=20))
    res = _cli("shop", book, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-2:] == [
        "库存预警（「商品目录」第 3 行）：「大米」（G01）2026-04 月末库存为 5，不高于预警库存 5。请及时补货，到货后在「物资入库」登记入库。",
        "另有 1 个警告，可运行 jifen-xl validate 查看。"]
    assert [f[-1] for f in _findings(book, "validate")] == ["W-HH-02", "W-GDS-01"]


def test_a_clerks_typing_gives_the_same_ledgers(tmp_path):
    """The same village typed as clerks type: quantities as text and in full-width digits, a date
    typed as text in two styles, a 户号 typed as the number 101 shown through 0000, a 商品编码 with
    spaces around it, a blank row and a 合计 row under 积分兑换. Same 库存台账, same 月度台账."""
    book = write_independent(tmp_path / "手工.xlsx")
    wb = openpyxl.load_workbook(book)
    ex, rec = wb["积分兑换"], wb["物资入库"]
    col = {h: i + 1 for i, h in enumerate(c.value for c in ex[1])}
    row = {ex.cell(r, col["兑换编号"]).value: r for r in range(2, ex.max_row + 1)}
    ex.cell(row["DH-04"], col["数量"]).value = "2"
    ex.cell(row["DH-06"], col["数量"]).value = "２"
    ex.cell(row["DH-06"], col["消耗积分"]).value = "１００"
    typed = ex.cell(row["DH-01"], col["户号"])
    typed.value, typed.number_format = 101, "0000"
    ex.cell(row["DH-05"], col["日期"]).value = "2026年3月30日"
    ex.cell(row["DH-08"], col["商品编码"]).value = " G04 "
    ex.insert_rows(row["DH-05"])  # a blank row between DH-04 and DH-05
    last = ex.max_row + 1
    ex.cell(last, col["兑换编号"]).value = "合计"
    ex.cell(last, col["数量"]).value = sum(x[4] for x in EXCHANGES)
    ex.cell(last, col["消耗积分"]).value = sum(x[5] for x in EXCHANGES)
    rcol = {h: i + 1 for i, h in enumerate(c.value for c in rec[1])}
    rec.cell(4, rcol["数量"]).value = "10"           # RK-03
    rec.cell(5, rcol["日期"]).value = "2026/3/2"     # RK-04
    wb.save(book)
    assert _findings(book, "validate") == []
    _shop_and_ledger(book)
    assert stock_rows(book) == walk_stock()
    assert ledger_rows(book) == walk_ledger()
