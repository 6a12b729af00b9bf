"""The monthly ledger (月度台账), exactly as SPEC defines it.

- 积分 of an entry counts only when 已确认 and not withdrawn; an upheld 更正 replaces it.
- 累计积分(m) = 上年累计积分 + confirmed points of the year up to m. Exchanges never lower it.
- 可用积分(m) = 上年可用积分 + confirmed points up to m − 消耗积分 of exchanges up to m.
- 村内排名: by 累计积分 within the month, ties share the best rank (1, 2, 2, 4).
- Every 正常 household has a row for every month; a household that left appears only
  if it has confirmed points or exchanges in the year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S
from .clean import ROW
from .village import Village, effective_entries, village_counted

FIELDS = S.LEDGER.fields
_KIND_FIELD = {S.KIND_BASIC: "basic", S.KIND_CONTRIB: "contrib", S.KIND_DEDUCT: "deduct"}


def month_label(period: pd.Period) -> str:
    return f"{period.year:04d}-{period.month:02d}"


def month_words(month: pd.Period | str) -> str:
    """A month as a clerk writes it in a sentence: 「2026年4月」 (``month``: a Period or ``YYYY-MM``)."""
    p = pd.Period(month, "M")
    return f"{p.year}年{p.month}月"


def month_span(through: pd.Period | str) -> str:
    """January to ``through`` of its year in one date style: 「2026年1月至12月」 (「2026年1月」 alone)."""
    p = pd.Period(through, "M")
    return f"{p.year}年1月" + (f"至{p.month}月" if p.month > 1 else "")


def unsettled_months(village: Village) -> list[pd.Period]:
    """Months of the year holding an entry still 待公示/公示中 or under an open objection."""
    return [m.month for m in open_months(village)]


@dataclass(frozen=True)
class OpenMonth:
    """What keeps one month from being closed.

    :param month: the month.
    :param pending_rows: Excel rows (积分登记) of its entries still 待公示 or 公示中.
    :param open_objections: (异议编号, Excel row in 异议处理) of the undecided objections to its entries.
    """

    month: pd.Period
    pending_rows: tuple[int, ...]
    open_objections: tuple[tuple[str | None, int], ...]


def open_months(village: Village, through: pd.Period | None = None) -> list[OpenMonth]:
    """The months up to ``through`` (all, when None) that cannot be closed, with what is open
    in each (SPEC: a month cannot be closed while an objection to one of its entries is open,
    nor before its publicity period has ended)."""
    eff = effective_entries(village)
    live = eff["date"].notna().to_numpy() & ~eff["withdrawn"].to_numpy()
    months = eff["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    if village.year is not None:
        live &= months.astype("datetime64[Y]") == np.datetime64(str(village.year), "Y")
    if through is not None:
        live &= months <= np.datetime64(month_label(through), "M")
    pending = live & eff["status"].isin((S.ENTRY_PENDING, S.ENTRY_PUBLIC)).to_numpy()
    obj = village["objections"]
    obj = obj[obj["result"].isna() & obj["entry_id"].notna()]
    # The month of each open objection's entry: look up the few objected ids among the entries.
    month_of: dict = {}
    if len(obj):
        ids = eff["entry_id"]
        objected = np.flatnonzero(live & ids.isin(obj["entry_id"].unique()).to_numpy())
        month_of = dict(zip(ids.to_numpy()[objected], months[objected]))
    known = obj["entry_id"].isin(month_of.keys()).to_numpy()
    obj_months = np.array([month_of[e] for e in obj["entry_id"].to_numpy()[known]], dtype="datetime64[M]")
    obj_ids, obj_rows = obj["objection_id"].to_numpy()[known], obj[ROW].to_numpy()[known]
    rows = eff[ROW].to_numpy()
    out = []
    for m in np.unique(np.concatenate([months[pending], obj_months])):
        here = obj_months == m
        out.append(OpenMonth(pd.Period(m, "M"), tuple(int(r) for r in rows[pending & (months == m)]),
                             tuple((i, int(r)) for i, r in zip(obj_ids[here], obj_rows[here]))))
    return out


def _months(dates: pd.Series, year: int | None) -> list[pd.Period]:
    """The distinct months of ``dates`` (within ``year`` when given), in order."""
    if year is not None:
        dates = dates[dates.dt.year == year]
    months = np.unique(dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]"))
    return [pd.Period(m, "M") for m in months if not np.isnat(m)]


def last_settled_month(village: Village) -> pd.Period | None:
    """The month before the first month still under publicity or objection (SPEC: months close
    in order, and such a month cannot be closed yet); without one, the latest month with
    confirmed entries."""
    months = set(_months(village_counted(village, ["date"])["date"], village.year))
    pending = unsettled_months(village)
    if pending:
        months = {m for m in months if m < pending[0]}
        if not months and village.year is not None and pending[0].month > 1:
            return pending[0] - 1
    return max(months) if months else None


def compute_ledger(village: Village, through: pd.Period | None = None) -> pd.DataFrame:
    """Monthly ledger rows for January .. ``through`` of the village's year.

    :param village: the typed village (validated: the ledger trusts its input).
    :param through: last month to include; default ``last_settled_month``.
    :returns: a frame with the 月度台账 fields, 月份 as ``YYYY-MM``, sorted by month then rank.
    """
    year = village.year
    if through is None:
        through = last_settled_month(village)
    if year is None or through is None:
        return pd.DataFrame({f: pd.Series(dtype=object) for f in FIELDS})
    months = pd.period_range(pd.Period(f"{year}-01", "M"), through, freq="M")

    counted = village_counted(village)
    counted = counted[counted["date"].dt.year == year]
    counted = counted.assign(month=counted["date"].dt.to_period("M"),
                             bucket=counted["kind"].map(_KIND_FIELD))
    counted = counted[counted["month"] <= through]
    pts = counted.groupby(["hh_id", "month", "bucket"])["effective"].sum().unstack("bucket", fill_value=0.0)

    exch = village["exchanges"]
    exch = exch[exch["date"].notna() & exch["hh_id"].notna()]
    exch = exch[exch["date"].dt.year == year].assign(month=lambda f: f["date"].dt.to_period("M"))
    exch = exch[exch["month"] <= through]
    spent = exch.groupby(["hh_id", "month"])["points"].sum()

    hh = village["households"]
    hh = hh[hh["hh_id"].notna()].drop_duplicates("hh_id")
    active = set(counted["hh_id"]) | set(exch["hh_id"])
    hh = hh[hh["status"].eq(S.HH_ACTIVE) | hh["hh_id"].isin(active)]

    grid = pd.MultiIndex.from_product([hh["hh_id"], months], names=["hh_id", "month"])
    frame = pd.DataFrame(index=grid)
    for bucket in ("basic", "contrib", "deduct"):
        col = pts[bucket] if bucket in pts.columns else pd.Series(dtype="float64")
        frame[bucket] = col.reindex(grid, fill_value=0.0).to_numpy(dtype="float64")
    frame["month_spent"] = spent.reindex(grid, fill_value=0.0).to_numpy(dtype="float64")
    frame["month_total"] = frame["basic"] + frame["contrib"] + frame["deduct"]
    frame = frame.reset_index()
    per_hh = frame.groupby("hh_id", sort=False)
    carried = hh.set_index("hh_id")
    carried_total = frame["hh_id"].map(carried["carried_total"]).fillna(0.0).astype("float64")
    carried_avail = frame["hh_id"].map(carried["carried_available"]).fillna(0.0).astype("float64")
    earned = per_hh["month_total"].cumsum()
    frame["spent"] = per_hh["month_spent"].cumsum()
    frame["cumulative"] = carried_total + earned
    frame["available"] = carried_avail + earned - frame["spent"]
    frame["cumulative"] = _tidy(frame["cumulative"])  # rank what the clerk sees: 0.1 + 0.2 ties 0.3
    frame["rank"] = frame.groupby("month")["cumulative"].rank(method="min", ascending=False).astype("int64")
    frame["head"] = frame["hh_id"].map(carried["head"])
    frame["month"] = frame["month"].map(dict(zip(months, map(month_label, months))))  # per month, not per row
    for col in ("basic", "contrib", "deduct", "month_total", "cumulative", "spent", "available"):
        frame[col] = _tidy(frame[col])
    frame = frame.sort_values(["month", "rank", "hh_id"], kind="stable").reset_index(drop=True)
    return frame[FIELDS]


def ledger_month(village: Village, through: pd.Period | None = None) -> pd.DataFrame:
    """The rows of ``compute_ledger(village, through)`` for its last month only (``through``,
    default ``last_settled_month``): the same households, figures and order, without the
    months before (what a township takes of each village: the balances it has reached).

    Sums in the order ``compute_ledger`` does (per month and 积分类型, then month after month), so
    every figure is the very number its ledger shows for that month.

    :returns: a frame with the 月度台账 fields (empty when the village has no ledger month).
    """
    year = village.year
    if through is None:
        through = last_settled_month(village)
    empty = pd.DataFrame({f: pd.Series(dtype=object) for f in FIELDS})
    if year is None or through is None or through < pd.Period(f"{year}-01", "M"):
        return empty
    counted = village_counted(village, ["hh_id", "date", "kind", "effective"])
    counted = counted[counted["date"].dt.year == year]
    counted = counted.assign(month=counted["date"].dt.to_period("M"), bucket=counted["kind"].map(_KIND_FIELD))
    counted = counted[counted["month"] <= through]
    exch = village["exchanges"]
    exch = exch[exch["date"].notna() & exch["hh_id"].notna()]
    exch = exch[exch["date"].dt.year == year].assign(month=lambda f: f["date"].dt.to_period("M"))
    exch = exch[exch["month"] <= through]

    hh = village["households"]
    hh = hh[hh["hh_id"].notna()].drop_duplicates("hh_id")
    active = set(counted["hh_id"]) | set(exch["hh_id"])
    hh = hh[hh["status"].eq(S.HH_ACTIVE) | hh["hh_id"].isin(active)]
    if hh.empty:
        return empty
    ids = pd.Index(hh["hh_id"])
    n = len(ids)

    def sums(frame: pd.DataFrame, by: list[str], values: str) -> pd.Series:
        kept = frame[frame["hh_id"].isin(ids)]
        return kept.groupby(by, sort=True)[values].sum()

    # per household and month: basic + contrib + deduct (each the sum of its entries), as the ledger adds them
    pts = sums(counted[counted["bucket"].notna()], ["hh_id", "month", "bucket"], "effective").unstack("bucket")
    month_total = None
    for bucket in ("basic", "contrib", "deduct"):
        col = pts[bucket].fillna(0.0) if bucket in pts.columns else pd.Series(0.0, index=pts.index)
        month_total = col if month_total is None else month_total + col
    earned = _running_last(month_total, ids)
    spent = _running_last(sums(exch, ["hh_id", "month"], "points"), ids)
    carried = hh.set_index("hh_id")
    carried_total = carried["carried_total"].fillna(0.0).astype("float64").to_numpy()
    carried_avail = carried["carried_available"].fillna(0.0).astype("float64").to_numpy()
    frame = pd.DataFrame({"hh_id": ids.to_numpy(dtype=object), "month": np.full(n, month_label(through), dtype=object)})
    basic = contrib = deduct = np.zeros(n)
    if len(pts):
        last = pts.xs(through, level="month") if through in pts.index.get_level_values("month") else pts.iloc[:0]
        last = last.reindex(ids)
        basic, contrib, deduct = (last[b].fillna(0.0).to_numpy(dtype="float64") if b in last.columns else np.zeros(n)
                                  for b in ("basic", "contrib", "deduct"))
    frame["basic"], frame["contrib"], frame["deduct"] = basic, contrib, deduct
    frame["month_total"] = frame["basic"] + frame["contrib"] + frame["deduct"]
    frame["spent"] = spent
    frame["cumulative"] = carried_total + earned
    frame["available"] = carried_avail + earned - frame["spent"]
    frame["cumulative"] = _tidy(frame["cumulative"])
    frame["rank"] = frame["cumulative"].rank(method="min", ascending=False).astype("int64")
    frame["head"] = carried["head"].to_numpy(dtype=object)
    for col in ("basic", "contrib", "deduct", "month_total", "cumulative", "spent", "available"):
        frame[col] = _tidy(frame[col])
    frame = frame.sort_values(["rank", "hh_id"], kind="stable").reset_index(drop=True)
    return frame[FIELDS]


def _running_last(per_month: pd.Series, ids: pd.Index) -> np.ndarray:
    """Per household (in ``ids``' order), its months' values added up month after month (the
    ledger's running sum at its last month); 0.0 without any."""
    if per_month is None or not len(per_month):
        return np.zeros(len(ids))
    running = per_month.groupby(level="hh_id", sort=False).cumsum()
    last = running.groupby(level="hh_id", sort=False).last()
    return last.reindex(ids).fillna(0.0).to_numpy(dtype="float64")


def _tidy(values: pd.Series) -> pd.Series:
    """Round away float noise (0.1 + 0.2) so a clerk sees 0.3, not 0.30000000000000004."""
    return values.round(6) + 0.0


def ledger_records(ledger: pd.DataFrame) -> list[dict]:
    """The ledger as JSON-ready dicts keyed by the 月度台账 headers; whole numbers as int."""
    out = []
    headers = S.LEDGER.headers
    for row in ledger.itertuples(index=False):
        rec = {}
        for header, value in zip(headers, row):
            if isinstance(value, (float, np.floating)) and float(value).is_integer():
                value = int(value)
            elif isinstance(value, np.integer):
                value = int(value)
            elif isinstance(value, np.floating):
                value = float(value)
            rec[header] = value
        out.append(rec)
    return out
