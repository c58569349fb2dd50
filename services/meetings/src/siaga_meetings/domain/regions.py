"""Region helpers: expanding institution-by-region sets and local time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from siaga_schemas.common import Party, PartySet
from siaga_schemas.regions import children, region_info

from .errors import DomainError

__all__ = ["expand_party_set", "local_zone", "localize", "province_of"]


def local_zone(region: str) -> ZoneInfo:
    info = region_info(region)
    if info is None:
        raise DomainError("region", f"{region!r} is not an official region code")
    return info.tz


def province_of(region: str) -> str:
    return region.split(".")[0]


def localize(value: datetime, zone: ZoneInfo) -> datetime:
    """A naive time is wall-clock time in ``zone``; an aware one is converted to ``zone``."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def expand_party_set(party_set: PartySet, *, field: str, limit: int) -> list[Party]:
    """Every party of an institution-by-region set, e.g. every KPU kab/kota within 35 (38 parties)."""
    info = region_info(party_set.within)
    if info is None:  # pragma: no cover - PartySet already validated the code
        raise DomainError(f"{field}.within", "unknown region")
    if party_set.level < info.level:
        raise DomainError(
            f"{field}.level",
            f"level {party_set.level} is above the level of {party_set.within} ({int(info.level)})",
        )
    codes = [party_set.within]
    for _ in range(party_set.level - int(info.level)):
        codes = [child for code in codes for child in children(code)]
        if len(codes) > limit:
            raise DomainError(field, f"expands to more than {limit} parties")
    return [Party(institution=party_set.institution, region=code) for code in codes]
