"""Action items that follow from recommendations: assignment (fanned out), completion, overdue. Pure."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict
from siaga_schemas.common import Party
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events.meetings import (
    ActionItemAssigned,
    ActionItemCancelled,
    ActionItemCompleted,
    ActionItemOverdue,
)
from siaga_schemas.localtime import in_zone, region_zone

from .meetings import Meeting, recommendation_refs

__all__ = [
    "ActionItem",
    "ActionStatus",
    "action_item_id",
    "cancel_action_item",
    "complete_action_item",
    "mark_overdue",
    "plan_action_items",
]


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"


class ActionItem(BaseModel):
    """One party's follow-up of one recommendation (one document per item)."""

    model_config = ConfigDict(extra="ignore")

    action_item_id: str
    meeting_id: str
    organiser: Party
    recommendation_ref: str
    title: str
    assignee: Party
    due_at: AwareDatetime
    status: ActionStatus = ActionStatus.OPEN
    assigned_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    evidence: str | None = None
    late: bool = False
    overdue_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    cancel_reason: str | None = None


def action_item_id(meeting_id: str, ref: str, assignee: Party) -> str:
    return f"act:{meeting_id}:{ref}:{assignee.institution.value}:{assignee.region}"


def plan_action_items(
    meeting: Meeting,
    *,
    recommendation_ref: str,
    title: str | None,
    due_at: datetime,
    assignee: Party | None,
    fan_out: bool,
    now: datetime,
) -> list[tuple[ActionItem, ActionItemAssigned]]:
    """Items for one recommendation: one assignee, or every invited party (each due in its own local time)."""
    refs = recommendation_refs(meeting)
    if recommendation_ref not in refs:
        raise DomainError(
            "recommendation_ref", f"meeting {meeting.meeting_id} has no recommendation {recommendation_ref}"
        )
    if fan_out == (assignee is not None):
        raise DomainError("assignee", "give exactly one of assignee or fan_out=true")
    assignees = list(meeting.invited_parties) if fan_out else [assignee] if assignee else []
    text = (title or refs[recommendation_ref])[:500]
    out: list[tuple[ActionItem, ActionItemAssigned]] = []
    for party in assignees:
        due = in_zone(due_at, region_zone(party.region))
        if due <= now:
            raise DomainError("due_at", "must be in the future")
        item = ActionItem(
            action_item_id=action_item_id(meeting.meeting_id, recommendation_ref, party),
            meeting_id=meeting.meeting_id,
            organiser=meeting.organiser,
            recommendation_ref=recommendation_ref,
            title=text,
            assignee=party,
            due_at=due,
            assigned_at=now,
        )
        event = ActionItemAssigned(
            action_item_id=item.action_item_id,
            meeting_id=item.meeting_id,
            recommendation_ref=item.recommendation_ref,
            assignee=party,
            title=item.title,
            due_at=due,
        )
        out.append((item, event))
    return out


def complete_action_item(
    item: ActionItem, *, evidence: str | None, now: datetime
) -> tuple[ActionItem, ActionItemCompleted]:
    if item.status in (ActionStatus.DONE, ActionStatus.CANCELLED):
        raise DomainError("status", f"action item is already {item.status.value}", ErrorKind.CONFLICT)
    when = now.astimezone(item.due_at.tzinfo)
    late = when > item.due_at
    updated = item.model_copy(
        update={"status": ActionStatus.DONE, "completed_at": when, "evidence": evidence, "late": late}
    )
    event = ActionItemCompleted(
        action_item_id=item.action_item_id,
        meeting_id=item.meeting_id,
        recommendation_ref=item.recommendation_ref,
        assignee=item.assignee,
        completed_at=when,
        evidence=evidence,
        late=late,
    )
    return updated, event


def mark_overdue(item: ActionItem, now: datetime) -> tuple[ActionItem, ActionItemOverdue] | None:
    """Open and past due: overdue (once; an overdue item is never marked again)."""
    if item.status is not ActionStatus.OPEN or now <= item.due_at:
        return None
    when = now.astimezone(item.due_at.tzinfo)
    updated = item.model_copy(update={"status": ActionStatus.OVERDUE, "overdue_at": when})
    event = ActionItemOverdue(
        action_item_id=item.action_item_id,
        meeting_id=item.meeting_id,
        recommendation_ref=item.recommendation_ref,
        assignee=item.assignee,
        title=item.title,
        due_at=item.due_at,
        detected_at=when,
    )
    return updated, event


def cancel_action_item(
    item: ActionItem, *, reason: str | None, now: datetime
) -> tuple[ActionItem, ActionItemCancelled]:
    if item.status in (ActionStatus.DONE, ActionStatus.CANCELLED):
        raise DomainError("status", f"action item is already {item.status.value}", ErrorKind.CONFLICT)
    when = now.astimezone(item.due_at.tzinfo)
    updated = item.model_copy(
        update={"status": ActionStatus.CANCELLED, "cancelled_at": when, "cancel_reason": reason}
    )
    event = ActionItemCancelled(
        action_item_id=item.action_item_id,
        meeting_id=item.meeting_id,
        recommendation_ref=item.recommendation_ref,
        assignee=item.assignee,
        cancelled_at=when,
        reason=reason,
    )
    return updated, event
