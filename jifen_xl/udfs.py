"""Worksheet functions (UDFs) for the clerk's workbook (issue 12): ASCII names, Chinese answers.

``=JIFEN_TOTAL("0001")`` a household's lifetime points (累计积分), ``=JIFEN_BALANCE("0001")`` its
spendable points (可用积分), ``=JIFEN_RANK("0001")`` its rank in the village (村内排名), all as the
月度台账 computes them through the last settled month (``app.ledger_book``, nothing written), and
``=JIFEN_EXPECTED("JC-22", 2)`` the points an entry of that item earns (数量 × 分值 on the date, today
by default). A wrong 户号 or 指标编码 gives a Chinese sentence in the cell, never a Python error.

What Excel shows of them is Chinese: each function's docstring is its description in Excel's
function wizard (xlwings passes it to ``Application.MacroOptions``), set from ``schema.UDFS``
(the one declaration 使用说明 and workbook/README.md follow) by ``_described``; each ``xw.arg``
doc is an argument's, ``schema.UDF_CATEGORY`` the wizard's category. The argument names are written into the VBA
wrappers xlwings generates, so they must be VBA identifiers (``date`` is a VBA keyword: hence
``on_date``). The clerk imports them once per workbook with the 导入公式函数 button (xlwings'
``ImportPythonUDFs``, reading ``schema.XLWINGS_CONF``; Windows Excel only).

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

#: Excel's day 0 of its date serial numbers (1900 system, after the 1900-02-29 bug).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")

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


HH_DOC = "户号，如 0001（写成数字 1 也可以）"
_UDFS = {u.name: u for u in S.UDFS}


def _described(f):
    """``f`` with its Chinese description (``schema.UDFS``) as its docstring: applied first, so
    that xlwings' ``func`` finds it."""
    f.__doc__ = _UDFS[f.__name__].help
    return f


# 累计积分 (lifetime points) of a household, as of the last settled month.
@xw.func(category=S.UDF_CATEGORY)
@xw.arg("hh_id", doc=HH_DOC)
@_described
def JIFEN_TOTAL(hh_id, caller):  # noqa: N802 - Excel's function names are upper case
    return _household(caller.sheet.book, hh_id, "cumulative")


# 可用积分 (spendable points) of a household, as of the last settled month.
@xw.func(category=S.UDF_CATEGORY)
@xw.arg("hh_id", doc=HH_DOC)
@_described
def JIFEN_BALANCE(hh_id, caller):  # noqa: N802
    return _household(caller.sheet.book, hh_id, "available")


# 村内排名 of a household by 累计积分, as of the last settled month.
@xw.func(category=S.UDF_CATEGORY)
@xw.arg("hh_id", doc=HH_DOC)
@_described
def JIFEN_RANK(hh_id, caller):  # noqa: N802
    return _household(caller.sheet.book, hh_id, "rank")


def _day(on_date):
    """The date of ``on_date`` as typed in a cell (a date, an Excel serial number, a text such as
    2026-03-01; blank: today), or None when it is none of these."""
    if on_date in (None, ""):
        return pd.Timestamp(dt.datetime.now()).normalize()
    if isinstance(on_date, (dt.date, dt.datetime)):
        return pd.Timestamp(on_date).normalize()
    if isinstance(on_date, (int, float)) and not isinstance(on_date, bool):
        return (EXCEL_EPOCH + pd.Timedelta(days=int(on_date))).normalize()
    day = pd.to_datetime(str(on_date).strip(), errors="coerce")
    return None if pd.isna(day) else day.normalize()


# The points an entry of an item earns: 数量 × 分值 on the date.
@xw.func(category=S.UDF_CATEGORY)
@xw.arg("code", doc="指标编码，如 JC-22")
@xw.arg("quantity", doc="数量，不填为 1")
@xw.arg("on_date", doc="日期，不填为今天（按这一天有效的分值计算）")
@_described
def JIFEN_EXPECTED(code, quantity=None, on_date=None, caller=None):  # noqa: N802
    try:
        _last, village = _figures(caller.sheet.book)
    except JifenError as exc:
        return chinese_os_text(exc.message)
    day = _day(on_date)
    if day is None:
        return f"日期「{on_date}」看不懂，请写成 年-月-日，如 2026-03-15"
    wanted = to_code(pd.Series([code], dtype=object)).iloc[0]
    one = pd.DataFrame({"code": [wanted], "date": [day]})
    found = item_on_date(village["indicators"], one).iloc[0]
    header = S.INDICATORS.header_of("code")
    if not found["found_code"]:
        return f"{header}「{code}」不在「{S.INDICATORS.name}」中"
    if not found["in_force"] or pd.isna(found["value"]):
        return f"{header}「{code}」在 {day.date().isoformat()} 不在有效期内"
    try:
        qty = 1.0 if quantity in (None, "") else float(quantity)
    except (TypeError, ValueError):
        return f"数量「{quantity}」不是数字"
    return qty * float(found["value"])
