"""Commands on templates, schedules and obligations; the inbound submission decider; the report sweep."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from siaga_runtime import Clock, Decision, Doc, EventRejected
from siaga_schemas import AnyEnvelope, is_within
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events.meetings import SubmitReport
from siaga_schemas.localtime import region_zone

from ..domain.builtin import BUILTIN_TEMPLATES
from ..domain.obligations import (
    Obligation,
    new_obligation,
    obligation_id,
    request_or_mark_overdue,
    submit_report,
)
from ..domain.regions import expand_party_set
from ..domain.schedules import ReportSchedule, ScheduleRequest, period_for, periods_due_between
from ..domain.templates import ReportTemplate
from .common import Stores, decision, dump, gather_bounded, require

__all__ = [
    "define_schedule",
    "define_template",
    "ensure_builtin_templates",
    "load_schedule",
    "load_template",
    "make_submission_decider",
    "route_submission",
    "submit",
    "sweep_reports",
]


async def ensure_builtin_templates(stores: Stores) -> None:
    """Install the shipped templates once (a no-op when they exist; safe with several replicas)."""
    for template in BUILTIN_TEMPLATES:
        state = dump(template)

        def change(doc: Doc | None, state: Doc = state) -> Decision:
            return Decision(state=state if doc is None else None)

        await stores.templates.mutate(template.template_id, change)


async def define_template(stores: Stores, template: ReportTemplate) -> ReportTemplate:
    """Templates are immutable (obligations snapshot them); defining the same one again is a no-op."""
    state = dump(template)

    def change(doc: Doc | None) -> Decision:
        if doc is None:
            return Decision(state=state)
        if ReportTemplate.model_validate({k: v for k, v in doc.items() if not k.startswith("_")}) != template:
            raise DomainError(
                "template_id",
                f"template {template.template_id} exists with other content",
                ErrorKind.CONFLICT,
            )
        return Decision(state=None)

    doc, _ = await stores.templates.mutate(template.template_id, change)
    return ReportTemplate.model_validate(
        {k: v for k, v in require(doc, "template_id", "template").items() if not k.startswith("_")}
    )


async def load_template(stores: Stores, template_id: str, field: str = "template_id") -> ReportTemplate:
    doc = require(await stores.templates.get(template_id), field, f"template {template_id}")
    return ReportTemplate.model_validate({k: v for k, v in doc.items() if not k.startswith("_")})


async def load_schedule(stores: Stores, schedule_id: str) -> ReportSchedule:
    doc = require(await stores.schedules.get(schedule_id), "schedule_id", f"schedule {schedule_id}")
    return ReportSchedule.model_validate(doc)


async def define_schedule(
    stores: Stores, clock: Clock, req: ScheduleRequest, *, limit: int
) -> ReportSchedule:
    try:
        template = await load_template(stores, req.template_id)
    except DomainError as exc:
        raise DomainError("template_id", exc.message) from None
    if template.institution is not req.obligated.institution:
        raise DomainError(
            "obligated.institution",
            f"template {template.template_id} is filled in by {template.institution.value}",
        )
    if not is_within(req.obligated.within, req.owner.region):
        raise DomainError(
            "obligated.within", f"{req.obligated.within} is outside the owner's region {req.owner.region}"
        )
    if req.ends_on is not None and req.ends_on < req.starts_on:
        raise DomainError("ends_on", "is before starts_on")
    regions = [p.region for p in expand_party_set(req.obligated, field="obligated", limit=limit)]
    schedule = ReportSchedule(**req.model_dump(), regions=regions, created_at=clock.now())

    def change(doc: Doc | None) -> Decision:
        if doc is not None:
            raise DomainError("schedule_id", f"schedule {req.schedule_id} already exists", ErrorKind.CONFLICT)
        return decision(schedule)

    doc, _ = await stores.schedules.mutate(req.schedule_id, change)
    return ReportSchedule.model_validate(doc)


async def submit(
    stores: Stores,
    clock: Clock,
    *,
    schedule_id: str,
    region: str,
    period_id: str,
    values: Mapping[str, Any],
    submitted_by: str,
    submission_id: str,
    idempotency_key: str | None = None,
) -> Obligation:
    """Submit or amend one region's report for one period (HTTP); every call makes a new version."""
    schedule = await load_schedule(stores, schedule_id)
    if not schedule.covers_region(region):
        raise DomainError("region", f"{region} is not obligated by schedule {schedule_id}")
    template = await load_template(stores, schedule.template_id)
    period = period_for(schedule, period_id, region_zone(region))
    now = clock.now()
    if now < period.opens_at:
        raise DomainError("period_id", f"period {period_id} opens at {period.opens_at.isoformat()}")
    fresh = new_obligation(schedule, template, region, period)

    def change(doc: Doc | None) -> Decision:
        ob = Obligation.model_validate(doc) if doc is not None else fresh
        updated, event = submit_report(
            ob, values, submitted_by=submitted_by, submission_id=submission_id, channel="http", now=now
        )
        return decision(updated, [event])

    key = f"submit:{idempotency_key}" if idempotency_key else None
    doc, _ = await stores.obligations.mutate(fresh.obligation_id, change, idempotency_key=key)
    return Obligation.model_validate(doc)


