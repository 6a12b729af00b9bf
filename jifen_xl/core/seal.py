"""The month seal (issue 9): a tamper-evident record of each closed month.

Pure: frames in, frames and findings out. When a month is closed (``close``), ``seal_month``
copies the month's entries as they stand into 封账明细 (what is sealed, see ``SEALED_FIELDS``)
and appends one 封账记录 row holding a SHA-256 digest over those rows and the month's 月度台账
rows, chained to the previous row's digest, plus a short verification code for printed notices.
``check_seals`` recomputes every sealed month from the workbook as it is now and names each
difference (``SealChange``).

What the seal covers, for each entry of a sealed month: 登记编号, 日期, 户号, 指标编码, 数量
(blank = 1), the points that count (积分 after the objection outcome: 更正 → 更正后积分,
撤销 or 已撤销 → 0) and 状态; for each 月度台账 row of the month: 户号, 当月积分, 累计积分,
可用积分. Not sealed (free to edit after the close): 户主姓名, 指标名称 (shown names), 来源,
评议人, 证明材料, 备注 — they do not change anyone's points.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import JifenError
from .clean import ROW
from .village import Village, effective_entries

#: The 封账明细 fields compared with 积分登记 (all but 月份).
SEALED_FIELDS = ("date", "hh_id", "code", "qty", "points", "status")
#: The 月度台账 fields the digest covers (besides 户号).
LEDGER_SEALED = ("month_total", "cumulative", "available")

CHANGED, DELETED, ADDED, CHAIN, LEDGER_DIFF, DETAIL_EDITED = "修改", "删除", "新增", "链断开", "台账不符", "明细被改"
_CANON_HEAD = "jifen-xl seal v1"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class SealChange:
    """One difference between a sealed month and the workbook as it is now.

    :param month: the sealed month (``YYYY-MM``).
    :param kind: 修改 / 删除 / 新增 / 链断开 / 台账不符 / 明细被改.
    :param sheet: the sheet key the clerk looks at (entries, sealed_entries, seals, ledger).
    :param row: its Excel row (None when the row no longer exists).
    :param field: the field (column) concerned, or "" for a whole row.
    :param entry_id: the 登记编号 concerned (entries), else None.
    :param hh_id: the 户号 concerned (ledger rows), else None.
    :param sealed: the value as sealed (None when unknown).
    :param current: the value now (None when gone).
    :param detail: for 链断开: what broke (``digest``, ``digest_edited``, ``previous``, ``code``,
        ``order``, ``duplicate``, ``missing_seal``); for 台账不符: ``missing``/``extra`` for a
        whole row, else "".
    """

    month: str
    kind: str
    sheet: str
    row: int | None
    field: str
    entry_id: str | None = None
    hh_id: str | None = None
    sealed: object = None
    current: object = None
    detail: str = ""


# -- canonical text and digest ---------------------------------------------------------------
def month_text(value) -> str | None:
    """``YYYY-MM`` of a Period, a date, or a text such as 2026-3 (None when blank)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Period):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, str):
        text = value.strip().replace("/", "-").replace(".", "-")
        parts = text.replace("年", "-").replace("月", "").split("-")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return f"{int(parts[0]):04d}-{int(parts[1]):02d}"
        return text
    stamp = pd.Timestamp(value)
    return f"{stamp.year:04d}-{stamp.month:02d}"


def _num(x) -> str:
    """A number as the digest sees it: rounded to 6 decimals, whole numbers without a point,
    -0 as 0, blank as empty (so 6, 6.0 and 6.0000000001 read back by any program agree)."""
    if x is None or pd.isna(x):
        return ""
    try:
        x = round(float(x), 6) + 0.0
    except (TypeError, ValueError):  # not a number (a cell typed over): compared as its text
        return str(x)
    return str(int(x)) if x.is_integer() else repr(x)


def _day(x) -> str:
    if x is None or pd.isna(x):
        return ""
    try:
        return pd.Timestamp(x).strftime("%Y-%m-%d")
    except (TypeError, ValueError):  # not a date (a cell typed over): compared as its text
        return str(x)


def _txt(x) -> str:
    return "" if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x)


def _by_distinct(values: pd.Series, shown) -> pd.Series:
    """``shown`` of each cell, worked out once per distinct value (a column of points or dates
    holds few): the text columns the digest and the comparison use."""
    codes, distinct = pd.factorize(values.astype(object), use_na_sentinel=True)
    texts = np.array([shown(v) for v in distinct] + [""], dtype=object)
    return pd.Series(texts[codes], index=values.index, dtype=object)  # -1 (blank) takes the last: ""


