"""Events published by the meetings service (topic ``siaga.meetings.events.v1``) and its inbound command."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ..codec import registry
from ..common import Identifier, Party, PartySet, Timestamp
from ..envelope import EventData
from ..regions import RegionCode
from ..topics import MEETINGS_EVENTS, MEETINGS_REPORT_SUBMISSIONS

__all__ = [
    "ActionItemAssigned",
    "ActionItemCancelled",
    "ActionItemCompleted",
    "ActionItemOverdue",
    "AggregateId",
    "AttendanceSummary",
    "MeetingHeld",
    "MeetingLevel",
    "MeetingMode",
    "MeetingScheduled",
    "Recommendation",
    "RecommendationSubItem",
    "ReportOverdue",
    "ReportRequested",
    "ReportSubmitted",
    "ReportValue",
    "SubmitReport",
]

AggregateId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="Aggregate id; may embed region codes (letters, digits, '_', '.', ':' and '-').",
        examples=["sch-kpu-jatim:35.71:2020-04-07"],
    ),
]

ReportValue = Annotated[
    int | float | bool | str | None,
    Field(description="An item value: a count, figure, yes/no, choice or short text.", examples=[46]),
]


class MeetingLevel(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    KAB_KOTA = "kab_kota"


class MeetingMode(StrEnum):
    VIDCON = "vidcon"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class _MeetingsEvent(EventData):
    topic: ClassVar[str] = MEETINGS_EVENTS.name


@registry.register
class MeetingScheduled(_MeetingsEvent):
    """A rakor was scheduled and its invitations go out."""

    event_type: ClassVar[str] = "siaga.meetings.meeting-scheduled"

    meeting_id: Identifier = Field(description="Meeting id.", examples=["mtg-jatim-2020-04-03"])
    title: str = Field(max_length=300, description="Title.", examples=["Rakor Bawaslu Jatim via vidcon"])
    organiser: Party = Field(
        description="Who convenes the meeting.", examples=[{"institution": "bawaslu", "region": "35"}]
    )
    level: MeetingLevel = Field(description="National, province or kab/kota rakor.", examples=["province"])
    mode: MeetingMode = Field(description="Vidcon, in person or hybrid.", examples=["vidcon"])
    starts_at: Timestamp = Field(
        description="Start, with the organiser's UTC offset.", examples=["2020-04-03T14:00:00+07:00"]
    )
    ends_at: Timestamp | None = Field(
        None, description="Planned end.", examples=["2020-04-03T17:30:00+07:00"]
    )
    time_zone: str = Field(description="IANA zone of the organiser.", examples=["Asia/Jakarta"])
    agenda: list[str] = Field(
        default_factory=list, description="Agenda items.", examples=[["Covid-19 status"]]
    )
    invited: list[PartySet] = Field(
        description="Invited institution-by-region sets.",
        examples=[[{"institution": "bawaslu", "within": "35", "level": 2}]],
    )
    invited_parties: list[Party] = Field(
        default_factory=list,
        description="The invitation sets expanded to single parties.",
        examples=[[{"institution": "bawaslu", "region": "35.26"}]],
    )

    def partition_key(self) -> str:
        return self.meeting_id


class AttendanceSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    invited: int = Field(ge=0, description="Parties invited.", examples=[38])
    present: int = Field(ge=0, description="Parties present on time.", examples=[33])
    late: int = Field(ge=0, description="Parties that joined late.", examples=[3])
    absent: int = Field(ge=0, description="Parties absent.", examples=[2])
    absent_parties: list[Party] = Field(
        default_factory=list,
        description="Who was absent.",
        examples=[[{"institution": "bawaslu", "region": "35.29"}]],
    )


class RecommendationSubItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    letter: str = Field(pattern=r"^[a-z]$", description="Sub-item letter.", examples=["a"])
    text: str = Field(max_length=2000, description="Sub-item text.", examples=["Koordinasi dengan PMI"])


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    number: int = Field(ge=1, description="Recommendation number.", examples=[3])
    text: str = Field(max_length=4000, description="Recommendation text.", examples=["Berkoordinasi aktif"])
    sub_items: list[RecommendationSubItem] = Field(
        default_factory=list,
        description="Lettered sub-items.",
        examples=[[{"letter": "a", "text": "Koordinasi dengan jaringan pengawas"}]],
    )
    owner: Party | None = Field(
        None,
        description="Who owns the follow-up, when one party does.",
        examples=[{"institution": "bawaslu", "region": "35"}],
    )


@registry.register
class MeetingHeld(_MeetingsEvent):
    """A rakor took place: attendance summary and its recommendations."""

    event_type: ClassVar[str] = "siaga.meetings.meeting-held"

    meeting_id: Identifier = Field(description="Meeting id.", examples=["mtg-jatim-2020-04-03"])
    organiser: Party = Field(
        description="Who convened the meeting.", examples=[{"institution": "bawaslu", "region": "35"}]
    )
    held_at: Timestamp = Field(description="When it was held.", examples=["2020-04-03T14:00:00+07:00"])
    attendance: AttendanceSummary = Field(
        description="Attendance summary.",
        examples=[{"invited": 38, "present": 33, "late": 3, "absent": 2, "absent_parties": []}],
    )
    recommendations: list[Recommendation] = Field(
        default_factory=list,
        description="Numbered outcomes.",
        examples=[[{"number": 1, "text": "Meningkatkan pola hidup sehat", "sub_items": []}]],
    )
    minutes: str | None = Field(
        None,
        max_length=20000,
        description="Minutes (notulen) as recorded.",
        examples=["Rakoor dibuka pukul 14.00"],
    )

    def partition_key(self) -> str:
        return self.meeting_id


class _ActionItemEvent(_MeetingsEvent):
    action_item_id: AggregateId = Field(
        description="Action item id.", examples=["act:mtg-jatim-2020-04-03:3.a:bawaslu:35.26"]
    )
    meeting_id: Identifier = Field(description="Meeting it came from.", examples=["mtg-jatim-2020-04-03"])
    recommendation_ref: str = Field(
        max_length=20,
        pattern=r"^\d+(\.[a-z])?$",
        description="Recommendation number and letter.",
        examples=["3.a"],
    )
    assignee: Party = Field(
        description="Who owns the action.", examples=[{"institution": "bawaslu", "region": "35.26"}]
    )

    def partition_key(self) -> str:
        return self.action_item_id


@registry.register
class ActionItemAssigned(_ActionItemEvent):
    """An action item from a rakor recommendation was assigned to a party."""

    event_type: ClassVar[str] = "siaga.meetings.action-item-assigned"

    title: str = Field(
        max_length=500, description="What must be done.", examples=["Monitor ODP via village network"]
    )
    due_at: Timestamp = Field(
        description="Due time, with the assignee's UTC offset.", examples=["2020-04-09T17:00:00+07:00"]
    )


@registry.register
class ActionItemCompleted(_ActionItemEvent):
    """An action item was reported done."""

    event_type: ClassVar[str] = "siaga.meetings.action-item-completed"

    completed_at: Timestamp = Field(
        description="When it was completed.", examples=["2020-04-08T10:00:00+07:00"]
    )
    evidence: str | None = Field(
        None, max_length=2000, description="Evidence of completion.", examples=["SK 12/2020"]
    )
    late: bool = Field(False, description="Completed after the due time.", examples=[False])


@registry.register
class ActionItemOverdue(_ActionItemEvent):
    """An action item passed its due time without being completed."""

    event_type: ClassVar[str] = "siaga.meetings.action-item-overdue"

    title: str = Field(max_length=500, description="What must be done.", examples=["Monitor ODP"])
    due_at: Timestamp = Field(description="The missed due time.", examples=["2020-04-07T09:00:00+07:00"])
    detected_at: Timestamp = Field(
        description="When the miss was detected.", examples=["2020-04-07T09:05:00+07:00"]
    )


@registry.register
class ActionItemCancelled(_ActionItemEvent):
    """An action item was cancelled."""

    event_type: ClassVar[str] = "siaga.meetings.action-item-cancelled"

    cancelled_at: Timestamp = Field(
        description="When it was cancelled.", examples=["2020-04-05T10:00:00+07:00"]
    )
    reason: str | None = Field(
        None, max_length=500, description="Why.", examples=["Superseded by rakor 2020-04-10"]
    )


class _ReportEvent(_MeetingsEvent):
    obligation_id: AggregateId = Field(
        description="One region's duty for one period of one schedule.",
        examples=["sch-kpu-jatim:35.71:2020-04-07"],
    )
    schedule_id: Identifier = Field(description="Reporting schedule.", examples=["sch-kpu-jatim"])
    schedule_title: str | None = Field(
        None,
        max_length=300,
        description="Title of the reporting schedule, for messages to people.",
        examples=["Laporan vidcon Selasa/Jumat"],
    )
    template_id: Identifier = Field(description="Report template.", examples=["tpl-kpu-covid-2020"])
    region: RegionCode = Field(description="Obligated region.", examples=["35.71"])
    period_id: str = Field(
        max_length=40, description="Period label (local date of the due time).", examples=["2020-04-07"]
    )

    def partition_key(self) -> str:
        return self.obligation_id


@registry.register
class ReportRequested(_ReportEvent):
    """A periodic report is due from a region (one obligation of a reporting schedule)."""

    event_type: ClassVar[str] = "siaga.meetings.report-requested"

    due_at: Timestamp = Field(
        description="Due time, in the region's local offset.", examples=["2020-04-07T09:00:00+07:00"]
    )
    opens_at: Timestamp | None = Field(
        None, description="When the period opened for submissions.", examples=["2020-04-03T09:00:00+07:00"]
    )


@registry.register
class ReportSubmitted(_ReportEvent):
    """A region submitted (or amended) a periodic report."""

    event_type: ClassVar[str] = "siaga.meetings.report-submitted"

    submission_id: Identifier = Field(description="This submission.", examples=["sub-0192f5c4"])
    version: int = Field(ge=1, description="Amendments create new versions.", examples=[1])
    submitted_at: Timestamp = Field(
        description="When it was submitted.", examples=["2020-04-07T08:30:00+07:00"]
    )
    due_at: Timestamp = Field(description="The period's due time.", examples=["2020-04-07T09:00:00+07:00"])
    late: bool = Field(description="Submitted after the due time.", examples=[False])
    values: dict[str, ReportValue] = Field(
        default_factory=dict,
        description="Item values by item key; aggregated counts only, never names.",
        examples=[{"local_odp": 46, "local_pdp": 1, "local_confirmed": 1}],
    )
    submitted_by: str | None = Field(
        None, max_length=120, description="Operator account or system id.", examples=["kpu-35.71-operator"]
    )


@registry.register
class ReportOverdue(_ReportEvent):
    """A region's periodic report was not submitted by its deadline."""

    event_type: ClassVar[str] = "siaga.meetings.report-overdue"

    due_at: Timestamp = Field(description="The missed due time.", examples=["2020-04-07T09:00:00+07:00"])
    detected_at: Timestamp = Field(
        description="When the miss was detected.", examples=["2020-04-07T09:05:00+07:00"]
    )


