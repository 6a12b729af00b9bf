"""A township's villages consolidated: what one village contributes (``VillageExtract``), its
summary row, and the township's analyses (monthly trend, deduction hotspots, household ranking).

Pure pandas: typed village frames in, plain frames and dicts out. The figures are the village
core's (``core.village.effective_entries`` / ``counted_entries``, ``core.ledger.compute_ledger``,
``core.stock.compute_stock``), never computed a second time here:

- 积分合计 = the village's 已确认 points of the year after objections (the entries that enter
  月度台账); 加分合计 = those of 基础积分 and 贡献积分 items, 扣分合计 those of 扣分项目 (negative).
- 户数 = households 正常 in 住户名册; 参与户数 = those of them with at least one counted entry.
- 兑换积分 = 消耗积分 of the year's exchanges; 库存价值（积分） = Σ 期末库存 × 兑换积分 of the
  last month of 库存台账.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from .ledger import ledger_month
from .problems import Report
from .stock import village_stock
from .village import Village, counted_mask, effective_entries

#: meta keys taken from 基本信息 (its 项目 texts): 区县, 镇街, 村, 年度.
PLACE_FIELDS = ("district", "township", "village", "year")
PLACE_KEYS = tuple(S.SETTINGS.kv_rows[[c.field for c in S.SETTINGS.kv_rows].index(f)].header for f in PLACE_FIELDS)
KEY_DISTRICT, KEY_TOWNSHIP, KEY_VILLAGE, KEY_YEAR = PLACE_KEYS

# The extract's frames: column -> dtype (kept even when a frame is empty).
HOUSEHOLD_COLUMNS = {"hh_id": object, "head": object, "hukou": object, "group": object, "status": object}
ENTRY_COLUMNS = {"entry_id": object, "date": "datetime64[ns]", "month": object, "hh_id": object, "code": object,
                 "name": object, "kind": object, "category": object, "points": "float64", "status": object,
                 "counted": bool, "scorers": object, "evidence": bool}
OBJECTION_COLUMNS = {"objection_id": object, "entry_id": object, "hh_id": object, "result": object}
EXCHANGE_COLUMNS = {"exchange_id": object, "date": "datetime64[ns]", "month": object, "hh_id": object,
                    "goods_id": object, "qty": "float64", "points": "float64"}
RECEIPT_COLUMNS = {"receipt_id": object, "date": "datetime64[ns]", "funding": object, "donor": object,
                   "goods_id": object, "qty": "float64", "amount": "float64"}
STOCK_COLUMNS = {"month": object, "goods_id": object, "name": object, "closing": "float64", "price": "float64"}
LEDGER_COLUMNS = {"hh_id": object, "cumulative": "float64", "available": "float64"}
FINDING_COLUMNS = {"level": object, "rule": object, "sheet": object, "row": "float64", "column": object,
                   "message": object, "fix": object}

#: 异议处理.处理结果 as the township counts it: blank = 待处理.
OBJ_OPEN = "待处理"
REWARD_KINDS = (S.KIND_BASIC, S.KIND_CONTRIB)


def _frame(columns: dict, data: dict | pd.DataFrame | None = None) -> pd.DataFrame:
    """A frame with exactly ``columns`` in their dtypes (missing columns empty)."""
    if data is None or len(data) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    frame = pd.DataFrame(data) if not isinstance(data, pd.DataFrame) else data
    out = {}
    for c, t in columns.items():
        col = frame[c] if c in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        out[c] = col.astype(t) if t is not object else col.astype(object)
    return pd.DataFrame(out).reset_index(drop=True)


@dataclass
class VillageExtract:
    """What one village contributes to the township (plain data: pickled across processes).

    :param meta: 区县, 镇街, 村, 年度 (基本信息), ``through`` (last month of its 月度台账, ``YYYY-MM`` or
        None); the app adds ``file`` (str) and ``modified`` (the file's mtime, ISO).
    :param households: hh_id, head, hukou, group, status (住户名册 as read).
    :param entries: the year's entries: entry_id, date, month (``YYYY-MM``), hh_id, code, name (指标名称),
        kind (积分类型), category (指标类别), points (effective: after objections, 0 when withdrawn),
        status, counted (it enters 月度台账: 已确认, not withdrawn, no open objection), scorers,
        evidence (证明材料 given).
    :param objections: objection_id, entry_id, hh_id, result (维持/更正/撤销/待处理).
    :param exchanges: the year's exchanges: exchange_id, date, month, hh_id, goods_id, qty, points.
    :param receipts: the year's receipts: receipt_id, date, funding, donor, goods_id, qty, amount.
    :param stock: 库存台账 of the last month: month, goods_id, name, closing, price (兑换积分).
    :param ledger: per household at the ledger's last month: hh_id, cumulative, available.
    :param findings: the validation findings: level, rule, sheet, row, column, message, fix.
    """

    meta: dict
    households: pd.DataFrame = field(default_factory=lambda: _frame(HOUSEHOLD_COLUMNS))
    entries: pd.DataFrame = field(default_factory=lambda: _frame(ENTRY_COLUMNS))
    objections: pd.DataFrame = field(default_factory=lambda: _frame(OBJECTION_COLUMNS))
    exchanges: pd.DataFrame = field(default_factory=lambda: _frame(EXCHANGE_COLUMNS))
    receipts: pd.DataFrame = field(default_factory=lambda: _frame(RECEIPT_COLUMNS))
    stock: pd.DataFrame = field(default_factory=lambda: _frame(STOCK_COLUMNS))
    ledger: pd.DataFrame = field(default_factory=lambda: _frame(LEDGER_COLUMNS))
    findings: pd.DataFrame = field(default_factory=lambda: _frame(FINDING_COLUMNS))
    #: the village's share of the township's frames (``aggregates()``), computed once: by the
    #: worker that made the extract, so the parent only stacks them.
    parts: dict | None = field(default=None, repr=False)

    def aggregates(self) -> dict[str, pd.DataFrame]:
        """This village's per household, month and item figures (see ``Township``)."""
        if self.parts is None:
            self.parts = _aggregate(self)
        return self.parts

    @property
    def errors(self) -> int:
        return int(self.findings["level"].eq(S.LEVEL_ERROR).sum())

    @property
    def warnings(self) -> int:
        return int(self.findings["level"].eq(S.LEVEL_WARNING).sum())


def _in_year(dates: pd.Series, year: int | None) -> pd.Series:
    if year is None:
        return dates.notna()
    return dates.notna() & (dates.dt.year == year)


def _months(dates: pd.Series) -> pd.Series:
    """``YYYY-MM`` labels of dates (None where no date). Each month's label is made once and
    shared by its rows (a year has twelve: the extract pickles and holds twelve strings, not
    one per entry)."""
    values = dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    distinct, at = np.unique(values, return_inverse=True)
    out = np.datetime_as_string(distinct, unit="M").astype(object)[at.reshape(-1)]
    out[np.isnat(values)] = None
    return pd.Series(out, index=dates.index, dtype=object)


def _given(values: pd.Series) -> np.ndarray:
    """Which cells hold something other than blanks (``notna`` and not only spaces), looked at
    once per distinct value (证明材料 repeats a few texts over 60,000 entries)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    if not len(distinct):
        return np.zeros(len(values), dtype=bool)
    given = pd.Series(np.asarray(distinct, dtype=object), dtype=object).astype(str).str.strip().ne("").to_numpy()
    return np.where(codes >= 0, given[codes], False)


def village_extract(village: Village, report: Report | None = None) -> VillageExtract:
    """What ``village`` contributes to the township.

    :param village: the typed village (``app.load``).
    :param report: its validation findings. A village with 错误 still gets its frames (the
        township lists it, never consolidates its figures); its 月度台账 is then not computed
        (``ledger`` empty), since the ledger trusts only a valid village.
    """
    year = village.year
    s = village.settings
    meta = {KEY_DISTRICT: s.get("district"), KEY_TOWNSHIP: s.get("township"), KEY_VILLAGE: s.get("village"),
            KEY_YEAR: year, "through": None}
    problems = report.problems if report is not None else ()

    hh = village["households"]
    households = _frame(HOUSEHOLD_COLUMNS, hh[hh["hh_id"].notna()])

    eff = effective_entries(village)  # validation's, computed once per village
    in_year = _in_year(eff["date"], year)
    counted = counted_mask(village)[np.asarray(in_year, dtype=bool)]  # the ledger's, computed once per village
    eff = eff[in_year]
    points = eff["effective"].where(~eff["withdrawn"], 0.0)
    name = eff["catalogue_name"].where(eff["catalogue_name"].notna(), eff["item_name"])
    entries = _frame(ENTRY_COLUMNS, pd.DataFrame({
        "entry_id": eff["entry_id"], "date": eff["date"], "month": _months(eff["date"]), "hh_id": eff["hh_id"],
        "code": eff["code"], "name": name, "kind": eff["kind"], "category": eff["category"],
        "points": points.astype("float64"), "status": eff["status"], "counted": counted,
        "scorers": eff["scorers"], "evidence": _given(eff["evidence"]),
    }, index=eff.index))

    obj = village["objections"]
    cited = village["entries"]
    cited = cited.loc[cited["entry_id"].isin(obj["entry_id"]), ["entry_id", "hh_id"]]  # the few objected
    hh_of = cited.drop_duplicates("entry_id").set_index("entry_id")["hh_id"]
    objections = _frame(OBJECTION_COLUMNS, pd.DataFrame({
        "objection_id": obj["objection_id"], "entry_id": obj["entry_id"],
        "hh_id": obj["entry_id"].map(hh_of), "result": obj["result"].fillna(OBJ_OPEN),
    }))

    ex = village["exchanges"]
    ex = ex[_in_year(ex["date"], year)]
    exchanges = _frame(EXCHANGE_COLUMNS, ex.assign(month=_months(ex["date"])))
    rc = village["receipts"]
    receipts = _frame(RECEIPT_COLUMNS, rc[_in_year(rc["date"], year)])

    stock = _frame(STOCK_COLUMNS)
    if year is not None:
        book = village_stock(village, year)  # validation's (W-GDS-01), computed once per village
        if len(book):
            last = book[book["month"] == book["month"].max()]
            price = village["goods"].drop_duplicates("goods_id").set_index("goods_id")["price"]
            stock = _frame(STOCK_COLUMNS, last.assign(price=last["goods_id"].map(price)))

    ledger = _frame(LEDGER_COLUMNS)
    if not any(p.is_error for p in problems):
        last = ledger_month(village)  # compute_ledger's rows of its last month, without the months before
        if len(last):
            meta["through"] = last["month"].iloc[0]
            ledger = _frame(LEDGER_COLUMNS, last)

    findings = _frame(FINDING_COLUMNS, pd.DataFrame(
        [(p.level, p.rule, p.sheet, p.row, p.column, p.message, p.fix) for p in problems],
        columns=list(FINDING_COLUMNS)) if problems else None)
    extract = VillageExtract(meta, households, entries, objections, exchanges, receipts, stock, ledger, findings)
    extract.aggregates()
    return extract


def _number(value) -> int | float:
    """A JSON-ready number: float noise rounded away, whole numbers as int."""
    value = round(float(value), 6) + 0.0
    return int(value) if value.is_integer() else value


def village_summary(extract: VillageExtract) -> dict:
    """One village's figures: the JSON object of ``township import --json`` and the 汇总概况 row,
    keyed by the 汇总概况 headers (``schema.TOWNSHIP_SUMMARY``).

    参与率 is a fraction (0..1; the sheet shows it as a percentage); 奖扣比 and 户均积分 are None
    when they have no meaning (no deduction, no household).
    """
    hh = extract.households
    active = hh[hh["status"].eq(S.HH_ACTIVE)]
    n_hh = int(active["hh_id"].nunique())
    e = extract.entries
    counted = e["counted"].to_numpy(dtype=bool)
    kind, points = e["kind"].to_numpy()[counted], e["points"].to_numpy(dtype="float64")[counted]
    taking_part = int(active["hh_id"].isin(pd.unique(e["hh_id"].to_numpy()[counted])).sum())
    reward = float(points[pd.Series(kind, dtype=object).isin(REWARD_KINDS).to_numpy()].sum())
    deduct = float(points[kind == S.KIND_DEDUCT].sum())
    total = float(points.sum())
    results = extract.objections["result"].value_counts()
    stock_value = float((extract.stock["closing"] * extract.stock["price"]).sum())
    figures = {
        "district": extract.meta.get(KEY_DISTRICT), "township": extract.meta.get(KEY_TOWNSHIP),
        "village": extract.meta.get(KEY_VILLAGE), "year": extract.meta.get(KEY_YEAR),
        "through": extract.meta.get("through"), "households": n_hh,
        "nonlocal": int(active.loc[active["hukou"].eq(S.HUKOU_TYPES[1]), "hh_id"].nunique()),
        "taking_part": taking_part,
        "participation": round(taking_part / n_hh, 4) if n_hh else None,
        "reward": _number(reward), "deduct": _number(deduct), "total": _number(total),
        "average": _number(round(total / n_hh, 2)) if n_hh else None,
        "ratio": _number(round(reward / -deduct, 2)) if deduct < 0 else None,
        "objections": int(len(extract.objections)),
        "kept": int(results.get(S.OBJ_KEEP, 0)), "corrected": int(results.get(S.OBJ_CORRECT, 0)),
        "withdrawn": int(results.get(S.OBJ_WITHDRAW, 0)), "open": int(results.get(OBJ_OPEN, 0)),
        "exchanges": int(len(extract.exchanges)), "spent": _number(extract.exchanges["points"].sum()),
        "stock_value": _number(stock_value),
        "errors": extract.errors, "warnings": extract.warnings,
    }
    return {S.TOWNSHIP_SUMMARY.header_of(f): figures[f] for f in S.TOWNSHIP_SUMMARY.fields}


# --- the township: consolidated frames and their analyses ------------------------------------------


@dataclass
class Township:
    """The consolidated villages of one township-year (the accepted extracts only), aggregated
    village by village: a township (or a district) of millions of entries is never one frame.

    Every frame has ``village`` (村, unique within the township) first:

    :param villages: one ``village_summary`` row per village (fields of 汇总概况).
    :param households: households 正常: village, hh_id, head.
    :param points: counted points per household and 指标类别: village, hh_id, category, points.
    :param deductions: counted deduction entries per household: village, hh_id, count.
    :param monthly: per village and month: village, month, total, taking_part, spent.
    :param hotspots: counted deductions per village and item: village, code, name, category, count,
        households, points.
    :param ledger: 月度台账's last month per household: village, hh_id, cumulative, available.
    :param findings: the villages' findings (fields of ``VillageExtract.findings``).
    :param settled: per village, the last month whose points are final (its 月度台账's last month;
        without a ledger, its last month with a counted entry): later months are not known yet.
    :param labels: the villages' unique names (``names``), which the other frames' ``village`` holds.
    """

    villages: pd.DataFrame
    households: pd.DataFrame
    points: pd.DataFrame
    deductions: pd.DataFrame
    monthly: pd.DataFrame
    hotspots: pd.DataFrame
    ledger: pd.DataFrame
    findings: pd.DataFrame
    year: int | None = None
    settled: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """The villages' names in the township's tables, in order: unique (a 村 two townships
        share has its 镇街 in front; ``villages`` keeps each one's own 村)."""
        return list(self.labels) if self.labels else self.villages["village"].tolist()


def village_label(extract: VillageExtract) -> str:
    """The name a village goes by in the township's tables: its 村, else its file's name."""
    name = extract.meta.get(KEY_VILLAGE)
    if name:
        return str(name)
    file = str(extract.meta.get("file") or "")
    return file.replace("\\", "/").rsplit("/", 1)[-1] or "（未填村名）"


def _unique_labels(extracts: list[VillageExtract]) -> list[str]:
    """Each village's name, made unique: a name two townships share gets its 镇街 in front
    (石岗村 → 中梁镇石岗村), and what is still the same a number behind (（2）)."""
    labels = [village_label(e) for e in extracts]
    counts = pd.Series(labels, dtype=object).value_counts()
    labels = [f"{e.meta.get(KEY_TOWNSHIP) or ''}{label}" if counts[label] > 1 else label
              for e, label in zip(extracts, labels)]
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}（{seen[label]}）")
    return out


#: The aggregated frames of a ``Township`` (after ``village``): column -> dtype.
_AGGREGATES = {
    "households": {"hh_id": object, "head": object},
    "points": {"hh_id": object, "category": object, "points": "float64"},
    "deductions": {"hh_id": object, "count": "int64"},
    "monthly": {"month": object, "total": "float64", "taking_part": "int64", "spent": "float64"},
    "hotspots": {"code": object, "name": object, "category": object, "count": "int64", "households": "int64",
                 "points": "float64"},
    "ledger": {"hh_id": object, "cumulative": "float64", "available": "float64"},
    "findings": FINDING_COLUMNS,
}


def _aggregate(e: VillageExtract) -> dict[str, pd.DataFrame]:
    """One village's share of the township's frames (small: per household, month or item)."""
    hh = e.households
    active = hh[hh["status"].eq(S.HH_ACTIVE)].drop_duplicates("hh_id")
    c = e.entries.loc[e.entries["counted"], ["month", "hh_id", "code", "name", "kind", "category", "points"]]
    c = c.assign(name=c["name"].fillna(""), category=c["category"].fillna(""))
    d = c[c["kind"].eq(S.KIND_DEDUCT)]
    in_active = c["hh_id"].isin(active["hh_id"])
    monthly = pd.DataFrame({
        "total": c.groupby("month")["points"].sum(),
        "taking_part": c[in_active].groupby("month")["hh_id"].nunique(),
        "spent": e.exchanges.groupby("month")["points"].sum(),
    }).fillna({"total": 0.0, "taking_part": 0, "spent": 0.0}).rename_axis("month").reset_index()
    g = d.groupby(["code", "name"], sort=False)
    hotspots = pd.DataFrame({"category": g["category"].first(), "count": g.size(),
                             "households": g["hh_id"].nunique(), "points": g["points"].sum()}).reset_index()
    return {
        "households": active[["hh_id", "head"]],
        "points": c.groupby(["hh_id", "category"])["points"].sum().reset_index(),
        "deductions": d.groupby("hh_id").size().rename("count").reset_index(),
        "monthly": monthly,
        "hotspots": hotspots,
        "ledger": e.ledger,
        "findings": e.findings,
    }


def consolidate(extracts: list[VillageExtract]) -> Township:
    """The villages' extracts (in the order given) aggregated into one ``Township``.

    :param extracts: the accepted villages (a rejected file's figures are never consolidated).
    """
    summaries = [village_summary(e) for e in extracts]
    fields = S.TOWNSHIP_SUMMARY.fields
    villages = pd.DataFrame([list(s.values()) for s in summaries], columns=fields) if summaries else \
        pd.DataFrame({f: pd.Series(dtype=object) for f in fields})
    labels = _unique_labels(extracts)
    villages["village"] = pd.Series([village_label(e) for e in extracts], dtype=object)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in _AGGREGATES}
    for e, label in zip(extracts, labels):
        for key, frame in e.aggregates().items():
            if len(frame):
                parts[key].append(frame.assign(village=label))
    stacked = {}
    for key, columns in _AGGREGATES.items():
        empty = _frame(columns).assign(village=pd.Series(dtype=object))
        frame = pd.concat([empty] + parts[key], ignore_index=True) if parts[key] else empty
        stacked[key] = frame[["village"] + list(columns)]
    years = [e.meta.get(KEY_YEAR) for e in extracts if e.meta.get(KEY_YEAR) is not None]
    settled = {label: e.meta.get("through") or e.entries.loc[e.entries["counted"], "month"].max()
               for e, label in zip(extracts, labels)}
    settled = {k: (v if isinstance(v, str) else None) for k, v in settled.items()}
    return Township(villages, year=max(set(years), key=years.count) if years else None, settled=settled,
                    labels=labels, **stacked)


