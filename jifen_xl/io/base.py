"""The backend interface every workbook backend implements (file now, live Excel later).

A backend reads one declared table at a time as raw cell values (the core's
``clean`` module types them) and writes whole owned tables in one call. The
app layer only talks to this protocol.
"""

from __future__ import annotations

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


class WorkbookBackend(Protocol):
    """What the app needs from a workbook, whoever holds it."""

    label: str
    sheet_names: list[str]

    def has_sheet(self, spec: SheetSpec) -> bool: ...

    def read_table(self, spec: SheetSpec) -> RawTable: ...

    def check_writable(self) -> None: ...

    def write_tables(self, frames: dict[str, pd.DataFrame], links: dict[str, list[str | None]] | None = None):
        ...
