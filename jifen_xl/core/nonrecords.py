"""Rows that are not records (SPEC "Meanings"): an Excel table's totals row (汇总 and SUBTOTAL
values), a 合计/小计/总计 row with SUM formulas, and a footer (制表人：…、审核人：…、填表日期 …)
under the data. They are recognised and left alone, never reported as half-filled records.

Pure; works on the raw values of the rows the cleaning found incomplete (a required field
blank), so a complete record is never dropped and a clean sheet costs nothing:

- a **totals row** holds a total label (合计, 小计, 总计, 汇总, 本月合计 …) and otherwise only
  numbers (the cached SUM/SUBTOTAL values), dashes or blanks: a household whose head is named
  合计 still has its 户籍类型 and 状态, so it is a record;
- a **footer row** holds a footer label (制表人：, 审核人：, 填表日期：, 负责人： …), whatever the
  rest of the row holds (the names and the date that follow the labels);
- below a footer row that stands under every complete record, the incomplete rows that follow
  (a date line 「2026年12月1日」, 「（盖章）」) belong to the footer too.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .text import normalize_text

_TOTAL = re.compile(r"(?:本页|本月|本季|本年|全年|年度|月度|累计|总)?(?:合计|小计|总计|汇总|总和|共计|累计)"
                    r"(?:金额|积分|数量|数)?[:：]?|(?:grand|sub)?total[:：]?|sum[:：]?", re.IGNORECASE)
_FOOTER = re.compile(r"(?:制表|审核|复核|审批|填表|填报|统计|记录|监督|核对|校对|编制)(?:人|员|日期|时间)?"
                     r"|(?:村|单位|部门)?负责人|报送日期|日期|盖章|签字|签名|（盖章）|\(盖章\)")
_FOOTER_END = re.compile(r"[:：]|$")
_NUMBER = re.compile(r"[+-]?[\d,，]*\.?\d+%?|[-—–/／]+")

BLANK, NUMBER, TOTAL, FOOTER, OTHER = range(5)


def classify(value) -> int:
    """What one raw cell is, for telling records from totals and footers."""
    if value is None or isinstance(value, bool):
        return BLANK if value is None else OTHER
    if isinstance(value, (int, float, np.integer, np.floating)):
        return BLANK if value != value else NUMBER
    if not isinstance(value, str):
        return OTHER  # a date, a time
    text = re.sub(r"\s+", "", normalize_text(value))  # 「合\u200b计」 is 合计
    if not text:
        return BLANK
    if _TOTAL.fullmatch(text):
        return TOTAL
    m = _FOOTER.match(text)
    if m and _FOOTER_END.match(text, m.end()):
        return FOOTER
    if _NUMBER.fullmatch(text):
        return NUMBER
    return OTHER


def non_records(raw: pd.DataFrame, fields: list[str], candidates: np.ndarray, complete: np.ndarray) -> np.ndarray:
    """Which of the ``candidates`` (positions of incomplete rows in ``raw``) are not records.

    :param raw: the raw frame (one column per field found).
    :param fields: the declared fields to look at (``raw``'s other columns are ignored).
    :param candidates: ascending positions of the rows with a required field blank.
    :param complete: positions of the complete rows (records for sure).
    :returns: a boolean mask over ``candidates``.
    """
    if not len(candidates):
        return np.zeros(0, dtype=bool)
    kinds = np.array([_classify_column(raw[f].to_numpy()[candidates]) for f in fields if f in raw.columns],
                     dtype="int8").T.reshape(len(candidates), -1)
    has_total = (kinds == TOTAL).any(axis=1)
    has_footer = (kinds == FOOTER).any(axis=1)
    total_row = has_total & ~(kinds == OTHER).any(axis=1)
    out = total_row | has_footer
    last_record = complete.max() if len(complete) else -1
    trailing = np.flatnonzero(has_footer & (candidates > last_record))
    if len(trailing):
        out |= candidates >= candidates[trailing[0]]
    return out


def _classify_column(values: np.ndarray) -> list[int]:
    """``classify`` over one column's cells, once per distinct value: a sheet whose rows all lack
    a required cell (评议人 never filled) has every row looked at, and its values repeat. Keyed by
    type as well, so True is not taken for 1."""
    cache: dict = {}
    out = []
    for v in values:
        key = (v.__class__, v)
        try:
            kind = cache.get(key)
            if kind is None:
                kind = cache[key] = classify(v)
        except TypeError:  # an unhashable cell value
            kind = classify(v)
        out.append(kind)
    return out
