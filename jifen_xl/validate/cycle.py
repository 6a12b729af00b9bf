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
    out = [p for _, p in seal_findings(village)]
    unsealed = unsealed_confirmed(village, seals, village.tables.get("ledger"))
    if len(unsealed):
        out += RULES["W-SEAL-01"].flag(unsealed.rename(columns={"row": ROW, "count": "entry_count"}),
                                       np.ones(len(unsealed), dtype=bool))
    return out


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
