"""Routes for report templates, schedules, submissions, compliance and rollups.

Who may act is decided before the body is validated, by dependencies local to the router (so this module
does not postpone its annotations).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from siaga_runtime import Caller, Clock, Principal, Role, admits, omit_problems
from siaga_schemas import new_event_id
from siaga_schemas.regions import RegionCode

from .. import handlers, repository
from ..domain.compliance import ComplianceRow
from ..domain.obligations import Obligation
from ..domain.schedules import ReportSchedule, ScheduleRequest
from ..domain.templates import ReportTemplate
from ..handlers import Stores
from ..settings import MeetingsSettings
from .common import SubmitBody, organiser_of_body, organiser_only, require_institution
from .views import NextPeriod, Rollup, ScheduleSummary

__all__ = ["make_reports_router"]

Caller = Caller
PeriodId = Annotated[str, Query(max_length=10, description="Period: local date of the due time, YYYY-MM-DD.")]
Organiser = Annotated[Principal, Depends(organiser_only)]
ScheduleOwner = Annotated[Principal, Depends(organiser_of_body("owner"))]


def make_reports_router(stores: Stores, clock: Clock, settings: MeetingsSettings) -> APIRouter:
    router = APIRouter(tags=["reports"])

    @admits(*Role.WRITERS)
    async def reporter(schedule_id: str, region: RegionCode, principal: Caller) -> Principal:
        """A caller who may write for the region and belongs to the obligated institution (404: no such
        schedule)."""
        principal.require_write(region)
        schedule = await handlers.load_schedule(stores, schedule_id)
        require_institution(principal, schedule.obligated.institution)
        return principal

    Reporter = Annotated[Principal, Depends(reporter)]

    @router.get("/templates", summary="Report templates")
    async def templates(principal: Caller) -> list[ReportTemplate]:
        return await repository.list_templates(stores)

    @router.get("/templates/{template_id}", summary="One report template")
    async def template(template_id: str, principal: Caller) -> ReportTemplate:
        return await handlers.load_template(stores, template_id)

    @router.post(
        "/templates",
        status_code=status.HTTP_201_CREATED,
        summary="Define a report template (organiser)",
        openapi_extra=omit_problems(404),
    )
    async def define_template(principal: Organiser, body: ReportTemplate) -> ReportTemplate:
        return await handlers.define_template(stores, body)

    @router.post("/schedules", status_code=status.HTTP_201_CREATED, summary="Define a reporting schedule")
    async def define_schedule(principal: ScheduleOwner, body: ScheduleRequest) -> ReportSchedule:
        principal.require_write(body.owner.region, organise=True)
        require_institution(principal, body.owner.institution)
        return await handlers.define_schedule(stores, clock, body, limit=settings.max_invited_parties)

    async def readable_schedule(schedule_id: str, principal: Principal) -> ReportSchedule:
        schedule = await handlers.load_schedule(stores, schedule_id)
        if not principal.can_read(schedule.owner.region) and not any(
            principal.covers(r) for r in schedule.regions
        ):
            principal.require_read(schedule.owner.region)
        return schedule

    @router.get(
        "/schedules",
        response_model=list[ScheduleSummary],
        summary="Reporting schedules you may read, with their latest periods due so far and the next one",
    )
    async def list_schedules(
        principal: Caller, periods: Annotated[int, Query(ge=0, le=60)] = 8
    ) -> list[dict[str, Any]]:
        from siaga_schemas.localtime import region_zone

        from ..domain.schedules import next_period, recent_period_ids

        now = clock.now()
        out = []
        for s in await repository.list_schedules(stores, principal):
            zone = region_zone(s.regions[0] if s.regions else s.owner.region)
            upcoming = next_period(s, zone, now)
            out.append(
                {
                    **s.model_dump(mode="json"),
                    "recent_periods": recent_period_ids(s, zone, now, periods),
                    "next_period": upcoming.period_id if upcoming else None,
                }
            )
        return out

    @router.get("/schedules/{schedule_id}", summary="One reporting schedule")
    async def get_schedule(schedule_id: str, principal: Caller) -> ReportSchedule:
        return await readable_schedule(schedule_id, principal)

    @router.put(
        "/schedules/{schedule_id}/reports/{region}/{period_id}",
        summary="Submit or amend a region's report for a period (each call is a new version)",
    )
    async def submit(
        schedule_id: str,
        region: RegionCode,
        period_id: str,
        principal: Reporter,
        body: SubmitBody,
        idempotency_key: Annotated[
            str | None,
            Header(max_length=120, description="Repeat-safe key: a retried request is applied once."),
        ] = None,
    ) -> Obligation:
        return await handlers.submit(
            stores,
            clock,
            schedule_id=schedule_id,
            region=region,
            period_id=period_id,
            values=body.values,
            submitted_by=principal.subject,
            submission_id=f"sub-{new_event_id()}",
            idempotency_key=idempotency_key,
        )

    @router.get(
        "/schedules/{schedule_id}/reports/{region}/{period_id}", summary="A region's report, all versions"
    )
    async def report(schedule_id: str, region: RegionCode, period_id: str, principal: Caller) -> Obligation:
        schedule = await handlers.load_schedule(stores, schedule_id)
        if not principal.can_read(region):
            principal.require_read(schedule.owner.region)
        return await repository.get_obligation(stores, schedule_id, region, period_id)

    @router.get(
        "/schedules/{schedule_id}/compliance", summary="Who reported, who is late, who never reported"
    )
    async def compliance(schedule_id: str, period_id: PeriodId, principal: Caller) -> list[ComplianceRow]:
        schedule = await readable_schedule(schedule_id, principal)
        within = None if principal.can_read(schedule.owner.region) else principal.region
        return await repository.compliance(stores, schedule, period_id, clock.now(), within=within)

    @router.get(
        "/schedules/{schedule_id}/rollup",
        response_model=Rollup,
        summary="Totals per province and period-over-period comparison",
    )
    async def rollup(
        schedule_id: str,
        period_id: PeriodId,
        principal: Caller,
        previous_period_id: Annotated[
            str | None, Query(max_length=10, description="Compare with this period.")
        ] = None,
    ) -> dict[str, Any]:
        schedule = await handlers.load_schedule(stores, schedule_id)
        principal.require_read(schedule.owner.region)
        template = await handlers.load_template(stores, schedule.template_id)
        return await repository.rollup(stores, schedule, template, period_id, previous_period_id)

    @router.get(
        "/schedules/{schedule_id}/next", response_model=NextPeriod, summary="The next due period of a region"
    )
    async def next_due(
        schedule_id: str, region: Annotated[RegionCode, Query()], principal: Caller
    ) -> dict[str, Any]:
        from siaga_schemas.localtime import region_zone

        from ..domain.schedules import next_period

        schedule = await readable_schedule(schedule_id, principal)
        if region not in schedule.regions:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"{region} is not obligated by {schedule_id}")
        period = next_period(schedule, region_zone(region), clock.now())
        if period is None:
            return {"period_id": None}
        return {"period_id": period.period_id, "opens_at": period.opens_at, "due_at": period.due_at}

    return router
