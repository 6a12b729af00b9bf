"""The demonstration village: the demo through the real CLI runs the monthly cycle (months
published and closed with a chain of seals, the last one under publicity with an open objection
and its notice printed beside the workbooks), a clean book, every planted mistake found on its
row, ledger totals and the notice's lines against an independent recomputation, determinism."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections import defaultdict

import pandas as pd
import python_calamine
import pytest
from click.testing import CliRunner

from jifen_xl import app
from jifen_xl import schema as S
from jifen_xl.cli import cli
from jifen_xl.demo import (TOWNSHIP, VILLAGE, cycle_days, generate_township, generate_village, notice_paths,
                           plant_mistakes, planted_mistakes, run_demo, shop_notice_paths)
from jifen_xl.demo.run import TOWNSHIP_HOUSEHOLDS, township_paths, township_villages
from jifen_xl.demo.township import village_seed
from jifen_xl.errors import JifenError

from .lo import SOFFICE

YEAR = 2026
TODAY = dt.date(2026, 11, 28)
LAST = 12  # the demo's last month: published, under publicity, not closed


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run ``jifen-xl demo DIR`` once (default 320 households, seed 2026) and share its output."""
    folder = tmp_path_factory.mktemp("demo") / "示范"
    result = CliRunner().invoke(cli, ["demo", str(folder)])
    return folder, result


def sheet_records(path, sheet: str) -> list[dict]:
    """A sheet's rows as dicts by header, read by python-calamine (not the toolkit's reader)."""
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:] if any(v not in ("", None) for v in r)]


def clean_book(folder):
    return folder / f"{VILLAGE}-{YEAR}.xlsx"


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
    assert "故意设置的 14 处错误全部被找到。" in out
    assert "核对封账记录：2026年1月至11月共 11 个月的封账链完整，结账后没有改动" in out
    assert "2026-12 已发布公示：" in out and "公示期 2026-12-25 至 2026-12-31" in out
    assert "2026-11 村内排名前 5 户" in out
    for path in [clean, wrong, *notice_paths(folder, VILLAGE, YEAR, LAST).values()]:
        assert str(path) in out
    # one line per closed month, with the verification code of its seal
    seals = sheet_records(clean, S.SEALS.name)
    for seal in seals:
        line = next(x for x in out.splitlines() if x.strip().startswith(seal["月份"]))
        assert line.rstrip().endswith(seal["校验码"]), line


def test_demo_posts_the_supermarket_of_the_last_closed_month(demo_run):
    """November's 物资接收与兑换公示 beside the workbooks: its exchanges are the workbook's own."""
    folder, result = demo_run
    paths = shop_notice_paths(folder, VILLAGE, YEAR, LAST - 1)
    for path in paths.values():
        assert str(path) in result.output and path.is_file()
    html = paths["html"].read_text(encoding="utf-8")
    assert "2026年11月物资接收与兑换公示" in html
    november = [r for r in sheet_records(clean_book(folder), S.EXCHANGES.name)
                if str(r["日期"]).startswith("2026-11")]
    assert november, "the demo has exchanges in November"
    spent = sum(float(r["消耗积分"]) for r in november)
    line = next(x for x in result.output.splitlines() if "的物资接收与兑换公示" in x)
    assert f"兑换 {len(november)} 笔" in line
    assert f">{int(spent)}<" in html.replace(" ", "")
    assert "资金来源（jifen-xl funding）：2026年共入库" in result.output


def test_demo_never_overwrites_existing_files(demo_run):
    folder, _ = demo_run
    result = CliRunner().invoke(cli, ["demo", str(folder)])
    assert result.exit_code == 1
    assert "为避免覆盖" in result.output


def test_clean_book_has_no_errors_and_no_warnings_after_the_cycle(demo_run):
    folder, _ = demo_run
    _, report = app.check(app.open_backend(clean_book(folder)), today=TODAY)
    assert report.errors == () and report.warnings == (), report.records()[:5]


