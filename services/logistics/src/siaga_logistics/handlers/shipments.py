"""Shipment commands (HTTP API, timers): each is one guarded write of the document that holds the shipment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from siaga_runtime import Decision, Doc
from siaga_schemas import EventData
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events.logistics import ShipmentDelivered, ShipmentLine, SiteKind

from ..domain.layout import DocKind, leg_ref, shipment_id
from ..domain.legs import next_due, shipment_in, standalone_state, supply_tps, with_shipment
from ..domain.shipment import Shipment
from .common import Stores

__all__ = ["Transition", "create_shipment", "decide_step", "get_shipment", "schedule_next", "transition"]

Transition = Callable[[Shipment], tuple[Shipment, list[EventData]]]


def decide_step(doc: Doc | None, shipment: str, step: Transition) -> Decision:
    """One state-machine step of one shipment in its document, with what it does to the document's TPS: a
    leg delivered to one of the chunk's own TPS counts towards that TPS in the same write."""
    current = shipment_in(doc, shipment)
    assert doc is not None
    nxt, events = step(current)
    if nxt is current and not events:
        return Decision(state=None)
    state = with_shipment(doc, nxt)
    extra: list[EventData] = []
    for e in events:
        if (
            isinstance(e, ShipmentDelivered)
            and e.destination is not None
            and e.destination.kind is SiteKind.TPS
        ):
            ref = leg_ref(e.shipment_id)
            if ref.kind is DocKind.CHUNK and ref.tps_number is not None:
                state, supplied = supply_tps(state, f"{ref.tps_number:03d}", e)
                if supplied is not None:
                    extra.append(supplied)
    return Decision(state=state, emit=[*events, *extra])


async def get_shipment(stores: Stores, shipment: str) -> Shipment:
    return shipment_in(await stores.shipments.get(leg_ref(shipment).doc_id), shipment)


async def schedule_next(
    stores: Stores, docs: Sequence[Doc], now: datetime, critical_slack: timedelta
) -> None:
    """Set each document's delay timer to when one of its legs can next turn late (the projection of our
    own events sets the same timers durably; this is the fast path)."""
    timers = [(d["_id"], at) for d in docs if (at := next_due(d, now, critical_slack)) is not None]
    if timers:
        await stores.timers.schedule(timers)


async def transition(
    stores: Stores, shipment: str, step: Transition, now: datetime, critical_slack: timedelta
) -> Shipment:
    """Apply one state-machine step to a shipment, retrying on concurrent writes."""
    doc_id = leg_ref(shipment).doc_id
    doc, _ = await stores.shipments.mutate(doc_id, lambda d: decide_step(d, shipment, step))
    assert doc is not None
    await schedule_next(stores, [doc], now, critical_slack)
    return shipment_in(doc, shipment)


async def create_shipment(
    stores: Stores,
    *,
    new_id: str,
    plan_id: str,
    leg_id: str,
    lines: list[ShipmentLine] | None,
    planned_dispatch_at: datetime | None,
    eta: datetime | None,
    now: datetime,
    critical_slack: timedelta,
) -> Shipment:
    """A shipment of its own for one leg of a plan (a second truck, a replacement after a shortage): the
    leg's sites and deadline, its own lines (default: the leg's) and times."""
    if leg_ref(new_id).kind is not DocKind.STANDALONE:
        raise DomainError("shipment_id", f"{new_id} is the id of a plan leg; choose another id")
    leg = shipment_in(
        await stores.shipments.get(leg_ref(shipment_id(plan_id, leg_id)).doc_id), shipment_id(plan_id, leg_id)
    )
    dispatch = planned_dispatch_at or leg.planned_dispatch_at
    arrival = eta or (leg.eta if planned_dispatch_at is None else None)
    hours = (leg.eta - leg.planned_dispatch_at).total_seconds() / 3600
    if arrival is None:
        arrival = dispatch + timedelta(hours=max(hours, 0))
    if arrival < dispatch:
        raise DomainError("eta", "the ETA is before the planned dispatch time")
    shipment = Shipment(
        shipment_id=new_id,
        plan_id=plan_id,
        election_id=leg.election_id,
        leg_id=leg_id,
        origin=leg.origin,
        destination=leg.destination,
        lines=lines or leg.lines,
        transport_mode=leg.transport_mode,
        planned_dispatch_at=dispatch,
        eta=arrival,
        deadline_at=leg.deadline_at,
        legal_deadline_at=leg.legal_deadline_at,
    )
    state = standalone_state(shipment)

    def change(doc: Doc | None) -> Decision:
        if doc is not None:
            if shipment_in(doc, new_id).model_dump(exclude={"status_at"}) == shipment.model_dump(
                exclude={"status_at"}
            ):
                return Decision(state=None)  # the same request again
            raise DomainError("shipment_id", f"shipment {new_id} already exists", ErrorKind.CONFLICT)
        return Decision(state=state, emit=[shipment.planned_event()])

    # its timer first: a timer of a document not written yet is a no-op, a written one without a timer would
    # never be swept (no projection reads shipment-planned back)
    await schedule_next(stores, [{"_id": leg_ref(new_id).doc_id, **state}], now, critical_slack)
    doc, _ = await stores.shipments.mutate(leg_ref(new_id).doc_id, change)
    assert doc is not None
    return shipment_in(doc, new_id)
