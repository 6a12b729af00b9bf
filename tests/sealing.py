"""Sealing months of a test workbook without the ``close`` command (issue 9).

``seal_book`` does on disk what ``close`` does last: it takes the workbook as it stands (the
fixture's months are already 已确认), writes 月度台账 through the last month sealed, and for each
month calls ``core.seal.seal_month`` and appends its 封账记录 row and 封账明细 rows — all in one
write through the file backend, like any write of the toolkit. ``sealed_tables`` does the same on
the tables given to ``conftest.build`` (for planted-mistake cases).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from jifen_xl import app
from jifen_xl.core.ledger import compute_ledger
from jifen_xl.core.seal import append_seal, seal_month
from jifen_xl.io.base import WriteRequest

from .conftest import village_from_tables

CLOSE_DATE = dt.date(2026, 4, 9)


def _sealed(village, months, seals=None, details=None, close_date=CLOSE_DATE):
    ledger = compute_ledger(village, pd.Period(months[-1], "M"))
    for month in months:
        seal_row, rows = seal_month(village, month, ledger, seals, details, close_date)
        seals, details = append_seal(seals, details, seal_row, rows)
        # what was appended reads back with Excel rows under the header on row 1
        seals = seals.assign(excel_row=range(2, 2 + len(seals)))
        details = details.assign(excel_row=range(2, 2 + len(details)))
    return ledger, seals.drop(columns="excel_row"), details.drop(columns="excel_row")


def seal_book(path: Path, months: list[str], close_date: dt.date = CLOSE_DATE) -> None:
    """Seal ``months`` (in order) of the workbook at ``path``: 月度台账, 封账记录, 封账明细."""
    backend = app.open_backend(path)
    loaded = app.load(backend, for_writing=True)
    village = loaded.village
    seals, details = village.tables.get("seals"), village.tables.get("sealed_entries")
    ledger, seals, details = _sealed(village, months, seals, details, close_date)
    backend.apply(backend.plan_write(WriteRequest({"ledger": ledger, "seals": seals, "sealed_entries": details})))


def sealed_tables(tables: dict, months: list[str]) -> dict:
    """``tables`` plus 月度台账, 封账记录 and 封账明细 with ``months`` sealed (for ``conftest.build``)."""
    village = village_from_tables(tables)
    ledger, seals, details = _sealed(village, months)
    return {**tables, "ledger": ledger, "seals": seals, "sealed_entries": details}
