"""The monthly cycle's state machine (issue 9): publish a month (待公示 -> 公示中, its publicity
period recorded), close it (the objections' outcomes applied: 已确认 / 已撤销 / 更正后积分).

Pure: takes the typed village (and the typed 公示记录 rows) and returns what changes, as plain
data; the app turns it into one write and the clerk's messages.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from .clean import ROW
from .text import normalize_text
from .village import Village, effective_entries

_MONTH_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


def in_month(dates: pd.Series, month: pd.Period) -> np.ndarray:
    """Which ``dates`` fall in ``month`` (NaT never does)."""
    values = dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    return values == np.datetime64(f"{month.year:04d}-{month.month:02d}", "M")


def month_of(value) -> pd.Period | None:
    """A 月份 cell of an owned sheet as a month: the toolkit writes ``YYYY-MM`` text; a
    spreadsheet program may hand it back as a date. None when it is neither."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (_dt.date, pd.Timestamp)):
        return pd.Period(year=value.year, month=value.month, freq="M")
    if isinstance(value, str):
        m = _MONTH_RE.fullmatch(normalize_text(value))
        if m and 1 <= int(m.group(2)) <= 12:
            return pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")
    return None


def _day(value) -> _dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def publicity_end(start: _dt.date, days: int) -> _dt.date:
    """The last day (inclusive) of a publicity period of ``days`` days from ``start``."""
    return start + _dt.timedelta(days=int(days) - 1)


# -- publish ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Publication:
    """What publishing a month changes.

    :param month: the month.
    :param moved: the month's 待公示 entries (登记编号, Excel row), in sheet order: they become 公示中.
    :param adopted: the month's entries already 公示中 with no 公示记录 row of the month (their status
        was set by hand before the village used this toolkit): the publish records their period.
    :param filled: 登记编号 -> computed points (数量 × 分值 on the entry's date), for the entries
        published (moved or adopted) whose 积分 is blank; a typed 积分 is never in it.
    :param households: how many households the published entries concern.
    :param by_status: the month's entries counted by 状态 (for the refusal when nothing is published).
    """

    month: pd.Period
    moved: list[tuple[str, int]]
    adopted: list[tuple[str, int]]
    filled: dict[str, float]
    households: int
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def entries(self) -> int:
        return len(self.moved) + len(self.adopted)


def publication(village: Village, month: pd.Period, publicity: pd.DataFrame | None = None) -> Publication:
    """The entries publishing ``month`` moves to 公示中 and the blank 积分 it fills.

    :param village: the typed village (validated: every published entry has a points value).
    :param month: the month published.
    :param publicity: the typed 公示记录 rows (``None`` or empty: none yet).
    """
    eff = effective_entries(village)
    here = in_month(eff["date"], month)
    status = eff["status"]
    pending = here & status.eq(S.ENTRY_PENDING).to_numpy()
    recorded = publicity is not None and any(month_of(m) == month for m in publicity["month"])
    adopted = here & status.eq(S.ENTRY_PUBLIC).to_numpy() & (not recorded)
    chosen = pending | adopted
    blank = chosen & eff["points"].isna().to_numpy() & eff["computed"].notna().to_numpy()
    ids, rows = eff["entry_id"].to_numpy(), eff[ROW].to_numpy()
    counts = status[here].value_counts()
    return Publication(
        month=month,
        moved=[(i, int(r)) for i, r in zip(ids[pending], rows[pending])],
        adopted=[(i, int(r)) for i, r in zip(ids[adopted], rows[adopted])],
        filled={i: float(round(p, 6)) for i, p in zip(ids[blank], eff["computed"].to_numpy()[blank])},
        households=int(eff["hh_id"][chosen].nunique()),
        by_status={str(k): int(v) for k, v in counts.items()},
    )


def publicity_row(pub: Publication, start: _dt.date, end: _dt.date, today: _dt.date) -> dict:
    """The 公示记录 row one publish appends (field -> value)."""
    return {"month": f"{pub.month.year:04d}-{pub.month.month:02d}", "start": start, "end": end,
            "entries": pub.entries, "households": pub.households, "published_on": today}


def with_row(frame: pd.DataFrame | None, spec: S.SheetSpec, row: dict) -> pd.DataFrame:
    """An owned sheet's rows (typed, as read back) with ``row`` appended, in the spec's fields."""
    new = pd.DataFrame([{f: row.get(f) for f in spec.fields}], dtype=object)
    if frame is None or frame.empty:
        return new
    old = frame[spec.fields].astype(object)
    old = old.where(old.notna(), None)
    return pd.concat([old, new], ignore_index=True)


