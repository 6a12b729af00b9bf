"""The village as typed frames, and the derived facts both validation and the ledger need.

Pure: built from cleaned frames (see ``clean.clean_frame``); never sees a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from .clean import ROW


@dataclass(frozen=True)
class Village:
    """One village-year.

    :param settings: 基本信息 by field name (district, township, village, year, publicity_days, ...).
    :param tables: typed frames by sheet key (columns = spec fields + ``_row``).
    :param header_rows: Excel row of each sheet's header (for findings about a whole sheet).
    :param settings_rows: Excel row of each 基本信息 item, by field name.
    """

    settings: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    header_rows: dict[str, int] = field(default_factory=dict)
    settings_rows: dict[str, int] = field(default_factory=dict)
    #: Facts derived from the tables, computed once (validation and the ledger both need them).
    derived: dict = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, key: str) -> pd.DataFrame:
        frame = self.tables.get(key)
        if frame is None:
            spec = S.sheet(key)
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in spec.fields + [ROW]})
        return frame

    @property
    def year(self) -> int | None:
        y = self.settings.get("year")
        return int(y) if y is not None else None


def item_on_date(indicators: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """For each entry (by position), the catalogue row in force on the entry's date.

    Returns a frame aligned with ``entries`` holding ``kind``, ``points`` (分值), ``name``, ``category``,
    ``cap_month``, ``cap_year``, ``found_code`` (the code exists at all) and ``in_force``.
    A code with several rows (a value changed by resolution) picks the row whose period covers
    the date; an entry outside every period has ``in_force`` False.
    """
    cat = indicators[indicators["code"].notna()].reset_index(drop=True)
    n = len(entries)
    codes, dates = entries["code"].to_numpy(), entries["date"].to_numpy()
    # Most codes have one catalogue row: look them up directly. The entries whose code has
    # several rows choose among them (the row in force; among several, the latest start).
    single = ~cat["code"].duplicated(keep=False).to_numpy()
    row = np.full(n, -1, dtype="int64")
    hit = pd.Index(cat["code"][single]).get_indexer(codes)
    found_single = hit >= 0
    row[found_single] = np.flatnonzero(single)[hit[found_single]]
    multi = cat[~single]
    if len(multi):
        pos = np.flatnonzero(pd.Index(multi["code"].unique()).get_indexer(codes) >= 0)
        left = pd.DataFrame({"_pos": pos, "code": codes[pos], "date": dates[pos]})
        m = left.merge(multi[["code", "kind", "points", "valid_from", "valid_to"]].rename_axis("_row").reset_index(),
                       on="code")
        # in force: a complete row (积分类型 or 分值 filled in) whose period covers the date
        m["_ok"] = (m["kind"].notna() | m["points"].notna()) & _in_period(m["date"], m["valid_from"], m["valid_to"])
        m = m.sort_values(["_pos", "_ok", "valid_from"], ascending=[True, False, False], kind="stable")
        first = m.drop_duplicates("_pos", keep="first")
        row[first["_pos"].to_numpy()] = first["_row"].to_numpy()
    found = row >= 0
    picked = cat.take(np.where(found, row, 0)) if len(cat) else cat.reindex(range(n))
    valid = (picked["kind"].notna() | picked["points"].notna()).to_numpy() & found
    in_force = valid & _in_period(pd.Series(dates), picked["valid_from"].reset_index(drop=True),
                                  picked["valid_to"].reset_index(drop=True)).to_numpy()

    def col(name: str, dtype) -> pd.Series:
        values = picked[name].to_numpy(dtype=dtype, copy=True)
        values[~in_force] = None if dtype is object else np.nan
        return pd.Series(values, index=entries.index, dtype=dtype)

    return pd.DataFrame({
        "kind": col("kind", object),
        "value": col("points", "float64"),
        "name": col("name", object),
        # a bare catalogue (a few columns, as some callers pass) has no 指标类别
        "category": col("category", object) if "category" in picked.columns else pd.Series(None, index=entries.index,
                                                                                           dtype=object),
        "cap_month": col("cap_month", "float64"),
        "cap_year": col("cap_year", "float64"),
        "found_code": valid,
        "in_force": in_force,
    }, index=entries.index)


def _in_period(dates: pd.Series, start: pd.Series, end: pd.Series) -> pd.Series:
    """A dated entry within [start, end] (either bound may be open)."""
    return dates.notna() & (start.isna() | (dates >= start)) & (end.isna() | (dates <= end))


def objection_outcome(objections: pd.DataFrame) -> pd.DataFrame:
    """Outcome per 登记编号 of all its decided objections: columns entry_id, result,
    corrected_points, open.

    SPEC: the latest decision by 处理日期 stands (rows of one day in sheet order), so a 撤销
    reviewed and followed by a 更正 leaves the 更正. 维持 keeps what stands when it is decided:
    it never undoes an earlier 更正 or 撤销. Decisions that cannot be ordered (several, one
    without 处理日期) are an error (``unordered_decisions``); until fixed, an undated decision
    counts as the earliest. ``open`` is True where any objection to the entry has no 处理结果 yet.
    """
    obj = objections[objections["entry_id"].notna()]
    if obj.empty:
        return pd.DataFrame({"entry_id": pd.Series(dtype=object), "result": pd.Series(dtype=object),
                             "corrected_points": pd.Series(dtype="float64"), "open": pd.Series(dtype=bool)})
    opened = obj.assign(open=obj["result"].isna()).groupby("entry_id", sort=False)["open"].any()
    decided = obj[obj["result"].notna()]
    changes = decided["result"].isin((S.OBJ_CORRECT, S.OBJ_WITHDRAW)).astype("int8")
    # 维持 first, then the changing decisions in time order: the last row per entry stands.
    ranked = decided.assign(_changes=changes).sort_values(["_changes", "resolved_on", ROW],
                                                          na_position="first", kind="stable")
    last = ranked.drop_duplicates("entry_id", keep="last").set_index("entry_id")[["result", "corrected_points"]]
    out = pd.DataFrame({"open": opened}).join(last, how="left")
    return out.rename_axis("entry_id").reset_index()


def unordered_decisions(objections: pd.DataFrame) -> pd.DataFrame:
    """Decisions that cannot be ordered (SPEC): for every entry with several decided objections
    of which some have no 处理日期, one row per undated decision.

    :returns: a frame of those objection rows (their columns) plus ``decision_rows``: the Excel
        rows of all the entry's decisions, ascending.
    """
    decided = objections[objections["entry_id"].notna() & objections["result"].notna()]
    several = decided["entry_id"].duplicated(keep=False)
    if not several.any():
        return decided.iloc[:0].assign(decision_rows=pd.Series(dtype=object))
    group = decided[several]
    undated_entries = group.loc[group["resolved_on"].isna(), "entry_id"].unique()
    group = group[group["entry_id"].isin(undated_entries)]
    rows = group.sort_values(ROW).groupby("entry_id", sort=False)[ROW].agg(lambda r: [int(x) for x in r])
    undated = group[group["resolved_on"].isna()]
    return undated.assign(decision_rows=undated["entry_id"].map(rows))


def effective_entries(village: Village) -> pd.DataFrame:
    """Entries with the points that count after objections (computed once per village; treat
    the frame as read-only).

    Adds ``kind`` (积分类型 of the item on the date), ``value`` (分值), ``computed``
    (数量 × 分值), ``effective`` (corrected points where an objection was upheld as 更正,
    the typed 积分 or else ``computed``), ``withdrawn`` (撤销 by objection or 状态 已撤销),
    ``objection_open``, ``corrected`` and ``corrects`` (the entry is a later correction: its
    备注 names the 登记编号 of an entry of the same household in an earlier month, so its typed
    积分 is the change, not 数量 × 分值; SPEC: a closed month is never edited again, a later
    correction is a new entry in a later month that names the one it corrects).
    """
    cached = village.derived.get("effective_entries")
    if cached is None:
        cached = village.derived["effective_entries"] = _effective_entries(village)
    return cached


def _effective_entries(village: Village) -> pd.DataFrame:
    entries = village["entries"]
    items = item_on_date(village["indicators"], entries)
    qty = entries["qty"].fillna(1.0)
    out = entries.copy()
    out["kind"] = items["kind"]
    out["value"] = items["value"]
    out["cap_month"] = items["cap_month"]
    out["cap_year"] = items["cap_year"]
    out["item_name"] = entries["item_name"]
    out["catalogue_name"] = items["name"]
    out["category"] = items["category"]
    out["found_code"] = items["found_code"]
    out["in_force"] = items["in_force"]
    out["computed"] = qty * items["value"]
    outcome = objection_outcome(village["objections"])
    at = pd.Index(outcome["entry_id"]).get_indexer(entries["entry_id"].to_numpy())  # unique ids
    merged = outcome.reindex(at).set_axis(out.index)  # -1: no objection (all missing)
    out["objection_open"] = merged["open"].fillna(False).astype(bool)
    out["corrected"] = merged["result"].eq(S.OBJ_CORRECT)
    typed_or_computed = out["points"].where(out["points"].notna(), out["computed"])
    out["effective"] = typed_or_computed.where(~out["corrected"], merged["corrected_points"])
    out["withdrawn"] = merged["result"].eq(S.OBJ_WITHDRAW) | out["status"].eq(S.ENTRY_WITHDRAWN)
    out["corrects"] = corrections(entries)
    return out


_ID_TOKEN = r"[0-9A-Za-z][0-9A-Za-z_\-]*"


def corrections(entries: pd.DataFrame) -> pd.Series:
    """Which entries are later corrections: their 备注 names (as a word of letters, digits and
    dashes) the 登记编号 of another entry of the same 户号 dated in an earlier month. Only the
    entries with a 备注 are looked at (a few), word by word, against the ids (no per-row loop)."""
    out = pd.Series(False, index=entries.index)
    notes = entries["note"].dropna() if "note" in entries.columns else pd.Series(dtype=object)
    if notes.empty:
        return out
    words = notes.astype(str).str.findall(_ID_TOKEN).explode().dropna()
    named = entries.drop_duplicates("entry_id").dropna(subset=["entry_id"]).set_index("entry_id")
    words = words[words.isin(named.index)]
    if words.empty:
        return out
    target = named.reindex(words.to_numpy())
    own = entries.loc[words.index]
    month = own["date"].dt.to_period("M").to_numpy()
    their = target["date"].dt.to_period("M").to_numpy()
    earlier = (pd.notna(month) & pd.notna(their)
               & (pd.Series(their).lt(pd.Series(month)).fillna(False).to_numpy()))
    same = own["hh_id"].to_numpy() == target["hh_id"].to_numpy()
    hit = pd.Series(earlier & same, index=words.index)
    out.loc[hit[hit].index.unique()] = True
    return out


def _counted(eff: pd.DataFrame) -> np.ndarray:
    return (eff["status"].eq(S.ENTRY_CONFIRMED).to_numpy(dtype=bool) & ~eff["withdrawn"].to_numpy(dtype=bool)
            & ~eff["objection_open"].to_numpy(dtype=bool) & eff["effective"].notna().to_numpy()
            & eff["date"].notna().to_numpy() & eff["hh_id"].notna().to_numpy())


def counted_entries(eff: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Entries that enter the ledger: 已确认, not withdrawn, with a known kind and points.

    :param columns: only these columns (cheaper than filtering every column of ``eff``).
    """
    return (eff if columns is None else eff[columns])[_counted(eff)]


def counted_mask(village: Village) -> np.ndarray:
    """Which rows of ``effective_entries(village)`` are ``counted_entries`` (worked out once per
    village: validation, the ledger and the township extract all ask; read-only)."""
    cached = village.derived.get("counted_mask")
    if cached is None:
        cached = village.derived["counted_mask"] = _counted(effective_entries(village))
        cached.flags.writeable = False
    return cached


def village_counted(village: Village, columns: list[str] | None = None) -> pd.DataFrame:
    """``counted_entries(effective_entries(village), columns)``, its rows found once per village."""
    eff = effective_entries(village)
    return (eff if columns is None else eff[columns])[counted_mask(village)]