def test_closed_months_are_sealed_in_a_chain_that_verifies(demo_run):
    folder, _ = demo_run
    seals = sheet_records(clean_book(folder), S.SEALS.name)
    assert [r["月份"] for r in seals] == [f"{YEAR}-{m:02d}" for m in range(1, LAST)]
    assert [r["上月摘要"] or "" for r in seals] == [""] + [r["摘要"] for r in seals[:-1]]
    closes = [str(r["封账日期"])[:10] for r in seals]
    assert closes == [cycle_days(YEAR, m)[2].date().isoformat() for m in range(1, LAST)]
    result = app.verify_book(app.open_backend(clean_book(folder)))
    assert result.intact and result.ok
    assert [(m.month, m.intact) for m in result.months] == [(r["月份"], True) for r in seals]
    by_code = app.verify_book(app.open_backend(clean_book(folder)), code=seals[6]["校验码"].lower())
    assert by_code.ok and by_code.code_month.month == f"{YEAR}-07"
    # every entry of a closed month is settled; the 封账明细 holds them as they were at the close
    entries = sheet_records(clean_book(folder), S.ENTRIES.name)
    closed = [e for e in entries if int(str(e["日期"])[5:7]) < LAST]
    assert {e["状态"] for e in closed} == {"已确认", "已撤销"}
    assert len(sheet_records(clean_book(folder), S.SEALED_ENTRIES.name)) == len(closed)


def test_the_last_month_is_under_publicity_with_its_open_objection(demo_run, village):
    folder, _ = demo_run
    _, tables = village
    book = clean_book(folder)
    label = f"{YEAR}-{LAST:02d}"
    entries = sheet_records(book, S.ENTRIES.name)
    last = [e for e in entries if str(e["日期"])[:7] == label]
    assert {e["状态"] for e in last} == {"公示中"}
    # publish filled every blank 积分 of what it published (a typed one stays as typed)
    assert all(e["积分"] not in ("", None) for e in entries if e["状态"] != "已撤销")
    periods = sheet_records(book, S.PUBLICITY.name)
    assert len(periods) == LAST
    assert (periods[-1]["月份"], str(periods[-1]["公示开始"])[:10], str(periods[-1]["公示截止"])[:10]) == (
        label, f"{YEAR}-12-25", f"{YEAR}-12-31")
    open_ = tables["objections"][tables["objections"]["result"].isna()]
    assert len(open_) == 1
    listed = app.objections_book(app.open_backend(book), month=label)
    assert [(o.objection_id, o.entry_id) for o in listed] == [(open_["objection_id"].iloc[0],
                                                                open_["entry_id"].iloc[0])]
    # ... so the month cannot be closed, even once its period is over
    after = dt.date(YEAR + 1, 1, 5)
    with pytest.raises(JifenError, match=f"还有对本月登记的异议没有处理：{listed[0].objection_id}（第 {listed[0].row} 行"):
        app.close_book(app.open_backend(book), month=label, date=after, today=after, dry_run=True)
    # the workbook holds the filled notice sheet
    rows = python_calamine.CalamineWorkbook.from_path(str(book)).get_sheet_by_name(S.NOTICE_SHEET_NAME).to_python()
    assert f"{VILLAGE}{YEAR}年{LAST}月乡村治理积分公示" in {str(v).strip() for r in rows for v in r}


def test_every_planted_mistake_is_found_on_its_row(demo_run, village):
    folder, _ = demo_run
    _, mistakes = planted_mistakes(village[1])
    assert len(mistakes) == 14
    _, report = app.check(app.open_backend(folder / f"{VILLAGE}-{YEAR}-有错误.xlsx"), today=TODAY)
    found = {(p.sheet, p.row, p.rule) for p in report.problems}
    for m in mistakes:
        assert m.expected() <= found, m.text
    # ... and nothing else: every finding is one of the planted mistakes.
    assert found == set().union(*(m.expected() for m in mistakes))
    assert {m.rules[0] for m in mistakes} == {"E-HH-01", "E-IND-02", "E-ENT-11", "E-ENT-10", "E-ENT-02", "E-ENT-07",
                                              "E-ENT-05", "E-CHOICE", "E-FMT-NUMBER", "E-OBJ-02", "E-EXC-03",
                                              "E-EXC-08", "E-EXC-09", "E-RCV-01"}


