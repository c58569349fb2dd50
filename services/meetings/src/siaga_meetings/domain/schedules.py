"""Reporting schedules and the periods they create, in each obligated region's local time. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from siaga_schemas.common import Identifier, Party, PartySet
from siaga_schemas.errors import DomainError

__all__ = [
    "Cadence",
    "CadenceKind",
    "Period",
    "ReportSchedule",
    "ScheduleRequest",
    "period_for",
    "periods_due_between",
    "previous_period_id",
]


class CadenceKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class Cadence(BaseModel):
    """``weekly`` on some weekdays (0 Monday … 6 Sunday) or ``daily``, at a local time of day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: CadenceKind = Field(description="daily or weekly.", examples=["weekly"])
    weekdays: list[int] = Field(
        default_factory=list, description="Weekly: weekdays, 0 Monday … 6 Sunday.", examples=[[1, 4]]
    )
    at: time = Field(description="Due time of day, local to each obligated region.", examples=["09:00"])

    @model_validator(mode="after")
    def _days(self) -> Cadence:
        if self.kind is CadenceKind.WEEKLY:
            if not self.weekdays:
                raise ValueError("a weekly cadence needs weekdays")
            if any(d < 0 or d > 6 for d in self.weekdays):
                raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        elif self.weekdays:
            raise ValueError("a daily cadence has no weekdays")
        if self.at.tzinfo is not None:
            raise ValueError("the time of day is local; give it without an offset")
        return self

    def matches(self, day: date) -> bool:
        return self.kind is CadenceKind.DAILY or day.weekday() in self.weekdays


class ScheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule_id: Identifier = Field(description="Schedule id.", examples=["sch-kpu-jatim-covid"])
    title: str = Field(
        min_length=1, max_length=300, description="Title.", examples=["Laporan vidcon Selasa/Jumat"]
    )
    template_id: Identifier = Field(
        description="Template every report follows.", examples=["tpl-kpu-covid-2020"]
    )
    owner: Party = Field(description="Who asks for the reports (an organiser).")
    obligated: PartySet = Field(description="Who must report, e.g. every KPU kab/kota within 35.")
    cadence: Cadence = Field(description="When reports are due.")
    starts_on: date = Field(description="First day a report can be due.", examples=["2020-03-31"])
    ends_on: date | None = Field(None, description="Last day a report can be due.", examples=["2020-06-30"])
    meeting_id: Identifier | None = Field(None, description="Rakor the reports feed, if any.")


class ReportSchedule(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schedule_id: str
    title: str
    template_id: str
    owner: Party
    obligated: PartySet
    regions: list[str]
    cadence: Cadence
    starts_on: date
    ends_on: date | None = None
    meeting_id: str | None = None
    created_at: AwareDatetime

    def covers_region(self, region: str) -> bool:
        return region in self.regions


@dataclass(frozen=True, slots=True)
class Period:
    period_id: str  # local date of the due time, ISO
    opens_at: datetime
    due_at: datetime


def _due(day: date, cadence: Cadence, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, cadence.at, tzinfo=zone)


def _in_range(s: ReportSchedule, day: date) -> bool:
    return day >= s.starts_on and (s.ends_on is None or day <= s.ends_on) and s.cadence.matches(day)


def _previous_day(s: ReportSchedule, day: date) -> date | None:
    for back in range(1, 8):
        d = day - timedelta(days=back)
        if d < s.starts_on:
            return None
        if _in_range(s, d):
            return d
    return None


def _period(s: ReportSchedule, day: date, zone: ZoneInfo) -> Period:
    prev = _previous_day(s, day)
    opens = _due(prev, s.cadence, zone) if prev else datetime.combine(s.starts_on, time(0), tzinfo=zone)
    return Period(period_id=day.isoformat(), opens_at=opens, due_at=_due(day, s.cadence, zone))


def period_for(s: ReportSchedule, period_id: str, zone: ZoneInfo) -> Period:
    """The period named ``period_id`` (a local date) or a ``period_id`` error."""
    try:
        day = date.fromisoformat(period_id)
    except ValueError:
        raise DomainError("period_id", "must be the local date of a due time, YYYY-MM-DD") from None
    if not _in_range(s, day):
        raise DomainError("period_id", f"no report of schedule {s.schedule_id} is due on {period_id}")
    return _period(s, day, zone)


def previous_period_id(s: ReportSchedule, period_id: str) -> str | None:
    prev = _previous_day(s, date.fromisoformat(period_id))
    return prev.isoformat() if prev else None


def periods_due_between(s: ReportSchedule, zone: ZoneInfo, start: datetime, end: datetime) -> list[Period]:
    """Periods whose due time lies in ``[start, end]``, in order."""
    first = max(start.astimezone(zone).date(), s.starts_on)
    last = end.astimezone(zone).date()
    if s.ends_on is not None:
        last = min(last, s.ends_on)
    out: list[Period] = []
    day = first
    while day <= last:
        if _in_range(s, day):
            p = _period(s, day, zone)
            if start <= p.due_at <= end:
                out.append(p)
        day += timedelta(days=1)
    return out


def next_period(s: ReportSchedule, zone: ZoneInfo, now: datetime) -> Period | None:
    """The first period due after ``now`` (searching 8 days ahead)."""
    found = periods_due_between(s, zone, now + timedelta(microseconds=1), now + timedelta(days=8))
    return found[0] if found else None


def recent_period_ids(s: ReportSchedule, zone: ZoneInfo, now: datetime, count: int) -> list[str]:
    """The ids of the last ``count`` periods whose due time has passed, newest first."""
    if count <= 0:
        return []
    start = datetime.combine(s.starts_on, time.min, zone)
    return [p.period_id for p in reversed(periods_due_between(s, zone, start, now)[-count:])]
