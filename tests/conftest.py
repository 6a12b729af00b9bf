"""Shared fixtures: small real workbooks on disk (no mocks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from jifen_xl import schema as S
from jifen_xl.core.clean import ROW, clean_frame
from jifen_xl.core.village import Village

from . import village_data as V

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "calamine-tests"
TODAY = dt.date(2026, 11, 28)


def build(path: Path, tables: dict | None = None, settings: dict | None = None) -> Path:
    """Write a village workbook through the toolkit's template builder."""
    from jifen_xl.io.template import build_workbook

    return build_workbook(path, settings or dict(V.SETTINGS), tables if tables is not None else V.village_tables())


def village_from_tables(tables: dict[str, pd.DataFrame], settings: dict | None = None) -> Village:
    """The pure core's view of ``tables`` (rows numbered as the template would: header on row 1)."""
    typed = {}
    for key, df in tables.items():
        spec = S.sheet(key)
        raw = df.astype(object).assign(**{ROW: range(2, 2 + len(df))})
        typed[key], problems = clean_frame(spec, raw)
        assert problems == [], problems
    return Village(settings or dict(V.SETTINGS), typed, {k: 1 for k in tables})


@pytest.fixture
def tables():
    return V.village_tables()


@pytest.fixture
def village_book(tmp_path) -> Path:
    return build(tmp_path / "永宁寺村.xlsx")
