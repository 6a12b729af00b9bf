"""The monthly cycle (待公示 -> 公示中 -> 已确认, objections, closing a month): the rules that
decide whether an entry may count, and the seals of closed months (issue 9)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ..core.clean import ROW
from ..core.problems import Problem
from ..core.seal import ADDED, CHANGED, DELETED, DETAIL_EDITED, LEDGER_DIFF, SealChange, check_seals, unsealed_confirmed
from ..core.village import Village
from ..rules import RULES


def check_cycle(eff: pd.DataFrame) -> list[Problem]:
    """An entry is not 已确认 while an objection to it is still open (SPEC: only undisputed or
    resolved entries enter the ledger).

    :param eff: the entries with their objections' outcome (``core.village.effective_entries``).
    """
    open_confirmed = eff["status"].eq(S.ENTRY_CONFIRMED) & eff["objection_open"]
    return RULES["E-ENT-16"].flag(eff, open_confirmed)


def check_seals_of(village: Village) -> list[Problem]:
    """Sealed months (issue 9): every later edit of a sealed month is an error naming what
    changed (``core.seal.check_seals``: E-SEAL-01 … 09); a closed month with 已确认 entries and
    no seal (closed by hand, or before the village used this toolkit: ``core.seal.unsealed_confirmed``)
    is only a warning (W-SEAL-01), never an error.
    """
    seals = village.tables.get("seals")
    pairs = seal_findings(village)
    out = [p for _, p in pairs] + [p for _, p in exchange_findings(village, {c.month for c, _ in pairs})]
    unsealed = unsealed_confirmed(village, seals, village.tables.get("ledger"))
    if len(unsealed):
        out += RULES["W-SEAL-01"].flag(unsealed.rename(columns={"row": ROW, "count": "entry_count"}),
                                       np.ones(len(unsealed), dtype=bool))
    return out


def exchange_findings(village: Village, changed: set[str]) -> list[tuple[str, Problem]]:
    """Exchanges typed (or edited) into a sealed month after its close (E-SEAL-10): the ledger
    recomputed now gives a sealed month's 可用积分 other than its sealed 月度台账 row while its
    累计积分 agrees, so the exchanges moved. Flagged: the household's exchanges dated in the
    first sealed month that differs. Months whose seal is broken otherwise (``changed``) are
    left to their own findings; an exchange deleted has no row to name (``ledger`` names it).
    Returns (sealed month, finding) pairs.
    """
    from ..core.ledger import compute_ledger
    from ..core.seal import ledger_differences, sealed_months

    ledger, exchanges = village.tables.get("ledger"), village["exchanges"]
    months = [m for m in sealed_months(village.tables.get("seals")) if m not in changed]
    if not months or ledger is None or not len(ledger) or not len(exchanges):
        return []
    expected = compute_ledger(village, pd.Period(max(months), "M"))
    diffs = ledger_differences(months, ledger, expected)
    moved_points = {(d.month, d.hh_id) for d in diffs if d.field == "cumulative"}
    first: dict[str, tuple] = {}
    for d in sorted((d for d in diffs if d.field == "available" and (d.month, d.hh_id) not in moved_points),
                    key=lambda d: d.month):
        first.setdefault(d.hh_id, (d.month, d.sealed, d.current))
    if not first:
        return []
    ex = exchanges[exchanges["hh_id"].isin(first.keys()) & exchanges["date"].notna()]
    labels = ex["date"].dt.strftime("%Y-%m")
    hit = np.array([first[h][0] == m for h, m in zip(ex["hh_id"], labels)], dtype=bool)  # the few flagged
    ex = ex[hit]
    month = ex["hh_id"].map(lambda h: first[h][0])
    found = RULES["E-SEAL-10"].flag(ex, np.ones(len(ex), dtype=bool), month=month,
                                    sealed=ex["hh_id"].map(lambda h: first[h][2]),
                                    current=ex["hh_id"].map(lambda h: first[h][1]))
    return list(zip(month.tolist(), found))


def seal_findings(village: Village) -> list[tuple[SealChange, Problem]]:
    """Each change of a sealed month (``core.seal.check_seals``) with its E-SEAL finding."""
    details = village.tables.get("sealed_entries")
    changes = check_seals(village, village.tables.get("seals"), details, village.tables.get("ledger"))
    return [(c, _seal_problem(c, details)) for c in changes]


_CHAIN_RULES = {"digest": ("E-SEAL-04", None), "digest_edited": ("E-SEAL-04", "edited"),
                "previous": ("E-SEAL-06", None), "code": ("E-SEAL-07", None), "duplicate": ("E-SEAL-08", None),
                "order": ("E-SEAL-08", "order"), "missing_seal": ("E-SEAL-08", "missing")}


def _seal_problem(c: SealChange, details: pd.DataFrame | None) -> Problem:
    """The finding for one change of a sealed month, in the clerk's terms."""
    values = dict(month=c.month, entry_id=c.entry_id, sealed=c.sealed, current=c.current)
    if c.kind == CHANGED:
        return RULES["E-SEAL-01"].problem(c.row, field=c.field, variant="points" if c.field == "points" else None,
                                          **values)
    if c.kind == DELETED:
        row = details[details[ROW].eq(c.row)].iloc[0]
        return RULES["E-SEAL-02"].problem(c.row, date=row["date"], hh_id=row["hh_id"], code=row["code"], **values)
    if c.kind == ADDED:
        return RULES["E-SEAL-03"].problem(c.row, **values)
    if c.kind == DETAIL_EDITED:
        return RULES["E-SEAL-05"].problem(c.row, field=c.field, variant=c.detail or None, **values)
    if c.kind == LEDGER_DIFF:
        return RULES["E-SEAL-09"].problem(c.row, field=c.field, variant=c.detail or None, hh_id=c.hh_id, **values)
    rule, variant = _CHAIN_RULES[c.detail]
    if c.detail == "order":
        values["prior"] = c.sealed
    if c.detail == "missing_seal":
        values["first"] = c.sealed
    return RULES[rule].problem(c.row, variant=variant, **values)
