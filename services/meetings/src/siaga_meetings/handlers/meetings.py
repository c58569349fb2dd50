"""Commands on meetings and action items, and the action-item overdue sweep."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from siaga_runtime import Clock, Decision, Doc
from siaga_schemas import EventData
from siaga_schemas.common import Party
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events.meetings import Recommendation

from ..domain import actions as act
from ..domain import meetings as mtg
from ..domain.actions import ActionItem
from ..domain.meetings import AttendanceEntry, Meeting, MeetingRequest
from .common import Stores, decision, emit_once, gather_bounded, require

__all__ = [
    "assign_action_items",
    "cancel_action_item",
    "complete_action_item",
    "hold_meeting",
    "record_attendance",
    "schedule_meeting",
    "set_minutes",
    "set_recommendations",
    "sweep_action_items",
]


async def schedule_meeting(stores: Stores, req: MeetingRequest, *, limit: int) -> Meeting:
    meeting, event = mtg.schedule_meeting(req, limit=limit)

    def change(doc: Doc | None) -> Decision:
        if doc is not None:
            raise DomainError("meeting_id", f"meeting {req.meeting_id} already exists", ErrorKind.CONFLICT)
        return decision(meeting, [event])

    doc, _ = await stores.meetings.mutate(req.meeting_id, change)
    return Meeting.model_validate(doc)


async def _update(
    stores: Stores, meeting_id: str, fn: Callable[[Meeting], tuple[Meeting, Sequence[EventData]]]
) -> Meeting:
    def change(doc: Doc | None) -> Decision:
        meeting, events = fn(Meeting.model_validate(require(doc, "meeting_id", f"meeting {meeting_id}")))
        return decision(meeting, events)

    doc, _ = await stores.meetings.mutate(meeting_id, change)
    return Meeting.model_validate(doc)


async def record_attendance(stores: Stores, meeting_id: str, entries: list[AttendanceEntry]) -> Meeting:
    return await _update(stores, meeting_id, lambda m: (mtg.record_attendance(m, entries), ()))


async def set_minutes(stores: Stores, meeting_id: str, minutes: str) -> Meeting:
    return await _update(stores, meeting_id, lambda m: (mtg.set_minutes(m, minutes), ()))


async def set_recommendations(stores: Stores, meeting_id: str, recs: list[Recommendation]) -> Meeting:
    return await _update(stores, meeting_id, lambda m: (mtg.set_recommendations(m, recs), ()))


async def hold_meeting(stores: Stores, clock: Clock, meeting_id: str, held_at: datetime | None) -> Meeting:
    when = held_at or clock.now()

    def fn(m: Meeting) -> tuple[Meeting, Sequence[EventData]]:
        updated, event = mtg.hold_meeting(m, when)
        return updated, [event]

    return await _update(stores, meeting_id, fn)


async def assign_action_items(
    stores: Stores,
    clock: Clock,
    meeting_id: str,
    *,
    recommendation_ref: str,
    title: str | None,
    due_at: datetime,
    assignee: Party | None,
    fan_out: bool,
) -> list[ActionItem]:
    """Create the items (one per assignee); assigning the same recommendation to a party again is a no-op."""
    doc = require(await stores.meetings.get(meeting_id), "meeting_id", f"meeting {meeting_id}")
    planned = act.plan_action_items(
        Meeting.model_validate(doc),
        recommendation_ref=recommendation_ref,
        title=title,
        due_at=due_at,
        assignee=assignee,
        fan_out=fan_out,
        now=clock.now(),
    )

    async def create(item: ActionItem, event: EventData) -> ActionItem:
        def change(current: Doc | None) -> Decision:
            return decision(item, [event]) if current is None else Decision(state=None)

        stored, _ = await stores.action_items.mutate(item.action_item_id, change)
        return ActionItem.model_validate(stored)

    return await gather_bounded(create(item, event) for item, event in planned)


async def complete_action_item(
    stores: Stores, clock: Clock, item_id: str, evidence: str | None
) -> ActionItem:
    def change(doc: Doc | None) -> Decision:
        item = ActionItem.model_validate(require(doc, "action_item_id", f"action item {item_id}"))
        updated, event = act.complete_action_item(item, evidence=evidence, now=clock.now())
        return decision(updated, [event])

    doc, _ = await stores.action_items.mutate(item_id, change)
    return ActionItem.model_validate(doc)


async def cancel_action_item(stores: Stores, clock: Clock, item_id: str, reason: str | None) -> ActionItem:
    def change(doc: Doc | None) -> Decision:
        item = ActionItem.model_validate(require(doc, "action_item_id", f"action item {item_id}"))
        updated, event = act.cancel_action_item(item, reason=reason, now=clock.now())
        return decision(updated, [event])

    doc, _ = await stores.action_items.mutate(item_id, change)
    return ActionItem.model_validate(doc)


async def sweep_action_items(stores: Stores, clock: Clock) -> int:
    """Mark open items past their due time overdue; returns how many this call marked.

    Safe with several replicas and restarts: the overdue event is an insert-once fact keyed by the item id,
    and the item's state follows (re-checked on the freshly loaded document, redone by the next sweep).
    """
    now = clock.now()
    candidates = [
        ActionItem.model_validate(d)
        async for d in stores.action_items.scan(lambda d: d.get("status") == act.ActionStatus.OPEN.value)
    ]
    due = [item.action_item_id for item in candidates if act.mark_overdue(item, now) is not None]

    async def mark(item_id: str) -> int:
        doc = await stores.action_items.get(item_id)
        result = act.mark_overdue(ActionItem.model_validate(doc), now) if doc is not None else None
        if result is None:
            return 0
        won = await emit_once(stores, f"action-item-overdue:{item_id}", result[1])

        def change(current: Doc | None) -> Decision:  # the state follows; a lost write is redone next sweep
            fresh = act.mark_overdue(ActionItem.model_validate(current), now) if current is not None else None
            return Decision(state=None) if fresh is None else decision(fresh[0])

        await stores.action_items.mutate(item_id, change)
        return int(won)

    return sum(await gather_bounded(mark(i) for i in due))
