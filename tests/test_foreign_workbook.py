"""A workbook made without the toolkit, re-saved by LibreOffice as a clerk's other application
would: the toolkit finds exactly the planted mistakes and computes the right totals."""

from __future__ import annotations

import pytest

from jifen_xl import app

from .conftest import TODAY
from .foreign import PLANTED, expected_ledger, write_foreign_workbook
from .lo import lo_convert, needs_lo
from .test_ledger import as_expected


def planted_view(loaded, report):
    """Findings as (level, sheet, 登记编号, column, rule): the foreign layout decides the rows."""
    entries = loaded.village["entries"].set_index("excel_row")["entry_id"]
    return {(p.level, p.sheet, entries.get(p.row), p.column, p.rule) for p in report.problems}


def test_openpyxl_written_formula_without_cached_value_is_reported_not_read_as_blank(tmp_path):
    book = write_foreign_workbook(tmp_path / "外来.xlsx")
    loaded, report = app.check(app.open_backend(book), today=TODAY)
    view = planted_view(loaded, report)
    assert view == PLANTED | {("错误", "积分登记", "2026-001", "积分", "E-FMT-NOCALC")}
    (p,) = [p for p in report.problems if p.rule == "E-FMT-NOCALC"]
    assert "F9" in p.fix


@needs_lo
@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_libreoffice_resaved_workbook_gives_exactly_the_planted_mistakes_and_totals(tmp_path, fmt):
    book = write_foreign_workbook(tmp_path / "外来.xlsx")
    resaved = lo_convert(book, fmt, tmp_path / "lo")
    loaded, report = app.check(app.open_backend(resaved), today=TODAY)
    assert planted_view(loaded, report) == PLANTED
    result = app.ledger_book(app.open_backend(resaved), month="2026-03", dry_run=True, today=TODAY)
    assert as_expected(result.ledger) == expected_ledger()
