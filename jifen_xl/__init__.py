"""jifen-xl: the rural-governance points system (乡村治理积分制) in village Excel workbooks.

Library first: the use cases in :mod:`jifen_xl.app` take a workbook path and plain
arguments and return results; the ``jifen-xl`` command line is a thin layer over them.
"""

__version__ = "0.1.0"

from .app import check, check_file, ledger_book, new_book, validate_book  # noqa: E402
from .errors import JifenError  # noqa: E402

__all__ = ["__version__", "check", "check_file", "validate_book", "ledger_book", "new_book", "JifenError"]
