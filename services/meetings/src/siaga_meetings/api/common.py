"""Request bodies, scope checks and the mapping of domain errors to HTTP responses."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from siaga_runtime import Principal, Role, require_roles, scope_from_body
from siaga_schemas import region_info
from siaga_schemas.common import Institution, LocalTimestamp, Party
from siaga_schemas.events.meetings import Recommendation, ReportValue

from ..domain.meetings import AttendanceEntry

__all__ = [
    "ActionItemsBody",
    "AttendanceBody",
    "CancelBody",
    "CompleteBody",
    "HeldBody",
    "MinutesBody",
    "RecommendationsBody",
    "SubmitBody",
    "admin_only",
    "organiser_of_body",
    "organiser_only",
    "require_institution",
]


def require_institution(principal: Principal, institution: Institution) -> None:
    """Non-admin callers act only for their own institution (KPU cannot file Desk Pilkada reports)."""
    if Role.ADMIN not in principal.roles and principal.institution is not institution:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"{principal.subject} may not act for institution {institution.value}"
        )


def _may_organise_party(principal: Principal, party: Any) -> None:
    """The party that a raw body names (``{"institution": ..., "region": ...}``): the caller must organise
    for its region and belong to its institution. What cannot be read is left to validation."""
    region = party.get("region") if isinstance(party, dict) else None
    if isinstance(region, str) and region_info(region.strip()) is not None:
        principal.require_write(region.strip(), organise=True)
    else:
        principal.require_write_somewhere(organise=True)
    named = party.get("institution") if isinstance(party, dict) else None
    if isinstance(named, str) and named in {i.value for i in Institution}:
        require_institution(principal, Institution(named))


def organiser_of_body(key: str) -> Any:
    """A dependency: the caller organises for the party at ``key`` of the body, decided before validation."""
    return scope_from_body(key, check=_may_organise_party, organise=True)


organiser_only = require_roles(Role.ORGANISER, Role.ADMIN, what="an organiser")
admin_only = require_roles(Role.ADMIN, what="an admin")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttendanceBody(_Body):
    entries: list[AttendanceEntry] = Field(min_length=1, max_length=2000, description="Attendance per party.")


class MinutesBody(_Body):
    minutes: str = Field(
        min_length=1,
        max_length=20000,
        description="Minutes (notulen).",
        examples=["Rakor dibuka pukul 09.00 WIB oleh Ketua Bawaslu Jawa Timur."],
    )


class RecommendationsBody(_Body):
    recommendations: list[Recommendation] = Field(max_length=100, description="Numbered recommendations.")


class HeldBody(_Body):
    held_at: LocalTimestamp | None = Field(None, description="When it was held (default: now).")


class ActionItemsBody(_Body):
    recommendation_ref: str = Field(
        pattern=r"^\d+(\.[a-z])?$",
        max_length=20,
        description="Recommendation number and letter.",
        examples=["3.a"],
    )
    title: str | None = Field(None, max_length=500, description="What must be done (default: the text).")
    due_at: LocalTimestamp = Field(description="Due; without an offset it is each assignee's local time.")
    assignee: Party | None = Field(None, description="One assignee; or use fan_out.")
    fan_out: bool = Field(False, description="Assign to every invited party.")


class CompleteBody(_Body):
    evidence: str | None = Field(None, max_length=2000, description="Evidence of completion (decree, link).")


class CancelBody(_Body):
    reason: str | None = Field(None, max_length=500, description="Why it is cancelled.")


class SubmitBody(_Body):
    values: dict[str, ReportValue] = Field(
        description="Item values by item key; aggregated counts, never names.",
        examples=[{"local_odp": 12, "local_pdp": 3}],
    )
