"""Worksheet functions (UDFs) for the clerk's workbook (issue 12): ASCII names, Chinese answers.

``=JIFEN_TOTAL("0001")`` a household's lifetime points (累计积分), ``=JIFEN_BALANCE("0001")`` its
spendable points (可用积分), ``=JIFEN_RANK("0001")`` its rank in the village (村内排名), all as the
月度台账 computes them through the last settled month (``app.ledger_book``, nothing written), and
``=JIFEN_EXPECTED("JC-22", 2)`` the points an entry of that item earns (数量 × 分值 on the date, today
by default). A wrong 户号 or 指标编码 gives a Chinese sentence in the cell, never a Python error.

Each function reads its caller's workbook through the live backend; the figures are kept per
workbook for ``CACHE_SECONDS`` (a sheet full of these formulas is recalculated in one burst: the
workbook is read and its ledger computed once, not once per cell). UDFs never write (GUIDE §2.11).
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import xlwings as xw

from . import app
from . import schema as S
from .core.card import find_household
from .core.clean import to_code
from .core.village import item_on_date
from .errors import JifenError, chinese_os_text
from .io.live import LiveBook

#: How long a workbook's figures are reused (seconds).
CACHE_SECONDS = 5.0

_cache: dict[str, tuple[float, object]] = {}


def _figures(book):
    """The caller's workbook: its ledger's last month per household and its loaded village."""
    key = f"{book.app.pid}|{book.fullname}"
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    live = LiveBook(book)
    result = app.ledger_book(live, dry_run=True)
    ledger = result.ledger
    last = ledger[ledger["month"] == result.through].set_index("hh_id") if result.through else ledger.iloc[0:0]
    village = app.load(live).village
    figures = (last, village)
    _cache[key] = (time.monotonic(), figures)
    return figures


def clear_cache() -> None:
    """Forget every workbook's figures (the next call reads the workbook again)."""
    _cache.clear()


def _household(book, hh_id, column: str):
    if hh_id in (None, ""):
        return f"请填写{S.HOUSEHOLDS.header_of('hh_id')}"
    text = str(int(hh_id)) if isinstance(hh_id, float) and hh_id.is_integer() else str(hh_id)
    try:
        last, village = _figures(book)
        code = find_household(village, text)["hh_id"]  # 「45」 finds 「0045」, as the card does
    except JifenError as exc:
        return chinese_os_text(exc.message)
    if code not in last.index:
        if not len(last):
            return f"「{S.LEDGER.name}」还没有已结账的月份"
        return f"{S.HOUSEHOLDS.header_of('hh_id')}「{code}」不在「{S.LEDGER.name}」中（该户状态不是正常）"
    value = last.loc[code, column]
    return None if pd.isna(value) else float(value)


@xw.func
def JIFEN_TOTAL(hh_id, caller):  # noqa: N802 - Excel's function names are upper case
    """累计积分 of a household (户号), as 月度台账 has it for the last settled month."""
    return _household(caller.sheet.book, hh_id, "cumulative")


@xw.func
def JIFEN_BALANCE(hh_id, caller):  # noqa: N802
    """可用积分 of a household (户号): lifetime points less what it spent at the love supermarket."""
    return _household(caller.sheet.book, hh_id, "available")


@xw.func
def JIFEN_RANK(hh_id, caller):  # noqa: N802
    """村内排名 of a household (户号) by 累计积分 (ties share the best rank)."""
    return _household(caller.sheet.book, hh_id, "rank")


@xw.func
def JIFEN_EXPECTED(code, quantity=None, date=None, caller=None):  # noqa: N802
    """The points an entry of item 指标编码 earns: 数量 (blank = 1) × the item's 分值 on the date (today by default)."""
    try:
        _last, village = _figures(caller.sheet.book)
    except JifenError as exc:
        return chinese_os_text(exc.message)
    day = date if isinstance(date, (dt.date, dt.datetime)) else dt.datetime.now()
    wanted = to_code(pd.Series([code], dtype=object)).iloc[0]
    one = pd.DataFrame({"code": [wanted], "date": [pd.Timestamp(day).normalize()]})
    found = item_on_date(village["indicators"], one).iloc[0]
    header = S.INDICATORS.header_of("code")
    if not found["found_code"]:
        return f"{header}「{code}」不在「{S.INDICATORS.name}」中"
    if not found["in_force"] or pd.isna(found["value"]):
        return f"{header}「{code}」在 {pd.Timestamp(day).date().isoformat()} 不在有效期内"
    qty = 1.0 if quantity in (None, "") else float(quantity)
    return qty * float(found["value"])
