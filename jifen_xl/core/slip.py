"""The exchange slip (兑换单, issue 10): what a household signs when it exchanges points for goods
at the love supermarket, as a plain dict for the template (``templates/兑换单.html.j2``).

Pure: built from the typed village. The household's spendable points before and after the
exchange come from ``exchange_balances``, the very walk the check E-EXC-03
(``validate/market.overspent``) flags a negative balance from: 上年可用积分, plus the 已确认 points
dated up to the exchange's day, less the household's earlier exchanges (same day: earlier rows). A slip never carries a household's 身份证号 or 联系电话.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import JifenError
from .clean import ROW
from .notice import cn_date, number
from .village import Village, village_counted

#: 单位 printed when 商品目录 gives none (as the supermarket's checks say it).
DEFAULT_UNIT = "件"


def exchange_balances(village: Village) -> pd.DataFrame:
    """For every exchange with a 户号, a date and 消耗积分: the household's 可用积分 just before
    and just after it, on its date (the walk of E-EXC-03).

    :returns: a frame indexed like ``village["exchanges"]`` (those rows only) with ``before``
        and ``after``.
    """
    ex = village["exchanges"]
    ex = ex[ex["hh_id"].notna() & ex["date"].notna() & ex["points"].notna()]
    if ex.empty:
        return pd.DataFrame({"before": pd.Series(dtype="float64"), "after": pd.Series(dtype="float64")})
    earned = village_counted(village, ["hh_id", "date", "effective"])
    hh = village["households"]
    carried = hh[hh["hh_id"].notna()].drop_duplicates("hh_id").set_index("hh_id")["carried_available"]
    events = pd.concat([
        pd.DataFrame({"hh_id": earned["hh_id"], "date": earned["date"], "delta": earned["effective"],
                      "order": 0, ROW: 0, "_ex": -1}),
        pd.DataFrame({"hh_id": ex["hh_id"], "date": ex["date"], "delta": -ex["points"], "order": 1,
                      ROW: ex[ROW], "_ex": ex.index}),
    ], ignore_index=True).sort_values(["hh_id", "date", "order", ROW], kind="stable")
    after = events.groupby("hh_id")["delta"].cumsum() + events["hh_id"].map(carried).fillna(0.0).astype("float64")
    mine = events["order"].eq(1)
    out = pd.DataFrame({"after": after[mine].to_numpy(dtype="float64")}, index=pd.Index(events.loc[mine, "_ex"]))
    out["before"] = out["after"] + ex["points"].reindex(out.index).to_numpy(dtype="float64")
    return out[["before", "after"]].reindex(ex.index)


def _ids(village: Village) -> pd.Series:
    ex = village["exchanges"]
    return ex["exchange_id"].dropna().astype(str)


def find_exchange(village: Village, text: str) -> str:
    """The 兑换编号 that ``text`` names: exactly, else ignoring case (「dh0012」), else by its number
    (「12」 finds 「DH0012」) when only one 兑换编号 has that number.

    :raises JifenError: nothing matches (the message suggests the closest 兑换编号), or the
        number belongs to several.
    """
    ids = _ids(village)
    wanted = "".join(str(text).split())
    unique = list(dict.fromkeys(ids))
    if wanted in unique:
        return wanted
    same_case = [i for i in unique if i.upper() == wanted.upper()]
    if len(same_case) == 1:
        return same_case[0]
    if wanted.isdigit():
        numbered = [i for i in unique if (m := re.search(r"(\d+)$", i)) and int(m.group(1)) == int(wanted)]
        if len(numbered) == 1:
            return numbered[0]
        if len(numbered) > 1:
            shown = "、".join(numbered[:5])
            raise JifenError(f"「{S.EXCHANGES.name}」中编号为 {wanted} 的兑换有 {len(numbered)} 条（{shown}），"
                             f"请写完整的兑换编号，例如 --exchange {numbered[0]}。")
    lead = f"「{S.EXCHANGES.name}」中没有兑换编号为「{wanted}」的兑换。"
    close = difflib.get_close_matches(wanted.upper(), [i.upper() for i in unique], n=5, cutoff=0.5)
    by_upper = {i.upper(): i for i in unique}
    if close:
        raise JifenError(lead + f"最接近的是：{'、'.join(by_upper[c] for c in close)}。请核对后重新输入兑换编号。")
    raise JifenError(lead + f"请核对「{S.EXCHANGES.name}」中的兑换编号后重新输入。")


def month_exchanges(village: Village, month: pd.Period) -> list[str]:
    """The 兑换编号 of the exchanges dated in ``month``, by date then row."""
    ex = village["exchanges"]
    ex = ex[ex["exchange_id"].notna() & ex["date"].notna()]
    ex = ex[ex["date"].dt.to_period("M") == month].sort_values(["date", ROW], kind="stable")
    return [str(i) for i in ex["exchange_id"]]


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value) else str(value)


def exchange_slip(village: Village, exchange_id: str, balances: pd.DataFrame | None = None) -> dict:
    """The slip of exchange ``exchange_id`` (a 兑换编号 of 积分兑换; see ``find_exchange``).

    :param balances: ``exchange_balances(village)`` when several slips are made at once.
    :returns: ``place`` (district, township, village, year), ``exchange_id``, ``date``,
        ``date_text``, ``household`` (hh_id, head, group), ``goods`` (goods_id, name, spec, unit),
        ``qty``, ``price`` (兑换积分 of one unit), ``points`` (消耗积分), ``available_before``,
        ``available_after``, ``handler`` (经办人), ``note``.
    """
    ex = village["exchanges"]
    row = ex[ex["exchange_id"] == exchange_id].iloc[0]
    balances = exchange_balances(village) if balances is None else balances
    hh = village["households"]
    hh = hh[hh["hh_id"] == row["hh_id"]]
    goods = village["goods"]
    goods = goods[goods["goods_id"] == row["goods_id"]]
    g = goods.iloc[0] if len(goods) else None
    h = hh.iloc[0] if len(hh) else None
    day = pd.Timestamp(row["date"]).date() if pd.notna(row["date"]) else None
    before = after = None
    if row.name in balances.index and pd.notna(balances.loc[row.name, "after"]):
        before, after = number(balances.loc[row.name, "before"]), number(balances.loc[row.name, "after"])
    return {
        "place": {k: village.settings.get(k) for k in ("district", "township", "village", "year")},
        "exchange_id": str(exchange_id),
        "date": day.isoformat() if day else "",
        "date_text": cn_date(day) if day else "",
        "household": {"hh_id": _text(row["hh_id"]), "head": _text(h["head"]) if h is not None else "",
                      "group": _text(h["group"]) if h is not None else ""},
        "goods": {"goods_id": _text(row["goods_id"]), "name": _text(g["name"]) if g is not None else "",
                  "spec": _text(g["spec"]) if g is not None else "",
                  "unit": (_text(g["unit"]) if g is not None else "") or DEFAULT_UNIT},
        "qty": number(row["qty"]) if pd.notna(row["qty"]) else None,
        "price": number(g["price"]) if g is not None and pd.notna(g["price"]) else None,
        "points": number(row["points"]) if pd.notna(row["points"]) else None,
        "available_before": before,
        "available_after": after,
        "handler": _text(row["handler"]),
        "note": _text(row["note"]),
    }
