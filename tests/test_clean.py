"""Cleaning of typed values (core, pure): properties over what clerks type."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from jifen_xl import schema as S
from jifen_xl.core.clean import ROW, clean_frame, to_code, to_date, to_names, to_number
from jifen_xl.core.names import split_names

FULL = str.maketrans("0123456789-.", "０１２３４５６７８９－．")
dates = st.dates(min_value=dt.date(1950, 1, 2), max_value=dt.date(2100, 12, 30))
DATE_FORMS = [
    lambda d: d,
    lambda d: dt.datetime(d.year, d.month, d.day, 9, 30),
    lambda d: f"{d.year}-{d.month:02d}-{d.day:02d}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f" {d.year}{d.month:02d}{d.day:02d} ",
    lambda d: f"{d.year}-{d.month}-{d.day}".translate(FULL),
    lambda d: float((d - dt.date(1899, 12, 30)).days),
    lambda d: f"{d.year}-{d.month:02d}-{d.day:02d} 00:00:00",
]


@settings(max_examples=200, deadline=None)
@given(dates, st.sampled_from(range(len(DATE_FORMS))))
def test_every_date_form_reads_as_that_date(day, form):
    values, bad = to_date(pd.Series([DATE_FORMS[form](day)], dtype=object))
    assert not bad[0]
    assert values[0].date() == day


@given(st.text(alphabet="abc的 /", min_size=1))
def test_text_that_is_no_date_is_flagged_not_dropped(text):
    values, bad = to_date(pd.Series([text], dtype=object))
    assert bad[0] == bool(text.strip())
    assert pd.isna(values[0])


@given(st.integers(min_value=-10**6, max_value=10**6), st.booleans(), st.booleans())
def test_numbers_as_text_and_full_width(n, as_text, full):
    raw = str(n) if as_text else float(n)
    if as_text and full:
        raw = raw.translate(FULL)
    values, bad = to_number(pd.Series([raw], dtype=object))
    assert not bad[0] and values[0] == n


def test_non_numbers_are_flagged():
    values, bad = to_number(pd.Series(["5分", "abc", "", None, " 7 ", "1,200", "－３"], dtype=object))
    assert list(bad) == [True, True, False, False, False, False, False]
    assert list(values[4:]) == [7, 1200, -3]


@given(st.integers(min_value=0, max_value=99999))
def test_hh_id_typed_as_number_or_text_is_the_same(n):
    forms = pd.Series([n, float(n), str(n), f" {n} ", str(n).translate(FULL), f"{n}.0"], dtype=object)
    assert set(to_code(forms)) == {str(n)}


def test_leading_zero_text_codes_are_kept():
    assert list(to_code(pd.Series(["0001", "jc-01", "ＪＣ－０１"], dtype=object))) == ["0001", "JC-01", "JC-01"]


def test_scorer_names_accept_common_separators():
    out = to_names(pd.Series(["张三,李四", "张三，李四", "张三 李四", "张三、李四、", "张三；李四"], dtype=object))
    assert {tuple(split_names(v, {"张三", "李四"})) for v in out} == {("张三", "李四")}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=20), st.randoms())
def test_blank_rows_are_dropped_and_rows_keep_their_excel_numbers(blank_flags, rnd):
    rows = []
    for i, blank in enumerate(blank_flags):
        rows.append({"hh_id": None if blank else f"{i:04d}", "head": "" if blank else "某", ROW: i + 3})
    raw = pd.DataFrame(rows, dtype=object)
    typed, problems = clean_frame(S.HOUSEHOLDS, raw)
    assert problems == []
    assert list(typed[ROW]) == [i + 3 for i, b in enumerate(blank_flags) if not b]
    assert list(typed["hh_id"]) == [f"{i:04d}" for i, b in enumerate(blank_flags) if not b]


def test_format_problem_names_row_column_and_fix():
    raw = pd.DataFrame([{"entry_id": "1", "date": "三月五日", "qty": "两", ROW: 7}], dtype=object)
    _, problems = clean_frame(S.ENTRIES, raw)
    assert {(p.sheet, p.row, p.column, p.message, p.fix) for p in problems} == {
        ("积分登记", 7, "日期", "「三月五日」不是有效日期", "请填写日期，例如 2026-03-05 或 2026年3月5日"),
        ("积分登记", 7, "数量", "「两」不是数字", "请填写数字，例如 5 或 -2；不要带单位或文字"),
    }


def test_missing_values_of_every_kind_are_blank_not_errors():
    import numpy as np

    values, bad = to_date(pd.Series([pd.NaT, None, float("nan"), np.nan, "  "], dtype=object))
    assert not bad.any() and values.isna().all()
    numbers, bad = to_number(pd.Series([pd.NaT, None, float("nan"), ""], dtype=object))
    assert not bad.any() and numbers.isna().all()
