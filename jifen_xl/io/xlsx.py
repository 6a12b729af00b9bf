"""File backend: read any village workbook fast (python-calamine), write owned sheets losslessly.

Reading locates each declared sheet by name and its header row by the
declared headers (a title row may stand above it; columns in any order; extra
columns ignored; merged header cells taken from their top-left cell).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path

import pandas as pd
import python_calamine as pc

from .. import schema as S
from ..core.clean import ROW
from ..core.problems import error
from ..errors import HeaderMissing, SheetMissing, WorkbookUnreadable
from . import package
from .base import RawTable

HEADER_SCAN_ROWS = 30  # a header row is looked for in the first rows only
#: Largest rows x columns extent a sheet may span (a village-year is ~60,000 x 13; the
#: reader allocates the whole rectangle, so one cell in XFD1048576 would cost gigabytes).
MAX_CELLS = 40_000_000
_ROW_NUM_RE = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')
_WIDE_COL_RE = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{2,3})\d+"')


def _col_index(letters: str) -> int:
    """Excel letters -> 0-based column index (A -> 0, AA -> 26)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1

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
    s = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        s = chr(65 + rem) + s
    return s


def _explain_kind(path: Path, kind: str) -> str:
    name = path.name
    if kind == "encrypted":
        return (f"文件「{name}」设置了打开密码，工具无法读取。请在 Excel 中打开它，点“文件→信息→保护工作簿→用密码进行加密”，"
                f"清空密码后保存（WPS：“文件→文档加密→密码加密”，清空密码），然后重试。")
    if kind == "html":
        return (f"文件「{name}」其实是网页（HTML）格式，只是扩展名像 Excel 文件，常见于从网上系统导出的表格。"
                f"{package.SAVE_AS_XLSX}")
    if kind == "csv":
        return f"文件「{name}」其实是文本（CSV/TXT）格式，不是 Excel 工作簿。{package.SAVE_AS_XLSX}"
    return f"文件「{name}」不是 Excel、WPS 或 LibreOffice 工作簿，无法读取。请确认选择了正确的文件。"


