"""One village-year: its catalogue (积分指标), review and supervisory groups (小组成员), a year of
entries (积分登记) and the objections to them (异议处理); ``generate_village`` puts it together
with the register (``people``) and the love supermarket (``market``).

Generation is vectorised with one ``numpy.random.Generator``: 60,000 entries (1,000 households
× 60) and 600,000 entries (10,000 × 60) generate in seconds, so benchmarks use it too.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import schema as S
from ..core.catalogue import default_catalogue
from ..core.clean import ROW, clean_frame
from ..core.village import Village, counted_entries, effective_entries, item_on_date
from . import market, people

#: The demonstration village: 永宁寺村, 中梁镇, 沙坪坝区 (a pilot village named in 沙委农办〔2020〕13号).
DISTRICT, TOWNSHIP, VILLAGE = "沙坪坝区", "中梁镇", "永宁寺村"
#: Entries per household and year when the caller does not ask for a number.
DEFAULT_ENTRIES_PER_HOUSEHOLD = 18
#: Entries of a month are dated on days 1..24; the monthly notice (公示) goes up on this day.
NOTICE_DAY = 25
#: The publicity period's length (基本信息.公示天数 of the demo villages).
PUBLICITY_DAYS = 7


def cycle_days(year: int, month: int, days: int = PUBLICITY_DAYS) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """The demo's monthly cycle for ``month``: the notice goes up on day ``NOTICE_DAY`` (publish
    ``start``), the publicity period ends ``days`` days later (``end``, inclusive: start + days − 1),
    and the month is closed the day after both the period and the month are over (``close``).
    Objections to the month's entries are raised within [start, end] and decided by ``close``."""
    start = pd.Timestamp(year, month, NOTICE_DAY)
    end = start + pd.Timedelta(days=days - 1)
    month_end = start + pd.offsets.MonthEnd(0)
    close = max(end, month_end) + pd.Timedelta(days=1)
    return start, end, close

# --- the village's own catalogue decisions (resolutions numbered after the village) ---
_ADOPTED = "{y}年1月8日村民代表会议表决通过（{v}民代〔{y}〕1号）"
CHANGED_ITEM = "参与村级志愿者服务活动"  # the item whose value the village raised mid-year
_CHANGE_POINTS, _CHANGE_CAP_MONTH, _CHANGE_CAP_YEAR = 5.0, 10.0, 60.0
_CHANGED = "{y}年6月18日村民代表会议表决：自7月1日起由3分调为5分（{v}民代〔{y}〕4号）"
_CHANGED_OLD_NOTE = "{y}年6月30日起停用，改按新分值计分"

