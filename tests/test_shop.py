"""The love supermarket (issue 10, first slice): its checks and its stock ledger (库存台账), from the CLI.

Figures are worked by hand from tests/village_data.py: 大米 (SP-01) 30 received on 2026-01-02, 1
exchanged on 01-25 (DH-01); 洗衣粉 (SP-02) 50 received on 01-02, 2 exchanged on 03-15 (DH-02).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.core.catalogue import default_catalogue
from jifen_xl.core.stock import compute_stock, stock_records

from . import village_data as V
from .conftest import TODAY, build
from .lo import lo_convert, needs_lo
from .test_validate import add, edit

D = dt.date
ROOT = Path(__file__).resolve().parents[1]

# (月份, 商品编码, 商品名称, 期初库存, 本月入库, 本月出库, 期末库存), worked by hand
FIXTURE_STOCK = [
    ("2026-01", "SP-01", "大米", 0, 30, 1, 29),
    ("2026-01", "SP-02", "洗衣粉", 0, 50, 0, 50),
    ("2026-02", "SP-01", "大米", 29, 0, 0, 29),
    ("2026-02", "SP-02", "洗衣粉", 50, 0, 0, 50),
    ("2026-03", "SP-01", "大米", 29, 0, 0, 29),
    ("2026-03", "SP-02", "洗衣粉", 50, 0, 2, 48),
]


def _typed(tables: dict) -> dict:
    out = dict(tables)
    for key in ("receipts", "exchanges"):
        out[key] = tables[key].assign(date=pd.to_datetime(tables[key]["date"]),
                                      qty=tables[key]["qty"].astype("float64"))
    return out


def _rows(stock: pd.DataFrame) -> list[tuple]:
    return [tuple(r.values()) for r in stock_records(stock)]


# -- the ledger, pure -------------------------------------------------------------------------------
def test_the_fixture_ledger_reconciles_by_hand():
    t = _typed(V.village_tables())
    stock = compute_stock(t["goods"], t["receipts"], t["exchanges"], 2026)
    assert _rows(stock) == FIXTURE_STOCK
    assert (stock["opening"] + stock["received"] - stock["issued"] == stock["closing"]).all()


def test_a_given_month_runs_on_with_every_item_and_months_chain():
    t = _typed(V.village_tables())
    stock = compute_stock(t["goods"], t["receipts"], t["exchanges"], 2026, pd.Period("2026-05", "M"))
    assert _rows(stock)[-4:] == [
        ("2026-04", "SP-01", "大米", 29, 0, 0, 29), ("2026-04", "SP-02", "洗衣粉", 48, 0, 0, 48),
        ("2026-05", "SP-01", "大米", 29, 0, 0, 29), ("2026-05", "SP-02", "洗衣粉", 48, 0, 0, 48),
    ]
    by_item = stock.groupby("goods_id")
    assert (by_item["opening"].apply(lambda s: s.iloc[1:].to_numpy())
            .combine(by_item["closing"].apply(lambda s: s.iloc[:-1].to_numpy()), lambda a, b: (a == b).all())).all()
    # an earlier month leaves later movements out
    feb = compute_stock(t["goods"], t["receipts"], t["exchanges"], 2026, pd.Period("2026-02", "M"))
    assert _rows(feb) == FIXTURE_STOCK[:4]


def test_nothing_received_or_exchanged_gives_an_empty_ledger():
    t = _typed(V.village_tables())
    stock = compute_stock(t["goods"], t["receipts"].iloc[:0], t["exchanges"].iloc[:0], 2026)
    assert stock.empty and list(stock.columns) == S.STOCK.fields


# -- the checks, each with its exact message ------------------------------------------------------------
def _findings(tmp_path, mutate, rule):
    book = build(tmp_path / f"村{len(list(tmp_path.glob('*.xlsx')))}.xlsx", mutate(V.village_tables()))
    _, report = app.check(app.open_backend(book), today=TODAY)
    return [(p.level, p.sheet, p.row, p.column, p.message, p.fix) for p in report.problems if p.rule == rule]


def test_the_fixture_has_no_supermarket_finding(tmp_path):
    book = build(tmp_path / "村.xlsx")
    _, report = app.check(app.open_backend(book), today=TODAY)
    assert not report.problems


def test_an_exchange_beyond_the_stock_on_its_date(tmp_path):
    got = _findings(tmp_path, lambda t: edit(t, "receipts", 0, date=D(2026, 2, 1)), "E-EXC-07")
    assert got == [("错误", "积分兑换", 2, "数量",
                    "兑换「DH-01」换出「大米」（SP-01）1 袋，但 2026-01-25 当天库存只有 0 袋，兑换后库存为负",
                    "请先在「物资入库」登记这批物资的入库（入库日期不晚于兑换日期），或核对这次兑换的商品编码、数量和日期")]


def test_a_receipt_on_the_day_of_the_exchange_is_in_stock_for_it(tmp_path):
    assert _findings(tmp_path, lambda t: edit(t, "receipts", 0, date=D(2026, 1, 25)), "E-EXC-07") == []


def test_points_not_quantity_times_price(tmp_path):
    got = _findings(tmp_path, lambda t: edit(t, "exchanges", 0, points=25), "E-EXC-08")
    assert got == [("错误", "积分兑换", 2, "消耗积分", "消耗积分 25 与数量 1 × 兑换积分 20 = 20 不符",
                    "请把消耗积分改为 20（「商品目录」中「大米」每袋兑换积分为 20）")]


def test_an_exchange_by_a_household_that_left(tmp_path):
    got = _findings(tmp_path, lambda t: edit(t, "exchanges", 0, hh_id="0005"), "E-EXC-09")
    assert got == [("错误", "积分兑换", 2, "户号", "户号「0005」（孙老汉）在「住户名册」中的状态是「迁出」，已不能兑换",
                    "请核对户号是否填错；该户确已迁出或注销的，这次兑换不能记在该户名下，请删除这一行")]


def test_a_receipt_without_donor_or_source(tmp_path):
    got = _findings(tmp_path, lambda t: edit(t, "receipts", 0, donor=None), "E-RCV-01")
    assert got == [("错误", "物资入库", 2, "捐赠方", "入库「RK-01」没有填写捐赠方",
                    "请填写提供物资或资金的单位或个人（财政补贴填拨款单位，如区财政局、镇人民政府）")]
    book = build(tmp_path / "来源.xlsx", edit(V.village_tables(), "receipts", 1, funding=None))
    _, report = app.check(app.open_backend(book), today=TODAY)
    assert [(p.level, p.sheet, p.row, p.column) for p in report.problems] == [("错误", "物资入库", 3, "来源类型")]


def test_stock_at_or_below_its_alert_level(tmp_path):
    got = _findings(tmp_path, lambda t: edit(t, "goods", 1, alert_level=48), "W-GDS-01")
    assert got == [("警告", "商品目录", 3, "预警库存", "「洗衣粉」（SP-02）2026-03 月末库存为 48，不高于预警库存 48",
                    "请及时补货，到货后在「物资入库」登记入库")]
    assert _findings(tmp_path, lambda t: edit(t, "goods", 1, alert_level=47), "W-GDS-01") == []


def test_only_confirmed_points_are_spent_and_same_day_exchanges_go_by_row(tmp_path):
    """0002 has 50 carried + 2 (Jan) + 3 (Feb) confirmed = 55; its April +30 is still 公示中.
    On 05-10 it exchanges 2 bags of rice (40: 15 left), then, on the next row, 1 more (20: -5)."""
    two = lambda t: add(t, "exchanges",  # noqa: E731
                        ("DH-03", D(2026, 5, 10), "0002", "SP-01", 2, 40, "王文书", None),
                        ("DH-04", D(2026, 5, 10), "0002", "SP-01", 1, 20, "王文书", None))
    got = _findings(tmp_path, two, "E-EXC-03")
    assert got == [("错误", "积分兑换", 5, "消耗积分", "户号「0002」兑换后可用积分为 -5，积分不足",
                    "只能用已确认的积分兑换；请核对兑换数量或日期")]
    # the same two exchanges in the other row order: the 20 first leaves 35, then 40 overspends
    swapped = lambda t: add(t, "exchanges",  # noqa: E731
                            ("DH-03", D(2026, 5, 10), "0002", "SP-01", 1, 20, "王文书", None),
                            ("DH-04", D(2026, 5, 10), "0002", "SP-01", 2, 40, "王文书", None))
    assert [g[2] for g in _findings(tmp_path, swapped, "E-EXC-03")] == [5]


# -- the CLI ---------------------------------------------------------------------------------------------
def _cli(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "jifen_xl", *map(str, args)], capture_output=True, text=True,
                          env=env, check=False, timeout=300)


def _sheet_rows(book: Path, name: str) -> list[tuple]:
    wb = openpyxl.load_workbook(book, data_only=True, read_only=True)
    try:
        if name not in wb.sheetnames:
            return []
        rows = [tuple(r) for r in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()
    return [r for r in rows[1:] if any(v is not None for v in r)]


def test_shop_writes_the_stock_ledger_and_prints_it_as_json(tmp_path):
    book = build(tmp_path / "村.xlsx")
    dry = _cli("shop", book, "--json", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == [dict(zip(S.STOCK.headers, r)) for r in FIXTURE_STOCK]
    assert _sheet_rows(book, S.STOCK.name) == []  # --dry-run wrote nothing
    done = _cli("shop", book, "--month", "2026-04")
    assert done.returncode == 0, done.stderr
    assert "已写入" in done.stdout
    written = [(m, g, n, *map(int, rest)) for m, g, n, *rest in _sheet_rows(book, S.STOCK.name)]
    assert written == FIXTURE_STOCK + [("2026-04", "SP-01", "大米", 29, 0, 0, 29),
                                       ("2026-04", "SP-02", "洗衣粉", 48, 0, 0, 48)]


def test_shop_refuses_a_workbook_with_errors_and_writes_only_the_findings(tmp_path):
    book = build(tmp_path / "村.xlsx", edit(V.village_tables(), "exchanges", 0, points=25))
    res = _cli("shop", book, "--json")
    assert res.returncode == 1
    findings = json.loads(res.stdout)  # on standard output, as validate --json prints them
    assert [(f["规则编号"], f["工作表"], f["行号"]) for f in findings] == [("E-EXC-08", "积分兑换", 2)]
    assert set(findings[0]) == set(S.FINDING_HEADERS)
    assert _sheet_rows(book, S.STOCK.name) == []
    assert [r[-1] for r in _sheet_rows(book, S.FINDINGS.name)] == ["E-EXC-08"]
    text = _cli("shop", book)
    assert text.returncode == 1 and "没有生成「库存台账」" in text.stderr and "E-EXC-08" in text.stderr


def test_shop_help_is_chinese():
    res = _cli("shop", "--help")
    assert res.returncode == 0 and "库存台账" in res.stdout and "--month" in res.stdout


# -- an independent workbook, re-saved by LibreOffice ------------------------------------------------------
GOODS = [("SP-01", "大米", "10kg", "袋", 20, 5, None), ("SP-02", "洗衣粉", "2kg", "袋", 5, 10, None),
         ("SP-03", "毛巾", None, "条", 3, None, None)]
RECEIPTS = [("RK-01", D(2026, 1, 2), "财政补贴", "中梁镇人民政府", "SP-01", 10, 550, "王文书", None),
            ("RK-02", D(2026, 1, 2), "企业爱心捐助", "兴旺超市", "SP-02", 30, 540, "王文书", None),
            ("RK-03", D(2026, 3, 5), "村集体经济收入", "永宁寺村股份经济合作联合社", "SP-01", 5, 275, "王文书", None),
            ("RK-04", D(2026, 4, 1), "社会组织捐赠", "区慈善会", "SP-03", 20, 160, "王文书", None)]
EXCHANGES = [("DH-01", D(2026, 1, 25), "0001", "SP-01", 2, 40, "王文书", None),
             ("DH-02", D(2026, 2, 10), "0002", "SP-02", 3, 15, "王文书", None),
             ("DH-03", D(2026, 3, 5), "0001", "SP-01", 1, 20, "王文书", None),
             ("DH-04", D(2026, 4, 20), "0002", "SP-03", 4, 12, "王文书", None),
             ("DH-05", D(2026, 4, 20), "0001", "SP-02", 2, 10, "王文书", None)]


def _write_with_openpyxl(path: Path) -> Path:
    """Every contract sheet as plain rows (header on row 1), no tables, no toolkit code."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    kv = wb.create_sheet(S.SETTINGS.name)
    kv.append(["项目", "内容"])
    for col in S.SETTINGS.kv_rows:
        kv.append([col.header, V.SETTINGS.get(col.field)])
    cat = default_catalogue(V.SETTINGS["year"])
    cat_rows = [[None if (isinstance(v, float) and v != v) else (v.date() if hasattr(v, "date") else v) for v in rec]
                for rec in cat.itertuples(index=False)]
    data = {S.HOUSEHOLDS: V.HOUSEHOLDS, S.INDICATORS: cat_rows, S.MEMBERS: V.MEMBERS, S.ENTRIES: V.ENTRIES,
            S.OBJECTIONS: V.OBJECTIONS, S.GOODS: GOODS, S.RECEIPTS: RECEIPTS, S.EXCHANGES: EXCHANGES}
    for spec, rows in data.items():
        ws = wb.create_sheet(spec.name)
        ws.append(spec.headers)
        for row in rows:
            ws.append(list(row))
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.isdigit():
                    cell.number_format = "@"
    wb.save(path)
    return path


