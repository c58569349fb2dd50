"""Local time of a region, for every service: a time without an offset is wall-clock time where the region
is (WIB, WITA or WIT, from its province; see ``regions.province_time_zone``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import DomainError
from .regions import region_info

__all__ = ["aware_in", "end_of_day_before", "in_zone", "region_zone"]


def region_zone(region: str) -> ZoneInfo:
    """The civil time zone of an official region code; a DomainError (field ``region``) for another."""
    info = region_info(region)
    if info is None:
        raise DomainError("region", f"{region!r} is not an official region code")
    return info.tz


def aware_in(value: datetime, zone: ZoneInfo) -> datetime:
    """``value`` made aware: a naive time is read as wall-clock time in ``zone``; an aware one is kept."""
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def in_zone(value: datetime, zone: ZoneInfo) -> datetime:
    """``value`` expressed in ``zone`` (a naive time is read as wall-clock time there): for local dates."""
    return aware_in(value, zone).astimezone(zone)


def end_of_day_before(day: date, region: str) -> datetime:
    """Midnight at the end of the day before ``day``, in the region's local time."""
    return datetime.combine(day - timedelta(days=1), time(0, 0), tzinfo=region_zone(region)) + timedelta(
        days=1
    )
