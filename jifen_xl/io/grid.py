"""What every grid-shaped workbook reader shares: find a declared sheet by name, find its
header row by the declared headers, and hand the rows below it to the core as raw values.

A title row may stand above the header; columns come in any order; extra columns are
ignored; merged header cells take their top-left cell's text. Subclasses supply the
sheet names and the rows of a sheet (``_rows``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata

import pandas as pd

from .. import schema as S
from ..core.clean import FORMATS, ROW, CellFormats
from ..errors import HeaderMissing, SheetMissing
from ..ooxml.sheetxml import column_letters, column_number
from .base import RawTable, ReadStamp, WritePlan, WriteRequest, WriteResult

HEADER_SCAN_ROWS = 30  # a header row is looked for in the first rows only

_PAREN_RE = re.compile(r"[（(][^）)]*[）)]$")


def norm_header(value) -> str:
    """Header as compared: full-width folded, no spaces or line breaks, no ``*`` marks, no trailing (unit)."""
    if not isinstance(value, str):
        return ""
    t = unicodedata.normalize("NFKC", value)
    t = re.sub(r"\s+", "", t).replace("*", "")
    return _PAREN_RE.sub("", t)


def col_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    return column_letters(index + 1)


def col_index(letters: str) -> int:
    """Excel letters -> 0-based column index (A -> 0, AA -> 26)."""
    return column_number(letters) - 1


def find_sheet(spec: S.SheetSpec, names: list[str]) -> str | None:
    """The sheet of ``names`` that is the declared sheet ``spec``, or None.

    An owned sheet (月度台账 ...) is found by its exact name, surrounding spaces aside: a clerk's
    「月度台账（10月公示）」 (an archived copy) is the clerk's and never taken for it. A clerk's
    sheet is also found after folding full-width forms, spaces, ``*`` marks and a trailing （…）
    (「积分登记（2026）」 is the clerk's 积分登记). The exact name wins over a folded one."""
    if spec.name in names:
        return spec.name
    stripped = [n for n in names if n.strip() == spec.name]
    if stripped or spec.owned:
        return stripped[0] if stripped else None
    wanted = norm_header(spec.name)
    return next((n for n in names if norm_header(n) == wanted), None)


def _fill_merged(body: list[list], merged, start: int, columns: set[int]) -> None:
    """A merged block below the header shows its top-left value in every cell it covers
    (clerks merge 户号 or 日期 over several rows of one household): read it that way."""
    for (r0, c0), (r1, c1) in merged:
        if r0 < start or r0 - start >= len(body):
            continue
        top = body[r0 - start]
        if c0 >= len(top):
            continue
        value = top[c0]
        for r in range(r0 - start, min(r1 - start + 1, len(body))):
            row = body[r]
            for c in range(c0, min(c1 + 1, len(row))):
                if c in columns and (r, c) != (r0 - start, c0) and row[c] in ("", None):
                    row[c] = value


class GridBook:
    """Base of the file readers. Subclasses set ``path``, ``label``, ``sheet_names`` and
    implement ``_rows(sheet_name) -> (rows, merged ranges)``."""

    label: str
    sheet_names: list[str]
    #: appended to "not a village workbook" (e.g. what the file really is and how to convert it)
    format_note: str = ""

    def _index_sheets(self) -> None:
        """(Kept for subclasses that call it after setting ``sheet_names``.)"""

    def _rows(self, sheet_name: str) -> tuple[list[list], list]:
        raise NotImplementedError

    def _formula_problems(self, spec, sheet_name, fields, start) -> list:
        return []

    def _code_formats(self, spec, sheet_name, frame, fields, merged) -> CellFormats | None:
        """The number formats of the code columns' numeric cells (``clean.FORMATS``), for the
        core to read them as the clerk sees them; None when the reader cannot tell them (the
        default) or no code column holds a number."""
        return None

    # -- sheets ---------------------------------------------------------------
    def _find_sheet(self, spec: S.SheetSpec) -> str | None:
        return find_sheet(spec, self.sheet_names)

    def has_sheet(self, spec: S.SheetSpec) -> bool:
        return self._find_sheet(spec) is not None

    def _require_sheet(self, spec: S.SheetSpec) -> str:
        name = self._find_sheet(spec)
        if name is None:
            close = difflib.get_close_matches(spec.name, self.sheet_names, n=1, cutoff=0.3)
            hint = f"最接近的是「{close[0]}」，如果就是它，请把工作表名改为「{spec.name}」。" if close else \
                f"请从模板复制「{spec.name}」工作表（可用 jifen-xl new 生成模板）。"
            raise SheetMissing(f"文件「{self.label}」缺少工作表「{spec.name}」。{hint}")
        return name

    # -- header ---------------------------------------------------------------
    @staticmethod
    def _header_cells(rows, merged, r: int) -> list[str]:
        cells = [norm_header(v) for v in rows[r]]
        for (r0, c0), (r1, c1) in merged:
            if r0 <= r <= r1:
                top = norm_header(rows[r0][c0]) if r0 < len(rows) and c0 < len(rows[r0]) else ""
                for c in range(c0, min(c1 + 1, len(cells))):
                    if not cells[c]:
                        cells[c] = top
        return cells

    def _locate_header(self, spec: S.SheetSpec, sheet_name: str, rows, merged, headers: list[str],
                       required: list[str]) -> tuple[int, dict[str, int], int]:
        wanted = {norm_header(h): h for h in headers}
        best, best_score = None, 0
        for r in range(min(len(rows), HEADER_SCAN_ROWS)):
            cells = self._header_cells(rows, merged, r)
            score = len(set(cells) & set(wanted))
            if score > best_score:
                best, best_score = r, score
        if best is None or best_score < min(2, len(headers)):
            raise HeaderMissing(
                f"文件「{self.label}」的工作表「{sheet_name}」前 {HEADER_SCAN_ROWS} 行中找不到标题行"
                f"（应包含：{'、'.join(headers)}）。请从模板复制标题行。")
        cells = self._header_cells(rows, merged, best)
        index: dict[str, int] = {}
        for norm, header in wanted.items():
            if norm in cells:
                index[header] = cells.index(norm)
        missing = [h for h in required if h not in index]
        if missing:
            found = [str(v).strip() for v in rows[best] if isinstance(v, str) and v.strip()
                     and norm_header(v) not in wanted]
            parts = []
            for h in missing:
                close = difflib.get_close_matches(h, found, n=1, cutoff=0.3)
                parts.append(f"「{h}」（最接近的是「{close[0]}」，请改回「{h}」）" if close else f"「{h}」")
            raise HeaderMissing(
                f"文件「{self.label}」的工作表「{sheet_name}」第 {best + 1} 行缺少列：{'、'.join(parts)}。"
                f"请按模板补上或改正列标题。")
        # Data begins below the header and below any vertically merged header cell.
        data_start = best + 1
        for (r0, _c0), (r1, _c1) in merged:
            if r0 <= best <= r1:
                data_start = max(data_start, r1 + 1)
        return best, index, data_start

    # -- tables ---------------------------------------------------------------
    def read_table(self, spec: S.SheetSpec) -> RawTable:
        """Read declared sheet ``spec``: raw values under field names, ``_row`` = Excel row."""
        sheet_name = self._require_sheet(spec)
        rows, merged = self._rows(sheet_name)
        required = [c.header for c in spec.columns if c.required]
        hdr, index, start = self._locate_header(spec, sheet_name, rows, merged, spec.headers, required)
        fields = {spec.column_by_header(h).field: i for h, i in index.items()}
        body = rows[start:]
        _fill_merged(body, merged, start, set(fields.values()))
        if body:
            frame = pd.DataFrame(body, dtype=object).iloc[:, list(fields.values())]
            frame.columns = list(fields)
        else:
            frame = pd.DataFrame({f: pd.Series(dtype=object) for f in fields})
        frame[ROW] = range(start + 1, start + 1 + len(frame))
        formats = self._code_formats(spec, sheet_name, frame, fields, merged)
        if formats:
            frame.attrs[FORMATS] = formats
        letters = {f: col_letter(i) for f, i in fields.items()}
        table = RawTable(spec, sheet_name, hdr + 1, frame, letters)
        table.problems.extend(self._formula_problems(spec, sheet_name, fields, start))
        return table

    # -- writing: a read-only format unless a subclass says otherwise ----------
    #: what this backend can do beyond reading (``io.base.CAP_*``)
    capabilities: frozenset[str] = frozenset()

    def stamp(self) -> ReadStamp:
        return ReadStamp(self.label, "")

    def check_writable(self) -> None:
        """Formats this reader can read but the toolkit does not write into."""
        from ..errors import WriteRefused
        from .package import SAVE_AS_XLSX

        raise WriteRefused(f"文件「{self.label}」只能读取，工具不能写入这种格式。{SAVE_AS_XLSX}")

    def plan_write(self, request: WriteRequest) -> WritePlan:
        self.check_writable()
        raise AssertionError("check_writable refuses")  # pragma: no cover

    def apply(self, plan: WritePlan) -> WriteResult:
        self.check_writable()
        raise AssertionError("check_writable refuses")  # pragma: no cover