def _nums(values: pd.Series) -> pd.Series:
    """``_num`` over a column."""
    return _by_distinct(values, _num)


def _days(values: pd.Series) -> pd.Series:
    """Dates as ISO days ("" for blank)."""
    if values.dtype.kind != "M":
        return _by_distinct(values, _day)
    days = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = np.datetime_as_string(days).astype(object)
    out[np.isnat(days)] = ""
    return pd.Series(out, index=values.index, dtype=object)


def _txts(values: pd.Series) -> pd.Series:
    return _by_distinct(values, _txt)


def _months(values: pd.Series) -> pd.Series:
    """``month_text`` over a column, worked out once per distinct value."""
    distinct = {v: month_text(v) for v in pd.unique(values.astype(object))}
    return values.astype(object).map(distinct)


def _entry_lines(rows: pd.DataFrame) -> list[str]:
    rows = rows.assign(_k=_txts(rows["entry_id"])).sort_values(["_k", "date"], kind="stable")
    cols = [rows["_k"], _days(rows["date"]), _txts(rows["hh_id"]), _txts(rows["code"]),
            _nums(rows["qty"]), _nums(rows["points"]), _txts(rows["status"])]
    return ["\t".join(t) for t in zip(*(c.tolist() for c in cols))]


def _ledger_lines(rows: pd.DataFrame) -> list[str]:
    rows = rows.assign(_k=_txts(rows["hh_id"])).sort_values("_k", kind="stable")
    cols = [rows["_k"]] + [_nums(rows[f]) for f in LEDGER_SEALED]
    return ["\t".join(t) for t in zip(*(c.tolist() for c in cols))]


def canonical_text(month, entries_rows: pd.DataFrame, ledger_rows: pd.DataFrame, previous_digest: str | None) -> str:
    """The text the digest is taken over: a head line, the month, one line per sealed entry
    (sorted by 登记编号: 登记编号, 日期 ISO, 户号, 指标编码, 数量, 积分, 状态), a separator, one
    line per 月度台账 row (sorted by 户号: 户号, 当月积分, 累计积分, 可用积分), a separator, the
    previous digest ("" for the first)."""
    lines = [_CANON_HEAD, month_text(month) or ""]
    lines += _entry_lines(entries_rows) + ["--"] + _ledger_lines(ledger_rows) + ["--", previous_digest or ""]
    return "\n".join(lines) + "\n"


def month_digest(month, entries_rows: pd.DataFrame, ledger_rows: pd.DataFrame, previous_digest: str | None) -> str:
    """SHA-256 (hex, 64 characters) of ``canonical_text``.

    :param month: the month (``YYYY-MM`` or a Period).
    :param entries_rows: the month's 封账明细 rows (its fields).
    :param ledger_rows: the month's 月度台账 rows (its fields; other months must be left out).
    :param previous_digest: the previous 封账记录 row's 摘要 ("" or None for the first).
    """
    return hashlib.sha256(canonical_text(month, entries_rows, ledger_rows, previous_digest).encode("utf-8")).hexdigest()


def verification_code(digest: str) -> str:
    """The short code printed on notices: the first 40 bits of ``digest`` in Crockford base32,
    8 characters grouped 4-4 (``K7Q2-M9XD``)."""
    value = int(digest[:10], 16)
    chars = "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(35, -1, -5))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_code(text: str) -> str | None:
    """A code as typed (any case, with or without the dash or spaces, O for 0, I or L for 1)
    in the printed form ``XXXX-XXXX``; None when it cannot be one."""
    chars = "".join(ch for ch in str(text).upper() if ch not in "- \t")
    chars = chars.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(chars) != 8 or any(ch not in _CROCKFORD for ch in chars):
        return None
    return f"{chars[:4]}-{chars[4:]}"


