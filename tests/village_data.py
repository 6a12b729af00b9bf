"""A small, hand-checkable village (6 households, a dozen entries) used across the tests.

Expected ledger figures are worked out by hand in the comments so the tests do not
re-run the code under test to get their expectations.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from jifen_xl.core.catalogue import default_catalogue

D = dt.date
SETTINGS = dict(district="沙坪坝区", township="中梁镇", village="永宁寺村", year=2026, publicity_days=7,
                objection_contact="王文书", phone="023-65000000")

HOUSEHOLDS = [
    # hh_id, head, hukou, group, members, phone, id, status, carried_total, carried_available, note
    ("0001", "张大山", "本村户籍", "1组", 4, "13800000001", "500106198001010011", "正常", 100, 80, None),
    ("0002", "李秀英", "本村户籍", "1组", 3, "13800000002", None, "正常", 50, 50, None),
    ("0003", "王建国", "非本村户籍常住", "2组", 2, None, None, "正常", None, None, "2025年迁入"),
    ("0004", "赵小红", "本村户籍", "2组", 5, None, None, "正常", 20, 5, None),
    ("0005", "孙老汉", "本村户籍", "3组", 1, None, None, "迁出", 10, 10, None),
    ("0006", "周明", "本村户籍", "3组", 3, None, None, "正常", 0, 0, None),
]

MEMBERS = [
    # name, hh_id, group, role, from, to
    ("张大山", "0001", "积分评议小组", "组长", D(2026, 1, 1), D(2026, 12, 31)),
    ("刘会计", None, "积分评议小组", "组员", D(2026, 1, 1), D(2026, 12, 31)),
    ("陈老师", None, "积分评议小组", "组员", D(2026, 1, 1), D(2026, 12, 31)),
    ("吴支书", None, "监督管理小组", "组长", D(2026, 1, 1), D(2026, 12, 31)),
    ("郑主任", None, "监督管理小组", "组员", D(2026, 1, 1), D(2026, 12, 31)),
    ("冯委员", None, "监督管理小组", "组员", D(2026, 1, 1), D(2026, 12, 31)),
]

ENTRIES = [
    # entry_id, date, hh_id, head, code, item_name, qty, points, source, scorers, evidence, status, note
    ("2026-001", D(2026, 1, 5), "0001", "张大山", "JC-22", "参与村级志愿者服务活动", 2, 6, "个人申报", "刘会计、陈老师", None, "已确认", None),
    ("2026-002", D(2026, 1, 9), "0002", "李秀英", "JC-01", "文明礼貌", None, None, "平时发现", "张大山", None, "已确认", None),
    ("2026-003", D(2026, 1, 20), "0004", "赵小红", "KF-02", "邻里纠纷", 1, -3, "群众反映", "刘会计", "调解记录", "已确认", None),
    ("2026-004", D(2026, 2, 3), "0003", "王建国", "GX-03", "获得村级表彰奖励", 1, 10, "他人报告", "陈老师", None, "已确认", None),
    ("2026-005", D(2026, 2, 14), "0002", "李秀英", "JC-22", "参与村级志愿者服务活动", 1, 3, "个人申报", "刘会计", None, "已确认", None),
    ("2026-006", D(2026, 2, 20), "0004", "赵小红", "JC-13", "不乱倒垃圾", 1, 1, "平时发现", "张大山", None, "已确认", None),
    # objected and corrected: 3 -> 2
    ("2026-007", D(2026, 2, 25), "0006", "周明", "JC-24", "参加技能培训", 1, 3, "个人申报", "陈老师", None, "已确认", None),
    # objected and withdrawn
    ("2026-008", D(2026, 3, 2), "0001", "张大山", "KF-10", "不爱护环境卫生", 1, -2, "群众反映", "刘会计", "照片", "已撤销", None),
    ("2026-009", D(2026, 3, 10), "0006", "周明", "GX-04", "先进事迹", 1, 20, "他人报告", "张大山", None, "已确认", None),
    # April, still under publicity: April cannot be closed yet (the ledger runs through March)
    ("2026-010", D(2026, 4, 2), "0002", "李秀英", "GX-02", "获得镇街级表彰奖励", 1, 30, "他人报告", "陈老师", None, "公示中", None),
]

OBJECTIONS = [
    ("YY-01", "2026-007", "周明", D(2026, 3, 1), "培训只去了半天", "张大山、刘会计", "更正", 2, D(2026, 3, 5), None),
    ("YY-02", "2026-008", "张大山", D(2026, 3, 6), "垃圾不是我家的", "陈老师", "撤销", None, D(2026, 3, 9), None),
    ("YY-03", "2026-004", "李秀英", D(2026, 2, 8), "表彰属实吗", "刘会计", "维持", None, D(2026, 2, 10), None),
]

GOODS = [("SP-01", "大米", "5kg", "袋", 20, 5, None), ("SP-02", "洗衣粉", "1kg", "袋", 5, 10, None)]
RECEIPTS = [("RK-01", D(2026, 1, 2), "企业爱心捐助", "重庆某米业公司", "SP-01", 30, 1500, "王文书", None),
            ("RK-02", D(2026, 1, 2), "财政补贴", "中梁镇", "SP-02", 50, 500, "王文书", None)]
EXCHANGES = [
    ("DH-01", D(2026, 1, 25), "0001", "SP-01", 1, 20, "王文书", None),  # Jan: 0001 spends 20
    ("DH-02", D(2026, 3, 15), "0006", "SP-02", 2, 10, "王文书", None),  # Mar: 0006 spends 10
]


def frame(spec_key: str, rows) -> pd.DataFrame:
    from jifen_xl import schema

    return pd.DataFrame(rows, columns=schema.sheet(spec_key).fields)


def village_tables() -> dict[str, pd.DataFrame]:
    return {
        "households": frame("households", HOUSEHOLDS),
        "indicators": default_catalogue(2026),
        "members": frame("members", MEMBERS),
        "entries": frame("entries", ENTRIES),
        "objections": frame("objections", OBJECTIONS),
        "goods": frame("goods", GOODS),
        "receipts": frame("receipts", RECEIPTS),
        "exchanges": frame("exchanges", EXCHANGES),
    }


# Hand-worked ledger, month -> hh_id -> (basic, contrib, deduct, month_total, cumulative, spent, available, rank)
# Jan: 0001 +6 (cum 106, spent 20, avail 66); 0002 +2 (52, 52); 0004 -3 (17, 2); 0003 0; 0006 0.
# Feb: 0003 +10; 0002 +3 (55); 0004 +1 (18, 3); 0006 +2 corrected (2, 2).
# Mar: 0006 +20 (22, spent 10 -> avail 12); 0001's -2 withdrawn. (Apr: 0002's +30 still 公示中.)
EXPECTED = {
    "2026-01": {
        "0001": (6, 0, 0, 6, 106, 20, 66, 1),
        "0002": (2, 0, 0, 2, 52, 0, 52, 2),
        "0004": (0, 0, -3, -3, 17, 0, 2, 3),
        "0003": (0, 0, 0, 0, 0, 0, 0, 4),
        "0006": (0, 0, 0, 0, 0, 0, 0, 4),
    },
    "2026-02": {
        "0001": (0, 0, 0, 0, 106, 20, 66, 1),
        "0002": (3, 0, 0, 3, 55, 0, 55, 2),
        "0004": (1, 0, 0, 1, 18, 0, 3, 3),
        "0003": (0, 10, 0, 10, 10, 0, 10, 4),
        "0006": (2, 0, 0, 2, 2, 0, 2, 5),
    },
    "2026-03": {
        "0001": (0, 0, 0, 0, 106, 20, 66, 1),
        "0002": (0, 0, 0, 0, 55, 0, 55, 2),
        "0006": (0, 20, 0, 20, 22, 10, 12, 3),
        "0004": (0, 0, 0, 0, 18, 0, 3, 4),
        "0003": (0, 0, 0, 0, 10, 0, 10, 5),
    },
}
