"""Silences, the contacts directory and the delivery log (the audit of every notification)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, Field, model_validator
from siaga_runtime import Clock, strip_reserved
from siaga_schemas import RegionCode, new_event_id
from siaga_schemas.common import Institution, Timestamp

from ..domain.contacts import Contact
from ..domain.muting import LabelMatcher, Silence
from ..handlers import commands
from ..repository import Stores, find_docs, readable
from .common import DeliveryView, Who, require_read_scope, require_write_scope

__all__ = ["make_admin_router"]

Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,119}$")]


class NewSilence(BaseModel):
    matchers: list[LabelMatcher] = Field(min_length=1, description="All must match.")
    region_prefix: RegionCode | None = Field(None, description="Only alerts within this region.")
    ends_at: Timestamp | None = Field(None, description="Expiry; or give duration_s.")
    duration_s: int | None = Field(
        None, gt=0, le=90 * 86400, description="Seconds from now.", examples=[7200]
    )
    comment: str = Field(
        min_length=1, max_length=1000, description="Why.", examples=["Jalan banjir, ditangani"]
    )

    @model_validator(mode="after")
    def _expiry(self) -> NewSilence:
        if (self.ends_at is None) == (self.duration_s is None):
            raise ValueError("give exactly one of ends_at or duration_s")
        return self


def make_admin_router(stores: Stores, clock: Clock) -> APIRouter:
    router = APIRouter()

    # -- silences -------------------------------------------------------------------------------------------

    @router.post(
        "/silences",
        tags=["silences"],
        status_code=201,
        response_model=Silence,
        summary="Mute matching alerts until the expiry",
    )
    async def create_silence(body: NewSilence, principal: Who) -> dict[str, Any]:
        require_write_scope(principal, body.region_prefix)
        now = clock.now()
        ends = body.ends_at or now + timedelta(seconds=body.duration_s or 0)
        if ends <= now:
            raise HTTPException(422, "ends_at: the expiry is in the past")
        silence = Silence(
            silence_id=f"sil-{new_event_id()}",
            matchers=body.matchers,
            region_prefix=body.region_prefix,
            starts_at=now,
            ends_at=ends,
            created_by=principal.subject,
            comment=body.comment,
        )
        return strip_reserved(await commands.save_silence(stores, silence))

    @router.get("/silences", tags=["silences"], response_model=list[Silence], summary="List silences")
    async def list_silences(principal: Who, active: bool | None = None) -> list[dict[str, Any]]:
        docs = await find_docs(stores.silences, {}, principal, limit=1000)
        now = clock.now()
        return [d for d in docs if active is None or Silence.model_validate(d).active(now) == active]

    @router.post(
        "/silences/{silence_id}/expire",
        tags=["silences"],
        response_model=Silence,
        summary="Expire a silence now",
    )
    async def expire_silence(silence_id: Id, principal: Who) -> dict[str, Any]:
        doc = await stores.silences.get(silence_id)
        if doc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"silence {silence_id} does not exist")
        require_write_scope(principal, doc.get("region_prefix"))
        stored = await commands.expire_silence(stores, silence_id, clock.now())
        assert stored is not None
        return strip_reserved(stored)

    # -- contacts -------------------------------------------------------------------------------------------

    @router.put(
        "/contacts/{contact_id}",
        tags=["contacts"],
        response_model=Contact,
        summary="Create or replace a directory contact",
    )
    async def put_contact(contact_id: Id, body: Contact, principal: Who) -> dict[str, Any]:
        if body.contact_id != contact_id:
            raise HTTPException(422, "contact_id: differs from the path")
        require_write_scope(principal, body.region, organise=True)
        existing = await stores.contacts.get(contact_id)
        if existing is not None:
            require_write_scope(principal, existing.get("region"), organise=True)
        return strip_reserved(await commands.put_contact(stores, body))

    @router.get("/contacts", tags=["contacts"], response_model=list[Contact], summary="List the directory")
    async def list_contacts(
        principal: Who, institution: Institution | None = None, within: RegionCode | None = None
    ) -> list[dict[str, Any]]:
        flt: dict[str, Any] = {"institution": institution.value} if institution else {}
        return await find_docs(stores.contacts, flt, principal, within=within, limit=5000)

    @router.delete(
        "/contacts/{contact_id}",
        tags=["contacts"],
        response_model=Contact,
        summary="Deactivate a contact (kept for the audit log)",
    )
    async def deactivate_contact(contact_id: Id, principal: Who) -> dict[str, Any]:
        doc = await stores.contacts.get(contact_id)
        if doc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"contact {contact_id} does not exist")
        require_write_scope(principal, doc.get("region"), organise=True)
        stored = await commands.deactivate_contact(stores, contact_id)
        assert stored is not None
        return strip_reserved(stored)

    # -- delivery log ---------------------------------------------------------------------------------------

    @router.get(
        "/deliveries",
        tags=["deliveries"],
        response_model=list[DeliveryView],
        summary="The delivery log: who got what, when, through which channel, and the outcome",
    )
    async def list_deliveries(
        principal: Who,
        state: Annotated[str | None, Query(pattern=r"^(pending|delivered|failed)$")] = None,
        channel: Annotated[str | None, Query(pattern=r"^(email|webhook|telegram|topic)$")] = None,
        contact_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,119}$")] = None,
        fingerprint: Annotated[str | None, Query(pattern=r"^[0-9a-f]{16,64}$")] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[dict[str, Any]]:
        flt: dict[str, Any] = {}
        if state:
            flt["state"] = state
        if channel:
            flt["channel"] = channel
        if contact_id:
            flt["contact_id"] = contact_id
        docs = await find_docs(
            stores.deliveries,
            flt,
            principal,
            limit=100_000,
            sort_key="created_at",
            exclude=("body", "address"),
        )
        if fingerprint:
            docs = [d for d in docs if fingerprint in d.get("fingerprints", [])]
        return docs[:limit]

    @router.get(
        "/deliveries/{notification_id}",
        tags=["deliveries"],
        response_model=DeliveryView,
        summary="One notification and its attempts",
    )
    async def get_delivery(notification_id: Id, principal: Who) -> dict[str, Any]:
        doc = await stores.deliveries.get(notification_id)
        if doc is None or not readable(principal, doc.get("region")):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"notification {notification_id} does not exist")
        require_read_scope(principal, doc.get("region"))
        return strip_reserved(doc)

    return router
