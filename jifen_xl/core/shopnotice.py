"""What the love supermarket's monthly posting (物资接收与兑换公示) says, as a plain dict (issue 10).

Pure: built from the typed village and the stock ledger (``core.stock.compute_stock`` through
the month). The posting shows the month's receipts (by 来源类型, then 捐赠方), the exchanges of
each household with its spendable points (可用积分) after the month, the stock at the month's
end and the totals. Names are names (户主姓名, 商品名称), codes beside them.

Privacy: never a household's 身份证号 or 联系电话; ``masked`` hides the heads' names (张*三).
"""

from __future__ import annotations

import datetime as _dt

import pandas as pd

from .. import schema as S
from .ledger import compute_ledger, month_label
from .notice import _as_period, cn_date, mask_name, notice_header, number
from .village import Village

#: Joiner of the goods a household exchanged in the month (大米×2、肥皂×1).
ITEM_JOINER = "、"
#: What the stock table says of an item at or below its 预警库存.
LOW_MARK = "库存预警"
#: What the posting says of a month without receipts / without exchanges.
NO_RECEIPTS = "本月无物资入库"
NO_EXCHANGES = "本月无兑换"
#: What a receipt without 折合金额 shows in the amount column (never a silent blank).
NO_AMOUNT = "未填"


def money(value) -> str:
    """An amount in yuan as printed: 1,500.00 (blank when unknown)."""
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):,.2f}"


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def goods_label(name, spec, unit) -> str:
    """大米（5kg/袋）: the name, then the spec and the unit where known."""
    tail = "/".join(t for t in (_text(spec), _text(unit)) if t)
    return f"{_text(name)}（{tail}）" if tail else _text(name)


def _goods(village: Village) -> pd.DataFrame:
    goods = village["goods"]
    return goods[goods["goods_id"].notna()].drop_duplicates("goods_id").set_index("goods_id")


