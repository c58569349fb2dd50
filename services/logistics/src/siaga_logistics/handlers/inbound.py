"""Inbound status updates from another agency's logistics system (topic status-updates).

Validated by the codec (schema, region codes, POD invariants); a record delivered again is recognised by
the store (its offset), a scan re-sent under a new id by the shipment itself (already dispatched, a
checkpoint already listed, already delivered); tolerant of order: an older status never overwrites a
newer one, it only joins the shipment's history.
"""

from __future__ import annotations

from datetime import datetime

from siaga_runtime import Clock, Decide, Decision, Doc, EventRejected
from siaga_schemas import AnyEnvelope, EventData, is_within
from siaga_schemas.errors import DomainError
from siaga_schemas.events.logistics import (
    DiscrepancyCategory,
    ShipmentDiscrepancyFound,
    ShipmentStatusReported,
)

from ..domain.layout import leg_ref
from ..domain.shipment import Checkpoint, Shipment
from .shipments import Transition, decide_step

__all__ = ["make_status_decider", "route_status"]


def route_status(envelope: AnyEnvelope) -> str | None:
    data = envelope.data
    return leg_ref(data.shipment_id).doc_id if isinstance(data, ShipmentStatusReported) else None


def _step(s: ShipmentStatusReported, now: datetime) -> Transition:
    def step(current: Shipment) -> tuple[Shipment, list[EventData]]:
        try:
            if s.status == "dispatched":
                nxt, events = current.dispatch(s.observed_at, None)
            elif s.status == "checkpoint":
                place = s.place or s.lot_id or s.source_system
                cp = Checkpoint(
                    place=place,
                    region=s.region,
                    passed_at=s.observed_at,
                    source=s.source_system,
                    lot_id=s.lot_id,
                )
                nxt, events = current.checkpoint(cp)
            elif s.lines is not None and s.handover is not None:
                nxt, events = current.deliver(s.observed_at, s.lines, s.handover, now)
            else:
                nxt, events = current.arrive(s.observed_at)
        except DomainError as exc:
            # an update the shipment is past (dispatched after delivery, delivered twice): history only
            if s.status != "delivered" or current.delivered_at is not None:
                return current, []
            raise EventRejected(f"{exc.field}: {exc.message}") from None
        changed = nxt is not current or bool(events)  # a scan re-sent under a new id changes nothing
        if (
            changed
            and s.region is not None
            and s.status == "delivered"
            and not is_within(s.region, current.destination_region)
        ):
            events = [
                *events,
                ShipmentDiscrepancyFound(
                    shipment_id=current.shipment_id,
                    destination_region=current.destination_region,
                    category=DiscrepancyCategory.WRONG_DESTINATION,
                    item=current.lines[0].item,
                    quantity=sum(ln.quantity for ln in current.lines),
                    detected_at=now,
                    note=f"delivery scanned in {s.region}, outside the destination {current.destination_region}",
                ),
            ]
        return nxt, events

    return step


def make_status_decider(clock: Clock) -> Decide:
    def decide(doc: Doc | None, envelope: AnyEnvelope) -> Decision:
        s = envelope.data
        assert isinstance(s, ShipmentStatusReported)
        try:
            return decide_step(doc, s.shipment_id, _step(s, clock.now()))
        except DomainError as exc:
            raise EventRejected(f"shipment_id: {exc.message}") from None

    return decide
