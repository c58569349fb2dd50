"""Creating distribution plans."""

from __future__ import annotations

from typing import Any

from siaga_runtime import Clock, Decision
from siaga_schemas.events.logistics import PlanCreated

from ..domain.errors import DomainError, ErrorKind
from ..domain.planning import Plan, PlanSpec, build_plan, curve
from ..domain.readiness import kab_doc, readiness_id
from .common import Stores

__all__ = ["create_plan", "load_plan"]


def _plan_state(spec: PlanSpec, plan: Plan) -> dict[str, Any]:
    return {"spec": spec.model_dump(mode="json"), "plan": plan.model_dump(mode="json")}


async def create_plan(stores: Stores, spec: PlanSpec, clock: Clock) -> Plan:
    """Create a plan and its kab/kota readiness document. Repeating the same request is harmless."""
    plan = build_plan(spec)
    existing = await stores.plans.get(spec.plan_id)
    if existing is not None:
        if existing["spec"] != spec.model_dump(mode="json"):
            raise DomainError("plan_id", f"plan {spec.plan_id} already exists", ErrorKind.CONFLICT)
        return Plan.model_validate(existing["plan"])
    rid = readiness_id(spec.election_id, spec.region)
    current = await stores.readiness.get(rid)
    if current is not None and current.get("plan_id") != spec.plan_id:
        raise DomainError(
            "region",
            f"election {spec.election_id} already has plan {current.get('plan_id')} for {spec.region}",
            ErrorKind.CONFLICT,
        )
    # Readiness first, then the plan (whose event tells the province): a retry after a crash completes both.
    await stores.readiness.mutate(
        rid,
        lambda doc: Decision(state=kab_doc(plan) if doc is None else None),
        idempotency_key=f"plan:{plan.plan_id}",
    )
    event = PlanCreated(
        plan_id=plan.plan_id,
        election_id=plan.election_id,
        region=plan.region,
        voting_day=plan.voting_day.isoformat(),
        legal_deadline_at=plan.legal_deadline_at,
        tps_total=len(plan.tps),
        legs=len(plan.legs),
        curve=curve([t.planned_at for t in plan.tps]),
    )

    def change(doc: dict[str, Any] | None) -> Decision:
        if doc is not None:
            return Decision(state=None)
        return Decision(state=_plan_state(spec, plan), emit=[event])

    await stores.plans.mutate(spec.plan_id, change)
    return plan


async def load_plan(stores: Stores, plan_id: str) -> Plan:
    doc = await stores.plans.get(plan_id)
    if doc is None:
        raise DomainError("plan_id", f"plan {plan_id} does not exist", ErrorKind.NOT_FOUND)
    return Plan.model_validate(doc["plan"])
