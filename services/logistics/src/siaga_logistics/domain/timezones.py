"""Local time of a region: times without an offset are read in the zone of the region that owns them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from siaga_schemas import region_info

__all__ = ["legal_deadline", "local", "zone"]


def zone(region: str) -> ZoneInfo:
    info = region_info(region)
    if info is None:
        raise ValueError(f"unknown region {region}")
    return info.tz


def local(value: datetime, region: str) -> datetime:
    """An aware datetime: a naive one is taken as the region's local time."""
    return value if value.tzinfo is not None else value.replace(tzinfo=zone(region))


def legal_deadline(voting_day: date, region: str) -> datetime:
    """H-1 (UU 7/2017 art. 241(6)): the KPPS holds its logistics by the end of the day before voting."""
    h1 = voting_day - timedelta(days=1)
    return datetime.combine(h1, time(0, 0), tzinfo=zone(region)) + timedelta(days=1)
