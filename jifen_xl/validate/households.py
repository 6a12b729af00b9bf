"""住户名册: what its columns cannot say on their own (repeated 户号 and the ranges are schema-driven)."""

from __future__ import annotations

import pandas as pd

from ..core.problems import Problem
from ..rules import RULES


def check_households(hh: pd.DataFrame) -> list[Problem]:
    """上年可用积分 never exceeds 上年累计积分 (spending lowers only the spendable balance)."""
    over = hh["carried_available"].notna() & hh["carried_total"].notna() & (
        hh["carried_available"] > hh["carried_total"])
    return RULES["W-HH-02"].flag(hh, over)
