"""The monthly cycle (待公示 -> 公示中 -> 已确认, objections, closing a month): the rules that
decide whether an entry may count. The closing rules of the monthly-cycle issue belong here."""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..core.problems import Problem
from ..rules import RULES


def check_cycle(eff: pd.DataFrame) -> list[Problem]:
    """An entry is not 已确认 while an objection to it is still open (SPEC: only undisputed or
    resolved entries enter the ledger).

    :param eff: the entries with their objections' outcome (``core.village.effective_entries``).
    """
    open_confirmed = eff["status"].eq(S.ENTRY_CONFIRMED) & eff["objection_open"]
    return RULES["E-ENT-16"].flag(eff, open_confirmed)
