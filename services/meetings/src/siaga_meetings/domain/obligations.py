"""One region's reporting duty for one period: request, submission (versioned), overdue. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from siaga_schemas.common import Institution
from siaga_schemas.errors import DomainError
from siaga_schemas.events.meetings import ReportOverdue, ReportRequested, ReportSubmitted

from .schedules import Period, ReportSchedule
from .templates import ReportEntry, ReportTemplate, TemplateItem, entries_as_dict, validate_values

__all__ = [
    "Obligation",
    "ObligationStatus",
    "SubmissionVersion",
    "new_obligation",
    "obligation_id",
    "request_or_mark_overdue",
    "submit_report",
]


class ObligationStatus(StrEnum):
    REQUESTED = "requested"  # open, nothing submitted yet
    SUBMITTED = "submitted"  # submitted on time
    LATE = "late"  # first submitted after the due time
    OVERDUE = "overdue"  # due time passed, nothing submitted


class SubmissionVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    version: int
    submission_id: str
    submitted_at: AwareDatetime
    submitted_by: str
    channel: str  # "http" or "event"
    late: bool
    values: list[ReportEntry]


class Obligation(BaseModel):
    """One document, ``_id = obligation_id``; carries the template items it is validated against."""

    model_config = ConfigDict(extra="ignore")

    obligation_id: str
    schedule_id: str
    schedule_title: str | None = None
    template_id: str
    institution: Institution
    region: str
    province: str
    period_id: str
    opens_at: AwareDatetime
    due_at: AwareDatetime
    status: ObligationStatus = ObligationStatus.REQUESTED
    requested_at: AwareDatetime | None = None
    overdue_at: AwareDatetime | None = None
    items: list[TemplateItem]
    versions: list[SubmissionVersion] = Field(default_factory=list)

    @property
    def latest(self) -> SubmissionVersion | None:
        return self.versions[-1] if self.versions else None


def obligation_id(schedule_id: str, region: str, period_id: str) -> str:
    return f"{schedule_id}:{region}:{period_id}"


def new_obligation(
    schedule: ReportSchedule, template: ReportTemplate, region: str, period: Period
) -> Obligation:
    return Obligation(
        obligation_id=obligation_id(schedule.schedule_id, region, period.period_id),
        schedule_id=schedule.schedule_id,
        schedule_title=schedule.title,
        template_id=template.template_id,
        institution=schedule.obligated.institution,
        region=region,
        province=region.split(".")[0],
        period_id=period.period_id,
        opens_at=period.opens_at,
        due_at=period.due_at,
        items=template.items,
    )


def _base(ob: Obligation) -> dict[str, Any]:
    return {
        "obligation_id": ob.obligation_id,
        "schedule_id": ob.schedule_id,
        "schedule_title": ob.schedule_title,
        "template_id": ob.template_id,
        "region": ob.region,
        "period_id": ob.period_id,
    }


def request_or_mark_overdue(
    stored: Obligation | None, fresh: Obligation, now: datetime
) -> tuple[Obligation, list[ReportRequested | ReportOverdue]] | None:
    """The sweeper's step for one obligation: request it once it opens, mark it overdue once it is missed.

    Each transition happens once: ``requested`` is emitted only when the document is created, ``overdue``
    only on the move from REQUESTED to OVERDUE, and the store's version check makes concurrent sweepers agree.
    """
    events: list[ReportRequested | ReportOverdue] = []
    ob = stored
    if ob is None:
        if now < fresh.opens_at:
            return None
        ob = fresh.model_copy(update={"requested_at": now.astimezone(fresh.due_at.tzinfo)})
        events.append(ReportRequested(**_base(ob), due_at=ob.due_at, opens_at=ob.opens_at))
    if ob.status is ObligationStatus.REQUESTED and now > ob.due_at:
        detected = now.astimezone(ob.due_at.tzinfo)
        ob = ob.model_copy(update={"status": ObligationStatus.OVERDUE, "overdue_at": detected})
        events.append(ReportOverdue(**_base(ob), due_at=ob.due_at, detected_at=detected))
    if not events:
        return None
    return ob, events


def submit_report(
    ob: Obligation,
    values: Mapping[str, Any],
    *,
    submitted_by: str,
    submission_id: str,
    channel: str,
    now: datetime,
) -> tuple[Obligation, ReportSubmitted]:
    """A new version of the report (the first, or an amendment); earlier versions are kept unchanged."""
    if not submitted_by:
        raise DomainError("submitted_by", "is required")
    entries = validate_values(ob.items, values)
    when = now.astimezone(ob.due_at.tzinfo)
    late = when > ob.due_at
    version = SubmissionVersion(
        version=len(ob.versions) + 1,
        submission_id=submission_id,
        submitted_at=when,
        submitted_by=submitted_by,
        channel=channel,
        late=late,
        values=entries,
    )
    status = ob.status
    if not ob.versions:
        status = ObligationStatus.LATE if late else ObligationStatus.SUBMITTED
    updated = ob.model_copy(update={"versions": [*ob.versions, version], "status": status})
    event = ReportSubmitted(
        **_base(ob),
        submission_id=submission_id,
        version=version.version,
        submitted_at=when,
        due_at=ob.due_at,
        late=late,
        values=entries_as_dict(entries),
        submitted_by=submitted_by,
    )
    return updated, event
