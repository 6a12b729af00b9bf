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
from jifen_xl.demo import (VILLAGE, generate_township, generate_village, plant_mistakes, planted_mistakes,
                           run_demo)

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
    loaded, report = app.check(app.open_backend(folder / f"{VILLAGE}-{YEAR}.xlsx"), today=TODAY)
    assert report.errors == ()
    # The demo closes its months with `ledger`, without a seal (issue 9's `close` seals them once
    # the demo runs the cycle): each such month is one W-SEAL-01 warning, and nothing else.
    closed = sorted(set(loaded.village["ledger"]["month"]))
    assert [(p.rule, p.message[:7]) for p in report.warnings] == [("W-SEAL-01", m) for m in closed]


def test_every_planted_mistake_is_found_on_its_row(demo_run, village):
    folder, _ = demo_run
    _, mistakes = planted_mistakes(village[1])
    assert len(mistakes) == 11
    _, report = app.check(app.open_backend(folder / f"{VILLAGE}-{YEAR}-有错误.xlsx"), today=TODAY)
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



def test_mistake_texts_write_dates_as_the_summary_does(village):
    """The summary says 「7 月 1 日起……由 3 分调为 5 分」: the planted mistake says it alike."""
    _, tables = village
    _, texts = plant_mistakes(tables)
    assert any("自 7 月 1 日起已调为 5 分" in t for t in texts), texts

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


# -- district, township and village are parameters ----------------------------------------
PLACE = dict(district="北碚区", township="歇马街道", village="石岗村")
#: The only texts that name the place (everything else is drawn the same).
PLACE_TEXTS = {"indicators": ["resolution"], "receipts": ["donor"], "households": ["id_number"]}


def test_the_place_only_changes_the_texts_that_name_it():
    s1, here = generate_village(households=40, seed=11)
    s2, there = generate_village(households=40, seed=11, **PLACE)
    assert {k: s2[k] for k in PLACE} == PLACE
    assert {k: v for k, v in s2.items() if k not in PLACE} == {k: v for k, v in s1.items() if k not in PLACE}
    for key, frame in here.items():
        drop = PLACE_TEXTS.get(key, [])
        pd.testing.assert_frame_equal(frame.drop(columns=drop), there[key].drop(columns=drop), obj=key)
    assert there["indicators"]["resolution"].str.contains("石岗村民代").all()
    local = there["households"]["hukou"] == "本村户籍"
    assert there["households"].loc[local, "id_number"].str.startswith("500109").all()  # 北碚区
    assert here["households"].loc[local, "id_number"].str.startswith("500106").all()  # 沙坪坝区
    donors = set(there["receipts"]["donor"])
    assert not any("沙坪坝区" in d or "中梁镇" in d or "永宁寺村" in d for d in donors)
    assert any("北碚区" in d or "歇马街道" in d or "石岗村" in d for d in donors)


def test_run_demo_for_another_village(tmp_path):
    lines = list(run_demo(tmp_path / "示范", households=30, seed=3, **PLACE))
    out = "\n".join(lines)
    assert "生成示范村：北碚区歇马街道石岗村 2026 年度" in out
    clean, wrong = tmp_path / "示范" / "石岗村-2026.xlsx", tmp_path / "示范" / "石岗村-2026-有错误.xlsx"
    assert clean.is_file() and wrong.is_file()
    assert f"校验「{clean.name}」：0 个错误、0 个警告。" in out
    assert "全部被找到" in out
    loaded, _ = app.check(app.open_backend(clean), today=TODAY)
    assert {k: loaded.village.settings[k] for k in PLACE} == PLACE


# -- a whole township ---------------------------------------------------------------------
def _content(path):
    """What a workbook holds, as the toolkit reads it: 基本信息 and every input table."""
    loaded, report = app.check(app.open_backend(path), today=TODAY)
    return loaded.village.settings, loaded.village.tables, report


@pytest.fixture(scope="module")
def township(tmp_path_factory):
    folder = tmp_path_factory.mktemp("镇") / "歇马街道"
    made = generate_township(folder, "北碚区", "歇马街道", villages=4, households=25, seed=5,
                             mistakes_in="石岗村")
    return folder, made


def test_township_villages_have_distinct_names_seeds_and_files(township):
    folder, made = township
    assert [v.village for v in made] == ["永宁寺村", "石岗村", "龙泉村", "凤凰村"]
    assert len({v.seed for v in made}) == 4
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{v.village}-2026.xlsx" for v in made)
    for v in made:
        settings, tables, report = _content(v.path)
        assert (settings["district"], settings["township"], settings["village"]) == ("北碚区", "歇马街道", v.village)
        assert v.households == 25  # (a planted mistake registers one of them twice)
        assert len(tables["households"]) == 25 + sum(m.sheet == "households" for m in v.mistakes)
        assert bool(v.mistakes) == (v.village == "石岗村")
        found = {(p.sheet, p.row, p.rule) for p in report.problems}
        expected = set().union(*(m.expected() for m in v.mistakes)) if v.mistakes else set()
        assert found == expected, v.village


def test_township_villages_differ_from_each_other(township):
    _, made = township
    entries = [_content(v.path)[1]["entries"] for v in made]
    heads = [set(_content(v.path)[1]["households"]["head"]) for v in made]
    assert all(not a.equals(b) for i, a in enumerate(entries) for b in entries[i + 1:])
    assert all(a != b for i, a in enumerate(heads) for b in heads[i + 1:])


def test_the_same_seed_gives_the_same_township(township, tmp_path):
    folder, made = township
    again = generate_township(tmp_path / "again", "北碚区", "歇马街道", villages=4, households=25, seed=5,
                              mistakes_in="石岗村")
    assert [(v.village, v.seed, v.households) for v in again] == [(v.village, v.seed, v.households) for v in made]
    for a, b in zip(made, again):
        sa, ta, ra = _content(a.path)
        sb, tb, rb = _content(b.path)
        assert sa == sb and ra.records() == rb.records()
        for key in ta:
            pd.testing.assert_frame_equal(ta[key], tb[key], obj=f"{a.village} {key}")
    other = generate_township(tmp_path / "other", "北碚区", "歇马街道", villages=["永宁寺村"], households=25, seed=6)
    assert not _content(other[0].path)[1]["entries"].equals(_content(made[0].path)[1]["entries"])


def test_township_sizes_differ_by_default_and_existing_files_are_kept(township, tmp_path):
    folder, made = township
    sized = generate_township(tmp_path / "默认", villages=["甲村", "乙村", "丙村"], seed=1,
                              entries_per_household=2)
    assert len({v.households for v in sized}) > 1
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    from jifen_xl.errors import JifenError

    with pytest.raises(JifenError, match="为避免覆盖"):
        generate_township(folder, "北碚区", "歇马街道", villages=["新村", "石岗村"], households=25)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing written, not even 新村
    with pytest.raises(ValueError):
        generate_township(tmp_path / "重名", villages=["甲村", "甲村"])
    with pytest.raises(ValueError):
        generate_township(tmp_path / "无此村", villages=["甲村"], mistakes_in="乙村")
