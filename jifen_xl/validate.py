"""Validation: typed village + schema + domain rules -> Report of every problem at once.

Rules are vectorised over whole frames (a village-year has 60,000 entries) and
only the flagged rows become `Problem`s. Rule numbers: ``E-`` blocks the ledger
(错误), ``W-`` is a 警告. Every problem names the sheet, the Excel row the clerk
sees, the header, what is wrong and how to fix it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from . import schema as S
from .core.catalogue import takes_entitlement
from .core.clean import ROW, restore_lost_zeros
from .core.names import split_names
from .core.problems import Problem, Report, error, warning
from .core.village import Village, counted_entries, effective_entries, unordered_decisions

Msg = Callable[[object], str]


def _flag(frame: pd.DataFrame, mask: pd.Series, spec: S.SheetSpec, field: str | None, rule: str,
          message: Msg | str, fix: Msg | str) -> list[Problem]:
    """One problem per row of ``frame`` where ``mask`` holds."""
    if not mask.any():
        return []
    make = error if rule.startswith("E") else warning
    header = spec.header_of(field) if field else ""
    out = []
    for row in frame[mask].itertuples(index=False):
        r = getattr(row, ROW)
        out.append(make(spec.name, int(r), header, rule,
                        message(row) if callable(message) else message,
                        fix(row) if callable(fix) else fix))
    return out


def _fmt(x) -> str:
    """A number as a clerk writes it: 5, -2, 1.5."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "空"
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def _day(d) -> str:
    return "空" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


# -- generic: required cells and dropdown lists --------------------------------
def check_generic(spec: S.SheetSpec, frame: pd.DataFrame, unparsed: set[tuple[str, int, str]] = frozenset()
                  ) -> list[Problem]:
    """Required cells and dropdown lists. ``unparsed``: (sheet, row, header) of cells that hold a
    value the cleaning could not read — already reported, so not "empty" as well."""
    out: list[Problem] = []
    for col in spec.columns:
        values = frame[col.field]
        if col.required:
            missing = values.isna()
            rows = [r for sheet, r, h in unparsed if sheet == spec.name and h == col.header]
            if rows:
                missing &= ~frame[ROW].isin(rows)
            out += _flag(frame, missing, spec, col.field, "E-REQ",
                         f"「{col.header}」不能为空",
                         f"请填写「{col.header}」" + (f"（{col.hint}）" if col.hint else ""))
        if col.choices:
            bad = values.notna() & ~values.isin(col.choices)
            choices = "、".join(col.choices)
            out += _flag(frame, bad, spec, col.field, "E-CHOICE",
                         lambda r, f=col.field, h=col.header: f"「{getattr(r, f)}」不是有效的{h}",
                         f"请从下拉列表中选择：{choices}")
    return out


# -- 基本信息 -------------------------------------------------------------------
def check_settings(v: Village) -> list[Problem]:
    out = []
    spec = S.SETTINGS
    settings = v.settings

    def where(field_name: str) -> tuple[int | None, str]:
        row = v.settings_rows.get(field_name)
        return (row, spec.header_of("value")) if row else (v.header_rows.get("settings"), spec.header_of("item"))

    kv = {c.field: c.header for c in spec.kv_rows}
    item, value = spec.header_of("item"), spec.header_of("value")
    year = settings.get("year")
    if year is None or not (2000 <= int(year) <= 2100):
        row, col = where("year")
        out.append(error(spec.name, row, col, "E-SET-01", f"「{kv['year']}」未填写或不是四位年份",
                         f"请在「{item}」为“{kv['year']}”的那一行的「{value}」填写年份，例如 2026"))
    days = settings.get("publicity_days")
    if days is not None and not (1 <= days <= 60):
        row, col = where("publicity_days")
        out.append(error(spec.name, row, col, "E-SET-02", f"「{kv['publicity_days']}」{days} 不合理",
                         "请填写 1—60 之间的整数，一般为 7"))
    if not settings.get("village"):
        row, col = where("village")
        out.append(warning(spec.name, row, col, "W-SET-03", f"「{kv['village']}」未填写", "请填写村名，公示和汇总时要用"))
    return out