def _in_month(frame: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    here = frame["date"].notna() & (frame["date"].dt.to_period("M") == month)
    return frame[here]


def _receipts(village: Village, month: pd.Period, goods: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    """The month's receipts (sorted by 来源类型 in the contract's order, 捐赠方, date, 入库编号) and
    per source type: 笔数, 数量, 金额, donors."""
    rec = _in_month(village["receipts"], month)
    order = {s: i for i, s in enumerate(S.FUNDING_SOURCES)}
    rec = rec.assign(_source=rec["funding"].fillna("").astype(str), _donor=rec["donor"].fillna("").astype(str))
    rec = rec.assign(_order=rec["_source"].map(order).fillna(len(order)))
    rec = rec.sort_values(["_order", "_source", "_donor", "date", "receipt_id"], kind="stable")
    names = goods.reindex(rec["goods_id"])
    lines = []
    for (rid, day, source, donor, gid, qty, amount), name, spec, unit in zip(
            rec[["receipt_id", "date", "_source", "_donor", "goods_id", "qty", "amount"]].itertuples(index=False),
            names["name"].tolist(), names["spec"].tolist(), names["unit"].tolist()):
        lines.append({
            "receipt_id": _text(rid), "date": day.date(), "date_text": day.date().isoformat(),
            "source": source, "donor": donor, "goods_id": _text(gid), "name": _text(name),
            "item": goods_label(name, spec, unit), "unit": _text(unit), "qty": number(qty),
            "amount": None if pd.isna(amount) else number(amount), "amount_text": money(amount) or NO_AMOUNT,
        })
    sources = []
    for source in dict.fromkeys(line["source"] for line in lines):
        mine = [x for x in lines if x["source"] == source]
        known = [x["amount"] for x in mine if x["amount"] is not None]
        sources.append({
            "source": source, "donors": ITEM_JOINER.join(dict.fromkeys(x["donor"] for x in mine if x["donor"])),
            "count": len(mine), "qty": number(sum(x["qty"] for x in mine)),
            "amount": number(sum(known)), "amount_text": money(sum(known)),
            "missing": len(mine) - len(known),
        })
    return lines, sources


def _exchanges(village: Village, month: pd.Period, goods: pd.DataFrame, masked: bool) -> list[dict]:
    """Per household that exchanged in the month: its goods (名称×数量, in order of first exchange),
    its points spent and its 可用积分 at the month's end (as 月度台账 computes it)."""
    ex = _in_month(village["exchanges"], month)
    ex = ex[ex["hh_id"].notna()].sort_values(["date", "exchange_id"], kind="stable")
    if ex.empty:
        return []
    ex = ex.assign(_name=goods["name"].reindex(ex["goods_id"]).fillna("").astype(str).to_numpy())
    per_item = ex.groupby(["hh_id", "goods_id"], sort=False).agg(name=("_name", "first"), qty=("qty", "sum"))
    ledger = compute_ledger(village, month)
    available = ledger[ledger["month"] == month_label(month)].set_index("hh_id")["available"]
    hh = village["households"]
    heads = hh[hh["hh_id"].notna()].drop_duplicates("hh_id").set_index("hh_id")["head"]
    out = []
    spent = ex.groupby("hh_id", sort=True).agg(points=("points", "sum"), count=("exchange_id", "size"))
    for hh_id, row in spent.iterrows():
        items = per_item.loc[hh_id]
        head = _text(heads.get(hh_id))
        avail = available.get(hh_id)
        out.append({
            "hh_id": _text(hh_id), "head": mask_name(head) if masked else head,
            "goods": ITEM_JOINER.join(f"{name or gid}×{number(q)}" for gid, name, q in
                                      zip(items.index, items["name"], items["qty"])),
            "count": int(row["count"]), "points": number(row["points"]),
            "available": None if avail is None or pd.isna(avail) else number(avail),
        })
    return out


def _stock(stock: pd.DataFrame, month: pd.Period, goods: pd.DataFrame) -> list[dict]:
    """Every catalogued item at the month's end, in the catalogue's order."""
    rows = stock[stock["month"] == month_label(month)]
    out = []
    for gid, name, opening, received, issued, closing in rows[
            ["goods_id", "name", "opening", "received", "issued", "closing"]].itertuples(index=False):
        g = goods.loc[gid] if gid in goods.index else None
        alert = None if g is None or pd.isna(g["alert_level"]) else number(g["alert_level"])
        low = alert is not None and closing <= alert
        out.append({
            "goods_id": _text(gid), "name": _text(name),
            "item": goods_label(name, g["spec"], g["unit"]) if g is not None else _text(name),
            "unit": _text(g["unit"]) if g is not None else "",
            "opening": number(opening), "received": number(received), "issued": number(issued),
            "closing": number(closing), "alert": alert, "low": bool(low), "mark": LOW_MARK if low else "",
        })
    return out


def shop_notice_data(village: Village, month, *, stock: pd.DataFrame, today: _dt.date,
                     start: _dt.date | None = None, end: _dt.date | None = None, masked: bool = False) -> dict:
    """The supermarket's posting of ``month`` as a plain dict for the templates.

    :param village: the typed village (validated: the posting trusts its input).
    :param month: the month (``pd.Period`` or ``"YYYY-MM"``).
    :param stock: ``core.stock.compute_stock``'s frame through ``month`` (at least).
    :param today: the day the posting is made.
    :param start: first day of the publicity period (default ``today``).
    :param end: last day, inclusive (default ``start`` + 公示天数 − 1).
    :param masked: hide the heads' names (张*三) — for WeChat and public-account postings.
    :returns: see ``templates/README.md`` for every key.
    """
    month = _as_period(month)
    settings = village.settings
    place = settings.get("village") or ""
    start = start or today
    days_setting = int(settings.get("publicity_days") or 7)
    end = end or start + _dt.timedelta(days=days_setting - 1)
    goods = _goods(village)
    receipts, sources = _receipts(village, month, goods)
    households = _exchanges(village, month, goods, masked)
    items = _stock(stock, month, goods)
    head = notice_header(settings, month, start, end, what="爱心超市{month}物资接收与积分兑换情况", to="反映",
                         by="监督管理小组核实")
    known = [x["amount"] for x in receipts if x["amount"] is not None]
    missing = len(receipts) - len(known)
    low = [x for x in items if x["low"]]
    return {
        "title": f"{place}爱心超市 {head['month_text']}物资接收与兑换公示",
        **head,
        "receipts": receipts,
        "sources": sources,
        "no_receipts": [] if receipts else [NO_RECEIPTS],
        "households": households,
        "no_exchanges": [] if households else [NO_EXCHANGES],
        "stock": items,
        "low": [x["name"] for x in low],
        "totals": {
            "receipts": len(receipts),
            "sources": len(sources),
            "qty": number(sum(x["qty"] for x in receipts)),
            "amount": number(sum(known)),
            "amount_text": money(sum(known)),
            "missing_amount": missing,
            "households": len(households),
            "exchanges": sum(x["count"] for x in households),
            "points": number(sum(x["points"] for x in households)),
            "issued": number(sum(x["issued"] for x in items)),
        },
        "note": ("注：折合金额以元计，按入库登记；兑换后可用积分只计已确认的积分；期末库存＝期初库存＋本月入库－本月出库；"
                 f"“{LOW_MARK}”表示库存已不高于预警库存，需及时补货。"
                 + (f"另有{missing}笔入库未填折合金额，不计入金额合计。" if missing else "")),
        "signature": {"shop": f"{place}爱心超市", "committee": f"{place}村民委员会"},
        "date": start,
        "date_text": cn_date(start),
        "made": today,
        "masked": bool(masked),
    }
