"""Pure core pieces behind the clerk edits (issue 8, section 5): number formats, names, rows that
are not records, the order of objection decisions, codes that lost their zeros."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jifen_xl import schema as S
from jifen_xl.core.clean import (FORMATS, ROW, CellFormats, clean_frame, normalize_text, restore_lost_zeros, shown_codes,
                                 to_code, to_date, to_names, to_number, to_text)
from jifen_xl.core.names import split_names
from jifen_xl.core.nonrecords import BLANK, FOOTER, NUMBER, OTHER, TOTAL, classify
from jifen_xl.core.numfmt import shown_text
from jifen_xl.core.village import objection_outcome, unordered_decisions


# -- number formats ---------------------------------------------------------------------------
@pytest.mark.parametrize("value, fmt, shown", [
    (45, "0000", "0045"),
    (45.0, "0000", "0045"),
    (45, "000000", "000045"),
    (123456, "0000", "123456"),  # more digits than placeholders: all shown
    (45, '"DH"0000', "DH0045"),
    (45, "\\D\\H0000", "DH0045"),
    (45, '0000"号"', "0045号"),
    (45, "[$-804]0000", "0045"),  # a locale tag only
    (45, "[Red]0000", "0045"),
    (45, "0", "45"),
    (45, "#", "45"),
    (0, "#", ""),
    (0, "0000", "0000"),
    (45, "@", "45"),  # a number in a text-formatted cell shows as General
    (45, "General", "45"),
    (45, None, "45"),
    (45, "", "45"),
    (1.5, "General", "1.5"),
    (45.5, "0000", "0046"),  # Excel rounds half away from zero
    (44.5, "0", "45"),
    (2.675, "0.00", "2.68"),  # what the clerk typed (2.675), not the binary float below it
    (1.5, "0.00", "1.50"),
    (1.2, "0.0#", "1.2"),
    (1234567, "000-0000", "123-4567"),
    (1234567, "#,##0", "1,234,567"),
    (1234.5, "#,##0.00", "1,234.50"),
    (-45, "0000", "-0045"),
    (-45, "0000;(0000)", "(0045)"),
    (0, '0000;-0000;"无"', "无"),
    (0, "0000;(0000)", "0000"),
    (45, "0_)", "45 "),
    ("0045", "@", "0045"),
    ("45", "0000", "45"),  # text is not formatted by a number section
    ("45", '"DH"@', "DH45"),
    ("45", '0;0;0;"户"@', "户45"),
])
def test_shown_text(value, fmt, shown):
    assert shown_text(value, fmt) == shown


@pytest.mark.parametrize("value, fmt", [
    (45, "yyyy-mm-dd"), (45, "0%"), (45, "0.00E+00"), (45, "[>100]0000;0"), (45, "[DBNum1]0"),
    (45, "# ?/?"), (45, "*-0"), (45, "#,##0,"), (True, "0"), (None, "0"), (4.5e15, "0"),
    (float("nan"), "0"), (dt.date(2026, 1, 1), "0000"), (45, '"unclosed'), (1 / 3, "General"),
    ("45", '"X"@;0'),
])
def test_formats_it_cannot_render_exactly_keep_the_raw_value(value, fmt):
    assert shown_text(value, fmt) is None


@given(st.integers(min_value=0, max_value=10 ** 9), st.integers(min_value=1, max_value=12))
def test_zero_padded_formats_match_python_padding(n, width):
    assert shown_text(n, "0" * width) == f"{n:0{width}d}"
    assert shown_text(float(n), '"H"' + "0" * width) == f"H{n:0{width}d}"


def test_clean_frame_uses_a_column_format_per_cell_or_per_column():
    raw = pd.DataFrame({"hh_id": [45, "0046", 47.0, None, 48], "head": ["甲", "乙", "丙", None, "丁"],
                        ROW: [2, 3, 4, 5, 6]}, dtype=object)
    per_cell, _ = clean_frame(S.MEMBERS, raw, formats={"hh_id": ["0000", "@", "General", "0000", "000000"]})
    assert list(per_cell["hh_id"]) == ["0045", "0046", "47", "000048"]
    raw.attrs[FORMATS] = CellFormats(hh_id="0000")  # how a reader hands them over, one code for the column
    per_column, _ = clean_frame(S.MEMBERS, raw)
    assert list(per_column["hh_id"]) == ["0045", "0046", "0047", "0048"]
    untouched, _ = clean_frame(S.MEMBERS, raw, formats={"hh_id": "yyyy-mm-dd"})  # cannot tell: raw kept
    assert list(untouched["hh_id"]) == ["45", "0046", "47", "48"]


def test_shown_codes_ignores_misaligned_formats():
    assert shown_codes([45, 46], ["0000"]) == [45, 46]


# -- invisible characters and names -----------------------------------------------------------
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202c", "\u180e"]


@pytest.mark.parametrize("ch", INVISIBLES)
def test_invisible_characters_are_dropped_from_text_codes_numbers_and_dates(ch):
    assert list(to_code(pd.Series([f"{ch}0045", f"JC{ch}-01"], dtype=object))) == ["0045", "JC-01"]
    assert list(to_text(pd.Series([f"平时{ch}发现"] * 3, dtype=object))) == ["平时发现"] * 3
    assert list(to_names(pd.Series([f"张三{ch}、李四"], dtype=object))) == ["张三、李四"]
    numbers, bad = to_number(pd.Series([f"1{ch}2"], dtype=object))
    assert (numbers.tolist(), bad.tolist()) == ([12.0], [False])
    dates, bad = to_date(pd.Series([f"2026-03-05{ch}"], dtype=object))
    assert (dates.tolist(), bad.tolist()) == ([pd.Timestamp("2026-03-05")], [False])
    assert normalize_text(f" {ch}ＡＢ ") == "AB"


def test_person_columns_drop_whitespace_inside_other_text_keeps_it():
    raw = pd.DataFrame({"name": ["王　军", "王 军", " 李\t明 "], "hh_id": [None] * 3, "group": ["积分评议小组"] * 3,
                        "role": ["组 员"] * 3, ROW: [2, 3, 4]}, dtype=object)
    typed, _ = clean_frame(S.MEMBERS, raw)
    assert list(typed["name"]) == ["王军", "王军", "李明"]
    assert list(typed["role"]) == ["组 员"] * 3
    declared = {(s.key, c.field) for s in S.SHEETS for c in s.columns if c.person}
    assert declared == {("households", "head"), ("members", "name"), ("entries", "head"), ("entries", "scorers"),
                        ("objections", "raised_by"), ("objections", "checked_by"), ("receipts", "handler"),
                        ("exchanges", "handler")}


@pytest.mark.parametrize("typed, known, names", [
    ("王　军", {"王军"}, ["王军"]),
    ("王军 李明", {"王军", "李明"}, ["王军", "李明"]),
    ("王军 李明", {"王军"}, ["王军", "李明"]),  # both look like whole names: 李明 reported unknown
    ("欧阳 娜娜", {"欧阳娜娜"}, ["欧阳娜娜"]),  # a known name wins over splitting
    ("王 小军", set(), ["王小军"]),  # a one-character piece is part of a name
    ("王 军、李 明", {"王军", "李明"}, ["王军", "李明"]),
    ("张三,李四；王五/赵六", set(), ["张三", "李四", "王五", "赵六"]),
    (None, set(), []),
])
def test_names_split_as_the_clerk_meant(typed, known, names):
    cleaned = to_names(pd.Series([typed], dtype=object)).iloc[0]
    assert split_names(cleaned, known) == names


# -- rows that are not records ----------------------------------------------------------------
@pytest.mark.parametrize("value, kind", [
    (None, BLANK), ("  ", BLANK), (float("nan"), BLANK), (12, NUMBER), (3.5, NUMBER), ("1,234", NUMBER), ("—", NUMBER),
    ("合计", TOTAL), ("合　计", TOTAL), ("合\u200b计", TOTAL), ("\ufeff制表人：王文书", FOOTER), ("汇总", TOTAL), ("小计：", TOTAL), ("本月合计", TOTAL), ("总计", TOTAL),
    ("Total", TOTAL), ("制表人：王文书", FOOTER), ("审核人：", FOOTER), ("填表日期：2026-11-30", FOOTER),
    ("制 表 人", FOOTER), ("负责人：吴支书", FOOTER), ("日期：2026年11月30日", FOOTER),
    ("审核意见很多", OTHER), ("合计划生育", OTHER), ("张大山", OTHER), (dt.date(2026, 1, 1), OTHER), (True, OTHER),
])
def test_classify(value, kind):
    assert classify(value) == kind


def _entries_raw(rows):
    fields = S.ENTRIES.fields
    return pd.DataFrame([dict(zip(fields, r)) | {ROW: i + 2} for i, r in enumerate(rows)], dtype=object)


FULL = ["2026-001", dt.date(2026, 1, 5), "0001", "张大山", "JC-22", "志愿服务", 2, 6, "个人申报", "刘会计", None, "已确认", None]


def test_totals_and_footers_are_dropped_records_and_half_filled_rows_are_kept():
    rows = [
        FULL,
        ["合计", None, None, None, None, None, 2, 6, None, None, None, None, None],  # total: label + numbers
        ["2026-002", None, "0002", None, None, None, None, 5, None, None, None, None, "合计"],  # half-filled record
        ["制表人：王文书", None, "审核人：吴支书", None, None, None, None, None, "填表日期：2026-11-30", None, None, None,
         None],
        [None, "2026年11月30日", None, None, None, None, None, None, None, None, None, None, None],  # under the footer
    ]
    typed, problems = clean_frame(S.ENTRIES, _entries_raw(rows))
    assert list(typed[ROW]) == [2, 4]
    assert problems == []  # the date line's 「2026年11月30日」 is the footer's, not a bad 日期 of a record


def test_a_footer_above_records_does_not_swallow_the_rows_below():
    rows = [["制表人：王文书"] + [None] * 12, ["2026-002", None, "0002"] + [None] * 10, FULL]
    typed, _ = clean_frame(S.ENTRIES, _entries_raw(rows))
    assert list(typed[ROW]) == [3, 4]


def test_non_record_rows_cost_nothing_on_a_complete_sheet():
    raw = _entries_raw([FULL] * 5)
    typed, _ = clean_frame(S.ENTRIES, raw)
    assert len(typed) == 5


# -- objections: the latest decision stands ---------------------------------------------------
def _objections(rows):
    frame = pd.DataFrame(rows, columns=["objection_id", "entry_id", "result", "corrected_points", "resolved_on", ROW])
    frame["resolved_on"] = pd.to_datetime(frame["resolved_on"])
    return frame


D = dt.date


@pytest.mark.parametrize("rows, result, points", [
    ([("A", "E1", "撤销", None, D(2026, 3, 9), 2), ("B", "E1", "更正", -1, D(2026, 3, 20), 3)], "更正", -1),
    ([("B", "E1", "更正", -1, D(2026, 3, 20), 2), ("A", "E1", "撤销", None, D(2026, 3, 9), 3)], "更正", -1),
    ([("A", "E1", "更正", 2, D(2026, 3, 5), 2), ("B", "E1", "撤销", None, D(2026, 3, 9), 3)], "撤销", None),
    ([("A", "E1", "更正", 2, D(2026, 3, 5), 2), ("B", "E1", "维持", None, D(2026, 3, 9), 3)], "更正", 2),
    ([("A", "E1", "维持", None, D(2026, 3, 5), 2)], "维持", None),
    ([("A", "E1", "更正", 2, D(2026, 3, 5), 3), ("B", "E1", "更正", 0, D(2026, 3, 5), 2)], "更正", 2),  # same day: row order
])
def test_latest_decision_stands(rows, result, points):
    out = objection_outcome(_objections(rows)).set_index("entry_id").loc["E1"]
    assert out["result"] == result
    assert (pd.isna(out["corrected_points"]) and points is None) or out["corrected_points"] == points


def test_unordered_decisions_name_the_undated_rows_and_all_decision_rows():
    obj = _objections([("A", "E1", "更正", 2, D(2026, 3, 5), 2), ("B", "E1", "更正", 0, None, 4),
                       ("C", "E2", "维持", None, None, 5),  # a single undated decision: only W-OBJ-04
                       ("D", "E3", None, None, None, 6), ("E", "E3", "维持", None, None, 7)])
    out = unordered_decisions(obj)
    assert [(r.objection_id, r.entry_id, r.decision_rows) for r in out.itertuples()] == [("B", "E1", [2, 4])]
    assert unordered_decisions(obj.iloc[:0]).empty


# -- codes that lost their leading zeros ------------------------------------------------------
def test_restore_lost_zeros_only_when_one_key_matches():
    keys = pd.Series(["0213", "0045", "045", "JC-01", None], dtype=object)
    codes = pd.Series(["213", "0213", "45", "99", None, "jc"], dtype=object)
    assert list(restore_lost_zeros(codes, keys)) == ["0213", "0213", "45", "99", None, "jc"]  # 45: two keys match


def test_restore_lost_zeros_leaves_a_clean_column_alone():
    codes = pd.Series(["0213"], dtype=object)
    assert restore_lost_zeros(codes, pd.Series(["0213"])) is codes
    assert np.array_equal(restore_lost_zeros(pd.Series([], dtype=object), pd.Series(["1"])).to_numpy(), [])


def test_cell_formats_are_shared_not_copied_with_every_column():
    raw = pd.DataFrame({"hh_id": [45] * 3, ROW: [2, 3, 4]}, dtype=object)
    raw.attrs[FORMATS] = CellFormats(hh_id=["0000"] * 3)
    assert raw["hh_id"].attrs[FORMATS] is raw.attrs[FORMATS]


@pytest.mark.parametrize("formats", ["0000", ["0000"] * 4, ["0000", "0000", "@", "0000"]])
def test_shown_codes_by_column_or_by_cell(formats):
    out = shown_codes([45, "0046", 47.0, None], formats)
    assert out[0] == "0045" and out[1] == "0046" and out[3] is None
    assert out[2] == (47.0 if formats[2] == "@" else "0047")


def test_settings_items_and_values_with_invisible_characters():
    from jifen_xl.core.clean import clean_settings

    raw = pd.DataFrame({"item": ["\ufeff年度", "村\u200b", "公示天数"], "value": ["2026\u200b", "永宁寺村\u00ad", "７天"],
                        ROW: [2, 3, 4]}, dtype=object)
    values, rows, problems = clean_settings(raw)
    assert (values["year"], values["village"], values["publicity_days"], problems) == (2026, "永宁寺村", 7, [])


def test_open_months_list_every_open_objection_and_skip_withdrawn_entries(tables):
    from jifen_xl.core.ledger import open_months, unsettled_months

    from . import village_data as V
    from .conftest import village_from_tables

    more = [("YY-04", "2026-010", "赵小红", D(2026, 4, 3), "一", None, None, None, None, None),
            ("YY-05", "2026-010", "周明", D(2026, 4, 4), "二", None, None, None, None, None),
            ("YY-06", "2026-008", "周明", D(2026, 3, 10), "已撤销的登记", None, None, None, None, None)]
    village = village_from_tables(dict(tables, objections=V.frame("objections", V.OBJECTIONS + more)))
    (april,) = open_months(village)
    assert (str(april.month), april.pending_rows, april.open_objections) == (
        "2026-04", (11,), (("YY-04", 5), ("YY-05", 6)))
    assert open_months(village, pd.Period("2026-03", "M")) == []
    assert [str(m) for m in unsettled_months(village)] == ["2026-04"]
