"""Award candidates (评优候选) from rules the township can change (SPEC "Use of results": rankings
and thresholds feed 星级文明户, 最美家庭, 最美庭院 and similar selections).

A rule (one row of the township workbook's 评优规则) says, for one honour: which points count
(one 指标类别, or all), the minimum, whether a household must have had no deduction all year,
and how many households each village and the whole township may put forward. Every candidate
carries the rule in words (依据规则), so the officer can read why a household is on the list.

Pure pandas: rules and a consolidated ``Township`` in, frames out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from .clean import ROW, clean_frame
from .problems import Problem, error
from .township import Township, household_points

SPEC = S.AWARD_RULES
FIELDS = SPEC.fields

#: The rules a new township workbook starts with (the officer changes them in 评优规则).
DEFAULT_RULES = (
    (S.AWARD_STAR, None, 60.0, S.NO, 5, None, "全年积分高、表现全面的农户"),
    (S.AWARD_FAMILY, "公德美德", 15.0, S.YES, 3, None, "尊老爱幼、家庭和睦、助人为乐，全年无扣分"),
    (S.AWARD_COURTYARD, "人居环境", 15.0, S.YES, 3, None, "房前屋后整洁、人居环境积分高，全年无扣分"),
)


def _rules_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=FIELDS)
    for f in ("min_points", "per_village", "per_township"):
        frame[f] = pd.to_numeric(frame[f]).astype("float64")
    return frame


def default_award_rules() -> pd.DataFrame:
    """The default rules (fields of ``schema.AWARD_RULES``; quotas as float, NaN = no limit)."""
    return _rules_frame(DEFAULT_RULES)


def _num(value: float) -> str:
    return f"{value:g}"


def rule_text(rule, level: S.Level = S.LEVEL_TOWNSHIP) -> str:
    """A rule in words, as 依据规则 prints it: 「人居环境类积分 ≥ 20，全年无扣分，每村前 3 名」
    (a district's quota: 「全区前 10 名」)."""
    what = f"{rule.category}类积分" if isinstance(rule.category, str) and rule.category else "年度积分"
    parts = [f"{what} ≥ {_num(rule.min_points)}"]
    if rule.no_deduction == S.YES:
        parts.append("全年无扣分")
    if pd.notna(rule.per_village):
        parts.append(f"每村前 {int(rule.per_village)} 名")
    if pd.notna(rule.per_township):
        parts.append(f"{level.whole}前 {int(rule.per_township)} 名")
    if pd.notna(rule.per_village) or pd.notna(rule.per_township):
        parts[-1] += "（同分并列）"
    return "，".join(parts)


def parse_award_rules(raw: pd.DataFrame, level: S.Level = S.LEVEL_TOWNSHIP) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed rules from 评优规则 as read (columns = field names, ``ROW`` = the Excel row), and
    every problem found (sheet, row, column, what is wrong and how to fix it, in Chinese).

    A rule with a problem is left out of the rules returned; the caller refuses the whole
    sheet while it has problems (a candidate list from half the rules would mislead).
    """
    spec = S.level_spec(SPEC, level)  # the headers named in messages: 全镇名额 / 全区名额
    typed, problems = clean_frame(spec, raw)
    problems = list(problems)
    bad_rows = {p.row for p in problems}

    def flag(mask, field: str, message, fix: str) -> None:
        header = spec.header_of(field)
        for row, value in zip(typed.loc[mask, ROW], typed.loc[mask, field]):
            text = message(value) if callable(message) else message
            problems.append(error(spec.name, int(row), header, "", text, fix))
            bad_rows.add(int(row))

    format_cells = {(p.row, p.column) for p in problems}

    def missing(field: str) -> pd.Series:
        header = spec.header_of(field)
        blank = typed[field].isna()
        return blank & ~pd.Series([(r, header) in format_cells for r in typed[ROW]], index=typed.index, dtype=bool)

    flag(missing("award"), "award", "荣誉名称没有填写", "请填写荣誉名称，例如“最美庭院”；不用的规则请整行删除")
    flag(missing("min_points"), "min_points", "最低积分没有填写", "请填写达到该荣誉所需的最低积分，例如 20；不设门槛填 0")
    flag(missing("no_deduction"), "no_deduction", "“全年无扣分”没有填写",
         f"请填写“{S.YES}”（全年有扣分的农户不能入选）或“{S.NO}”")
    flag(typed["no_deduction"].notna() & ~typed["no_deduction"].isin((S.YES, S.NO)), "no_deduction",
         lambda v: f"“全年无扣分”填的是「{v}」", f"请填写“{S.YES}”或“{S.NO}”")
    flag(typed["min_points"] < 0, "min_points", lambda v: f"最低积分「{_num(v)}」是负数",
         "请填写 0 或正数")
    for field in ("per_village", "per_township"):
        v = typed[field]
        flag(v.notna() & ((v < 1) | (v != np.floor(v))), field, lambda x: f"名额「{_num(x)}」不是正整数",
             "请填写正整数，例如 3；不限名额请留空")
    dup = typed["award"].notna() & typed["award"].duplicated(keep="first")
    first_row = typed.drop_duplicates("award").set_index("award")[ROW]
    flag(dup, "award", lambda v: f"荣誉「{v}」已在第 {int(first_row[v])} 行有一条规则",
         "每种荣誉只写一行规则，请删除或合并重复的行")
    rules = typed[~typed[ROW].isin(bad_rows)].drop(columns=ROW).reset_index(drop=True)
    rules["category"] = rules["category"].where(rules["category"].notna(), None)
    problems.sort(key=lambda p: (p.row or 0, FIELDS.index(spec.column_by_header(p.column).field)
                                 if p.column in spec.headers else 99))
    return rules[FIELDS], problems


def award_candidates(t: Township, rules: pd.DataFrame, level: S.Level = S.LEVEL_TOWNSHIP) -> pd.DataFrame:
    """The candidates for each honour of ``rules``: households 正常 whose points in the rule's
    category (all categories when blank) for the year reach its minimum, with no counted deduction
    in the year when it asks so; ranked within their village (ties share the best place), cut to
    the village's quota, then to the township's quota by points (ties at the cut kept).

    :returns: the fields of ``schema.TOWNSHIP_CANDIDATES`` (荣誉, 村, 户号, 户主姓名, 依据积分, 名次,
        依据规则), by honour in the rules' order; 名次 is the place in the township when the rule
        has a township quota (rows by 名次), else in the village (rows by village, then 名次).
    """
    fields = S.TOWNSHIP_CANDIDATES.fields
    hp = household_points(t)
    by_category = t.points.set_index(["village", "hh_id", "category"])["points"]
    key = pd.MultiIndex.from_frame(hp[["village", "hh_id"]])
    out = []
    for rule in rules.itertuples(index=False):
        if isinstance(rule.category, str) and rule.category:
            sub = by_category.xs(rule.category, level="category") if rule.category in \
                by_category.index.get_level_values("category") else pd.Series(dtype="float64")
            basis = sub.reindex(key, fill_value=0.0).to_numpy(dtype="float64")
        else:
            basis = hp["year_points"].to_numpy(dtype="float64")
        c = hp.assign(points=np.round(basis, 6))
        ok = c["points"] >= rule.min_points
        if rule.no_deduction == S.YES:
            ok &= c["deductions"].eq(0)
        c = c[ok & (c["points"] > 0)]
        c = c.assign(rank=c.groupby("village")["points"].rank(method="min", ascending=False).astype("int64"))
        if pd.notna(rule.per_village):
            c = c[c["rank"] <= rule.per_village]
        order = c["village"].map({v: i for i, v in enumerate(t.names)})
        if pd.notna(rule.per_township):
            # a township quota: 名次 is the place in the township
            c = c.assign(rank=c["points"].rank(method="min", ascending=False).astype("int64"))
            c = c[c["rank"] <= rule.per_township].assign(_order=0)
        else:
            c = c.assign(_order=order)
        c = c.sort_values(["_order", "rank", "hh_id"], kind="stable")
        text = rule_text(rule, level)
        if c.empty:  # said, not left out: the officer sees the honour had no candidate, and why
            known = isinstance(rule.category, str) and rule.category and not (t.points["category"] == rule.category).any()
            why = f"本年各村都没有“{rule.category}”类的已确认积分，请核对指标类别" if known else "没有符合条件的农户"
            c = pd.DataFrame({f: [None] for f in fields}).assign(rule=f"{text}——{why}")
        out.append(c.assign(award=rule.award, rule=c["rule"] if "rule" in c.columns else text))
    if not out:
        return pd.DataFrame({f: pd.Series(dtype=object) for f in fields})
    return pd.concat(out, ignore_index=True)[fields]