# Relative weights of the catalogue items in a year of entries (by item name; default 1.0).
_ITEM_WEIGHT = {
    "参与村级志愿者服务活动": 5.0, "为村发展和治理建言献策": 0.8, "参加技能培训": 1.5, "考取大中专院校": 0.05,
    "不乱倒垃圾": 2.0, "不焚烧秸秆": 1.0, "不散养鸡鸭等家禽": 1.2, "支持人居环境建设": 1.5,
    "清理“蓝棚顶”": 0.3, "清理无人居住废旧房": 0.1, "清理房前屋后杂物堆": 2.0, "清理田间地头废弃物": 1.5,
    "清理管线“蜘蛛网”": 0.3, "开展农村爱国卫生运动": 1.5, "尊老爱幼": 1.5, "家庭和睦": 1.2, "助人为乐": 1.2,
    "遵守单位和行业纪律": 0.3,
    # 基层党建: only party-member households (see _PARTY_CATEGORY)
    "按时参加“三会一课”": 6.0, "按规定足额交纳党费": 6.0, "按时参加村党支部活动": 5.0, "发挥党员先锋模范作用": 2.0,
    # contributions are rare
    "获得区级以上表彰奖励": 0.01, "获得镇街级表彰奖励": 0.03, "获得村级表彰奖励": 0.12, "先进事迹": 0.05,
    "立功表现": 0.01, "服兵役": 0.02,
    # deductions are secondary (奖为主、罚为辅)
    "道德失范": 0.08, "邻里纠纷": 0.3, "恶意上访": 0.02, "子女辍学": 0.01, "参与赌博": 0.08, "乱搭乱建": 0.12,
    "阻碍村集体经济发展": 0.01, "阻碍农村产业发展": 0.01, "阻碍社会事业工作开展": 0.01, "不爱护环境卫生": 0.8,
}
_PARTY_CATEGORY = "基层党建"
_SOURCE_P = {  # 平时发现, 群众反映, 他人报告, 个人申报
    S.KIND_BASIC: (0.55, 0.15, 0.08, 0.22),
    S.KIND_CONTRIB: (0.15, 0.10, 0.35, 0.40),
    S.KIND_DEDUCT: (0.60, 0.30, 0.10, 0.0),
}
_EVIDENCE = {  # item name -> (share of entries with evidence, choices); deductions always have evidence
    "参与村级志愿者服务活动": (0.6, ("志愿服务签到表", "活动照片")),
    "参加技能培训": (0.8, ("培训签到表", "培训结业证书")),
    "考取大中专院校": (1.0, ("录取通知书复印件",)),
    "按时参加“三会一课”": (0.5, ("党支部会议记录",)),
    "按时参加村党支部活动": (0.5, ("党支部活动记录",)),
    "按规定足额交纳党费": (0.5, ("党费收缴登记",)),
    "获得区级以上表彰奖励": (1.0, ("表彰文件复印件",)),
    "获得镇街级表彰奖励": (1.0, ("表彰文件复印件",)),
    "获得村级表彰奖励": (1.0, ("村委会表彰决定",)),
    "先进事迹": (1.0, ("事迹材料及证明人", "镇政府通报")),
    "立功表现": (1.0, ("立功证书复印件",)),
    "服兵役": (1.0, ("入伍通知书复印件",)),
    "清理无人居住废旧房": (1.0, ("清理前后照片",)),
    "清理“蓝棚顶”": (1.0, ("清理前后照片",)),
}
_DEDUCT_EVIDENCE = ("现场照片", "调解记录", "现场照片、整改通知书", "村民证言及调查笔录", "网格员巡查记录")


def generate_village(households: int = 320, seed: int = 2026, year: int = 2026,
                     entries_per_household: float | None = None, plant_mistakes: bool = True,
                     months: int = 12, *, district: str = DISTRICT, township: str = TOWNSHIP,
                     village: str = VILLAGE, settled_months: int = 0) -> tuple[dict, dict[str, pd.DataFrame]]:
    """A deterministic, realistic village-year that validates without errors.

    The same arguments give the same village (frames equal cell for cell); the names of the
    place only change texts (基本信息, resolutions, donors, 身份证 region), never what is drawn.

    :param households: number of households in the register (迁出/注销 ones included).
    :param seed: seed of the ``numpy`` generator; the same seed gives the same village.
    :param year: the workbook's year (基本信息 年度).
    :param entries_per_household: entries per registered household and year (exactly
        ``round(households × entries_per_household)`` entries, spread over the active households);
        default ``DEFAULT_ENTRIES_PER_HOUSEHOLD``.
    :param plant_mistakes: make sure the village holds what ``plant_mistakes`` needs to plant every
        mistake, even when small (entries in the last month, one of them for the item whose value
        changed, entries of the review members' own households). The returned village is clean
        either way; the mistakes themselves are planted by ``plant_mistakes(tables)``.
    :param months: months of the year covered (1–12). Every entry is 待公示 (as the clerk types
        it; a few duplicates the clerk withdrew are 已撤销), ready for the monthly cycle: each
        month's objections are raised within its publicity period (``cycle_days``) and decided by
        its close, except one objection to the last month's entries, still open.
    :param settled_months: months 1..k already settled by hand, as in a workbook kept before the
        village used the toolkit's cycle (their entries 已确认, or 已撤销 where an objection
        withdrew them; no 公示记录, no seal); 0 to ``months`` − 1. Benchmarks use it for a
        village-year whose ledger has months to compute; the demo runs the cycle instead (0).
    :param district: 区县 (基本信息; the 身份证 region of local villagers).
    :param township: 镇街.
    :param village: 村 (also in the resolutions that adopted the catalogue).
    :returns: ``(settings, tables)``: 基本信息 by field name, and frames by sheet key with
        schema field names as columns (dates as ``datetime64``).
    """
    if households < 10:
        raise ValueError("households must be at least 10")
    if not 1 <= months <= 12:
        raise ValueError("months must be 1..12")
    if not 0 <= settled_months < months:
        raise ValueError("settled_months must be 0..months-1")
    per = DEFAULT_ENTRIES_PER_HOUSEHOLD if entries_per_household is None else float(entries_per_household)
    target = int(round(households * per))
    rng = np.random.default_rng(seed)

    hh, party = people.households(rng, households, year, district)
    members = _members(rng, hh, year)
    cat = catalogue(year, village)
    entries = _entries(rng, hh, party, members, cat, year, months, target, plant_mistakes)
    entries, objections = _objections(rng, hh, members, entries, cat, year, months)
    if settled_months:
        entries = _settle_by_hand(entries, objections, settled_months)
    goods = market.goods()
    keeper = market.keeper(hh)
    eff = effective_points(entries, objections, cat)
    exchanges, issued = market.exchanges(rng, hh, eff[eff["counted"]], year, months, keeper)
    receipts = market.receipts(rng, issued, year, months, keeper, market.donors(district, township, village))

    review = members[members["group"] == S.GROUP_REVIEW]
    settings = dict(district=district, township=township, village=village, year=year, publicity_days=PUBLICITY_DAYS,
                    objection_contact=str(review["name"].iloc[0]), phone="023-65481" + f"{rng.integers(100, 999)}")
    tables = {
        "households": hh,
        "indicators": cat,
        "members": members,
        "entries": entries,
        "objections": objections,
        "goods": goods,
        "receipts": receipts,
        "exchanges": exchanges,
    }
    return settings, tables


