"""The mistakes clerks really make, planted in a copy of a clean demo village.

Each ``Mistake`` knows its sheet, row, column and the rule numbers validation must report
there, so a test (and the demo) can check that every one is found, and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S
from . import people
from .village import NOTICE_DAY, effective_points


@dataclass(frozen=True)
class Mistake:
    """One planted mistake and the findings it must produce.

    :param sheet: sheet key (``"entries"`` ...).
    :param row: the Excel row the clerk sees (header on row 1, as ``build_workbook`` writes).
    :param column: the field whose cell is wrong.
    :param rules: the rule numbers validation must report on that row.
    :param text: what the clerk did, in Chinese.
    """

    sheet: str
    row: int
    column: str
    rules: tuple[str, ...]
    text: str

    @property
    def sheet_name(self) -> str:
        return S.sheet(self.sheet).name

    def expected(self) -> set[tuple[str, int, str]]:
        """``(sheet name, row, rule)`` of every finding this mistake must produce."""
        return {(self.sheet_name, self.row, rule) for rule in self.rules}


def plant_mistakes(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """A copy of a clean demo village with the mistakes a clerk really makes.

    :param tables: frames by sheet key, as ``generate_village`` returns them (not changed).
    :returns: the changed copy and one Chinese description per mistake.
    """
    planted, mistakes = planted_mistakes(tables)
    return planted, [m.text for m in mistakes]


def planted_mistakes(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[Mistake]]:
    """Like ``plant_mistakes`` but returns each mistake with its sheet, row and expected rule numbers.

    The copy is the village as its clerk typed it, before the monthly cycle (every entry
    待公示: ``publish`` refuses it while these mistakes stand). Every mistake is planted where it
    cannot set off another rule (on an entry of the last month, which no balance or cap depends
    on, or on an appended row), so the
    findings of the planted book are exactly the union of ``Mistake.expected()``. A mistake whose
    target the village lacks is left out.
    """
    t = {k: v.copy() for k, v in tables.items()}
    ent, ind, hh, mem, obj, ex = (t[k] for k in ("entries", "indicators", "households", "members",
                                                  "objections", "exchanges"))
    for col in ("qty", "source", "hh_id", "scorers", "points"):
        ent[col] = ent[col].astype(object)
    rng = np.random.default_rng(len(ent) * 7919 + len(hh))  # deterministic for a given village
    out: list[Mistake] = []
    used: set[int] = set()

    def row(i) -> int:
        return int(i) + 2

    year = int(ind["valid_from"].min().year)
    month = ent["date"].dt.month
    last_month = int(month.max())
    objected = ent["entry_id"].isin(obj["entry_id"])
    last = ent.index[(month == last_month) & ent["status"].eq(S.ENTRY_PENDING) & ~objected]

    def take(candidates) -> int | None:
        for i in candidates:
            if int(i) not in used:
                used.add(int(i))
                return int(i)
        return None

    # 1. 积分 typed with the item's old value after the village changed it (E-ENT-07).
    changed = ind[ind["code"].duplicated(keep=False)].sort_values("valid_from")
    if len(changed) >= 2:
        code, old, new = changed["code"].iloc[-1], changed.iloc[-2], changed.iloc[-1]
        i = take(last[(ent.loc[last, "code"] == code) & (ent.loc[last, "date"] >= new["valid_from"])])
        if i is not None:
            q = ent.at[i, "qty"]
            q = 1.0 if pd.isna(q) else float(q)
            ent.at[i, "points"] = q * float(old["points"])
            since = f"{new['valid_from'].month} 月 {new['valid_from'].day} 日"
            out.append(Mistake("entries", row(i), "points", ("E-ENT-07",),
                               f"积分登记第 {row(i)} 行：「{new['name']}」自 {since}起已调为 "
                               f"{new['points']:g} 分，却仍按旧分值填了 {q * float(old['points']):g} 分"))
    # 2. 数量 typed with a word (E-FMT-NUMBER): "2次".
    cand = last[ent.loc[last, "points"].isna() & ent.loc[last, "qty"].notna()]
    i = take(sorted(cand, key=lambda j: -float(ent.at[j, "qty"])))
    if i is not None:
        shown = f"{int(float(ent.at[i, 'qty']))}次"
        ent.at[i, "qty"] = shown
        out.append(Mistake("entries", row(i), "qty", ("E-FMT-NUMBER",),
                           f"积分登记第 {row(i)} 行：数量写成了「{shown}」（带了文字，不是数字）"))
    # 3. 户号 lost its leading zeros (E-ENT-02): "0012" became "12".
    i = take([j for j in last if str(ent.at[j, "hh_id"]).startswith("0")])
    if i is not None:
        before = ent.at[i, "hh_id"]
        ent.at[i, "hh_id"] = before.lstrip("0")
        out.append(Mistake("entries", row(i), "hh_id", ("E-ENT-02",),
                           f"积分登记第 {row(i)} 行：户号「{before}」被 Excel 当成数字，前面的 0 丢了，成了「{before.lstrip('0')}」"))
    # 4. Last year's year typed in a date (E-ENT-05; before the catalogue's start also E-ENT-04).
    i = take(last)
    if i is not None:
        d = ent.at[i, "date"]
        wrong = d.replace(year=d.year - 1)
        ent.at[i, "date"] = wrong
        rules = ("E-ENT-05",) + (("E-ENT-04",) if wrong < ind["valid_from"].min() else ())
        out.append(Mistake("entries", row(i), "date", rules,
                           f"积分登记第 {row(i)} 行：日期年份顺手写成了去年（{wrong:%Y-%m-%d}），不在 {year} 年度内"))
    # 5. 来源 not from the list (E-CHOICE).
    i = take(last) if len(last) > len(used) else take(rng.permutation(ent.index))
    if i is not None:
        ent.at[i, "source"] = "村民举报"
        out.append(Mistake("entries", row(i), "source", ("E-CHOICE",),
                           f"积分登记第 {row(i)} 行：来源写成「村民举报」，不是下拉列表里的（应为「群众反映」）"))
    # 6. A review member scores their own household (E-ENT-11).
    review = mem[mem["group"] == S.GROUP_REVIEW]
    own = ent.index[ent["hh_id"].isin(review["hh_id"]) & ~objected]
    i = take(own)
    if i is not None:
        name = review.loc[review["hh_id"] == ent.at[i, "hh_id"], "name"].iloc[0]
        ent.at[i, "scorers"] = name
        out.append(Mistake("entries", row(i), "scorers", ("E-ENT-11",),
                           f"积分登记第 {row(i)} 行：评议小组成员「{name}」给自己家（户号「{ent.at[i, 'hh_id']}」）评分，没有回避"))
    # 7. A supervisory member scores (E-ENT-10): supervision and scoring must be separate.
    supervise = mem[mem["group"] == S.GROUP_SUPERVISE]
    i = take(rng.permutation(ent.index[~objected]))
    if i is not None and len(supervise):
        name = supervise["name"].iloc[0]
        ent.at[i, "scorers"] = name
        out.append(Mistake("entries", row(i), "scorers", ("E-ENT-10",),
                           f"积分登记第 {row(i)} 行：评议人填了监督管理小组的「{name}」，监督组成员不能评分"))
    # 8. A new deduction item typed with a positive 分值 (E-IND-02), on a row the clerk added.
    new_item = {"code": "KF-11", "kind": S.KIND_DEDUCT, "category": "人居环境", "name": "占道堆放杂物",
                "points": 5.0, "cap_month": 10.0, "cap_year": 30.0, "valid_from": pd.Timestamp(f"{year}-09-01"),
                "valid_to": pd.NaT, "resolution": f"{year}年8月20日村民代表会议表决通过", "note": "新增扣分项目"}
    t["indicators"] = ind = pd.concat([ind, pd.DataFrame([new_item])], ignore_index=True)
    out.append(Mistake("indicators", row(len(ind) - 1), "points", ("E-IND-02",),
                       f"积分指标第 {row(len(ind) - 1)} 行：新增的扣分项目「占道堆放杂物」分值填成了正数 5（应为 -5）"))
    # 9. The same household registered twice (E-HH-01), on a row the clerk added.
    active = hh.index[hh["status"].eq(S.HH_ACTIVE)]
    src = hh.loc[active[int(rng.integers(0, len(active)))]].copy()
    first_row = row(hh.index[hh["hh_id"] == src["hh_id"]][0])
    spouse = people.names(rng, 1, taken=set(hh["head"]), male_share=0.0)[0][0]
    src["head"], src["note"] = spouse, "户主配偶来登记时又登了一次"
    t["households"] = hh2 = pd.concat([hh, src.to_frame().T], ignore_index=True)
    out.append(Mistake("households", row(len(hh2) - 1), "hh_id", ("E-HH-01",),
                       f"住户名册第 {row(len(hh2) - 1)} 行：户号「{src['hh_id']}」重复登记（第 {first_row} 行已有，"
                       f"这次户主写成了「{spouse}」）"))
    # 10. An exchange for more points than the household has (E-EXC-03), on a row the clerk added.
    eff = effective_points(tables["entries"], tables["objections"], tables["indicators"])
    gained = eff["effective"].where(eff["counted"], 0.0).clip(lower=0.0).groupby(eff["hh_id"]).sum()
    ceiling = hh.set_index("hh_id")["carried_available"].fillna(0.0).add(gained, fill_value=0.0)
    ceiling = ceiling[hh.set_index("hh_id")["status"].eq(S.HH_ACTIVE)]
    who = ceiling.sort_values(kind="stable").index[0]
    goods = t["goods"].sort_values("price", ascending=False, kind="stable").iloc[0]
    qty = math.floor(max(ceiling[who], 0.0) / float(goods["price"])) + 1
    width = len(str(ex["exchange_id"].iloc[0])) - 3 if len(ex) else 4
    day = pd.Timestamp(f"{year}-{last_month:02d}-20")
    extra = {"exchange_id": f"DH-{len(ex) + 1:0{width}d}", "date": day, "hh_id": who, "goods_id": goods["goods_id"],
             "qty": float(qty), "points": qty * float(goods["price"]),
             "handler": ex["handler"].iloc[0] if len(ex) else None, "note": None}
    t["exchanges"] = ex2 = pd.concat([ex, pd.DataFrame([extra])], ignore_index=True)
    out.append(Mistake("exchanges", row(len(ex2) - 1), "points", ("E-EXC-03",),
                       f"积分兑换第 {row(len(ex2) - 1)} 行：户号「{who}」兑换 {qty} {goods['unit']}{goods['name']}"
                       f"要 {extra['points']:g} 分，可该户可用积分不够"))
    # 12.-13. Exchanges the clerk added: goods booked at the points of one unit although two were
    # taken (E-EXC-08), and an exchange by a household that has moved away (E-EXC-09). Each by a
    # household whose carried points pay for it, of goods that stay above their alert level.
    t["exchanges"] = ex2 = _added_exchanges(t, ex2, tables, year, last_month, out, row)
    # 14. A receipt whose 捐赠方 was left blank (E-RCV-01).
    rec = t["receipts"] = t["receipts"].copy()
    if len(rec):
        rec["donor"] = rec["donor"].astype(object)
        k = len(rec) - 1
        rec.at[k, "donor"] = None
        out.append(Mistake("receipts", row(k), "donor", ("E-RCV-01",),
                           f"物资入库第 {row(k)} 行：入库「{rec.at[k, 'receipt_id']}」（{rec.at[k, 'funding']}）没填捐赠方"))
    # 11. An objection marked 更正 without the corrected points (E-OBJ-02), on a row the clerk added.
    i = take(last)
    if i is not None:
        width = len(str(obj["objection_id"].iloc[0])) - 3 if len(obj) else 3
        raised = pd.Timestamp(f"{year}-{last_month:02d}-{NOTICE_DAY + 1}")
        extra = {"objection_id": f"YY-{len(obj) + 1:0{width}d}", "entry_id": ent.at[i, "entry_id"],
                 "raised_by": ent.at[i, "head"], "raised_on": raised, "content": "认为分数登记有误",
                 "checked_by": review["name"].iloc[-1], "result": S.OBJ_CORRECT, "corrected_points": np.nan,
                 "resolved_on": raised + pd.Timedelta(days=2), "note": None}
        t["objections"] = obj2 = pd.concat([obj, pd.DataFrame([extra])], ignore_index=True)
        out.append(Mistake("objections", row(len(obj2) - 1), "corrected_points", ("E-OBJ-02",),
                           f"异议处理第 {row(len(obj2) - 1)} 行：处理结果选了“更正”，却没填更正后积分"))
    t["entries"] = ent
    order = {s.key: n for n, s in enumerate(S.SHEETS)}
    out.sort(key=lambda m: (order[m.sheet], m.row))
    return t, out




def _added_exchanges(t: dict, ex: pd.DataFrame, tables: dict, year: int, month: int, out: list[Mistake],
                     row) -> pd.DataFrame:
    """Append the mispriced exchange (E-EXC-08) and the departed household's one (E-EXC-09) to ``ex``
    (which already holds the clerk's other added rows); ``out`` gains their Mistakes."""
    hh, goods = tables["households"], t["goods"]
    if not len(ex) or not len(goods):
        return ex
    spent = ex.groupby("hh_id")["points"].sum()
    left = hh.set_index("hh_id")["carried_available"].fillna(0.0).sub(spent, fill_value=0.0)
    status = hh.set_index("hh_id")["status"]
    rec = t["receipts"]
    end = (rec.groupby("goods_id")["qty"].sum().sub(ex.groupby("goods_id")["qty"].sum(), fill_value=0.0)
           .reindex(goods["goods_id"]).fillna(0.0).to_numpy())
    room = end - goods["alert_level"].fillna(0.0).to_numpy()
    width = len(str(ex["exchange_id"].iloc[0])) - 3
    day = pd.Timestamp(f"{year}-{month:02d}-28")
    added = []

    def add(who, g, qty, points, rules, text):
        i = len(ex) + len(added)
        added.append({"exchange_id": f"DH-{i + 1:0{width}d}", "date": day, "hh_id": who,
                      "goods_id": goods["goods_id"].iloc[g], "qty": float(qty), "points": float(points),
                      "handler": ex["handler"].iloc[0], "note": None})
        out.append(Mistake("exchanges", row(i), rules[1], (rules[0],), f"积分兑换第 {row(i)} 行：{text}"))

    dear = [g for g in np.argsort(-goods["price"].to_numpy(), kind="stable") if room[g] > 2]
    active = left[status.reindex(left.index).eq(S.HH_ACTIVE) & ~left.index.isin(ex["hh_id"].iloc[-1:])]
    if dear:
        g = dear[0]
        price = float(goods["price"].iloc[g])
        rich = active[active >= price]
        if len(rich):
            who = rich.sort_values(ascending=False, kind="stable").index[0]
            add(who, g, 2, price, ("E-EXC-08", "points"),
                f"户号「{who}」兑换 2 {goods['unit'].iloc[g]}{goods['name'].iloc[g]}，消耗积分却只记了一{goods['unit'].iloc[g]}的 "
                f"{price:g} 分（应为 {2 * price:g} 分）")
            left = left.drop(who)
    cheap = [g for g in np.argsort(goods["price"].to_numpy(), kind="stable") if room[g] > 1]
    gone = left[status.reindex(left.index).isin([x for x in S.HOUSEHOLD_STATUS if x != S.HH_ACTIVE])]
    if cheap:
        g = cheap[0]
        price = float(goods["price"].iloc[g])
        able = gone[gone >= price]
        if len(able):
            who = able.index[0]
            add(who, g, 1, price, ("E-EXC-09", "hh_id"),
                f"户号「{who}」已{status[who]}，还给该户记了一次兑换（{goods['name'].iloc[g]}）")
    return pd.concat([ex, pd.DataFrame(added)], ignore_index=True) if added else ex
