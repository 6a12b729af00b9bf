"""What the monthly notice (公示) says, as a plain dict for the templates (issue 9).

Pure: built from the typed village; the points come from ``core.ledger.compute_ledger`` run
over a "what if" copy of the village in which the month's published (公示中) entries already
count, so the notice shows 累计积分 and 排名 as they will stand once the month is settled, with
the same arithmetic as 月度台账. Nothing here knows about jinja2 or Excel.

Privacy: the notice never carries a household's 身份证号 or 联系电话; ``masked`` also hides
the names of the heads of household (张*三).
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from .. import schema as S
from .clean import ROW
from .ledger import compute_ledger, month_label
from .village import Village, effective_entries

#: Joiner of the reasons of one household (item names, then the deduction categories).
REASON_JOINER = "、"


#: The dots that join the parts of a name (阿卜杜拉·买买提): a masked name keeps them, so it
#: still reads as a name of several parts.
NAME_DOTS = "·•・‧．."


def mask_name(name: str | None) -> str:
    """A name with its middle hidden: 张*三, 欧**明; a two-character name keeps its first (李*);
    a name of several parts keeps its dots and its first and last characters (阿***·**提; 马·*)."""
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    middle = "".join(ch if ch in NAME_DOTS else "*" for ch in name[1:-1])
    # 马·木 has nothing in its middle to hide: its last character is hidden instead (马·*)
    return name[0] + middle + (name[-1] if "*" in middle else "*")


def number(value) -> int | float:
    """A point value as the notice shows it: a whole number as int (6, not 6.0)."""
    value = round(float(value), 6) + 0.0
    return int(value) if value.is_integer() else value


def _numbers(values: pd.Series) -> list:
    """``number`` of each value (a column of a few thousand households at most)."""
    return [number(v) for v in values.tolist()]


def cn_date(day: _dt.date) -> str:
    """2026年4月1日."""
    return f"{day.year}年{day.month}月{day.day}日"


def cn_period(start: _dt.date, end: _dt.date) -> str:
    """2026年4月1日至4月7日 (the year once when both days share it)."""
    tail = f"{end.month}月{end.day}日" if end.year == start.year else cn_date(end)
    return f"{cn_date(start)}至{tail}"


def _as_period(month) -> pd.Period:
    return month if isinstance(month, pd.Period) else pd.Period(str(month), "M")


def as_published(village: Village, month) -> Village:
    """The village once ``month``'s 待公示 entries are moved to 公示中, as ``publish`` moves them:
    the notice ``publish`` prints is ``notice_data(as_published(village, month), month, ...)``."""
    month = _as_period(month)
    entries = village["entries"]
    moved = (entries["date"].notna() & (entries["date"].dt.to_period("M") == month)
             & entries["status"].eq(S.ENTRY_PENDING))
    entries = entries.assign(status=entries["status"].where(~moved, S.ENTRY_PUBLIC))
    return Village(village.settings, dict(village.tables, entries=entries), village.header_rows, village.settings_rows)


def what_if_published(village: Village, month: pd.Period) -> Village:
    """The village as it will stand once every published entry up to ``month`` is confirmed.

    Entries 公示中 dated up to the end of ``month`` count as 已确认, and an objection still open
    to one of them is set aside (the entry is on the notice until the objection is decided);
    decided objections (更正, 撤销) apply as they do in the ledger.
    """
    entries = village["entries"]
    dated = entries["date"].notna() & (entries["date"].dt.to_period("M") <= month)
    published = dated & entries["status"].eq(S.ENTRY_PUBLIC)
    entries = entries.assign(status=entries["status"].where(~published, S.ENTRY_CONFIRMED))
    objections = village["objections"]
    open_to_published = objections["result"].isna() & objections["entry_id"].isin(
        village["entries"].loc[published, "entry_id"])
    tables = dict(village.tables, entries=entries, objections=objections[~open_to_published])
    return Village(village.settings, tables, village.header_rows, village.settings_rows)


def month_entries(village: Village, month) -> pd.DataFrame:
    """The entries a notice of ``month`` lists: dated in the month, published (公示中) or
    confirmed, not withdrawn; with their effective points, item name and category."""
    month = _as_period(month)
    eff = effective_entries(village)
    here = (eff["date"].notna() & eff["hh_id"].notna() & (eff["date"].dt.to_period("M") == month)
            & eff["status"].isin((S.ENTRY_PUBLIC, S.ENTRY_CONFIRMED)) & ~eff["withdrawn"]
            & eff["effective"].notna())
    return eff[here]


def _reasons(entries: pd.DataFrame) -> pd.DataFrame:
    """Per household: the names of the items that earned points (in date order, each once) and
    the categories (指标类别) of its deductions."""
    entries = entries.sort_values(["date", "entry_id"], kind="stable")
    name = entries["catalogue_name"].where(entries["catalogue_name"].notna(), entries["item_name"])
    deduct = entries["kind"].eq(S.KIND_DEDUCT) | (entries["effective"] < 0)
    category = entries["category"].where(entries["category"].notna(), name)
    label = name.where(~deduct, category).fillna("")
    frame = pd.DataFrame({"hh_id": entries["hh_id"], "label": label, "deduct": deduct})
    frame = frame[frame["label"] != ""].drop_duplicates(["hh_id", "label", "deduct"])
    joined = frame.groupby(["hh_id", "deduct"], sort=False)["label"].agg(REASON_JOINER.join).unstack()
    out = pd.DataFrame(index=joined.index)
    out["items"] = joined[False] if False in joined.columns else ""
    out["deductions"] = joined[True] if True in joined.columns else ""
    return out.fillna("")


def _groups(village: Village, day: _dt.date) -> dict[str, str]:
    """Members in office on ``day`` of each group, names joined by 、."""
    members = village["members"]
    stamp = pd.Timestamp(day)
    serving = members[members["name"].notna()
                      & (members["term_from"].isna() | (members["term_from"] <= stamp))
                      & (members["term_to"].isna() | (members["term_to"] >= stamp))]
    return {g: S.NAME_JOINER.join(serving.loc[serving["group"].eq(g), "name"].tolist()) for g in S.GROUPS}


def notice_header(settings: dict, month: pd.Period, start: _dt.date, end: _dt.date, *, what: str, to: str,
                  by: str) -> dict:
    """What every posting of a month begins with: the place, the month, the publicity period and
    the sentence telling villagers whom to turn to (keys as ``templates/README.md`` lists them).

    :param what: what is posted (「乡村治理积分情况」), after 「现将{村}{月}」.
    :param to: the verb for raising an objection (提出, 反映).
    :param by: who looks into it (「积分评议小组调查核实」).
    """
    place = settings.get("village") or ""
    days = (end - start).days + 1
    contact, phone = settings.get("objection_contact"), settings.get("phone")
    who = f"异议受理人{contact}" if contact else f"{place}村民委员会"
    call = f"（联系电话：{phone}）" if phone else ""
    month_text = f"{month.year}年{month.month}月"
    sentence = (f"现将{place}{what.format(month=month_text)}予以公示，公示期为{cn_period(start, end)}（共{days}天）。"
                f"对公示内容有异议的，请在公示期内向{who}{call}{to}，由{by}后予以答复。")
    return {
        "district": settings.get("district") or "",
        "township": settings.get("township") or "",
        "village": place,
        "year": month.year,
        "month": month_label(month),
        "month_text": month_text,
        "start": start,
        "end": end,
        "days": days,
        "start_text": cn_date(start),
        "end_text": cn_date(end),
        "period_text": cn_period(start, end),
        "objection_contact": contact or "",
        "objection_phone": phone or "",
        "period_sentence": sentence,
    }


def notice_data(village: Village, month, *, start: _dt.date, end: _dt.date, today: _dt.date | None = None,
                masked: bool = False, code: str | None = None) -> dict:
    """The notice of ``month`` as a plain dict for the templates.

    :param village: the typed village (validated: the notice trusts its input).
    :param month: the month (``pd.Period`` or ``"YYYY-MM"``).
    :param start: first day of the publicity period.
    :param end: last day of the publicity period (inclusive).
    :param today: the day the notice is made (``made``); default ``start``.
    :param masked: hide the heads' names (张*三) — for WeChat and public-account postings.
    :param code: the month's verification code, once the month is sealed.
    :returns: see ``templates/README.md`` for every key.
    """
    month = _as_period(month)
    settings = village.settings
    place = settings.get("village") or ""
    ledger = compute_ledger(what_if_published(village, month), month)
    hh = village["households"]
    shown = hh.loc[hh["hh_id"].notna() & hh["status"].eq(S.HH_ACTIVE), ["hh_id", "head"]].drop_duplicates("hh_id")
    rows = ledger[ledger["month"] == month_label(month)].set_index("hh_id")
    # The ledger has a row per 正常 household and month (none only when the year is unset).
    rows = rows.reindex(shown["hh_id"]).fillna({"basic": 0.0, "contrib": 0.0, "deduct": 0.0,
                                                "month_total": 0.0, "cumulative": 0.0})
    # Ranked among the households on the notice (ties share the best rank, as in 月度台账),
    # so a household that moved away leaves no gap in the ranks villagers read.
    rows["rank"] = rows["cumulative"].rank(method="min", ascending=False).astype("int64")
    entries = month_entries(village, month)
    reasons = _reasons(entries).reindex(rows.index).fillna("")
    items, deductions = reasons["items"], reasons["deductions"]
    why = items.where(deductions == "", items + np.where(items != "", "；", "") + "扣分：" + deductions)
    heads = shown["head"].fillna("").astype(str)
    columns = {
        "hh_id": shown["hh_id"].tolist(),
        "head": (heads.map(mask_name) if masked else heads).tolist(),
        "plus": _numbers(rows["basic"] + rows["contrib"]),
        "minus": _numbers(rows["deduct"]),
        "total": _numbers(rows["month_total"]),
        "cumulative": _numbers(rows["cumulative"]),
        "rank": [int(r) for r in rows["rank"].tolist()],
        "items": items.tolist(),
        "deductions": deductions.tolist(),
        "reasons": why.tolist(),
    }
    # plain dicts with Python numbers (6, not 6.0 nor a numpy scalar), in 户号 order
    lines = sorted((dict(zip(columns, values)) for values in zip(*columns.values())), key=lambda h: h["hh_id"])
    groups = _groups(village, start)
    on_notice = entries[entries["hh_id"].isin(set(shown["hh_id"]))]
    head = notice_header(settings, month, start, end, what="{month}乡村治理积分情况", to="提出",
                         by="积分评议小组调查核实")
    return {
        "title": f"{place}{head['month_text']}乡村治理积分公示",
        **head,
        "note": "注：当月积分＝当月加分＋当月扣分；累计积分含上年结转积分，按本月公示的积分计算，排名按累计积分。",
        "households": lines,
        "totals": {
            "households": len(lines),
            "scored": int(on_notice["hh_id"].nunique()),
            "entries": int(len(on_notice)),
            "plus": number(sum(line["plus"] for line in lines)),
            "minus": number(sum(line["minus"] for line in lines)),
            "total": number(sum(line["total"] for line in lines)),
        },
        "signature": {
            "review": f"{place}{S.GROUP_REVIEW}",
            "supervise": f"{place}{S.GROUP_SUPERVISE}",
            "committee": f"{place}村民委员会",
            "review_members": groups[S.GROUP_REVIEW],
            "supervise_members": groups[S.GROUP_SUPERVISE],
        },
        "date": start,
        "date_text": cn_date(start),
        "made": today or start,
        "code": code or "",
        "masked": bool(masked),
    }


def published_rows(village: Village, month) -> tuple[np.ndarray, np.ndarray]:
    """Excel rows (积分登记) of the month's entries: (published or confirmed, still 待公示)."""
    month = _as_period(month)
    entries = village["entries"]
    here = entries["date"].notna() & (entries["date"].dt.to_period("M") == month)
    rows = entries[ROW].to_numpy()
    return (rows[(here & entries["status"].isin((S.ENTRY_PUBLIC, S.ENTRY_CONFIRMED))).to_numpy()],
            rows[(here & entries["status"].eq(S.ENTRY_PENDING)).to_numpy()])
