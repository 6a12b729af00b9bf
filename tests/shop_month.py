"""A supermarket month for the posting (物资接收与兑换公示) tests: the small fixture village
(tests/village_data.py) with more goods, receipts and exchanges in March 2026.

Worked by hand (March 2026):
- receipts: 社会组织捐赠 区慈善会 2 (食用油 4 桶 480.00; 肥皂 20 块, no 折合金额), 企业爱心捐助
  重庆某米业公司 1 (大米 10 袋 500.00), 财政补贴 中梁镇 1 (肥皂 30 块 60.00): 4 receipts, 64 units,
  1,040.00 yuan (one receipt without an amount).
- exchanges: 0001 张大山 大米×2 (40 points; available 66 − 40 = 26); 0002 李秀英 食用油×1, 肥皂×3
  (two rows, 30 + 4 + 2 = 36 points; available 55 − 36 = 19); 0006 周明 洗衣粉×2 (DH-02, 10
  points; available 12): 3 households, 5 exchanges, 86 points.
- stock at March's end: 大米 29 + 10 − 2 = 37; 洗衣粉 50 + 0 − 2 = 48; 食用油 0 + 4 − 1 = 3 (预警 3:
  低于预警); 肥皂 0 + 50 − 3 = 47.
"""

from __future__ import annotations

import datetime as dt

from . import village_data as V
from .test_validate import add

D = dt.date


def shop_tables() -> dict:
    t = V.village_tables()
    t = add(t, "goods", ("SP-03", "食用油", "5L", "桶", 30, 3, None), ("SP-04", "肥皂", None, "块", 2, None, None))
    t = add(t, "receipts",
            ("RK-03", D(2026, 3, 3), "社会组织捐赠", "区慈善会", "SP-03", 4, 480, "王文书", None),
            ("RK-04", D(2026, 3, 8), "企业爱心捐助", "重庆某米业公司", "SP-01", 10, 500, "王文书", None),
            ("RK-05", D(2026, 3, 8), "社会组织捐赠", "区慈善会", "SP-04", 20, None, "王文书", None),
            ("RK-06", D(2026, 3, 12), "财政补贴", "中梁镇", "SP-04", 30, 60, "王文书", None))
    return add(t, "exchanges",
               ("DH-03", D(2026, 3, 16), "0002", "SP-03", 1, 30, "王文书", None),
               ("DH-04", D(2026, 3, 16), "0002", "SP-04", 2, 4, "王文书", None),
               ("DH-05", D(2026, 3, 20), "0001", "SP-01", 2, 40, "王文书", None),
               ("DH-06", D(2026, 3, 22), "0002", "SP-04", 1, 2, "王文书", None))
