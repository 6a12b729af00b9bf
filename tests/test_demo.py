"""The demonstration village: the demo through the real CLI, a clean book, every planted mistake
found on its row, ledger totals against an independent recomputation, determinism."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.demo import VILLAGE, generate_village, plant_mistakes, planted_mistakes

YEAR = 2026
TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run ``jifen-xl demo DIR`` once (default 320 households, seed 2026) and share its output."""
    folder = tmp_path_factory.mktemp("demo") / "示范"
    result = CliRunner().invoke(cli, ["demo", str(folder)])
    return folder, result


@pytest.fixture(scope="module")
def village():
    """The same village the demo wrote (same defaults)."""
    return generate_village()


def test_demo_runs_through_the_cli(demo_run):
    folder, result = demo_run
    assert result.exit_code == 0, result.output
    clean, wrong = folder / f"{VILLAGE}-{YEAR}.xlsx", folder / f"{VILLAGE}-{YEAR}-有错误.xlsx"
    assert clean.is_file() and wrong.is_file()
    out = result.output
    assert f"校验「{clean.name}」：0 个错误、0 个警告。" in out
    assert "故意设置的 11 处错误全部被找到。" in out
    assert "村内排名前 5 户" in out
    assert str(clean) in out and str(wrong) in out


def test_demo_never_overwrites_existing_files(demo_run):
    folder, _ = demo_run
    result = CliRunner().invoke(cli, ["demo", str(folder)])
    assert result.exit_code == 1
    assert "为避免覆盖" in result.output


def test_clean_book_has_no_errors(demo_run):
    folder, _ = demo_run
    _, report = app.check(folder / f"{VILLAGE}-{YEAR}.xlsx", today=TODAY)
    assert report.errors == ()
    assert report.warnings == ()


def test_every_planted_mistake_is_found_on_its_row(demo_run, village):
    folder, _ = demo_run
    _, mistakes = planted_mistakes(village[1])
    assert len(mistakes) == 11
    _, report = app.check(folder / f"{VILLAGE}-{YEAR}-有错误.xlsx", today=TODAY)
    found = {(p.sheet, p.row, p.rule) for p in report.problems}
    for m in mistakes:
        assert m.expected() <= found, m.text
    # ... and nothing else: every finding is one of the planted mistakes.
    assert found == set().union(*(m.expected() for m in mistakes))
    assert {m.rules[0] for m in mistakes} == {"E-HH-01", "E-IND-02", "E-ENT-11", "E-ENT-10", "E-ENT-02", "E-ENT-07",
                                              "E-ENT-05", "E-CHOICE", "E-FMT-NUMBER", "E-OBJ-02", "E-EXC-03"}


def test_plant_mistakes_returns_a_copy_and_chinese_descriptions(village):
    _, tables = village
    before = {k: v.copy() for k, v in tables.items()}
    planted, texts = plant_mistakes(tables)
    for k, v in tables.items():
        pd.testing.assert_frame_equal(v, before[k])
    assert len(texts) == 11 and all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)
    assert len(planted["households"]) == len(tables["households"]) + 1