def monthly_trend(t: Township) -> pd.DataFrame:
    """Per month and village (every village every month, January to the last month with a
    counted entry or an exchange): 积分合计 (counted points), 参与户数 (households 正常 with a
    counted entry that month), 兑换积分. Columns: the fields of ``schema.TOWNSHIP_TREND``.

    积分合计 and 参与户数 are blank (NaN) for the months after a village's last settled month
    (``Township.settled``): a month still under publicity has no points yet, which is not 0.
    """
    fields = S.TOWNSHIP_TREND.fields
    m = t.monthly
    months = m.loc[(m["total"] != 0) | (m["taking_part"] > 0) | (m["spent"] != 0), "month"].dropna()
    if months.empty or not t.names:
        return pd.DataFrame({f: pd.Series(dtype=object if f in ("month", "village") else "float64") for f in fields})
    last = pd.Period(months.max(), "M")
    first = pd.Period(f"{t.year}-01", "M") if t.year is not None else pd.Period(months.min(), "M")
    labels = [f"{p.year:04d}-{p.month:02d}" for p in pd.period_range(min(first, last), last, freq="M")]
    grid = pd.MultiIndex.from_product([labels, t.names], names=["month", "village"])
    at = m.set_index(["month", "village"])
    out = pd.DataFrame({
        "total": at["total"].reindex(grid, fill_value=0.0).astype("float64").round(6).to_numpy(),
        "taking_part": at["taking_part"].reindex(grid, fill_value=0).astype("int64").to_numpy(),
        "spent": at["spent"].reindex(grid, fill_value=0.0).astype("float64").round(6).to_numpy(),
    }, index=grid).reset_index()
    settled = out["village"].map(t.settled).fillna("")
    unsettled = (out["month"] > settled).to_numpy()
    out["total"] = out["total"].mask(unsettled)
    out["taking_part"] = out["taking_part"].astype("float64").mask(unsettled)
    return out[fields]