def test_plant_mistakes_returns_a_copy_and_chinese_descriptions(village):
    _, tables = village
    before = {k: v.copy() for k, v in tables.items()}
    planted, texts = plant_mistakes(tables)
    for k, v in tables.items():
        pd.testing.assert_frame_equal(v, before[k])
    assert len(texts) == 14 and all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)
    assert len(planted["households"]) == len(tables["households"]) + 1



def test_mistake_texts_write_dates_as_the_summary_does(village):
    """The summary says 「7 月 1 日起……由 3 分调为 5 分」: the planted mistake says it alike."""
    _, tables = village
    _, texts = plant_mistakes(tables)
    assert any("自 7 月 1 日起已调为 5 分" in t for t in texts), texts

def _independent_points(tables) -> dict[tuple[str, int], list[float]]:
    """Per (户号, month): the points of every entry that counts once its month is closed,
    recomputed in plain Python from the generated frames (not with the toolkit's or the
    generator's code): the last decision by 处理日期 stands, 更正 → 更正后积分, 撤销 or a clerk's
    已撤销 → nothing, an entry with an open objection → nothing yet, else 积分 or 数量 × 分值."""
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
    out = defaultdict(list)
    for r in tables["entries"].itertuples(index=False):
        if r.status == "已撤销" or r.entry_id in open_objection:
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
        out[(r.hh_id, r.date.month)].append(float(points))
    return out


def _independent_ledger(tables, through_month: int) -> dict[str, tuple[float, float, float]]:
    """Per household: (累计积分, 累计兑换, 可用积分) through ``through_month`` (see ``_independent_points``)."""
    earned = defaultdict(float)
    for (hh_id, month), points in _independent_points(tables).items():
        if month <= through_month:
            earned[hh_id] += sum(points)
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
    # month by month for the household with the 更正: 当月积分 of every closed month
    corrected = ent.loc[obj.loc[obj["result"] == "更正", "entry_id"].iloc[0], "hh_id"]
    points = _independent_points(tables)
    mine = written[written["户号"] == corrected].set_index("月份")["当月积分"]
    assert mine.to_dict() == pytest.approx({f"{YEAR}-{m:02d}": sum(points.get((corrected, m), [])) for m in range(1, 12)})


