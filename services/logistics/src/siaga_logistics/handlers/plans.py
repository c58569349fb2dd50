"""Creating a plan from a JSON spec, and reading plans."""

from __future__ import annotations

from typing import Any

from siaga_runtime import Clock
from siaga_schemas.errors import DomainError, ErrorKind

from ..domain.layout import shipment_id
from ..domain.legs import legs_in
from ..domain.plan_docs import plan_fields, row_from_compact, row_key, row_to_compact
from ..domain.plan_spec import PlanSpec, rows_of, spec_field
from ..domain.plan_types import KabPlan, PlannedLeg
from ..domain.readiness import kab_rollup_id
from ..domain.stored import leg as stored_leg
from .common import Stores
from .plan_import import import_kab, plan_merged, rows_id

__all__ = ["LEGS_LISTED_UP_TO", "create_plan", "load_plan", "plan_view"]

# A plan's view lists its legs up to this many TPS; a larger one lists them per kecamatan.
LEGS_LISTED_UP_TO = 2000


def _leg_view(plan_id: str, leg: PlannedLeg) -> dict[str, Any]:
    return {
        "leg_id": leg.leg_id,
        "shipment_id": shipment_id(plan_id, leg.leg_id),
        "origin": leg.origin.model_dump(mode="json"),
        "destination": leg.destination.model_dump(mode="json"),
        "mode": leg.mode.value,
        "duration_h": leg.hours,
        "lines": [ln.model_dump(mode="json") for ln in leg.lines],
        "deadline_at": leg.deadline_at.isoformat(),
        "planned_dispatch_at": leg.planned_dispatch_at.isoformat(),
        "planned_arrival_at": leg.planned_arrival_at.isoformat(),
        "tps_served": leg.tps_served,
    }


def plan_view(plan: KabPlan) -> dict[str, Any]:
    legs: list[dict[str, Any]] = []
    for kec in plan.kecamatan:
        if kec.ppk_leg is not None:
            legs.append(_leg_view(plan.plan_id, kec.ppk_leg))
        for chunk in kec.chunks:
            legs.extend(
                _leg_view(plan.plan_id, lg)
                for lg in ([chunk.pps_leg] if chunk.pps_leg else []) + chunk.tps_legs
            )
    return {**plan_fields(plan), "legs_total": plan.legs, "legs": legs}


async def create_plan(stores: Stores, spec: PlanSpec, clock: Clock) -> dict[str, Any]:
    """Create a plan from a spec; the same request again returns the plan. A different spec under an
    existing plan id, or a second plan for the same election and kab/kota, is a conflict (a corrected plan
    is imported as a file: ``POST /plans/import``)."""
    rows = rows_of(spec)
    rollup = await stores.readiness.get(kab_rollup_id(spec.election_id, spec.region))
    if rollup is not None and rollup.get("plan_id") != spec.plan_id:
        raise DomainError(
            "region",
            f"election {spec.election_id} already has plan {rollup.get('plan_id')} for {spec.region}",
            ErrorKind.CONFLICT,
        )
    plan, _, _, problems = plan_merged(
        plan_id=spec.plan_id,
        election_id=spec.election_id,
        kab=spec.region,
        voting_day=spec.voting_day,
        stored={},
        given=rows,
        distribution_start=spec.distribution_starts_at,
        warehouse_name=spec.warehouse_name,
    )
    if problems:  # all or nothing: the first problem names its field
        first = problems[0]
        raise DomainError(spec_field(max(first.index, 0), first.column), first.message)
    assert plan is not None
    stored_doc = await stores.plans.get(rows_id(spec.plan_id))
    if stored_doc is not None:
        stored = {row_key(r): row_to_compact(r) for r in map(row_from_compact, stored_doc["rows"])}
        if stored != {row_key(r): row_to_compact(r) for r in rows}:
            raise DomainError("plan_id", f"plan {spec.plan_id} already exists", ErrorKind.CONFLICT)
        return plan_view(plan)
    await import_kab(
        stores,
        clock,
        election_id=spec.election_id,
        voting_day=spec.voting_day,
        kab=spec.region,
        rows=rows,
        distribution_start=spec.distribution_starts_at,
        warehouse_name=spec.warehouse_name,
        plan_id=spec.plan_id,
    )
    return plan_view(plan)


async def load_plan(
    stores: Stores, plan_id: str, *, kecamatan: str | None = None, with_legs: bool = True
) -> dict[str, Any]:
    """A plan's header, with its legs (all, for a plan of up to ``LEGS_LISTED_UP_TO`` TPS, or a
    kecamatan's; none with ``with_legs=False``)."""
    header = await stores.plans.get(plan_id)
    if header is None:
        raise DomainError("plan_id", f"plan {plan_id} does not exist", ErrorKind.NOT_FOUND)
    view = {k: v for k, v in header.items() if not k.startswith("_") and k != "kecamatan"}
    view["legs_total"] = header["legs"]
    if not with_legs:
        return view
    view["kecamatan"] = [
        {"region": k, "tps_total": s["tps_total"], "chunks": len(s["chunks"])}
        for k, s in sorted(header["kecamatan"].items())
    ]
    wanted = (
        [kecamatan]
        if kecamatan
        else (list(header["kecamatan"]) if header["tps_total"] <= LEGS_LISTED_UP_TO else [])
    )
    if kecamatan and kecamatan not in header["kecamatan"]:
        raise DomainError("kecamatan", f"plan {plan_id} has no TPS in {kecamatan}", ErrorKind.NOT_FOUND)
    ids = [f"k:{plan_id}:{k}" for k in wanted] + [c for k in wanted for c in header["kecamatan"][k]["chunks"]]
    docs = await stores.shipments.load_many(ids)
    legs: list[dict[str, Any]] = []
    for doc_id in ids:
        doc = docs.get(doc_id)
        if doc is None:
            continue
        for s in legs_in(doc):
            plan_part = stored_leg(doc["legs"][s.leg_id])["plan"] if s.leg_id in doc["legs"] else {}
            legs.append(
                {
                    "leg_id": s.leg_id,
                    "shipment_id": s.shipment_id,
                    "origin": s.origin.model_dump(mode="json"),
                    "destination": s.destination.model_dump(mode="json"),
                    "mode": plan_part.get("transport_mode", s.transport_mode.value),
                    "duration_h": plan_part.get("hours"),
                    "lines": [ln.model_dump(mode="json") for ln in s.lines],
                    "deadline_at": s.deadline_at.isoformat(),
                    "planned_dispatch_at": s.planned_dispatch_at.isoformat(),
                    "planned_arrival_at": (plan_part.get("planned_arrival_at") or s.eta).isoformat(),
                    "status": s.status.value,
                }
            )
    view["legs"] = legs
    view["legs_listed"] = "all" if not kecamatan and wanted else (kecamatan or "none: ask per kecamatan")
    return view