def township_monthly(trend: pd.DataFrame) -> pd.DataFrame:
    """The township's month totals of a ``monthly_trend`` (fields of ``schema.TOWNSHIP_TREND_TOTAL``)."""
    out = trend.groupby("month", sort=True)[["total", "spent", "taking_part"]].sum(min_count=1).reset_index()
    out["spent"] = out["spent"].fillna(0.0)
    return out[S.TOWNSHIP_TREND_TOTAL.fields]


def village_by_month(trend: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """积分合计 of a ``monthly_trend`` as a month × village table: 月份 then one column per village."""
    wide = trend.pivot(index="month", columns="village", values="total").reindex(columns=names)
    return wide.reset_index().rename(columns={"month": S.TREND_PIVOT_FIRST})


def deduction_hotspots(t: Township, top: int = 20) -> pd.DataFrame:
    """The deduction items counted most often across the township (confirmed 扣分项目 entries):
    指标编码, 指标名称, 指标类别, 次数, 涉及户数, 涉及村数, 扣分合计; the ``top`` most frequent
    (ties on the last place included), most frequent first, then the larger deduction."""
    fields = S.TOWNSHIP_HOTSPOTS.fields
    h = t.hotspots
    if h.empty:
        return pd.DataFrame({f: pd.Series(dtype=object) for f in fields})
    g = h.groupby(["code", "name"], sort=False)
    out = pd.DataFrame({
        "category": g["category"].first(), "count": g["count"].sum(), "households": g["households"].sum(),
        "villages": g["village"].nunique(), "points": g["points"].sum().round(6),
    }).reset_index()
    out = out.sort_values(["count", "points", "code"], ascending=[False, True, True], kind="stable")
    cut = out["count"].iloc[min(top, len(out)) - 1]
    return out[out["count"] >= cut][fields].reset_index(drop=True)


def household_points(t: Township) -> pd.DataFrame:
    """Per household 正常: village, hh_id, head, year_points (counted points of the year),
    cumulative (月度台账's last month; carried points count), deductions (counted deduction entries)."""
    hh = t.households
    key = pd.MultiIndex.from_frame(hh[["village", "hh_id"]])
    year_points = t.points.groupby(["village", "hh_id"])["points"].sum()
    deductions = t.deductions.set_index(["village", "hh_id"])["count"]
    cumulative = t.ledger.drop_duplicates(["village", "hh_id"]).set_index(["village", "hh_id"])["cumulative"]
    return hh.assign(
        year_points=year_points.reindex(key, fill_value=0.0).round(6).to_numpy(dtype="float64"),
        cumulative=cumulative.reindex(key).to_numpy(dtype="float64"),
        deductions=deductions.reindex(key, fill_value=0).to_numpy(dtype="int64"),
    ).reset_index(drop=True)


def household_ranking(t: Township, top: int = 100) -> pd.DataFrame:
    """The township's top households 正常 by year points: 名次 (ties share the best: 1, 2, 2, 4),
    村, 户号, 户主姓名, 年度积分, 累计积分, 扣分次数; every household ranked ``top`` or better.
    Names only: 身份证号 and 联系电话 never reach this table."""
    hp = household_points(t)
    hp = hp.sort_values(["year_points", "cumulative", "village", "hh_id"], ascending=[False, False, True, True],
                        kind="stable", na_position="last")
    hp["rank"] = hp["year_points"].rank(method="min", ascending=False).astype("int64")
    return hp[hp["rank"] <= top][S.TOWNSHIP_RANKING.fields].reset_index(drop=True)


def summary_total(t: Township) -> dict:
    """汇总概况's 合计 row: sums of the villages' counts and points; 参与率, 户均积分 and 奖扣比
    recomputed from the sums (never averaged); 区县/镇街/年度 when all villages agree."""
    v = t.villages
    sums = ("households", "nonlocal", "taking_part", "reward", "deduct", "total", "objections", "kept", "corrected",
            "withdrawn", "open", "exchanges", "spent", "stock_value", "errors", "warnings")
    out = {f: None for f in S.TOWNSHIP_SUMMARY.fields}
    for f in sums:
        out[f] = _number(pd.to_numeric(v[f], errors="coerce").fillna(0).sum())
    for f in ("district", "township", "year", "through"):
        values = v[f].dropna().unique()
        out[f] = (values[0].item() if hasattr(values[0], "item") else values[0]) if len(values) == 1 else None
    out["village"] = S.TOTAL_LABEL
    n = out["households"]
    out["participation"] = round(out["taking_part"] / n, 4) if n else None
    out["average"] = _number(round(out["total"] / n, 2)) if n else None
    out["ratio"] = _number(round(out["reward"] / -out["deduct"], 2)) if out["deduct"] < 0 else None
    return out


# --- the township workbook's tables ---------------------------------------------------------------

#: The keys a file of the batch is described by (``township_tables(files=...)``): as
#: ``township import --json`` prints them, plus 村, 错误数, 警告数; 发现 = the first findings,
#: each keyed like ``validate --json`` (``schema.FINDING_HEADERS``).
FILE_KEYS = ("文件", "村", "状态", "原因", "错误数", "警告数", "发现")


@dataclass
class TownshipTables:
    """Everything the township workbook shows, as frames keyed by schema field names.

    :param place: 区县, 镇街, 年度 (for the sheets' print header), when the villages agree.
    :param summary: 汇总概况 rows (one per village) and ``total`` its 合计 row (a dict).
    :param trend: 月度趋势 per month and village; ``monthly`` the township's month totals;
        ``by_village``: 积分合计 as village rows × month columns (first column 村).
    """

    place: dict
    summary: pd.DataFrame
    total: dict
    trend: pd.DataFrame
    monthly: pd.DataFrame
    by_village: pd.DataFrame
    hotspots: pd.DataFrame
    ranking: pd.DataFrame
    candidates: pd.DataFrame
    files: pd.DataFrame
    findings: pd.DataFrame


def _file_record(f) -> dict:
    if isinstance(f, dict):
        return {k: f.get(k) for k in FILE_KEYS}
    meta = getattr(f, "meta", None) or {}
    return {"文件": str(f.file), "村": meta.get(KEY_VILLAGE), "状态": f.status, "原因": f.reason,
            "错误数": getattr(f, "errors", None), "警告数": getattr(f, "warnings", None),
            "发现": list(getattr(f, "findings", None) or [])}


def check_tables(files) -> tuple[pd.DataFrame, pd.DataFrame]:
    """校验汇总: one row per file (fields of ``schema.TOWNSHIP_CHECKS``) and the first findings of
    each (fields of ``schema.TOWNSHIP_CHECK_FINDINGS``).

    :param files: dicts keyed by ``FILE_KEYS`` (or the import's outcomes: objects with ``file``,
        ``status``, ``reason``, ``findings``, ``errors``, ``warnings``, ``meta``).
    """
    records = [_file_record(f) for f in files]
    check_fields = S.TOWNSHIP_CHECKS.fields
    rows = pd.DataFrame([[r["文件"], r["村"], r["状态"], r["原因"] or None, r["错误数"], r["警告数"]]
                         for r in records], columns=check_fields) if records else \
        pd.DataFrame({f: pd.Series(dtype=object) for f in check_fields})
    h = dict(zip(("level", "sheet", "row", "column", "message", "fix", "rule"), S.FINDING_HEADERS))
    finding_fields = S.TOWNSHIP_CHECK_FINDINGS.fields
    found = [{"file": r["文件"], "village": r["村"], **{f: p.get(h[f]) for f in finding_fields if f in h}}
             for r in records for p in (r["发现"] or [])]
    findings = pd.DataFrame(found, columns=finding_fields) if found else \
        pd.DataFrame({f: pd.Series(dtype=object) for f in finding_fields})
    return rows, findings


def township_tables(t: Township, files=(), candidates: pd.DataFrame | None = None, *, top_hotspots: int = 20,
                    top_households: int = 100) -> TownshipTables:
    """Every table of the township workbook.

    :param t: the consolidated villages.
    :param files: every file of the batch (see ``check_tables``), for 校验汇总.
    :param candidates: ``awards.award_candidates(t, rules)`` (none when None).
    """
    trend = monthly_trend(t)
    by_village = village_by_month(trend, t.names).set_index(S.TREND_PIVOT_FIRST).T.rename_axis(
        S.TOWNSHIP_TREND.header_of("village")).reset_index()
    by_village.columns.name = None
    files_frame, findings = check_tables(files)
    total = summary_total(t)
    place = {k: total[f] for k, f in zip((KEY_DISTRICT, KEY_TOWNSHIP, KEY_YEAR), ("district", "township", "year"))}
    return TownshipTables(
        place=place, summary=t.villages[S.TOWNSHIP_SUMMARY.fields].copy(), total=total, trend=trend,
        monthly=township_monthly(trend), by_village=by_village,
        hotspots=deduction_hotspots(t, top_hotspots), ranking=household_ranking(t, top_households),
        candidates=candidates if candidates is not None else pd.DataFrame(
            {f: pd.Series(dtype=object) for f in S.TOWNSHIP_CANDIDATES.fields}),
        files=files_frame, findings=findings)
