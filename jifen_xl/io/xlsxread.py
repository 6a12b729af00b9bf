"""The fast reader of a workbook file (python-calamine), behind the package layer's guards.

Reading locates each declared sheet by name and its header row by the
declared headers (a title row may stand above it; columns in any order; extra
columns ignored; merged header cells taken from their top-left cell).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as pc

from .. import schema as S
from ..core.clean import ROW, CellFormats
from ..core.numfmt import GENERAL
from ..core.problems import error
from ..errors import WorkbookUnreadable
from ..ooxml import markup, sheetxml, styles
from . import chunked, package
from .grid import GridBook, col_index, col_letter, norm_header  # noqa: F401 (re-exported)

#: Largest rows x columns extent a sheet may span (a village-year is ~60,000 x 13; the
#: reader allocates the whole rectangle, so one cell in XFD1048576 would cost gigabytes).
MAX_CELLS = 40_000_000
_ROOT_PREFIX_RE = re.compile(rb"<(\w+):worksheet\b")


def _has_formula_or_error(data: bytes) -> bool:
    """Whether a sheet holds any formula or error cell at all (most hold neither).

    The pattern starts with a literal (``<f`` or ``<x:f``, the sheet's own prefix), which the
    regex engine scans for quickly; a leading optional group made it 20x slower on 36 MB."""
    m = _ROOT_PREFIX_RE.search(data[:4096])
    tag = re.escape(b"<" + (m.group(1) + b":" if m else b"") + b"f")
    return bool(re.search(tag + rb"[ >/]", data)) or b't="e"' in data


#: What calamine says when a sheet would need more cells than it allows (it checks .ods sheets).
_CELL_LIMIT = "Cell limit exceeded"


def _too_far(label: str, sheet_name: str | None = None) -> str:
    """The far-away-cell refusal when the reader, not the extent scan, found it (no cell address)."""
    where = f"的工作表「{sheet_name}」" if sheet_name else "中有工作表"
    return (f"文件「{label}」{where}的数据范围远超村级工作簿的规模（可能是远处的单元格里有内容或格式）。"
            f"请在 Excel、WPS 或 LibreOffice 中按 Ctrl+End 找到最后一个单元格，删除多余的行和列后保存，再重试。")


def _damaged_sheet(label: str, sheet_name: str) -> str:
    return f"文件「{label}」的工作表「{sheet_name}」无法读取，可能已损坏。请用 Excel 或 WPS 打开后另存为 .xlsx 再试。"


def _explain_kind(path: Path, kind: str) -> str:
    name = path.name
    if kind == "encrypted":
        return (f"文件「{name}」设置了打开密码，工具无法读取。请在 Excel 中打开它，点“文件→信息→保护工作簿→用密码进行加密”，"
                f"清空密码后保存（WPS：“文件→文档加密→密码加密”，清空密码），然后重试。")
    if kind == "html":
        return (f"文件「{name}」其实是网页（HTML）格式，只是扩展名像 Excel 文件，常见于从网上系统导出的表格。"
                f"{package.SAVE_AS_XLSX}")
    if kind == "xml2003":
        return (f"文件「{name}」是“XML 电子表格 2003”格式，只是扩展名像 Excel 文件，常见于从网上系统导出的表格，"
                f"工具不能直接读取。{package.SAVE_AS_XLSX}")
    if kind == "csv":
        return f"文件「{name}」其实是文本（CSV/TXT）格式，不是 Excel 工作簿。{package.SAVE_AS_XLSX}"
    return f"文件「{name}」不是 Excel、WPS 或 LibreOffice 工作簿，无法读取。请确认选择了正确的文件。"


class XlsxReader(GridBook):
    """The reader of one workbook file (.xlsx, .xlsm, .xls, .xlsb, .ods); it knows nothing of writing
    (``io.xlsx.XlsxFile`` adds that).

    :param path: the workbook.
    :param kind: what ``package.sniff`` already said the file is (sniffed here when not given).
    :param pieces: how many pieces a worksheet is parsed in, in parallel (see ``chunked``):
        ``None`` = one per core for sheets over ``chunked.MIN_SPLIT_BYTES`` of XML; ``1`` = never
        split; ``n`` = every xlsx sheet cut into ``n`` pieces where it can be (tests).
    """

    def __init__(self, path: str | Path, kind: str | None = None, pieces: int | None = None):
        self.path = Path(path)
        self.pieces = pieces
        self.label = self.path.name
        kind = kind or package.sniff(self.path).kind
        if kind not in ("zip", "ole"):
            raise WorkbookUnreadable(_explain_kind(self.path, kind))
        self._parts: dict[str, str] = {}  # sheet name -> its part, when exactly one part can be it
        self._candidates: dict[str, list[str]] | None = None  # every part that might be it (xlsx only)
        self._xml: dict[str, bytes | None] = {}
        self._regions: dict[str, tuple[int, int] | None] = {}
        self._formulas: dict[str, bool] = {}
        self._xf_formats: list[str] | None = None  # each cell format's number format code (styles.xml)
        if kind == "zip":
            with package.Package(self.path) as pkg:
                pkg.check_xml_prologs()  # no DTD / entities reach any XML parser
                if not pkg.is_workbook():
                    raise WorkbookUnreadable(
                        f"文件「{self.label}」是压缩包，但不是 Excel 工作簿（缺少 workbook 部件）。请确认选择了正确的文件。")
                if pkg.is_xml_workbook():
                    self._candidates = pkg.sheet_candidates()
                    self._parts = {name: parts[0] for name, parts in self._candidates.items() if len(parts) == 1}
        try:
            with package.reader_call():
                self._book = pc.CalamineWorkbook.from_path(str(self.path))
        except pc.PasswordError as exc:
            raise WorkbookUnreadable(_explain_kind(self.path, "encrypted")) from exc
        except BaseException as exc:  # calamine raises several unrelated types (and panics) for broken files
            if not package.reader_failed(exc):
                raise
            if _CELL_LIMIT in str(exc):  # an .ods is read whole on opening; calamine caps its cells
                raise WorkbookUnreadable(_too_far(self.label)) from exc
            raise WorkbookUnreadable(
                f"文件「{self.label}」已损坏或格式无法识别，请用 Excel 或 WPS 打开后另存为 .xlsx 再试。") from exc
        self.sheet_names: list[str] = list(self._book.sheet_names)
        self._index_sheets()

    def _sheet_xml(self, sheet_name: str) -> bytes | None:
        """The worksheet XML of an xlsx/xlsm sheet (inflated once, within the package limits);
        None when it is not an xlsx sheet, or when more than one part might be it."""
        if sheet_name not in self._xml:
            part = self._parts.get(sheet_name)
            data = None
            if part:
                with package.Package(self.path) as pkg:
                    data = pkg.read(part) if pkg.has(part) else None
            self._xml[sheet_name] = data
        return self._xml[sheet_name]

    def _guarded_parts(self, sheet_name: str) -> list[str] | None:
        """Every part the reader might parse for ``sheet_name`` (None: not an xlsx package). A sheet
        the reader lists but no part can be found for is refused: the guard must never be skipped."""
        if self._candidates is None:
            return None
        parts = self._candidates.get(sheet_name)
        if not parts:
            raise WorkbookUnreadable(_damaged_sheet(self.label, sheet_name))
        return parts

    def _piece_checker(self, sheet_name: str):
        """``check_extent`` for ``chunked.read_rows``: bounds each piece AND the grid stitched from
        the pieces so far (the rows of one piece times the columns of another); a refusal names the
        whole sheet's extent, as reading it whole would. ``False`` (read the sheet whole) when the
        pieces' bounds are looser than the whole sheet's and the whole sheet passes."""
        data, region, most = self._sheet_xml(sheet_name), self._region(sheet_name), [0, 26]

        def check(span: tuple[int, int]) -> bool:
            last_row, last_col = package.sheet_extent(data, span, region)
            most[0], most[1] = max(most[0], last_row), max(most[1], last_col)
            if most[0] * most[1] > MAX_CELLS:
                self._check_extent(sheet_name)  # raises the whole sheet's refusal
                return False
            return True

        return check

    def _support_parts(self) -> dict[str, bytes] | None:
        """The package's XML parts other than worksheets (workbook, relationships, shared strings,
        styles ...), inflated: what a piece of a split sheet needs to read like the original.
        ``None`` when they are too large to copy into every piece."""
        sheets = {p for parts in (self._candidates or {}).values() for p in parts}
        out, total = {}, 0
        with package.Package(self.path) as pkg:
            for part in pkg.names:
                if part.lower().endswith(package.XML_PART_SUFFIXES) and part not in sheets:
                    out[part] = pkg.read(part)
                    total += len(out[part])
                    if total > chunked.MAX_SUPPORT_BYTES:
                        return None
        return out

    def _region(self, sheet_name: str) -> tuple[int, int] | None:
        """``package.plain_region`` of the sheet's XML (found once)."""
        if sheet_name not in self._regions:
            data = self._sheet_xml(sheet_name)
            self._regions[sheet_name] = package.plain_region(data) if data else None
        return self._regions[sheet_name]

    def _check_extent(self, sheet_name: str, span: tuple[int, int] | None = None) -> None:
        """Refuse a sheet whose cells span more than a village workbook can: the reader would
        otherwise allocate rows x columns for a single far-away cell (a hostile file, or a stray
        value typed in XFD1048576). ``span``: only a piece of the sheet's rows (see ``chunked``)."""
        parts = self._guarded_parts(sheet_name)
        if not parts:
            return
        if len(parts) == 1:
            data = self._sheet_xml(sheet_name)
            # also cells without r, rows without r
            last_row, last_col = package.sheet_extent(data, span, self._region(sheet_name)) if data else (0, 0)
        else:  # a package that could mean several parts: the farthest of them bounds the sheet
            last_row = last_col = 0
            with package.Package(self.path) as pkg:
                for part in parts:
                    r, c = package.sheet_extent(pkg.read(part))
                    if r * max(c, 26) > last_row * max(last_col, 26):
                        last_row, last_col = r, c
        last_col = max(last_col, 26)
        if last_row * last_col > MAX_CELLS:
            where = f"{col_letter(last_col - 1)}{last_row}"
            raise WorkbookUnreadable(
                f"文件「{self.label}」的工作表「{sheet_name}」的数据范围延伸到 {where}，"
                f"远超村级工作簿的规模（可能是远处的单元格里有内容或格式）。请在 Excel 中按 Ctrl+End 找到最后一个单元格，"
                f"删除多余的行和列后保存，再重试。")

    def _rows(self, sheet_name: str) -> tuple[list[list], list]:
        data = self._sheet_xml(sheet_name)
        wanted = self.pieces if self.pieces is not None else chunked.pieces_for(len(data) if data else 0)
        if wanted > 1 and data and (region := self._region(sheet_name)) and (support := self._support_parts()) is not None:
            pieces = self.pieces or chunked.pieces_for(len(data), sum(map(len, support.values())))
            with package.reader_call():
                got = chunked.read_rows(support, self._parts[sheet_name], sheet_name, data, region, pieces,
                                        self._piece_checker(sheet_name),
                                        meanwhile=lambda: self._has_formulas(sheet_name))
            if got is not None:
                return got
        self._check_extent(sheet_name)
        try:
            with package.reader_call():
                sheet = self._book.get_sheet_by_name(sheet_name)
                rows = sheet.to_python(skip_empty_area=False)
                merged = sheet.merged_cell_ranges or []
        except BaseException as exc:  # calamine's errors (and panics) for a damaged sheet vary by format
            if not package.reader_failed(exc):
                raise
            if _CELL_LIMIT in str(exc):
                raise WorkbookUnreadable(_too_far(self.label, sheet_name)) from exc
            raise WorkbookUnreadable(_damaged_sheet(self.label, sheet_name)) from exc
        return rows, merged

    # -- number formats of code columns ---------------------------------------
    def _cell_xf_formats(self) -> list[str]:
        """Each cell format's number format code (``ooxml.styles.cell_number_formats``), read once."""
        if self._xf_formats is None:
            text = None
            with package.Package(self.path) as pkg:
                part = pkg.styles_part()
                if part is not None:
                    text = markup.text_of(pkg.read(part))
            self._xf_formats = styles.cell_number_formats(text) if text else []
        return self._xf_formats

    def _code_formats(self, spec, sheet_name, frame, fields, merged) -> CellFormats | None:
        """The number format code of each numeric cell of the code columns (``clean.FORMATS``;
        None for text, blanks and General), so 户号 45 formatted 0000 reads as 「0045」.

        Costs one look at the values when the code columns hold text (the template formats them
        as text): the sheet XML is scanned only for a code column that holds numbers, one literal-led
        regular expression per such column (``sheetxml.cell_styles``) over the whole sheet's XML
        (also when the rows were parsed in pieces: the formats are attached after stitching). A
        cell under a vertical merge takes its top cell's format, as its value. Only xlsx/xlsm
        sheets: .xls, .xlsb and .ods cells' formats are not read (python-calamine does not give
        them), so numbers there keep their raw value.
        """
        numeric: dict[str, np.ndarray] = {}
        for field, _i in fields.items():
            if spec.column(field).type != S.CODE:
                continue
            values = frame[field].to_numpy()
            if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
                continue  # the common case, told in C (a third of a Python pass over the types)
            mask = np.fromiter((v.__class__ is float or v.__class__ is int for v in values),
                               dtype=bool, count=len(values))
            if mask.any():
                numeric[field] = mask
        if not numeric:
            return None
        data = self._sheet_xml(sheet_name)
        xf = self._cell_xf_formats() if data else []
        if not xf:
            return None
        codes = np.array([None if c == GENERAL else c for c in xf] + [None], dtype=object)
        rows = frame[ROW].to_numpy(dtype="int64")
        out = CellFormats()
        for field, mask in numeric.items():
            col = fields[field]
            wanted = rows[mask]
            found = sheetxml.cell_styles(data, col_letter(col))
            last = int(wanted.max())
            for (r0, c0), (r1, _c1) in merged:  # the covered cells show the top cell
                if c0 == col and r1 > r0 and (r0 + 1) in found:
                    for r in range(r0 + 2, min(r1 + 1, last) + 1):
                        found[r] = found[r0 + 1]
            if any(r not in found for r in wanted.tolist()):
                found = sheetxml.cell_styles(data, col_letter(col), exact=True) | found
            index = np.fromiter((found.get(r, 0) for r in wanted.tolist()), dtype="int64", count=len(wanted))
            index[(index < 0) | (index >= len(xf))] = len(xf)  # a format the styles lack: raw value
            cells = np.full(len(rows), None, dtype=object)
            cells[mask] = codes[index]
            if any(c is not None for c in cells[mask]):
                out[field] = cells.tolist()
        return out or None

    # -- formulas without cached values --------------------------------------
    def _has_formulas(self, sheet_name: str) -> bool:
        """Whether the sheet holds any formula or error cell (scanned once; most hold neither)."""
        if sheet_name not in self._formulas:
            data = self._sheet_xml(sheet_name)
            self._formulas[sheet_name] = bool(data) and _has_formula_or_error(data)
        return self._formulas[sheet_name]

    @staticmethod
    def _cell_patterns(data: bytes):
        """Regexes for cells, formulas and values in this sheet's own namespace prefix (some
        generators write ``<x:c>``); ``r`` may stand anywhere among the attributes."""
        m = _ROOT_PREFIX_RE.search(data[:4096])
        p = re.escape(m.group(1) + b":") if m else b""
        cell = re.compile(rb"<" + p + rb"c\b([^>]*?)\br=[\"']([A-Z]{1,3})(\d+)[\"']([^>]*?)(?:/>|>(.*?)</" + p + rb"c>)",
                          re.S)
        return cell, re.compile(rb"<" + p + rb"f[ >/]"), re.compile(rb"<" + p + rb"v>([^<]*)</" + p + rb"v>")

    def _formula_problems(self, spec, sheet_name, fields, start) -> list:
        """A formula whose result was never calculated reads as empty; report it instead.

        Also report cells whose formula result is an error (#DIV/0!, #REF! ...)."""
        data = self._sheet_xml(sheet_name)
        if not data or not self._has_formulas(sheet_name):
            return []
        by_letter = {col_letter(i): spec.column(f) for f, i in fields.items()}
        cell_re, formula_re, value_re = self._cell_patterns(data)
        out = []
        for before, letter, row, after, inner in cell_re.findall(data):
            col = by_letter.get(letter.decode())
            r = int(row)
            if col is None or r <= start:
                continue
            attrs, inner = before + after, inner or b""
            value = value_re.search(inner)
            if b't="e"' in attrs:
                shown = value.group(1).decode() if value else "#错误"
                out.append(error(spec.name, r, col.header, "E-FMT-FORMULA",
                                 f"公式结果是错误值 {shown}", "请检查该单元格的公式，或直接填写数值"))
            elif formula_re.search(inner) and not (b't="str"' in attrs or (value and value.group(1))):
                # No cached result (openpyxl and some web exports write <v></v> or nothing);
                # an empty-string result is cached as t="str" with an empty <v>.
                out.append(error(spec.name, r, col.header, "E-FMT-NOCALC",
                                 "公式没有计算结果（文件保存时未重新计算）",
                                 "请在 Excel/WPS 中打开文件，按 F9 重新计算后保存；或直接填写数值"))
        return out
