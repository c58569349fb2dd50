"""A realistic national distribution plan file (820,161 TPS over all 83,762 desa/kelurahan) for load tests.

Everything is synthetic but shaped like the 2024 elections, and deterministic for a seed:

- TPS per village: every village gets at least one TPS; the rest of its province's share is spread over
  the province's villages by seeded weights, a kelurahan (urban, code ``1xxx``) weighing three times a desa
  and a desa in a kota 1.5 times. Provincial shares follow the approximate 2024 TPS counts per province
  (``_PROVINCE_TPS``, rounded, used only as weights); the national total is exactly ``NATIONAL_TPS``.
- DPT per TPS: about 250 on average (2024: 204.8 M voters / 820,161 TPS), similar within one village as
  KPU splits a village's voters evenly, smaller in villages of one or two TPS; always 50–600.
- Contests: DKI Jakarta ``gubernur``; a kota ``gubernur;walikota``; a kabupaten ``gubernur;bupati``.
- Modes, by kab/kota (first rule that applies), drawn per kecamatan (PPK leg, so one mode per kecamatan),
  per desa (PPS leg) and per TPS:

  - *highlands* (air): Papua Pegunungan (95) and the highland kabupaten of Papua Tengah (Puncak Jaya,
    Paniai, Puncak, Dogiyai, Intan Jaya, Deiyai): PPK legs mostly by air, PPS legs by air or on foot,
    TPS legs often on foot; 8% of rural TPS supplied directly by air;
  - *islands* (sea): a kab/kota named "Kepulauan"/"Kep.": PPK legs mostly by sea, PPS and TPS legs partly;
  - *Papua lowlands* (91, 92, 93): some air, river and sea legs, TPS legs partly on foot;
  - *archipelago provinces* (Maluku 81, Maluku Utara 82, Kepulauan Riau 21, Bangka Belitung 19, NTT 53,
    Papua Barat Daya 96, Sulawesi Utara 71 less so): a province-specific share of PPK legs by sea, less
    for PPS and TPS legs (kota excepted);
  - *Kalimantan* (61–65, kabupaten only): a share of legs by river;
  - *kota*: land; *elsewhere*: land, with 3% of rural desa TPS legs on foot.

  Legs on foot are only drawn for rural desa (code ``2xxx``/``3xxx``), as are direct TPS (``rute=langsung``)
  in the remote profiles.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random

from siaga_schemas.events.logistics import TransportMode as M

from .geography import (
    PROVINCE_TPS,
    Profile,
    contests_for,
    is_kota,
    kab_name,
    pick,
    profile_for,
    rural,
    villages,
)
from .values import MODE_NAMES

__all__ = [
    "NATIONAL_TPS",
    "NATIONAL_VOTERS",
    "NationalSummary",
    "main",
    "national_tps_counts",
    "write_national_csv",
]

NATIONAL_TPS = 820_161
NATIONAL_VOTERS = 204_807_222  # DPT Pemilu 2024
MAX_TPS = 999
HEADER = (
    "kode_desa",
    "no_tps",
    "dpt",
    "pemilihan",
    "rute",
    "moda",
    "moda_pps",
    "moda_ppk",
    "mulai_distribusi",
)


def _apportion(weights: Sequence[float], total: int, cap: int) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), no share above ``cap``."""
    out = [0] * len(weights)
    open_ = list(range(len(weights)))
    left = total
    while True:
        wsum = sum(weights[i] for i in open_)
        over = [i for i in open_ if weights[i] / wsum * left > cap]
        if not over:
            break
        for i in over:
            out[i] = cap
        left -= cap * len(over)
        capped = set(over)
        open_ = [i for i in open_ if i not in capped]
    shares = {i: weights[i] / wsum * left for i in open_}
    for i, s in shares.items():
        out[i] = int(s)
    rest = left - sum(out[i] for i in open_)
    for i in sorted(open_, key=lambda i: (out[i] - shares[i], i))[:rest]:
        out[i] += 1
    return out


def national_tps_counts(seed: int = 7) -> dict[str, int]:
    """TPS per village code, for all villages, summing to exactly ``NATIONAL_TPS``."""
    codes = villages()
    by_province: dict[str, list[str]] = {}
    for d in codes:
        by_province.setdefault(d[:2], []).append(d)
    scaled = _apportion([float(PROVINCE_TPS[p]) for p in by_province], NATIONAL_TPS, NATIONAL_TPS)
    rng = Random(seed)
    kota = {k: is_kota(kab_name(k)) for k in {d[:5] for d in codes}}
    counts: dict[str, int] = {}
    for (_province, in_province), target in zip(by_province.items(), scaled, strict=True):
        extra = target - len(in_province)
        assert extra >= 0, "a province has fewer TPS than villages"
        weights = [
            (3.0 if not rural(d) else 1.5 if kota[d[:5]] else 1.0) * rng.lognormvariate(0.0, 0.5)
            for d in in_province
        ]
        for d, n in zip(in_province, _apportion(weights, extra, MAX_TPS - 1), strict=True):
            counts[d] = n + 1
    return counts


@dataclass(frozen=True)
class NationalSummary:
    provinces: int
    kab_kota: int
    kecamatan: int
    villages: int
    tps: int
    rows: int
    by_mode: dict[str, int]  # legs of the plan (PPK, PPS and TPS legs) by TransportMode value
    path: Path
    dpt: int = 0  # voters in the file
    direct: int = 0  # TPS supplied directly from the warehouse
    by_leg: dict[str, dict[str, int]] = field(default_factory=dict)  # "ppk"/"pps"/"tps" → mode → legs


def _dpts(rng: Random, n: int) -> list[int]:
    mean = rng.gauss(175.0 if n <= 2 else 252.0, 30.0)
    return [min(600, max(50, round(rng.gauss(mean, 12.0)))) for _ in range(n)]


