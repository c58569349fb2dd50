"""Region local time (``siaga_schemas.localtime``), the one copy meetings and logistics share.

The two copies it replaced differed in three ways, each pinned here: an unknown region was a ``ValueError``
in logistics and a ``DomainError`` naming ``region`` in meetings (now the latter, so the API answers 422
naming the field); an aware time was kept as given by logistics and converted to the zone by meetings (now
both, by name: ``aware_in`` keeps the instant as written, ``in_zone`` shows it in the zone, for local dates);
and the zone of a province comes from one table (Keppres 41/1987, domain facts: WIB, WITA, WIT).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.localtime import aware_in, end_of_day_before, in_zone, region_zone
from siaga_schemas.regions import children, province_time_zone

WIB = timezone(timedelta(hours=7))
WITA = timezone(timedelta(hours=8))
WIT = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("province", "abbr", "iana"),
    [
        ("11", "WIB", "Asia/Jakarta"),  # Aceh, the first code
        ("35", "WIB", "Asia/Jakarta"),  # Jawa Timur
        ("61", "WIB", "Asia/Jakarta"),  # Kalimantan Barat: WIB, unlike the rest of Kalimantan but Central
        ("62", "WIB", "Asia/Jakarta"),  # Kalimantan Tengah
        ("63", "WITA", "Asia/Makassar"),  # Kalimantan Selatan
        ("65", "WITA", "Asia/Makassar"),  # Kalimantan Utara (Bulungan)
        ("51", "WITA", "Asia/Makassar"),  # Bali
        ("53", "WITA", "Asia/Makassar"),  # Nusa Tenggara Timur
        ("71", "WITA", "Asia/Makassar"),  # Sulawesi Utara
        ("76", "WITA", "Asia/Makassar"),  # Sulawesi Barat, the last Sulawesi code
        ("81", "WIT", "Asia/Jayapura"),  # Maluku
        ("82", "WIT", "Asia/Jayapura"),  # Maluku Utara
        ("91", "WIT", "Asia/Jayapura"),  # Papua
        ("96", "WIT", "Asia/Jayapura"),  # Papua Barat Daya, the newest province
    ],
)
def test_every_province_boundary_has_its_zone(province: str, abbr: str, iana: str) -> None:
    assert province_time_zone(province) == (abbr, iana)
    assert region_zone(province).key == iana


def test_all_38_provinces_are_in_one_of_the_three_zones() -> None:
    zones = {p: region_zone(p).key for p in children()}
    assert len(zones) == 38
    assert set(zones.values()) == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}
    assert sum(1 for z in zones.values() if z == "Asia/Makassar") == 12
    assert sum(1 for z in zones.values() if z == "Asia/Jayapura") == 8


def test_a_region_below_the_province_has_the_province_zone() -> None:
    kecamatan = children("65.01")[0]
    desa = children(kecamatan)[0]
    assert region_zone("65.01").key == region_zone(kecamatan).key == region_zone(desa).key == "Asia/Makassar"


@pytest.mark.parametrize("code", ["99", "35.99", "3526", "", "national"])
def test_an_unknown_region_is_a_domain_error_naming_the_field(code: str) -> None:
    with pytest.raises(DomainError) as err:
        region_zone(code)
    assert err.value.field == "region"
    assert err.value.kind is ErrorKind.INVALID
    assert repr(code) in err.value.message


def test_a_naive_time_is_wall_clock_time_where_the_region_is() -> None:
    tuesday_ten = datetime(2020, 3, 31, 10, 0)  # "Tuesday 10:00" of the region that owns the deadline
    in_surabaya = aware_in(tuesday_ten, region_zone("35.78"))
    in_bulungan = aware_in(tuesday_ten, region_zone("65.01"))
    in_jayapura = aware_in(tuesday_ten, region_zone("91.71"))
    assert in_surabaya == datetime(2020, 3, 31, 3, 0, tzinfo=UTC)
    assert in_bulungan == datetime(2020, 3, 31, 2, 0, tzinfo=UTC)
    assert in_jayapura == datetime(2020, 3, 31, 1, 0, tzinfo=UTC)
    assert in_zone(tuesday_ten, region_zone("65.01")) == in_bulungan


def test_an_aware_time_keeps_its_instant_and_in_zone_shows_it_locally() -> None:
    # 23:30 WIB on Monday is already Tuesday in Jayapura: the local date is the zone's, not the writer's
    written = datetime(2020, 3, 30, 23, 30, tzinfo=WIB)
    jayapura = region_zone("91")
    kept = aware_in(written, jayapura)
    shown = in_zone(written, jayapura)
    assert kept is written  # aware_in never rewrites an aware time
    assert kept.utcoffset() == timedelta(hours=7)
    assert shown == written  # the same instant
    assert shown.utcoffset() == timedelta(hours=9)
    assert (kept.date(), shown.date()) == (date(2020, 3, 30), date(2020, 3, 31))


def test_in_zone_of_a_utc_time_gives_the_local_date_of_each_zone() -> None:
    late = datetime(2024, 11, 26, 15, 30, tzinfo=UTC)  # 22:30 WIB, 23:30 WITA, 00:30 WIT the next day
    assert in_zone(late, region_zone("35")).date() == date(2024, 11, 26)
    assert in_zone(late, region_zone("65")).date() == date(2024, 11, 26)
    assert in_zone(late, region_zone("91")).date() == date(2024, 11, 27)


@pytest.mark.parametrize(
    ("region", "offset"),
    [("35.26", WIB), ("65.01", WITA), ("91.71", WIT)],
)
def test_h_minus_1_ends_at_local_midnight_before_voting_day(region: str, offset: timezone) -> None:
    deadline = end_of_day_before(date(2024, 11, 27), region)
    assert deadline == datetime(2024, 11, 27, 0, 0, tzinfo=offset)
    assert deadline.astimezone(region_zone(region)).date() == date(2024, 11, 27)
    assert datetime(2024, 11, 26, 23, 59, tzinfo=offset) < deadline  # the last minute of H-1 is in time
    assert deadline.astimezone(UTC).hour == 24 - int(offset.utcoffset(None).total_seconds() // 3600)


def test_h_minus_1_of_an_unknown_region_is_a_domain_error() -> None:
    with pytest.raises(DomainError) as err:
        end_of_day_before(date(2024, 11, 27), "99.99")
    assert err.value.field == "region"
