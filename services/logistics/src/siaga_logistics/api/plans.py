"""Plans and readiness."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from siaga_runtime import Clock, Principal, current_principal
from siaga_schemas import RegionCode
from siaga_schemas.common import Identifier

from .. import handlers, repository
from ..domain.planning import Plan, PlanSpec
from ..handlers import Stores

__all__ = ["make_plans_router"]


def _summary(plan: Plan) -> dict[str, Any]:
    return plan.model_dump(mode="json")


def make_plans_router(stores: Stores, clock: Clock) -> APIRouter:
    router = APIRouter(tags=["plans"])

    @router.post("/plans", status_code=201, summary="Create a distribution plan for one kab/kota")
    async def create_plan(
        spec: PlanSpec, principal: Annotated[Principal, Depends(current_principal)]
    ) -> dict[str, Any]:
        principal.require_write(spec.region)
        return _summary(await handlers.create_plan(stores, spec, clock))

    @router.get("/plans/{plan_id}", summary="A plan with its legs, quantities, deadlines and schedule")
    async def get_plan(
        plan_id: Identifier, principal: Annotated[Principal, Depends(current_principal)]
    ) -> dict[str, Any]:
        plan = await handlers.load_plan(stores, plan_id)
        principal.require_read(plan.region)
        return _summary(plan)

    @router.get(
        "/readiness/{region}",
        summary="Share of TPS fully supplied in a province, kab/kota or kecamatan, against the plan curve",
    )
    async def readiness(
        region: RegionCode,
        election_id: Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=120)],
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> dict[str, Any]:
        principal.require_read(region)
        return await repository.readiness(stores, election_id, region, clock.now())

    return router
