"""The year rollover (年度结转): next year's village tables from this year's.

Pure: takes the typed ``Village`` and its ledger (``core.ledger.compute_ledger`` through
December), returns the new year's settings and tables for ``io.template.build_workbook``.

- 住户名册: households with 状态 正常, their 上年累计积分 / 上年可用积分 = the ledger's
  累计积分 / 可用积分 of the year's last month (points never expire); households that moved away
  or were deregistered (迁出 / 注销) are left behind and listed.
- 积分指标: the rows still in force at the year's end (失效日期 blank or after 12-31); expired
  rows are dropped and listed.
- 小组成员: members whose term has not ended by the year's end (任期结束 blank or after 12-31);
  the others are listed, so the clerk enters the new term's members.
- 商品目录: carried as is (the goods the love supermarket offers).
- 基本信息: the same village, 年度 + 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import schema as S
from .village import Village


@dataclass(frozen=True)
class Rollover:
    """Next year's workbook contents and what was left behind.

    :param settings: 基本信息 values by field name (year + 1).
    :param tables: rows by sheet key (field-name columns) for ``build_workbook``.
    :param carried: per household carried: hh_id, head, carried_total, carried_available.
    :param left_behind: households not carried (hh_id, head, status).
    :param dropped_items: catalogue rows not carried (code, name, valid_to).
    :param ended_members: members not carried (name, group, term_to).
    :param through: the ledger month the totals come from (``YYYY-MM``).
    """

    settings: dict
    tables: dict
    carried: list[dict] = field(default_factory=list)
    left_behind: list[dict] = field(default_factory=list)
    dropped_items: list[dict] = field(default_factory=list)
    ended_members: list[dict] = field(default_factory=list)
    through: str = ""


def _day(value) -> str:
    return pd.Timestamp(value).date().isoformat() if pd.notna(value) else ""


def rollover(village: Village, ledger: pd.DataFrame) -> Rollover:
    """Next year's tables.

    :param village: the typed village (validated, every month settled).
    :param ledger: ``compute_ledger(village, <December>)``: its last month gives the totals carried.
    """
    year = int(village.year)
    year_end = pd.Timestamp(f"{year}-12-31")
    settings = {row.field: village.settings.get(row.field) for row in S.SETTINGS.kv_rows}
    settings["year"] = year + 1

    hh = village["households"]
    hh = hh[hh["hh_id"].notna()].drop_duplicates("hh_id")
    active = hh["status"].eq(S.HH_ACTIVE)
    through = ledger["month"].max() if len(ledger) else None
    last = ledger[ledger["month"] == through].set_index("hh_id") if through else None
    through = through or f"{year:04d}-12"  # no household had a ledger row: nothing to carry but zeros
    kept = hh[active].copy()
    if last is not None:
        kept["carried_total"] = kept["hh_id"].map(last["cumulative"])
        kept["carried_available"] = kept["hh_id"].map(last["available"])
    kept["carried_total"] = kept["carried_total"].fillna(0.0)
    kept["carried_available"] = kept["carried_available"].fillna(0.0)

    ind = village["indicators"]
    ind = ind[ind["code"].notna()]
    in_force = ind["valid_to"].isna() | (ind["valid_to"] > year_end)

    members = village["members"]
    members = members[members["name"].notna()]
    serving = members["term_to"].isna() | (members["term_to"] > year_end)

    goods = village["goods"]
    goods = goods[goods["goods_id"].notna()]

    def fields(frame: pd.DataFrame, spec: S.SheetSpec) -> pd.DataFrame:
        return frame[spec.fields].reset_index(drop=True)

    tables = {
        "households": fields(kept, S.HOUSEHOLDS),
        "indicators": fields(ind[in_force], S.INDICATORS),
        "members": fields(members[serving], S.MEMBERS),
        "goods": fields(goods, S.GOODS),
    }
    return Rollover(
        settings=settings, tables=tables,
        carried=[{"hh_id": r.hh_id, "head": r.head, "carried_total": r.carried_total,
                  "carried_available": r.carried_available} for r in kept.itertuples(index=False)],
        left_behind=[{"hh_id": r.hh_id, "head": r.head, "status": r.status}
                     for r in hh[~active].itertuples(index=False)],
        dropped_items=[{"code": r.code, "name": r.name, "valid_to": _day(r.valid_to)}
                       for r in ind[~in_force].itertuples(index=False)],
        ended_members=[{"name": r.name, "group": r.group, "term_to": _day(r.term_to)}
                       for r in members[~serving].itertuples(index=False)],
        through=through,
    )
