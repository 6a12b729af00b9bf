"""File backend: read any village workbook fast (``xlsxread``), write owned sheets losslessly
(``xlsxwrite``). The backend composes the two; the reader module knows nothing of writing.
"""

from __future__ import annotations

from pathlib import Path

from . import package
from .base import CAP_ADD_SHEET, CAP_BACKUP, CAP_LINKS, CAP_SHEET_IMAGE, ReadStamp, WritePlan, WriteRequest, WriteResult
from .grid import GridBook, col_index, col_letter, norm_header  # noqa: F401 (re-exported)
from .xlsxread import MAX_CELLS, XlsxReader  # noqa: F401 (re-exported)

__all__ = ["open_workbook", "XlsxFile", "XlsxReader", "MAX_CELLS"]


def open_workbook(path: str | Path, *, pieces: int | None = None):
    """The backend for whatever ``path`` really is: a spreadsheet (XlsxFile) or an HTML table
    export named like one (HtmlFile, read only); anything else gets one clear message.

    :param pieces: how a large worksheet is read (see ``XlsxReader``): ``None`` = in parallel
        pieces when it pays; ``1`` = never split (a batch running one process per file).
    """
    path = Path(path)
    kind = package.sniff(path).kind
    if kind == "html":
        from .html import HtmlFile

        return HtmlFile(path)
    return XlsxFile(path, kind=kind, pieces=pieces)


class XlsxFile(XlsxReader):
    """One workbook file: read (see ``XlsxReader``) and, for .xlsx / .xlsm, written losslessly
    (see ``xlsxwrite``): a write is planned from the file as it was when it was opened, and
    refused once the file has changed since (someone saved it in Excel meanwhile)."""

    capabilities = frozenset({CAP_ADD_SHEET, CAP_LINKS, CAP_BACKUP, CAP_SHEET_IMAGE})

    def __init__(self, path: str | Path, kind: str | None = None, pieces: int | None = None):
        from .xlsxwrite import file_stamp

        self._stamp = file_stamp(path)  # before the first byte is read
        super().__init__(path, kind=kind, pieces=pieces)

    def stamp(self) -> ReadStamp:
        return self._stamp

    def check_writable(self) -> None:
        """Refuse early (before any work) a file that cannot be written: open in Excel, .xls, read-only."""
        from .xlsxwrite import check_writable  # the writer is imported only when it is needed

        check_writable(self.path)

    def plan_write(self, request: WriteRequest) -> WritePlan:
        """Work out the new bytes of every part the write changes; every refusal happens here."""
        from .xlsxwrite import plan_owned

        plan = plan_owned(self.path, request, self._stamp)
        return WritePlan(self.label, self._stamp, request, plan.added, payload=plan)

    def apply(self, plan: WritePlan, *, backup: bool = True) -> WriteResult:
        """Backup, new package, atomic replace; refused when the file changed since it was read."""
        from .xlsxwrite import apply_owned, file_stamp

        result = apply_owned(plan.payload, backup=backup)
        self._stamp = file_stamp(self.path)  # what this backend wrote is what it now holds
        return result
