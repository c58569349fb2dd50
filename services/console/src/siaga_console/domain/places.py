"""Region names and local time: what people read instead of codes and UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from siaga_schemas import region_info

__all__ = ["local_time", "region_name", "zone_abbr"]

_NATIONAL = {"id": "Nasional", "en": "National"}


def region_name(code: str | None, lang: str = "id") -> str:
    """The name of a region (``35.71`` → Kota Kediri); the nation for None; the code if unknown."""
    if code is None:
        return _NATIONAL.get(lang, _NATIONAL["id"])
    info = region_info(code)
    return info.name if info else code


def zone_abbr(code: str | None) -> str:
    info = region_info(code) if code else None
    return info.time_zone_abbr if info else "WIB"


def local_time(value: datetime | str | None, region: str | None, *, with_date: bool = True) -> str:
    """``2024-11-19 09:30 WIB``: a time in the region's own zone (WIB, WITA or WIT)."""
    if value is None or value == "":
        return "–"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    info = region_info(region) if region else None
    zone = ZoneInfo(info.time_zone if info else "Asia/Jakarta")
    local = at.astimezone(zone)
    text = local.strftime("%d-%m-%Y %H:%M" if with_date else "%H:%M")
    return f"{text} {info.time_zone_abbr if info else 'WIB'}"
