"""The backend interface every workbook backend implements (file now, live Excel later).

A backend reads one declared table at a time as raw cell values (the core's
``clean`` module types them) and writes, in one call, whole owned tables and the few
cells of clerks' sheets the schema lets the toolkit set (by row key). The
app layer only talks to this protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from ..core.problems import Problem
from ..schema import SheetSpec


@dataclass
class RawTable:
    """One sheet as read: raw values under field names, plus ``_row`` (Excel row number).

    :param spec: the declared sheet.
    :param sheet_name: the sheet's name as it is in the file.
    :param header_row: the Excel row number of the header row.
    :param frame: raw cell values, one column per declared field found, plus ``_row``.
    :param letters: field -> column letter where its header was found.
    :param problems: reading problems (e.g. a formula without a cached value).
    """

    spec: SheetSpec
    sheet_name: str
    header_row: int
    frame: pd.DataFrame
    letters: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def cell(self, field_name: str, row: int) -> str:
        """A1-style address (no sheet) of ``field_name`` on Excel row ``row``; "" if unknown."""
        letter = self.letters.get(field_name)
        return f"{letter}{row}" if letter and row else ""


@dataclass(frozen=True)
class ColumnPatch:
    """New values for some cells of one column of a clerk's sheet (积分登记.状态 when a month
    is published or closed), each row named by its key, never by its position.

    :param sheet: the sheet key (``"entries"``); the sheet must declare a ``key_field``.
    :param field: the column set; the schema must declare it ``patched``.
    :param values: row key, as the core holds it (typed by ``core.clean.to_code``: "2026-00017") ->
        the new value (text, number, date; None empties the cell).
    """

    sheet: str
    field: str
    values: Mapping[str, object]


class WorkbookBackend(Protocol):
    """What the app needs from a workbook, whoever holds it."""

    label: str
    sheet_names: list[str]

    def has_sheet(self, spec: SheetSpec) -> bool: ...

    def read_table(self, spec: SheetSpec) -> RawTable: ...

    def check_writable(self) -> None: ...

    def write_tables(self, frames: dict[str, pd.DataFrame], links: dict[str, list[str | None]] | None = None,
                     patches: Sequence[ColumnPatch] = ()):
        """Write whole owned tables (``frames``) and single cells of declared columns of the
        clerk's sheets (``patches``), all or nothing."""
