"""The love supermarket's stock ledger (库存台账): per month and item, opening stock, receipts
(物资入库), issues (积分兑换) and closing stock; months chain (opening of m = closing of m-1).

Pure pandas: typed frames in, frames out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from .ledger import month_label
from .village import Village

FIELDS = S.STOCK.fields


def _movements(frame: pd.DataFrame, known: pd.Index) -> pd.DataFrame:
    """Rows that move stock: a known item, a date and a positive quantity."""
    ok = frame["goods_id"].isin(known) & frame["date"].notna() & (frame["qty"] > 0)
    return frame.loc[ok, ["goods_id", "date", "qty"]]


def last_movement_month(goods: pd.DataFrame, receipts: pd.DataFrame, exchanges: pd.DataFrame) -> pd.Period | None:
    """The last month with a receipt or an exchange of a catalogued item (None: no movement)."""
    known = pd.Index(goods["goods_id"].dropna().unique())
    dates = pd.concat([_movements(receipts, known)["date"], _movements(exchanges, known)["date"]])
    return None if dates.empty else dates.max().to_period("M")


def compute_stock(goods: pd.DataFrame, receipts: pd.DataFrame, exchanges: pd.DataFrame, year: int,
                  through: pd.Period | None = None) -> pd.DataFrame:
    """库存台账 from January of ``year`` through ``through`` (default: the last month with a
    receipt or an exchange): one row per month and catalogued item (every item every month).

    Movements dated before January of ``year`` count in January's opening stock; those after
    ``through`` are left out.
    """
    cat = goods[goods["goods_id"].notna()].drop_duplicates("goods_id")
    if through is None:
        through = last_movement_month(goods, receipts, exchanges)
    if through is None or cat.empty:
        return pd.DataFrame({f: pd.Series(dtype=object if f in ("month", "goods_id", "name") else "float64")
                             for f in FIELDS})
    months = pd.period_range(pd.Period(f"{year}-01", "M"), through, freq="M")
    known = pd.Index(cat["goods_id"])
    first = months[0].start_time

    def per_month(frame: pd.DataFrame) -> np.ndarray:
        mv = _movements(frame, known)
        mv = mv[mv["date"] <= through.end_time]
        m = mv["date"].where(mv["date"] >= first, first).dt.to_period("M")
        table = mv.groupby([mv["goods_id"], m])["qty"].sum()
        grid = pd.MultiIndex.from_product([known, months])
        return table.reindex(grid, fill_value=0.0).to_numpy(dtype="float64").reshape(len(known), len(months))

    received, issued = per_month(receipts), per_month(exchanges)
    closing = np.cumsum(received - issued, axis=1)
    opening = closing - received + issued
    n_g, n_m = len(known), len(months)
    labels = np.array([month_label(p) for p in months], dtype=object)
    frame = pd.DataFrame({
        "month": np.tile(labels, n_g),
        "goods_id": np.repeat(known.to_numpy(dtype=object), n_m),
        "name": np.repeat(cat["name"].to_numpy(dtype=object), n_m),
        "opening": opening.ravel(),
        "received": received.ravel(),
        "issued": issued.ravel(),
        "closing": closing.ravel(),
    })
    return frame.sort_values(["month"], kind="stable").reset_index(drop=True)[FIELDS]


_NO_MOVEMENT = object()


def village_last_movement(village: Village) -> pd.Period | None:
    """``last_movement_month`` of the village's 商品目录, 物资入库 and 积分兑换 (worked out once
    per village: validation and the township extract both ask)."""
    got = village.derived.get("last_movement", _NO_MOVEMENT)
    if got is _NO_MOVEMENT:
        got = village.derived["last_movement"] = last_movement_month(village["goods"], village["receipts"],
                                                                     village["exchanges"])
    return got


def village_stock(village: Village, year: int, through: pd.Period | None = None) -> pd.DataFrame:
    """``compute_stock`` of the village's frames, computed once per village, year and month
    (W-GDS-01 of the validation and the township extract read the same 库存台账); treat the
    frame as read-only.

    :param through: the last month (default: ``village_last_movement``, as ``compute_stock``).
    """
    if through is None:
        through = village_last_movement(village)
    key = ("stock", year, through)
    got = village.derived.get(key)
    if got is None:
        got = village.derived[key] = compute_stock(village["goods"], village["receipts"], village["exchanges"],
                                                   year, through)
    return got


def stock_records(stock: pd.DataFrame) -> list[dict]:
    """库存台账 as JSON-ready dicts keyed by its headers (月份 "YYYY-MM"); whole numbers as int."""
    out = []
    for row in stock[FIELDS].itertuples(index=False):
        rec = {}
        for header, value in zip(S.STOCK.headers, row):
            if isinstance(value, (float, np.floating)):
                value = int(value) if float(value).is_integer() else float(value)
            elif isinstance(value, np.integer):
                value = int(value)
            rec[header] = value
        out.append(rec)
    return out
