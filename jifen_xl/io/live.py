"""The live backend: a workbook open in Excel, read and written through xlwings (issue 12).

The third implementation of ``io/base.WorkbookBackend`` (after the file and the in-memory ones),
used by the buttons (``jifen_xl.macros``) and the UDFs (``jifen_xl.udfs``) on ``xw.Book.caller()``.
Every call into Excel is a whole block, never a cell at a time (GUIDE §3.A):

* reading a declared sheet is ONE value read of its used range from A1 (``options(ndim=2)``,
  error cells as text so they can be reported), cached until the next write; the header row is
  then found in that grid exactly as the file reader finds it (``io.grid.GridBook``). Its merged
  blocks are read too, so a merged 备注 or title row reads as the file reader reads it: one
  ``merge_cells`` call says a sheet has none (the usual case); otherwise the range is halved down
  to each merged cell and its ``merge_area`` asked (calls grow with the merged cells, never with
  the rows). An engine that cannot tell (xlwings' remote engine) reads a block as Excel shows it,
  its value in the top-left cell only;
* an owned sheet (月度台账, 校验结果 ...) is rewritten as a block: its old data rows cleared in one
  operation, the new rows written in one, its Excel table resized to them;
* a patched column of a clerk's sheet (积分登记.状态 / 积分) is read as formulas once over the rows
  it touches while the write is planned: a patched cell holding a formula, or inside a merged
  block, is refused with the file backend's words (``io.contract``); then the new values are
  merged in (every other row's formula as read, a constant as its value was read) and written
  back through ``Range.formula`` once, cut around any merged block crossing the column, so a
  formula in a row the toolkit does not set stays a formula. An engine that cannot read formulas
  (xlwings' remote engine sends values only) gets each run of consecutive patched rows written
  instead, never a cell the toolkit does not set (there a formula in a patched cell cannot be
  told, and is overwritten);
* findings are linked, highlighted and given a note on at most ``MAX_LINKS`` / ``MAX_MARKS`` /
  ``MAX_NOTES`` cells (a bounded number of operations whatever the number of rows); highlighting
  uses one colour operation per multi-area address of up to 255 characters where the engine can
  address such ranges (Excel), one per cell otherwise.

Writes are planned first (every refusal, with the same checks and wording as the file backend:
``io/contract.py``), then applied. Excel has no transaction: the plan is worked out completely
before the first call into Excel so that applying it is plain block writes.

xlwings is imported by the caller (macros, udfs, tests): this module only talks to the Book it is
handed, so importing it never needs Excel.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from ..core.clean import ROW, CellFormats
from ..core.problems import Problem, error
from ..errors import JifenError
from .base import (CAP_ADD_SHEET, CAP_LINKS, CAP_MARK_CELLS, CellRef, RawTable, ReadStamp, WritePlan, WriteRequest,
                   WriteResult)
from .contract import (MERGED_CELLS, covered_cell_refusal, formula_cell_refusal, image_writes,
                       owned_writes, patches_by_sheet, rows_of_keys, stale_refusal)
from .grid import GridBook, col_letter
from .memory import cell_value, owned_rows

#: At most this many findings get a hyperlink from 校验结果 (one Excel call each).
MAX_LINKS = 200
#: At most this many offending cells are highlighted.
MAX_MARKS = 500
#: At most this many offending cells get a note (the finding's text).
MAX_NOTES = 20
#: The fill of an offending cell (light red, as Excel's "bad" style).
MARK_COLOR = "#FFC7CE"
#: Excel's limit on the length of an address passed to ``Range()``.
MAX_ADDRESS_CHARS = 255
#: What Excel shows in an error cell (read with ``err_to_str``).
ERROR_TEXTS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#DATA!",
                         "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!"})


@dataclass
class _Ops:
    """The Excel calls a plan makes, in order (a callable each) and what they touch."""

    calls: list = field(default_factory=list)
    added: list[str] = field(default_factory=list)


class LiveBook(GridBook):
    """The backend over an xlwings ``Book`` (a workbook open in Excel, or xlwings' remote engine).

    :param book: the ``xw.Book`` (``xw.Book.caller()`` in a macro).
    """

    capabilities = frozenset({CAP_ADD_SHEET, CAP_LINKS, CAP_MARK_CELLS})

    def __init__(self, book):
        self.book = book
        self.label = book.name
        #: range operations made so far (value/formula reads and writes, clears, colours, notes, links)
        self.operations = 0
        self._generation = 0
        self._cache: dict[str, tuple[list[list], list[Problem]]] = {}
        self._refresh_names()
        self._read = self.stamp()

    def _refresh_names(self) -> None:
        self.sheet_names = [s.name for s in self.book.sheets]

    def _op(self, n: int = 1) -> None:
        self.operations += n

    # -- reading ---------------------------------------------------------------
    def _block(self, sheet_name: str) -> tuple[list[list], list]:
        """The sheet's cells from A1 to the used range's last cell, in one read, "" for empty, and
        its merged blocks (``_merged``)."""
        if sheet_name not in self._cache:
            sheet = self.book.sheets[sheet_name]
            self._op(2)  # the used range's extent, then its values
            last = sheet.used_range.last_cell
            values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2, err_to_str=True).value
            rows = [[_cell(v) for v in row] for row in (values or [])]
            self._cache[sheet_name] = (rows, self._merged(sheet, last.row, last.column))
        return self._cache[sheet_name]

    def _rows(self, sheet_name: str) -> tuple[list[list], list]:
        # Excel shows a merged block's value in its top-left cell only; the grid reader reads it
        # in every cell the block covers below the header, as the file reader does.
        return self._block(sheet_name)

    def _merged(self, sheet, rows: int, cols: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """The merged blocks of the sheet's used range, 0-based ((first row, first col), (last
        row, last col)) as the file readers give them. One call tells a sheet without any (the
        usual case); otherwise the range is halved until each merged cell is found and asked for
        its block, skipping the cells of blocks already known: the calls grow with the merged
        cells, not with the rows. An engine that cannot tell (xlwings' remote engine) gives none:
        there a merged block reads as Excel shows it, its value in the top-left cell only."""
        found: list[tuple[tuple[int, int], tuple[int, int]]] = []
        try:
            self._op()
            if rows < 1 or cols < 1 or sheet.range((1, 1), (rows, cols)).merge_cells is False:
                return found
        except NotImplementedError:
            self.operations -= 1  # nothing reached Excel
            return found

        def known(r0, c0, r1, c1) -> bool:  # the range lies inside one block already found
            return any(a <= r0 and r1 <= b and c <= c0 and c1 <= d for (a, c), (b, d) in found)

        def search(r0: int, c0: int, r1: int, c1: int, checked: bool) -> None:  # 1-based, inclusive
            if known(r0 - 1, c0 - 1, r1 - 1, c1 - 1):
                return
            if not checked:
                self._op()
                if sheet.range((r0, c0), (r1, c1)).merge_cells is False:
                    return
            if (r0, c0) == (r1, c1):
                self._op()
                area = sheet.range((r0, c0)).merge_area
                (ar, ac), (nr, nc) = (area.row, area.column), area.shape
                if (nr, nc) != (1, 1):
                    found.append(((ar - 1, ac - 1), (ar + nr - 2, ac + nc - 2)))
                return
            if r1 > r0:
                mid = (r0 + r1) // 2
                search(r0, c0, mid, c1, False)
                search(mid + 1, c0, r1, c1, False)
            else:
                mid = (c0 + c1) // 2
                search(r0, c0, r1, mid, False)
                search(r0, mid + 1, r1, c1, False)

        search(1, 1, rows, cols, True)
        return found

    def read_table(self, spec: S.SheetSpec) -> RawTable:
        """Read ``spec`` from the one block of its sheet; error cells become problems (E-FMT-FORMULA),
        as the file reader reports them, and read as empty."""
        table = super().read_table(spec)
        frame = table.frame
        fields = [f for f in frame.columns if f != ROW]
        if len(frame) and fields:
            cells = frame[fields].to_numpy(dtype=object)
            is_error = frame[fields].isin(list(ERROR_TEXTS)).to_numpy()  # hashed: cells of any type
            for i, j in zip(*np.nonzero(is_error)):
                col = spec.column(fields[j])
                table.problems.append(error(spec.name, int(frame[ROW].iloc[i]), col.header, "E-FMT-FORMULA",
                                            f"公式结果是错误值 {cells[i, j]}", "请检查该单元格的公式，或直接填写数值"))
            if is_error.any():
                for j, name in enumerate(fields):
                    if is_error[:, j].any():
                        frame[name] = frame[name].mask(pd.Series(is_error[:, j], index=frame.index), "")
        return table

    def _code_formats(self, spec, sheet_name, frame, fields, merged) -> CellFormats | None:
        """户号 45 formatted 0000 reads as 「0045」: the number format of each code column holding
        numbers, read once for the whole column (one call; a column of mixed formats, or an engine
        that cannot tell formats, keeps the raw numbers)."""
        out = CellFormats()
        for name, i in fields.items():
            if spec.column(name).type != S.CODE:
                continue
            values = frame[name].tolist()
            numeric = [v.__class__ in (int, float) for v in values]
            if not any(numeric):
                continue
            rows = frame[ROW].tolist()
            sheet = self.book.sheets[sheet_name]
            try:
                self._op()
                fmt = sheet.range((rows[0], i + 1), (rows[-1], i + 1)).number_format
            except NotImplementedError:
                return None
            if isinstance(fmt, str) and fmt and fmt != "General":
                out[name] = [fmt if n else None for n in numeric]
        return out or None

    def sheet_rows(self, name: str) -> list[list] | None:
        """The cells of the sheet named ``name`` (surrounding spaces aside) from A1, as one block
        read ("" for empty), for a sheet read by its own parser (评优规则); None without it."""
        found = next((n for n in self.sheet_names if n.strip() == name), None)
        return None if found is None else [list(r) for r in self._block(found)[0]]

    def open_file(self, path) -> bool:
        """Open the workbook file ``path`` in the clerk's Excel beside this one; False where the
        engine cannot (xlwings' remote engine opens a client's JSON, never a file) or Excel refuses."""
        if self.book.app.engine.type == "remote":
            return False
        try:
            self.book.app.books.open(str(path))
        except Exception:  # noqa: BLE001 - the file is written all the same; the clerk opens it by hand
            return False
        return True

    def stamp(self) -> ReadStamp:
        """The workbook as this backend holds it: its name and how many writes it made (within a
        macro Excel is busy, so nobody else edits it between the read and the write)."""
        return ReadStamp(self.label, f"{self.book.fullname}#{self._generation}")

    def check_writable(self) -> None:
        """A workbook open in Excel is written through Excel itself: always writable."""

    # -- writing ---------------------------------------------------------------
    def plan_write(self, request: WriteRequest) -> WritePlan:
        """Check the whole write and work out every block call it makes, changing nothing."""
        ops = _Ops()
        for name, _file in image_writes(request):  # checked; a free-layout sheet is not ours to write live
            raise ValueError(f"the live backend does not write free-layout sheets ({name}); ask CAP_SHEET_IMAGE")
        for write in owned_writes(request):
            self._plan_owned(write, request.link_field, ops)
        for spec, patches in patches_by_sheet(request.patches).items():
            self._plan_patches(spec, patches, ops)
        return WritePlan(self.label, self._read, request, tuple(ops.added), payload=ops)

    def _plan_owned(self, write, link_field: str, ops: _Ops) -> None:
        spec = write.spec
        name = next((n for n in self.sheet_names if n.strip() == spec.name), None)
        if name is None:
            ops.added.append(spec.name)
            rows = [list(spec.headers)]
        else:
            rows = self._block(name)[0]
        hdr, columns = self._header(spec, name or spec.name, rows)
        old = rows[hdr + 1:]
        data, width = owned_rows(spec, rows, hdr, columns, write.frame, _excel_value)
        first = hdr + 2  # Excel row of the first data row
        old_last = hdr + 1 + len(old)
        new_last = hdr + 1 + len(data)
        links, stale = [], []
        if write.links is not None:
            at = columns[link_field] + 1
            links = [(first + i, at, t, data[i][at - 1]) for i, t in enumerate(write.links) if t is not None]
            stale = self._marked_before(spec, old, columns)
        ops.calls.append(lambda: self._write_owned(name, spec, rows[:hdr + 1] if name is None else None, hdr, first,
                                                   old_last, new_last, width, data, links, stale))

    def _marked_before(self, spec: S.SheetSpec, old: list[list], columns: dict[str, int]) -> list[CellRef]:
        """The cells the findings now in ``spec`` (校验结果) point to, as the last run marked them
        (its first ``MAX_MARKS``): their highlight and note go before the new ones are set."""
        need = ("sheet", "row", "column")
        if spec.key != S.FINDINGS.key or not all(f in columns for f in need):
            return []
        tables: dict[str, RawTable | None] = {}
        out: list[CellRef] = []
        for row in old:
            sheet, rn, header = (row[columns[f]] if columns[f] < len(row) else None for f in need)
            clerk = next((c for c in S.BY_KEY.values() if c.name == sheet), None)
            if clerk is None or not self.has_sheet(clerk):
                continue
            if sheet not in tables:
                try:
                    tables[sheet] = self.read_table(clerk)
                except JifenError:
                    tables[sheet] = None
            table = tables[sheet]
            if table is None:
                continue
            field_name = next((c.field for c in clerk.columns if c.header == header), None)
            ref = CellRef(table.sheet_name, int(rn) if isinstance(rn, (int, float)) and rn else table.header_row,
                          table.column_number(field_name) or 1)
            if ref not in out:
                out.append(ref)
                if len(out) >= MAX_MARKS:
                    break
        return out

    def _write_owned(self, name, spec, header_rows, hdr, first, old_last, new_last, width, data, links,
                     stale) -> None:
        book = self.book
        if name is None:
            sheet = book.sheets.add(name=spec.name, after=book.sheets[len(book.sheets) - 1])
            self._op()
            sheet.range((1, 1)).value = header_rows + data
        else:
            sheet = book.sheets[name]
            if old_last >= first:
                self._op()
                sheet.range((first, 1), (old_last, width)).clear_contents()
            if data:
                self._op()
                sheet.range((first, 1)).value = data
            self._resize_table(sheet, hdr + 1, max(new_last, hdr + 2), width)
        for row, col, target, shown in links[:MAX_LINKS]:
            self._op()
            sheet.range((row, col)).add_hyperlink("#" + target.address(), _text(shown) or target.address(),
                                                  target.address())
        if links or stale:
            self._mark([t for _r, _c, t, _s in links], [s for _r, _c, _t, s in links], stale)

    def _resize_table(self, sheet, header_row: int, last_row: int, width: int) -> None:
        """The sheet's Excel table whose header is on ``header_row`` now spans the new rows."""
        for table in sheet.tables:
            header = table.header_row_range
            if header is not None and header.row == header_row:
                cols = header.shape[1]
                self._op()
                table.resize(sheet.range((header_row, header.column), (last_row, header.column + cols - 1)))
                return

    def _mark(self, targets: list[CellRef], texts: list, stale: list[CellRef]) -> None:
        """Highlight the first ``MAX_MARKS`` offending cells and note the first ``MAX_NOTES``; the
        cells the previous findings marked and these do not lose their highlight and note."""
        seen: dict[CellRef, object] = {}
        for t, text in zip(targets, texts):
            if t.sheet in self.sheet_names and t not in seen and len(seen) < MAX_MARKS:
                seen[t] = text
        gone = [t for t in stale if t not in seen and t.sheet in self.sheet_names]
        self._color(gone, None)
        self._color(list(seen), MARK_COLOR)
        noted = list(seen)[:MAX_NOTES]
        for t in stale[:MAX_NOTES]:
            if t not in noted and t.sheet in self.sheet_names:
                self._op()
                note = self.book.sheets[t.sheet].range((t.row, t.col)).note
                if note is not None:
                    self._op()
                    note.delete()
        for t, text in list(seen.items())[:MAX_NOTES]:
            cell = self.book.sheets[t.sheet].range((t.row, t.col))
            try:
                self._op()
                note = cell.note
                if note is not None:
                    note.text = _text(text)
                else:
                    cell.add_note(_text(text))
            except NotImplementedError:  # an engine without notes: the highlight and the link remain
                break

    def _color(self, cells: list[CellRef], color: str | None) -> None:
        """Fill ``cells`` (None: no fill): one call per multi-area address where the engine takes
        one (Excel), one per cell on xlwings' remote engine, which addresses single rectangles."""
        by_sheet: dict[str, list[CellRef]] = {}
        for t in cells:
            by_sheet.setdefault(t.sheet, []).append(t)
        multi_area = self.book.app.engine.name != "remote"
        for sheet_name, group in by_sheet.items():
            sheet = self.book.sheets[sheet_name]
            if multi_area:
                for address in _address_chunks(group):
                    self._op()
                    sheet.range(address).color = color
            else:
                for c in group:
                    self._op()
                    sheet.range((c.row, c.col)).color = color

    def _plan_patches(self, spec: S.SheetSpec, patches, ops: _Ops) -> None:
        """Each patched column: its rows found as the reader saw them, the same refusals as the
        file backend (a patched cell in a merged block, or holding a formula), and the one block
        write that sets it."""
        name = self._require_sheet(spec)
        seen = self.read_table(spec)
        rows, merged = self._rows(name)
        _hdr, columns = self._header(spec, name, rows, merged)
        for patch in patches:
            col = columns[patch.field] + 1
            letter = col_letter(col - 1)
            where = rows_of_keys(spec, seen, set(patch.values), self.label)
            cells = {rn: _excel_value(cell_value(patch.values[key])) for key, rn in where.items()}
            if not cells:
                continue
            for (r0, c0), (r1, c1) in merged:  # 0-based, inclusive
                inside = [rn for rn in cells if r0 + 1 <= rn <= r1 + 1] if c0 + 1 <= col <= c1 + 1 else []
                if inside:
                    raise covered_cell_refusal(self.label, spec, patch.field, letter, min(inside), MERGED_CELLS)
            lo, hi = min(cells), max(cells)
            formulas = self._formulas(name, col, lo, hi)
            if formulas is None:  # an engine without formula reads: only the patched rows are written
                ops.calls.append(lambda name=name, col=col, cells=cells: self._write_runs(name, col, cells))
                continue
            for rn in sorted(cells):
                if _is_formula(formulas[rn - lo]):
                    raise formula_cell_refusal(self.label, spec, patch.field, letter, rn)
            shown = [rows[r - 1][col - 1] if r - 1 < len(rows) and col - 1 < len(rows[r - 1]) else ""
                     for r in range(lo, hi + 1)]
            block = merge_column(formulas, shown, cells, lo)
            # a merged block crossing the column between the patched rows is never written into
            # (Excel refuses to change part of one): the block is cut around it
            skip = {r for (r0, c0), (r1, c1) in merged if c0 + 1 <= col <= c1 + 1 for r in range(r0 + 1, r1 + 2)}
            for start, end in _pieces(lo, hi, skip, cells):
                ops.calls.append(lambda name=name, col=col, start=start, end=end,
                                 part=block[start - lo:end - lo + 1]: self._write_formulas(name, col, start, end, part))

    def _formulas(self, name: str, col: int, lo: int, hi: int) -> list | None:
        """The formulas of rows ``lo``..``hi`` of column ``col`` (a constant as Excel gives it, a
        formula as its text), in one read; None where the engine cannot read formulas."""
        try:
            self._op()
            got = self.book.sheets[name].range((lo, col), (hi, col)).formula
        except NotImplementedError:
            return None
        if not isinstance(got, (list, tuple)):  # one cell reads as its formula, a block as rows of cells
            return [got]
        return [r[0] if isinstance(r, (list, tuple)) else r for r in got]

    def _write_formulas(self, name: str, col: int, lo: int, hi: int, block: list[list]) -> None:
        self._op()
        self.book.sheets[name].range((lo, col), (hi, col)).formula = block

    def _write_runs(self, name: str, col: int, cells: dict[int, object]) -> None:
        """Each run of consecutive patched rows written as values (an engine without formula reads
        cannot tell a clerk's formula in the rows between: they are never written)."""
        sheet = self.book.sheets[name]
        for start, values in _runs(cells):
            self._op()
            sheet.range((start, col)).options(ndim=2).value = [[v] for v in values]

    def apply(self, plan: WritePlan) -> WriteResult:
        """Make every planned call; refused when the workbook changed since it was read."""
        if plan.stamp != self.stamp():
            raise stale_refusal(self.label)
        ops: _Ops = plan.payload
        for call in ops.calls:
            call()
        self._generation += 1
        self._cache.clear()
        self._refresh_names()
        self._read = self.stamp()
        patched = sum(len(p.values) for p in plan.request.patches)
        return WriteResult(self.label, None, plan.added, tuple(plan.request.tables), patched)

    # -- helpers ---------------------------------------------------------------
    def _header(self, spec: S.SheetSpec, sheet_name: str, rows: list[list],
                merged: list | None = None) -> tuple[int, dict[str, int]]:
        """The header row (0-based) of ``rows`` and field -> 0-based column."""
        required = [c.header for c in spec.columns if c.required]
        hdr, index, _start = self._locate_header(spec, sheet_name, rows, merged or [], spec.headers, required)
        return hdr, {spec.column_by_header(h).field: i for h, i in index.items()}



def _cell(value):
    """A value as Excel handed it over, as the file reader hands it: empty as "", a date at
    midnight as a date."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _excel_value(value):
    """A value as it is written into Excel (None empties the cell): text Excel would take for
    something else (a number 「0001」, a date 「2026-01」, a formula 「=…」, TRUE) gets the leading
    apostrophe that keeps it text, as the file backend writes it; a date as a datetime."""
    if isinstance(value, str):
        return "'" + value if _COERCED_RE.match(value) else value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


#: Text that Excel would not keep as typed (a number, a date, a formula, a boolean, an error ...).
_COERCED_RE = re.compile(r"^(?:[\s0-9０-９+\-＋－=@.,$'%(#]|(?i:true|false)$)")


def _formula_text(value):
    """A new value written through ``Range.formula`` (empty as "")."""
    return "" if value is None else value


def _is_formula(value) -> bool:
    return isinstance(value, str) and value.startswith("=")


def merge_column(formulas: list, values: list, cells: dict[int, object], lo: int) -> list[list]:
    """The column block from row ``lo`` to write back through ``Range.formula``: the new value on
    each patched row (``cells``: Excel row -> value), every other row's formula as it was read
    (``formulas``), and a constant as its value was read (``values``: Excel's ``Formula`` of a
    text 「0001」 reads as of the number 1, and would be written back as one)."""
    return [[_formula_text(cells[lo + i]) if lo + i in cells else f if _is_formula(f)
             else _formula_text(_excel_value(None if v == "" else v))]
            for i, (f, v) in enumerate(zip(formulas, values))]


def _text(value) -> str:
    return "" if value is None else str(value)


def _runs(cells: dict[int, object]) -> list[tuple[int, list]]:
    """Consecutive rows of ``cells`` as (first row, values)."""
    out: list[tuple[int, list]] = []
    for row in sorted(cells):
        if out and out[-1][0] + len(out[-1][1]) == row:
            out[-1][1].append(cells[row])
        else:
            out.append((row, [cells[row]]))
    return out


def _pieces(lo: int, hi: int, skip: set[int], cells: dict[int, object]) -> list[tuple[int, int]]:
    """Rows ``lo``..``hi`` without the rows in ``skip``, as (first, last) pieces, each cut to
    the patched rows (``cells``) it holds; pieces without one are left out."""
    if not any(lo <= r <= hi for r in skip):  # the usual case: no merged block in the way
        return [(lo, hi)]
    out: list[tuple[int, int]] = []
    run: list[int] = []
    for r in [*range(lo, hi + 1), None]:
        if r is not None and r not in skip:
            run.append(r)
            continue
        patched = [x for x in run if x in cells]
        if patched:
            out.append((patched[0], patched[-1]))
        run = []
    return out


def _address_chunks(cells: list[CellRef]) -> list[str]:
    """Multi-area addresses (``A5,C7,...``) of at most ``MAX_ADDRESS_CHARS`` characters."""
    out, current = [], ""
    for c in cells:
        a = f"{col_letter(c.col - 1)}{c.row}"
        if current and len(current) + 1 + len(a) > MAX_ADDRESS_CHARS:
            out.append(current)
            current = a
        else:
            current = f"{current},{a}" if current else a
    if current:
        out.append(current)
    return out
