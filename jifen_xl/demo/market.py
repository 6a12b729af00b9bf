"""The love supermarket (爱心超市) of one village: its goods (商品目录), receipts (物资入库) and
exchanges (积分兑换).

Exchanges only spend points already confirmed, and receipts keep every item in stock, so the
generated village never breaks a stock or balance rule.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import schema as S
from . import people

# goods_id, name, spec, unit, points, alert level, unit cost in yuan (for 折合金额), popularity
_GOODS = (
    ("SP-01", "大米", "10kg", "袋", 50, 10, 55.0, 3.0),
    ("SP-02", "菜籽油", "5L", "桶", 60, 10, 79.0, 2.5),
    ("SP-03", "挂面", "1kg", "把", 5, 30, 6.0, 2.0),
    ("SP-04", "洗衣粉", "2kg", "袋", 15, 20, 18.0, 2.0),
    ("SP-05", "肥皂", "4块装", "组", 8, 20, 10.0, 2.0),
    ("SP-06", "毛巾", "纯棉", "条", 6, 30, 8.0, 2.0),
    ("SP-07", "牙膏", "120g", "支", 5, 30, 6.5, 1.5),
    ("SP-08", "洗洁精", "1.5kg", "瓶", 8, 20, 9.9, 1.5),
    ("SP-09", "卫生纸", "10卷", "提", 12, 20, 15.0, 2.0),
    ("SP-10", "食盐", "400g", "袋", 2, 40, 2.5, 1.0),
    ("SP-11", "酱油", "500ml", "瓶", 6, 20, 7.5, 1.0),
    ("SP-12", "保温杯", "500ml", "个", 30, 5, 35.0, 0.4),
    ("SP-13", "雨伞", "折叠", "把", 15, 10, 18.0, 0.4),
    ("SP-14", "分类垃圾桶", "20L", "个", 20, 10, 25.0, 0.5),
)
# Donors by funding source; {d}, {t}, {v}: the village's district, township and village.
_DONORS = {
    "财政补贴": ("{d}财政局（乡村治理专项）", "{t}人民政府"),
    "社会组织捐赠": ("{d}慈善会", "{d}青年志愿者协会"),
    "帮扶单位支持": ("区农业农村委驻村工作队", "区供销合作社"),
    "企业爱心捐助": ("重庆梁丰粮油有限公司", "{t}兴旺超市"),
    "村集体经济收入": ("{v}股份经济合作联合社",),
    "其他": ("本村乡贤捐赠", "在外务工人员捐赠"),
}
_FUNDING_P = (0.35, 0.12, 0.15, 0.18, 0.15, 0.05)


def goods() -> pd.DataFrame:
    """商品目录: the goods every demo supermarket stocks."""
    df = pd.DataFrame([g[:6] + (None,) for g in _GOODS], columns=S.GOODS.fields)
    df["price"] = df["price"].astype("float64")
    df["alert_level"] = df["alert_level"].astype("float64")
    return df


def donors(district: str, township: str, village: str) -> dict[str, tuple[str, ...]]:
    """Who gives the goods, by funding source (来源类型), named after the village's place."""
    return {src: tuple(n.format(d=district, t=township, v=village) for n in names) for src, names in _DONORS.items()}