@dataclass(slots=True)
class _Tally:
    legs: dict[str, Counter[str]] = field(
        default_factory=lambda: {k: Counter() for k in ("ppk", "pps", "tps")}
    )
    kecamatan: set[str] = field(default_factory=set)  # those whose PPK leg is counted
    dpt: int = 0
    direct: int = 0


def _village_rows(
    desa: str, tps: int, seed: int, profile: Profile, ppk_mode: M, tally: _Tally
) -> Iterator[tuple[int, int, str, str, str, str]]:
    """``(number, dpt, rute, moda, moda_pps, moda_ppk)`` of the village's TPS: one PPS mode for all of them."""
    rng = Random(f"{seed}:{desa}")
    is_rural = rural(desa)
    pps_mode = pick(rng, profile.pps)
    if not is_rural and pps_mode is M.ON_FOOT:
        pps_mode = M.LAND
    pps, ppk = MODE_NAMES[pps_mode], MODE_NAMES[ppk_mode]
    via = 0
    for number, dpt in enumerate(_dpts(rng, tps), start=1):
        direct = is_rural and rng.random() < profile.direct
        mode = profile.direct_mode if direct else pick(rng, profile.tps)
        if not is_rural and mode is M.ON_FOOT:
            mode = M.LAND
        via += not direct
        tally.direct += direct
        tally.dpt += dpt
        tally.legs["tps"][mode.value] += 1
        yield number, dpt, "langsung" if direct else "pps", MODE_NAMES[mode], pps, ppk
    if via:
        tally.legs["pps"][pps_mode.value] += 1
        if desa[:8] not in tally.kecamatan:
            tally.kecamatan.add(desa[:8])
            tally.legs["ppk"][ppk_mode.value] += 1


def write_national_csv(
    path: Path,
    *,
    fraction: float = 1.0,
    seed: int = 7,
    voting_day: date,
    distribution_days_before: int = 10,
    progress: Callable[[int], None] | None = None,
) -> NationalSummary:
    """Write the plan file (wide format, no item columns); ``fraction`` keeps every ``round(1/fraction)``-th
    village of the sorted national list with all its TPS. Streams: one village's rows in memory at a time."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    counts = national_tps_counts(seed)
    kept = list(counts)[:: max(1, round(1 / fraction))]
    start = f"{(voting_day - timedelta(days=distribution_days_before)).isoformat()} 08:00"
    tally = _Tally()
    kab, profile, contests = "", profile_for("", ""), ""
    kec_mode: dict[str, M] = {}
    rows = 0
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8", buffering=1 << 20) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for desa in kept:
            if desa[:5] != kab:
                kab, name = desa[:5], kab_name(desa[:5])
                profile, contests = profile_for(kab, name), contests_for(kab, name)
            kec = desa[:8]
            if kec not in kec_mode:
                kec_mode[kec] = pick(Random(f"{seed}:{kec}"), profile.ppk)
            batch = [
                (desa, number, dpt, contests, route, mode, pps, ppk, start)
                for number, dpt, route, mode, pps, ppk in _village_rows(
                    desa, counts[desa], seed, profile, kec_mode[kec], tally
                )
            ]
            writer.writerows(batch)
            before, rows = rows, rows + len(batch)
            if progress is not None and rows // 10_000 != before // 10_000:
                progress(rows)
    by_mode: Counter[str] = Counter()
    for c in tally.legs.values():
        by_mode.update(c)
    return NationalSummary(
        provinces=len({d[:2] for d in kept}),
        kab_kota=len({d[:5] for d in kept}),
        kecamatan=len(kec_mode),
        villages=len(kept),
        tps=rows,
        rows=rows,
        by_mode={m.value: by_mode[m.value] for m in M},
        path=path,
        dpt=tally.dpt,
        direct=tally.direct,
        by_leg={k: {m.value: c[m.value] for m in M} for k, c in tally.legs.items()},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m siaga_logistics.importing.national", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="berkas CSV keluaran")
    parser.add_argument("--fraction", type=float, default=1.0, help="bagian desa yang ditulis (0 < F ≤ 1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--voting-day", type=date.fromisoformat, default=date(2024, 11, 27), help="YYYY-MM-DD"
    )
    parser.add_argument("--days-before", type=int, default=10, help="mulai distribusi H-N")
    args = parser.parse_args(argv)
    began = time.perf_counter()

    def report(rows: int) -> None:
        if rows % 100_000 < 10_000:
            print(f"\r{rows:,} baris…", end="", file=sys.stderr, flush=True)

    s = write_national_csv(
        args.out,
        fraction=args.fraction,
        seed=args.seed,
        voting_day=args.voting_day,
        distribution_days_before=args.days_before,
        progress=report,
    )
    print(file=sys.stderr)
    lines = [
        ("Berkas", str(s.path)),
        ("Provinsi", f"{s.provinces:,}"),
        ("Kabupaten/kota", f"{s.kab_kota:,}"),
        ("Kecamatan", f"{s.kecamatan:,}"),
        ("Desa/kelurahan", f"{s.villages:,}"),
        ("TPS (baris)", f"{s.tps:,}"),
        ("DPT", f"{s.dpt:,} (rata-rata {s.dpt / max(s.tps, 1):.1f} per TPS)"),
        ("TPS langsung", f"{s.direct:,}"),
        *(
            (f"Rute {leg.upper()}", ", ".join(f"{MODE_NAMES[M(m)]} {n:,}" for m, n in modes.items() if n))
            for leg, modes in s.by_leg.items()
        ),
        ("Waktu", f"{time.perf_counter() - began:.1f} s"),
    ]
    for label, value in lines:
        print(f"{label:<15} : {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
