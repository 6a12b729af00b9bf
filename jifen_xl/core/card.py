"""A household's points card (积分卡): its entries, monthly totals, lifetime and spendable points.

Pure: built from a typed ``Village``. The figures are the ledger's (``core.ledger.compute_ledger``),
never computed a second time here:

- 累计积分 = 上年累计积分 + the household's confirmed entries of the year (exchanges never lower it);
- 可用积分 = 上年可用积分 + confirmed entries − 消耗积分 of its exchanges;
- 村内排名 = the household's rank by 累计积分 in the card's last month.

The card runs through the latest month of the year holding a confirmed entry or an exchange
(at least the last settled month), so every exchange made lowers the balance shown; entries
still 待公示/公示中 or under an open objection are listed with their status and do not count.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import JifenError
from .clean import ROW
from .ledger import compute_ledger, last_settled_month
from .village import Village, counted_entries, effective_entries


@dataclass(frozen=True)
class Card:
    """One household's card, as plain data for printing (``as_dict``) and for tests.

    :param household: 户号, 户主姓名, 户籍类型, 村民小组, 状态 (keys: hh_id, head, hukou, group, status).
    :param place: 区县, 镇街, 村, 年度 (keys: district, township, village, year).
    :param through: the card's last month (``YYYY-MM``), or None when the year has nothing yet.
    :param entries: the household's entries of the year, by date (dicts, see ``_entry_rows``).
    :param months: its 月度台账 rows January .. ``through`` (dicts keyed by the ledger's field names).
    :param exchanges: its exchanges of the year (日期, 兑换编号, 商品, 数量, 消耗积分).
    :param sealed_through: the latest month closed and sealed (``YYYY-MM``, 封账记录), or None;
        ``code`` its verification code, as the notices of that month print it.
    """

    household: dict
    place: dict
    through: str | None
    carried_total: float
    carried_available: float
    year_points: float
    cumulative: float
    spent: float
    available: float
    rank: int | None
    households_ranked: int
    entries: list[dict] = field(default_factory=list)
    months: list[dict] = field(default_factory=list)
    exchanges: list[dict] = field(default_factory=list)
    pending: int = 0
    sealed_through: str | None = None
    code: str | None = None

    def as_dict(self) -> dict:
        """Everything a template needs, as a plain dict (no 身份证号, no 联系电话)."""
        return {
            "household": dict(self.household), "place": dict(self.place), "through": self.through,
            "carried_total": _num(self.carried_total), "carried_available": _num(self.carried_available),
            "year_points": _num(self.year_points), "cumulative": _num(self.cumulative),
            "spent": _num(self.spent), "available": _num(self.available), "rank": self.rank,
            "households_ranked": self.households_ranked, "entries": [dict(e) for e in self.entries],
            "months": [dict(m) for m in self.months], "exchanges": [dict(x) for x in self.exchanges],
            "pending": self.pending, "sealed_through": self.sealed_through, "code": self.code,
        }


def _num(value):
    """A figure as a clerk writes it: whole numbers without a decimal point."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    value = round(float(value), 6) + 0.0
    return int(value) if value.is_integer() else value


def find_household(village: Village, text: str) -> pd.Series:
    """The 住户名册 row that ``text`` names: a 户号 (「45」 also finds 「0045」), else a 户主姓名
    that only one household has.

    :raises JifenError: nothing matches (the message suggests the closest 户号 and names) or the
        name is shared by several households.
    """
    hh = village["households"]
    hh = hh[hh["hh_id"].notna()].drop_duplicates("hh_id")
    wanted = "".join(str(text).split())
    hit = hh[hh["hh_id"] == wanted]
    if hit.empty and wanted.isdigit():
        ids = hh["hh_id"].astype(str)
        hit = hh[ids.str.isdigit() & (ids.str.lstrip("0") == wanted.lstrip("0"))]
        hit = hit if len(hit) == 1 else hit.iloc[:0]
    if hit.empty:
        hit = hh[hh["head"] == wanted]
        if len(hit) > 1:
            ids = "、".join(hit["hh_id"].astype(str))
            raise JifenError(f"「{S.HOUSEHOLDS.name}」中户主姓名为「{wanted}」的有 {len(hit)} 户（户号 {ids}），"
                             f"请用户号指定，例如 --household {hit['hh_id'].iloc[0]}。")
    if hit.empty:
        raise JifenError(_not_found(hh, wanted))
    return hit.iloc[0]


def _not_found(hh: pd.DataFrame, wanted: str) -> str:
    ids, heads = [str(i) for i in hh["hh_id"]], [str(h) for h in hh["head"].fillna("")]
    head_of = dict(zip(ids, heads))
    close = difflib.get_close_matches(wanted, ids, n=5, cutoff=0.5)
    by_name = difflib.get_close_matches(wanted, [h for h in heads if h], n=5, cutoff=0.5)
    close += [i for i, h in zip(ids, heads) if h in by_name and i not in close]
    lead = f"「{S.HOUSEHOLDS.name}」中没有户号或户主姓名为「{wanted}」的住户。"
    if close:
        shown = "、".join(f"{i}（{head_of[i]}）" for i in close[:5])
        return lead + f"最接近的是：{shown}。请核对后重新输入户号。"
    return lead + f"请核对「{S.HOUSEHOLDS.name}」中的户号后重新输入。"


def card_through(village: Village) -> pd.Period | None:
    """The card's last month: the latest month of the year with a confirmed entry or an
    exchange, and never before the last settled month."""
    year = village.year
    if year is None:
        return None
    counted = counted_entries(effective_entries(village), ["date"])["date"]
    exch = village["exchanges"]["date"].dropna()
    dates = pd.concat([counted, exch])
    dates = dates[dates.dt.year == year]
    candidates = [last_settled_month(village)]
    if len(dates):
        candidates.append(pd.Period(dates.max(), "M"))
    candidates = [c for c in candidates if c is not None]
    return max(candidates) if candidates else None


def household_card(village: Village, hh_id: str) -> Card:
    """The points card of household ``hh_id`` (a 户号 of 住户名册; see ``find_household``)."""
    hh = village["households"]
    row = hh[hh["hh_id"] == hh_id].iloc[0]
    year = village.year
    through = card_through(village)
    ledger = compute_ledger(village, through) if through is not None else compute_ledger(village, None)
    mine = ledger[ledger["hh_id"] == hh_id]
    months = [{k: (_num(v) if isinstance(v, (int, float, np.number)) else v) for k, v in rec.items()}
              for rec in mine.to_dict("records")]
    carried_total = float(row["carried_total"]) if pd.notna(row["carried_total"]) else 0.0
    carried_available = float(row["carried_available"]) if pd.notna(row["carried_available"]) else 0.0
    if len(mine):
        last = mine.iloc[-1]
        cumulative, spent, available = float(last["cumulative"]), float(last["spent"]), float(last["available"])
        rank = int(last["rank"])
        ranked = int((ledger["month"] == last["month"]).sum())
    else:  # a household that left without activity this year has no ledger rows
        cumulative, spent, available, rank, ranked = carried_total, 0.0, carried_available, None, 0
    entries = _entry_rows(village, hh_id, year)
    exchanges = _exchange_rows(village, hh_id, year)
    return Card(
        household={"hh_id": hh_id, "head": row["head"], "hukou": row["hukou"], "group": row["group"],
                   "status": row["status"]},
        place={k: village.settings.get(k) for k in ("district", "township", "village", "year")},
        through=None if through is None else f"{through.year:04d}-{through.month:02d}",
        carried_total=carried_total, carried_available=carried_available,
        year_points=cumulative - carried_total, cumulative=cumulative, spent=spent, available=available,
        rank=rank, households_ranked=ranked, entries=entries, months=months, exchanges=exchanges,
        pending=sum(1 for e in entries if not e["counted"] and e["status"] in (S.ENTRY_PENDING, S.ENTRY_PUBLIC)),
        **_latest_seal(village),
    )


def _latest_seal(village: Village) -> dict:
    """The latest sealed month (封账记录) and its verification code: the card printed after a
    close carries the code the month's notice carries, so a villager can match the two."""
    seals = village.tables.get("seals")
    if seals is None or seals.empty or "month" not in seals.columns or "code" not in seals.columns:
        return {}
    months = pd.PeriodIndex([pd.Period(m, "M") if pd.notna(m) and str(m).strip() else pd.NaT
                             for m in seals["month"]], freq="M")  # a dozen rows at most
    usable = seals.assign(_m=months)[months.notna() & seals["code"].notna()]
    if usable.empty:
        return {}
    last = usable.sort_values("_m", kind="stable").iloc[-1]
    return {"sealed_through": f"{last['_m'].year:04d}-{last['_m'].month:02d}", "code": str(last["code"])}


def _entry_rows(village: Village, hh_id: str, year: int | None) -> list[dict]:
    """The household's entries of the year, by date: 登记编号, 日期, 指标编码, 指标名称 (the reason),
    积分 (effective), 状态 (已撤销 when an objection withdrew it), 评议人, 异议 (the outcome), counted."""
    eff = effective_entries(village)
    mine = eff[(eff["hh_id"] == hh_id) & eff["date"].notna()]
    if year is not None:
        mine = mine[mine["date"].dt.year == year]
    counted_ids = set(counted_entries(mine, ["entry_id"])["entry_id"])
    objections = village["objections"]
    outcome = _objection_words(objections[objections["entry_id"].isin(mine["entry_id"])])
    mine = mine.sort_values(["date", ROW], kind="stable")
    out = []
    for r in mine.itertuples(index=False):
        name = r.catalogue_name if isinstance(r.catalogue_name, str) else r.item_name
        status = S.ENTRY_WITHDRAWN if r.withdrawn else r.status
        out.append({
            "entry_id": r.entry_id, "date": pd.Timestamp(r.date).date().isoformat(), "code": r.code,
            "item": name, "kind": r.kind, "points": 0 if r.withdrawn else _num(r.effective),
            "status": status, "scorers": r.scorers, "objection": outcome.get(r.entry_id, ""),
            "counted": r.entry_id in counted_ids,
        })
    return out


def _objection_words(objections: pd.DataFrame) -> dict:
    """登记编号 -> how its objections stand, in words (待处理 / 维持 / 更正为 N / 撤销)."""
    from .village import objection_outcome

    out = {}
    for r in objection_outcome(objections).itertuples(index=False):
        if r.open:
            out[r.entry_id] = "异议待处理"
        elif r.result == S.OBJ_CORRECT:
            out[r.entry_id] = f"异议更正为 {_num(r.corrected_points)}"
        elif isinstance(r.result, str):
            out[r.entry_id] = f"异议{r.result}"
    return out


def _exchange_rows(village: Village, hh_id: str, year: int | None) -> list[dict]:
    exch = village["exchanges"]
    mine = exch[(exch["hh_id"] == hh_id) & exch["date"].notna()]
    if year is not None:
        mine = mine[mine["date"].dt.year == year]
    goods = village["goods"].dropna(subset=["goods_id"]).drop_duplicates("goods_id").set_index("goods_id")["name"]
    mine = mine.sort_values(["date", ROW], kind="stable")
    return [{"exchange_id": r.exchange_id, "date": pd.Timestamp(r.date).date().isoformat(),
             "goods": goods.get(r.goods_id, r.goods_id), "qty": _num(r.qty), "points": _num(r.points)}
            for r in mine.itertuples(index=False)]