def _independent_stock() -> list[tuple]:
    """库存台账 walked month by month in plain Python."""
    last = max(r[1] for r in RECEIPTS + EXCHANGES).month
    out, stock = [], {g[0]: 0 for g in GOODS}
    for m in range(1, last + 1):
        for gid, name, *_ in GOODS:
            got = sum(r[5] for r in RECEIPTS if r[4] == gid and r[1].month == m)
            gone = sum(x[4] for x in EXCHANGES if x[3] == gid and x[1].month == m)
            out.append((f"2026-{m:02d}", gid, name, stock[gid], got, gone, stock[gid] + got - gone))
            stock[gid] += got - gone
    return out


@needs_lo
def test_an_independent_workbook_resaved_by_libreoffice(tmp_path):
    made = _write_with_openpyxl(tmp_path / "外来.xlsx")
    book = lo_convert(made, "xlsx", tmp_path / "lo")
    res = _cli("shop", book)
    assert res.returncode == 0, res.stdout + res.stderr
    written = [(m, g, n, *map(int, rest)) for m, g, n, *rest in _sheet_rows(book, S.STOCK.name)]
    expected = _independent_stock()
    assert written == expected
    assert expected[-3:] == [("2026-04", "SP-01", "大米", 12, 0, 0, 12), ("2026-04", "SP-02", "洗衣粉", 27, 0, 2, 25),
                             ("2026-04", "SP-03", "毛巾", 0, 20, 4, 16)]


@pytest.mark.parametrize("month", ["2026-13", "2025-03"])
def test_shop_refuses_a_month_it_cannot_read(tmp_path, month):
    book = build(tmp_path / "村.xlsx")
    res = _cli("shop", book, "--month", month)
    assert res.returncode == 1 and "月份" in res.stderr
