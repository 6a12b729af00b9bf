"""The supervisory group's report (监督报告) over a month or a year.

Pure: built from a typed ``Village``. What the notice asks the 监督管理小组 to watch:

- per scorer (评议人; a list of several names counts for each of them): entries, points given
  (total, average), rewards vs deductions, how often their entries drew objections and how those
  ended (维持 / 更正 / 撤销 / 待处理);
- households (状态 正常) not scored for three months or more, January .. the report's last month;
- rewards against deductions (奖为主、罚为辅: the report says so when deductions outweigh);
- deductions without 证明材料;
- 回避 violations: a scorer scoring their own household (their 小组成员.户号 is the entry's 户号,
  or they are the household's 户主);
- changes to sealed months (已封账月份的改动), given by the caller (``core.seal.check_seals``).

Entries counted: the period's dated entries. Withdrawn entries (撤销 by objection or 状态 已撤销)
count as entries scored and in the objection figures, but give no points.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from .clean import ROW, restore_lost_zeros
from .names import split_names
from .village import Village, effective_entries, objection_outcome

#: A household not scored for this many months or more is listed.
UNSCORED_MONTHS = 3


@dataclass(frozen=True)
class Period:
    """The report's period: ``first`` .. ``last`` month (a month, or January .. a month of the year)."""

    first: pd.Period
    last: pd.Period
    label: str  # 2026年3月 / 2026年度（1—11月）

    @classmethod
    def month(cls, month: pd.Period) -> "Period":
        return cls(month, month, f"{month.year}年{month.month}月")

    @classmethod
    def year(cls, year: int, last_month: int = 12) -> "Period":
        span = "" if last_month == 12 else ("（1月）" if last_month == 1 else f"（1—{last_month}月）")
        return cls(pd.Period(f"{year}-01", "M"), pd.Period(f"{year}-{last_month:02d}", "M"), f"{year}年度{span}")


@dataclass(frozen=True)
class SupervisionReport:
    """The report as plain data (``as_dict`` for templates and JSON)."""

    place: dict
    period: Period
    entries: int
    scorers: list[dict] = field(default_factory=list)
    unscored: list[dict] = field(default_factory=list)
    balance: dict = field(default_factory=dict)
    no_evidence: list[dict] = field(default_factory=list)
    recusal: list[dict] = field(default_factory=list)
    sealed_changes: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "place": dict(self.place), "period": self.period.label,
            "first_month": _label(self.period.first), "last_month": _label(self.period.last),
            "entries": self.entries, "scorers": self.scorers, "unscored": self.unscored,
            "balance": self.balance, "no_evidence": self.no_evidence, "recusal": self.recusal,
            "sealed_changes": self.sealed_changes, "unscored_months": UNSCORED_MONTHS,
        }


def _label(p: pd.Period) -> str:
    return f"{p.year:04d}-{p.month:02d}"


