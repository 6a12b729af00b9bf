"""Reader for HTML table exports named like Excel files.

Web systems commonly export tables as HTML saved with an ``.xls`` name. Such a file is
read when it follows the contract: each ``<table>`` is a sheet, named by its
``<caption>`` or by the heading / text just before it. Cells spanning rows or columns
become merged ranges. Read-only: writing asks the clerk to save as .xlsx.

Every cell is read as the text the export shows: Excel's and web systems' HTML writes a number
through its format (户号 45 formatted 0000 is ``<td x:num="45" ...>0045</td>``), so the values are
already as the clerk sees them and no number formats are handed over (``clean.FORMATS``).

Parsing uses the standard library's HTMLParser (no entity or network access; character
references only), with limits on size and cell count.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from ..errors import WorkbookUnreadable
from .grid import GridBook
from .package import SAVE_AS_XLSX

MAX_BYTES = 200_000_000
MAX_CELLS = 5_000_000
MAX_SPAN = 1000  # a colspan/rowspan larger than this is treated as 1 (hostile or broken)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "span", "b", "strong", "title"}


class Table:
    def __init__(self, name: str | None):
        self.name = name
        self.caption: str | None = None
        self.rows: list[list[tuple[str, int, int]]] = []  # (text, colspan, rowspan)


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[Table] = []
        self.stack: list[Table] = []
        self.cell: list[str] | None = None
        self.span = (1, 1)
        self.in_caption = False
        self.caption: list[str] = []
        self.last_text = ""
        self.text: list[str] = []
        self.cells = 0

    @staticmethod
    def _span(attrs, name) -> int:
        value = dict(attrs).get(name) or "1"
        try:
            n = int(str(value).strip())
        except ValueError:
            return 1
        return n if 1 <= n <= MAX_SPAN else 1

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._flush_text()
            self.stack.append(Table(self.last_text or None))
        elif not self.stack:
            if tag in _HEADINGS:
                self._flush_text()
            return
        elif tag == "caption":
            self.in_caption, self.caption = True, []
        elif tag == "tr":
            self.stack[-1].rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
            self.span = (self._span(attrs, "colspan"), self._span(attrs, "rowspan"))
        elif tag == "br" and self.cell is not None:
            self.cell.append("\n")

    def handle_endtag(self, tag):
        if tag == "table" and self.stack:
            self._end_cell()
            self.tables.append(self.stack.pop())
            self.last_text = ""
        elif not self.stack:
            if tag in _HEADINGS:
                self._flush_text()
        elif tag == "caption":
            self.in_caption = False
            self.stack[-1].caption = "".join(self.caption).strip() or None
        elif tag in ("td", "th"):
            self._end_cell()

    def _end_cell(self):
        if self.cell is None or not self.stack:
            return
        table = self.stack[-1]
        if not table.rows:
            table.rows.append([])
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(self.cell)).strip()
        table.rows[-1].append((text, *self.span))
        self.cell = None
        self.cells += self.span[0] * self.span[1]
        if self.cells > MAX_CELLS:
            raise _TooBig

    def handle_data(self, data):
        if self.in_caption:
            self.caption.append(data)
        elif self.cell is not None:
            self.cell.append(data)
        elif not self.stack:
            self.text.append(data)

    def _flush_text(self):
        text = re.sub(r"\s+", "", "".join(self.text))
        if text:
            self.last_text = text[:31]
        self.text = []


class _TooBig(Exception):
    pass


def _grid(table: Table) -> tuple[list[list], list]:
    """Expand colspan/rowspan into a rectangular grid; spans become merged ranges."""
    grid: dict[tuple[int, int], str] = {}
    merged = []
    width = 0
    for r, row in enumerate(table.rows):
        c = 0
        for text, colspan, rowspan in row:
            while (r, c) in grid:
                c += 1
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = text if (dr, dc) == (0, 0) else ""
            if colspan > 1 or rowspan > 1:
                merged.append(((r, c), (r + rowspan - 1, c + colspan - 1)))
            c += colspan
            width = max(width, c)
    height = max([r for r, _ in grid] + [-1]) + 1
    rows = [[grid.get((r, c), "") for c in range(width)] for r in range(height)]
    return rows, merged


def _decode(data: bytes) -> str:
    head = data[:4096].decode("ascii", "ignore").lower()
    m = re.search(r"charset\s*=\s*[\"']?([\w-]+)", head)
    candidates = ([m.group(1)] if m else []) + ["utf-8-sig", "gb18030"]
    for enc in candidates:
        try:
            return data.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


class HtmlFile(GridBook):
    """An HTML table export (read-only).

    :param path: the file (any name; the content is HTML).
    """

    format_note = f"它其实是网页（HTML）格式，只是扩展名像 Excel 文件，常见于从网上系统导出的表格。{SAVE_AS_XLSX}"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.label = self.path.name
        if self.path.stat().st_size > MAX_BYTES:
            raise WorkbookUnreadable(f"文件「{self.label}」是网页格式，且大于 {MAX_BYTES // 1_000_000} MB，工具不读取。{SAVE_AS_XLSX}")
        parser = _Parser()
        try:
            parser.feed(_decode(self.path.read_bytes()))
            parser.close()
        except _TooBig:
            raise WorkbookUnreadable(f"文件「{self.label}」是网页格式，表格单元格过多，工具不读取。{SAVE_AS_XLSX}") from None
        self._tables: dict[str, Table] = {}
        for i, table in enumerate(parser.tables, start=1):
            name = table.caption or table.name or f"表{i}"
            while name in self._tables:
                name += "_"
            self._tables[name] = table
        self.sheet_names = list(self._tables)
        self._index_sheets()

    def _rows(self, sheet_name: str) -> tuple[list[list], list]:
        return _grid(self._tables[sheet_name])