# -- what a month seals ------------------------------------------------------------------------
def current_details(village: Village) -> pd.DataFrame:
    """Every entry of the workbook as 封账明细 would hold it now (fields of 封账明细 plus ``_row``,
    the entry's Excel row in 积分登记): 数量 blank = 1, 积分 = the points that count (0 when
    withdrawn)."""
    eff = effective_entries(village)
    points = eff["effective"].where(~eff["withdrawn"], 0.0).astype("float64")
    stamps = eff["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    months = np.datetime_as_string(stamps).astype(object)
    months[np.isnat(stamps)] = None
    return pd.DataFrame({
        "month": pd.Series(months, index=eff.index, dtype=object), "entry_id": eff["entry_id"], "date": eff["date"], "hh_id": eff["hh_id"],
        "code": eff["code"], "qty": eff["qty"].fillna(1.0).astype("float64"), "points": points,
        "status": eff["status"], ROW: eff[ROW],
    })


def _month_rows(frame: pd.DataFrame, month: str) -> pd.DataFrame:
    if frame is None or not len(frame):
        return frame.iloc[:0] if frame is not None else frame
    return frame[_months(frame["month"]).eq(month)]


def _seal_order(seals: pd.DataFrame) -> pd.DataFrame:
    """The 封账记录 rows in sheet order (the chain's order)."""
    if seals is None or not len(seals):
        return pd.DataFrame({f: pd.Series(dtype=object) for f in S.SEALS.fields + [ROW]})
    return seals.sort_values(ROW, kind="stable") if ROW in seals.columns else seals


def seal_month(village_after_close: Village, month, ledger_rows: pd.DataFrame, seals: pd.DataFrame | None,
               sealed_entries: pd.DataFrame | None, close_date) -> tuple[dict, pd.DataFrame]:
    """Seal ``month``: its 封账记录 row and its 封账明细 rows.

    :param village_after_close: the village with the close applied (状态 已确认/已撤销, 积分 of
        a 更正 set): the month's entries are taken as they stand.
    :param month: the month closed (``YYYY-MM`` or a Period).
    :param ledger_rows: the 月度台账 to be written (all closed months; only ``month``'s rows count).
    :param seals: the 封账记录 rows already in the workbook (empty or None for none).
    :param sealed_entries: the 封账明细 rows already in the workbook (used to refuse a month
        sealed twice).
    :param close_date: the 封账日期.
    :returns: ``(seal_row, detail_rows)``: the new 封账记录 row (dict by field) and the month's
        new 封账明细 rows (a frame with its fields) — to be APPENDED to the existing sheets
        (``append_seal`` does that).
    :raises JifenError: the month is already sealed.
    """
    label = month_text(month)
    order = _seal_order(seals)
    sealed_months = set(order["month"].map(month_text))
    if sealed_entries is not None and len(sealed_entries):
        sealed_months |= set(_months(sealed_entries["month"]))
    if label in sealed_months:
        raise JifenError(f"{label} 已经封账（见「{S.SEALS.name}」），不能再次封账。已封账月份的登记不能再改；"
                         "更正请在未结账月份新增一条登记，并在备注注明更正的登记编号。")
    details = current_details(village_after_close)
    details = details[details["month"].eq(label)].drop(columns=ROW)
    details = details.sort_values("entry_id", key=lambda s: s.map(_txt), kind="stable").reset_index(drop=True)
    ledger = _month_rows(ledger_rows, label)
    previous = _txt(order["digest"].iloc[-1]) if len(order) else ""
    digest = month_digest(label, details, ledger, previous)
    counted = details["status"].eq(S.ENTRY_CONFIRMED)
    seal_row = {
        "month": label, "sealed_on": pd.Timestamp(close_date), "entries": int(len(details)),
        "households": int(details["hh_id"].nunique()),
        "month_total": float(round(details.loc[counted, "points"].sum(), 6) + 0.0),
        "digest": digest, "previous": previous, "code": verification_code(digest),
    }
    return seal_row, details[S.SEALED_ENTRIES.fields]


def append_seal(seals: pd.DataFrame | None, sealed_entries: pd.DataFrame | None, seal_row: dict,
                detail_rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole 封账记录 and 封账明细 tables to write after ``seal_month``: the existing rows
    (in sheet order) with the new ones appended (columns = the sheets' fields)."""
    old = _seal_order(seals)[S.SEALS.fields]
    new_seals = pd.concat([old.astype(object), pd.DataFrame([seal_row], columns=S.SEALS.fields).astype(object)],
                          ignore_index=True)
    if sealed_entries is not None and len(sealed_entries):
        old_rows = sealed_entries.sort_values(ROW, kind="stable") if ROW in sealed_entries.columns else sealed_entries
        old_rows = old_rows[S.SEALED_ENTRIES.fields]
        new_details = pd.concat([old_rows.astype(object), detail_rows.astype(object)], ignore_index=True)
    else:
        new_details = detail_rows[S.SEALED_ENTRIES.fields].reset_index(drop=True)
    return new_seals, new_details


def sealed_months(seals: pd.DataFrame | None) -> list[str]:
    """The months of 封账记录, in sheet order."""
    return [m for m in _seal_order(seals)["month"].map(month_text).tolist() if m]


def unsealed_confirmed(village: Village, seals: pd.DataFrame | None, ledger: pd.DataFrame | None = None) -> pd.DataFrame:
    """Closed months of the workbook's year that carry no seal: months with 已确认 entries and no
    封账记录 row that were closed all the same — 月度台账 holds them, or a later month is sealed
    (closed by hand, or before the village used this toolkit). A month merely confirmed by hand
    with no 月度台账 row is not closed yet (``close`` seals it). Columns ``month``, ``count``
    (its 已确认 entries) and ``row`` (the first one's Excel row)."""
    entries = village["entries"]
    ok = entries["status"].eq(S.ENTRY_CONFIRMED) & entries["date"].notna()
    if village.year is not None:
        ok &= entries["date"].dt.year.eq(village.year)
    rows = entries[ok]
    months = pd.Series(np.datetime_as_string(rows["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")),
                       index=rows.index, dtype=object)
    sealed = sealed_months(seals)
    closed = months.isin(set(_months(ledger["month"]))) if ledger is not None and len(ledger) else \
        pd.Series(False, index=months.index)
    if sealed:
        closed |= months.lt(max(sealed))
    rows = rows.assign(month=months)[closed & ~months.isin(set(sealed))]
    grouped = rows.groupby("month", sort=True)[ROW].agg(["count", "min"])
    return pd.DataFrame({"month": grouped.index, "count": grouped["count"].to_numpy(),
                         "row": grouped["min"].to_numpy()})


# -- checking ------------------------------------------------------------------------------------
def _same(a, b, numeric: bool) -> bool:
    a_blank = a is None or (not isinstance(a, str) and pd.isna(a))
    b_blank = b is None or (not isinstance(b, str) and pd.isna(b))
    if a_blank or b_blank:
        return a_blank and b_blank
    if numeric:
        return _num(a) == _num(b)
    if isinstance(a, (pd.Timestamp, np.datetime64)) or isinstance(b, (pd.Timestamp, np.datetime64)):
        return _day(a) == _day(b)
    return str(a) == str(b)


_NUMERIC = {"qty", "points"}


def _entry_changes(sealed: pd.DataFrame, current: pd.DataFrame, months: set[str]) -> list[SealChange]:
    """积分登记 now against 封账明细: fields changed, entries deleted, entries added (or dated)
    into a sealed month. An entry moved out of a sealed month is a change of its 日期."""
    out: list[SealChange] = []
    sealed_ids = sealed[sealed["entry_id"].notna()]
    cur_ids = current[current["entry_id"].notna()]
    merged = sealed_ids.merge(cur_ids, on="entry_id", how="left", suffixes=("", "_now"), indicator=True)
    gone = merged[merged["_merge"].eq("left_only")]
    for r in gone.itertuples(index=False):
        out.append(SealChange(r.month, DELETED, "sealed_entries", int(getattr(r, ROW)), "entry_id", r.entry_id,
                              sealed=r.entry_id))
    both = merged[merged["_merge"].eq("both")]
    for f in SEALED_FIELDS:
        a, b = both[f], both[f + "_now"]
        if f in _NUMERIC:
            differ = _nums(a).ne(_nums(b))
        elif f == "date":
            differ = _days(a).ne(_days(b))
        else:
            differ = _txts(a).ne(_txts(b))
        for r in both[differ.to_numpy()].itertuples(index=False):
            out.append(SealChange(r.month, CHANGED, "entries", int(getattr(r, ROW + "_now")), f, r.entry_id,
                                  sealed=getattr(r, f), current=getattr(r, f + "_now")))
    known = set(sealed_ids["entry_id"])
    added = current[current["month"].isin(months) & ~current["entry_id"].isin(known)]
    for r in added.itertuples(index=False):
        out.append(SealChange(r.month, ADDED, "entries", int(getattr(r, ROW)), "date", r.entry_id, current=r.date))
    return out


def _ledger_diffs(month: str, sheet_rows: pd.DataFrame, expected: pd.DataFrame) -> list[SealChange]:
    """月度台账 rows of ``month`` against the figures they should hold (by 户号). Whole columns
    compared at once (a village has a thousand households a month); only the differences become
    findings, in the sheet's order per column."""
    out: list[SealChange] = []
    have = sheet_rows.drop_duplicates("hh_id").set_index("hh_id")
    want = expected.drop_duplicates("hh_id").set_index("hh_id")
    in_have, in_want = want.index.isin(have.index), have.index.isin(want.index)
    for hh in want.index[~in_have]:
        out.append(SealChange(month, LEDGER_DIFF, "ledger", None, "hh_id", hh_id=hh, sealed=hh, detail="missing"))
    for hh, row in zip(have.index[~in_want], have[ROW][~in_want]):
        out.append(SealChange(month, LEDGER_DIFF, "ledger", int(row), "hh_id", hh_id=hh, current=hh,
                              detail="extra"))
    both = have[in_want]
    there = want.reindex(both.index)
    for f in LEDGER_SEALED:
        differ = (_nums(both[f]).to_numpy() != _nums(there[f]).to_numpy())
        for hh, row, now, sealed in zip(both.index[differ], both[ROW][differ], both[f][differ], there[f][differ]):
            out.append(SealChange(month, LEDGER_DIFF, "ledger", int(row), f, hh_id=hh, sealed=sealed, current=now))
    return out


def _detail_diffs(month: str, sealed_rows: pd.DataFrame, current_rows: pd.DataFrame) -> list[SealChange]:
    """封账明细 rows of ``month`` against the entries they copy, once the entries are proved to be
    as sealed: a row edited (field by field), a row removed (``missing``) or slipped in (``extra``)."""
    out: list[SealChange] = []
    cur = current_rows.drop_duplicates("entry_id").set_index("entry_id")
    ids = set(sealed_rows["entry_id"])
    for entry_id in [e for e in cur.index if e not in ids]:
        out.append(SealChange(month, DETAIL_EDITED, "sealed_entries", None, "entry_id", entry_id, sealed=entry_id,
                              detail="missing"))
    for r in sealed_rows.itertuples(index=False):
        if r.entry_id not in cur.index:
            out.append(SealChange(month, DETAIL_EDITED, "sealed_entries", int(getattr(r, ROW)), "entry_id",
                                  r.entry_id, current=r.entry_id, detail="extra"))
            continue
        for f in SEALED_FIELDS:
            now = cur.at[r.entry_id, f]
            if not _same(getattr(r, f), now, f in _NUMERIC):
                out.append(SealChange(month, DETAIL_EDITED, "sealed_entries", int(getattr(r, ROW)), f, r.entry_id,
                                      sealed=now, current=getattr(r, f)))
    return out


def ledger_differences(months, ledger: pd.DataFrame, expected: pd.DataFrame) -> list[SealChange]:
    """月度台账 rows of ``months`` against ``expected`` (the ledger recomputed from the workbook
    now), per 户号 and column (当月积分, 累计积分, 可用积分; a row missing or extra)."""
    out: list[SealChange] = []
    have_all = ledger.assign(month=_months(ledger["month"]))
    want_all = expected.assign(month=_months(expected["month"]))
    for month in months:
        out += _ledger_diffs(month, have_all[have_all["month"].eq(month)], want_all[want_all["month"].eq(month)])
    return out


def check_seals(village: Village, seals: pd.DataFrame | None, sealed_entries: pd.DataFrame | None,
                ledger: pd.DataFrame | None) -> list[SealChange]:
    """Every difference between the sealed months and the workbook as it is now.

    * 积分登记 against 封账明细, entry by entry (``SEALED_FIELDS``): a field changed (修改, on the
      entry's row), an entry deleted (删除, on its 封账明细 row), an entry added or dated into a
      sealed month (新增). The points compared are the ones that count, so a decision added to
      异议处理 for a sealed entry shows as a change of its 积分.
    * The chain, row by row of 封账记录: 摘要 against the month's 封账明细 and 月度台账 rows and
      its 上月摘要; 上月摘要 against the previous row's 摘要 (a row deleted or moved breaks it);
      校验码 against 摘要; months in order, none twice; every month of 封账明细 has its row.
      When 摘要 does not match, the cause is named where it can be proved: the 摘要 cell itself
      (the next row still chains to the right one); 月度台账 rows (the month matches with the
      ledger recomputed from the workbook: the edited cells are named, 台账不符); 封账明细 rows
      (the month matches with the entries as they are now: the edited rows are named, 明细被改,
      and the entries are not blamed). Otherwise one 链断开 finding for the month's 摘要.

    :param village: the typed village as it is now.
    :param seals: 封账记录 (typed, with Excel rows); None or empty when the workbook has none.
    :param sealed_entries: 封账明细 (typed, with Excel rows).
    :param ledger: 月度台账 (typed, with Excel rows).
    """
    order = _seal_order(seals)
    if not len(order) and (sealed_entries is None or not len(sealed_entries)):
        return []
    empty_detail = pd.DataFrame({f: pd.Series(dtype=object) for f in S.SEALED_ENTRIES.fields + [ROW]})
    sealed = sealed_entries if sealed_entries is not None and len(sealed_entries) else empty_detail
    sealed = sealed.assign(month=_months(sealed["month"]))
    if ledger is None or not len(ledger):
        ledger = pd.DataFrame({f: pd.Series(dtype=object) for f in S.LEDGER.fields + [ROW]})
    ledger = ledger.assign(month=_months(ledger["month"]))
    current = current_details(village)
    months_list = [month_text(m) for m in order["month"]]
    months = {m for m in months_list if m}
    expected: list[pd.DataFrame] = []

    def expected_ledger() -> pd.DataFrame:
        if not expected:
            from .ledger import compute_ledger

            expected.append(compute_ledger(village, pd.Period(max(months), "M")))
        return expected[0]

    digests = [_txt(d) for d in order["digest"]]
    previous = [_txt(p) for p in order["previous"]]
    rows = [int(r) for r in order[ROW]] if ROW in order.columns else [None] * len(order)
    chain: list[SealChange] = []
    seen: set[str] = set()
    explained_previous: set[int] = set()
    for i, month in enumerate(months_list):
        row = rows[i]
        if month in seen:
            chain.append(SealChange(month, CHAIN, "seals", row, "month", detail="duplicate", current=month))
            continue
        if i and months_list[i - 1] and month and month < months_list[i - 1]:
            chain.append(SealChange(month, CHAIN, "seals", row, "month", detail="order", current=month,
                                    sealed=months_list[i - 1]))
        seen.add(month)
        entries_rows = sealed[sealed["month"].eq(month)]
        ledger_rows = ledger[ledger["month"].eq(month)]
        computed = month_digest(month, entries_rows, ledger_rows, previous[i])
        if computed != digests[i]:
            chain += _explain_digest(i, month, row, computed, digests, previous, entries_rows, ledger_rows,
                                     current[current["month"].eq(month)], expected_ledger, explained_previous)
        elif _txt(order["code"].iloc[i]) != verification_code(digests[i]):
            chain.append(SealChange(month, CHAIN, "seals", row, "code", sealed=verification_code(digests[i]),
                                    current=order["code"].iloc[i], detail="code"))
        want_previous = digests[i - 1] if i else ""
        if previous[i] != want_previous and i not in explained_previous:
            chain.append(SealChange(month, CHAIN, "seals", row, "previous", sealed=want_previous,
                                    current=previous[i], detail="previous"))
    for month in sorted(set(sealed["month"].dropna()) - months):
        first = sealed[sealed["month"].eq(month)]
        chain.append(SealChange(month, CHAIN, "seals", None, "month", detail="missing_seal",
                                sealed=int(first[ROW].min())))
    # a month whose 封账明细 copy was proved edited: the entries are as sealed, do not blame them
    copied = {c.month for c in chain if c.kind == DETAIL_EDITED}
    entry_changes = [c for c in _entry_changes(sealed, current, months) if c.month not in copied]
    return entry_changes + chain


def _explain_digest(i, month, row, computed, digests, previous, entries_rows, ledger_rows, current_rows,
                    expected_ledger, explained_previous) -> list[SealChange]:
    stored = digests[i]
    # the 摘要 cell itself was edited: what the rows give is what the next row chained to
    if i + 1 < len(digests) and computed == previous[i + 1]:
        explained_previous.add(i + 1)
        return [SealChange(month, CHAIN, "seals", row, "digest", sealed=computed, current=stored,
                           detail="digest_edited")]
    want = expected_ledger()
    want = want[_months(want["month"]).eq(month)]
    if month_digest(month, entries_rows, want, previous[i]) == stored:
        return _ledger_diffs(month, ledger_rows, want)
    now = current_rows.drop(columns=ROW)
    if month_digest(month, now, ledger_rows, previous[i]) == stored:
        return _detail_diffs(month, entries_rows, current_rows)
    return [SealChange(month, CHAIN, "seals", row, "digest", current=stored, detail="digest")]