def _num(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    value = round(float(value), 2) + 0.0
    return int(value) if value.is_integer() else value


def supervision_report(village: Village, period: Period, *, sealed_changes: Iterable = ()) -> SupervisionReport:
    """The 监督报告 of ``period``.

    :param village: the typed village (it may hold errors: the report is read-only and a 回避
        violation is itself an error of the workbook).
    :param period: the months reported on.
    :param sealed_changes: changes to sealed months (``core.seal.check_seals``'s items: dicts or
        dataclasses); rendered as given, in section 已封账月份的改动.
    """
    eff = effective_entries(village)
    dated = eff[eff["date"].notna()]
    months = dated["date"].dt.to_period("M")
    inside = dated[(months >= period.first) & (months <= period.last)]
    live = inside[~inside["withdrawn"] & inside["effective"].notna()]
    return SupervisionReport(
        place={k: village.settings.get(k) for k in ("district", "township", "village", "year")},
        period=period,
        entries=len(inside),
        scorers=_scorer_rows(village, inside),
        unscored=_unscored(village, dated, period),
        balance=_balance(live),
        no_evidence=_no_evidence(village, live),
        recusal=_recusal(village, inside),
        sealed_changes=[_change(c) for c in sealed_changes],
    )


def _known_names(village: Village) -> set:
    return set(village["members"]["name"].dropna())


def _by_scorer(village: Village, entries: pd.DataFrame) -> pd.DataFrame:
    """One row per (entry, scorer): the entries' columns plus ``scorer`` (split per distinct list)."""
    known = _known_names(village)
    lists = entries["scorers"].dropna().unique()
    names = {combo: split_names(combo, known) for combo in lists}
    pairs = entries.assign(scorer=entries["scorers"].map(names)).explode("scorer")
    return pairs[pairs["scorer"].notna()].reset_index(drop=True)


def _scorer_rows(village: Village, inside: pd.DataFrame) -> list[dict]:
    """Per scorer: 登记条数, 加分/扣分 entries and points, total, average, objections and outcomes."""
    if inside.empty:
        return []
    outcome = objection_outcome(village["objections"]).set_index("entry_id")
    pairs = _by_scorer(village, inside)
    live = ~pairs["withdrawn"] & pairs["effective"].notna()
    pts = pairs["effective"].where(live, 0.0)
    result = pairs["entry_id"].map(outcome["result"])
    still_open = pairs["entry_id"].map(outcome["open"]).fillna(False).astype(bool)
    frame = pd.DataFrame({
        "scorer": pairs["scorer"],
        "entries": 1,
        "scored": live.astype(int),
        "rewards": (live & (pts > 0)).astype(int),
        "reward_points": pts.clip(lower=0),
        "deductions": (live & (pts < 0)).astype(int),
        "deduction_points": pts.clip(upper=0),
        "total": pts,
        "objected": pairs["entry_id"].isin(outcome.index).astype(int),
        "kept": (result.eq(S.OBJ_KEEP) & ~still_open).astype(int),
        "corrected": (result.eq(S.OBJ_CORRECT) & ~still_open).astype(int),
        "withdrawn": (result.eq(S.OBJ_WITHDRAW) & ~still_open).astype(int),
        "open": still_open.astype(int),
    })
    sums = frame.groupby("scorer", sort=False).sum()
    reviewers = set(village["members"].loc[village["members"]["group"].eq(S.GROUP_REVIEW), "name"].dropna())
    out = []
    for name, r in sums.sort_values(["entries", "total"], ascending=False, kind="stable").iterrows():
        out.append({
            "scorer": name, "member": name in reviewers, "entries": int(r["entries"]),
            "rewards": int(r["rewards"]), "reward_points": _num(r["reward_points"]),
            "deductions": int(r["deductions"]), "deduction_points": _num(r["deduction_points"]),
            "total": _num(r["total"]), "average": _num(r["total"] / r["scored"]) if r["scored"] else None,
            "objected": int(r["objected"]),
            "objection_rate": _num(100.0 * r["objected"] / r["entries"]),
            "kept": int(r["kept"]), "corrected": int(r["corrected"]), "withdrawn": int(r["withdrawn"]),
            "open": int(r["open"]),
        })
    return out


def _unscored(village: Village, dated: pd.DataFrame, period: Period) -> list[dict]:
    """正常 households with no entry (withdrawn ones aside) for ``UNSCORED_MONTHS`` months or more,
    counted from January of the year (or the month after their last entry) to the period's end."""
    hh = village["households"]
    hh = hh[hh["hh_id"].notna() & hh["status"].eq(S.HH_ACTIVE)].drop_duplicates("hh_id")
    end = period.last
    start = pd.Period(f"{end.year}-01", "M")
    scored = dated[~dated["withdrawn"]]
    months = scored["date"].dt.to_period("M")
    scored = scored[(months >= start) & (months <= end)]
    last = scored.groupby("hh_id")["date"].max()
    last_day = hh["hh_id"].map(last)
    since = last_day.dt.to_period("M")
    first_gap = since.map(lambda p: p + 1 if pd.notna(p) else start)
    gap = first_gap.map(lambda p: (end - p).n + 1)
    flagged = hh.assign(last=last_day, gap=gap)[gap >= UNSCORED_MONTHS]
    flagged = flagged.sort_values(["gap", "hh_id"], ascending=[False, True], kind="stable")
    return [{"hh_id": r.hh_id, "head": r.head, "group": r.group,
             "last": pd.Timestamp(r.last).date().isoformat() if pd.notna(r.last) else None,
             "months": int(r.gap)} for r in flagged.itertuples(index=False)]


def _balance(live: pd.DataFrame) -> dict:
    """Rewards against deductions (entries and points) and whether rewards dominate."""
    pts = live["effective"]
    rewards, deductions = pts[pts > 0], pts[pts < 0]
    reward_points, deduction_points = float(rewards.sum()), float(-deductions.sum())
    ratio = reward_points / deduction_points if deduction_points else None
    return {
        "rewards": int(len(rewards)), "reward_points": _num(reward_points),
        "deductions": int(len(deductions)), "deduction_points": _num(deduction_points),
        "ratio": None if ratio is None else round(ratio, 2),
        "rewards_dominate": reward_points >= deduction_points and len(rewards) >= len(deductions),
    }


def _entry_fields(village: Village, rows: pd.DataFrame) -> pd.DataFrame:
    registry = village["households"].drop_duplicates("hh_id").set_index("hh_id")["head"]
    return rows.assign(registered_head=rows["hh_id"].map(registry), excel_row=rows[ROW])


def _no_evidence(village: Village, live: pd.DataFrame) -> list[dict]:
    """Deductions (扣分项目, or negative points) that name no 证明材料."""
    bare = live[(live["kind"].eq(S.KIND_DEDUCT) | (live["effective"] < 0)) & live["evidence"].isna()]
    bare = _entry_fields(village, bare).sort_values(["date", ROW], kind="stable")
    return [{"entry_id": r.entry_id, "row": int(r.excel_row), "date": pd.Timestamp(r.date).date().isoformat(),
             "hh_id": r.hh_id, "head": r.registered_head if isinstance(r.registered_head, str) else r.head,
             "item": r.catalogue_name if isinstance(r.catalogue_name, str) else r.item_name,
             "points": _num(r.effective), "scorers": r.scorers}
            for r in bare.itertuples(index=False)]


def _recusal(village: Village, inside: pd.DataFrame) -> list[dict]:
    """Entries a scorer made for their own household: the scorer's 小组成员.户号 is the entry's
    户号 (「213」 typed for 「0213」 counts), or the scorer is the household's 户主."""
    if inside.empty:
        return []
    members = village["members"][village["members"]["name"].notna()]
    member_hh = restore_lost_zeros(members["hh_id"], village["households"]["hh_id"])
    own_hh = pd.MultiIndex.from_arrays([members["name"], member_hh])
    pairs = _entry_fields(village, _by_scorer(village, inside))
    as_member = pd.Series(pd.MultiIndex.from_arrays([pairs["scorer"], pairs["hh_id"]]).isin(own_hh),
                          index=pairs.index, dtype=bool) & pairs["hh_id"].notna()
    as_head = pairs["scorer"].eq(pairs["registered_head"])
    pairs = pairs.assign(as_member=as_member, as_head=as_head)
    hit = pairs[as_member | as_head]
    hit = hit.sort_values(["date", ROW], kind="stable")
    out = []
    for r in hit.itertuples(index=False):
        why = "评议人是本户户主" if r.as_head else f"评议人在「{S.MEMBERS.name}」中登记的户号就是本户"
        out.append({"entry_id": r.entry_id, "row": int(r.excel_row),
                    "date": pd.Timestamp(r.date).date().isoformat(), "hh_id": r.hh_id,
                    "head": r.registered_head if isinstance(r.registered_head, str) else r.head,
                    "scorer": r.scorer, "points": _num(r.effective), "reason": why})
    return out


# --- 已封账月份的改动 (hook for core.seal.check_seals) ------------------------------------------
#: The fields a sealed-month change is shown with, in order, and the names it may carry them
#: under (H1b's ``SealChange``: month, kind 修改/删除/新增/链断开/台账不符, 登记编号, field, sealed
#: value, current value, sheet row).
CHANGE_FIELDS = (
    ("month", ("month", "月份")),
    ("kind", ("kind", "类型")),
    ("entry_id", ("entry_id", "登记编号")),
    ("field", ("field", "column", "字段")),
    ("sealed", ("sealed", "sealed_value", "before", "封账时")),
    ("current", ("current", "current_value", "after", "现在")),
    ("row", ("row", "sheet_row", "行号")),
)


def _change(change) -> dict:
    """One sealed-month change as a dict of ``CHANGE_FIELDS`` (missing ones blank), as the
    supervisory group reads it: the column by its header (积分, not ``points``), the sheet by
    its name (``sheet``), numbers as a clerk writes them (2, not 2.0), a ledger row by its 户号."""
    if dataclasses.is_dataclass(change):
        change = dataclasses.asdict(change)
    elif not isinstance(change, dict):
        change = {k: getattr(change, k) for k in dir(change) if not k.startswith("_")}
    out = {}
    for key, names in CHANGE_FIELDS:
        value = next((change[n] for n in names if change.get(n) is not None), None)
        out[key] = "" if value is None else value
    spec = S.BY_KEY.get(str(change.get("sheet") or ""))
    out["sheet"] = spec.name if spec is not None else str(change.get("sheet") or "")
    if spec is not None and out["field"] in spec.fields:
        out["field"] = spec.header_of(out["field"])
    for key in ("sealed", "current"):
        value = out[key]
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            out[key] = _num(value)
    if not out["entry_id"] and change.get("hh_id"):
        out["entry_id"] = f"户号 {change['hh_id']}"
    return out
