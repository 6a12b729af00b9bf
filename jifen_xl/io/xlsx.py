"""File backend: read any village workbook fast (``xlsxread``), write owned sheets losslessly
(``xlsxwrite``). The backend composes the two; the reader module knows nothing of writing.
"""

from __future__ import annotations

from pathlib import Path

from . import package
from .grid import GridBook, col_index, col_letter, norm_header  # noqa: F401 (re-exported)
from .xlsxread import MAX_CELLS, XlsxReader  # noqa: F401 (re-exported)

__all__ = ["open_workbook", "XlsxFile", "XlsxReader", "MAX_CELLS"]


def open_workbook(path: str | Path):
    """The reader for whatever ``path`` really is: a spreadsheet (XlsxFile) or an HTML table
    export named like one (HtmlFile); anything else gets one clear message."""
    path = Path(path)
    kind = package.sniff(path).kind
    if kind == "html":
        from .html import HtmlFile

        return HtmlFile(path)
    return XlsxFile(path, kind=kind)


class XlsxFile(XlsxReader):
    """One workbook file: read (see ``XlsxReader``) and, for .xlsx / .xlsm, written losslessly."""

    def check_writable(self) -> None:
        """Refuse early (before any work) a file that cannot be written: open in Excel, .xls, read-only."""
        from .xlsxwrite import check_writable  # the writer is imported only when it is needed

        check_writable(self.path)

    def write_tables(self, frames, links=None, patches=(), **kwargs):
        """Write owned tables (月度台账, 校验结果, 库存台账) and patched cells losslessly; see
        ``xlsxwrite.write_owned``."""
        from .xlsxwrite import write_owned

        return write_owned(self.path, frames, links=links, patches=patches, **kwargs)
