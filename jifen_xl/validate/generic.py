"""Checks the schema declares, run the same way on every sheet: required cells, dropdown lists,
unique keys, lookups into another sheet and numeric ranges.

Which rule reports a finding comes from the catalogue (``RULES.for_check``): a sheet's own rule
where it has one (E-HH-01 for a repeated 户号), else the general one (E-KEY).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import schema as S
from ..core.clean import ROW, restore_lost_zeros
from ..core.problems import Problem
from ..core.village import Village
from ..rules import CHOICE, KEY, LOOKUP, RANGE, REQUIRED, RULES, column_bounds_text

_FAR_PAST, _FAR_FUTURE = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31")


def outside(bounds: S.Bounds | None, values: pd.Series) -> pd.Series:
    """Filled cells whose number lies outside ``bounds`` (or is not whole where it must be)."""
    if bounds is None:
        return pd.Series(False, index=values.index)
    bad = pd.Series(False, index=values.index)
    if bounds.low is not None:
        bad |= (values <= bounds.low) if bounds.low_open else (values < bounds.low)
    if bounds.high is not None:
        bad |= values > bounds.high
    if bounds.whole:
        bad |= values != np.floor(values.fillna(0))
    return bad & values.notna()


def required(spec: S.SheetSpec, frame: pd.DataFrame, unparsed: set[tuple[str, int, str]]) -> list[Problem]:
    """Blank required cells; a cell already reported as unreadable (``unparsed``: sheet, row,
    header) is not "empty" as well."""
    out: list[Problem] = []
    for col in spec.columns:
        if not col.required:
            continue
        missing = frame[col.field].isna()
        rows = [r for sheet, r, h in unparsed if sheet == spec.name and h == col.header]
        if rows:
            missing &= ~frame[ROW].isin(rows)
        out += RULES.for_check(REQUIRED, spec, col.field).flag(
            frame, missing, spec=spec, field=col.field, hint=f"（{col.hint}）" if col.hint else "")
    return out


def choices(spec: S.SheetSpec, frame: pd.DataFrame) -> list[Problem]:
    """Values outside a column's dropdown list."""
    out: list[Problem] = []
    for col in spec.columns:
        if col.choices:
            values = frame[col.field]
            bad = ~values.isin(col.choices)
            if not bad.any():  # the common case: every filled cell from the list, none blank
                continue
            bad &= values.notna()
            out += RULES.for_check(CHOICE, spec, col.field).flag(
                frame, bad, spec=spec, field=col.field, value=values, choices="、".join(col.choices))
    return out


def unique_key(spec: S.SheetSpec, frame: pd.DataFrame) -> list[Problem]:
    """Every row whose key repeats an earlier row's, naming that row; a key declared with
    ``key_periods`` may repeat for periods that do not overlap."""
    key = spec.key_field
    if key is None:
        return []
    rule = RULES.for_check(KEY, spec, key)
    if spec.key_periods:
        return _overlapping(spec, frame, rule)
    values = frame[key]
    dup = frame.duplicated(key, keep="first")
    if not dup.any():
        return []
    dup &= values.notna()
    first = frame[values.notna()].drop_duplicates(key).set_index(key)[ROW]
    return rule.flag(frame, dup, spec=spec, field=key, value=values, first=lambda rows: rows[key].map(first))


def _overlapping(spec: S.SheetSpec, frame: pd.DataFrame, rule) -> list[Problem]:
    """Rows of one key whose periods overlap an earlier row's (a handful of keys repeat)."""
    key = spec.key_field
    start_field, end_field = spec.key_periods
    keyed = frame[frame[key].notna()]
    repeated = keyed[key][keyed[key].duplicated(keep=False)].unique()
    out = []
    for value in repeated:
        rows = keyed[keyed[key] == value].sort_values([start_field, ROW], na_position="first")
        start = rows[start_field].fillna(_FAR_PAST)
        end = rows[end_field].fillna(_FAR_FUTURE)
        prev_end, prev_row = None, None
        for s, e, r in zip(start, end, rows[ROW]):
            if prev_end is not None and s <= prev_end:
                out.append(rule.problem(int(r), spec=spec, field=key, value=value, first=prev_row))
            if prev_end is None or e > prev_end:
                prev_end, prev_row = e, int(r)
    return out


def lookups(spec: S.SheetSpec, frame: pd.DataFrame, village: Village) -> list[Problem]:
    """Values of a lookup column (``ColumnSpec.lookup``) missing from the sheet they refer to.

    A rule with a ``near`` wording names the value the clerk probably meant when the value is
    exactly one key with its leading zeros lost (户号 0012 typed as 12: Excel took it for a
    number; ``core.clean.restore_lost_zeros``, the same matching the recusal rule uses)."""
    out: list[Problem] = []
    for col in spec.columns:
        if not col.lookup:
            continue
        target_key, target_field = col.lookup
        target = S.sheet(target_key)
        known = village[target_key][target_field].dropna()
        values = frame[col.field]
        unknown = ~values.isin(known)
        if not unknown.any():  # the common case: every value known, none blank
            continue
        unknown &= values.notna()
        rule = RULES.for_check(LOOKUP, spec, col.field)
        names = dict(spec=spec, field=col.field, target=target.name, target_header=target.header_of(target_field))
        if "near" in rule.variants and col.type == S.CODE:
            near = pd.Series(None, index=frame.index, dtype=object)
            near[unknown] = restore_lost_zeros(values[unknown], known)
            has_near = unknown & near.ne(values)
            out += rule.flag(frame, has_near, variant="near", value=values, near=near, **names)
            unknown &= ~has_near
        out += rule.flag(frame, unknown, value=values, **names)
    return out


def ranges(spec: S.SheetSpec, frame: pd.DataFrame) -> list[Problem]:
    """Numbers outside a column's declared ``bounds``."""
    out: list[Problem] = []
    for col in spec.columns:
        if col.bounds is not None:
            bad = outside(col.bounds, frame[col.field])
            out += RULES.for_check(RANGE, spec, col.field).flag(
                frame, bad, spec=spec, field=col.field, value=frame[col.field], bounds=column_bounds_text(col))
    return out


def check_sheet(spec: S.SheetSpec, frame: pd.DataFrame, village: Village,
                unparsed: set[tuple[str, int, str]] = frozenset()) -> list[Problem]:
    """Every schema-declared check of one sheet."""
    return (required(spec, frame, unparsed) + choices(spec, frame) + unique_key(spec, frame)
            + lookups(spec, frame, village) + ranges(spec, frame))


def check_all(village: Village, read_problems: Iterable[Problem] = ()) -> list[Problem]:
    """The schema-declared checks of every clerk sheet the village has (基本信息 has its own)."""
    unparsed = {(p.sheet, p.row, p.column) for p in read_problems if RULES.is_format(p.rule)}
    out: list[Problem] = []
    for spec in S.CLERK_SHEETS:
        if spec.key == "settings" or spec.key not in village.tables:
            continue
        out += check_sheet(spec, village[spec.key], village, unparsed)
    return out