def _duplicates(frame: pd.DataFrame, spec: S.SheetSpec, field: str, rule: str, fix: str) -> list[Problem]:
    """Every row whose ``field`` repeats an earlier row's, naming that row."""
    dup = frame[field].notna() & frame.duplicated(field, keep="first")
    if not dup.any():
        return []
    first = frame[frame[field].notna()].drop_duplicates(field).set_index(field)[ROW]
    header = spec.header_of(field)
    return _flag(frame, dup, spec, field, rule,
                 lambda r: f"{header}「{getattr(r, field)}」重复（第 {first[getattr(r, field)]} 行已有）", fix)


# -- 住户名册 -------------------------------------------------------------------
def check_households(hh: pd.DataFrame) -> list[Problem]:
    spec = S.HOUSEHOLDS
    out = []
    out += _duplicates(hh, spec, "hh_id", "E-HH-01", "每户只能登记一行；请删除重复行或改正户号")
    over = hh["carried_available"].notna() & hh["carried_total"].notna() & (
        hh["carried_available"] > hh["carried_total"])
    out += _flag(hh, over, spec, "carried_available", "W-HH-02",
                 lambda r: f"上年可用积分 {_fmt(r.carried_available)} 大于上年累计积分 {_fmt(r.carried_total)}",
                 "可用积分 = 累计积分 − 已兑换积分，不会大于累计积分；请核对上年台账")
    return out


# -- 积分指标 -------------------------------------------------------------------
def check_indicators(ind: pd.DataFrame) -> list[Problem]:
    spec = S.INDICATORS
    out = []
    inverted = ind["valid_from"].notna() & ind["valid_to"].notna() & (ind["valid_from"] > ind["valid_to"])
    out += _flag(ind, inverted, spec, "valid_to", "E-IND-03",
                 lambda r: f"生效日期 {_day(r.valid_from)} 晚于失效日期 {_day(r.valid_to)}",
                 "请改正日期：失效日期应不早于生效日期")
    deduct = ind["kind"].eq(S.KIND_DEDUCT)
    reward = ind["kind"].isin((S.KIND_BASIC, S.KIND_CONTRIB))
    out += _flag(ind, deduct & (ind["points"] > 0), spec, "points", "E-IND-02",
                 lambda r: f"{S.KIND_DEDUCT}的分值应为负数，这里是 {_fmt(r.points)}",
                 lambda r: f"请把分值改为 -{_fmt(r.points)}")
    out += _flag(ind, reward & (ind["points"] < 0), spec, "points", "E-IND-02",
                 lambda r: f"{r.kind}的分值应为正数，这里是 {_fmt(r.points)}",
                 f"扣分请放在“{S.KIND_DEDUCT}”下；或把分值改为正数")
    out += _flag(ind, ind["points"].eq(0), spec, "points", "W-IND-05", "分值为 0，登记后不产生积分",
                 "请填写分值，或删除该指标")
    for cap in ("cap_month", "cap_year"):
        out += _flag(ind, ind[cap] <= 0, spec, cap, "E-IND-06",
                     lambda r, c=cap: f"上限 {_fmt(getattr(r, c))} 应为正数（按绝对值计）",
                     "请填写正数，或留空表示不设上限")
    words = ind["name"].fillna("") + " " + ind["category"].fillna("") + " " + ind["note"].fillna("")
    found = words.map(takes_entitlement)
    out += _flag(ind.assign(word=found), deduct & found.notna(), spec, "name", "W-IND-04",
                 lambda r: f"{S.KIND_DEDUCT}「{r.name}」涉及补贴或集体收益（「{r.word}」）",
                 "区委通知规定：惩罚措施不得剥夺农民依法享有的政府补贴和集体经济收益等，请修改该指标")
    out += _overlapping_periods(ind)
    return out


