"""The backend interface every workbook backend implements (file now, live Excel later).

A backend reads one declared table at a time as raw cell values (the core's
``clean`` module types them) and writes whole owned tables and the few cells of clerks' sheets
the schema lets the toolkit set (by row key): one :class:`WriteRequest`, planned (every refusal)
and then applied all or nothing, refused when the workbook changed since it was read
(:class:`ReadStamp`). Optional capabilities are declared (``CAP_*``). The app layer only talks
to this protocol; ``io/contract.py`` holds the checks every backend's planning shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from ..core.clean import FORMATS, shown_codes, to_code
from ..core.problems import Problem
from ..ooxml.sheetxml import column_letters, column_number
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

    def column_number(self, field_name: str | None) -> int | None:
        """1-based column where ``field_name``'s header was found; None if unknown."""
        letters = self.letters.get(field_name) if field_name else None
        return column_number(letters) if letters else None

    def cell(self, field_name: str, row: int) -> str:
        """A1-style address (no sheet) of ``field_name`` on Excel row ``row``; "" if unknown."""
        letter = self.letters.get(field_name)
        return f"{letter}{row}" if letter and row else ""

    def codes(self, field_name: str) -> pd.Series:
        """Column ``field_name`` typed as codes exactly as the core types it (``clean_frame``):
        each cell as its number format shows it (``clean.FORMATS``, 1 formatted "2026-"000 is
        「2026-001」), then ``clean.to_code``. The writer names rows by these keys."""
        values = self.frame[field_name]
        formats = self.frame.attrs.get(FORMATS) or {}
        if field_name in formats:
            values = pd.Series(shown_codes(values.tolist(), formats[field_name]), index=values.index, dtype=object)
        return to_code(values)


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


#: Optional capabilities a backend declares (``backend.capabilities``); the app asks, never assumes.
CAP_ADD_SHEET = "add_sheet"  # an owned sheet the workbook lacks is added
CAP_LINKS = "links"  # a finding links to the cell it is about
CAP_BACKUP = "backup"  # a copy of the workbook is kept before each write
CAP_MARK_CELLS = "mark_cells"  # offending cells are highlighted and given a note (live Excel)
CAP_FILL_TEMPLATE = "fill_template"  # a sheet is filled from a notice template
CAP_EXPORT_PDF = "export_pdf"  # a sheet is printed to PDF
CAP_SHEET_IMAGE = "sheet_image"  # a free-layout owned sheet (公示) is written whole from a one-sheet image


@dataclass(frozen=True)
class CellRef:
    """One cell of the workbook: the sheet's name as it is in the workbook, the Excel row and the
    1-based column. Each backend turns it into what it needs (a hyperlink target, a Range)."""

    sheet: str
    row: int
    col: int

    def address(self) -> str:
        """``'积分登记'!C5``: the internal hyperlink target Excel, WPS and LibreOffice understand."""
        return "'" + self.sheet.replace("'", "''") + "'!" + column_letters(self.col) + str(self.row)


@dataclass(frozen=True)
class ReadStamp:
    """What the workbook was when it was read; a write planned from that read is refused once
    the workbook has changed since (someone saved it in Excel meanwhile).

    :param label: the workbook, for messages.
    :param token: backend-defined (a file: size, modification time and inode).
    """

    label: str
    token: str


@dataclass(frozen=True)
class WriteRequest:
    """Everything one write sets, all or nothing.

    :param tables: owned sheet key -> its whole new data (columns = the spec's field names).
    :param links: owned sheet key -> per data row, the cell the row is about (or None), linked
        from the row's ``link_field`` cell.
    :param patches: single cells of ``patched`` columns of clerks' sheets, by row key.
    :param link_field: the field whose cells carry the links.
    :param images: free-layout owned sheet name (``schema.IMAGE_SHEETS``: 公示) -> a one-sheet .xlsx
        file (the filled notice template) whose sheet, values and look, replaces that sheet of the
        workbook (same place among the tabs) or is added after the last sheet.
    """

    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    links: Mapping[str, Sequence[CellRef | None]] = field(default_factory=dict)
    patches: Sequence[ColumnPatch] = ()
    link_field: str = "message"
    images: Mapping[str, Path] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.tables and not any(p.values for p in self.patches) and not self.images


@dataclass(frozen=True)
class WritePlan:
    """A write checked and worked out, not yet applied. Every refusal happens while planning.

    :param label: the workbook.
    :param stamp: the read the plan was made from.
    :param request: what is written.
    :param added: owned sheets the workbook lacks and will have (free-layout ones included).
    :param payload: the backend's own worked-out write (opaque to the app).
    """

    label: str
    stamp: ReadStamp
    request: WriteRequest
    added: tuple[str, ...] = ()
    payload: object = None


@dataclass(frozen=True)
class WriteResult:
    """What a write did.

    :param label: the workbook written.
    :param backup: the copy kept before writing, where the backend keeps one.
    :param added: owned sheets that were added.
    :param tables: owned sheet keys rewritten.
    :param patched: cells of clerks' sheets set.
    :param path: the file written (file backend only).
    :param images: free-layout sheets written from images (names).
    """

    label: str
    backup: Path | None = None
    added: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    patched: int = 0
    path: Path | None = None
    images: tuple[str, ...] = ()


class WorkbookBackend(Protocol):
    """What the app needs from a workbook, whoever holds it (a file, a live Excel workbook, memory).

    Reading is per declared table, whole; writing is planned (:meth:`plan_write`, which refuses
    or returns a :class:`WritePlan`) and then applied (:meth:`apply`), refused when the workbook
    changed since it was read (:meth:`stamp` at opening)."""

    label: str
    sheet_names: list[str]
    capabilities: frozenset[str]

    def has_sheet(self, spec: SheetSpec) -> bool: ...

    def read_table(self, spec: SheetSpec) -> RawTable: ...

    def stamp(self) -> ReadStamp:
        """The workbook as this backend read it."""

    def check_writable(self) -> None:
        """Refuse early, before any work, a workbook that could not be written."""

    def plan_write(self, request: WriteRequest) -> WritePlan:
        """Check and work out a write; raises ``WriteRefused``/``WorkbookLocked``, changes nothing."""

    def apply(self, plan: WritePlan) -> WriteResult:
        """Carry out a planned write, all or nothing; refused if the workbook changed since read."""
