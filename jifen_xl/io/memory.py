"""A workbook held in memory: sheets as grids of cell values, read and written in whole blocks.

The second implementation of the backend interface (``io/base.py``), and the shape the live
Excel backend takes: a sheet is one block of values, what ``xw.Sheet.used_range.value`` gives;
a table is read in one call; a write replaces whole blocks (an owned sheet's rows under its
header, one column of a clerk's sheet), never cell by cell. The contract tests run the same
cases against it and the file backend.

Cells hold what a spreadsheet program hands over: ``str``, ``float``/``int``, ``bool``,
``datetime.date``/``datetime``, or ``None`` for an empty cell.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from .base import CAP_ADD_SHEET, CAP_LINKS, CAP_SHEET_IMAGE, CellRef, ReadStamp, WritePlan, WriteRequest, WriteResult
from .grid import GridBook, col_letter
from .contract import (clerk_column_refusal, image_writes, owned_writes, patches_by_sheet, rows_of_keys,
                       stale_refusal)
from .sheet_image import image_values


def cell_value(value):
    """A frame value as a spreadsheet cell holds it (NaN, NaT, NA -> empty)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def owned_rows(spec, rows: list[list], hdr: int, columns: dict[str, int], frame,
               convert=None) -> tuple[list[list], int]:
    """The data rows an owned sheet is rewritten with: ``frame``'s fields in the sheet's own
    columns (``columns``: field -> 0-based column, found under header row ``hdr`` of ``rows``),
    each value through ``cell_value`` (then ``convert``), and the rows' width.

    :raises WriteRefused: a clerk typed something in a column of the sheet the toolkit does not own.
    """
    ours = {columns[c.field]: c.field for c in spec.columns if c.field in columns}
    for row in rows[hdr + 1:]:
        for c, value in enumerate(row):
            if c not in ours and value not in (None, ""):
                raise clerk_column_refusal(spec, col_letter(c))
    width = max(len(rows[hdr]), *(c + 1 for c in ours))
    data = [[None] * width for _ in range(len(frame))]
    for c, field_name in ours.items():
        if field_name in frame.columns:
            for row, value in zip(data, frame[field_name].tolist()):
                row[c] = cell_value(value) if convert is None else convert(cell_value(value))
    return data, width


class MemoryWorkbook:
    """The workbook itself: ``{sheet name: rows}``, each row a list of cell values (rows may be
    ragged), its hyperlinks, and a version that every change bumps.

    :param sheets: the sheets in tab order (copied: the caller's lists are never changed).
    :param label: how messages name the workbook.
    """

    def __init__(self, sheets: Mapping[str, list[list]], label: str = "内存工作簿"):
        self.label = label
        self.sheets: dict[str, list[list]] = {name: [list(r) for r in rows] for name, rows in sheets.items()}
        #: hyperlinks: the cell that links -> the cell it links to
        self.links: dict[CellRef, CellRef] = {}
        self.version = 0

    def edit(self, sheet_name: str, row: int, col: int, value) -> None:
        """Type ``value`` into one cell (1-based row and column), as a clerk does in Excel."""
        rows = self.sheets.setdefault(sheet_name, [])
        while len(rows) < row:
            rows.append([])
        rows[row - 1].extend([None] * (col - len(rows[row - 1])))
        rows[row - 1][col - 1] = value
        self.version += 1

    def rename(self, old: str, new: str) -> None:
        """Rename a sheet in place (tab order kept)."""
        self.sheets = {(new if n == old else n): rows for n, rows in self.sheets.items()}
        self.version += 1


