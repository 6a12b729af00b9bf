"""Findings of validation: one `Problem` per thing a clerk must look at."""

from __future__ import annotations

from dataclasses import dataclass, astuple

from ..schema import FINDING_HEADERS, LEVEL_ERROR, LEVEL_WARNING, SHEETS


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, in the clerk's terms.

    :param level: 错误 (blocks the ledger) or 警告.
    :param sheet: the Chinese sheet name.
    :param row: the Excel row number the clerk sees (1-based), or None for the whole sheet.
    :param column: the header as displayed, or "" for the whole row.
    :param message: what is wrong (Chinese).
    :param fix: how to fix it (Chinese).
    :param rule: rule identifier, e.g. ``E-ENT-05``.
    """

    sheet: str
    row: int | None
    column: str
    rule: str
    level: str
    message: str
    fix: str

    @property
    def is_error(self) -> bool:
        return self.level == LEVEL_ERROR

    def as_record(self) -> dict:
        """The seven 校验结果 columns, keyed by their Chinese headers."""
        return dict(zip(FINDING_HEADERS, (self.level, self.sheet, self.row, self.column,
                                          self.message, self.fix, self.rule)))

    def flat(self) -> tuple:
        return astuple(self)


#: Rule identifiers start with the level: ``E-`` is an 错误 (blocks the ledger), ``W-`` a 警告.
LEVEL_PREFIXES = {"E": LEVEL_ERROR, "W": LEVEL_WARNING}


def level_of(rule: str) -> str:
    """The level a rule identifier carries (``E-ENT-05`` -> 错误, ``W-ENT-08`` -> 警告)."""
    try:
        return LEVEL_PREFIXES[rule.split("-", 1)[0]]
    except KeyError:
        raise ValueError(f"rule id {rule!r} must start with E- or W-") from None


def error(sheet, row, column, rule, message, fix) -> Problem:
    return Problem(sheet, row, column, rule, LEVEL_ERROR, message, fix)


def warning(sheet, row, column, rule, message, fix) -> Problem:
    return Problem(sheet, row, column, rule, LEVEL_WARNING, message, fix)


@dataclass(frozen=True)
class Report:
    """All findings of one validation run, errors first, then by sheet and row."""

    problems: tuple[Problem, ...]

    @classmethod
    def of(cls, problems) -> "Report":
        order = {LEVEL_ERROR: 0, LEVEL_WARNING: 1}
        tabs = {s.name: i for i, s in enumerate(SHEETS)}
        return cls(tuple(sorted(set(problems), key=lambda p: (
            order.get(p.level, 2), tabs.get(p.sheet, 99), p.sheet, p.row if p.row is not None else 0,
            p.column, p.rule, p.message))))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == LEVEL_WARNING)

    @property
    def valid(self) -> bool:
        return not self.errors

    def records(self) -> list[dict]:
        return [p.as_record() for p in self.problems]
