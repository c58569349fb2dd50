"""Inbound status updates from another agency's logistics system (topic status-updates).

Validated by the codec (schema, region codes, POD invariants); deduplicated by event id (the store) and by
scan content (the same scan re-sent under a new id); tolerant of order: an older status never overwrites a
newer one, it only joins the shipment's history.
"""

from __future__ import annotations

from typing import Any

from siaga_runtime import Clock, Decision, EventRejected
from siaga_schemas import Envelope, EventData, is_within
from siaga_schemas.events.logistics import (
    DiscrepancyCategory,
    ShipmentDiscrepancyFound,
    ShipmentStatusReported,
)

from ..domain.errors import DomainError
from ..domain.shipment import Checkpoint, Shipment

__all__ = ["make_status_decider", "route_status", "scan_key"]

MAX_SCANS = 500


def route_status(envelope: Envelope[Any]) -> str | None:
    data = envelope.data
    return data.shipment_id if isinstance(data, ShipmentStatusReported) else None


def scan_key(s: ShipmentStatusReported) -> str:
    return "|".join((s.status, s.observed_at.isoformat(), s.lot_id or "", s.place or "", s.source_system))


def make_status_decider(clock: Clock) -> Any:
    def decide(doc: dict[str, Any] | None, envelope: Envelope[Any]) -> Decision:
        s = envelope.data
        assert isinstance(s, ShipmentStatusReported)
        if doc is None:
            raise EventRejected(f"shipment_id: shipment {s.shipment_id} is not known here")
        current = Shipment.from_doc(doc)
        key = scan_key(s)
        if key in current.scans:
            return Decision(state=None, record=True)
        events: list[EventData] = []
        try:
            if s.status == "dispatched":
                nxt, events = current.dispatch(s.observed_at, None)
            elif s.status == "checkpoint":
                place = s.place or s.lot_id or s.source_system
                nxt, events = current.checkpoint(
                    Checkpoint(
                        place=place,
                        region=s.region,
                        passed_at=s.observed_at,
                        source=s.source_system,
                        lot_id=s.lot_id,
                    )
                )
            elif s.lines is not None and s.handover is not None:
                nxt, events = current.deliver(s.observed_at, s.lines, s.handover, clock.now())
            else:
                nxt, events = current.arrive(s.observed_at)
        except DomainError as exc:
            # an update the shipment is past (e.g. dispatched after delivery): history only, no change
            if s.status != "delivered" or current.delivered_at is not None:
                nxt, events = current, []
            else:
                raise EventRejected(f"{exc.field}: {exc.message}") from None
        if (
            s.region is not None
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
                    detected_at=clock.now(),
                    note=f"delivery scanned in {s.region}, outside the destination {current.destination_region}",
                ),
            ]
        scans = [*current.scans, key][-MAX_SCANS:]
        return Decision(state=nxt.model_copy(update={"scans": scans}).to_state(), emit=events)

    return decide
