"""Shipments: create, dispatch, checkpoint, deliver with proof of delivery, reroute, cancel, close; queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from siaga_runtime import Caller, Clock, Principal
from siaga_schemas import EventData, RegionCode
from siaga_schemas.common import Identifier
from siaga_schemas.errors import DomainError
from siaga_schemas.localtime import aware_in, region_zone

from .. import handlers, repository
from ..domain.layout import shipment_id
from ..domain.shipment import Checkpoint, Shipment
from ..handlers import Stores, Transition
from .common import (
    CancelBody,
    CheckpointBody,
    DeliverBody,
    DispatchBody,
    RerouteBody,
    ShipmentBody,
    local_or_now,
    require_party,
)

__all__ = ["make_shipments_router"]


def make_shipments_router(stores: Stores, clock: Clock, critical_slack: timedelta) -> APIRouter:
    router = APIRouter(tags=["shipments"])

    async def act(sid: str, principal: Principal, step: Transition) -> dict[str, Any]:
        current = await handlers.get_shipment(stores, sid)
        require_party(principal, current, write=True)
        moved = await handlers.transition(stores, sid, step, clock.now(), critical_slack)
        return await repository.shipment_view(stores, moved)

    @router.post(
        "/shipments",
        status_code=201,
        summary="A shipment of its own for one leg of a plan (a second truck, a replacement after a shortage)",
        description="Every leg of a plan is a shipment already, with the id '<plan id>:<leg id>' (see the "
        "plan); this creates another one for the same leg, with its own id, lines and times.",
    )
    async def create(body: ShipmentBody, principal: Caller) -> dict[str, Any]:
        await handlers.load_plan(stores, body.plan_id, kecamatan=None, with_legs=False)  # 404: no such plan
        try:
            leg = await handlers.get_shipment(stores, shipment_id(body.plan_id, body.leg_id))
        except DomainError as exc:
            raise DomainError("leg_id", f"plan {body.plan_id} has no leg {body.leg_id}") from exc
        if not (principal.can_write(leg.origin.region) or principal.can_write(leg.destination.region)):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"{principal.subject} may not ship on {body.leg_id}"
            )
        region = leg.destination.region
        shipment = await handlers.create_shipment(
            stores,
            new_id=body.shipment_id,
            plan_id=body.plan_id,
            leg_id=body.leg_id,
            lines=body.lines,
            planned_dispatch_at=aware_in(body.planned_dispatch_at, region_zone(region))
            if body.planned_dispatch_at
            else None,
            eta=aware_in(body.eta, region_zone(region)) if body.eta else None,
            now=clock.now(),
            critical_slack=critical_slack,
        )
        return await repository.shipment_view(stores, shipment)

    @router.get(
        "/shipments/delayed",
        summary="Open shipments with a delay raised, most severe first, with their slack to H-1",
    )
    async def delayed(
        principal: Caller,
        within: Annotated[RegionCode | None, Query(description="Destination within this region.")] = None,
    ) -> list[dict[str, Any]]:
        scope = within or principal.region
        if scope is not None:
            principal.require_read(scope)
        return await repository.delayed_shipments(stores, scope)

    @router.get("/shipments/{shipment_id}", summary="One shipment with its checkpoints and proof of delivery")
    async def get(shipment_id: Identifier, principal: Caller) -> dict[str, Any]:
        shipment = await handlers.get_shipment(stores, shipment_id)
        require_party(principal, shipment, write=False)
        return await repository.shipment_view(stores, shipment)

    @router.post("/shipments/{shipment_id}/dispatch", summary="It left")
    async def dispatch(shipment_id: Identifier, body: DispatchBody, principal: Caller) -> dict[str, Any]:
        def step(s: Shipment) -> tuple[Shipment, list[EventData]]:
            at = local_or_now(body.dispatched_at, s.destination_region, clock.now())
            return s.dispatch(at, aware_in(body.eta, region_zone(s.destination_region)) if body.eta else None)

        return await act(shipment_id, principal, step)

    @router.post("/shipments/{shipment_id}/checkpoints", summary="It passed a checkpoint")
    async def checkpoint(shipment_id: Identifier, body: CheckpointBody, principal: Caller) -> dict[str, Any]:
        def step(s: Shipment) -> tuple[Shipment, list[EventData]]:
            r = s.destination_region
            cp = Checkpoint(
                place=body.place,
                region=body.region,
                passed_at=local_or_now(body.passed_at, r, clock.now()),
                eta=aware_in(body.eta, region_zone(r)) if body.eta else None,
            )
            return s.checkpoint(cp)

        return await act(shipment_id, principal, step)

    @router.post("/shipments/{shipment_id}/deliver", summary="It arrived: proof of delivery and handover")
    async def deliver(shipment_id: Identifier, body: DeliverBody, principal: Caller) -> dict[str, Any]:
        def step(s: Shipment) -> tuple[Shipment, list[EventData]]:
            at = local_or_now(body.delivered_at, s.destination_region, clock.now())
            return s.deliver(at, body.lines, body.handover, clock.now())

        return await act(shipment_id, principal, step)

    @router.post(
        "/shipments/{shipment_id}/reroute", summary="It takes another route (e.g. after a landslide)"
    )
    async def reroute(shipment_id: Identifier, body: RerouteBody, principal: Caller) -> dict[str, Any]:
        def step(s: Shipment) -> tuple[Shipment, list[EventData]]:
            r = s.destination_region
            at = local_or_now(body.rerouted_at, r, clock.now())
            return s.reroute(
                at, body.reason, body.transport_mode, aware_in(body.eta, region_zone(r)), body.via
            )

        return await act(shipment_id, principal, step)

    @router.post("/shipments/{shipment_id}/cancel", summary="It will not go")
    async def cancel(shipment_id: Identifier, body: CancelBody, principal: Caller) -> dict[str, Any]:
        return await act(shipment_id, principal, lambda s: s.cancel(clock.now(), body.reason))

    @router.post("/shipments/{shipment_id}/close", summary="Proof of delivery reviewed: close it")
    async def close(shipment_id: Identifier, principal: Caller) -> dict[str, Any]:
        return await act(shipment_id, principal, lambda s: s.close(clock.now()))

    return router
