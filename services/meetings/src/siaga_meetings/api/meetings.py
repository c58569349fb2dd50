"""Routes for rakor, recommendations and action items.

Who may act is decided before the body is validated, by dependencies local to the router (so this module
does not postpone its annotations).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from siaga_runtime import Caller, Clock, Principal, Role, admits, omit_problems
from siaga_schemas.regions import RegionCode

from .. import handlers, repository
from ..domain.actions import ActionItem, ActionStatus
from ..domain.meetings import Meeting, MeetingRequest
from ..handlers import Stores
from ..settings import MeetingsSettings
from .common import (
    ActionItemsBody,
    AttendanceBody,
    CancelBody,
    CompleteBody,
    HeldBody,
    MinutesBody,
    RecommendationsBody,
    admin_only,
    organiser_of_body,
    require_institution,
)

__all__ = ["make_meetings_router"]


def make_meetings_router(stores: Stores, clock: Clock, settings: MeetingsSettings) -> APIRouter:
    router = APIRouter(tags=["meetings"])

    @admits(*Role.ORGANISERS)
    async def organising(meeting_id: str, principal: Caller) -> Principal:
        """The meeting's organiser (its region and institution); 404 for no such meeting."""
        meeting = await repository.get_meeting(stores, meeting_id)
        principal.require_write(meeting.organiser.region, organise=True)
        require_institution(principal, meeting.organiser.institution)
        return principal

    @admits(*Role.WRITERS)
    async def assignee(item_id: str, principal: Caller) -> Principal:
        item = await repository.get_action_item(stores, item_id)
        principal.require_write(item.assignee.region)
        require_institution(principal, item.assignee.institution)
        return principal

    @admits(*Role.ORGANISERS)
    async def item_organiser(item_id: str, principal: Caller) -> Principal:
        item = await repository.get_action_item(stores, item_id)
        principal.require_write(item.organiser.region, organise=True)
        require_institution(principal, item.organiser.institution)
        return principal

    Organising = Annotated[Principal, Depends(organising)]
    Assignee = Annotated[Principal, Depends(assignee)]
    ItemOrganiser = Annotated[Principal, Depends(item_organiser)]
    Convener = Annotated[Principal, Depends(organiser_of_body("organiser"))]

    @router.post(
        "/meetings",
        status_code=status.HTTP_201_CREATED,
        summary="Schedule a rakor",
        openapi_extra=omit_problems(404),
    )
    async def schedule(principal: Convener, body: MeetingRequest) -> Meeting:
        principal.require_write(body.organiser.region, organise=True)
        require_institution(principal, body.organiser.institution)
        return await handlers.schedule_meeting(stores, body, limit=settings.max_invited_parties)

    @router.get(
        "/meetings", summary="Meetings you may read (organised or invited within your region), newest first"
    )
    async def list_meetings(
        principal: Caller,
        within: Annotated[RegionCode | None, Query(description="Organised within this region.")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[Meeting]:
        if within is not None:
            principal.require_read(within)
        return await repository.list_meetings(stores, principal, within=within, limit=limit)

    @router.get("/meetings/{meeting_id}", summary="A meeting with attendance, minutes and recommendations")
    async def get(meeting_id: str, principal: Caller) -> Meeting:
        meeting = await repository.get_meeting(stores, meeting_id)
        invited = any(principal.covers(p.region) for p in meeting.invited_parties)
        if not principal.can_read(meeting.organiser.region) and not (invited and principal.roles):
            principal.require_read(meeting.organiser.region)
        return meeting

    @router.put(
        "/meetings/{meeting_id}/attendance",
        summary="Record who attended, late or absent, and who represented",
    )
    async def attendance(meeting_id: str, principal: Organising, body: AttendanceBody) -> Meeting:
        return await handlers.record_attendance(stores, meeting_id, body.entries)

    @router.put("/meetings/{meeting_id}/minutes", summary="Record the minutes")
    async def minutes(meeting_id: str, principal: Organising, body: MinutesBody) -> Meeting:
        return await handlers.set_minutes(stores, meeting_id, body.minutes)

    @router.put("/meetings/{meeting_id}/recommendations", summary="Record numbered recommendations")
    async def recommendations(meeting_id: str, principal: Organising, body: RecommendationsBody) -> Meeting:
        return await handlers.set_recommendations(stores, meeting_id, body.recommendations)

    @router.post("/meetings/{meeting_id}/held", summary="Mark the rakor held (publishes meeting-held)")
    async def held(meeting_id: str, principal: Organising, body: HeldBody) -> Meeting:
        return await handlers.hold_meeting(stores, clock, meeting_id, body.held_at)

    @router.post(
        "/meetings/{meeting_id}/action-items",
        status_code=status.HTTP_201_CREATED,
        summary="Turn a recommendation into action items (one assignee, or every invited party)",
    )
    async def assign(meeting_id: str, principal: Organising, body: ActionItemsBody) -> list[ActionItem]:
        return await handlers.assign_action_items(
            stores,
            clock,
            meeting_id,
            recommendation_ref=body.recommendation_ref,
            title=body.title,
            due_at=body.due_at,
            assignee=body.assignee,
            fan_out=body.fan_out,
        )

    @router.get("/action-items", summary="Action items assigned within a region, by status")
    async def list_items(
        principal: Caller,
        region: Annotated[RegionCode, Query(description="Region; items of it and below it.")],
        status_: Annotated[
            ActionStatus | None, Query(alias="status", description="Filter by status.")
        ] = None,
        meeting_id: Annotated[str | None, Query(max_length=120, description="Filter by meeting.")] = None,
    ) -> list[ActionItem]:
        principal.require_read(region)
        return await repository.list_action_items(
            stores, within=region, status=status_, meeting_id=meeting_id
        )

    @router.get("/action-items/{item_id}", summary="One action item")
    async def get_item(item_id: str, principal: Caller) -> ActionItem:
        item = await repository.get_action_item(stores, item_id)
        if not principal.can_read(item.assignee.region):
            principal.require_read(item.organiser.region)
        return item

    @router.post("/action-items/{item_id}/complete", summary="The assignee completes an item, with evidence")
    async def complete(item_id: str, principal: Assignee, body: CompleteBody) -> ActionItem:
        return await handlers.complete_action_item(stores, clock, item_id, body.evidence)

    @router.post("/action-items/{item_id}/cancel", summary="The organiser cancels an item")
    async def cancel(item_id: str, principal: ItemOrganiser, body: CancelBody) -> ActionItem:
        return await handlers.cancel_action_item(stores, clock, item_id, body.reason)

    @router.post(
        "/operations/sweep",
        tags=["operations"],
        summary="Run the overdue sweeps now (admin)",
        openapi_extra=omit_problems(404, 409),
    )
    async def sweep(principal: Annotated[Principal, Depends(admin_only)]) -> dict[str, int]:
        return await handlers.sweep_overdue(stores, clock, lookback_days=settings.report_lookback_days)

    return router