def _notice_household(tables) -> tuple[str, str, float, float, float, float]:
    """A 正常 household with rewards and a deduction in the last month (none objected to):
    (户号, 户主, 当月加分, 当月扣分, 当月积分, 累计积分 as it will stand), recomputed independently."""
    points = _independent_points(tables)
    objected = set(tables["objections"]["entry_id"])
    ent = tables["entries"]
    touched = set(ent.loc[ent["entry_id"].isin(objected) & (ent["date"].dt.month == LAST), "hh_id"])
    for r in tables["households"].itertuples(index=False):
        mine = points.get((r.hh_id, LAST), [])
        if r.status == "正常" and r.hh_id not in touched and any(p > 0 for p in mine) and any(p < 0 for p in mine):
            total = r.carried_total + sum(sum(points.get((r.hh_id, m), [])) for m in range(1, LAST + 1))
            plus, minus = sum(p for p in mine if p > 0), sum(p for p in mine if p < 0)
            return r.hh_id, r.head, plus, minus, plus + minus, total
    raise AssertionError("no household with rewards and a deduction in the last month")


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def test_the_notice_files_beside_the_workbooks(demo_run, village):
    folder, _ = demo_run
    _, tables = village
    files = notice_paths(folder, VILLAGE, YEAR, LAST)
    assert [p.name for p in files.values()] == [f"{VILLAGE}-{YEAR}-12月公示.{ext}" for ext in ("pdf", "html", "txt")]
    hh_id, head, plus, minus, month_total, total = _notice_household(tables)
    title = f"{VILLAGE}{YEAR}年{LAST}月乡村治理积分公示"
    html = files["html"].read_text(encoding="utf-8")
    wechat = files["wechat"].read_text(encoding="utf-8")
    assert title in html and title in wechat
    shown = f"{month_total:+g}" if month_total else "0"
    assert f"{hh_id} {head}：{shown}分" in wechat and f"累计{_n(total)}分" in wechat
    # privacy: no household's 身份证号 or 联系电话 anywhere in what goes out
    hh = tables["households"]
    private = [v for v in pd.concat([hh["id_number"], hh["phone"]]).dropna()]
    assert len(private) > 500
    for text in (html, wechat):
        assert not [v for v in private if v in text]
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) not installed: the demo wrote no PDF")
    text = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert title in text
    squashed = re.sub(r"\s+", "", text)
    assert f"{hh_id}{head}{_n(plus)}{_n(minus)}{_n(month_total)}{_n(total)}" in squashed, (hh_id, head)
    assert not [v for v in private if v in squashed]


def test_generated_objections_follow_the_cycle(village):
    """Entries as typed (待公示, or 已撤销 duplicates); every decided objection raised within its
    month's publicity period and decided by its close; one open, on the last month."""
    _, tables = village
    ent, obj = tables["entries"], tables["objections"]
    assert set(ent["status"]) == {"待公示", "已撤销"}
    month = obj["entry_id"].map(ent.set_index("entry_id")["date"].dt.month)
    for m, r in zip(month, obj.itertuples(index=False)):
        start, end, close = cycle_days(YEAR, int(m))
        assert start <= r.raised_on <= end, r
        if pd.isna(r.result):
            assert m == LAST and pd.isna(r.resolved_on)
        else:
            assert r.raised_on <= r.resolved_on <= close, r
    assert obj["result"].isna().sum() == 1


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
    lines = list(run_demo(tmp_path / "示范", households=30, seed=3, pdf=False, **PLACE))
    out = "\n".join(lines)
    assert "生成示范村：北碚区歇马街道石岗村 2026 年度" in out
    clean, wrong = tmp_path / "示范" / "石岗村-2026.xlsx", tmp_path / "示范" / "石岗村-2026-有错误.xlsx"
    assert clean.is_file() and wrong.is_file() and clean.with_suffix(".xlsm").is_file()
    assert f"校验「{clean.name}」：0 个错误、0 个警告。" in out
    assert "全部被找到" in out
    assert "共 11 个月的封账链完整" in out
    assert "没有生成 PDF。打印用的 PDF 要用 LibreOffice 生成，可运行：jifen-xl notice" in out
    files = notice_paths(tmp_path / "示范", "石岗村", YEAR, LAST)
    assert files["html"].is_file() and files["wechat"].is_file() and not files["pdf"].exists()
    town = township_paths(tmp_path / "示范", PLACE["township"], YEAR, pdf=False)
    assert town["book"].is_file() and town["report"].suffix == ".html" and town["report"].is_file()
    assert "石岗村" not in township_villages("石岗村")  # the demo village is not generated a second time
    assert re.search(rf"石岗村-{YEAR}\.xlsx +{S.FILE_IMPORTED}\s", out)
    loaded, report = app.check(app.open_backend(clean), today=TODAY)
    assert {k: loaded.village.settings[k] for k in PLACE} == PLACE
    assert report.errors == () and report.warnings == ()


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


