"""Shipment commands from the HTTP API: each is one ``store.mutate`` on the shipment document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from siaga_runtime import Clock, Decision
from siaga_schemas import EventData
from siaga_schemas.events.logistics import ShipmentLine

from ..domain.errors import DomainError, ErrorKind
from ..domain.shipment import OPEN, Shipment
from .common import Stores
from .plans import load_plan

__all__ = ["create_shipment", "get_shipment", "transition"]

Transition = Callable[[Shipment], tuple[Shipment, list[EventData]]]


async def create_shipment(
    stores: Stores,
    *,
    shipment_id: str,
    plan_id: str,
    leg_id: str,
    lines: list[ShipmentLine] | None,
    planned_dispatch_at: datetime | None,
    eta: datetime | None,
) -> Shipment:
    """A shipment for one leg of a plan; lines, dispatch time and ETA default to the plan's."""
    plan = await load_plan(stores, plan_id)
    leg = plan.leg(leg_id)
    if leg is None:
        raise DomainError("leg_id", f"plan {plan_id} has no leg {leg_id}")
    dispatch = planned_dispatch_at or leg.planned_dispatch_at
    arrival = eta or (leg.planned_arrival_at if planned_dispatch_at is None else None)
    if arrival is None:
        arrival = dispatch + timedelta(hours=leg.duration_h)
    if arrival < dispatch:
        raise DomainError("eta", "the ETA is before the planned dispatch time")
    shipment = Shipment(
        shipment_id=shipment_id,
        plan_id=plan_id,
        election_id=plan.election_id,
        leg_id=leg_id,
        origin=leg.origin,
        destination=leg.destination,
        lines=lines or leg.lines,
        transport_mode=leg.mode,
        planned_dispatch_at=dispatch,
        eta=arrival,
        deadline_at=leg.deadline_at,
        legal_deadline_at=plan.legal_deadline_at,
    )

    def change(doc: dict[str, Any] | None) -> Decision:
        if doc is not None:
            if Shipment.from_doc(doc).model_dump(exclude={"scans"}) == shipment.model_dump(exclude={"scans"}):
                return Decision(state=None)  # the same request again
            raise DomainError("shipment_id", f"shipment {shipment_id} already exists", ErrorKind.CONFLICT)
        return Decision(state=shipment.to_state(), emit=[shipment.planned_event()])

    doc, _ = await stores.shipments.mutate(shipment_id, change)
    assert doc is not None
    return await _with_timer(stores, Shipment.from_doc(doc))


async def _with_timer(stores: Stores, shipment: Shipment) -> Shipment:
    """Schedule the ETA timer now (the projection of our own events schedules it too, durably)."""
    if shipment.status in OPEN:
        await stores.timers.schedule([(shipment.shipment_id, shipment.eta + timedelta(seconds=1))])
    return shipment


async def get_shipment(stores: Stores, shipment_id: str) -> Shipment:
    doc = await stores.shipments.get(shipment_id)
    if doc is None:
        raise DomainError("shipment_id", f"shipment {shipment_id} does not exist", ErrorKind.NOT_FOUND)
    return Shipment.from_doc(doc)


async def transition(stores: Stores, shipment_id: str, step: Transition, clock: Clock) -> Shipment:
    """Apply one state-machine step to a shipment, retrying on concurrent writes."""
    del clock  # steps carry their own times; kept for a uniform signature

    def change(doc: dict[str, Any] | None) -> Decision:
        if doc is None:
            raise DomainError("shipment_id", f"shipment {shipment_id} does not exist", ErrorKind.NOT_FOUND)
        current = Shipment.from_doc(doc)
        nxt, events = step(current)
        if nxt is current:
            return Decision(state=None)
        return Decision(state=nxt.to_state(), emit=events)

    doc, _ = await stores.shipments.mutate(shipment_id, change)
    assert doc is not None
    return await _with_timer(stores, Shipment.from_doc(doc))
