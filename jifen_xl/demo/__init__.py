"""The demonstration data: a realistic, deterministic village-year (or a whole township of them).

* ``people``   invented names, 身份证号, telephones; the household register
* ``village``  one village: catalogue, review groups, a year of entries, objections
               (``generate_village``)
* ``market``   the love supermarket: goods, receipts, exchanges
* ``mistakes`` the mistakes clerks really make, planted in a copy (``planted_mistakes``)
* ``run``      ``run_demo``: build, run the monthly cycle (publish, close with seals, the last
               month's notice), verify, validate; the lines ``jifen-xl demo`` prints
* ``township`` ``generate_township``: N villages of one township into a folder

The demonstration village is 永宁寺村, 中梁镇, 沙坪坝区 (a pilot village named in
沙委农办〔2020〕13号); district, township and village are parameters. The same seed gives the
same village. All names, telephone and ID numbers are invented (well-formed, not real).
"""

from .mistakes import Mistake, plant_mistakes, planted_mistakes
from .run import notice_paths, run_demo, shop_notice_paths
from .township import TownshipVillage, generate_township
from .village import (DEFAULT_ENTRIES_PER_HOUSEHOLD, DISTRICT, NOTICE_DAY, PUBLICITY_DAYS, TOWNSHIP, VILLAGE,
                      cycle_days, effective_points, generate_village, item_values)

__all__ = [
    "DEFAULT_ENTRIES_PER_HOUSEHOLD", "DISTRICT", "NOTICE_DAY", "PUBLICITY_DAYS", "TOWNSHIP", "VILLAGE", "Mistake",
    "TownshipVillage", "cycle_days", "effective_points", "generate_township", "generate_village", "item_values",
    "notice_paths", "plant_mistakes", "planted_mistakes", "run_demo", "shop_notice_paths",
]