def test_settled_months_give_a_village_kept_by_hand_before_the_cycle(tmp_path):
    """Benchmarks' village-year: January..November settled by hand (已确认, or 已撤销 where an
    objection withdrew the entry), December 待公示; it validates cleanly and its ledger runs to November."""
    from jifen_xl.io.template import build_workbook

    settings, tables = generate_village(households=40, seed=11, settled_months=11)
    ent, obj = tables["entries"], tables["objections"]
    month = ent["date"].dt.month
    withdrawn = set(obj.loc[obj["result"] == "撤销", "entry_id"])
    assert set(ent.loc[month == 12, "status"]) <= {"待公示", "已撤销"}
    early = ent[month <= 11]
    assert (early["status"] == "已撤销").sum() > 0
    assert all((s == "已撤销") == (i in withdrawn or n == "重复登记，已撤销")
               for i, s, n in zip(early["entry_id"], early["status"], early["note"]))
    book = build_workbook(tmp_path / "手工.xlsx", settings, tables)
    _, report = app.check(app.open_backend(book), today=TODAY)
    assert report.errors == () and report.warnings == ()
    assert app.ledger_book(app.open_backend(book), dry_run=True).through == "2026-11"
    with pytest.raises(ValueError):
        generate_village(households=40, seed=11, settled_months=12)


def test_the_demo_writes_a_stock_ledger_that_reconciles(demo_run):
    """库存台账 as the demo wrote it, read by python-calamine, against 物资入库 and 积分兑换 walked
    month by month in plain Python: every item every month, 期初 + 入库 − 出库 = 期末, months chain,
    never below zero."""
    folder, _ = demo_run
    book = clean_book(folder)
    goods = sheet_records(book, S.GOODS.name)
    receipts, exchanges = sheet_records(book, S.RECEIPTS.name), sheet_records(book, S.EXCHANGES.name)
    written = sheet_records(book, S.STOCK.name)

    def month(d):
        return d.month if hasattr(d, "month") else int(str(d)[5:7])

    last = max(month(r["日期"]) for r in receipts + exchanges)
    expected, stock = [], {g["商品编码"]: 0 for g in goods}
    for m in range(1, last + 1):
        for g in goods:
            gid = g["商品编码"]
            got = sum(r["数量"] for r in receipts if r["商品编码"] == gid and month(r["日期"]) == m)
            gone = sum(x["数量"] for x in exchanges if x["商品编码"] == gid and month(x["日期"]) == m)
            expected.append((f"{YEAR}-{m:02d}", gid, g["商品名称"], stock[gid], got, gone, stock[gid] + got - gone))
            stock[gid] += got - gone
            assert stock[gid] >= 0
    assert len(receipts) > 10 and len(exchanges) > 100 and last == LAST
    assert [tuple(r[h] for h in S.STOCK.headers) for r in written] == expected


# -- the demo's township (issue 11) -------------------------------------------------------------
def _book_rows(path, sheet: str) -> list[dict]:
    """A township workbook sheet's rows keyed by header (the first row holding 3+ texts), by calamine."""
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    at = next(i for i, r in enumerate(rows) if sum(isinstance(v, str) and v.strip() != "" for v in r) >= 3)
    return [dict(zip(rows[at], r)) for r in rows[at + 1:] if any(v not in ("", None) for v in r)]


def _independent_village(tables) -> dict[str, float]:
    """户数, 参与户数, 积分合计, 兑换积分 of a village whose months 1–11 are settled and December is
    not (plain Python over the generated frames, see ``_independent_points``)."""
    points = {k: v for k, v in _independent_points(tables).items() if k[1] <= LAST - 1}
    active = {r.hh_id for r in tables["households"].itertuples(index=False) if r.status == S.HH_ACTIVE}
    return {"户数": len(active), "参与户数": len(active & {hh for hh, _ in points}),
            "积分合计": sum(sum(v) for v in points.values()),
            "兑换积分": float(tables["exchanges"].loc[tables["exchanges"]["date"].dt.year == YEAR, "points"].sum())}


