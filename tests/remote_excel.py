"""xlwings' remote engine as a recorder, for the live backend's tests (NOT Excel).

``book_from_file`` reads a real workbook file and builds the JSON an xlwings client (Office.js)
sends with a call: every sheet's values from A1 to its used range's last cell (dates as ISO
texts, empty cells as ""), its Excel tables' addresses, the book's selection. xlwings turns that
into a ``Book`` of its remote engine, whose writes are recorded as actions (``book.json()``).
``RecordedGrid`` applies those actions to the file's cells as Excel would take them (a text that
looks like a number or a date becomes one unless it starts with an apostrophe), so the result can
be read with the toolkit's own reader (``MemoryBook``) and compared with what the file backend
writes. xlwings' remote engine is under the PolyForm Noncommercial licence (government use is
noncommercial): the tests set ``XLWINGS_LICENSE_KEY=noncommercial``; the runtime never needs it.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as pc

from jifen_xl.io.memory import MemoryBook, MemoryWorkbook
from jifen_xl.ooxml.sheetxml import column_letters
from jifen_xl.ooxml.tables import parse_table

_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{2}):(\d{2}):(\d{2}))?$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _js(value):
    """A cell as the Office.js client sends it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00.000Z"
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def _address(r0: int, c0: int, r1: int, c1: int) -> str:
    return f"{column_letters(c0)}{r0}:{column_letters(c1)}{r1}"


def _resolve(base: str, target: str) -> str:
    """A relationship's target as a part name (absolute targets start at the package root)."""
    return target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))


def _tables(path: Path) -> dict[str, list[dict]]:
    """Sheet name -> its Excel tables as the client describes them (read from the package)."""
    out: dict[str, list[dict]] = {}
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
        targets |= {i: t for t, i in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)}
        for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb):
            name = name.replace("&amp;", "&")
            part = _resolve("xl", targets[rid])
            srels = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
            if srels not in names:
                continue
            for target in re.findall(r'Target="([^"]*tables/[^"]+)"', z.read(srels).decode()):
                tpart = _resolve(posixpath.dirname(part), target)
                t = parse_table(z.read(tpart).decode(), tpart)
                c0, r0, c1, r1 = t.ref
                out.setdefault(name, []).append({
                    "name": t.name, "range_address": _address(r0, c0, r1, c1),
                    "header_row_range_address": _address(r0, c0, r0, c1),
                    "data_body_range_address": _address(r0 + 1, c0, max(r1, r0 + 1), c1),
                    "total_row_range_address": None, "show_headers": True, "show_totals": False,
                    "table_style": "TableStyleMedium2", "show_autofilter": True})
    return out


