"""爱心超市 (积分兑换, and the stock rules of 商品目录/物资入库 to come): nobody spends points they
do not have. Unknown 户号/商品编码, repeated 兑换编号 and the quantities' ranges are schema-driven."""

from __future__ import annotations

import pandas as pd

from ..core.clean import ROW
from ..core.problems import Problem
from ..core.village import Village, counted_entries
from ..rules import RULES


def check_exchanges(v: Village, eff: pd.DataFrame) -> list[Problem]:
    """Exchanges dated in the workbook's year, within the household's available points."""
    ex = v["exchanges"]
    out: list[Problem] = []
    if v.year is not None:
        outside = ex["date"].notna() & (ex["date"].dt.year != v.year)
        out += RULES["E-EXC-04"].flag(ex, outside, year=v.year)
    out += overspent(v, eff, ex)
    return out


def overspent(v: Village, eff: pd.DataFrame, ex: pd.DataFrame) -> list[Problem]:
    """The first exchange of a household that spends points it does not have (on that day)."""
    ex = ex[ex["hh_id"].notna() & ex["date"].notna() & ex["points"].notna()]
    if ex.empty:
        return []
    earned = counted_entries(eff, ["hh_id", "date", "effective"])
    carried = v["households"].drop_duplicates("hh_id").set_index("hh_id")["carried_available"]
    events = pd.concat([
        pd.DataFrame({"hh_id": earned["hh_id"], "date": earned["date"], "delta": earned["effective"],
                      "order": 0, ROW: 0}),
        pd.DataFrame({"hh_id": ex["hh_id"], "date": ex["date"], "delta": -ex["points"], "order": 1, ROW: ex[ROW]}),
    ], ignore_index=True).sort_values(["hh_id", "date", "order", ROW], kind="stable")
    events["balance"] = events.groupby("hh_id")["delta"].cumsum() + events["hh_id"].map(carried).fillna(0.0)
    neg = events[(events["order"] == 1) & (events["balance"] < -1e-9)].drop_duplicates("hh_id")
    return RULES["E-EXC-03"].flag(neg, pd.Series(True, index=neg.index))
