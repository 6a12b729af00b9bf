"""How the toolkit's sheets look, wherever they are made: by the template builder (openpyxl) or
added to a clerk's workbook by the lossless writer (a sheet the workbook lacks). No I/O here."""

from __future__ import annotations

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
#: The page footer (Excel header/footer codes).
FOOTER = "第 &P 页，共 &N 页"


def orientation(spec: SheetSpec | None, portrait: bool = False) -> str:
    """``"portrait"`` or ``"landscape"``: landscape when the sheet's columns are too wide for A4."""
    width = sum(c.width for c in spec.columns) if spec else 0
    return "portrait" if portrait or width <= PORTRAIT_MAX_WIDTH else "landscape"