def test_demo_imports_its_township(demo_run, village):
    """The demo village's workbook and three small villages (one with planted mistakes) imported
    into the township workbook and its report; 汇总概况 equals the villages recomputed."""
    folder, result = demo_run
    town = township_paths(folder, TOWNSHIP, YEAR, pdf=SOFFICE is not None)
    assert town["book"].is_file() and town["report"].is_file()
    out = result.output
    assert str(town["book"]) in out and str(town["report"]) in out
    names = township_villages(VILLAGE)
    rejected = names[1]
    assert len(names) == 3 and VILLAGE not in names
    for name in [VILLAGE, *names]:
        line = next(x for x in out.splitlines() if x.strip().startswith(f"{name}-{YEAR}.xlsx"))
        assert line.split()[1] == (S.FILE_REJECTED if name == rejected else S.FILE_IMPORTED), line
    expected = {VILLAGE: _independent_village(village[1])}
    for i, name in enumerate(names):
        if name != rejected:
            _, tables = generate_village(households=TOWNSHIP_HOUSEHOLDS[i], seed=village_seed(2026, i), year=YEAR,
                                         settled_months=LAST - 1, village=name)
            expected[name] = _independent_village(tables)
    rows = {r["村"]: r for r in _book_rows(town["book"], S.TOWNSHIP_SUMMARY.name)}
    assert set(rows) == set(expected) | {S.TOTAL_LABEL}
    for name, figures in expected.items():
        for key, value in figures.items():
            assert float(rows[name][key]) == pytest.approx(value), (name, key)
    checks: dict[str, str] = {}
    for r in _book_rows(town["book"], S.TOWNSHIP_CHECKS.name):  # the files first, then their findings
        checks.setdefault(r["文件"], r["状态"])
    assert checks[f"{rejected}-{YEAR}.xlsx"] == S.FILE_REJECTED and checks[f"{VILLAGE}-{YEAR}.xlsx"] == S.FILE_IMPORTED


def test_the_demo_writes_the_same_village_as_an_xlsm_with_the_buttons(demo_run, village, tmp_path):
    """The demo village as a workbook with the buttons, as it stood before the walk-through (nothing
    published), so a clerk can press 生成公示 and 封账 himself: the same 基本信息 and tables as
    the same village written as an .xlsx, the standard workbook's VBA project, every button."""
    import zipfile

    from jifen_xl.io import xlsm
    from jifen_xl.io.template import build_workbook

    from .test_xlsm import WORKBOOKS, conf_of, parts

    folder, result = demo_run
    path = folder / f"{VILLAGE}-{YEAR}.xlsm"
    assert path.is_file()
    assert f"已写入带按钮的工作簿：{path}（内容与上面的 .xlsx 相同，还没有公示和结账；" in result.output
    assert f"\n  {path}（带按钮的同一个示范村，停在示范开始之前" in result.output  # in the closing lines
    settings, tables = village
    got_settings, got_tables, got_report = _content(path)
    want_settings, want_tables, want_report = _content(build_workbook(tmp_path / "同一个村.xlsx", settings, tables))
    assert got_settings == want_settings
    assert sorted(got_tables) == sorted(want_tables)
    for key in want_tables:
        pd.testing.assert_frame_equal(got_tables[key], want_tables[key])
    assert got_report.records() == want_report.records()
    statuses = set(got_tables["entries"]["status"])
    assert S.ENTRY_PENDING in statuses and not statuses & {S.ENTRY_PUBLIC, S.ENTRY_CONFIRMED}  # nothing published
    assert xlsm.vba_bytes(path) == xlsm.vba_bytes(WORKBOOKS[S.BOOK_VILLAGE])
    package = parts(path)
    assert conf_of(package) == {k.upper(): v for k, v in S.XLWINGS_CONF.rows}
    with zipfile.ZipFile(path) as z:
        vml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
    assert sorted(re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)) == sorted(
        b.sub for b in S.buttons(S.BOOK_VILLAGE))
