"""Where the love supermarket's goods come from (资金来源, issue 10): the value received (折合金额
of 物资入库) by 来源类型, per month and for the year, for a village; and the same per village for a
township. The notice asks for a lasting, many-sided supply (长效投入机制: 财政补贴, 社会组织,
帮扶单位, 企业捐助, 村集体经济收入), so the view shows every source type (zeros included) and how
spread the supply is over sources and months.

A total is never silently short: receipts without 折合金额 are counted (and named in the
summary), as are receipts whose 来源类型 is blank or not one of the list (their value is in no
source column and not in 合计).

Pure pandas: the typed 物资入库 frame in, frames and plain dicts out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import schema as S
from .clean import ROW

#: The source types, in the contract's order (every one is a column, zeros included).
SOURCES: tuple[str, ...] = S.FUNDING_SOURCES
#: The label of the year's row in ``funding_table`` and of the township's total row.
YEAR_ROW, TOTAL_ROW = "全年", "合计"
#: Columns after the sources: the sum of the sources, receipts counted, receipts without 折合金额,
#: receipts without a known 来源类型.
COUNT_FIELDS = ("total", "receipts", "missing", "unsourced")
#: Headers as printed (the sources are their own headers).
HEADERS = {"month": "月份", "village": "村", "total": "合计金额", "receipts": "入库笔数",
           "missing": "未填折合金额（笔）", "unsourced": "未填来源类型（笔）"}
#: A supply is called diverse from this many source types on, with no source above this share (%).
DIVERSE_SOURCES, LARGEST_SHARE = 3, 60.0


def _in_year(receipts: pd.DataFrame, year: int | None) -> pd.DataFrame:
    rec = receipts[receipts["date"].notna()]
    return rec if year is None else rec[rec["date"].dt.year == year]


def _sums(rec: pd.DataFrame, by: pd.Series, keys: pd.Index) -> pd.DataFrame:
    """Per key of ``by``: the value per source, its total, and the three counts (rows = ``keys``)."""
    known = rec["funding"].isin(SOURCES)
    amounts = (rec.loc[known].groupby([by[known], rec.loc[known, "funding"]])["amount"].sum()
               .unstack(fill_value=0.0).reindex(index=keys, columns=list(SOURCES), fill_value=0.0)
               .fillna(0.0).astype("float64"))
    out = amounts.copy()
    out["total"] = amounts.sum(axis=1)
    counts = pd.DataFrame({"receipts": 1, "missing": rec["amount"].isna().astype(int),
                           "unsourced": (~known).astype(int)}, index=rec.index)
    out[["receipts", "missing", "unsourced"]] = counts.groupby(by).sum().reindex(keys, fill_value=0).astype("int64")
    return out


def funding_table(receipts: pd.DataFrame, year: int) -> pd.DataFrame:
    """Value received by 来源类型 in each month of ``year`` and for the year.

    :param receipts: the typed 物资入库 (``date``, ``funding``, ``amount``).
    :returns: rows 「2026-01」 … 「2026-12」 then 「全年」 (column ``month``); a column per source
        of ``SOURCES`` (value, 0 when none), ``total`` (their sum), ``receipts`` (how many),
        ``missing`` (how many without 折合金额), ``unsourced`` (how many without a known 来源类型).
    """
    rec = _in_year(receipts, year)
    labels = pd.Index([f"{year:04d}-{m:02d}" for m in range(1, 13)])
    by = rec["date"].dt.strftime("%Y-%m").astype(object)
    months = _sums(rec, by, labels)
    year_row = months.sum().to_frame().T.astype(months.dtypes.to_dict())
    year_row.index = [YEAR_ROW]
    table = pd.concat([months, year_row])
    return table.rename_axis("month").rename_axis(columns=None).reset_index()


def _share(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole > 0 else None


def _figure(value: float) -> int | float:
    value = round(float(value), 2) + 0.0
    return int(value) if value.is_integer() else value


def funding_summary(receipts: pd.DataFrame, goods: pd.DataFrame, year: int, *, months: int = 12) -> dict:
    """What the year's funding says about the supply: shares per source, how many source types,
    the largest source's share, months with receipts, the receipts lacking a value, and a plain
    Chinese sentence on diversity and steadiness (长效投入机制).

    :param goods: 商品目录 (names the items of the receipts without 折合金额).
    :param months: the months of the year to judge steadiness over (the months so far while the
        year runs; 12 once it is over).
    :returns: ``year``, ``total``, ``receipts``, ``missing``, ``unsourced``, ``sources`` (list of
        ``source``, ``amount``, ``share`` in %, ``receipts``), ``sources_used``, ``largest``
        (``source``, ``share``) or None, ``months``, ``months_with_receipts``, ``missing_rows``
        (``receipt_id``, ``row``, ``date``, ``goods``), ``sentence``.
    """
    table = funding_table(receipts, year)
    whole = table.iloc[-1]
    total = float(whole["total"])
    rec = _in_year(receipts, year)
    per_source = rec.groupby("funding")["amount"].size().reindex(list(SOURCES), fill_value=0)
    sources = [{"source": s, "amount": _figure(whole[s]), "share": _share(float(whole[s]), total),
                "receipts": int(per_source[s])} for s in SOURCES]
    used = [s for s in sources if s["receipts"] > 0]
    largest = max(used, key=lambda s: s["amount"]) if used and total > 0 else None
    with_receipts = int((table["receipts"].iloc[:-1] > 0).sum())
    names = goods[goods["goods_id"].notna()].drop_duplicates("goods_id").set_index("goods_id")["name"]
    lacking = rec[rec["amount"].isna()].sort_values(["date", ROW], kind="stable")
    missing_rows = [{"receipt_id": r.receipt_id, "row": int(getattr(r, ROW)), "date": r.date.date().isoformat(),
                     "goods": names.get(r.goods_id, r.goods_id)} for r in lacking.itertuples(index=False)]
    summary = {
        "year": year, "total": _figure(total), "receipts": int(whole["receipts"]), "missing": int(whole["missing"]),
        "unsourced": int(whole["unsourced"]), "sources": sources, "sources_used": len(used),
        "largest": None if largest is None else {"source": largest["source"], "share": largest["share"]},
        "months": months, "months_with_receipts": with_receipts, "missing_rows": missing_rows,
    }
    summary["sentence"] = _sentence(summary)
    return summary


def _sentence(s: dict) -> str:
    """The summary in one plain Chinese paragraph for the village committee and the township."""
    year = s["year"]
    if s["receipts"] == 0:
        return (f"{year}年爱心超市还没有物资入库记录。请登记每次收到的物资及其来源，"
                "争取财政、社会组织、帮扶单位、企业和村集体多方投入，形成长效投入机制。")
    months, got = s["months"], s["months_with_receipts"]
    steady = got >= math.ceil(months / 2)
    if s["largest"] is None:
        text = (f"{year}年共入库 {s['receipts']} 笔，来自 {s['sources_used']} 类来源，{months} 个月中有 {got} 个月有入库；"
                "入库都没有填写折合金额，无法按金额比较各类来源。")
    else:
        big = s["largest"]
        diverse = s["sources_used"] >= DIVERSE_SOURCES and big["share"] <= LARGEST_SHARE
        lead = (f"{year}年共入库 {s['receipts']} 笔，折合金额 {s['total']} 元，来自 {s['sources_used']} 类来源，"
                f"最大来源「{big['source']}」占 {big['share']:g}%，{months} 个月中有 {got} 个月有入库")
        if diverse and steady:
            text = lead + "：来源多元、投入持续，符合长效投入机制的要求。"
        else:
            advice = []
            if not diverse:
                advice.append("来源较单一，建议争取社会组织、帮扶单位、企业和村集体经济等多方投入")
            if not steady:
                advice.append("入库集中在少数月份，建议按月或按季度稳定补充物资")
            text = lead + "：" + "；".join(advice) + "，形成长效投入机制。"
    if s["missing"]:
        text += f"另有 {s['missing']} 笔入库没有填写折合金额，金额未计入，请在「{S.RECEIPTS.name}」中补填。"
    if s["unsourced"]:
        text += f"有 {s['unsourced']} 笔入库没有填写来源类型，金额未计入任何来源，请在「{S.RECEIPTS.name}」中补填。"
    return text


def funding_by_village(frames: dict[str, pd.DataFrame], year: int | None = None) -> pd.DataFrame:
    """The township's view: value received by 来源类型 per village, and a 「合计」 row.

    :param frames: the typed 物资入库 of each village, by village name (in the order given).
    :param year: only receipts dated in this year (default: all of each frame).
    :returns: column ``village``, a column per source, ``total``, ``receipts``, ``missing``,
        ``unsourced``; one row per village, then 「合计」.
    """
    names = pd.Index(list(frames), dtype=object)
    parts = []
    for name, receipts in frames.items():
        rec = _in_year(receipts, year)
        parts.append(_sums(rec, pd.Series(name, index=rec.index, dtype=object), pd.Index([name], dtype=object)))
    if parts:
        villages = pd.concat(parts)
    else:
        villages = pd.DataFrame(0.0, index=names, columns=list(SOURCES) + ["total"]).assign(receipts=0, missing=0,
                                                                                             unsourced=0)
    total = villages.sum().to_frame().T.astype(villages.dtypes.to_dict())
    total.index = [TOTAL_ROW]
    return pd.concat([villages, total]).rename_axis("village").rename_axis(columns=None).reset_index()


def table_records(table: pd.DataFrame) -> list[dict]:
    """A funding table as JSON-ready dicts keyed by the printed headers (values: int where whole)."""
    out = []
    for rec in table.to_dict("records"):
        row = {}
        for key, value in rec.items():
            if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, bool):
                value = _figure(value)
            row[HEADERS.get(key, key)] = value
        out.append(row)
    return out
