"""How the toolkit's sheets look, wherever they are made: by the template builder (openpyxl) or
added to a clerk's workbook by the lossless writer (a sheet the workbook lacks). No I/O here.

The look must survive every spreadsheet program a village uses. Excel table styles are drawn by
Excel only (LibreOffice and WPS show or print them differently, or not at all), so whatever the
clerk must see (a distinct header row, wrapped long text, the row heights that let it print
whole) is plain cell formatting, described here once.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ..schema import SheetSpec

#: Table styles: the clerk's sheets, and the sheets the toolkit writes.
TABLE_STYLE = "TableStyleMedium2"
OWNED_TABLE_STYLE = "TableStyleLight15"
#: Tab colours: sheets the toolkit writes are grey, the help sheet green.
OWNED_TAB_COLOR = "808080"
HELP_TAB_COLOR = "70AD47"
#: Total column width (characters) above which a sheet prints landscape.
PORTRAIT_MAX_WIDTH = 100
#: Paper: A4 (Excel's paperSize code 9).
PAPER_A4 = 9
#: Page margins in inches: left, right, top, bottom, header, footer.
MARGINS = (0.5, 0.5, 0.75, 0.75, 0.3, 0.3)
#: The page footer (Excel header/footer codes).
FOOTER = "第 &P 页，共 &N 页"

#: The header row, as cell formatting (not only the table style): bold text on a light fill,
#: thin borders on every side, centred and wrapped. A light fill prints well in black and white.
HEADER_FILL = "DDEBF7"  # the clerk's sheets: light blue
OWNED_HEADER_FILL = "E7E6E6"  # the sheets the toolkit writes: light grey, like their tab
HEADER_BORDER = "808080"  # thin, medium grey
HEADER_BOLD = True

#: Height (points) of one line of 11-point text with CJK characters (LibreOffice's CJK fonts
#: need more than Excel's 15), the room kept below the last line, and Excel's largest row height.
LINE_POINTS = 16.0
ROW_PADDING = 2.0
MAX_ROW_POINTS = 409.0
#: The sheets' default row height (points): one such line and its room (Excel's 15 leaves
#: LibreOffice's CJK glyphs touching the grid line below).
ROW_POINTS = LINE_POINTS + ROW_PADDING

# Characters that take two width units (CJK, full-width forms, CJK punctuation and quotes):
# everything beyond Latin, Greek and Cyrillic is counted wide, which errs on the taller side.
_WIDE = r"[^\x00-\u04FF]"


def orientation(spec: SheetSpec | None, portrait: bool = False) -> str:
    """``"portrait"`` or ``"landscape"``: landscape when the sheet's columns are too wide for A4."""
    width = sum(c.width for c in spec.columns) if spec else 0
    return "portrait" if portrait or width <= PORTRAIT_MAX_WIDTH else "landscape"


def header_fill(spec: SheetSpec | None) -> str:
    """The header row's fill colour (RGB hex) of ``spec``'s sheet."""
    return OWNED_HEADER_FILL if spec is not None and spec.owned else HEADER_FILL


def text_lines(values, width) -> np.ndarray:
    """How many lines each value takes in a wrapping column ``width`` characters wide.

    A CJK character counts two width units, as in Excel's column width; a blank or non-text value
    takes one line. Vectorised for long columns (a village-year has tens of thousands of rows);
    a handful of values (headers, 使用说明) is counted directly, which is faster.

    :param values: the column's values (a Series or a list).
    :param width: the column width in Excel characters, or one width per value.
    """
    values = pd.Series(values, dtype="object").reset_index(drop=True)
    per_line = np.broadcast_to(np.maximum(np.asarray(width, dtype="float64") - 1.0, 2.0), (len(values),))
    if len(values) <= _FEW:
        return np.array([_lines(v, w) for v, w in zip(values.tolist(), per_line.tolist())], dtype="int64")
    text = values.where(values.apply(isinstance, args=(str,)), "")  # numbers and dates: one line
    parts = text.str.split("\n").explode()
    units = (parts.str.len() + parts.str.count(_WIDE)).astype("float64")
    need = np.ceil(units / per_line[parts.index.to_numpy(dtype="int64")]).clip(lower=1)
    return need.groupby(level=0).sum().reindex(values.index, fill_value=1).to_numpy(dtype="int64")


_FEW = 200
_WIDE_RE = re.compile(_WIDE)


def _lines(value, per_line: float) -> int:
    """``text_lines`` of one value, ``per_line`` width units to a line."""
    if not isinstance(value, str):
        return 1
    return sum(max(1, math.ceil((len(part) + len(_WIDE_RE.findall(part))) / per_line))
               for part in value.split("\n"))


def row_points(lines) -> np.ndarray:
    """Row heights (points) for rows of ``lines`` lines (LibreOffice does not grow a row to fit
    wrapped text of a file it did not save, and prints it cut off at the row's height)."""
    return np.minimum(np.asarray(lines, dtype="float64") * LINE_POINTS + ROW_PADDING, MAX_ROW_POINTS)
