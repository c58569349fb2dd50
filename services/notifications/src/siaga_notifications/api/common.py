"""Shared API pieces: scope checks and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from siaga_runtime import Caller, Principal, Role, scope_from_body
from siaga_schemas import region_info

__all__ = [
    "AlertView",
    "DeliveryView",
    "Who",
    "require_read_scope",
    "require_write_scope",
    "write_scope_of_body",
]

FINGERPRINT = r"^[0-9a-f]{16,64}$"

Who = Caller


def require_write_scope(principal: Principal, region: str | None, *, organise: bool = False) -> None:
    """Regional writes need that region in scope; national ones (no region) need a national account."""
    if region is not None:
        principal.require_write(region, organise=organise)
        return
    wanted = {Role.ORGANISER} if organise else {Role.ORGANISER, Role.OPERATOR}
    if Role.ADMIN in principal.roles or (principal.region is None and principal.roles & wanted):
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"{principal.subject} may not act nationally")


def write_scope_of_body(key: str, *, organise: bool = False) -> Any:
    """A dependency deciding ``require_write_scope`` for the region at ``key`` of the raw body, before the
    body is validated: a missing or null region is a national write; one that is not a region code at all
    is left to validation, for a caller who may write somewhere."""

    def check(principal: Principal, region: Any) -> None:
        if region is None:
            require_write_scope(principal, None, organise=organise)
        elif isinstance(region, str) and region_info(region.strip()) is not None:
            require_write_scope(principal, region.strip(), organise=organise)
        else:
            principal.require_write_somewhere(organise=organise)

    return scope_from_body(key, check=check, organise=organise)


def require_read_scope(principal: Principal, region: str | None) -> None:
    if region is not None:
        principal.require_read(region)
    elif principal.region is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{principal.subject} may not read national alerts")


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AlertView(_View):
    fingerprint: str = Field(description="Dedup key (hex).")
    alert_id: str
    alertname: str
    status: str = Field(description="firing, acknowledged or resolved.")
    severity: str
    region: str | None
    institution: str | None
    labels: dict[str, str]
    summary: dict[str, str] = Field(description="One-line summary by language (id, en).")
    starts_at: datetime
    raised_at: datetime | None = Field(
        None, description="When Siaga raised this run of the alert (starts_at: when its cause began)."
    )
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_comment: str | None
    ack_until_resolved: bool = Field(
        False, description="Acknowledged and muted until it resolves (no reminders meanwhile)."
    )
    resolved_at: datetime | None
    resolved_by: str | None
    resolve_reason: str | None
    chain_run: int = Field(description="How often the alert (re)started its escalation chain.")
    primary_route: dict[str, Any] | None = Field(
        None, description="The route the alert was grouped and escalated by: receiver, escalation, group_by."
    )
    esc: dict[str, Any] = Field(description="Escalation state with the policy snapshot it follows.")
    history: list[dict[str, Any]] = Field(description="Lifecycle audit: raised, escalated, acknowledged...")


class DeliveryView(_View):
    notification_id: str
    channel: str
    contact_id: str
    receiver: str
    group_key: str
    step: int = Field(description="Escalation step of the group that sent it.")
    status: str = Field(description="firing or resolved notification.")
    severity: str
    region: str | None
    title: str
    alert_ids: list[str]
    firing_count: int
    acknowledged_count: int = Field(0, description="Acknowledged alerts listed in a reminder.")
    resolved_count: int
    state: str = Field(description="pending, delivered or failed.")
    attempts: int
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime
    audit: list[dict[str, Any]] = Field(description="Every attempt: when, outcome, error (no secrets).")
