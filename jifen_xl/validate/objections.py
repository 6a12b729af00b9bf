"""异议处理: decisions that are complete and agree with the entry they decide (repeated 异议编号 and
an unknown 登记编号 are schema-driven)."""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..core.clean import ROW
from ..core.problems import Problem
from ..core.village import unordered_decisions
from ..rules import RULES


def check_objections(obj: pd.DataFrame, eff: pd.DataFrame | None = None) -> list[Problem]:
    """A 更正 has its 更正后积分, of the entry's sign; a decision has its date, and must have it
    when the entry has several decisions (the latest by 处理日期 stands, SPEC "Meanings").

    :param eff: the entries with the kind of their item (``core.village.effective_entries``).
    """
    out: list[Problem] = []
    if eff is not None:
        kind = obj["entry_id"].map(eff.drop_duplicates("entry_id").set_index("entry_id")["kind"])
        pts = obj["corrected_points"]
        wrong = obj["result"].eq(S.OBJ_CORRECT) & pts.notna() & (
            (kind.eq(S.KIND_DEDUCT) & (pts > 0)) | (kind.isin((S.KIND_BASIC, S.KIND_CONTRIB)) & (pts < 0)))
        out += RULES["E-OBJ-05"].flag(obj, wrong)
    no_points = obj["result"].eq(S.OBJ_CORRECT) & obj["corrected_points"].isna()
    out += RULES["E-OBJ-02"].flag(obj, no_points)
    unordered = unordered_decisions(obj)  # several decisions, one undated: which stands is unknown
    undated = obj["result"].notna() & obj["resolved_on"].isna() & ~obj[ROW].isin(unordered[ROW])
    out += RULES["W-OBJ-04"].flag(obj, undated)
    out += RULES["E-OBJ-06"].flag(unordered, pd.Series(True, index=unordered.index),
                                  decisions=unordered["decision_rows"].map(len),
                                  rows=unordered["decision_rows"].map(lambda rows: "、".join(map(str, rows))))
    return out