def _independent_ledger(tables, through_month: int) -> dict[str, tuple[float, float, float]]:
    """Per household: (累计积分, 累计兑换, 可用积分) through ``through_month``, recomputed in plain
    Python from the generated frames (not with the toolkit's or the generator's code)."""
    catalogue = defaultdict(list)
    for r in tables["indicators"].itertuples(index=False):
        catalogue[r.code].append((r.valid_from, r.valid_to, r.points))

    def value(code, day):
        for start, end, points in catalogue[code]:
            if start <= day and (pd.isna(end) or day <= end):
                return points
        raise AssertionError(f"no value for {code} on {day}")

    last_result: dict[str, tuple] = {}
    open_objection = set()
    for r in tables["objections"].sort_values("resolved_on").itertuples(index=False):
        if r.result is None or pd.isna(r.result):
            open_objection.add(r.entry_id)
        else:
            last_result[r.entry_id] = (r.result, r.corrected_points)
    earned = defaultdict(float)
    for r in tables["entries"].itertuples(index=False):
        if r.status != "已确认" or r.date.month > through_month or r.entry_id in open_objection:
            continue
        result, corrected = last_result.get(r.entry_id, (None, None))
        if result == "撤销":
            continue
        if result == "更正":
            points = corrected
        elif not pd.isna(r.points):
            points = r.points
        else:
            points = (1 if pd.isna(r.qty) else r.qty) * value(r.code, r.date)
        earned[r.hh_id] += points
    spent = defaultdict(float)
    for r in tables["exchanges"].itertuples(index=False):
        if r.date.month <= through_month:
            spent[r.hh_id] += r.points
    out = {}
    for r in tables["households"].itertuples(index=False):
        total = (0 if pd.isna(r.carried_total) else r.carried_total) + earned[r.hh_id]
        avail = (0 if pd.isna(r.carried_available) else r.carried_available) + earned[r.hh_id] - spent[r.hh_id]
        out[r.hh_id] = (total, spent[r.hh_id], avail)
    return out


def test_ledger_totals_equal_an_independent_recomputation(demo_run, village):
    folder, _ = demo_run
    _, tables = village
    # The demo closed the ledger through November (December is still under publicity).
    written = pd.read_excel(folder / f"{VILLAGE}-{YEAR}.xlsx", sheet_name=S.LEDGER.name, engine="calamine",
                            dtype={"户号": str})
    assert written["月份"].max() == f"{YEAR}-11"
    nov = written[written["月份"] == f"{YEAR}-11"].set_index("户号")
    expected = _independent_ledger(tables, through_month=11)

    # A few households of every kind: top and bottom of the ranking, one with an upheld 更正,
    # one with a 撤销, a review member's, a 非本村户籍常住 one.
    obj = tables["objections"]
    ent = tables["entries"].set_index("entry_id")
    hh = tables["households"]
    picks = {nov["村内排名"].idxmin(), nov["村内排名"].idxmax(),
             ent.loc[obj.loc[obj["result"] == "更正", "entry_id"].iloc[0], "hh_id"],
             ent.loc[obj.loc[obj["result"] == "撤销", "entry_id"].iloc[0], "hh_id"],
             tables["members"]["hh_id"].iloc[0],
             hh.loc[(hh["hukou"] == "非本村户籍常住") & (hh["status"] == "正常"), "hh_id"].iloc[0]}
    assert len(picks) >= 5
    for hh_id in sorted(picks):
        row = nov.loc[hh_id]
        assert (row["累计积分"], row["累计兑换"], row["可用积分"]) == pytest.approx(expected[hh_id]), hh_id
    # every household with 状态 正常 has its row, and only those
    assert set(nov.index) == set(hh.loc[hh["status"] == "正常", "hh_id"])


def test_generation_is_deterministic_for_a_seed():
    s1, a = generate_village(households=40, seed=11)
    s2, b = generate_village(households=40, seed=11)
    _, c = generate_village(households=40, seed=12)
    assert s1 == s2
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key])
    assert not a["entries"].equals(c["entries"])


def test_entries_per_household_gives_the_exact_count():
    _, tables = generate_village(households=1000, seed=3, entries_per_household=60)
    entries = tables["entries"]
    assert len(entries) == 60_000
    assert entries["entry_id"].is_unique
    assert set(entries["source"]) == set(S.SOURCES)
    assert set(tables["receipts"]["funding"]) == set(S.FUNDING_SOURCES)


def test_scorers_never_score_their_own_household(village):
    _, tables = village
    members = tables["members"]
    own = dict(zip(members["name"], members["hh_id"]))
    entries = tables["entries"]
    for scorers, hh_id in zip(entries["scorers"], entries["hh_id"]):
        assert all(own[name] != hh_id for name in scorers.split("、"))
    review = set(members.loc[members["group"] == "积分评议小组", "name"])
    assert {n for s in entries["scorers"] for n in s.split("、")} <= review
