"""A whole township of demo villages, one workbook each, as a township officer collects them.

``generate_township`` writes N village workbooks of one township into a folder: distinct
village names, distinct seeds derived from one seed (the same seed gives the same township),
sizes that differ from village to village, and optionally one village carrying the planted
mistakes (its file is named like the others, as a township receives it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import JifenError
from ..io.template import build_workbook
from .mistakes import Mistake, planted_mistakes
from .village import DISTRICT, TOWNSHIP, VILLAGE, generate_village

#: Village names used when the caller gives a number of villages (common names, invented here).
VILLAGE_NAMES = (
    VILLAGE, "石岗村", "龙泉村", "凤凰村", "桂花村", "新发村", "庙堡村", "双碑村", "青木村", "白鹤村",
    "金龙村", "高峰村", "团结村", "长岭村", "大石村", "柏林村", "回龙村", "三合村", "观音村", "玉泉村",
)
#: Households per village when the caller does not say: drawn between these (inclusive, exclusive).
HOUSEHOLDS_RANGE = (150, 450)


@dataclass(frozen=True)
class TownshipVillage:
    """One generated village workbook.

    :param path: the workbook written.
    :param village: its 村 (基本信息).
    :param seed: the seed ``generate_village`` was given for it.
    :param households: households in its register.
    :param mistakes: the mistakes planted in it (empty for a clean village).
    """

    path: Path
    village: str
    seed: int
    households: int
    mistakes: tuple[Mistake, ...] = ()


def village_seed(seed: int, index: int) -> int:
    """The seed of the ``index``-th village of a township generated with ``seed`` (distinct per
    village, the same on every machine)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def generate_township(directory, district: str = DISTRICT, township: str = TOWNSHIP,
                      villages: int | Sequence[str] = 5, *, seed: int = 2026, year: int = 2026,
                      households: int | Sequence[int] | None = None, mistakes_in: str | None = None,
                      entries_per_household: float | None = None, settled_months: int = 0) -> list[TownshipVillage]:
    """Write one village workbook per village of ``township`` into ``directory``.

    :param directory: the folder (created if missing). Existing workbooks are never overwritten:
        the call refuses before writing anything.
    :param villages: the villages' names, or how many (names taken from ``VILLAGE_NAMES``).
    :param seed: the same seed (and arguments) gives the same workbooks' content.
    :param households: households per village (one number for all, or one per village); by
        default each village draws its own size from ``HOUSEHOLDS_RANGE``.
    :param mistakes_in: the village whose workbook carries the planted mistakes (see
        ``mistakes.planted_mistakes``); ``None``: every village is clean.
    :param entries_per_household: as ``generate_village``.
    :param settled_months: as ``generate_village``: months 1..k already settled by hand (their
        entries 已确认), so the township has confirmed points to consolidate (0: every entry 待公示).
    :returns: one ``TownshipVillage`` per workbook, in the order of ``villages``.
    """
    if isinstance(villages, int) and not 1 <= villages <= len(VILLAGE_NAMES):
        raise ValueError(f"villages must be 1..{len(VILLAGE_NAMES)} (or a list of names)")
    names = list(VILLAGE_NAMES[:villages]) if isinstance(villages, int) else [str(v).strip() for v in villages]
    if not names or any(not n for n in names) or len(set(names)) != len(names):
        raise ValueError("village names must be given, non-empty and distinct")
    if mistakes_in is not None and mistakes_in not in names:
        raise ValueError(f"mistakes_in {mistakes_in!r} is not one of the villages")
    if households is None:
        sizes = np.random.default_rng(seed).integers(*HOUSEHOLDS_RANGE, len(names)).tolist()
    elif isinstance(households, int):
        sizes = [households] * len(names)
    else:
        sizes = [int(h) for h in households]
        if len(sizes) != len(names):
            raise ValueError("households must give one number per village")

    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise JifenError(f"「{folder}」是一个文件，不是文件夹。请换一个文件夹名。")
    paths = [folder / f"{name}-{year}.xlsx" for name in names]
    existing = [p.name for p in paths if p.exists()]
    if existing:
        raise JifenError(f"文件夹「{folder}」中已有「{'」「'.join(existing)}」。为避免覆盖，工具不会改写它们；"
                         f"请换一个空文件夹，或先把这些文件移走。")
    folder.mkdir(parents=True, exist_ok=True)

    out = []
    for i, (name, size, path) in enumerate(zip(names, sizes, paths)):
        own_seed = village_seed(seed, i)
        settings, tables = generate_village(households=size, seed=own_seed, year=year,
                                            entries_per_household=entries_per_household, settled_months=settled_months,
                                            district=district, township=township, village=name)
        planted: tuple[Mistake, ...] = ()
        if name == mistakes_in:
            tables, found = planted_mistakes(tables)
            planted = tuple(found)
        build_workbook(path, settings, tables)
        out.append(TownshipVillage(path, name, own_seed, size, planted))
    return out