def publicity_of(publicity: pd.DataFrame | None, month: pd.Period) -> list[tuple[_dt.date, _dt.date | None, int]]:
    """The month's 公示记录 rows: (公示开始, 公示截止, Excel row), in sheet order."""
    if publicity is None or publicity.empty:
        return []
    out = []
    for m, start, end, row in zip(publicity["month"], publicity["start"], publicity["end"], publicity[ROW]):
        if month_of(m) == month:
            out.append((_day(start), _day(end), int(row)))
    return out


# -- close -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Closing:
    """What closing a month changes, and what stops it.

    :param month: the month closed.
    :param pending: Excel rows of the month's entries still 待公示 (never published).
    :param public: Excel rows of the month's entries 公示中.
    :param open_objections: the undecided objections to the month's entries: (异议编号, Excel row in
        异议处理, 登记编号).
    :param status: 登记编号 -> new 状态 (only entries whose 状态 changes).
    :param points: 登记编号 -> new 积分 (更正 outcomes whose 积分 differs from 更正后积分).
    :param confirmed: entries that become 已确认 (corrected ones included).
    :param corrected: entries whose points become 更正后积分.
    :param withdrawn: entries that become 已撤销 by an objection's 撤销.
    :param kept: entries of the month already 已确认 before the close (typed by hand), left so.
    """

    month: pd.Period
    pending: list[int]
    public: list[int]
    open_objections: list[tuple[str | None, int, str]]
    status: dict[str, str]
    points: dict[str, float]
    confirmed: int
    corrected: int
    withdrawn: int
    kept: int


def closing(village: Village, month: pd.Period) -> Closing:
    """The outcome of closing ``month``: 更正 -> 积分 := 更正后积分 and 已确认; 撤销 -> 已撤销;
    维持 or no objection -> 已确认. Entries already 已撤销 stay so; an entry already 已确认 (by hand)
    still takes a decided 撤销 or 更正, so the register shows what counts."""
    eff = effective_entries(village)
    here = in_month(eff["date"], month)
    status = eff["status"].to_numpy(dtype=object)
    rows, ids = eff[ROW].to_numpy(), eff["entry_id"].to_numpy()
    pending = here & (status == S.ENTRY_PENDING)
    public = here & (status == S.ENTRY_PUBLIC)
    confirmed = here & (status == S.ENTRY_CONFIRMED)
    obj_withdraw = eff["withdrawn"].to_numpy() & (status != S.ENTRY_WITHDRAWN)  # by an objection's 撤销
    corrected = eff["corrected"].to_numpy() & ~obj_withdraw
    live = public | confirmed
    to_withdraw = live & obj_withdraw
    to_confirm = public & ~obj_withdraw
    new_status = {i: S.ENTRY_WITHDRAWN for i in ids[to_withdraw]} | {i: S.ENTRY_CONFIRMED for i in ids[to_confirm]}
    fix = live & corrected & ~obj_withdraw
    eff_pts, typed = eff["effective"].to_numpy(dtype="float64"), eff["points"].to_numpy(dtype="float64")
    changes = fix & ~np.isclose(np.nan_to_num(typed, nan=np.inf), eff_pts)
    new_points = {i: float(round(p, 6)) for i, p in zip(ids[changes], eff_pts[changes])}

    obj = village["objections"]
    # as ``ledger.open_months``: an objection to an entry withdrawn already keeps nothing open
    obj = obj[obj["result"].isna() & obj["entry_id"].isin(set(ids[here & ~eff["withdrawn"].to_numpy()]))]
    return Closing(
        month=month,
        pending=[int(r) for r in rows[pending]],
        public=[int(r) for r in rows[public]],
        open_objections=[(o, int(r), e) for o, r, e in zip(obj["objection_id"], obj[ROW], obj["entry_id"])],
        status=new_status,
        points=new_points,
        confirmed=int(to_confirm.sum()),
        corrected=int(fix.sum()),
        withdrawn=int(to_withdraw.sum()),
        kept=int((confirmed & ~to_withdraw).sum()),
    )


def with_changes(village: Village, status: dict[str, str], points: dict[str, float]) -> Village:
    """The village as it will be once the patches of 状态 and 积分 are written (a new Village:
    its derived facts are worked out afresh)."""
    entries = village["entries"]
    new = entries.copy()
    if status:
        new["status"] = entries["entry_id"].map(status).where(entries["entry_id"].isin(status.keys()),
                                                              entries["status"])
    if points:
        mapped = entries["entry_id"].map(points).astype("float64")
        new["points"] = mapped.where(entries["entry_id"].isin(points.keys()), entries["points"])
    tables = dict(village.tables) | {"entries": new}
    return Village(village.settings, tables, village.header_rows, village.settings_rows)
