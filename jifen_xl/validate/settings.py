"""基本信息: the workbook's year, publicity period and village name."""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..core.problems import Problem
from ..core.village import Village
from ..rules import RANGE, RULES
from .generic import outside


def _item(field_name: str) -> S.ColumnSpec:
    return next(c for c in S.SETTINGS.kv_rows if c.field == field_name)


def _outside(field_name: str, value) -> bool:
    """Whether ``value`` lies outside the item's declared bounds (the same test as every column's)."""
    return bool(outside(_item(field_name).bounds, pd.Series([value], dtype="float64")).iloc[0])


def check_settings(v: Village) -> list[Problem]:
    """年度 filled in and plausible, 公示天数 within its range, 村 named.

    A finding sits on the item's row (its 内容 cell), or on the header row (项目) when the item
    has no row at all."""
    spec = S.SETTINGS
    settings = v.settings

    def where(field_name: str) -> dict:
        row = v.settings_rows.get(field_name)
        if row:
            return dict(row=row, column=spec.header_of("value"))
        return dict(row=v.header_rows.get("settings"), column=spec.header_of("item"))

    out = []
    year = settings.get("year")
    if year is None or _outside("year", year):
        out.append(RULES.for_check(RANGE, spec, "year").problem(**where("year"), value=year))
    days = settings.get("publicity_days")
    if days is not None and _outside("publicity_days", days):
        out.append(RULES.for_check(RANGE, spec, "publicity_days").problem(**where("publicity_days"), value=days))
    if not settings.get("village"):
        out.append(RULES["W-SET-03"].problem(**where("village")))
    return out
