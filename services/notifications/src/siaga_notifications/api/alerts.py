"""Alerts: list and filter, acknowledge with a comment, resolve.

Who may respond to an alert is decided before the body is validated (``responder``, local to the router: so
this module does not postpone its annotations).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, Field
from siaga_runtime import Caller, Clock, Principal, Role, admits, omit_problems, strip_reserved
from siaga_schemas import RegionCode
from siaga_schemas.common import Severity

from ..domain.alerts import AlertStatus
from ..handlers import commands
from ..repository import Stores, find_docs
from .common import FINGERPRINT, AlertView, Who, require_read_scope, require_write_scope

__all__ = ["make_alerts_router"]

Fingerprint = Annotated[str, Path(pattern=FINGERPRINT, description="Alert fingerprint (hex).")]


class Comment(BaseModel):
    comment: str | None = Field(
        None, max_length=2000, description="Why, what is being done.", examples=["Speedboat cadangan dikirim"]
    )


class Acknowledgement(Comment):
    until_resolved: bool = Field(
        False,
        description="Also mute the alert until it resolves: no reminders (repeat_interval) meanwhile. A plain "
        "acknowledgement stops the escalation but the alert stays in the reminders; either way, a re-fire "
        "after it resolves notifies again. Allowed on an alert acknowledged plainly, to mute it.",
        examples=[True],
    )


def make_alerts_router(stores: Stores, clock: Clock) -> APIRouter:
    router = APIRouter(prefix="/alerts", tags=["alerts"])

    @router.get("", summary="List alerts you may read, newest first", response_model=list[AlertView])
    async def list_alerts(
        principal: Who,
        status_: Annotated[AlertStatus | None, Query(alias="status")] = None,
        severity: Severity | None = None,
        alertname: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,120}$")] = None,
        within: RegionCode | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        flt: dict[str, Any] = {}
        if status_ is not None:
            flt["status"] = status_.value
        if severity is not None:
            flt["severity"] = severity.value
        if alertname is not None:
            flt["alertname"] = alertname
        docs = await find_docs(
            stores.alerts,
            flt,
            principal,
            within=within,
            limit=limit,
            sort_key="last_seen_at",
            exclude=("pending_joins",),
        )
        return [{**d, "fingerprint": d["_id"]} for d in docs]

    async def load(fp: str, principal: Principal) -> dict[str, Any]:
        doc = await stores.alerts.get(fp)
        if doc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"alert {fp} does not exist")
        require_read_scope(principal, doc.get("region"))
        return doc

    @admits(*Role.WRITERS)
    async def responder(fingerprint: Fingerprint, principal: Caller) -> Principal:
        """A caller who may write for the alert's region (404: no such alert, or not readable)."""
        doc = await load(fingerprint, principal)
        require_write_scope(principal, doc.get("region"))
        return principal

    Responder = Annotated[Principal, Depends(responder)]

    @router.get("/{fingerprint}", summary="One alert with its history", response_model=AlertView)
    async def get_alert(fingerprint: Fingerprint, principal: Who) -> dict[str, Any]:
        return {**strip_reserved(await load(fingerprint, principal)), "fingerprint": fingerprint}

    @router.post(
        "/{fingerprint}/acknowledge",
        summary="Acknowledge: stops the escalation chain (until_resolved: mutes it until it resolves)",
        response_model=AlertView,
    )
    async def acknowledge(
        fingerprint: Fingerprint, principal: Responder, body: Acknowledgement
    ) -> dict[str, Any]:
        doc = await load(fingerprint, principal)
        if doc["status"] == AlertStatus.RESOLVED:
            raise HTTPException(status.HTTP_409_CONFLICT, f"alert {fingerprint} is already resolved")
        stored = await commands.acknowledge_alert(
            stores,
            fingerprint,
            clock.now(),
            principal.subject,
            body.comment,
            until_resolved=body.until_resolved,
        )
        assert stored is not None
        return {**strip_reserved(stored), "fingerprint": fingerprint}

    @router.post(
        "/{fingerprint}/resolve",
        summary="Resolve by hand",
        response_model=AlertView,
        openapi_extra=omit_problems(409),
    )
    async def resolve(fingerprint: Fingerprint, principal: Responder, body: Comment) -> dict[str, Any]:
        stored = await commands.resolve_alert(
            stores, fingerprint, clock.now(), principal.subject, body.comment
        )
        assert stored is not None
        return {**strip_reserved(stored), "fingerprint": fingerprint}

    return router
