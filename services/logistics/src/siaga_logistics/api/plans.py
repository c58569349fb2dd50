"""Plans and readiness."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from siaga_runtime import Caller, Clock, Principal, omit_problems, problem_responses, scope_from_body
from siaga_schemas import RegionCode
from siaga_schemas.common import Identifier

from .. import handlers, repository
from ..domain.plan_spec import PlanSpec
from ..handlers import Stores
from .views import PlanView, ReadinessView

__all__ = ["make_plans_router"]

ElectionId = Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=120)]

PlanWriter = Annotated[Principal, Depends(scope_from_body("region"))]
"""An operator of the plan's kab/kota (read from the body before it is validated)."""


def make_plans_router(stores: Stores, clock: Clock) -> APIRouter:
    router = APIRouter(tags=["plans"])

    @router.post(
        "/plans",
        status_code=201,
        response_model=PlanView,
        response_model_exclude_unset=True,
        summary="Create a distribution plan for one kab/kota (up to 5,000 TPS; larger: import a file)",
        openapi_extra=omit_problems(404),
    )
    async def create_plan(principal: PlanWriter, spec: PlanSpec) -> dict[str, Any]:
        principal.require_write(spec.region)
        return await handlers.create_plan(stores, spec, clock)

    @router.get(
        "/plans/{plan_id}",
        response_model=PlanView,
        response_model_exclude_unset=True,
        summary="A plan: its kecamatan, and its legs (per kecamatan for a large plan)",
    )
    async def get_plan(
        plan_id: Identifier,
        principal: Caller,
        kecamatan: Annotated[RegionCode | None, Query(description="Only this kecamatan's legs.")] = None,
    ) -> dict[str, Any]:
        plan = await handlers.load_plan(stores, plan_id, kecamatan=kecamatan)
        principal.require_read(plan["region"])
        return plan

    @router.get(
        "/readiness",
        response_model=ReadinessView,
        response_model_exclude_unset=True,
        summary="Share of TPS fully supplied in the whole nation, against the plans' curves, per province",
        responses=problem_responses(404),
    )
    async def national_readiness(election_id: ElectionId, principal: Caller) -> dict[str, Any]:
        if principal.region is not None or not principal.roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"{principal.subject} may not read national readiness"
            )
        return await repository.readiness(stores, election_id, None, clock.now())

    @router.get(
        "/readiness/{region}",
        response_model=ReadinessView,
        response_model_exclude_unset=True,
        summary="Share of TPS fully supplied in a province, kab/kota or kecamatan, against the plan curve",
    )
    async def readiness(
        region: RegionCode,
        election_id: ElectionId,
        principal: Caller,
    ) -> dict[str, Any]:
        principal.require_read(region)
        return await repository.readiness(stores, election_id, region, clock.now())

    return router
