"""The documents that hold shipments, and what happens to a shipment inside one.

A shipments document (see ``layout``) holds one or more legs, each as ``{"plan": …, "ship": …}``: the
plan's part never changes once planned (sites, lines, planned times, deadlines), the shipment's part is
what its state machine (``shipment.Shipment``) changes. Each leg and each TPS row is stored as one JSON
string (``stored``), so that a scan decodes and encodes only the leg (and row) it concerns. A chunk also holds the readiness of its TPS:
what each one needs, what it has accepted, and whether that covers the need.

Every function here is pure: a document state in, a new state (and the events) out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events.logistics import ShipmentDelivered, ShipmentLine, ShipmentPlanned, TpsSuppliedV2

from .catalogue import line_key
from .delay import AFTER_DUE, RANK, severity_for
from .layout import LegRef, leg_ref
from .plan_types import ChunkPlan, KabPlan, KecPlan, PlannedLeg, TpsPlan
from .shipment import OPEN, Shipment, Status
from .stored import leg as stored_leg
from .stored import pack
from .stored import tps_row as stored_row

__all__ = [
    "MUTABLE",
    "chunk_planned",
    "chunk_state",
    "kec_planned",
    "kec_state",
    "leg_plan",
    "legs_in",
    "next_due",
    "shipment_in",
    "standalone_state",
    "supply_tps",
    "tps_counts",
    "with_shipment",
]

# The fields of a shipment its state machine changes; the rest comes from the plan.
MUTABLE = frozenset(
    {
        "transport_mode",
        "eta",
        "status",
        "status_at",
        "dispatched_at",
        "arrived_at",
        "delivered_at",
        "closed_at",
        "cancelled_at",
        "cancel_reason",
        "checkpoints",
        "reroutes",
        "delay_severity",
        "delayed_at",
        "checkpoints_total",
    }
)


def _lines(lines: tuple[ShipmentLine, ...] | list[ShipmentLine]) -> list[dict[str, Any]]:
    return [ln.model_dump(mode="python") for ln in lines]


def leg_plan(plan_id: str, election_id: str, legal_deadline_at: datetime, leg: PlannedLeg) -> dict[str, Any]:
    """The plan's part of a leg, as stored."""
    return {
        "plan_id": plan_id,
        "election_id": election_id,
        "leg_id": leg.leg_id,
        "origin": leg.origin.model_dump(mode="python"),
        "destination": leg.destination.model_dump(mode="python"),
        "lines": _lines(leg.lines),
        "transport_mode": leg.mode.value,
        "hours": leg.hours,
        "planned_dispatch_at": leg.planned_dispatch_at,
        "planned_arrival_at": leg.planned_arrival_at,
        "deadline_at": leg.deadline_at,
        "legal_deadline_at": legal_deadline_at,
        "tps_served": leg.tps_served,
    }


def _new_leg(plan: KabPlan, leg: PlannedLeg, shipment: str) -> str:
    return pack(
        {
            "shipment_id": shipment,
            "plan": leg_plan(plan.plan_id, plan.election_id, plan.legal_deadline_at, leg),
            "ship": {
                "status": Status.PLANNED.value,
                "eta": leg.planned_arrival_at,
                "transport_mode": leg.mode.value,
            },
        }
    )


def _tps_row(t: TpsPlan) -> str:
    return pack(
        {
            "tps_id": t.tps_id,
            "region": t.desa,
            "dpt": t.dpt,
            "direct": t.direct,
            "planned_at": t.planned_at,
            "required": {line_key(ln.item, ln.variant): ln.quantity for ln in t.required},
            "accepted": {},
            "shipments": [],
            "ready": False,
            "ready_at": None,
        }
    )


def chunk_state(plan: KabPlan, chunk: ChunkPlan) -> dict[str, Any]:
    """The state of a new chunk document: its legs planned, its TPS unsupplied."""
    legs = _chunk_legs(chunk)
    return {
        "kind": "chunk",
        "plan_id": plan.plan_id,
        "election_id": plan.election_id,
        "kab_kota": plan.region,
        "desa": chunk.desa,
        "k": chunk.k,
        "legs": {lg.leg_id: _new_leg(plan, lg, f"{plan.plan_id}:{lg.leg_id}") for lg in legs},
        "tps": {f"{t.number:03d}": _tps_row(t) for t in chunk.tps},
    }


def _chunk_legs(chunk: ChunkPlan) -> list[PlannedLeg]:
    return ([chunk.pps_leg] if chunk.pps_leg is not None else []) + chunk.tps_legs


def _planned(plan: KabPlan, leg: PlannedLeg) -> ShipmentPlanned:
    """The event of a newly planned leg, built from the plan itself: the same event as materialising the
    stored leg as a ``Shipment`` and asking it (a test checks that), at a fifth of the cost per leg."""
    return ShipmentPlanned(
        shipment_id=f"{plan.plan_id}:{leg.leg_id}",
        destination_region=leg.destination.region,
        plan_id=plan.plan_id,
        origin=leg.origin,
        destination=leg.destination,
        lines=list(leg.lines),
        transport_mode=leg.mode,
        planned_dispatch_at=leg.planned_dispatch_at,
        eta=leg.planned_arrival_at,
        deadline_at=leg.deadline_at,
        leg_id=leg.leg_id,
        legal_deadline_at=plan.legal_deadline_at,
    )


def chunk_planned(plan: KabPlan, chunk: ChunkPlan) -> list[ShipmentPlanned]:
    """The events of a new chunk document (``chunk_state``), in the order of its legs."""
    return [_planned(plan, lg) for lg in _chunk_legs(chunk)]


