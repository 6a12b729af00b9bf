"""小组成员: the size of each group and the separation of scoring from supervision."""

from __future__ import annotations

import datetime as _dt

import pandas as pd

from .. import schema as S
from ..core.clean import ROW
from ..core.problems import Problem
from ..core.village import Village
from ..rules import RULES


def active_on(members: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Members whose term covers ``day`` (an open start or end counts as covering)."""
    return (members["term_from"].isna() | (members["term_from"] <= day)) & (
        members["term_to"].isna() | (members["term_to"] >= day))


def check_members(v: Village, today: _dt.date) -> list[Problem]:
    """Each group has 3–5 members in term on the reference day (today, within the workbook's
    year); nobody sits in both groups at the same time."""
    members, year = v["members"], v.year
    out: list[Problem] = []
    if year is not None:
        ref = min(pd.Timestamp(today), pd.Timestamp(f"{year}-12-31"))
        ref = max(ref, pd.Timestamp(f"{year}-01-01"))
        current = members[active_on(members, ref) & members["name"].notna()]
        low, high = S.GROUP_SIZE
        for group in S.GROUPS:
            in_group = current[current["group"] == group]
            count = in_group["name"].nunique()
            if not low <= count <= high:
                row = int(in_group[ROW].iloc[0]) if len(in_group) else v.header_rows.get("members")
                out.append(RULES["E-GRP-01"].problem(row, group=group, day=ref, count=count))
    both = members[members["name"].notna() & members["group"].isin(S.GROUPS)]
    if len(both):
        m = both.merge(both, on="name", suffixes=("", "_o"))
        m = m[(m["group"] != m["group_o"]) & (m[ROW] > m[f"{ROW}_o"])]
        overlap = (m["term_from"].isna() | m["term_to_o"].isna() | (m["term_from"] <= m["term_to_o"])) & (
            m["term_to"].isna() | m["term_from_o"].isna() | (m["term_to"] >= m["term_from_o"]))
        m = m[overlap]
        out += RULES["E-GRP-02"].flag(m, pd.Series(True, index=m.index), other=m[f"{ROW}_o"])
    return out
