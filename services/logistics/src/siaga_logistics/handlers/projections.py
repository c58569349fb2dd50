"""Projections of the service's own events: readiness rollups, proofs of delivery, stand-alone deliveries
into TPS readiness, the list of delayed shipments, and the delay timers.

Each is idempotent by itself: a row replaced only by a newer version, a record written once, a timer
scheduled twice firing twice at worst; so an event published twice (the outbox after a crash) is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from siaga_runtime import (
    AggregateStore,
    ApplyResult,
    Change,
    Decide,
    Decision,
    Doc,
    Projection,
    Routed,
    TimerProjection,
)
from siaga_runtime.consumer import AnyProjection
from siaga_runtime.records import BeforeWrite
from siaga_schemas import AnyEnvelope
from siaga_schemas.events import logistics as ev

from ..domain.delay import AFTER_DUE
from ..domain.layout import DocKind, chunk_doc_id, chunk_of, leg_ref, parse_leg
from ..domain.legs import supply_tps
from ..domain.readiness import kab_rollup_id, merge_row, national_rollup_id, province_rollup_id, sum_rows
from .common import Stores

__all__ = [
    "ETA_EVENTS",
    "OWN_EVENTS",
    "ReadinessRollup",
    "eta_timers",
    "list_delayed",
    "own_event_projections",
]

# The events that move a shipment's ETA once it is planned (the import, and the API for a shipment of its
# own, schedule the planned ETAs themselves, before or with their writes: no need to read every
# shipment-planned back).
_ETA_MODELS = (ev.ShipmentDispatched, ev.ShipmentCheckpointPassed, ev.ShipmentRerouted)
ETA_EVENTS = {model.event_type for model in _ETA_MODELS}


class ReadinessRollup:
    """Counts up the levels in one batch: chunk counts into kab/kota rows, kab/kota totals into province
    rows, province totals into the nation's. The upper levels are recomputed from the current documents
    of every kab/kota the batch touched (not from the events), so a batch applied again after a crash
    between two levels completes the levels it had not reached."""

    def __init__(self, readiness: AggregateStore) -> None:
        self.readiness = readiness

    @staticmethod
    def route(env: AnyEnvelope) -> str | None:
        d = env.data
        if isinstance(d, ev.TpsSuppliedV2 | ev.PlanCreated | ev.PlanRevised):
            return kab_rollup_id(d.election_id, ".".join(d.region.split(".")[:2]))
        return None

    @staticmethod
    def count(doc: Doc | None, env: AnyEnvelope) -> Decision[Doc]:
        """The decide of the readiness projection: a chunk's counts into its kab/kota row."""
        d = env.data
        if not isinstance(d, ev.TpsSuppliedV2) or doc is None:
            return Decision(state=None)  # a plan's own rollup is written by its import
        return Decision(
            state=merge_row(doc, d.chunk_id, d.chunk_version, d.chunk_tps_ready, d.chunk_tps_total)
        )

    async def apply(
        self,
        items: Sequence[Routed],
        decide: Decide[Doc, AnyEnvelope],
        /,
        *,
        scope: str = "",
        before_write: BeforeWrite | None = None,
    ) -> ApplyResult:
        result = await self.readiness.apply(items, decide, scope=scope, before_write=before_write)
        kabs = await self.readiness.current({it.doc_id for it in items})
        provinces: dict[tuple[str, str], dict[str, tuple[int, int, int]]] = {}
        for doc in kabs.values():
            ready, total = sum_rows(doc)
            key = (doc["election_id"], doc["region"].split(".")[0])
            provinces.setdefault(key, {})[doc["region"]] = (doc["_v"], ready, total)
        written = await self.readiness.merge(
            {
                province_rollup_id(e, p): _merge_children("province", e, p, rows)
                for (e, p), rows in provinces.items()
            }
        )
        nations: dict[str, dict[str, tuple[int, int, int]]] = {}
        for doc in written.docs.values():
            ready, total = sum_rows(doc)
            nations.setdefault(doc["election_id"], {})[doc["region"]] = (doc["_v"], ready, total)
        await self.readiness.merge(
            {national_rollup_id(e): _merge_children("national", e, None, rows) for e, rows in nations.items()}
        )
        return result


def _merge_children(
    level: str, election: str, region: str | None, rows: dict[str, tuple[int, int, int]]
) -> Change:
    def change(doc: Doc | None) -> Decision:
        state: Doc | None = doc or {"level": level, "election_id": election, "region": region, "rows": {}}
        changed = doc is None
        for child, (v, ready, total) in rows.items():
            merged = merge_row(state, child, v, ready, total) if state is not None else None
            if merged is not None:
                state, changed = merged, True
        return Decision(state=state if changed else None)

    return change


