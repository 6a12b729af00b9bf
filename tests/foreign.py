"""A village workbook written by other means than the toolkit (plain openpyxl, as a clerk or
another program would), following the exchange contract with the variations clerks produce:

- a merged title row above each header row, columns in another order, an extra column,
- blank rows between data rows, a header cell merged over two columns,
- full-width digits (２), numbers stored as text, dates typed as text in four forms and as serials,
- 户号 typed as numbers in some sheets and as text in others,
- 积分 as formulas (openpyxl stores no cached value: LibreOffice computes them on re-save).

Household ids are 101..106 here (0001 -> 101) because a number cannot keep leading zeros.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from jifen_xl import schema as S

from . import village_data as V

DATE_FORMS = (
    lambda d: f"{d.year}-{d.month:02d}-{d.day:02d}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: d,  # a real date cell
    lambda d: (d - dt.date(1899, 12, 30)).days,  # a bare serial number
)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def hh(old: str | None):
    return None if old is None else str(100 + int(old))


#: The planted mistakes, as (level, sheet, 登记编号, column, rule); rows depend on the layout.
PLANTED = {("警告", "积分登记", "2026-006", "户主姓名", "W-ENT-08"), ("警告", "积分登记", "2026-003", "证明材料", "W-ENT-15")}


def expected_ledger() -> dict:
    return {m: {hh(k): v for k, v in rows.items()} for m, rows in V.EXPECTED.items()}


def _sheet(wb, spec: S.SheetSpec, rows: list[list], rng: random.Random, extra: str = "村里备注"):
    ws = wb.create_sheet(spec.name)
    headers = spec.headers[:]
    order = headers[:]
    rng.shuffle(order)
    order.append(extra)
    ws.cell(1, 1, f"{V.SETTINGS['village']}{spec.name}（{V.SETTINGS['year']}年）")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(order))
    for j, h in enumerate(order, start=1):
        ws.cell(2, j, h)
    r = 3
    for i, row in enumerate(rows):
        values = dict(zip(headers, row))
        for j, h in enumerate(order, start=1):
            v = values.get(h)
            if v is not None:
                ws.cell(r, j, v)
        r += 2 if i % 3 == 1 else 1  # blank rows now and then
    for j in range(1, len(order) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 12
    return ws, order


def write_foreign_workbook(path: Path, *, seed: int = 3) -> Path:
    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    kv = wb.create_sheet(S.SETTINGS.name)
    kv.append(["项目", "内容"])
    for col in S.SETTINGS.kv_rows:
        value = V.SETTINGS.get(col.field)
        kv.append([col.header, str(value).translate(FULL_WIDTH) if col.field == "year" else value])

    households = [[hh(h[0])] + list(h[1:]) for h in V.HOUSEHOLDS]
    for row in households:
        row[8] = None if row[8] is None else str(row[8])  # 上年累计积分 stored as text
    _sheet(wb, S.HOUSEHOLDS, households, rng)

    from jifen_xl.core.catalogue import default_catalogue

    cat = default_catalogue(V.SETTINGS["year"])
    cat_rows = [[None if (isinstance(v, float) and v != v) else v for v in rec] for rec in cat.itertuples(index=False)]
    for row in cat_rows:
        row[7] = row[7].date() if hasattr(row[7], "date") else row[7]
    _sheet(wb, S.INDICATORS, cat_rows, rng)
    _sheet(wb, S.MEMBERS, [[m[0], int(hh(m[1])) if m[1] else None] + list(m[2:]) for m in V.MEMBERS], rng)

    entry_rows = []
    for i, e in enumerate(V.ENTRIES):
        row = list(e)
        if e[0] == "2026-006":
            row[3] = "赵晓红"  # planted: 户主姓名 differs from the registry (W-ENT-08)
        if e[0] == "2026-003":
            row[10] = None  # planted: a deduction without 证明材料 (W-ENT-15)
        row[1] = DATE_FORMS[i % len(DATE_FORMS)](e[1])
        row[2] = int(hh(e[2]))  # 户号 typed as a number
        if e[6] is not None and e[0] != "2026-001":
            row[6] = str(e[6]).translate(FULL_WIDTH)  # 数量 in full-width digits, as text
        entry_rows.append(row)
    ws, order = _sheet(wb, S.ENTRIES, entry_rows, rng)
    # 积分 of the first entry as a formula (=数量 × 3) with no cached value
    qty_col = get_column_letter(order.index("数量") + 1)
    pts_col = order.index("积分") + 1
    first = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, order.index("登记编号") + 1).value == "2026-001")
    ws.cell(first, pts_col, f"={qty_col}{first}*3")
    # the last header cell merged over the clerk's extra column next to it
    ws.merge_cells(start_row=2, start_column=len(order) - 1, end_row=2, end_column=len(order))

    _sheet(wb, S.OBJECTIONS, [list(o) for o in V.OBJECTIONS], rng)
    _sheet(wb, S.LEDGER, [], rng)
    _sheet(wb, S.GOODS, [list(g) for g in V.GOODS], rng)
    _sheet(wb, S.RECEIPTS, [list(r) for r in V.RECEIPTS], rng)
    _sheet(wb, S.EXCHANGES, [[x[0], x[1], hh(x[2])] + list(x[3:]) for x in V.EXCHANGES], rng)
    _sheet(wb, S.STOCK, [], rng)
    _sheet(wb, S.FINDINGS, [], rng)
    wb.create_sheet("草稿")["A1"] = "clerk's scratch sheet"
    wb.save(path)
    return path