def route_submission(envelope: AnyEnvelope) -> str | None:
    data = envelope.data
    if not isinstance(data, SubmitReport):
        return None
    return obligation_id(data.schedule_id, data.region, data.period_id)


def make_submission_decider(clock: Clock) -> Callable[[Doc | None, AnyEnvelope], Decision]:
    """Decide function for inbound ``SubmitReport`` events: the same validation as the HTTP API.

    A submission for a period that has not been requested from that region (unknown schedule, region or
    period) or with invalid values is rejected, and the runtime dead-letters it with the reason.
    """

    def decide(doc: Doc | None, envelope: AnyEnvelope) -> Decision:
        data = envelope.data
        if not isinstance(data, SubmitReport):  # pragma: no cover - routed away
            return Decision(state=None)
        if doc is None:
            raise EventRejected(
                f"period_id: no report of schedule {data.schedule_id} has been requested from "
                f"{data.region} for period {data.period_id}"
            )
        ob = Obligation.model_validate(doc)
        submission_id = f"sub-{envelope.id}"
        if any(v.submission_id == submission_id for v in ob.versions):
            return Decision(state=None)  # the same event re-sent (a replay of its id): already a version
        try:
            updated, event = submit_report(
                ob,
                data.values,
                submitted_by=data.submitted_by,
                submission_id=submission_id,
                channel="event",
                now=clock.now(),
            )
        except DomainError as exc:
            raise EventRejected(str(exc)) from None
        return decision(updated, [event])

    return decide


async def sweep_reports(stores: Stores, clock: Clock, *, lookback_days: int) -> int:
    """Request every period that has opened and mark every missed one overdue; returns events emitted.

    Each (schedule, region, period) is one document, created by an insert that carries report-requested;
    report-overdue rides on the version-guarded move to OVERDUE. Inserts are atomic on a unique ``_id`` and the
    guard makes one sweeper win the move, so concurrent sweepers (replicas) and restarts emit each exactly
    once per region and period.
    """
    now = clock.now()
    schedules = [ReportSchedule.model_validate(d) async for d in stores.schedules.scan()]
    templates: dict[str, ReportTemplate] = {}
    work: list[tuple[str, Obligation]] = []
    for schedule in schedules:
        if schedule.template_id not in templates:
            templates[schedule.template_id] = await load_template(stores, schedule.template_id)
        template = templates[schedule.template_id]
        for region in schedule.regions:
            zone = region_zone(region)
            for period in periods_due_between(
                schedule, zone, now - timedelta(days=lookback_days), now + timedelta(days=8)
            ):
                if period.opens_at <= now:
                    fresh = new_obligation(schedule, template, region, period)
                    work.append((fresh.obligation_id, fresh))

    async def step(oid: str, fresh: Obligation) -> int:
        def change(doc: Doc | None) -> Decision:
            stored = Obligation.model_validate(doc) if doc is not None else None
            result = request_or_mark_overdue(stored, fresh, now)
            if result is None:
                return Decision(state=None)
            # Both ride on the obligation's own write: report-requested on its creation (an insert),
            # report-overdue on the move to OVERDUE (a version-guarded replace, atomic on MongoDB and behind
            # the FerretDB front). So each happens once, and report-overdue leaves through the obligation's
            # outbox, ordered before the report-submitted of a late submission: a fact document of its own
            # could be published after it, and notifications would see the clear before the alert.
            return decision(result[0], list(result[1]))

        _, emitted = await stores.obligations.mutate(oid, change)
        return len(emitted)

    return sum(await gather_bounded(step(oid, fresh) for oid, fresh in work))
