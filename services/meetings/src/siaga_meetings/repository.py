"""Read queries for the API. Hot paths are ``_id`` lookups; list queries use typed filters only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siaga_runtime import AggregateStore, Principal
from siaga_schemas import is_within
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.localtime import region_zone

from .domain.actions import ActionItem, ActionStatus
from .domain.compliance import ComplianceRow, compare_totals, compliance_rows, totals, totals_by_province
from .domain.meetings import Meeting
from .domain.obligations import Obligation, obligation_id
from .domain.schedules import ReportSchedule, period_for, previous_period_id
from .domain.templates import NUMERIC, ReportTemplate

__all__ = [
    "Stores",
    "compliance",
    "get_action_item",
    "get_meeting",
    "get_obligation",
    "list_action_items",
    "list_meetings",
    "list_schedules",
    "list_templates",
    "rollup",
]


@dataclass(frozen=True, slots=True)
class Stores:
    """The service's collections, one aggregate kind each (keyed so hot paths are ``_id`` lookups)."""

    meetings: AggregateStore
    action_items: AggregateStore
    templates: AggregateStore
    schedules: AggregateStore
    obligations: AggregateStore
    facts: AggregateStore  # insert-once documents, one per fact that must be published exactly once


async def get_meeting(stores: Stores, meeting_id: str) -> Meeting:
    doc = await stores.meetings.get(meeting_id)
    if doc is None:
        raise DomainError("meeting_id", f"meeting {meeting_id} does not exist", ErrorKind.NOT_FOUND)
    return Meeting.model_validate(doc)


def _may_read_meeting(principal: Principal, doc: dict[str, Any]) -> bool:
    """The organiser's region is readable, or the caller's region covers an invited party (as GET one)."""
    if not principal.roles:
        return False
    if principal.can_read(doc["organiser"]["region"]):
        return True
    return any(principal.covers(p["region"]) for p in doc.get("invited_parties", []))


async def list_meetings(
    stores: Stores, principal: Principal, *, within: str | None, limit: int
) -> list[Meeting]:
    """Meetings the caller may read (optionally organised within a region), newest first."""

    def wanted(d: dict[str, Any]) -> bool:
        if within is not None and not is_within(d["organiser"]["region"], within):
            return False
        return _may_read_meeting(principal, d)

    found = [Meeting.model_validate(d) async for d in stores.meetings.scan(wanted)]
    return sorted(found, key=lambda m: (m.starts_at, m.meeting_id), reverse=True)[:limit]


async def list_schedules(stores: Stores, principal: Principal) -> list[ReportSchedule]:
    """Schedules the caller may read: owned within its region, or obligating a region it covers."""

    def wanted(d: dict[str, Any]) -> bool:
        if not principal.roles:
            return False
        return principal.can_read(d["owner"]["region"]) or any(principal.covers(r) for r in d["regions"])

    found = [ReportSchedule.model_validate(d) async for d in stores.schedules.scan(wanted)]
    return sorted(found, key=lambda s: s.schedule_id)


async def get_action_item(stores: Stores, item_id: str) -> ActionItem:
    doc = await stores.action_items.get(item_id)
    if doc is None:
        raise DomainError("action_item_id", f"action item {item_id} does not exist", ErrorKind.NOT_FOUND)
    return ActionItem.model_validate(doc)


async def list_action_items(
    stores: Stores, *, within: str, status: ActionStatus | None = None, meeting_id: str | None = None
) -> list[ActionItem]:
    """Items assigned to ``within`` or any region below it, optionally by status and meeting."""

    def wanted(d: dict[str, Any]) -> bool:
        return (status is None or d.get("status") == status.value) and (
            meeting_id is None or d.get("meeting_id") == meeting_id
        )

    items = [ActionItem.model_validate(d) async for d in stores.action_items.scan(wanted)]
    items = [i for i in items if is_within(i.assignee.region, within)]
    return sorted(items, key=lambda i: (i.due_at, i.action_item_id))


async def list_templates(stores: Stores) -> list[ReportTemplate]:
    return [
        ReportTemplate.model_validate({k: v for k, v in d.items() if not k.startswith("_")})
        async for d in stores.templates.scan()
    ]


async def get_obligation(stores: Stores, schedule_id: str, region: str, period_id: str) -> Obligation:
    oid = obligation_id(schedule_id, region, period_id)
    doc = await stores.obligations.get(oid)
    if doc is None:
        raise DomainError(
            "period_id", f"no report {oid} has been requested or submitted", ErrorKind.NOT_FOUND
        )
    return Obligation.model_validate(doc)


async def _obligations(
    stores: Stores, schedule: ReportSchedule, period_id: str, regions: list[str]
) -> dict[str, Obligation]:
    ids = {obligation_id(schedule.schedule_id, r, period_id): r for r in regions}
    docs = await stores.obligations.load_many(ids)
    return {ids[oid]: Obligation.model_validate(doc) for oid, doc in docs.items()}


async def compliance(
    stores: Stores, schedule: ReportSchedule, period_id: str, now: datetime, *, within: str | None = None
) -> list[ComplianceRow]:
    """Per obligated region (optionally only those within a region): reported, late, overdue or pending."""
    regions = [r for r in schedule.regions if within is None or is_within(r, within)]
    if regions:
        period_for(schedule, period_id, region_zone(regions[0]))  # validates period_id
    obligations = await _obligations(stores, schedule, period_id, regions)
    return compliance_rows(regions, obligations, now)


async def rollup(
    stores: Stores,
    schedule: ReportSchedule,
    template: ReportTemplate,
    period_id: str,
    previous: str | None = None,
) -> dict[str, Any]:
    """Totals of numeric items per province and overall, compared with the previous period."""
    if schedule.regions:
        period_for(schedule, period_id, region_zone(schedule.regions[0]))
    prev_id = previous or previous_period_id(schedule, period_id)
    current = list((await _obligations(stores, schedule, period_id, schedule.regions)).values())
    prev_obs = (
        list((await _obligations(stores, schedule, prev_id, schedule.regions)).values()) if prev_id else []
    )
    keys = [i.key for i in template.items if i.type in NUMERIC]
    cur_totals = totals(template.items, current)
    prev_totals = totals(template.items, prev_obs) if prev_id else None
    return {
        "schedule_id": schedule.schedule_id,
        "template_id": template.template_id,
        "period_id": period_id,
        "previous_period_id": prev_id,
        "regions_obligated": len(schedule.regions),
        "regions_reported": sum(1 for ob in current if ob.versions),
        "provinces": [p.model_dump(mode="json") for p in totals_by_province(template.items, current)],
        "totals": cur_totals,
        "comparison": [c.model_dump(mode="json") for c in compare_totals(keys, prev_totals, cur_totals)],
    }
