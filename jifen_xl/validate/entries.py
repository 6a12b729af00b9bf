"""积分登记: the item in force on the entry's date, the points it gives, the scorers, the caps.

A village-year has 60,000 entries: every rule is a whole-column operation and only the flagged
rows become findings. Repeated 登记编号, unknown 户号/指标编码 and a 数量 that is not a
positive whole number are schema-driven (``generic``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ..core.clean import ROW, restore_lost_zeros
from ..core.names import split_names
from ..core.problems import Problem
from ..core.village import Village
from ..rules import RULES
from .generic import outside


def check_entries(v: Village, eff: pd.DataFrame) -> list[Problem]:
    """Rules of the entries beyond the schema's (``eff``: ``core.village.effective_entries``)."""
    out: list[Problem] = []
    hh = v["households"]
    known_code = eff["code"].notna() & eff["code"].isin(v["indicators"]["code"].dropna())
    # A known code whose rows do not cover the date (or only an unfinished row does).
    not_in_force = known_code & eff["date"].notna() & ~eff["in_force"]
    out += RULES["E-ENT-04"].flag(eff, not_in_force)
    year = v.year
    if year is not None:
        outside_year = eff["date"].notna() & (eff["date"].dt.year != year)
        out += RULES["E-ENT-05"].flag(eff, outside_year, year=year)
    bad_qty = outside(S.ENTRIES.column("qty").bounds, eff["qty"])
    typed = eff["points"]
    mismatch = (typed.notna() & eff["computed"].notna() & ~eff["corrected"] & ~eff["corrects"] & ~bad_qty
                & ((typed - eff["computed"]).abs() > 1e-9))
    out += RULES["E-ENT-07"].flag(eff, mismatch, count_qty=lambda rows: rows["qty"].fillna(1.0),
                                  item_value=lambda rows: rows["value"])
    registry = hh.drop_duplicates("hh_id").set_index("hh_id")
    known_head = eff["hh_id"].map(registry["head"])
    head_diff = eff["head"].notna() & known_head.notna() & (eff["head"] != known_head)
    out += RULES["W-ENT-08"].flag(eff, head_diff, registered=known_head)
    name_diff = eff["item_name"].notna() & eff["catalogue_name"].notna() & (eff["item_name"] != eff["catalogue_name"])
    out += RULES["W-ENT-09"].flag(eff, name_diff)
    status = eff["hh_id"].map(registry["status"])
    left = status.isin([s for s in S.HOUSEHOLD_STATUS if s != S.HH_ACTIVE])
    out += RULES["W-ENT-14"].flag(eff, left, hh_status=status)
    no_proof = eff["kind"].eq(S.KIND_DEDUCT) & eff["evidence"].isna() & ~eff["withdrawn"]
    out += RULES["W-ENT-15"].flag(eff, no_proof)
    out += scorer_problems(v, eff)
    out += cap_problems(eff)
    return out


def scorer_problems(v: Village, eff: pd.DataFrame) -> list[Problem]:
    """评议人 must be review-group members in term on the entry's date, and never score their own household.

    Scorer lists repeat (a few hundred distinct 、-joined lists over 60,000 entries), so the
    work is done per distinct list and per name, on the entries' positions in that group.
    """
    members = v["members"]
    review = members[members["group"].eq(S.GROUP_REVIEW) & members["name"].notna()]
    known = set(members["name"].dropna())
    review_hh = restore_lost_zeros(review["hh_id"], v["households"]["hh_id"])  # 213 typed for 「0213」
    terms: dict[str, list[tuple]] = {}
    for name, start, end, hh in zip(review["name"], review["term_from"], review["term_to"], review_hh):
        terms.setdefault(name, []).append((start, end, hh))
    dates = eff["date"].to_numpy()
    households = eff["hh_id"].to_numpy()
    rows = eff[ROW].to_numpy()
    found: list[tuple[int, int, str, str]] = []  # (position, order, scorer, what)
    dated = eff[["scorers"]][eff["date"].notna()]  # an unreadable date is reported by itself, not as "out of term"
    for combo, positions in dated.groupby("scorers", sort=False).indices.items():
        positions = dated.index.to_numpy()[positions]
        for order, scorer in enumerate(split_names(combo, known)):
            spans = terms.get(scorer)
            if spans is None:
                found += [(int(p), order, scorer, "unknown") for p in positions]
                continue
            when = dates[positions]
            in_term = np.zeros(len(positions), dtype=bool)
            own = np.zeros(len(positions), dtype=bool)
            for start, end, hh in spans:
                ok = np.ones(len(positions), dtype=bool)
                if not pd.isna(start):
                    ok &= when >= np.datetime64(start)
                if not pd.isna(end):
                    ok &= when <= np.datetime64(end)
                in_term |= ok
                if hh is not None:
                    own |= ok & (households[positions] == hh)
            found += [(int(p), order, scorer, "term") for p in positions[~in_term]]
            found += [(int(p), order, scorer, "own") for p in positions[own]]
    out = []
    for pos, _order, scorer, what in sorted(found):
        row = int(rows[pos])
        if what == "own":
            out.append(RULES["E-ENT-11"].problem(row, scorer=scorer, hh_id=households[pos]))
        elif what == "term":
            out.append(RULES["E-ENT-10"].problem(row, variant="term", scorer=scorer, day=dates[pos]))
        else:
            out.append(RULES["E-ENT-10"].problem(row, scorer=scorer))
    return out


def cap_problems(eff: pd.DataFrame) -> list[Problem]:
    """The row that first takes a household past an item's monthly (E-ENT-12) or yearly (E-ENT-13) cap."""
    live = eff[["hh_id", "code", "date", "effective", "cap_month", "cap_year", ROW]][
        ~eff["withdrawn"] & eff["effective"].notna() & eff["date"].notna() & eff["hh_id"].notna()
        & (eff["cap_month"].notna() | eff["cap_year"].notna())]
    if live.empty:
        return []
    live = live.sort_values(["date", ROW], kind="stable").assign(
        absval=lambda f: f["effective"].abs(), month=lambda f: f["date"].dt.to_period("M"))
    out = []
    for cap, keys, rule in (("cap_month", ["hh_id", "code", "month"], "E-ENT-12"),
                            ("cap_year", ["hh_id", "code"], "E-ENT-13")):
        sub = live[live[cap].notna()]
        if sub.empty:
            continue
        running = sub.groupby(keys, sort=False)["absval"].cumsum()
        before = running - sub["absval"]
        crossing = (running > sub[cap] + 1e-9) & (before <= sub[cap] + 1e-9)
        out += RULES[rule].flag(sub, crossing, total=running, cap=sub[cap])
    return out
