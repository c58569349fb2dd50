"""Composition root of the logistics service: stores, topics, projections, timers and routes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from siaga_runtime import Clock, Projection, ServiceRuntime, make_http_app
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.topics import LOGISTICS_EVENTS, LOGISTICS_STATUS_UPDATES

from . import handlers
from .api import make_import_router, make_plans_router, make_shipments_router
from .handlers import Stores
from .settings import LogisticsSettings

__all__ = ["build_app"]

DESCRIPTION = """Election logistics: distribution plans from the kab/kota warehouse down to every TPS (created
from a JSON spec, or imported from a CSV/XLSX file of any size), shipments with checkpoints and proof of
delivery (berita acara serah terima), delay and discrepancy detection against the legal H-1 deadline
(UU 7/2017 art. 241(6)), and readiness per kecamatan, kab/kota, province and nation.
Times without an offset are the local time of the destination region.

Auth: bearer token. Operators write within their own region; readers (Bawaslu, Desk Pilkada) read within
theirs."""


def build_app(settings: LogisticsSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or LogisticsSettings()
    runtime = ServiceRuntime(settings, clock=clock)
    stores = Stores(
        plans=runtime.store("plans", cache_mb=32),
        shipments=runtime.store(
            "shipments",
            cache_mb=settings.shipment_cache_mb,
            packed_cache_mb=settings.shipment_packed_cache_mb,
        ),
        readiness=runtime.store("readiness", cache_mb=32),
        pods=runtime.store("pods", cache_mb=0),
        delayed=runtime.store("delayed", cache_mb=8),
        timers=runtime.due_index("shipment_timers", bucket=timedelta(seconds=settings.timer_bucket_s)),
    )
    runtime.publisher(LOGISTICS_EVENTS)
    runtime.subscribe(
        LOGISTICS_STATUS_UPDATES,
        [
            Projection(
                "status-updates",
                stores.shipments,
                handlers.route_status,
                handlers.make_status_decider(runtime.clock),
            )
        ],
        accept={ShipmentStatusReported.event_type},
    )
    runtime.subscribe(
        LOGISTICS_EVENTS,
        handlers.own_event_projections(stores),
        accept=handlers.OWN_EVENTS,
        description="Own events feeding readiness, proofs of delivery, the delayed list and delay timers.",
    )
    critical = timedelta(hours=settings.delay_critical_slack_h)

    async def delay_sweep() -> None:
        await handlers.sweep_delays(stores, runtime.clock, critical_slack=critical)

    async def risk_sweep() -> None:
        await handlers.sweep_risk(stores, runtime.clock)

    runtime.every(settings.delay_sweep_interval_s, delay_sweep, "logistics-delay-sweep", leased=True)
    runtime.every(settings.risk_sweep_interval_s, risk_sweep, "logistics-risk-sweep", leased=True)
    app = make_http_app(
        runtime,
        title="Siaga logistics",
        description=DESCRIPTION,
        routers=[
            make_plans_router(stores, runtime.clock),
            make_import_router(
                stores, runtime.clock, spill_dir=settings.import_spill_dir, room=runtime.relay.room
            ),
            make_shipments_router(stores, runtime.clock, critical),
        ],
    )
    app.state.stores = stores
    return app