def kec_planned(plan: KabPlan, kec: KecPlan) -> list[ShipmentPlanned]:
    """The events of a new kecamatan document (``kec_state``)."""
    return [_planned(plan, kec.ppk_leg)] if kec.ppk_leg is not None else []


def kec_state(plan: KabPlan, kec: KecPlan) -> dict[str, Any]:
    legs = [kec.ppk_leg] if kec.ppk_leg is not None else []
    return {
        "kind": "kecamatan",
        "plan_id": plan.plan_id,
        "election_id": plan.election_id,
        "kab_kota": plan.region,
        "kecamatan": kec.kecamatan,
        "legs": {lg.leg_id: _new_leg(plan, lg, f"{plan.plan_id}:{lg.leg_id}") for lg in legs},
        "tps": {},
    }


def standalone_state(shipment: Shipment) -> dict[str, Any]:
    """A shipment of its own (created through the API): one leg, keyed by its id."""
    dumped = shipment.model_dump(mode="python", exclude={"pod", "handover"})
    plan = {k: v for k, v in dumped.items() if k not in MUTABLE}
    plan["planned_arrival_at"] = shipment.eta
    ship = {k: v for k, v in dumped.items() if k in MUTABLE}
    return {
        "kind": "standalone",
        "plan_id": shipment.plan_id,
        "election_id": shipment.election_id,
        "legs": {
            shipment.shipment_id: pack({"shipment_id": shipment.shipment_id, "plan": plan, "ship": ship})
        },
        "tps": {},
    }


def _key(ref: LegRef) -> str:
    return ref.leg_id if ref.leg_id is not None else ref.shipment_id


def _materialise(stored: Any) -> Shipment:
    leg = stored_leg(stored)
    plan = leg["plan"]
    fields = {k: v for k, v in plan.items() if k not in ("hours", "planned_arrival_at", "tps_served")}
    return Shipment.model_validate({"shipment_id": leg["shipment_id"], **fields, **leg["ship"]})


def shipment_in(doc: dict[str, Any] | None, shipment: str) -> Shipment:
    """The shipment ``shipment`` as its document holds it; a DomainError (not found) when it has none."""
    leg = (doc or {}).get("legs", {}).get(_key(leg_ref(shipment)))
    if leg is None:
        raise DomainError("shipment_id", f"shipment {shipment} does not exist", ErrorKind.NOT_FOUND)
    return _materialise(leg)


def legs_in(doc: dict[str, Any]) -> Iterator[Shipment]:
    for leg in doc.get("legs", {}).values():
        yield _materialise(leg)


def with_shipment(doc: dict[str, Any], shipment: Shipment) -> dict[str, Any]:
    """The document with the shipment's own part replaced by ``shipment``'s."""
    key = _key(leg_ref(shipment.shipment_id))
    legs = dict(doc["legs"])
    ship = shipment.model_dump(mode="python", include=set(MUTABLE))
    legs[key] = pack({**stored_leg(legs[key]), "ship": ship})
    return {**doc, "legs": legs}


def tps_counts(doc: dict[str, Any]) -> tuple[int, int]:
    """(TPS ready, TPS in the document)."""
    rows = doc.get("tps", {}).values()
    return sum(1 for r in rows if stored_row(r)["ready"]), len(doc.get("tps", {}))


def supply_tps(
    doc: dict[str, Any], number: str, delivered: ShipmentDelivered
) -> tuple[dict[str, Any], TpsSuppliedV2 | None]:
    """Add a delivery's accepted quantities to one of the document's TPS; the supplied event when this
    delivery makes the TPS whole. A delivery already counted changes nothing."""
    stored = doc.get("tps", {}).get(number)
    if stored is None:
        return doc, None
    row = stored_row(stored)
    if delivered.shipment_id in row["shipments"]:
        return doc, None
    accepted = dict(row["accepted"])
    for ln in delivered.lines:
        k = line_key(ln.item, ln.variant)
        accepted[k] = accepted.get(k, 0) + ln.accepted
    new_row = {**row, "accepted": accepted, "shipments": [*row["shipments"], delivered.shipment_id][-20:]}
    becomes_ready = not row["ready"] and all(accepted.get(k, 0) >= q for k, q in row["required"].items())
    if becomes_ready:
        new_row["ready"] = True
        new_row["ready_at"] = delivered.delivered_at
    tps = {**doc["tps"], number: pack(new_row)}
    if becomes_ready:
        state = {**doc, "tps": tps}
        ready, total = tps_counts(state)
        supplied = TpsSuppliedV2(
            tps_id=row["tps_id"],
            region=row["region"],
            plan_id=doc["plan_id"],
            election_id=doc["election_id"],
            supplied_at=delivered.delivered_at,
            planned_at=row["planned_at"],
            chunk_id=doc["_id"],
            chunk_version=doc["_v"] + 1,
            chunk_tps_ready=ready,
            chunk_tps_total=total,
        )
        return state, supplied
    return {**doc, "tps": tps}, None


def next_due(doc: dict[str, Any], now: datetime, critical_slack: timedelta) -> datetime | None:
    """The earliest time at which a delay severity of one of the document's open legs can next rise: now,
    when one has already risen past what the leg holds (an ETA reported after it had passed)."""
    best: datetime | None = None
    for s in legs_in(doc):
        if s.status not in OPEN or s.arrived_at is not None:
            continue
        held = RANK[s.delay_severity]
        for step in sorted((s.eta, s.deadline_at - critical_slack, s.deadline_at)):
            at = max(step, s.eta) + AFTER_DUE
            if RANK[severity_for(at, s.eta, s.deadline_at, critical_slack=critical_slack)] > held:
                at = max(at, now)
                best = at if best is None else min(best, at)
                break
    return best