def _file_formulas(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Sheet name -> (row, column) -> the formula text of each formula cell, as openpyxl reads the
    file (only when some worksheet holds a formula: a village-year of 60,000 rows has none)."""
    with zipfile.ZipFile(path) as z:
        if not any(re.search(rb"<(?:\w+:)?f[ >/]", z.read(n)) for n in z.namelist()
                   if n.startswith("xl/worksheets/") and n.endswith(".xml")):
            return {}
    import openpyxl

    wb = openpyxl.load_workbook(path)
    try:
        return {ws.title: {(c.row, c.column): c.value for row in ws.iter_rows() for c in row
                           if isinstance(c.value, str) and c.value.startswith("=")} for ws in wb.worksheets}
    finally:
        wb.close()


def book_json(path: Path, *, selection: str | None = "A1", active: int = 0, formulas: bool = False,
              merged: bool = False) -> dict:
    """The JSON an xlwings Office.js client sends for the workbook file ``path``.

    :param formulas: also send every sheet's formulas (``"formulas"``: the cells as Excel's
        ``Range.formula`` gives them, a formula cell as its text read from the file by openpyxl,
        any other as its value). xlwings' client does not send them (its remote engine cannot read
        formulas synchronously); ``formula_reads`` lets the engine answer from them.
    :param merged: also send every sheet's merged blocks (``"merged"``: 0-based ((first row,
        first column), (last row, last column)), as python-calamine reads them from the file), for
        ``Range.merge_cells`` / ``merge_area``, which the remote engine cannot read either.
    """
    import xlwings

    wb = pc.CalamineWorkbook.from_path(str(path))
    tables = _tables(path)
    texts = _file_formulas(path) if formulas else {}
    sheets = []
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        width = max((len(r) for r in rows), default=0)
        values = [[_js(v) for v in r] + [""] * (width - len(r)) for r in rows]
        used = _address(1, 1, len(values), width) if values and width else None
        sheets.append({"name": name, "values": values or [[]], "used_range_address": used,
                       "pictures": [], "shapes": [], "charts": [], "notes": [], "tables": tables.get(name, []),
                       "print_area": None, "visibility": "Visible", "show_gridlines": True, "pivot_tables": []})
        if formulas:
            grid = [list(r) for r in values]
            for (r, c), text in texts.get(name, {}).items():
                grid[r - 1][c - 1] = text
            sheets[-1]["formulas"] = grid
        if merged:
            sheets[-1]["merged"] = [tuple(map(tuple, m)) for m in wb.get_sheet_by_name(name).merged_cell_ranges or []]
    wb.close()
    return {"client": "Office.js", "version": xlwings.__version__,
            "book": {"name": path.name, "active_sheet_index": active, "selection": selection},
            "names": [], "sheets": sheets}


def _register_remote_engine() -> None:
    """xlwings registers its remote engine when it is first imported with a licence key set; a
    test module imported earlier (during collection, before the fixture sets the key) leaves it
    out, so it is registered here the way xlwings' own ``__init__`` does."""
    import xlwings as xw

    if any(e.name == "remote" for e in xw.engines):
        return
    from xlwings.pro import _xlremote

    xw.engines.add(xw.main.Engine(impl=_xlremote.engine))


def formula_reads() -> None:
    """Let the remote engine's ``Range.formula``, ``merge_cells`` and ``merge_area`` answer from
    the formulas and merged blocks a payload carries (``book_json(..., formulas=True,
    merged=True)``), as Excel answers them: ``Formula`` as rows of cells for a block, the cell's
    formula for one cell; ``MergeCells`` True (every cell merged), False (none) or None (some);
    ``MergeArea`` the block holding a cell, or the cell. A payload without them keeps the engine's
    own answer (NotImplementedError). This is all the tests add to xlwings' engine, and only for
    the live backend's formula-keeping and merged-block paths, which it cannot otherwise reach."""
    from xlwings.pro import _xlremote

    cls = _xlremote.Range
    if getattr(cls.formula.fget, "reads_payload", False):
        return
    originals = {name: getattr(cls, name) for name in ("formula", "merge_cells", "merge_area")}

    def formula(self):
        grid = self.sheet.api.get("formulas")
        if grid is None or self.arg1 is None:
            return originals["formula"].fget(self)
        (r0, c0), (nr, nc) = self.arg1, self.shape
        cells = [[grid[r][c] if r < len(grid) and c < len(grid[r]) else "" for c in range(c0 - 1, c0 - 1 + nc)]
                 for r in range(r0 - 1, r0 - 1 + nr)]
        return cells[0][0] if (nr, nc) == (1, 1) else tuple(tuple(row) for row in cells)

    def _areas(self, name):
        areas = self.sheet.api.get("merged")
        if areas is None or self.arg1 is None:
            return None
        return [((a + 1, b + 1), (c + 1, d + 1)) for (a, b), (c, d) in areas]

    def merge_cells(self):
        areas = _areas(self, "merge_cells")
        if areas is None:
            return originals["merge_cells"].fget(self)
        (r0, c0), (nr, nc) = self.arg1, self.shape
        r1, c1 = r0 + nr - 1, c0 + nc - 1
        inside = sum(max(0, min(r1, b[0]) - max(r0, a[0]) + 1) * max(0, min(c1, b[1]) - max(c0, a[1]) + 1)
                     for a, b in areas)
        return False if inside == 0 else True if inside == nr * nc else None

    def merge_area(self):
        areas = _areas(self, "merge_area")
        if areas is None:
            return originals["merge_area"].fget(self)
        r, c = self.arg1
        for a, b in areas:
            if a[0] <= r <= b[0] and a[1] <= c <= b[1]:
                return cls(self.sheet, a, b)
        return cls(self.sheet, (r, c))

    for name, getter in (("formula", formula), ("merge_cells", merge_cells), ("merge_area", merge_area)):
        getter.reads_payload = True
        setattr(cls, name, property(getter, originals[name].fset))


