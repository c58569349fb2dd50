"""The contacts directory (kept through the API) and how receivers resolve to contacts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from siaga_schemas import RegionCode, is_within
from siaga_schemas.common import Identifier, Institution

from .routing import Receiver, TargetLevel

__all__ = ["Contact", "ContactChannels", "resolve_contacts"]


class ContactChannels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str | None = Field(
        None,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="E-mail address.",
        examples=["logistik@kpu-bulungan.example"],
    )
    webhook: HttpUrl | None = Field(
        None, description="Webhook URL (default: the service's).", examples=["https://ops.kpu.example/siaga"]
    )
    webhook_default: bool = Field(False, description="Use the service's configured webhook URL.")
    telegram: str | None = Field(
        None,
        max_length=64,
        pattern=r"^-?[0-9A-Za-z_@]+$",
        description="Telegram chat id.",
        examples=["-1001234567"],
    )
    whatsapp: str | None = Field(
        None,
        pattern=r"^[1-9][0-9]{7,14}$",
        description="WhatsApp number, international format without '+' (the Cloud API's 'to').",
        examples=["6281234567890"],
    )


class Contact(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    contact_id: Identifier = Field(description="Directory id.", examples=["ct-kpu-65.01-log"])
    name: str = Field(
        max_length=200, description="Person or desk.", examples=["Divisi Logistik KPU Bulungan"]
    )
    institution: Institution = Field(description="Institution.", examples=["kpu"])
    region: RegionCode | None = Field(None, description="Region served; none for a national desk.")
    roles: list[str] = Field(
        default_factory=list, description="Roles, e.g. logistics, chair.", examples=[["logistics"]]
    )
    language: str = Field("id", pattern=r"^(id|en)$", description="Message language.", examples=["id"])
    channels: ContactChannels = Field(default_factory=ContactChannels, description="Addresses per channel.")
    active: bool = Field(True, description="Inactive contacts get nothing.")

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        for r in v:
            if not r.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"role {r!r}: letters, digits, '-' and '_' only")
        return v


def _ancestor(region: str | None, level: int) -> str | None:
    if region is None:
        return None
    parts = region.split(".")
    return ".".join(parts[:level]) if len(parts) >= level else region


def resolve_contacts(
    receiver: Receiver, region: str | None, institution: str | None, contacts: list[Contact]
) -> list[Contact]:
    """Contacts a receiver means for an alert (or group) in ``region`` raised about ``institution``."""
    out: dict[str, Contact] = {}
    for target in receiver.targets:
        inst = institution if target.institution == "alert" else target.institution
        for c in contacts:
            if not c.active or (inst and c.institution.value != inst):
                continue
            if target.role and target.role not in c.roles:
                continue
            if not _at_level(c.region, region, target.level):
                continue
            out[c.contact_id] = c
    return sorted(out.values(), key=lambda c: c.contact_id)


def _at_level(contact_region: str | None, region: str | None, level: TargetLevel) -> bool:
    if level is TargetLevel.NATIONAL:
        return contact_region is None
    if region is None:
        return contact_region is None
    if level is TargetLevel.WITHIN:
        return contact_region is not None and is_within(contact_region, region)
    if level is TargetLevel.REGION:
        return contact_region == region
    want = _ancestor(region, 2 if level is TargetLevel.KAB_KOTA else 1)
    return contact_region == want
