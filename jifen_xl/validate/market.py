"""爱心超市 (商品目录, 物资入库, 积分兑换): nobody spends points they do not have, no exchange
takes more than is in stock, an exchange costs 数量 × 兑换积分, households that left do not
exchange, every receipt names its donor, low stock is warned of. Unknown 户号/商品编码, repeated
编号, a missing 来源类型 and the quantities' ranges are schema-driven (generic.py).

Exchanges on the same day are taken in the order of their rows; a receipt dated the same day as
an exchange is in stock for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ..core.clean import ROW
from ..core.problems import Problem
from ..core.slip import exchange_balances
from ..core.stock import village_last_movement, village_stock
from ..core.village import Village
from ..rules import RULES

#: 单位 shown when 商品目录 gives none.
_DEFAULT_UNIT = "件"


def check_exchanges(v: Village, eff: pd.DataFrame) -> list[Problem]:
    """Exchanges dated in the workbook's year, within the household's available points and the
    item's stock, priced as the catalogue says, by households still in the village; receipts
    with their donor; stock at or below its alert level."""
    ex = v["exchanges"]
    out: list[Problem] = []
    if v.year is not None:
        outside = ex["date"].notna() & (ex["date"].dt.year != v.year)
        out += RULES["E-EXC-04"].flag(ex, outside, year=v.year)
    out += overspent(v, eff, ex)
    out += out_of_stock(v)
    out += mispriced(v)
    out += departed(v)
    rec = v["receipts"]
    out += RULES["E-RCV-01"].flag(rec, rec["donor"].isna())
    out += low_stock(v)
    return out


def overspent(v: Village, eff: pd.DataFrame, ex: pd.DataFrame) -> list[Problem]:
    """The first exchange of a household that spends points it does not have (on that day).

    Spendable: 上年可用积分, plus the 已确认 points dated up to that day, less the household's
    earlier exchanges (same day: earlier rows): ``core.slip.exchange_balances``, the walk the
    exchange slip (兑换单) prints its balances from. ``eff`` is ``effective_entries(v)``."""
    bal = exchange_balances(v)
    rows = ex.loc[ex.index.intersection(bal.index)]
    neg = rows.assign(balance=bal["after"].reindex(rows.index))
    neg = neg[neg["balance"] < -1e-9].sort_values(["hh_id", "date", ROW], kind="stable").drop_duplicates("hh_id")
    return RULES["E-EXC-03"].flag(neg, np.ones(len(neg), bool))


def _goods(v: Village) -> pd.DataFrame:
    g = v["goods"]
    g = g[g["goods_id"].notna()].drop_duplicates("goods_id").set_index("goods_id")
    return g


def _units(v: Village, goods_ids: pd.Series) -> pd.Series:
    return goods_ids.map(_goods(v)["unit"]).fillna(_DEFAULT_UNIT)


def _receipts_unsure(v: Village) -> bool:
    """A receipt whose item, date or quantity cannot be read (flagged by its own rule): the stock
    is not known, so the stock checks wait until it is fixed (no cascade of findings)."""
    rec = v["receipts"]
    qty = rec["qty"]
    return bool((~rec["goods_id"].isin(_goods(v).index) | rec["date"].isna() | ~(qty > 0) | (qty % 1 != 0)).any())


def out_of_stock(v: Village) -> list[Problem]:
    """Per item, the first exchange that takes its stock below zero on its date."""
    if _receipts_unsure(v):
        return []
    goods = _goods(v)
    known = goods.index
    rec, ex = v["receipts"], v["exchanges"]
    rec = rec[rec["goods_id"].isin(known) & rec["date"].notna() & (rec["qty"] > 0)]
    ex = ex[ex["goods_id"].isin(known) & ex["date"].notna() & (ex["qty"] > 0)]
    if ex.empty:
        return []
    events = pd.concat([
        pd.DataFrame({"goods_id": rec["goods_id"], "date": rec["date"], "delta": rec["qty"], "order": 0, ROW: rec[ROW]}),
        pd.DataFrame({"goods_id": ex["goods_id"], "date": ex["date"], "delta": -ex["qty"], "order": 1, ROW: ex[ROW]}),
    ], ignore_index=True).sort_values(["goods_id", "date", "order", ROW], kind="stable")
    events["balance"] = events.groupby("goods_id")["delta"].cumsum()
    neg = events[(events["order"] == 1) & (events["balance"] < -1e-9)].drop_duplicates("goods_id")
    flagged = ex.set_index(ROW).loc[neg[ROW].to_numpy()].reset_index()
    stock = pd.Series(neg["balance"].to_numpy() - neg["delta"].to_numpy(), index=flagged.index)
    return RULES["E-EXC-07"].flag(flagged, np.ones(len(flagged), bool), stock=stock,
                                  goods_name=flagged["goods_id"].map(goods["name"]),
                                  unit=_units(v, flagged["goods_id"]))


def mispriced(v: Village) -> list[Problem]:
    """消耗积分 ≠ 数量 × 兑换积分 (the catalogue's price)."""
    ex = v["exchanges"]
    goods = _goods(v)
    price = ex["goods_id"].map(goods["price"])
    expected = ex["qty"] * price
    whole = (ex["qty"] > 0) & (ex["qty"] % 1 == 0) & (ex["points"] > 0)  # else E-EXC-05/06 say it
    bad = (whole & expected.notna() & (price > 0)  # a bad price is E-RANGE
           & ((ex["points"] - expected).abs() > 1e-6)).to_numpy()
    return RULES["E-EXC-08"].flag(ex, bad, value=ex["points"], price=price, expected=expected,
                                  goods_name=ex["goods_id"].map(goods["name"]), unit=_units(v, ex["goods_id"]))


def departed(v: Village) -> list[Problem]:
    """An exchange by a household whose 状态 is 迁出/注销."""
    ex = v["exchanges"]
    hh = v["households"]
    hh = hh[hh["hh_id"].notna()].drop_duplicates("hh_id").set_index("hh_id")
    status = ex["hh_id"].map(hh["status"])
    gone = (status.notna() & status.ne(S.HH_ACTIVE) & status.isin(S.HOUSEHOLD_STATUS)).to_numpy()
    return RULES["E-EXC-09"].flag(ex, gone, hh_status=status, hh_head=ex["hh_id"].map(hh["head"]))


def low_stock(v: Village) -> list[Problem]:
    """Items at or below 预警库存 at the end of the latest month with a receipt or an exchange."""
    goods = v["goods"]
    if _receipts_unsure(v):
        return []
    through = village_last_movement(v)
    if through is None or goods["alert_level"].isna().all():
        return []
    year = v.year if v.year is not None else through.year
    if through.year < year:
        return []
    stock = village_stock(v, year, through)
    closing = stock[stock["month"] == stock["month"].iloc[-1]].set_index("goods_id")["closing"]
    first = ~goods["goods_id"].duplicated()
    level = goods["alert_level"]
    end = goods["goods_id"].map(closing)
    low = (first & goods["goods_id"].notna() & level.notna() & end.notna() & (end <= level)).to_numpy()
    return RULES["W-GDS-01"].flag(goods, low, month=stock["month"].iloc[-1], closing=end)
