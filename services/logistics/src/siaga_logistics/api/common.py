"""Request bodies, scope checks and the mapping of domain errors to HTTP responses."""

from __future__ import annotations

from datetime import datetime

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from siaga_runtime import Principal
from siaga_schemas import RegionCode
from siaga_schemas.common import Identifier, LocalTimestamp
from siaga_schemas.events.logistics import HandoverRecord, PodLine, ShipmentLine, TransportMode
from siaga_schemas.localtime import aware_in, region_zone

from ..domain.shipment import Shipment

__all__ = [
    "CancelBody",
    "CheckpointBody",
    "DeliverBody",
    "DispatchBody",
    "RerouteBody",
    "ShipmentBody",
    "local_or_now",
    "require_party",
]


def require_party(principal: Principal, shipment: Shipment, *, write: bool) -> None:
    """Operators act for a shipment whose origin or destination lies within their region."""
    regions = (shipment.origin.region, shipment.destination.region)
    allowed = any(
        (principal.can_write(r) if write else principal.can_read(r) or principal.can_write(r))
        for r in regions
    )
    if not allowed:
        what = "act on" if write else "read"
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"{principal.subject} may not {what} shipment {shipment.shipment_id}"
        )


def local_or_now(value: datetime | None, region: str, now: datetime) -> datetime:
    return now if value is None else aware_in(value, region_zone(region))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShipmentBody(_Body):
    shipment_id: Identifier = Field(description="Shipment id.", examples=["shp-65.01-000123"])
    plan_id: Identifier = Field(description="Plan.", examples=["plan-pilkada2024-65.01"])
    leg_id: Identifier = Field(description="Leg of the plan.", examples=["ppk-65.01.05"])
    lines: list[ShipmentLine] | None = Field(
        None, min_length=1, max_length=200, description="Items and quantities (default: the leg's)."
    )
    planned_dispatch_at: LocalTimestamp | None = Field(
        None, description="Planned dispatch (default: the plan's; no offset: destination's local time)."
    )
    eta: LocalTimestamp | None = Field(
        None, description="Expected arrival (default: dispatch + typical duration)."
    )


class DispatchBody(_Body):
    dispatched_at: LocalTimestamp | None = Field(None, description="When it left (default: now).")
    eta: LocalTimestamp | None = Field(None, description="Revised expected arrival.")


class CheckpointBody(_Body):
    place: str = Field(min_length=1, max_length=200, description="Checkpoint.", examples=["Dermaga Kayan"])
    region: RegionCode | None = Field(None, description="Region of the checkpoint.")
    passed_at: LocalTimestamp | None = Field(None, description="When it passed (default: now).")
    eta: LocalTimestamp | None = Field(None, description="Revised expected arrival.")


class DeliverBody(_Body):
    delivered_at: LocalTimestamp | None = Field(None, description="When it arrived (default: now).")
    lines: list[PodLine] = Field(min_length=1, max_length=200, description="Proof of delivery per line.")
    handover: HandoverRecord = Field(description="Berita acara serah terima.")


class RerouteBody(_Body):
    reason: str = Field(min_length=1, max_length=500, description="Why.", examples=["longsor"])
    transport_mode: TransportMode = Field(description="Mode of the new route.", examples=["air"])
    eta: LocalTimestamp = Field(description="New expected arrival.")
    via: str | None = Field(None, max_length=200, description="Route taken now.")
    rerouted_at: LocalTimestamp | None = Field(None, description="When (default: now).")


class CancelBody(_Body):
    reason: str = Field(
        min_length=1, max_length=500, description="Why.", examples=["digabung dengan pengiriman lain"]
    )