class XlsxFile:
    """One workbook file (.xlsx, .xlsm; read-only also .xls, .xlsb, .ods).

    :param path: the workbook.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.label = self.path.name
        kind = package.sniff(self.path).kind
        if kind not in ("zip", "ole"):
            raise WorkbookUnreadable(_explain_kind(self.path, kind))
        self._parts: dict[str, str] = {}
        self._xml: dict[str, bytes | None] = {}
        if kind == "zip":
            with package.Package(self.path) as pkg:
                if not pkg.is_workbook():
                    raise WorkbookUnreadable(
                        f"文件「{self.label}」是压缩包，但不是 Excel 工作簿（缺少 workbook 部件）。请确认选择了正确的文件。")
                self._parts = pkg.sheet_parts()
        try:
            self._book = pc.CalamineWorkbook.from_path(str(self.path))
        except pc.PasswordError as exc:
            raise WorkbookUnreadable(_explain_kind(self.path, "encrypted")) from exc
        except Exception as exc:  # calamine raises several unrelated types for broken files
            raise WorkbookUnreadable(
                f"文件「{self.label}」已损坏或格式无法识别，请用 Excel 或 WPS 打开后另存为 .xlsx 再试。") from exc
        self.sheet_names: list[str] = list(self._book.sheet_names)
        self._by_norm = {norm_header(n): n for n in self.sheet_names}

    # -- sheets ---------------------------------------------------------------
    def _find_sheet(self, spec: S.SheetSpec) -> str | None:
        if spec.name in self.sheet_names:
            return spec.name
        return self._by_norm.get(norm_header(spec.name))

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

    def _sheet_xml(self, sheet_name: str) -> bytes | None:
        """The worksheet XML of an xlsx/xlsm sheet (inflated once, within the package limits)."""
        if sheet_name not in self._xml:
            part = self._parts.get(sheet_name)
            data = None
            if part:
                with package.Package(self.path) as pkg:
                    data = pkg.read(part) if pkg.has(part) else None
            self._xml[sheet_name] = data
        return self._xml[sheet_name]

    def _check_extent(self, sheet_name: str) -> None:
        """Refuse a sheet whose cells span more than a village workbook can: the reader would
        otherwise allocate rows x columns for a single far-away cell (a hostile file, or a stray
        value typed in XFD1048576)."""
        data = self._sheet_xml(sheet_name)
        if not data:
            return
        rows = [int(r) for r in _ROW_NUM_RE.findall(data)] or [0]
        last_row = max(max(rows), len(rows))
        wide = set(_WIDE_COL_RE.findall(data))
        last_col = max([26] + [_col_index(c.decode()) + 1 for c in wide])
        if last_row * last_col > MAX_CELLS:
            where = f"{col_letter(last_col - 1)}{last_row}"
            raise WorkbookUnreadable(
                f"文件「{self.label}」的工作表「{sheet_name}」的数据范围延伸到 {where}，"
                f"远超村级工作簿的规模（可能是远处的单元格里有内容或格式）。请在 Excel 中按 Ctrl+End 找到最后一个单元格，"
                f"删除多余的行和列后保存，再重试。")

    def _rows(self, sheet_name: str) -> tuple[list[list], list]:
        self._check_extent(sheet_name)
        try:
            sheet = self._book.get_sheet_by_name(sheet_name)
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except Exception as exc:  # calamine's errors for a damaged sheet vary by format
            raise WorkbookUnreadable(
                f"文件「{self.label}」的工作表「{sheet_name}」无法读取，可能已损坏。"
                f"请用 Excel 或 WPS 打开后另存为 .xlsx 再试。") from exc
        return rows, merged

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
        if body:
            frame = pd.DataFrame(body, dtype=object).iloc[:, list(fields.values())]
            frame.columns = list(fields)
        else:
            frame = pd.DataFrame({f: pd.Series(dtype=object) for f in fields})
        frame[ROW] = range(start + 1, start + 1 + len(frame))
        letters = {f: col_letter(i) for f, i in fields.items()}
        table = RawTable(spec, sheet_name, hdr + 1, frame, letters)
        table.problems.extend(self._formula_problems(spec, sheet_name, fields, start))
        return table

    # -- formulas without cached values --------------------------------------
    _CELL_RE = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)

    def _formula_problems(self, spec, sheet_name, fields, start) -> list:
        """A formula whose result was never calculated reads as empty; report it instead.

        Also report cells whose formula result is an error (#DIV/0!, #REF! ...)."""
        data = self._sheet_xml(sheet_name)
        if not data:
            return []
        if not re.search(rb"<f[ >/]", data) and b't="e"' not in data:
            return []
        by_letter = {col_letter(i): spec.column(f) for f, i in fields.items()}
        out = []
        for letter, row, attrs, inner in self._CELL_RE.findall(data):
            col = by_letter.get(letter.decode())
            r = int(row)
            if col is None or r <= start:
                continue
            inner = inner or b""
            if b't="e"' in attrs:
                value = re.search(rb"<v>([^<]*)</v>", inner)
                shown = value.group(1).decode() if value else "#错误"
                out.append(error(spec.name, r, col.header, "E-FMT-FORMULA",
                                 f"公式结果是错误值 {shown}", "请检查该单元格的公式，或直接填写数值"))
            elif re.search(rb"<f[ >/]", inner) and not (b't="str"' in attrs or re.search(rb"<v>[^<]", inner)):
                # No cached result (openpyxl and some web exports write <v></v> or nothing);
                # an empty-string result is cached as t="str" with an empty <v>.
                out.append(error(spec.name, r, col.header, "E-FMT-NOCALC",
                                 "公式没有计算结果（文件保存时未重新计算）",
                                 "请在 Excel/WPS 中打开文件，按 F9 重新计算后保存；或直接填写数值"))
        return out

    # -- writing --------------------------------------------------------------
    def check_writable(self) -> None:
        """Refuse early (before any work) a file that cannot be written: open in Excel, .xls, read-only."""
        from .xlsxwrite import check_writable

        check_writable(self.path)

    def write_tables(self, frames, links=None, **kwargs):
        """Write owned tables (月度台账, 校验结果, 库存台账) losslessly; see ``xlsxwrite.write_owned``."""
        from .xlsxwrite import write_owned

        return write_owned(self.path, frames, links=links, **kwargs)