def _members(rng: np.random.Generator, hh: pd.DataFrame, year: int) -> pd.DataFrame:
    """4 积分评议小组 + 3 监督管理小组 members, each the head of a real household."""
    eligible = np.flatnonzero((hh["status"] == S.HH_ACTIVE).to_numpy() & (hh["hukou"] == S.HUKOU_TYPES[0]).to_numpy())
    pick = rng.choice(eligible, size=7, replace=False)
    rows = []
    t0, t1 = pd.Timestamp(f"{year - 2}-01-01"), pd.Timestamp(f"{year}-12-31")
    for i, idx in enumerate(pick):
        group = S.GROUP_REVIEW if i < 4 else S.GROUP_SUPERVISE
        role = "组长" if i in (0, 4) else "组员"
        if i == 4:
            role = "组长（村监委会主任）"
        rows.append((hh["head"].iloc[idx], hh["hh_id"].iloc[idx], group, role, t0, t1))
    return pd.DataFrame(rows, columns=S.MEMBERS.fields)


def catalogue(year: int, village: str = VILLAGE) -> pd.DataFrame:
    """The default catalogue as ``village`` adopted it, plus one value changed mid-year by a later
    resolution."""
    cat = default_catalogue(year)
    cat["valid_from"] = pd.to_datetime(cat["valid_from"])
    cat["valid_to"] = pd.Series(pd.NaT, index=cat.index, dtype="datetime64[ns]")
    cat["resolution"] = _ADOPTED.format(y=year, v=village)
    i = int(np.flatnonzero(cat["name"].to_numpy() == CHANGED_ITEM)[0])
    old = cat.iloc[i].copy()
    new = old.copy()
    cat.loc[i, "valid_to"] = pd.Timestamp(f"{year}-06-30")
    cat.loc[i, "note"] = _CHANGED_OLD_NOTE.format(y=year)
    new["points"], new["cap_month"], new["cap_year"] = _CHANGE_POINTS, _CHANGE_CAP_MONTH, _CHANGE_CAP_YEAR
    new["valid_from"] = pd.Timestamp(f"{year}-07-01")
    new["resolution"] = _CHANGED.format(y=year, v=village)
    new["note"] = "每参加一次计一次"
    # The new row goes right below the old one, as a clerk would add it.
    cat = pd.concat([cat.iloc[: i + 1], new.to_frame().T, cat.iloc[i + 1:]], ignore_index=True)
    for col in ("points", "cap_month", "cap_year"):
        cat[col] = cat[col].astype("float64")
    for col in ("valid_from", "valid_to"):
        cat[col] = pd.to_datetime(cat[col])
    return cat[S.INDICATORS.fields]