class MemoryBook(GridBook):
    """The backend over a :class:`MemoryWorkbook`: one read of it (stamped when opened), and
    writes planned from that read.

    :param workbook: the workbook in memory.
    """

    capabilities = frozenset({CAP_ADD_SHEET, CAP_LINKS, CAP_SHEET_IMAGE})

    def __init__(self, workbook: MemoryWorkbook):
        self.workbook = workbook
        self.label = workbook.label
        self._read = self.stamp()
        self._reindex()

    def _reindex(self) -> None:
        self.sheets = self.workbook.sheets
        self.sheet_names = list(self.sheets)
        self._index_sheets()

    # -- reading ---------------------------------------------------------------
    def _rows(self, sheet_name: str) -> tuple[list[list], list]:
        return _grid(self.sheets[sheet_name]), []

    def stamp(self) -> ReadStamp:
        return ReadStamp(self.label, str(self.workbook.version))

    # -- writing ---------------------------------------------------------------
    def check_writable(self) -> None:
        """A workbook in memory can always be written."""

    def plan_write(self, request: WriteRequest) -> WritePlan:
        """Check the whole write and work out each block it sets, changing nothing."""
        blocks: dict[str, list[list]] = {}
        added: list[str] = []
        links: dict[CellRef, CellRef] = {}
        for write in owned_writes(request):
            spec = write.spec
            name = self._owned_name(spec)
            if name is None:
                name = spec.name
                added.append(name)
            old = self.sheets.get(name) or [list(spec.headers)]
            hdr, columns = self._header(spec, old)
            data = owned_rows(spec, old, hdr, columns, write.frame)[0]
            blocks[name] = [list(r) for r in old[:hdr + 1]] + data
            if write.links is not None:
                at = columns[request.link_field] + 1
                links |= {CellRef(name, hdr + 2 + i, at): t for i, t in enumerate(write.links) if t is not None}
        for spec, patches in patches_by_sheet(request.patches).items():
            name = self._require_sheet(spec)
            seen = self.read_table(spec)
            rows = blocks.get(name) or [list(r) for r in self.sheets[name]]
            _hdr, columns = self._header(spec, rows)
            for patch in patches:
                c = columns[patch.field]
                for key, rn in rows_of_keys(spec, seen, set(patch.values), self.label).items():
                    row = rows[rn - 1]
                    row.extend([None] * (c + 1 - len(row)))
                    row[c] = cell_value(patch.values[key])
            blocks[name] = rows
        for name, file in image_writes(request):  # a free-layout sheet: its values, as one block
            found = next((n for n in self.sheets if n.strip() == name), None)
            if found is None:
                added.append(name)
            blocks[found or name] = image_values(file, name)
        return WritePlan(self.label, self._read, request, tuple(added), payload=(blocks, links))

    def apply(self, plan: WritePlan) -> WriteResult:
        """Set every planned block, or none when the workbook changed since it was read."""
        if plan.stamp != self.stamp():
            raise stale_refusal(self.label)
        blocks, links = plan.payload
        book = self.workbook
        book.sheets.update(blocks)
        book.links = {k: v for k, v in book.links.items() if k.sheet not in blocks} | links
        book.version += 1
        self._read = self.stamp()
        self._reindex()
        patched = sum(len(p.values) for p in plan.request.patches)
        return WriteResult(self.label, None, plan.added, tuple(plan.request.tables), patched,
                           images=tuple(n for n in plan.request.images))

    # -- helpers ---------------------------------------------------------------
    def _owned_name(self, spec: S.SheetSpec) -> str | None:
        """An owned sheet, found by its exact name (surrounding spaces aside), never an archived
        copy such as 「月度台账（10月公示）」."""
        return next((n for n in self.sheets if n.strip() == spec.name), None)

    def _header(self, spec: S.SheetSpec, rows: list[list]) -> tuple[int, dict[str, int]]:
        """The header row (0-based) of ``rows`` and field -> 0-based column."""
        required = [c.header for c in spec.columns if c.required]
        hdr, index, _start = self._locate_header(spec, spec.name, _grid(rows), [], spec.headers, required)
        return hdr, {spec.column_by_header(h).field: i for h, i in index.items()}


def _grid(rows: list[list]) -> list[list]:
    """Rows padded to one width, empty cells as "" (as the file reader hands them over)."""
    width = max((len(r) for r in rows), default=0)
    return [[("" if v is None else v) for v in r] + [""] * (width - len(r)) for r in rows]

