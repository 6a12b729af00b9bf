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

import pandas as pd

from .. import schema as S
from .ledger import compute_ledger
from .problems import Report
from .stock import compute_stock
from .village import Village, counted_entries, effective_entries

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
    """``YYYY-MM`` labels of dates (None where no date)."""
    out = dates.dt.strftime("%Y-%m")
    return out.where(dates.notna(), None).astype(object)


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

    eff = effective_entries(village)
    eff = eff[_in_year(eff["date"], year)]
    counted = pd.Series(False, index=eff.index)
    counted.loc[counted_entries(eff, ["date"]).index] = True
    points = eff["effective"].where(~eff["withdrawn"], 0.0)
    name = eff["catalogue_name"].where(eff["catalogue_name"].notna(), eff["item_name"])
    entries = _frame(ENTRY_COLUMNS, pd.DataFrame({
        "entry_id": eff["entry_id"], "date": eff["date"], "month": _months(eff["date"]), "hh_id": eff["hh_id"],
        "code": eff["code"], "name": name, "kind": eff["kind"], "category": eff["category"],
        "points": points.astype("float64"), "status": eff["status"], "counted": counted,
        "scorers": eff["scorers"], "evidence": eff["evidence"].notna() & eff["evidence"].astype(str).str.strip().ne(""),
    }))

    obj = village["objections"]
    hh_of = village["entries"].drop_duplicates("entry_id").set_index("entry_id")["hh_id"]
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
        book = compute_stock(village["goods"], village["receipts"], village["exchanges"], year)
        if len(book):
            last = book[book["month"] == book["month"].max()]
            price = village["goods"].drop_duplicates("goods_id").set_index("goods_id")["price"]
            stock = _frame(STOCK_COLUMNS, last.assign(price=last["goods_id"].map(price)))

    ledger = _frame(LEDGER_COLUMNS)
    if not any(p.is_error for p in problems):
        months = compute_ledger(village)
        if len(months):
            meta["through"] = months["month"].max()
            ledger = _frame(LEDGER_COLUMNS, months[months["month"] == meta["through"]])

    findings = _frame(FINDING_COLUMNS, pd.DataFrame(
        [(p.level, p.rule, p.sheet, p.row, p.column, p.message, p.fix) for p in problems],
        columns=list(FINDING_COLUMNS)) if problems else None)
    return VillageExtract(meta, households, entries, objections, exchanges, receipts, stock, ledger, findings)


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
    counted = extract.entries[extract.entries["counted"]]
    taking_part = int(active["hh_id"].isin(counted["hh_id"]).sum())
    reward = float(counted.loc[counted["kind"].isin(REWARD_KINDS), "points"].sum())
    deduct = float(counted.loc[counted["kind"].eq(S.KIND_DEDUCT), "points"].sum())
    total = float(counted["points"].sum())
    results = extract.objections["result"].value_counts()
    stock_value = float((extract.stock["closing"] * extract.stock["price"]).sum())
    figures = {
        "district": extract.meta.get(KEY_DISTRICT), "township": extract.meta.get(KEY_TOWNSHIP),
        "village": extract.meta.get(KEY_VILLAGE), "year": extract.meta.get(KEY_YEAR),
        "households": n_hh,
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