def exchanges(rng: np.random.Generator, hh: pd.DataFrame, eff: pd.DataFrame, year: int, months: int,
              handler: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Monthly exchanges that never overspend, whichever months are closed yet: they spend
    the points carried from earlier years, less this year's deductions.

    :param eff: the entries that count in the ledger once their month is closed, with their
        ``effective`` points (see ``village.effective_points``).
    :returns: 积分兑换, and the quantity of each good issued per month (goods × 13, month 1..12).
    """
    n = len(hh)
    pos = pd.Series(np.arange(n), index=hh["hh_id"].to_numpy())
    e_pos = pos.reindex(eff["hh_id"].to_numpy()).to_numpy()
    e_month = eff["date"].dt.month.to_numpy()
    e_pts = eff["effective"].to_numpy(dtype="float64")
    negative = np.zeros((n, 13))
    np.add.at(negative, (e_pos, e_month), np.minimum(e_pts, 0.0))
    carried = hh["carried_available"].fillna(0.0).to_numpy(dtype="float64")
    active = (hh["status"] == S.HH_ACTIVE).to_numpy()
    price = np.array([g[4] for g in _GOODS], dtype=float)
    pop = np.array([g[7] for g in _GOODS], dtype=float)
    goods_ids = np.array([g[0] for g in _GOODS], dtype=object)
    # Every deduction of the year is reserved from the start: a deduction dated after an
    # exchange must not take the household's 可用积分 below zero at a later month's end either
    # (issue 10: no household's spendable balance is ever negative because it spent).
    reserved = negative[:, 1:months + 1].sum(axis=1)
    spent = np.zeros(n)
    issued = np.zeros((len(_GOODS), 13))
    parts = []
    for m in range(1, months + 1):
        # Spendable at every step of the cycle: the demo workbook holds the whole year while its
        # months are published and closed one by one, and an entry counts only once 已确认 —
        # so exchanges spend the points carried from earlier years, lowered by every deduction
        # of the year, never this year's rewards: no exchange overspends at any close, and no
        # later deduction leaves a household that spent below zero.
        balance = carried + reserved - spent
        want = active & (rng.random(n) < 0.22) & (balance >= 2)
        g = rng.choice(len(_GOODS), size=n, p=pop / pop.sum())
        q = rng.choice([1.0, 2.0, 3.0], size=n, p=(0.7, 0.2, 0.1))
        q = np.minimum(q, np.floor(np.maximum(balance, 0.0) / price[g]))
        day = rng.integers(5, 29, n)
        idx = np.flatnonzero(want & (q >= 1))
        if len(idx) == 0:
            continue
        pts = q[idx] * price[g[idx]]
        spent[idx] += pts
        np.add.at(issued, (g[idx], m), q[idx])
        parts.append(pd.DataFrame({
            "date": month_days(year, m, day[idx]),
            "hh_id": hh["hh_id"].to_numpy()[idx],
            "goods_id": goods_ids[g[idx]],
            "qty": q[idx],
            "points": pts,
        }))
    if parts:
        ex = pd.concat(parts, ignore_index=True)
    else:
        ex = pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "hh_id": pd.Series(dtype=object),
                           "goods_id": pd.Series(dtype=object), "qty": pd.Series(dtype="float64"),
                           "points": pd.Series(dtype="float64")})
    ex = ex.sort_values(["date", "hh_id"], kind="stable").reset_index(drop=True)
    ex.insert(0, "exchange_id", people.ids("DH-", len(ex), 4))
    ex["handler"] = handler
    ex["note"] = None
    return ex[S.EXCHANGES.fields], issued


def month_days(year: int, month: int, days: np.ndarray) -> pd.DatetimeIndex:
    """Dates of ``days`` (array of day numbers) in ``year``-``month``."""
    return pd.DatetimeIndex(np.datetime64(f"{year}-{month:02d}-01") + (np.asarray(days) - 1).astype("timedelta64[D]"))


def keeper(hh: pd.DataFrame) -> str:
    """The supermarket keeper (经办人): an invented name that is not a household head."""
    taken = set(hh["head"])
    return next((nm for nm in ("谢丽萍", "谭丽萍", "谢秀萍", "谭秀萍") if nm not in taken), "村文书")


def receipts(rng: np.random.Generator, issued: np.ndarray, year: int, months: int, handler: str,
             given_by: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Receipts that keep every item in stock (and above its alert level) all year, from every funding source.

    :param issued: what ``exchanges`` issued, per good and month.
    :param handler: the keeper (经办人).
    :param given_by: ``donors(...)`` of the village.
    """
    alert = np.array([g[5] for g in _GOODS], dtype=float)
    cost = np.array([g[6] for g in _GOODS], dtype=float)
    stock = np.zeros(len(_GOODS))
    rows = []
    for m in range(1, months + 1):
        ahead = issued[:, m:min(m + 3, months + 1)].sum(axis=1)  # the next three months
        # restock unless the month ends above the alert level (W-GDS-01 warns at or below it)
        low = (stock - issued[:, m] <= alert) if m > 1 else np.ones(len(_GOODS), dtype=bool)
        for g in np.flatnonzero(low):
            q = max(10.0, math.ceil((ahead[g] + 2 * alert[g] - stock[g]) / 10.0) * 10.0)
            rows.append((m, int(rng.integers(1, 5)), g, q))  # received on the 1st..4th, before exchanges
            stock[g] += q
        stock -= issued[:, m]
    n = len(rows)
    funding = rng.choice(S.FUNDING_SOURCES, size=n, p=_FUNDING_P).astype(object)
    k = min(n, len(S.FUNDING_SOURCES))
    funding[:k] = rng.permutation(np.array(S.FUNDING_SOURCES, dtype=object))[:k]  # every source appears
    donor = np.array([rng.choice(given_by[f]) for f in funding], dtype=object)
    df = pd.DataFrame({
        "date": pd.to_datetime([f"{year}-{m:02d}-{d:02d}" for m, d, _g, _q in rows]),
        "funding": funding,
        "donor": donor,
        "goods_id": [_GOODS[g][0] for _m, _d, g, _q in rows],
        "qty": [q for *_r, q in rows],
        "amount": [round(q * cost[g], 2) for _m, _d, g, q in rows],
        "handler": handler,
        "note": None,
    })
    df = df.sort_values(["date", "goods_id"], kind="stable").reset_index(drop=True)
    df.insert(0, "receipt_id", people.ids("RK-", len(df), 3))
    return df[S.RECEIPTS.fields]


