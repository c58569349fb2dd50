"""Shipments: create, dispatch, checkpoint, deliver with proof of delivery, reroute, cancel, close; queries.

Who may act on a shipment is decided before its body is validated (``party``, ``leg_party``): the route's
dependencies are local to the router, so this module does not postpone its annotations.
"""

import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from siaga_runtime import Caller, Clock, Principal, Role, admits, scope_from_body
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
from .views import DelayedShipmentView, ShipmentView

__all__ = ["make_shipments_router"]

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,119}$")


def make_shipments_router(stores: Stores, clock: Clock, critical_slack: timedelta) -> APIRouter:
    router = APIRouter(tags=["shipments"])

    @admits(*Role.WRITERS)
    async def party(shipment_id: Identifier, principal: Caller) -> Principal:
        """An operator of the shipment's origin or destination (404 for no such shipment)."""
        require_party(principal, await handlers.get_shipment(stores, shipment_id), write=True)
        return principal

    async def may_ship(principal: Principal, body: Any) -> None:
        """An operator of the origin or destination of the leg that the body names."""
        plan_id, leg_id = (
            (body.get("plan_id"), body.get("leg_id")) if isinstance(body, dict) else (None, None)
        )
        if not all(isinstance(v, str) and _IDENTIFIER.match(v) for v in (plan_id, leg_id)):
            principal.require_write_somewhere()  # validation names what is wrong with the ids
            return
        try:
            leg = await handlers.get_shipment(stores, shipment_id(str(plan_id), str(leg_id)))
        except (DomainError, ValueError):  # no such leg: the route says so, to a caller who may write
            principal.require_write_somewhere()
            return
        if not (principal.can_write(leg.origin.region) or principal.can_write(leg.destination.region)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{principal.subject} may not ship on {leg_id}")

    Party = Annotated[Principal, Depends(party)]
    LegParty = Annotated[Principal, Depends(scope_from_body(check=may_ship))]

    async def act(sid: str, step: Transition) -> dict[str, Any]:
        moved = await handlers.transition(stores, sid, step, clock.now(), critical_slack)
        return await repository.shipment_view(stores, moved)

    @router.post(
        "/shipments",
        status_code=201,
        response_model=ShipmentView,
        summary="A shipment of its own for one leg of a plan (a second truck, a replacement after a shortage)",
        description="Every leg of a plan is a shipment already, with the id '<plan id>:<leg id>' (see the "
        "plan); this creates another one for the same leg, with its own id, lines and times.",
    )
    async def create(principal: LegParty, body: ShipmentBody) -> dict[str, Any]:
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
        response_model=list[DelayedShipmentView],
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

    @router.get(
        "/shipments/{shipment_id}",
        response_model=ShipmentView,
        summary="One shipment with its checkpoints and proof of delivery",
    )
    async def get(shipment_id: Identifier, principal: Caller) -> dict[str, Any]:
        shipment = await handlers.get_shipment(stores, shipment_id)
        require_party(principal, shipment, write=False)
        return await repository.shipment_view(stores, shipment)

    @router.post("/shipments/{shipment_id}/dispatch", response_model=ShipmentView, summary="It left")
    async def dispatch(shipment_id: Identifier, principal: Party, body: DispatchBody) -> dict[str, Any]:
        def step(s: Shipment) -> tuple[Shipment, list[EventData]]:
            at = local_or_now(body.dispatched_at, s.destination_region, clock.now())
            return s.dispatch(at, aware_in(body.eta, region_zone(s.destination_region)) if body.eta else None)

        return await act(shipment_id, step)

    @router.post(
        "/shipments/{shipment_id}/checkpoints", response_model=ShipmentView, summary="It passed a checkpoint"
    )
    async def checkpoint(shipment_id: Identifier, principal: Party, body: CheckpointBody) -> dict[str, Any]:
        def step(s: Shipment) -> tuple[Shipment, list[EventData]]:
            r = s.destination_region
            cp = Checkpoint(
                place=body.place,
                region=body.region,
                passed_at=local_or_now(body.passed_at, r, clock.now()),
                eta=aware_in(body.eta, region_zone(r)) if body.eta else None,
            )
            return s.checkpoint(cp)

        return await act(shipment_id, step)

    @router.post(
        "/shipments/{shipment_id}/deliver",
        response_model=ShipmentView,
        summary="It arrived: proof of delivery and handover",
    )
    async def deliver(shipment_id: Identifier, principal: Party, body: DeliverBody) -> dict[str, Any]:
        def step(s: Shipment) -> tuple[Shipment, list[EventData]]:
            at = local_or_now(body.delivered_at, s.destination_region, clock.now())
            return s.deliver(at, body.lines, body.handover, clock.now())

        return await act(shipment_id, step)

    @router.post(
        "/shipments/{shipment_id}/reroute",
        response_model=ShipmentView,
        summary="It takes another route (e.g. after a landslide)",
    )
    async def reroute(shipment_id: Identifier, principal: Party, body: RerouteBody) -> dict[str, Any]:
        def step(s: Shipment) -> tuple[Shipment, list[EventData]]:
            r = s.destination_region
            at = local_or_now(body.rerouted_at, r, clock.now())
            return s.reroute(
                at, body.reason, body.transport_mode, aware_in(body.eta, region_zone(r)), body.via
            )

        return await act(shipment_id, step)

    @router.post("/shipments/{shipment_id}/cancel", response_model=ShipmentView, summary="It will not go")
    async def cancel(shipment_id: Identifier, principal: Party, body: CancelBody) -> dict[str, Any]:
        return await act(shipment_id, lambda s: s.cancel(clock.now(), body.reason))

    @router.post(
        "/shipments/{shipment_id}/close",
        response_model=ShipmentView,
        summary="Proof of delivery reviewed: close it",
    )
    async def close(shipment_id: Identifier, principal: Party) -> dict[str, Any]:
        return await act(shipment_id, lambda s: s.close(clock.now()))

    return router
