"""Silences, the contacts directory and the delivery log (the audit of every notification).

Who may write a silence or a contact is decided before the body is validated (``silence_writer``,
``contact_writer``; the latter is local to the router, so this module does not postpone its annotations).
"""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, Field, model_validator
from siaga_runtime import Clock, Principal, Role, Writer, admits, omit_problems, require_roles, strip_reserved
from siaga_schemas import RegionCode, new_event_id
from siaga_schemas.common import Institution, Timestamp
from siaga_schemas.errors import DomainError

from ..domain.contacts import Contact
from ..domain.muting import LabelMatcher, Silence
from ..handlers import commands
from ..repository import Stores, find_docs, readable
from .common import DeliveryView, Who, require_read_scope, require_write_scope, write_scope_of_body

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
    def _expiry(self) -> "NewSilence":
        if (self.ends_at is None) == (self.duration_s is None):
            raise ValueError("give exactly one of ends_at or duration_s")
        return self


SilenceWriter = Annotated[Principal, Depends(write_scope_of_body("region_prefix"))]
"""A caller who may write for the silence's region (national silences: a national account)."""
Organiser = Annotated[Principal, Depends(require_roles(*Role.ORGANISERS, what="an organiser"))]
ContactOrganiser = Annotated[Principal, Depends(write_scope_of_body("region", organise=True))]
"""A caller who organises for the contact's region (read from the body before it is validated)."""


def make_admin_router(stores: Stores, clock: Clock) -> APIRouter:
    router = APIRouter()

    @admits(*Role.ORGANISERS)
    async def contact_writer(contact_id: Id, principal: ContactOrganiser) -> Principal:
        """A caller who organises for the region of the contact it replaces, if there is one."""
        existing = await stores.contacts.get(contact_id)
        if existing is not None:
            require_write_scope(principal, existing.get("region"), organise=True)
        return principal

    ContactWriter = Annotated[Principal, Depends(contact_writer)]

    # -- silences -------------------------------------------------------------------------------------------

    @router.post(
        "/silences",
        tags=["silences"],
        status_code=201,
        response_model=Silence,
        summary="Mute matching alerts until the expiry",
        openapi_extra=omit_problems(404, 409),
    )
    async def create_silence(principal: SilenceWriter, body: NewSilence) -> dict[str, Any]:
        require_write_scope(principal, body.region_prefix)
        now = clock.now()
        ends = body.ends_at or now + timedelta(seconds=body.duration_s or 0)
        if ends <= now:
            raise DomainError("ends_at", "the expiry is in the past")
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
        openapi_extra=omit_problems(409),
    )
    async def expire_silence(silence_id: Id, principal: Writer) -> dict[str, Any]:
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
        openapi_extra=omit_problems(404, 409),
    )
    async def put_contact(contact_id: Id, principal: ContactWriter, body: Contact) -> dict[str, Any]:
        if body.contact_id != contact_id:
            raise DomainError("contact_id", "differs from the path")
        require_write_scope(principal, body.region, organise=True)
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
        openapi_extra=omit_problems(409),
    )
    async def deactivate_contact(contact_id: Id, principal: Organiser) -> dict[str, Any]:
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
        channel: Annotated[str | None, Query(pattern=r"^(email|webhook|telegram|whatsapp|topic)$")] = None,
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