def _overlapping_periods(ind: pd.DataFrame) -> list[Problem]:
    spec = S.INDICATORS
    coded = ind[ind["code"].notna()]
    dup_codes = coded["code"][coded["code"].duplicated(keep=False)].unique()
    out = []
    far_past, far_future = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31")
    for code in dup_codes:
        rows = coded[coded["code"] == code].sort_values(["valid_from", ROW], na_position="first")
        start = rows["valid_from"].fillna(far_past)
        end = rows["valid_to"].fillna(far_future)
        prev_end, prev_row = None, None
        for s, e, r in zip(start, end, rows[ROW]):
            if prev_end is not None and s <= prev_end:
                out.append(error(spec.name, int(r), spec.header_of("code"), "E-IND-01",
                                 f"指标编码「{code}」与第 {prev_row} 行的有效期重叠",
                                 "同一编码可以有多行（用于调整分值），但有效期不能重叠；请设置前一行的失效日期"))
            if prev_end is None or e > prev_end:
                prev_end, prev_row = e, int(r)
    return out


# -- 小组成员 -------------------------------------------------------------------
def _active_on(members: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    return (members["term_from"].isna() | (members["term_from"] <= day)) & (
        members["term_to"].isna() | (members["term_to"] >= day))


def check_members(v: Village, today: _dt.date) -> list[Problem]:
    spec = S.MEMBERS
    members, year = v["members"], v.year
    out = []
    if year is not None:
        ref = min(pd.Timestamp(today), pd.Timestamp(f"{year}-12-31"))
        ref = max(ref, pd.Timestamp(f"{year}-01-01"))
        current = members[_active_on(members, ref) & members["name"].notna()]
        for group in S.GROUPS:
            in_group = current[current["group"] == group]
            names = in_group["name"].unique()
            if not 3 <= len(names) <= 5:
                row = int(in_group[ROW].iloc[0]) if len(in_group) else v.header_rows.get("members")
                out.append(error(spec.name, row, spec.header_of("group"), "E-GRP-01",
                                 f"{group}在 {ref:%Y-%m-%d} 有 {len(names)} 人，应为 3—5 人",
                                 f"按区委通知，{group}由 3—5 人组成；请增减成员或填写任期"))
    both = members[members["name"].notna() & members["group"].isin(S.GROUPS)]
    if len(both):
        m = both.merge(both, on="name", suffixes=("", "_o"))
        m = m[(m["group"] != m["group_o"]) & (m[ROW] > m[f"{ROW}_o"])]
        overlap = (m["term_from"].isna() | m["term_to_o"].isna() | (m["term_from"] <= m["term_to_o"])) & (
            m["term_to"].isna() | m["term_from_o"].isna() | (m["term_to"] >= m["term_from_o"]))
        m = m[overlap]
        out += _flag(m, pd.Series(True, index=m.index), spec, "group", "E-GRP-02",
                     lambda r: f"「{r.name}」同时在积分评议小组和监督管理小组（另见第 {getattr(r, ROW + '_o')} 行）",
                     "评议和监督须由不同的人担任；请从其中一个小组删除此人")
    hh_ids = v["households"]["hh_id"]
    restored = restore_lost_zeros(members["hh_id"], hh_ids)
    out += _flag(members.assign(restored_hh=restored), members["hh_id"].notna() & ~members["hh_id"].isin(hh_ids.dropna()),
                 spec, "hh_id", "E-GRP-03", lambda r: f"户号「{r.hh_id}」不在「{S.HOUSEHOLDS.name}」中，无法核查评议回避",
                 lambda r: f"住户名册中的户号是「{r.restored_hh}」：请把该列设为文本格式后按「{r.restored_hh}」输入" if r.restored_hh != r.hh_id
                 else f"请填写该成员在「{S.HOUSEHOLDS.name}」中的户号；不是本村住户的成员请留空")
    return out


# -- 积分登记 -------------------------------------------------------------------
def check_entries(v: Village, eff: pd.DataFrame) -> list[Problem]:
    spec = S.ENTRIES
    out = []
    hh = v["households"]
    hh_ids = hh["hh_id"].dropna()
    out += _duplicates(eff, spec, "entry_id", "E-ENT-01", "每条登记的编号必须唯一；请改为未用过的编号")
    unknown_hh = eff["hh_id"].notna() & ~eff["hh_id"].isin(hh_ids)
    stripped = {str(h).lstrip("0"): h for h in hh_ids}

    def _hh_fix(r):
        near = stripped.get(str(r.hh_id).lstrip("0"))
        if near is not None:
            return f"住户名册中的户号是「{near}」：请把该列设为文本格式后按「{near}」输入"
        return f"请先在「{S.HOUSEHOLDS.name}」登记该户，或改正户号"

    out += _flag(eff, unknown_hh, spec, "hh_id", "E-ENT-02",
                 lambda r: f"户号「{r.hh_id}」不在「{S.HOUSEHOLDS.name}」中", _hh_fix)
    unknown_code = eff["code"].notna() & ~eff["found_code"]
    out += _flag(eff, unknown_code, spec, "code", "E-ENT-03",
                 lambda r: f"指标编码「{r.code}」不在「{S.INDICATORS.name}」中",
                 f"请从下拉列表选择「{S.INDICATORS.name}」中的编码")
    not_in_force = eff["code"].notna() & eff["found_code"] & eff["date"].notna() & ~eff["in_force"]
    out += _flag(eff, not_in_force, spec, "code", "E-ENT-04",
                 lambda r: f"指标「{r.code}」在 {_day(r.date)} 不在有效期内",
                 "请核对登记日期，或选用当时有效的指标编码")
    year = v.year
    if year is not None:
        outside = eff["date"].notna() & (eff["date"].dt.year != year)
        out += _flag(eff, outside, spec, "date", "E-ENT-05",
                     lambda r: f"日期 {_day(r.date)} 不在 {year} 年度内",
                     f"本工作簿只登记 {year} 年的积分；请改正日期或登记到对应年度的工作簿")
    qty = eff["qty"]
    bad_qty = qty.notna() & ((qty <= 0) | (qty != np.floor(qty.fillna(0))))
    out += _flag(eff, bad_qty, spec, "qty", "E-ENT-06",
                 lambda r: f"数量 {_fmt(r.qty)} 不是正整数",
                 "数量填 1、2、3 这样的正整数；留空按 1 计")
    typed = eff["points"]
    mismatch = (typed.notna() & eff["computed"].notna() & ~eff["corrected"] & ~bad_qty
                & ((typed - eff["computed"]).abs() > 1e-9))
    out += _flag(eff, mismatch, spec, "points", "E-ENT-07",
                 lambda r: f"积分 {_fmt(r.points)} 与 数量×分值 = {_fmt(r.qty if r.qty == r.qty else 1)}×{_fmt(r.value)}"
                           f" = {_fmt(r.computed)} 不符",
                 lambda r: f"请改为 {_fmt(r.computed)}，或清空「{spec.header_of('points')}」由工具计算；如经异议更正，请在「{S.OBJECTIONS.name}」登记")
    heads = hh.drop_duplicates("hh_id").set_index("hh_id")["head"]
    known_head = eff["hh_id"].map(heads)
    head_diff = eff["head"].notna() & known_head.notna() & (eff["head"] != known_head)
    out += _flag(eff, head_diff, spec, "head",
                 "W-ENT-08", lambda r: f"户主姓名「{r.head}」与住户名册中户号「{r.hh_id}」的户主「{heads[r.hh_id]}」不一致",
                 "请核对户号和户主姓名")
    name_diff = eff["item_name"].notna() & eff["catalogue_name"].notna() & (eff["item_name"] != eff["catalogue_name"])
    out += _flag(eff, name_diff, spec, "item_name", "W-ENT-09",
                 lambda r: f"指标名称「{r.item_name}」与积分指标中「{r.code}」的名称「{r.catalogue_name}」不一致",
                 "请核对指标编码和指标名称")
    status = hh.drop_duplicates("hh_id").set_index("hh_id")["status"]
    left = eff["hh_id"].map(status).isin([s for s in S.HOUSEHOLD_STATUS if s != S.HH_ACTIVE])
    out += _flag(eff, left, spec, "hh_id", "W-ENT-14",
                 lambda r: f"户号「{r.hh_id}」在住户名册中的状态为「{status[r.hh_id]}」",
                 "已迁出或注销的户一般不再登记积分；请核对")
    no_proof = eff["kind"].eq(S.KIND_DEDUCT) & eff["evidence"].isna() & ~eff["withdrawn"]
    out += _flag(eff, no_proof, spec, "evidence", "W-ENT-15", "扣分没有填写证明材料",
                 "扣分须有据可查：请注明照片、记录或证人等证明材料")
    open_confirmed = eff["status"].eq(S.ENTRY_CONFIRMED) & eff["objection_open"]
    out += _flag(eff, open_confirmed, spec, "status", "E-ENT-16",
                 lambda r: f"登记「{r.entry_id}」已确认，但「{S.OBJECTIONS.name}」中还有未处理的异议",
                 "请先处理完异议（填写处理结果），再把状态改为已确认")
    out += _scorer_problems(v, eff)
    out += _cap_problems(eff)
    return out


def _scorer_problems(v: Village, eff: pd.DataFrame) -> list[Problem]:
    """评议人 must be review-group members in term on the entry's date, and never score their own household.

    Scorer lists repeat (a few hundred distinct 、-joined lists over 60,000 entries), so the
    work is done per distinct list and per name, on the entries' positions in that group.
    """
    spec = S.ENTRIES
    members = v["members"]
    review = members[members["group"].eq(S.GROUP_REVIEW) & members["name"].notna()]
    known = set(members["name"].dropna())
    review_hh = restore_lost_zeros(review["hh_id"], v["households"]["hh_id"])  # 213 typed for 「0213」
    terms: dict[str, list[tuple]] = {}
    for name, start, end, hh in zip(review["name"], review["term_from"], review["term_to"], review_hh):
        terms.setdefault(name, []).append((start, end, hh))
    dates = eff["date"].to_numpy()
    households = eff["hh_id"].to_numpy()
    rows = eff[ROW].to_numpy()
    header = spec.header_of("scorers")
    found: list[tuple[int, int, str, str]] = []  # (position, order, scorer, message kind)
    dated = eff[["scorers"]][eff["date"].notna()]  # an unreadable date is reported by itself, not as "out of term"
    for combo, positions in dated.groupby("scorers", sort=False).indices.items():
        positions = dated.index.to_numpy()[positions]
        for order, scorer in enumerate(split_names(combo, known)):
            spans = terms.get(scorer)
            if spans is None:
                found += [(int(p), order, scorer, "unknown") for p in positions]
                continue
            when = dates[positions]
            in_term = np.zeros(len(positions), dtype=bool)
            own = np.zeros(len(positions), dtype=bool)
            for start, end, hh in spans:
                ok = np.ones(len(positions), dtype=bool)
                if not pd.isna(start):
                    ok &= when >= np.datetime64(start)
                if not pd.isna(end):
                    ok &= when <= np.datetime64(end)
                in_term |= ok
                if hh is not None:
                    own |= ok & (households[positions] == hh)
            found += [(int(p), order, scorer, "term") for p in positions[~in_term]]
            found += [(int(p), order, scorer, "own") for p in positions[own]]
    out = []
    for pos, _order, scorer, kind in sorted(found):
        row = int(rows[pos])
        if kind == "own":
            out.append(error(spec.name, row, header, "E-ENT-11",
                             f"评议人「{scorer}」为本户（户号「{households[pos]}」）评分，应当回避",
                             "请改由其他评议小组成员评分"))
            continue
        if kind == "term":
            msg = f"评议人「{scorer}」在 {_day(dates[pos])} 不在积分评议小组任期内"
        else:
            msg = f"评议人「{scorer}」不是「{S.MEMBERS.name}」中积分评议小组的成员"
        out.append(error(spec.name, row, header, "E-ENT-10", msg,
                         "评议人须是当时在任的积分评议小组成员；多人用顿号“、”分隔"))
    return out


def _cap_problems(eff: pd.DataFrame) -> list[Problem]:
    """Report the row that first takes a household past an item's monthly or yearly cap."""
    spec = S.ENTRIES
    live = eff[["hh_id", "code", "date", "effective", "cap_month", "cap_year", ROW]][
        ~eff["withdrawn"] & eff["effective"].notna() & eff["date"].notna() & eff["hh_id"].notna()
        & (eff["cap_month"].notna() | eff["cap_year"].notna())]
    if live.empty:
        return []
    live = live.sort_values(["date", ROW], kind="stable").assign(
        absval=lambda f: f["effective"].abs(), month=lambda f: f["date"].dt.to_period("M"))
    out = []
    ind = S.INDICATORS
    for cap, keys, label in (("cap_month", ["hh_id", "code", "month"], ind.header_of("cap_month")),
                             ("cap_year", ["hh_id", "code"], ind.header_of("cap_year"))):
        sub = live[live[cap].notna()]
        if sub.empty:
            continue
        running = sub.groupby(keys, sort=False)["absval"].cumsum()
        before = running - sub["absval"]
        crossing = (running > sub[cap] + 1e-9) & (before <= sub[cap] + 1e-9)
        out += _flag(sub, crossing, spec, "points", "E-ENT-12" if cap == "cap_month" else "E-ENT-13",
                     lambda r, c=cap, lb=label: f"户号「{r.hh_id}」的指标「{r.code}」累计 {_fmt(r.absval + 0)} 分后超过"
                                                f"{lb} {_fmt(getattr(r, c))} 分（从本行起超出）",
                     f"请核对是否重复登记；超出{label}的部分不能计分，请调整数量或撤销本条")
    return out


# -- 异议处理 -------------------------------------------------------------------
def check_objections(obj: pd.DataFrame, entries: pd.DataFrame, eff: pd.DataFrame | None = None) -> list[Problem]:
    spec = S.OBJECTIONS
    out = []
    if eff is not None:
        kind = obj["entry_id"].map(eff.drop_duplicates("entry_id").set_index("entry_id")["kind"])
        pts = obj["corrected_points"]
        wrong = obj["result"].eq(S.OBJ_CORRECT) & pts.notna() & (
            (kind.eq(S.KIND_DEDUCT) & (pts > 0)) | (kind.isin((S.KIND_BASIC, S.KIND_CONTRIB)) & (pts < 0)))
        out += _flag(obj, wrong, spec, "corrected_points", "E-OBJ-05",
                     lambda r: f"更正后积分 {_fmt(r.corrected_points)} 与被更正登记的积分类型正负不符",
                     "扣分项目更正后填负数或 0，加分项目填正数或 0")
    out += _duplicates(obj, spec, "objection_id", "E-OBJ-03", "每条异议的编号必须唯一；请改为未用过的编号")
    unknown = obj["entry_id"].notna() & ~obj["entry_id"].isin(entries["entry_id"].dropna())
    out += _flag(obj, unknown, spec, "entry_id", "E-OBJ-01",
                 lambda r: f"登记编号「{r.entry_id}」不在「{S.ENTRIES.name}」中",
                 "请填写被提出异议的那条登记的编号")
    no_points = obj["result"].eq(S.OBJ_CORRECT) & obj["corrected_points"].isna()
    out += _flag(obj, no_points, spec, "corrected_points", "E-OBJ-02", "处理结果为“更正”，但没有填写更正后积分",
                 "请填写更正后的积分（扣分填负数）")
    unordered = unordered_decisions(obj)
    undated = obj["result"].notna() & obj["resolved_on"].isna() & ~obj[ROW].isin(unordered[ROW])
    out += _flag(obj, undated, spec, "resolved_on", "W-OBJ-04", "已有处理结果，但没有处理日期",
                 "请填写处理日期，便于监督管理小组核查")
    out += _flag(unordered, pd.Series(True, index=unordered.index), spec, "resolved_on", "E-OBJ-06",
                 lambda r: f"登记「{r.entry_id}」有 {len(r.decision_rows)} 个处理结果（第 "
                           f"{'、'.join(map(str, r.decision_rows))} 行），本行没有处理日期，无法确定以哪个为准",
                 "请填写处理日期：同一条登记有多个处理结果时，以处理日期最晚的为准")
    return out


# -- 积分兑换 -------------------------------------------------------------------
def check_exchanges(v: Village, eff: pd.DataFrame) -> list[Problem]:
    spec = S.EXCHANGES
    ex = v["exchanges"]
    out = []
    hh = v["households"]
    unknown = ex["hh_id"].notna() & ~ex["hh_id"].isin(hh["hh_id"].dropna())
    out += _flag(ex, unknown, spec, "hh_id", "E-EXC-01",
                 lambda r: f"户号「{r.hh_id}」不在「{S.HOUSEHOLDS.name}」中", "请改正户号")
    qty = ex["qty"]
    out += _flag(ex, qty.notna() & ((qty <= 0) | (qty != np.floor(qty.fillna(0)))), spec, "qty", "E-EXC-05",
                 lambda r: f"数量 {_fmt(r.qty)} 不是正整数", "兑换数量填 1、2、3 这样的正整数")
    out += _flag(ex, ex["points"].notna() & (ex["points"] <= 0), spec, "points", "E-EXC-06",
                 lambda r: f"消耗积分 {_fmt(r.points)} 应为正数", "填写这次兑换用掉的积分（正数），退货请在备注说明并删除原兑换行")
    goods = v["goods"]["goods_id"].dropna()
    unknown_goods = ex["goods_id"].notna() & ~ex["goods_id"].isin(goods)
    out += _flag(ex, unknown_goods, spec, "goods_id", "E-EXC-02",
                 lambda r: f"商品编码「{r.goods_id}」不在「{S.GOODS.name}」中", "请从下拉列表选择商品编码")
    if v.year is not None:
        outside = ex["date"].notna() & (ex["date"].dt.year != v.year)
        out += _flag(ex, outside, spec, "date", "E-EXC-04",
                     lambda r: f"日期 {_day(r.date)} 不在 {v.year} 年度内", "请改正日期")
    out += _overspent(v, eff, ex)
    return out


def _overspent(v: Village, eff: pd.DataFrame, ex: pd.DataFrame) -> list[Problem]:
    """The exchange that spends points a household does not have (on that day)."""
    ex = ex[ex["hh_id"].notna() & ex["date"].notna() & ex["points"].notna()]
    if ex.empty:
        return []
    earned = counted_entries(eff, ["hh_id", "date", "effective"])
    carried = v["households"].drop_duplicates("hh_id").set_index("hh_id")["carried_available"]
    events = pd.concat([
        pd.DataFrame({"hh_id": earned["hh_id"], "date": earned["date"], "delta": earned["effective"],
                      "order": 0, ROW: 0}),
        pd.DataFrame({"hh_id": ex["hh_id"], "date": ex["date"], "delta": -ex["points"], "order": 1, ROW: ex[ROW]}),
    ], ignore_index=True).sort_values(["hh_id", "date", "order", ROW], kind="stable")
    events["balance"] = events.groupby("hh_id")["delta"].cumsum() + events["hh_id"].map(carried).fillna(0.0)
    neg = events[(events["order"] == 1) & (events["balance"] < -1e-9)]
    neg = neg.drop_duplicates("hh_id")
    return [error(S.EXCHANGES.name, int(getattr(r, ROW)), S.EXCHANGES.header_of("points"), "E-EXC-03",
                  f"户号「{r.hh_id}」兑换后可用积分为 {_fmt(r.balance)}，积分不足",
                  "只能用已确认的积分兑换；请核对兑换数量或日期")
            for r in neg.itertuples(index=False)]


# -- the whole report ------------------------------------------------------------
def validate(village: Village, read_problems: Iterable[Problem] = (), today: _dt.date | None = None) -> Report:
    """Every problem of the village workbook at once.

    :param village: the typed village.
    :param read_problems: problems found while reading and cleaning (formats, formulas).
    :param today: the reference date for "current" group members (default: today).
    """
    today = today or _dt.date.today()
    problems: list[Problem] = list(read_problems)
    unparsed = {(p.sheet, p.row, p.column) for p in problems if p.rule.startswith("E-FMT")}
    problems += check_settings(village)
    for spec in S.SHEETS:
        if spec.owned or spec.key == "settings" or spec.key not in village.tables:
            continue
        problems += check_generic(spec, village[spec.key], unparsed)
    eff = effective_entries(village)
    problems += check_households(village["households"])
    problems += check_indicators(village["indicators"])
    problems += check_members(village, today)
    problems += check_entries(village, eff)
    problems += check_objections(village["objections"], village["entries"], eff)
    problems += check_exchanges(village, eff)
    return Report.of(problems)
