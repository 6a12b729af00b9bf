"""Invented people: names, 身份证号, telephone numbers and the household register (住户名册).

All of it is invented (well-formed, not real). Every function draws from the caller's
``numpy.random.Generator``, in a fixed order, so the same seed gives the same people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S

# Surnames common in Chongqing, with rough weights.
_SURNAMES = ("王李张刘陈杨黄周吴徐何罗谢唐邓冯蒋曾彭余胡赵熊廖向谭袁郑秦贺田付龚任冉")
_SURNAME_W = np.array([8, 8, 7, 7, 7, 5, 4, 4, 4, 3, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1,
                       1, 1, 1, 1, 1], dtype=float)
_MALE_CHARS = "建国华明强伟军平德福成富贵林勇志海文光兴春祥忠云安学良洪金万永刚正清德远宏利才中"
_FEMALE_CHARS = "秀英芳兰琼玉珍凤华梅丽群霞萍淑燕莲素娟敏容碧红琴桂"
# 身份证 region codes: the village's own district for villagers (沙坪坝区 when the district is not
# one of Chongqing's listed here); elsewhere for 非本村户籍常住.
_REGIONS = {
    "万州区": "500101", "涪陵区": "500102", "渝中区": "500103", "大渡口区": "500104", "江北区": "500105",
    "沙坪坝区": "500106", "九龙坡区": "500107", "南岸区": "500108", "北碚区": "500109", "綦江区": "500110",
    "大足区": "500111", "渝北区": "500112", "巴南区": "500113", "黔江区": "500114", "长寿区": "500115",
    "江津区": "500116", "合川区": "500117", "永川区": "500118", "南川区": "500119", "璧山区": "500120",
}
_DEFAULT_REGION = "500106"
_OTHER_REGIONS = ("500230", "500235", "500233", "510321", "511304", "522121", "430721")
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
_MOBILE_PREFIX = ("135", "136", "138", "139", "150", "151", "158", "159", "177", "180", "187", "188", "189", "199")


def width(n: int, minimum: int) -> int:
    """Digits of the numbers 1..n, at least ``minimum`` (ids keep one width: 0001 … 0320)."""
    return max(minimum, len(str(n)))


def ids(prefix: str, n: int, minimum: int) -> list[str]:
    """``prefix`` + 1..n zero-padded to one width (``ids("YY-", 24, 3)`` → YY-001 … YY-024)."""
    w = width(n, minimum)
    return [f"{prefix}{i:0{w}d}" for i in range(1, n + 1)]


def names(rng: np.random.Generator, n: int, taken: set[str] = frozenset(),
           male_share: float = 0.78) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct invented names and whether each is a man's (distinct, so that a scorer's
    name identifies one person)."""
    out: list[str] = []
    males: list[bool] = []
    seen = set(taken)
    surname_p = _SURNAME_W / _SURNAME_W.sum()
    while len(out) < n:
        k = 2 * (n - len(out)) + 50
        sur = rng.choice(list(_SURNAMES), size=k, p=surname_p)
        is_male = rng.random(k) < male_share
        first = np.where(is_male, rng.choice(list(_MALE_CHARS), size=k), rng.choice(list(_FEMALE_CHARS), size=k))
        second = np.where(is_male, rng.choice(list(_MALE_CHARS), size=k), rng.choice(list(_FEMALE_CHARS), size=k))
        second = np.where(rng.random(k) < 0.65, second, "")
        full = np.char.add(np.char.add(sur, first), second)
        for nm, m in zip(full.tolist(), is_male.tolist()):
            if nm not in seen and nm[1:2] != nm[2:3]:
                seen.add(nm)
                out.append(nm)
                males.append(m)
                if len(out) == n:
                    break
    return np.array(out, dtype=object), np.array(males, dtype=bool)


def id_numbers(rng: np.random.Generator, n: int, local: np.ndarray, male: np.ndarray, year: int,
               district: str | None = None) -> list[str]:
    """Well-formed 18-digit 身份证号 (region, birth date, sequence with sex parity, ISO 7064 check)."""
    region = np.where(local, region_code(district), rng.choice(_OTHER_REGIONS, size=n))
    birth = (np.datetime64(f"{year - 85}-01-01") + rng.integers(0, 60 * 365, n).astype("timedelta64[D]"))
    birth_s = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    # sequence: 3 digits, the last one odd for men and even for women
    seq = rng.integers(0, 100, n) * 10 + np.where(male, rng.choice([1, 3, 5, 7, 9], n), rng.choice([0, 2, 4, 6, 8], n))
    body = np.char.add(np.char.add(region.astype(str), birth_s), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer("".join(body.tolist()).encode("ascii"), dtype=np.uint8).reshape(n, 17) - 48
    check = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
    return np.char.add(body, check).tolist()


def households(rng: np.random.Generator, n: int, year: int,
               district: str | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """The household register (住户名册: heads, 户籍类型, 状态, carried points ...) of ``n``
    households, and which of them are party-member households (they get 基层党建 entries).

    :param district: the village's district (the 身份证 region of local villagers).
    """
    hh_ids = ids("", n, 4)
    heads, male = names(rng, n)
    nonlocal_ = rng.random(n) < 0.08
    r = rng.random(n)
    status = np.where(r < 0.025, "迁出", np.where(r < 0.035, "注销", S.HH_ACTIVE))
    group = np.char.add(rng.integers(1, 9, n).astype(str), "组")
    size = np.clip(rng.poisson(np.where(nonlocal_, 1.4, 2.4)) + 1, 1, 8).astype("float64")
    phone = np.char.add(rng.choice(_MOBILE_PREFIX, n), np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8))
    phone = np.where(rng.random(n) < 0.1, None, phone.astype(object))  # some elderly have no phone on file
    id_no = np.array(id_numbers(rng, n, ~nonlocal_, male, year, district), dtype=object)
    # points since the scheme began (2020): kept for life; part of it already spent at the supermarket
    carried_total = np.round(rng.gamma(2.2, 55.0, n))
    carried_total = np.where(nonlocal_ & (rng.random(n) < 0.4), 0.0, carried_total)
    carried_avail = carried_total - np.floor(carried_total * rng.uniform(0.0, 0.8, n))
    party = (status == S.HH_ACTIVE) & ~nonlocal_ & (rng.random(n) < 0.15)
    note = np.full(n, None, dtype=object)
    note[party] = "党员户"
    note[nonlocal_] = np.char.add("外来务工，租住", group[nonlocal_])
    note[status == "迁出"] = f"{year - 1}年迁往城区"
    note[status == "注销"] = f"{year - 1}年并户注销"
    df = pd.DataFrame({
        "hh_id": hh_ids,
        "head": heads,
        "hukou": np.where(nonlocal_, S.HUKOU_TYPES[1], S.HUKOU_TYPES[0]),
        "group": group,
        "members": size,
        "phone": phone,
        "id_number": id_no,
        "status": status,
        "carried_total": carried_total,
        "carried_available": carried_avail,
        "note": note,
    })
    return df[S.HOUSEHOLDS.fields], party


def region_code(district: str | None) -> str:
    """The 身份证 region code of a Chongqing district (沙坪坝区's for one not listed)."""
    return _REGIONS.get(district or "", _DEFAULT_REGION)
