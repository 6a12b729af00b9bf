"""The default catalogue (积分指标): the appendix of the district notice.

沙委农办〔2020〕13号, 附件《乡村社会治理积分制参考指标（示例）》 lists the basic
points (six categories), the contribution points and the deduction items. Each
enumerated behaviour becomes one catalogue row. The values and caps are a
starting proposal only: the notice leaves them to each village's democratic
procedure, so 决议依据 carries ``schema.RESOLUTION_PLACEHOLDER`` until the
villagers' representatives adopt them.

Pure: pandas in, pandas out; no file access.
"""

from __future__ import annotations

import datetime as _dt

import pandas as pd

from .. import schema

#: Phrases that, in a deduction's name or note, mean it takes away what a villager
#: is entitled to by law: government subsidies or collective income. The notice
#: (二（一）五) forbids such penalties; the validator warns when it finds one.
SUBSIDY_WORDS: tuple[str, ...] = (
    "补贴",
    "补助",
    "低保",
    "五保",
    "特困",
    "救助",
    "救济",
    "抚恤",
    "优抚",
    "养老金",
    "养老保险",
    "医疗保险",
    "医保",
    "社保",
    "分红",
    "股金",
    "集体收益",
    "集体经济收益",
    "集体经济收入",
    "收益分配",
    "征地补偿",
    "拆迁补偿",
    "惠民",
    "扣发",
    "停发",
    "缓发",
)

# (category, name, points, cap_month, cap_year, note)
# Basic points: small values, monthly and yearly caps so that everyday behaviour
# cannot be counted without limit.
_BASIC: tuple[tuple[str, str, float, float | None, float | None, str], ...] = (
    ("公德美德", "文明礼貌", 2, 2, 24, "言行文明、待人礼貌"),
    ("公德美德", "助人为乐", 3, 6, 36, "主动帮助有困难的群众"),
    ("公德美德", "扶贫济困", 3, 6, 36, "帮扶困难家庭、参与捐助"),
    ("公德美德", "尊老爱幼", 2, 2, 24, "赡养老人、关爱未成年人"),
    ("公德美德", "男女平等", 2, 2, 24, ""),
    ("公德美德", "家庭和睦", 2, 2, 24, ""),
    ("公德美德", "勤俭持家", 2, 2, 24, "红白喜事简办、不铺张浪费"),
    ("公德美德", "邻里团结", 2, 2, 24, ""),
    ("遵纪守法", "学法知法守法用法", 2, 2, 24, "参加普法活动、依法办事"),
    ("遵纪守法", "遵守单位和行业纪律", 2, 2, 24, ""),
    ("遵纪守法", "遵守村规民约", 2, 2, 24, ""),
    ("人居环境", "支持人居环境建设", 2, 4, 24, ""),
    ("人居环境", "不乱倒垃圾", 1, 1, 12, "垃圾分类投放"),
    ("人居环境", "不焚烧秸秆", 1, 1, 12, ""),
    ("人居环境", "不散养鸡鸭等家禽", 1, 1, 12, "家禽圈养"),
    ("人居环境", "清理“蓝棚顶”", 3, 3, 12, "五清理一活动"),
    ("人居环境", "清理无人居住废旧房", 5, 5, 20, "五清理一活动"),
    ("人居环境", "清理房前屋后杂物堆", 2, 2, 24, "五清理一活动"),
    ("人居环境", "清理田间地头废弃物", 2, 2, 24, "五清理一活动"),
    ("人居环境", "清理管线“蜘蛛网”", 2, 2, 12, "五清理一活动"),
    ("人居环境", "开展农村爱国卫生运动", 2, 4, 24, "五清理一活动"),
    ("公益事业", "参与村级志愿者服务活动", 3, 9, 60, "每参加一次计一次"),
    ("公益事业", "为村发展和治理建言献策", 3, 6, 30, "建议被采纳"),
    ("学习培训", "参加技能培训", 3, 6, 30, "每参加一次培训计一次"),
    ("学习培训", "考取大中专院校", 5, None, 10, "家庭成员当年被录取"),
    ("基层党建", "按时参加“三会一课”", 2, 4, 48, "党员户"),
    ("基层党建", "按规定足额交纳党费", 1, 1, 12, "党员户"),
    ("基层党建", "按时参加村党支部活动", 2, 4, 48, "党员户"),
    ("基层党建", "发挥党员先锋模范作用", 3, 6, 36, "党员户"),
)

