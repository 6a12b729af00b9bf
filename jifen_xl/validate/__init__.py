"""Validation: typed village + schema + rule catalogue -> Report of every problem at once.

One module per sheet group; every finding is made from ``rules.RULES``:

* ``generic``     what the schema declares, on every sheet (required, dropdowns, keys, lookups, ranges)
* ``settings``    基本信息
* ``households``  住户名册
* ``indicators``  积分指标
* ``members``     小组成员
* ``entries``     积分登记 (scorers, caps)
* ``objections``  异议处理
* ``cycle``       the monthly cycle (an entry confirmed while its objection is open; sealed months)
* ``market``      爱心超市 (exchanges)

Rules are vectorised over whole frames (a village-year has 60,000 entries) and only the
flagged rows become `Problem`s.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable

from ..core.problems import Problem, Report
from ..core.village import Village, effective_entries
from .cycle import check_cycle, check_seals_of
from .entries import check_entries
from .generic import check_all
from .households import check_households
from .indicators import check_indicators
from .market import check_exchanges
from .members import check_members
from .objections import check_objections
from .settings import check_settings

__all__ = ["validate"]


def validate(village: Village, read_problems: Iterable[Problem] = (), today: _dt.date | None = None) -> Report:
    """Every problem of the village workbook at once.

    :param village: the typed village.
    :param read_problems: problems found while reading and cleaning (formats, formulas).
    :param today: the reference date for "current" group members (default: today).
    """
    today = today or _dt.date.today()
    problems: list[Problem] = list(read_problems)
    problems += check_settings(village)
    problems += check_all(village, problems)
    eff = effective_entries(village)
    problems += check_households(village["households"])
    problems += check_indicators(village["indicators"])
    problems += check_members(village, today)
    problems += check_entries(village, eff)
    problems += check_cycle(eff)
    problems += check_seals_of(village)
    problems += check_objections(village["objections"], eff)
    problems += check_exchanges(village, eff)
    return Report.of(problems)
