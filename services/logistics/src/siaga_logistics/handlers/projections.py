"""Readiness, fed by the service's own events: deliveries to TPS, plans and supplied TPS.

Each projection changes one document per event and the store deduplicates by event id, so a redelivered
event never counts twice.
"""

from __future__ import annotations

from typing import Any

from siaga_runtime import AggregateStore, Decision, Projection
from siaga_schemas import Envelope
from siaga_schemas.events.logistics import PlanCreated, ShipmentDelivered, SiteKind, TpsSupplied

from ..domain.readiness import (
    apply_delivery,
    apply_plan_to_province,
    apply_supplied_to_province,
    readiness_id,
)

__all__ = ["readiness_projections"]


def _route_delivery(envelope: Envelope[Any]) -> str | None:
    d = envelope.data
    if not isinstance(d, ShipmentDelivered) or d.destination is None or d.election_id is None:
        return None
    if d.destination.kind is not SiteKind.TPS:
        return None
    return readiness_id(d.election_id, ".".join(d.destination.region.split(".")[:2]))


def _decide_delivery(doc: dict[str, Any] | None, envelope: Envelope[Any]) -> Decision:
    d = envelope.data
    assert isinstance(d, ShipmentDelivered)
    if doc is None:
        return Decision(state=None, record=False)
    state, supplied = apply_delivery(doc, d)
    if state is None:
        return Decision(state=None)
    return Decision(state=state, emit=[supplied] if supplied else [])


def _route_province(envelope: Envelope[Any]) -> str | None:
    d = envelope.data
    if isinstance(d, PlanCreated | TpsSupplied):
        return readiness_id(d.election_id, d.region.split(".")[0])
    return None


def _decide_province(doc: dict[str, Any] | None, envelope: Envelope[Any]) -> Decision:
    d = envelope.data
    if isinstance(d, PlanCreated):
        return Decision(state=apply_plan_to_province(doc, d))
    assert isinstance(d, TpsSupplied)
    return Decision(state=apply_supplied_to_province(doc, d))


def readiness_projections(readiness: AggregateStore) -> list[Projection]:
    return [
        Projection("readiness-tps", readiness, _route_delivery, _decide_delivery),
        Projection("readiness-province", readiness, _route_province, _decide_province),
    ]
