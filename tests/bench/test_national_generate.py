"""The national distribution's pure parts: official counts, proportional TPS, deterministic samples."""

from __future__ import annotations

from bench.national.generate import NATIONAL_TPS, national, sample


def test_the_national_distribution_matches_the_official_counts() -> None:
    full = national()
    assert (full.provinces, full.kab_kota, full.kecamatan, len(full.villages)) == (38, 514, 7285, 83_762)
    assert full.tps_total == NATIONAL_TPS
    assert set(full.tps.values()) == {9, 10}  # 820,161 / 83,762 = 9.79 on average


def test_a_fraction_is_proportional_and_deterministic() -> None:
    full = national()
    one_pct = sample(full, 0.01)
    assert abs(one_pct.tps_total - NATIONAL_TPS * 0.01) < NATIONAL_TPS * 0.0005
    assert one_pct.provinces == 38  # every province keeps its share
    assert sample(national(), 0.01).tps == one_pct.tps
    assert sample(full, 1.0).tps_total == NATIONAL_TPS
