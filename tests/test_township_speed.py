"""The township import's speed work (issue 11, second slice) changes no figure.

- A village read in this process (its large sheets parsed in pieces on every core) and read as
  a worker reads it (each sheet whole) gives the same outcome, extract frames and all.
- The extract's month labels and 证明材料 flags, now computed once per distinct value, equal the
  plain per-row formulation on awkward values (no date, blanks, spaces only, numbers).
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from jifen_xl.core.township import _given, _months
from jifen_xl.demo import generate_village
from jifen_xl.io.template import build_workbook
from jifen_xl.township import read_village_file

FRAMES = ("households", "entries", "objections", "exchanges", "receipts", "stock", "ledger", "findings")


@pytest.fixture(scope="module")
def village_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "石岗村-2026.xlsx"
    settings, tables = generate_village(households=40, seed=11, village="石岗村", entries_per_household=30,
                                        settled_months=11)
    build_workbook(path, settings, tables)
    return path


@pytest.mark.parametrize("pieces", [2, None])
def test_in_pieces_or_whole_the_same_outcome(village_file, pieces):
    whole = read_village_file(village_file, "石岗村-2026.xlsx", pieces=1)
    split = read_village_file(village_file, "石岗村-2026.xlsx", pieces=pieces)
    assert whole.extract is not None and len(whole.extract.entries) > 1000
    assert (split.status, split.reason, split.findings, split.errors, split.warnings) == \
        (whole.status, whole.reason, whole.findings, whole.errors, whole.warnings)
    assert split.extract.meta == whole.extract.meta
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(split.extract, name), getattr(whole.extract, name), check_exact=True)
    # the extract crosses the process boundary whole
    back = pickle.loads(pickle.dumps(whole.extract, protocol=pickle.HIGHEST_PROTOCOL))
    pd.testing.assert_frame_equal(back.entries, whole.extract.entries, check_exact=True)


def test_month_labels_equal_the_per_row_labels_and_are_shared():
    dates = pd.Series(pd.to_datetime(["2026-03-05", None, "2026-11-30", "2026-03-31", "2025-12-01", None,
                                      "2026-11-01"]), index=[10, 11, 12, 13, 14, 15, 16])
    got = _months(dates)
    want = [d.strftime("%Y-%m") if pd.notna(d) else None for d in dates]
    assert got.tolist() == want
    assert got.index.tolist() == dates.index.tolist() and got.dtype == object
    assert got[10] is got[13]  # one label object per month: pickled once, held once
    assert _months(pd.Series([], dtype="datetime64[ns]")).tolist() == []


def test_given_equals_the_per_row_test():
    values = pd.Series([None, np.nan, "", "   ", "照片", 3, " 村委会记录 ", "照片", pd.NaT, 0.0], dtype=object)
    want = [v is not None and not pd.isna(v) and str(v).strip() != "" for v in values]
    assert _given(values).tolist() == want
    assert _given(pd.Series([None, None], dtype=object)).tolist() == [False, False]
    assert _given(pd.Series([], dtype=object)).tolist() == []


def test_the_stock_ledger_and_counted_entries_are_worked_out_once_per_village(village_file):
    """Validation (W-GDS-01, the balances, the ledger) and the township extract share one 库存台账
    and one set of counted entries per village, equal to what the plain functions give."""
    from jifen_xl import app
    from jifen_xl.core.stock import compute_stock, village_stock
    from jifen_xl.core.township import village_extract
    from jifen_xl.core.village import counted_entries, counted_mask, effective_entries, village_counted

    loaded, report = app.check(app.open_backend(village_file, pieces=1))
    village = loaded.village
    year = village.year
    stock = village_stock(village, year)
    assert len(stock) > 0 and village_stock(village, year) is stock  # validation's W-GDS-01 already computed it
    pd.testing.assert_frame_equal(stock, compute_stock(village["goods"], village["receipts"], village["exchanges"],
                                                       year), check_exact=True)
    extract = village_extract(village, report)
    last = stock[stock["month"] == stock["month"].max()]
    assert extract.stock["closing"].tolist() == last["closing"].tolist()
    plain = counted_entries(effective_entries(village))
    assert len(plain) > 1000
    assert counted_mask(village) is counted_mask(village) and int(counted_mask(village).sum()) == len(plain)
    pd.testing.assert_frame_equal(village_counted(village), plain, check_exact=True)
    pd.testing.assert_frame_equal(village_counted(village, ["date"]), plain[["date"]], check_exact=True)
    assert extract.entries["counted"].sum() == len(plain[plain["date"].dt.year == year])
