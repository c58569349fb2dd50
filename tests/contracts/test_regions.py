from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError
from siaga_schemas import RegionCode, RegionLevel, region_info, validate_region_code
from siaga_schemas.regions import children, is_within


class _M(BaseModel):
    region: RegionCode


@pytest.mark.parametrize(
    ("code", "level", "name"),
    [
        ("35", RegionLevel.PROVINCE, "Jawa Timur"),
        ("35.26", RegionLevel.KAB_KOTA, "Kabupaten Bangkalan"),
        ("35.26.01", RegionLevel.KECAMATAN, None),
        ("65.01", RegionLevel.KAB_KOTA, "Kabupaten Bulungan"),
        ("35.71", RegionLevel.KAB_KOTA, "Kota Kediri"),
    ],
)
def test_valid_codes_of_every_level(code: str, level: RegionLevel, name: str | None) -> None:
    info = region_info(code)
    assert info is not None
    assert info.level is level
    if name:
        assert info.name == name
    assert _M(region=code).region == code


def test_a_desa_code_is_accepted_with_its_parents() -> None:
    kecamatan = children("35.26")[0]
    desa = children(kecamatan)[0]
    info = region_info(desa)
    assert info is not None and info.level is RegionLevel.DESA
    assert info.parent == kecamatan
    assert region_info(kecamatan).parent == "35.26"  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ["35.99", "99"])
def test_unknown_codes_are_rejected_with_a_clear_message(code: str) -> None:
    with pytest.raises(ValidationError) as err:
        _M(region=code)
    assert f"region code '{code}' is not on the official Kemendagri list" in str(err.value)


@pytest.mark.parametrize("code", ["3526", "35.2", "35.26.", "", "35 26", "35.26.01.20011"])
def test_malformed_codes_are_rejected(code: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        validate_region_code(code)


def test_time_zones() -> None:
    bangkalan = region_info("35.26")
    bulungan = region_info("65.01")
    assert (
        bangkalan is not None and bangkalan.time_zone_abbr == "WIB" and bangkalan.time_zone == "Asia/Jakarta"
    )
    assert (
        bulungan is not None and bulungan.time_zone_abbr == "WITA" and bulungan.time_zone == "Asia/Makassar"
    )
    jayapura = region_info("91")
    assert jayapura is not None and jayapura.time_zone_abbr == "WIT"


def test_official_counts() -> None:
    provinces = children()
    assert len(provinces) == 38
    assert sum(len(children(p)) for p in provinces) == 514


def test_is_within_uses_whole_segments() -> None:
    assert is_within("35.26.01", "35.26")
    assert is_within("35.26", "35.26")
    assert not is_within("35.260", "35.26")
    assert not is_within("35", "35.26")