class WriteOnce:
    """A store for records written once (proofs of delivery): applied without reading first."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def apply(
        self,
        items: Sequence[Routed],
        decide: Decide,
        /,
        *,
        scope: str = "",
        before_write: BeforeWrite | None = None,
    ) -> ApplyResult:
        return await self.store.apply(items, decide, scope=scope, before_write=before_write, absent=True)


def _route_pod(env: AnyEnvelope) -> str | None:
    return env.data.shipment_id if isinstance(env.data, ev.ShipmentDelivered) else None


def _pod(doc: Doc | None, env: AnyEnvelope) -> Decision:
    """The proof of delivery of a shipment, kept apart from the shipment's document (which it would grow)."""
    if doc is not None:
        return Decision(state=None)
    d = env.data
    assert isinstance(d, ev.ShipmentDelivered)  # the only event _route_pod routes
    return Decision(
        state={
            "shipment_id": d.shipment_id,
            "delivered_at": d.delivered_at,
            "pod": [ln.model_dump(mode="python") for ln in d.lines],
            "handover": d.handover.model_dump(mode="python"),
        }
    )


def _route_foreign_supply(env: AnyEnvelope) -> str | None:
    """A stand-alone shipment delivered to a TPS of a plan counts towards that TPS in its chunk."""
    d = env.data
    if not isinstance(d, ev.ShipmentDelivered) or d.destination is None or d.plan_id is None:
        return None
    if d.destination.kind is not ev.SiteKind.TPS or leg_ref(d.shipment_id).kind is not DocKind.STANDALONE:
        return None
    parsed = parse_leg(d.destination.site_id)
    if parsed is None or parsed[2] is None:
        return None
    return chunk_doc_id(d.plan_id, parsed[1], chunk_of(parsed[2]))


def _foreign_supply(doc: Doc | None, env: AnyEnvelope) -> Decision:
    d = env.data
    # _route_foreign_supply routes only a delivery with a destination here
    assert isinstance(d, ev.ShipmentDelivered) and d.destination is not None
    parsed = parse_leg(d.destination.site_id)
    if doc is None or parsed is None or parsed[2] is None:
        return Decision(state=None)
    state, supplied = supply_tps(doc, f"{parsed[2]:03d}", d)
    if state is doc:
        return Decision(state=None)
    return Decision(state=state, emit=[supplied] if supplied else [])


_CLEARED = (ev.ShipmentDelivered, ev.ShipmentCancelled, ev.ShipmentClosed)
# The own events some projection handles: the others on the topic are skipped unparsed.
OWN_EVENTS = {
    *ETA_EVENTS,
    ev.TpsSuppliedV2.event_type,
    ev.PlanCreated.event_type,
    ev.PlanRevised.event_type,
    ev.ShipmentDelivered.event_type,
    ev.ShipmentDelayed.event_type,
    ev.ShipmentCancelled.event_type,
    ev.ShipmentClosed.event_type,
}


def _route_delayed(env: AnyEnvelope) -> str | None:
    d = env.data
    if isinstance(d, ev.ShipmentDelayed) or (isinstance(d, ev.ShipmentDelivered) and d.was_delayed):
        return d.shipment_id
    if isinstance(d, ev.ShipmentCancelled | ev.ShipmentClosed):
        return d.shipment_id
    return None


def list_delayed(doc: Doc | None, env: AnyEnvelope) -> Decision:
    """One small document per shipment delayed now: what ``GET /shipments/delayed`` lists."""
    d = env.data
    if isinstance(d, _CLEARED):
        if doc is None or not doc.get("open", False):
            return Decision(state=None)
        return Decision(state={**doc, "open": False, "cleared_at": env.time})
    assert isinstance(d, ev.ShipmentDelayed)
    if doc is not None and (
        not doc.get("open", False) or doc.get("detected_at", d.detected_at) > d.detected_at
    ):
        return Decision(state=None)  # cleared, or a newer step already listed
    return Decision(
        state={
            "open": True,
            "shipment_id": d.shipment_id,
            "region": d.destination_region,
            "severity": d.severity.value,
            "eta": d.eta,
            "deadline_at": d.deadline_at,
            "slack_seconds": d.slack_seconds,
            "detected_at": d.detected_at,
            "transport_mode": d.transport_mode.value if d.transport_mode else None,
            "plan_id": d.plan_id,
        }
    )


def eta_timers(event: AnyEnvelope) -> list[tuple[str, datetime]]:
    """Every ETA a shipment gets becomes a timer of the document that holds it."""
    if event.type not in ETA_EVENTS:
        return []
    data = event.data
    assert isinstance(data, _ETA_MODELS)
    eta = data.eta
    return [(leg_ref(data.shipment_id).doc_id, eta + AFTER_DUE)] if eta is not None else []


def _route_eta(event: AnyEnvelope) -> str | None:
    if event.type not in ETA_EVENTS:
        return None
    data = event.data
    assert isinstance(data, _ETA_MODELS)
    return leg_ref(data.shipment_id).doc_id


def own_event_projections(stores: Stores) -> list[AnyProjection]:  # each with its own decide type
    rollup = ReadinessRollup(stores.readiness)
    return [
        Projection("readiness", rollup, rollup.route, rollup.count),
        Projection("pods", WriteOnce(stores.pods), _route_pod, _pod),
        Projection("standalone-supply", stores.shipments, _route_foreign_supply, _foreign_supply),
        Projection("delayed", stores.delayed, _route_delayed, list_delayed),
        TimerProjection("eta-timers", stores.timers, _route_eta, eta_timers),
    ]