def _catalogue_arrays(cat: pd.DataFrame, year: int):
    """Per distinct code: kind, name, category, and value/caps before and after the mid-year change."""
    first = cat.drop_duplicates("code", keep="first").reset_index(drop=True)
    last = cat.drop_duplicates("code", keep="last").set_index("code").reindex(first["code"])
    change = pd.Timestamp(f"{year}-07-01")
    changed = (last["valid_from"].to_numpy() >= change.to_datetime64())
    return first, last.reset_index(drop=True), changed, change


def _entries(rng: np.random.Generator, hh: pd.DataFrame, party: np.ndarray, members: pd.DataFrame,
             cat: pd.DataFrame, year: int, months: int, target: int, ensure: bool) -> pd.DataFrame:
    """``target`` entries over the active households, respecting every cap, in date order."""
    first, last, changed, change = _catalogue_arrays(cat, year)
    n_codes = len(first)
    weights = first["name"].map(_ITEM_WEIGHT).fillna(1.0).to_numpy(dtype=float)
    is_party_item = (first["category"] == _PARTY_CATEGORY).to_numpy()
    non_party_w = np.where(is_party_item, 0.0, weights)
    kinds = first["kind"].to_numpy()

    active = np.flatnonzero((hh["status"] == S.HH_ACTIVE).to_numpy())
    activity = rng.gamma(2.0, 0.5, len(active)) + 0.05
    activity /= activity.sum()
    hh_party = party[active]
    month_start = np.array([np.datetime64(f"{year}-{m:02d}-01") for m in range(1, 13)])

    # Entries the planting needs (plant_mistakes): the last month well filled, an entry of the
    # changed item after the change, entries of the review members' own households.
    forced: list[tuple[int, int, int]] = []  # (household slot in ``active``, month, code index)
    if ensure:
        plain = np.flatnonzero((kinds == S.KIND_BASIC) & ~is_party_item & ~changed)
        slot = {int(p): i for i, p in enumerate(active)}
        review_hh = members.loc[members["group"] == S.GROUP_REVIEW, "hh_id"]
        review_slots = [slot[p] for p in np.flatnonzero(hh["hh_id"].isin(review_hh).to_numpy()) if p in slot]
        change_code = int(np.flatnonzero(changed)[0])
        some = rng.choice(len(active), size=min(len(active), 8), replace=False)
        forced += [(int(w), months, int(rng.choice(plain))) for w in some[:6]]
        if months >= 7:  # the changed value applies from July
            forced += [(int(w), months, change_code) for w in some[6:8]]
        forced += [(w, int(rng.integers(1, months + 1)), int(rng.choice(plain))) for w in review_slots]
    f_which, f_month, f_code = (np.array(col, dtype=int) for col in (zip(*forced) if forced else ([], [], [])))

    over = int(target * 1.4) + 200
    for _attempt in range(8):
        k = over
        which = np.concatenate([rng.choice(len(active), size=k, p=activity), f_which])
        month = np.concatenate([rng.integers(1, months + 1, k), f_month])
        code = np.concatenate([rng.choice(n_codes, size=k, p=weights / weights.sum()), f_code])
        is_forced = np.zeros(len(which), dtype=bool)
        is_forced[k:] = True
        k = len(which)
        day = rng.integers(1, NOTICE_DAY, k)
        date = month_start[month - 1] + (day - 1).astype("timedelta64[D]")
        bad = is_party_item[code] & ~hh_party[which]
        code[bad] = rng.choice(n_codes, size=int(bad.sum()), p=non_party_w / non_party_w.sum())
        after = changed[code] & (date >= change.to_datetime64())
        value = np.where(after, last["points"].to_numpy()[code], first["points"].to_numpy()[code])
        cap_m = np.where(after, last["cap_month"].to_numpy()[code], first["cap_month"].to_numpy()[code])
        cap_y = np.where(after, last["cap_year"].to_numpy()[code], first["cap_year"].to_numpy()[code])
        max_qty = np.where(np.isnan(cap_m), 3, np.floor(np.nan_to_num(cap_m, nan=3) / np.abs(value)))
        r = rng.random(k)
        qty = np.where((max_qty >= 2) & (r < 0.18), 2.0, 1.0)
        qty = np.where((max_qty >= 3) & (r < 0.04), 3.0, qty)
        cand = pd.DataFrame({"pos": active[which], "code_i": code, "month": month, "date": date, "qty": qty,
                             "value": value, "cap_m": cap_m, "cap_y": cap_y, "forced": is_forced})
        # Sheet order is date order; the validator counts caps in sheet order, and so do we here.
        cand = cand.sort_values(["date", "pos", "code_i"], kind="stable").reset_index(drop=True)
        absval = (cand["qty"] * cand["value"]).abs()
        run_m = absval.groupby([cand["pos"], cand["code_i"], cand["month"]], sort=False).cumsum()
        run_y = absval.groupby([cand["pos"], cand["code_i"]], sort=False).cumsum()
        ok = ((cand["cap_m"].isna() | (run_m <= cand["cap_m"] + 1e-9))
              & (cand["cap_y"].isna() | (run_y <= cand["cap_y"] + 1e-9)))
        # Any subset of what respects the caps respects them too (running totals only shrink).
        kept = cand[ok].reset_index(drop=True)
        if len(kept) >= target:
            break
        over *= 2
    else:  # pragma: no cover - only with an absurd entries_per_household
        raise ValueError("entries_per_household is too high for the catalogue's caps")
    must = np.flatnonzero(kept["forced"].to_numpy())[:target]
    rest = np.flatnonzero(~kept["forced"].to_numpy())
    keep = np.sort(np.concatenate([must, rng.choice(rest, size=target - len(must), replace=False)]))
    e = kept.iloc[keep].reset_index(drop=True)
    n = len(e)

    kind = kinds[e["code_i"]]
    names = first["name"].to_numpy()[e["code_i"]]
    src = np.empty(n, dtype=object)
    for k_name, p in _SOURCE_P.items():
        m = kind == k_name
        src[m] = rng.choice(S.SOURCES, size=int(m.sum()), p=p)
    evidence = np.full(n, None, dtype=object)
    ded = kind == S.KIND_DEDUCT
    evidence[ded] = rng.choice(_DEDUCT_EVIDENCE, size=int(ded.sum()))
    r = rng.random(n)
    for item, (share, choices) in _EVIDENCE.items():
        m = (names == item) & (r < share)
        if m.any():
            evidence[m] = rng.choice(choices, size=int(m.sum()))

    hh_id = hh["hh_id"].to_numpy()[e["pos"]]
    qty = e["qty"].to_numpy()
    computed = qty * e["value"].to_numpy()
    typed = np.where(rng.random(n) < 0.6, computed, np.nan)  # blank 积分: the toolkit computes it
    qty_shown = np.where((qty == 1) & (rng.random(n) < 0.35), np.nan, qty)  # blank 数量 counts as 1
    status = np.full(n, S.ENTRY_PENDING, dtype=object)  # as typed: the cycle publishes and closes them
    entries = pd.DataFrame({
        "entry_id": people.ids(f"{year}-", n, 5),
        "date": pd.to_datetime(e["date"].to_numpy()),
        "hh_id": hh_id,
        "head": hh["head"].to_numpy()[e["pos"]],
        "code": first["code"].to_numpy()[e["code_i"]],
        "item_name": names,
        "qty": qty_shown,
        "points": typed,
        "source": src,
        "scorers": _scorers(rng, members, hh_id),
        "evidence": evidence,
        "status": status,
        "note": np.full(n, None, dtype=object),
    })
    return entries[S.ENTRIES.fields]


