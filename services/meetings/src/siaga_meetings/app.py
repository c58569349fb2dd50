"""Composition root of the meetings service: stores, topics, the inbound projection, timers and routes."""

from __future__ import annotations

from fastapi import FastAPI
from siaga_runtime import Clock, Projection, ServiceRuntime, make_http_app
from siaga_schemas.events.meetings import SubmitReport
from siaga_schemas.topics import MEETINGS_EVENTS, MEETINGS_REPORT_SUBMISSIONS

from . import handlers
from .api import make_meetings_router, make_reports_router
from .handlers import Stores
from .settings import MeetingsSettings

__all__ = ["build_app"]

DESCRIPTION = """Rakor (coordination meetings), their recommendations and action items, and periodic reporting
duties with compliance and rollups. Times without an offset are the local time of the region that owns them.

Auth: bearer token. Operators act for their own region; organisers for every region within theirs; readers
(Bawaslu, Desk Pilkada) read within theirs."""


def build_app(settings: MeetingsSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or MeetingsSettings()
    runtime = ServiceRuntime(settings, clock=clock)
    stores = Stores(
        meetings=runtime.store("meetings"),
        action_items=runtime.store("action_items"),
        templates=runtime.store("templates"),
        schedules=runtime.store("schedules"),
        obligations=runtime.store("obligations"),
        facts=runtime.store("facts"),
    )
    runtime.publisher(MEETINGS_EVENTS)
    runtime.subscribe(
        MEETINGS_REPORT_SUBMISSIONS,
        [
            Projection(
                "report-submissions",
                stores.obligations,
                handlers.route_submission,
                handlers.make_submission_decider(runtime.clock),
            )
        ],
        accept={SubmitReport.event_type},
    )

    async def sweep() -> None:
        await handlers.sweep_overdue(stores, runtime.clock, lookback_days=settings.report_lookback_days)

    async def install_templates() -> None:
        await handlers.ensure_builtin_templates(stores)

    runtime.every(settings.sweep_interval_s, sweep, "meetings-overdue-sweep", leased=True)
    app = make_http_app(
        runtime,
        title="Siaga meetings",
        description=DESCRIPTION,
        routers=[
            make_meetings_router(stores, runtime.clock, settings),
            make_reports_router(stores, runtime.clock, settings),
        ],
        on_startup=[install_templates],
    )
    app.state.stores = stores
    return app
