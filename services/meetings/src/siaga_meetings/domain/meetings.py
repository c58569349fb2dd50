"""Rakor: scheduling, attendance, minutes, recommendations and the meeting-held fact. Pure, no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from siaga_schemas.common import Identifier, LocalTimestamp, Party, PartySet
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events.meetings import (
    AttendanceSummary,
    MeetingHeld,
    MeetingLevel,
    MeetingMode,
    MeetingScheduled,
    Recommendation,
)
from siaga_schemas.localtime import in_zone, region_zone

from .regions import expand_party_set

__all__ = [
    "AttendanceEntry",
    "AttendanceStatus",
    "Meeting",
    "MeetingRequest",
    "hold_meeting",
    "recommendation_refs",
    "record_attendance",
    "schedule_meeting",
    "set_minutes",
    "set_recommendations",
]


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    LATE = "late"


class AttendanceEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    party: Party = Field(description="The invited institution and region.")
    status: AttendanceStatus = Field(description="Present, absent or late.")
    represented_by: str | None = Field(
        None, max_length=200, description="Who represented the institution (office or name of the official)."
    )


class MeetingRequest(BaseModel):
    """What an organiser gives to schedule a rakor."""

    model_config = ConfigDict(extra="forbid")

    meeting_id: Identifier = Field(
        description="Meeting id chosen by the organiser.", examples=["mtg-jatim-2020-04-03"]
    )
    title: str = Field(min_length=1, max_length=300, description="Title.", examples=["Rakor Bawaslu Jatim"])
    organiser: Party = Field(description="Who convenes the meeting.")
    level: MeetingLevel = Field(description="National, province or kab/kota rakor.")
    mode: MeetingMode = Field(description="Vidcon, in person or hybrid.")
    starts_at: LocalTimestamp = Field(
        description="Start; without an offset it is the organiser's local time."
    )
    ends_at: LocalTimestamp | None = Field(None, description="Planned end; same rule for the offset.")
    agenda: list[str] = Field(default_factory=list, max_length=100, description="Agenda items.")
    invited: list[PartySet] = Field(
        min_length=1, max_length=50, description="Invited institution-by-region sets."
    )


class Meeting(BaseModel):
    """The meeting aggregate as stored (one document per meeting)."""

    model_config = ConfigDict(extra="ignore")

    meeting_id: str
    title: str
    organiser: Party
    level: MeetingLevel
    mode: MeetingMode
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    time_zone: str
    agenda: list[str] = Field(default_factory=list)
    invited: list[PartySet]
    invited_parties: list[Party]
    status: Literal["scheduled", "held"] = "scheduled"
    attendance: list[AttendanceEntry] = Field(default_factory=list)
    minutes: str | None = None
    recommendations: list[Recommendation] = Field(default_factory=list)
    held_at: AwareDatetime | None = None


_LEVEL_OF_ORGANISER = {MeetingLevel.PROVINCE: 1, MeetingLevel.KAB_KOTA: 2}


def schedule_meeting(req: MeetingRequest, *, limit: int) -> tuple[Meeting, MeetingScheduled]:
    zone = region_zone(req.organiser.region)
    wanted = _LEVEL_OF_ORGANISER.get(req.level)
    if wanted is not None and len(req.organiser.region.split(".")) != wanted:
        raise DomainError(
            "organiser.region", f"a {req.level.value} rakor is organised by a level-{wanted} region"
        )
    starts = in_zone(req.starts_at, zone)
    ends = in_zone(req.ends_at, zone) if req.ends_at else None
    if ends is not None and ends <= starts:
        raise DomainError("ends_at", "must be after starts_at")
    parties: dict[tuple[str, str], Party] = {}
    for i, ps in enumerate(req.invited):
        for p in expand_party_set(ps, field=f"invited.{i}", limit=limit):
            parties[(p.institution.value, p.region)] = p
    if len(parties) > limit:
        raise DomainError("invited", f"more than {limit} invited parties")
    meeting = Meeting(
        meeting_id=req.meeting_id,
        title=req.title,
        organiser=req.organiser,
        level=req.level,
        mode=req.mode,
        starts_at=starts,
        ends_at=ends,
        time_zone=zone.key,
        agenda=req.agenda,
        invited=req.invited,
        invited_parties=list(parties.values()),
    )
    event = MeetingScheduled(
        meeting_id=meeting.meeting_id,
        title=meeting.title,
        organiser=meeting.organiser,
        level=meeting.level,
        mode=meeting.mode,
        starts_at=starts,
        ends_at=ends,
        time_zone=meeting.time_zone,
        agenda=meeting.agenda,
        invited=meeting.invited,
        invited_parties=meeting.invited_parties,
    )
    return meeting, event


def _key(p: Party) -> tuple[str, str]:
    return (p.institution.value, p.region)


def record_attendance(meeting: Meeting, entries: list[AttendanceEntry]) -> Meeting:
    """Set the attendance of some invited parties (later entries for the same party replace earlier ones)."""
    invited = {_key(p) for p in meeting.invited_parties}
    current = {_key(e.party): e for e in meeting.attendance}
    for i, entry in enumerate(entries):
        if _key(entry.party) not in invited:
            raise DomainError(
                f"entries.{i}.party", f"{entry.party.institution.value} {entry.party.region} was not invited"
            )
        current[_key(entry.party)] = entry
    return meeting.model_copy(update={"attendance": list(current.values())})


def set_minutes(meeting: Meeting, minutes: str) -> Meeting:
    return meeting.model_copy(update={"minutes": minutes})


def set_recommendations(meeting: Meeting, recommendations: list[Recommendation]) -> Meeting:
    numbers: set[int] = set()
    for i, rec in enumerate(recommendations):
        if rec.number in numbers:
            raise DomainError(f"recommendations.{i}.number", f"number {rec.number} appears twice")
        numbers.add(rec.number)
        letters: set[str] = set()
        for j, sub in enumerate(rec.sub_items):
            if sub.letter in letters:
                raise DomainError(
                    f"recommendations.{i}.sub_items.{j}.letter", f"letter {sub.letter} appears twice"
                )
            letters.add(sub.letter)
    ordered = sorted(recommendations, key=lambda r: r.number)
    return meeting.model_copy(update={"recommendations": ordered})


def recommendation_refs(meeting: Meeting) -> dict[str, str]:
    """``{"1": text, "3": text, "3.a": text, ...}``: what an action item may refer to."""
    refs: dict[str, str] = {}
    for rec in meeting.recommendations:
        refs[str(rec.number)] = rec.text
        for sub in rec.sub_items:
            refs[f"{rec.number}.{sub.letter}"] = sub.text
    return refs


def attendance_summary(meeting: Meeting) -> AttendanceSummary:
    by_party = {_key(e.party): e.status for e in meeting.attendance}
    present = sum(1 for s in by_party.values() if s is AttendanceStatus.PRESENT)
    late = sum(1 for s in by_party.values() if s is AttendanceStatus.LATE)
    absent_parties = [
        p
        for p in meeting.invited_parties
        if by_party.get(_key(p), AttendanceStatus.ABSENT) is AttendanceStatus.ABSENT
    ]
    return AttendanceSummary(
        invited=len(meeting.invited_parties),
        present=present,
        late=late,
        absent=len(absent_parties),
        absent_parties=absent_parties,
    )


def hold_meeting(meeting: Meeting, held_at: datetime) -> tuple[Meeting, MeetingHeld]:
    """The rakor took place: freeze the attendance summary and publish the recommendations."""
    if meeting.status == "held":
        raise DomainError("meeting_id", f"meeting {meeting.meeting_id} was already held", ErrorKind.CONFLICT)
    zone = region_zone(meeting.organiser.region)
    when = in_zone(held_at, zone)
    updated = meeting.model_copy(update={"status": "held", "held_at": when})
    event = MeetingHeld(
        meeting_id=meeting.meeting_id,
        organiser=meeting.organiser,
        held_at=when,
        attendance=attendance_summary(meeting),
        recommendations=meeting.recommendations,
        minutes=meeting.minutes,
    )
    return updated, event
