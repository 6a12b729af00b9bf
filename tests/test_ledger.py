"""Ledger (core): the hand-worked village, and the SPEC invariants."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from jifen_xl import app
from jifen_xl.core.ledger import compute_ledger, ledger_month, ledger_records

from . import village_data as V
from .conftest import TODAY, build, village_from_tables


def as_expected(ledger: pd.DataFrame) -> dict:
    out: dict = {}
    for r in ledger.itertuples(index=False):
        out.setdefault(r.month, {})[r.hh_id] = (r.basic, r.contrib, r.deduct, r.month_total, r.cumulative,
                                                r.spent, r.available, r.rank)
    return out


MARCH = pd.Period("2026-03", "M")


def test_core_ledger_matches_hand_worked_figures(tables):
    ledger = compute_ledger(village_from_tables(tables), MARCH)
    assert as_expected(ledger) == V.EXPECTED
    # head names come from the registry; the household that moved away with no activity has no rows
    assert set(ledger["head"]) == {"张大山", "李秀英", "王建国", "赵小红", "周明"}
    assert "0005" not in set(ledger["hh_id"])


def test_default_stops_before_a_month_still_under_publicity(tables):
    # 2026-010 (April) is still 公示中: April cannot be closed, so the default ledger ends in March
    ledger = compute_ledger(village_from_tables(tables))
    assert sorted(ledger["month"].unique()) == ["2026-01", "2026-02", "2026-03"]
    settled = dict(tables, entries=tables["entries"].assign(
        status=tables["entries"]["status"].replace({"公示中": "已确认"})))
    assert compute_ledger(village_from_tables(settled))["month"].max() == "2026-04"


def test_ledger_through_a_month_stops_there(tables):
    ledger = compute_ledger(village_from_tables(tables), pd.Period("2026-02", "M"))
    assert sorted(ledger["month"].unique()) == ["2026-01", "2026-02"]
    assert as_expected(ledger)["2026-02"] == V.EXPECTED["2026-02"]


def test_ties_share_the_best_rank(tables):
    ledger = compute_ledger(village_from_tables(tables), MARCH)
    jan = ledger[ledger["month"] == "2026-01"]
    assert list(jan["rank"]) == [1, 2, 3, 4, 4]


def test_exchanges_never_lower_cumulative(tables):
    base = compute_ledger(village_from_tables(tables), MARCH)
    more = dict(tables)
    more["exchanges"] = V.frame("exchanges", V.EXCHANGES + [("DH-03", dt.date(2026, 2, 1), "0002", "SP-02", 1, 5, "王文书", None)])
    after = compute_ledger(village_from_tables(more), MARCH)
    assert list(after["cumulative"]) == list(base["cumulative"])
    feb = after[(after["month"] == "2026-02") & (after["hh_id"] == "0002")].iloc[0]
    assert (feb.spent, feb.available) == (5, 50)


def test_pending_entries_do_not_count_until_confirmed(tables):
    confirmed = dict(tables)
    entries = tables["entries"].copy()
    entries.loc[entries["entry_id"] == "2026-010", "status"] = "已确认"
    confirmed["entries"] = entries
    apr = as_expected(compute_ledger(village_from_tables(confirmed), pd.Period("2026-04", "M")))["2026-04"]
    assert apr["0002"] == (0, 30, 0, 30, 85, 0, 85, 2)


def test_blank_rows_and_row_order_do_not_change_results(tables, tmp_path):
    shuffled = {k: (v.sample(frac=1, random_state=7) if k != "indicators" else v) for k, v in tables.items()}
    book = build(tmp_path / "乱序.xlsx", shuffled)
    result = app.ledger_book(app.open_backend(book), month="2026-03", dry_run=True, today=TODAY)
    assert as_expected(result.ledger) == V.EXPECTED


def test_json_records_use_the_sheet_headers(tables):
    recs = ledger_records(compute_ledger(village_from_tables(tables), MARCH))
    assert list(recs[0]) == ["月份", "户号", "户主姓名", "基础积分", "贡献积分", "扣分", "当月积分", "累计积分",
                             "累计兑换", "可用积分", "村内排名"]
    assert recs[0] == {"月份": "2026-01", "户号": "0001", "户主姓名": "张大山", "基础积分": 6, "贡献积分": 0, "扣分": 0,
                       "当月积分": 6, "累计积分": 106, "累计兑换": 20, "可用积分": 66, "村内排名": 1}


def test_parse_month_accepts_clerk_forms_and_rejects_other_years():
    assert str(app.parse_month("2026-3", 2026)) == "2026-03"
    assert str(app.parse_month("2026年3月", 2026)) == "2026-03"
    with pytest.raises(Exception, match="不在工作簿的年度 2026 内"):
        app.parse_month("2025-12", 2026)
    with pytest.raises(Exception, match="格式不对"):
        app.parse_month("三月", 2026)


def test_default_stops_before_the_first_unsettled_month_even_when_later_ones_are_settled(tables):
    entries = tables["entries"].copy()
    entries.loc[entries["entry_id"] == "2026-010", "status"] = "已确认"  # March fully settled
    entries.loc[entries["entry_id"] == "2026-005", "status"] = "公示中"  # February not yet
    ledger = compute_ledger(village_from_tables(dict(tables, entries=entries)))
    assert sorted(ledger["month"].unique()) == ["2026-01"]


def test_a_later_keep_does_not_undo_an_earlier_correction(tables):
    objections = V.frame("objections", V.OBJECTIONS + [
        ("YY-04", "2026-007", "周明", dt.date(2026, 3, 6), "再议", "刘会计", "维持", None, dt.date(2026, 3, 8), None)])
    ledger = compute_ledger(village_from_tables(dict(tables, objections=objections)), MARCH)
    assert as_expected(ledger) == V.EXPECTED  # 0006 keeps the corrected 2, not the typed 3


def test_equal_looking_totals_share_a_rank(tables):
    hh = tables["households"].copy()
    hh["carried_total"] = hh["carried_total"].astype(object)
    hh.loc[hh["hh_id"] == "0003", "carried_total"] = 0.1
    hh.loc[hh["hh_id"] == "0006", "carried_total"] = 0.3
    entries = V.frame("entries", [("2026-001", dt.date(2026, 1, 5), "0003", "王建国", "JC-01", "文明礼貌", 1, 0.2,
                                   "个人申报", "陈老师", None, "已确认", None)])
    cat = tables["indicators"].copy()
    cat.loc[cat["code"] == "JC-01", "points"] = 0.2
    v = village_from_tables(dict(tables, households=hh, entries=entries, indicators=cat,
                                 objections=tables["objections"].iloc[0:0], exchanges=tables["exchanges"].iloc[0:0]))
    jan = compute_ledger(v, pd.Period("2026-01", "M")).set_index("hh_id")
    assert jan.loc["0003", "cumulative"] == jan.loc["0006", "cumulative"] == 0.3
    assert jan.loc["0003", "rank"] == jan.loc["0006", "rank"]


def _last_month(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger[ledger["month"] == ledger["month"].max()].reset_index(drop=True)


@pytest.mark.parametrize("month", [None, "2026-01", "2026-02", "2026-03", "2026-04"])
def test_ledger_month_is_the_ledgers_last_month(tables, month):
    """What a township takes of a village (``ledger_month``) is, row for row and figure for figure,
    the last month of the village's own ledger: the household that moved away, the upheld
    correction, exchanges, ties in rank."""
    village = village_from_tables(tables)
    through = pd.Period(month, "M") if month else None
    pd.testing.assert_frame_equal(ledger_month(village, through), _last_month(compute_ledger(village, through)))


def test_ledger_month_of_a_generated_village_year():
    from jifen_xl.demo import generate_village

    settings, frames = generate_village(households=60, seed=11, settled_months=9)
    village = village_from_tables(frames, settings)
    for month in (None, pd.Period("2026-01", "M"), pd.Period("2026-06", "M"), pd.Period("2026-09", "M")):
        got, full = ledger_month(village, month), compute_ledger(village, month)
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, _last_month(full))


def test_ledger_month_without_a_ledger_is_empty(tables):
    village = village_from_tables(tables, dict(V.SETTINGS, year=None))
    assert ledger_month(village).empty
    assert ledger_month(village_from_tables(tables), pd.Period("2025-12", "M")).empty