class Remote:
    """An xlwings ``Book`` of the remote engine over a file's JSON (it records every write).

    :param path: the workbook file the client would be showing.
    :param kwargs: for ``book_json`` (``formulas=True``: the engine reads formulas, see ``formula_reads``).
    """

    def __init__(self, path: Path | None = None, *, payload: dict | None = None, **kwargs):
        import copy

        import xlwings as xw

        _register_remote_engine()
        formula_reads()
        self.payload = payload if payload is not None else book_json(Path(path), **kwargs)
        self.book = xw.Book(json=copy.deepcopy(self.payload))

    @property
    def actions(self) -> list[dict]:
        return self.book.json()["actions"]

    def grid(self) -> RecordedGrid:
        """The file's cells after the recorded actions."""
        return RecordedGrid.of(self.payload).apply(self.actions)


def _from_js(value):
    """A cell of the client's JSON as the workbook holds it."""
    if value == "":
        return None
    if isinstance(value, str):
        m = _ISO_DATETIME.match(value)
        if m:
            parts = [int(x) for x in m.groups()]
            return dt.date(*parts[:3]) if parts[3:] == [0, 0, 0] else dt.datetime(*parts)
    return value


def as_excel_takes_it(value):
    """A value written through ``Range.value`` as Excel stores it: a leading apostrophe keeps text
    as text (and is not part of it); otherwise a text that reads as a number, a date (ISO, or a
    year-month) or a boolean becomes one, as when typed."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value
    if value.startswith("'"):
        return value[1:]
    if _NUMBER.match(value.strip()):
        return float(value)
    m = _DATE.match(value)
    if m:
        parts = [int(x) for x in m.groups() if x is not None]
        return dt.date(*parts[:3]) if len(parts) == 3 or parts[3:] == [0, 0, 0] else dt.datetime(*parts)
    m = _YEAR_MONTH.match(value)
    if m:
        return dt.date(int(m.group(1)), int(m.group(2)), 1)
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    return value


@dataclass
class RecordedGrid:
    """The workbook's cells after applying a remote Book's recorded actions."""

    sheets: list[tuple[str, list[list]]]
    colors: dict[tuple[str, int, int], str] = field(default_factory=dict)
    notes: dict[tuple[str, int, int], str] = field(default_factory=dict)
    links: dict[tuple[str, int, int], str] = field(default_factory=dict)
    tables: list[tuple[str, int, str]] = field(default_factory=list)
    alerts: list[list] = field(default_factory=list)
    funcs: list[str] = field(default_factory=list)
    #: formulas written (``setFormula`` of a text starting with "="): the cell keeps its value
    formulas: dict[tuple[str, int, int], str] = field(default_factory=dict)
    #: the merged blocks the payload carried (``book_json(..., merged=True)``), by sheet
    merged: dict[str, list] = field(default_factory=dict)

    @classmethod
    def of(cls, payload: dict) -> RecordedGrid:
        return cls([(s["name"], [[_from_js(v) for v in row] for row in s["values"]]) for s in payload["sheets"]],
                   merged={s["name"]: list(s["merged"]) for s in payload["sheets"] if s.get("merged")})

    def _cells(self, action) -> tuple[str, list[list], int, int, int, int]:
        name, rows = self.sheets[action["sheet_position"]]
        r0, c0 = action["start_row"], action["start_column"]
        return name, rows, r0, c0, action["row_count"], action["column_count"]

    @staticmethod
    def _put(rows: list[list], r: int, c: int, value) -> None:
        while len(rows) <= r:
            rows.append([])
        row = rows[r]
        if len(row) <= c:
            row.extend([None] * (c + 1 - len(row)))
        row[c] = value

    def apply(self, actions: list[dict]) -> RecordedGrid:
        """Apply the recorded actions in order; an action this grid does not know fails the test."""
        for a in actions:
            func = a["func"]
            self.funcs.append(func)
            if func == "addSheet":
                ix, name = a["args"]
                self.sheets.insert(ix, (name, []))
            elif func in ("setValues", "setFormula"):
                name, rows, r0, c0, nr, nc = self._cells(a)
                values = a["values"]
                if not isinstance(values, list):
                    values = [[values] * nc] * nr
                for i, row in enumerate(values):
                    for j, v in enumerate(row):
                        if func == "setFormula" and isinstance(v, str) and v.startswith("="):
                            self.formulas[(name, r0 + i + 1, c0 + j + 1)] = v  # not evaluated: the value stays
                            continue
                        self.formulas.pop((name, r0 + i + 1, c0 + j + 1), None)
                        self._put(rows, r0 + i, c0 + j, as_excel_takes_it(v))
            elif func == "rangeClearContents":
                name, rows, r0, c0, nr, nc = self._cells(a)
                for i in range(r0, min(r0 + nr, len(rows))):
                    for j in range(c0, min(c0 + nc, len(rows[i]))):
                        rows[i][j] = None
            elif func == "setRangeColor":
                name, _rows, r0, c0, nr, nc = self._cells(a)
                for i in range(nr):
                    for j in range(nc):
                        if a["args"][0] is None:  # no fill
                            self.colors.pop((name, r0 + i + 1, c0 + j + 1), None)
                        else:
                            self.colors[(name, r0 + i + 1, c0 + j + 1)] = a["args"][0]
            elif func in ("addNote", "setNoteText"):
                name, _rows, r0, c0, _nr, _nc = self._cells(a)
                self.notes[(name, r0 + 1, c0 + 1)] = a["args"][1]
            elif func == "deleteNote":
                name, _rows, r0, c0, _nr, _nc = self._cells(a)
                del self.notes[(name, r0 + 1, c0 + 1)]
            elif func == "addHyperlink":
                name, _rows, r0, c0, _nr, _nc = self._cells(a)
                self.links[(name, r0 + 1, c0 + 1)] = a["args"][0]
            elif func == "resizeTable":
                self.tables.append((self.sheets[a["sheet_position"]][0], a["args"][0], a["args"][1]))
            elif func == "alert":
                self.alerts.append(a["args"])
            else:
                raise AssertionError(f"recorded action not applied by this grid: {func}")
        return self

    def payload(self, base: dict) -> dict:
        """The JSON the client sends once the workbook holds this grid (``base``: the book's part)."""
        sheets = []
        for (name, rows), old in zip(self.sheets, base["sheets"]):
            width = max((len(r) for r in rows), default=0)
            values = [[_js(v) for v in r] + [""] * (width - len(r)) for r in rows]
            notes = [{"address": f"${column_letters(c)}${r}"} for (n, r, c) in self.notes if n == name]
            sheets.append(dict(old, name=name, values=values or [[]], notes=notes,
                               used_range_address=_address(1, 1, len(values), width) if values and width else None))
        return dict(base, sheets=sheets)

    def backend(self) -> MemoryBook:
        """The grid as a workbook the toolkit's reader reads (with its merged blocks)."""
        return _MergedMemoryBook(MemoryWorkbook({name: rows for name, rows in self.sheets}, label="recorded"),
                                 self.merged)


class _MergedMemoryBook(MemoryBook):
    """The in-memory backend over a grid that has merged blocks (the file reader reads them so)."""

    def __init__(self, workbook: MemoryWorkbook, merged: dict[str, list]):
        super().__init__(workbook)
        self._merged_blocks = merged

    def _rows(self, sheet_name: str) -> tuple[list[list], list]:
        return super()._rows(sheet_name)[0], self._merged_blocks.get(sheet_name, [])


def alert_texts(grid: RecordedGrid) -> list[str]:
    return [a[0] for a in grid.alerts]