# Contribution points: larger, rarer; yearly caps only.
_CONTRIB: tuple[tuple[str, str, float, float | None, float | None, str], ...] = (
    ("表彰奖励", "获得区级以上表彰奖励", 50, None, 100, "按表彰文件计分"),
    ("表彰奖励", "获得镇街级表彰奖励", 30, None, 60, "按表彰文件计分"),
    ("表彰奖励", "获得村级表彰奖励", 10, None, 30, ""),
    ("先进事迹", "先进事迹", 20, None, 60, "见义勇为、好人好事等经核实"),
    ("立功表现", "立功表现", 30, None, 60, ""),
    ("服兵役", "服兵役", 30, None, 30, "家庭成员应征入伍"),
)

# Deductions (奖为主、罚为辅): negative points, caps so that no household loses
# without limit. None of them touches subsidies or collective income.
_DEDUCT: tuple[tuple[str, str, float, float | None, float | None, str], ...] = (
    ("道德失范", "道德失范", -5, 10, 30, ""),
    ("邻里纠纷", "邻里纠纷", -3, 6, 20, "经调解仍不听劝"),
    ("恶意上访", "恶意上访", -10, 20, 40, ""),
    ("子女辍学", "子女辍学", -10, 10, 20, "义务教育阶段子女"),
    ("参与赌博", "参与赌博", -10, 20, 40, ""),
    ("乱搭乱建", "乱搭乱建", -10, 20, 40, ""),
    ("阻碍发展", "阻碍村集体经济发展", -20, 20, 40, ""),
    ("阻碍发展", "阻碍农村产业发展", -20, 20, 40, ""),
    ("阻碍发展", "阻碍社会事业工作开展", -20, 20, 40, "阻碍各项社会事业工作在农村的开展"),
    ("不爱护环境卫生", "不爱护环境卫生", -2, 6, 24, "乱倒垃圾、焚烧秸秆等"),
)

_PREFIX = {schema.KIND_BASIC: "JC", schema.KIND_CONTRIB: "GX", schema.KIND_DEDUCT: "KF"}


def default_catalogue(year: int) -> pd.DataFrame:
    """The notice's reference indicators as a 积分指标 table effective from 1 January of ``year``.

    :param year: the workbook's year (基本信息 年度).
    :returns: one row per item, columns ``schema.INDICATORS.fields``; 生效日期 is a
        ``datetime.date``, 失效日期 ``None``, blank caps and notes ``NaN``.
    """
    valid_from = _dt.date(int(year), 1, 1)
    rows = []
    for kind, items in ((schema.KIND_BASIC, _BASIC), (schema.KIND_CONTRIB, _CONTRIB),
                        (schema.KIND_DEDUCT, _DEDUCT)):
        for i, (category, name, points, cap_month, cap_year, note) in enumerate(items, 1):
            rows.append({
                "code": f"{_PREFIX[kind]}-{i:02d}",
                "kind": kind,
                "category": category,
                "name": name,
                "points": float(points),
                "cap_month": float("nan") if cap_month is None else float(cap_month),
                "cap_year": float("nan") if cap_year is None else float(cap_year),
                "valid_from": valid_from,
                "valid_to": None,
                "resolution": schema.RESOLUTION_PLACEHOLDER,
                "note": note or None,
            })
    df = pd.DataFrame(rows, columns=schema.INDICATORS.fields)
    # Keep the blank end date as an object column of None (not a float NaN column).
    df["valid_to"] = pd.Series([None] * len(df), dtype=object)
    return df


def takes_entitlement(text: str) -> str | None:
    """The first of ``SUBSIDY_WORDS`` found in ``text`` (a deduction's name or note), else None.

    :param text: free text; non-strings are treated as empty.
    """
    if not isinstance(text, str):
        return None
    for word in SUBSIDY_WORDS:
        if word in text:
            return word
    return None