def _settle_by_hand(entries: pd.DataFrame, objections: pd.DataFrame, through: int) -> pd.DataFrame:
    """Entries of months 1..``through`` as a clerk settles them by hand: 已确认, or 已撤销 where an
    objection withdrew them (a 更正 stands through its objection)."""
    withdrawn = entries["entry_id"].isin(objections.loc[objections["result"] == S.OBJ_WITHDRAW, "entry_id"])
    early = (entries["date"].dt.month <= through) & entries["status"].eq(S.ENTRY_PENDING)
    status = np.where(withdrawn, S.ENTRY_WITHDRAWN, S.ENTRY_CONFIRMED)
    return entries.assign(status=entries["status"].where(~early, status))


def _scorers(rng: np.random.Generator, members: pd.DataFrame, hh_id: np.ndarray) -> np.ndarray:
    """1–2 review members per entry, never one whose own household is scored (回避)."""
    review = members[members["group"] == S.GROUP_REVIEW].reset_index(drop=True)
    names = review["name"].tolist()
    combos = [(i,) for i in range(len(names))] + [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    labels = np.array([S.NAME_JOINER.join(names[i] for i in c) for c in combos], dtype=object)
    has = np.zeros((len(combos), len(names)), dtype=bool)
    for ci, c in enumerate(combos):
        has[ci, list(c)] = True
    p = np.where(has.sum(axis=1) == 1, 0.55 / len(names), 0.45 / (len(combos) - len(names)))
    pick = rng.choice(len(combos), size=len(hh_id), p=p)
    for j, own in enumerate(review["hh_id"]):
        clash = (hh_id == own) & has[pick, j]
        if clash.any():
            allowed = np.flatnonzero(~has[:, j])
            pick[clash] = rng.choice(allowed, size=int(clash.sum()), p=p[allowed] / p[allowed].sum())
    return labels[pick]


def _typed(key: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The core's view of a generated table (as if read from a sheet with its header on row 1)."""
    raw = frame.astype(object).assign(**{ROW: np.arange(2, 2 + len(frame))})
    return clean_frame(S.sheet(key), raw)[0]


def item_values(entries: pd.DataFrame, indicators: pd.DataFrame) -> np.ndarray:
    """分值 of each entry's item on the entry's date (NaN where no catalogue row is in force),
    as the core reads it."""
    typed = _typed("entries", entries)
    return item_on_date(_typed("indicators", indicators), typed)["value"].to_numpy(dtype="float64")


def effective_points(entries: pd.DataFrame, objections: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Entries with ``effective`` points and ``counted`` (enters the ledger once its month is
    closed: entries 待公示/公示中 taken as confirmed), computed by the core
    (core.village.effective_entries) so the demo plans exchanges exactly as the ledger counts."""
    typed = _typed("entries", entries)
    typed["status"] = typed["status"].where(~typed["status"].isin((S.ENTRY_PENDING, S.ENTRY_PUBLIC)),
                                            S.ENTRY_CONFIRMED)
    village = Village({}, {"entries": typed, "objections": _typed("objections", objections),
                           "indicators": _typed("indicators", indicators)})
    eff = effective_entries(village)
    counted = np.zeros(len(eff), dtype=bool)
    counted[counted_entries(eff).index.to_numpy()] = True
    return entries.assign(effective=eff["effective"].to_numpy(), counted=counted)


def _objections(rng: np.random.Generator, hh: pd.DataFrame, members: pd.DataFrame, entries: pd.DataFrame,
                cat: pd.DataFrame, year: int, months: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Objections to the entries, each raised within its month's publicity period and decided
    before the month's close (``cycle_days``), and one still open on the last month; the clerk's
    own withdrawals of entries typed twice (已撤销 before publishing)."""
    entries = entries.copy()
    n = len(entries)
    deduct = entries["code"].isin(cat.loc[cat["kind"] == S.KIND_DEDUCT, "code"]).to_numpy()
    month = entries["date"].dt.month.to_numpy()
    review = members[members["group"] == S.GROUP_REVIEW].reset_index(drop=True)
    heads = hh["head"].to_numpy()
    note_col, status_col = entries.columns.get_loc("note"), entries.columns.get_loc("status")

    rows = []
    closed = np.flatnonzero(month < months)
    if len(closed):
        n_obj = min(len(closed), max(4, int(round(0.004 * n))))
        weight = np.where(deduct[closed], 12.0, 1.0)  # deductions are disputed far more often
        target = np.sort(rng.choice(closed, size=n_obj, replace=False, p=weight / weight.sum()))
        pts = pd.to_numeric(entries["points"]).to_numpy()[target].copy()
        blank = np.isnan(pts)
        pts[blank] = (entries["qty"].fillna(1.0).to_numpy()[target][blank]
                      * item_values(entries.iloc[target[blank]], cat))
        outcome = rng.choice(list(S.OBJECTION_RESULTS), size=n_obj, p=(0.5, 0.25, 0.25)).astype(object)
        outcome[(outcome == S.OBJ_CORRECT) & (np.abs(pts) < 2)] = S.OBJ_KEEP
        for res in S.OBJECTION_RESULTS:  # every outcome at least once
            if not (outcome == res).any():
                free = [i for i in range(n_obj) if (outcome == outcome[i]).sum() > 1
                        and (res != S.OBJ_CORRECT or abs(pts[i]) >= 2)]
                if free:
                    outcome[free[0]] = res
        for i, idx in enumerate(target):
            # raised while the notice is up, decided by the review group before the month is closed
            start, end, close = cycle_days(year, int(month[idx]))
            raised = start + pd.Timedelta(days=int(rng.integers(0, (end - start).days)))
            resolved = raised + pd.Timedelta(days=int(rng.integers(1, (close - raised).days + 1)))
            hh_i, head = entries["hh_id"].iat[idx], entries["head"].iat[idx]
            if deduct[idx]:
                by = head
                content = rng.choice(["对扣分事实有异议，认为情况不属实", "认为扣分过重，已经整改到位",
                                      "当天不在家，不是本户所为"])
            else:
                others = heads[heads != head]
                by = others[int(rng.integers(0, len(others)))]
                content = rng.choice(["该户当月未参加此项活动，申请核实", "加分依据不足，申请核实", "数量登记偏多，申请核实"])
            checkers = review.loc[review["hh_id"] != hh_i, "name"].tolist()
            k = 2 if rng.random() < 0.6 else 1
            checked = S.NAME_JOINER.join(rng.choice(checkers, size=k, replace=False).tolist())
            res, corrected = outcome[i], np.nan
            if res == S.OBJ_CORRECT:
                corrected = math.copysign(max(1.0, float(abs(pts[i]) // 2)), pts[i])
                note = f"经调查核实，更正为 {corrected:g} 分"
                entries.iat[idx, note_col] = "经异议更正，见「异议处理」"
            elif res == S.OBJ_WITHDRAW:
                note = "经调查核实情况不属实，撤销该条登记"  # the close sets the entry 已撤销
            else:
                note = "经调查核实情况属实，维持原登记"
            rows.append([entries["entry_id"].iat[idx], by, raised, str(content), checked, res, corrected,
                         resolved, note])
    # One objection still open, on an entry of the month under publicity.
    last = np.flatnonzero(month == months)
    if len(last):
        ded_last = last[deduct[last]]
        idx = int(ded_last[0] if len(ded_last) else last[0])
        raised = cycle_days(year, months)[0] + pd.Timedelta(days=2)
        checker = review.loc[review["hh_id"] != entries["hh_id"].iat[idx], "name"].iloc[0]
        rows.append([entries["entry_id"].iat[idx], entries["head"].iat[idx], raised,
                     "对本月公示的登记有异议，申请核实", checker, None, np.nan, pd.NaT, "调查核实中"])
    obj = pd.DataFrame(rows, columns=["entry_id", "raised_by", "raised_on", "content", "checked_by", "result",
                                      "corrected_points", "resolved_on", "note"])
    obj = obj.sort_values(["raised_on", "entry_id"], kind="stable").reset_index(drop=True)
    obj.insert(0, "objection_id", people.ids("YY-", len(obj), 3))
    obj["raised_on"] = pd.to_datetime(obj["raised_on"])
    obj["resolved_on"] = pd.to_datetime(obj["resolved_on"])
    obj["corrected_points"] = obj["corrected_points"].astype("float64")
    # The clerk's own withdrawals: an entry typed twice, withdrawn without an objection.
    free = np.flatnonzero((month < months) & ~entries["entry_id"].isin(obj["entry_id"]).to_numpy())
    if len(free):
        w = np.sort(rng.choice(free, size=min(max(1, n // 500), len(free)), replace=False))
        entries.iloc[w, status_col] = S.ENTRY_WITHDRAWN
        entries.iloc[w, note_col] = "重复登记，已撤销"
    return entries, obj[S.OBJECTIONS.fields]