@registry.register
class SubmitReport(EventData):
    """Inbound command from another agency's system: submit (or amend) a periodic report."""

    event_type: ClassVar[str] = "siaga.meetings.submit-report"
    topic: ClassVar[str] = MEETINGS_REPORT_SUBMISSIONS.name

    schedule_id: Identifier = Field(description="Reporting schedule.", examples=["sch-kpu-jatim"])
    region: RegionCode = Field(description="Reporting region.", examples=["35.71"])
    period_id: str = Field(max_length=40, description="Period label.", examples=["2020-04-07"])
    submitted_by: str = Field(
        max_length=120, description="Operator account or system id.", examples=["kpu-3571-op"]
    )
    values: dict[str, ReportValue] = Field(
        description="Item values by item key (every required item of the schedule's template).",
        examples=[
            {
                "voter_education": "Pemberitaan di media daring dan media sosial",
                "working_arrangement": "duty_rota",
                "working_arrangement_note": "Piket sehari masuk sehari WFH bagi staf PNS (SE KPU RI 4/2020)",
                "duty_rota_from": "2020-04-01",
                "duty_rota_to": "2020-04-07",
                "staff_odp": 0,
                "staff_pdp": 0,
                "staff_confirmed": 0,
                "local_odp": 46,
                "local_pdp": 1,
                "local_confirmed": 1,
                "local_figures_as_of": "2020-04-06",
                "local_trend": "up",
            }
        ],
    )

    def partition_key(self) -> str:
        return self.region
