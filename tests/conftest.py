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

def _find_shared() -> Path:
    """The read-only ``shared/`` folder: $JIFEN_SHARED, else beside the checkout (as CI lays it),
    else any ancestor's ``shared/``, else the workplace's ``/work/shared``."""
    import os

    here = Path(__file__).resolve().parents[1]
    candidates = [Path(os.environ["JIFEN_SHARED"])] if os.environ.get("JIFEN_SHARED") else []
    candidates += [p / "shared" for p in here.parents] + [Path("/work/shared")]
    for c in candidates:
        if (c / "corpus" / "calamine-tests").is_dir():
            return c
    return candidates[0]


SHARED = _find_shared()
CORPUS = SHARED / "corpus" / "calamine-tests"
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


@pytest.fixture(scope="session")
def rich_template(tmp_path_factory) -> Path:
    """The workbook carrying everything a lossless write must keep (``fixtures_rich``), built once."""
    from .fixtures_rich import build_rich_workbook

    return build_rich_workbook(tmp_path_factory.mktemp("rich") / "村级积分台账.xlsm")


@pytest.fixture
def rich(rich_template, tmp_path) -> Path:
    """A fresh copy of the rich workbook, as a clerk's file."""
    import shutil

    dest = tmp_path / "永宁寺村2025.xlsm"
    shutil.copyfile(rich_template, dest)
    return dest
