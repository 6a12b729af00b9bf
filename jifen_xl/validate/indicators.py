"""积分指标: signs of the values, periods, and the notice's ban on penalties that take away
subsidies or collective income (overlapping periods of one code and the caps' ranges are
schema-driven)."""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..core.catalogue import takes_entitlement
from ..core.problems import Problem
from ..rules import RULES


def check_indicators(ind: pd.DataFrame) -> list[Problem]:
    out: list[Problem] = []
    inverted = ind["valid_from"].notna() & ind["valid_to"].notna() & (ind["valid_from"] > ind["valid_to"])
    out += RULES["E-IND-03"].flag(ind, inverted)
    deduct = ind["kind"].eq(S.KIND_DEDUCT)
    reward = ind["kind"].isin((S.KIND_BASIC, S.KIND_CONTRIB))
    out += RULES["E-IND-02"].flag(ind, deduct & (ind["points"] > 0))
    out += RULES["E-IND-02"].flag(ind, reward & (ind["points"] < 0), variant="reward")
    out += RULES["W-IND-05"].flag(ind, ind["points"].eq(0))
    words = ind["name"].fillna("") + " " + ind["category"].fillna("") + " " + ind["note"].fillna("")
    found = words.map(takes_entitlement)
    out += RULES["W-IND-04"].flag(ind, deduct & found.notna(), word=found)
    return out
