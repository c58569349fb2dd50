"""Events published by the logistics service (topic ``siaga.logistics.events.v1``) and its inbound updates."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..codec import registry
from ..common import Identifier, Timestamp
from ..envelope import EventData
from ..regions import RegionCode
from ..topics import LOGISTICS_EVENTS, LOGISTICS_STATUS_UPDATES

__all__ = [
    "CurvePoint",
    "DelaySeverity",
    "DiscrepancyCategory",
    "HandoverRecord",
    "ItemType",
    "PlanCreated",
    "PlanRevised",
    "PodLine",
    "RegionAtRisk",
    "RejectionReason",
    "ShipmentCancelled",
    "ShipmentCheckpointPassed",
    "ShipmentClosed",
    "ShipmentDelayed",
    "ShipmentDelivered",
    "ShipmentDiscrepancyFound",
    "ShipmentDispatched",
    "ShipmentLine",
    "ShipmentPlanned",
    "ShipmentReplanned",
    "ShipmentRerouted",
    "ShipmentStatusReported",
    "Site",
    "SiteKind",
    "TpsSupplied",
    "TpsSuppliedV2",
    "TransportMode",
]


class ItemType(StrEnum):
    BALLOT_BOX = "ballot_box"
    VOTING_BOOTH = "voting_booth"
    BALLOT = "ballot"
    INK = "ink"
    SEAL = "seal"
    MARKING_TOOL = "marking_tool"
    FORMS_ENVELOPES = "forms_envelopes"
    TPS_KIT = "tps_kit"


class SiteKind(StrEnum):
    WAREHOUSE = "warehouse"
    PPK = "ppk"
    PPS = "pps"
    TPS = "tps"


class TransportMode(StrEnum):
    LAND = "land"
    RIVER = "river"
    SEA = "sea"
    AIR = "air"
    ON_FOOT = "on_foot"


class RejectionReason(StrEnum):
    DAMAGED = "damaged"
    WRONG_TYPE = "wrong_type"
    WRONG_DESTINATION = "wrong_destination"
    SHORT = "short"


class DelaySeverity(StrEnum):
    """How bad a delay is, from the slack left to the legal H-1 deadline."""

    WARNING = "warning"
    CRITICAL = "critical"
    WILL_MISS_H1 = "will_miss_h1"


class DiscrepancyCategory(StrEnum):
    """The '6 tepat' broken, as categories."""

    SHORT = "short"
    DAMAGED = "damaged"
    WRONG_TYPE = "wrong_type"
    WRONG_DESTINATION = "wrong_destination"


class Site(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: SiteKind = Field(description="Warehouse, PPK, PPS or TPS.", examples=["pps"])
    region: RegionCode = Field(description="Region of the site.", examples=["65.01.01"])
    site_id: Identifier = Field(description="Site id.", examples=["pps-65.01.01.2001"])
    name: str | None = Field(
        None, max_length=200, description="Display name.", examples=["PPS Tanjung Selor Hilir"]
    )


class ShipmentLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    item: ItemType = Field(description="Item type.", examples=["ballot"])
    variant: str | None = Field(
        None, max_length=60, description="E.g. the contest of a ballot.", examples=["bupati"]
    )
    quantity: int = Field(ge=0, description="Quantity in the item's unit.", examples=[612])
    unit: str = Field(max_length=20, description="Unit.", examples=["sheet"])


class PodLine(BaseModel):
    """Proof of delivery for one line: accepted + rejected == shipped."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    item: ItemType = Field(description="Item type.", examples=["ballot_box"])
    variant: str | None = Field(None, max_length=60, description="Variant.", examples=[None])
    shipped: int = Field(ge=0, description="Quantity shipped.", examples=[5])
    accepted: int = Field(ge=0, description="Quantity accepted.", examples=[4])
    rejected: int = Field(ge=0, description="Quantity rejected.", examples=[1])
    rejection_reasons: dict[RejectionReason, int] = Field(
        default_factory=dict, description="Rejected quantity by reason.", examples=[{"damaged": 1}]
    )

    @model_validator(mode="after")
    def _balanced(self) -> PodLine:
        """accepted + rejected == shipped, and every rejected unit has a reason."""
        if self.accepted + self.rejected != self.shipped:
            raise ValueError(
                f"accepted ({self.accepted}) + rejected ({self.rejected}) must equal shipped ({self.shipped})"
            )
        reasons = self.rejection_reasons
        if not reasons and not self.rejected:
            return self  # most lines of a delivery: nothing rejected (this runs for every line of every scan)
        if any(n <= 0 for n in reasons.values()):
            raise ValueError("rejection_reasons: every quantity must be positive")
        if sum(reasons.values()) != self.rejected:
            raise ValueError(
                f"rejection_reasons: quantities sum to {sum(reasons.values())}, "
                f"but rejected is {self.rejected}: every rejection needs a reason"
            )
        return self


class _LogisticsEvent(EventData):
    topic: ClassVar[str] = LOGISTICS_EVENTS.name


class _ShipmentEvent(_LogisticsEvent):
    shipment_id: Identifier = Field(description="Shipment id.", examples=["shp-65.01-000123"])
    destination_region: RegionCode = Field(description="Region of the destination.", examples=["65.01.01"])

    def partition_key(self) -> str:
        return self.shipment_id


@registry.register
class ShipmentPlanned(_ShipmentEvent):
    """A shipment (one leg of a distribution plan) was planned."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-planned"

    plan_id: Identifier = Field(description="Distribution plan.", examples=["plan-pilkada2024-65.01"])
    origin: Site = Field(description="Where it leaves from.")
    destination: Site = Field(description="Where it goes.")
    lines: list[ShipmentLine] = Field(min_length=1, description="Items and quantities.")
    transport_mode: TransportMode = Field(description="Transport mode of the leg.", examples=["river"])
    planned_dispatch_at: Timestamp = Field(description="Planned dispatch time.")
    eta: Timestamp = Field(description="Expected arrival.")
    deadline_at: Timestamp = Field(description="Latest arrival for this leg, derived back from H-1.")
    leg_id: Identifier | None = Field(
        None, description="Leg of the plan this shipment serves.", examples=["tps-65.01.05.1001-001"]
    )
    legal_deadline_at: Timestamp | None = Field(
        None,
        description="The legal H-1 deadline of the plan (end of the day before voting, local time).",
        examples=["2024-11-27T00:00:00+08:00"],
    )


@registry.register
class ShipmentDispatched(_ShipmentEvent):
    """A shipment left its origin."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-dispatched"

    dispatched_at: Timestamp = Field(description="When it left.")
    eta: Timestamp = Field(description="Expected arrival.")


@registry.register
class ShipmentCheckpointPassed(_ShipmentEvent):
    """A shipment passed a checkpoint on its way (a port, an airport, a warehouse scan)."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-checkpoint-passed"

    place: str = Field(max_length=200, description="Checkpoint.", examples=["Dermaga Tanjung Selor"])
    region: RegionCode | None = Field(None, description="Region of the checkpoint.", examples=["65.01.01"])
    passed_at: Timestamp = Field(description="When it passed.")
    eta: Timestamp | None = Field(
        None, description="Revised ETA, if any.", examples=["2024-11-26T15:00:00+08:00"]
    )


class HandoverRecord(BaseModel):
    """Berita acara serah terima."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    number: str = Field(max_length=80, description="Document number.", examples=["BA-65.01-0042"])
    handed_over_by: str = Field(
        max_length=120, description="Official handing over.", examples=["PPK Tanjung Selor"]
    )
    received_by: str = Field(
        max_length=120, description="Official receiving.", examples=["Ketua PPS Tanjung Selor Hilir"]
    )
    at: Timestamp = Field(description="When it was signed.")
    photo_ref: str | None = Field(
        None, max_length=300, description="Photo reference.", examples=["photo/ba-0042.jpg"]
    )


@registry.register
class ShipmentDelivered(_ShipmentEvent):
    """A shipment arrived and was handed over, with its proof of delivery per line."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-delivered"

    delivered_at: Timestamp = Field(description="When it arrived.")
    lines: list[PodLine] = Field(min_length=1, description="Proof of delivery per line.")
    handover: HandoverRecord = Field(description="Handover record.")
    plan_id: Identifier | None = Field(
        None, description="Distribution plan.", examples=["plan-pilkada2024-65.01"]
    )
    election_id: Identifier | None = Field(None, description="Election.", examples=["pilkada2024"])
    destination: Site | None = Field(None, description="The site that received it.")
    was_delayed: bool = Field(
        False,
        description="True when a shipment-delayed was raised for it (this delivery clears it).",
        examples=[True],
    )


@registry.register
class ShipmentDelayed(_ShipmentEvent):
    """A shipment's ETA passed without delivery: late against the deadline of its leg."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-delayed"

    severity: DelaySeverity = Field(description="Severity from the slack to H-1.", examples=["critical"])
    eta: Timestamp = Field(description="The ETA that passed.")
    deadline_at: Timestamp = Field(
        description="Latest arrival of this leg that still lets the destination TPS hold its logistics by the "
        "legal H-1 deadline (derived back from it; for a TPS leg it is the H-1 deadline itself)."
    )
    slack_seconds: int = Field(
        description="Seconds left to the deadline at detection (negative: missed).", examples=[86400]
    )
    detected_at: Timestamp = Field(description="When the delay was detected.")
    transport_mode: TransportMode | None = Field(
        None, description="Mode of the delayed leg.", examples=["river"]
    )
    legal_deadline_at: Timestamp | None = Field(
        None,
        description="The legal H-1 deadline of the plan (end of the day before voting, local time).",
        examples=["2024-11-27T00:00:00+08:00"],
    )
    plan_id: Identifier | None = Field(
        None, description="Distribution plan.", examples=["plan-pilkada2024-65.01"]
    )


@registry.register
class ShipmentDiscrepancyFound(_ShipmentEvent):
    """Something delivered is short, damaged, wrong or at the wrong destination."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-discrepancy-found"

    category: DiscrepancyCategory = Field(description="What is wrong.", examples=["damaged"])
    item: ItemType = Field(description="Item type concerned.", examples=["ballot_box"])
    quantity: int = Field(ge=0, description="Quantity concerned.", examples=[2])
    detected_at: Timestamp = Field(description="When it was found.")
    note: str | None = Field(None, max_length=500, description="Detail.", examples=["lid cracked"])


@registry.register
class RegionAtRisk(_LogisticsEvent):
    """A region's readiness (share of TPS fully supplied) fell behind its plan curve."""

    event_type: ClassVar[str] = "siaga.logistics.region-at-risk"

    region: RegionCode = Field(description="Region behind its plan.", examples=["65.01"])
    as_of: Timestamp = Field(description="Time of the readiness reading.")
    tps_total: int = Field(ge=0, description="TPS in the region.", examples=[412])
    tps_ready: int = Field(ge=0, description="TPS fully supplied.", examples=[120])
    readiness: float = Field(ge=0, le=1, description="Share of TPS fully supplied.", examples=[0.29])
    planned: float = Field(ge=0, le=1, description="Share planned by now.", examples=[0.6])

    def partition_key(self) -> str:
        return self.region


@registry.register
class ShipmentStatusReported(EventData):
    """Inbound: a status or scan update from another agency's logistics system."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-status-reported"
    topic: ClassVar[str] = LOGISTICS_STATUS_UPDATES.name

    shipment_id: Identifier = Field(description="Shipment id.", examples=["shp-65.01-000123"])
    status: str = Field(
        pattern=r"^(dispatched|checkpoint|delivered)$",
        description="Reported status. Only 'delivered' carries lines and a handover.",
        examples=["delivered"],
    )
    observed_at: Timestamp = Field(description="When the scan happened; older scans never overwrite newer.")
    place: str | None = Field(
        None, max_length=200, description="Where.", examples=["Kantor PPS Tanjung Selor Hilir"]
    )
    region: RegionCode | None = Field(None, description="Region of the scan.", examples=["65.01.05.1001"])
    lot_id: str | None = Field(
        None, max_length=120, description="Scanned QR or lot id.", examples=["LOT-KS-000881"]
    )
    source_system: str = Field(max_length=80, description="Reporting system.", examples=["silog-kpu"])
    lines: list[PodLine] | None = Field(
        None,
        max_length=200,
        description="Proof of delivery per line, with status 'delivered' (without it a delivered scan only "
        "records the arrival; the handover is then made through the HTTP API).",
        examples=[
            [
                {
                    "item": "ballot_box",
                    "shipped": 2,
                    "accepted": 1,
                    "rejected": 1,
                    "rejection_reasons": {"damaged": 1},
                }
            ]
        ],
    )
    handover: HandoverRecord | None = Field(
        None,
        description="Handover record, with status 'delivered'.",
        examples=[
            {
                "number": "BA-65.01-0042",
                "handed_over_by": "PPK Tanjung Selor",
                "received_by": "Ketua PPS Tanjung Selor Hilir",
                "at": "2024-11-26T08:45:00+08:00",
            }
        ],
    )

    @model_validator(mode="after")
    def _delivery_only(self) -> ShipmentStatusReported:
        """Lines and a handover are the proof of a delivery: a dispatch or checkpoint scan has neither."""
        if self.status != "delivered":
            for name in ("lines", "handover"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{name}: only a delivered scan carries {name}, not a {self.status} scan"
                    )
        return self

    def partition_key(self) -> str:
        return self.shipment_id


@registry.register
class ShipmentRerouted(_ShipmentEvent):
    """A shipment changed route, e.g. after a landslide closed the road."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-rerouted"

    rerouted_at: Timestamp = Field(description="When the new route was decided.")
    reason: str = Field(max_length=500, description="Why.", examples=["longsor di jalan Tanjung Selor-Peso"])
    transport_mode: TransportMode = Field(description="Mode of the new route.", examples=["air"])
    via: str | None = Field(
        None, max_length=200, description="Route taken now.", examples=["Bandara Tanjung Harapan"]
    )
    eta: Timestamp = Field(description="New expected arrival.")


@registry.register
class ShipmentCancelled(_ShipmentEvent):
    """A shipment was cancelled, with the reason."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-cancelled"

    cancelled_at: Timestamp = Field(description="When it was cancelled.")
    reason: str = Field(max_length=500, description="Why.", examples=["digabung dengan pengiriman lain"])


@registry.register
class ShipmentClosed(_ShipmentEvent):
    """The proof of delivery was reviewed and the shipment is closed; nothing about it changes any more."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-closed"

    closed_at: Timestamp = Field(description="When it was closed.")


class CurvePoint(BaseModel):
    """One step of a plan curve: by ``at``, ``tps`` TPS are planned to be fully supplied (cumulative)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    at: Timestamp = Field(description="Planned time.")
    tps: int = Field(
        ge=0, description="TPS planned to be fully supplied by then (cumulative).", examples=[12]
    )


@registry.register
class PlanCreated(_LogisticsEvent):
    """A distribution plan for one kab/kota and one election was created."""

    event_type: ClassVar[str] = "siaga.logistics.plan-created"

    plan_id: Identifier = Field(description="Distribution plan.", examples=["plan-pilkada2024-65.01"])
    election_id: Identifier = Field(description="Election.", examples=["pilkada2024"])
    region: RegionCode = Field(description="Kab/kota the plan covers.", examples=["65.01"])
    voting_day: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}$", description="Voting day (local date).", examples=["2024-11-27"]
    )
    legal_deadline_at: Timestamp = Field(
        description="H-1 deadline: end of the day before voting, local time."
    )
    tps_total: int = Field(ge=0, description="TPS in the plan.", examples=[412])
    legs: int = Field(
        ge=0, description="Legs (warehouse→PPK, PPK→PPS, PPS→TPS, warehouse→TPS).", examples=[460]
    )
    curve: list[CurvePoint] = Field(
        description="Plan curve: cumulative TPS planned to be supplied over time."
    )

    def partition_key(self) -> str:
        return self.plan_id


@registry.register
class TpsSupplied(_LogisticsEvent):
    """A TPS holds every item of its requirement (accepted quantities cover it): it counts as ready."""

    event_type: ClassVar[str] = "siaga.logistics.tps-supplied"

    tps_id: Identifier = Field(description="TPS site id.", examples=["tps-65.01.05.1001-001"])
    region: RegionCode = Field(description="Desa/kelurahan of the TPS.", examples=["65.01.05.1001"])
    plan_id: Identifier = Field(description="Distribution plan.", examples=["plan-pilkada2024-65.01"])
    election_id: Identifier = Field(description="Election.", examples=["pilkada2024"])
    supplied_at: Timestamp = Field(description="When the last missing item was accepted.")
    tps_ready_in_kab_kota: int = Field(
        ge=1, description="TPS of the plan's kab/kota supplied so far, this one included.", examples=[57]
    )
    planned_at: Timestamp | None = Field(
        None, description="When the plan expected it to be supplied.", examples=["2024-11-24T12:00:00+08:00"]
    )

    def partition_key(self) -> str:
        return self.tps_id


@registry.register
class TpsSuppliedV2(_LogisticsEvent):
    """A TPS holds every item of its requirement (accepted quantities cover it): it counts as ready.

    Version 2 counts within the TPS's desa chunk (at most 16 TPS, see the logistics README), whose document
    decides it, instead of the kab/kota: a count over the kab/kota would make one document hold every TPS
    of the kab/kota. Readiness per kecamatan, kab/kota and province is ``GET /readiness/{region}``."""

    event_type: ClassVar[str] = "siaga.logistics.tps-supplied"
    schema_version: ClassVar[int] = 2

    tps_id: Identifier = Field(description="TPS site id.", examples=["tps-65.01.05.1001-001"])
    region: RegionCode = Field(description="Desa/kelurahan of the TPS.", examples=["65.01.05.1001"])
    plan_id: Identifier = Field(description="Distribution plan.", examples=["plan-pilkada2024-65.01"])
    election_id: Identifier = Field(description="Election.", examples=["pilkada2024"])
    supplied_at: Timestamp = Field(description="When the last missing item was accepted.")
    planned_at: Timestamp | None = Field(
        None, description="When the plan expected it to be supplied.", examples=["2024-11-24T12:00:00+08:00"]
    )
    chunk_id: Identifier = Field(
        description="The desa chunk that counts this TPS.",
        examples=["c:plan-pilkada2024-65.01:65.01.05.1001:0"],
    )
    chunk_version: int = Field(
        ge=1, description="Version of the chunk that counted it (higher is newer).", examples=[7]
    )
    chunk_tps_ready: int = Field(
        ge=1, description="TPS of the chunk supplied so far, this one included.", examples=[5]
    )
    chunk_tps_total: int = Field(ge=1, description="TPS in the chunk.", examples=[12])

    def partition_key(self) -> str:
        return self.tps_id


@registry.register
class ShipmentReplanned(_ShipmentEvent):
    """A corrected plan changed a leg that was not delivered yet: its lines, mode, schedule or deadline."""

    event_type: ClassVar[str] = "siaga.logistics.shipment-replanned"

    plan_id: Identifier = Field(description="Distribution plan.", examples=["plan-pilkada2024-65.01"])
    leg_id: Identifier = Field(description="Leg of the plan.", examples=["tps-65.01.05.1001-001"])
    lines: list[ShipmentLine] = Field(min_length=1, description="Items and quantities now planned.")
    transport_mode: TransportMode = Field(description="Transport mode now planned.", examples=["river"])
    planned_dispatch_at: Timestamp = Field(description="Planned dispatch time now.")
    eta: Timestamp = Field(description="Expected arrival now.")
    deadline_at: Timestamp = Field(description="Latest arrival for this leg, derived back from H-1.")
    changed: list[str] = Field(
        description="What the correction changed.", examples=[["lines", "eta"]], max_length=10
    )


@registry.register
class PlanRevised(_LogisticsEvent):
    """A distribution plan was imported again with changes (rows added or corrected)."""

    event_type: ClassVar[str] = "siaga.logistics.plan-revised"

    plan_id: Identifier = Field(description="Distribution plan.", examples=["plan-pilkada2024-65.01"])
    election_id: Identifier = Field(description="Election.", examples=["pilkada2024"])
    region: RegionCode = Field(description="Kab/kota the plan covers.", examples=["65.01"])
    tps_total: int = Field(ge=0, description="TPS in the plan now.", examples=[412])
    legs: int = Field(ge=0, description="Legs in the plan now.", examples=[460])
    tps_added: int = Field(ge=0, description="TPS the revision added.", examples=[3])
    legs_replanned: int = Field(ge=0, description="Legs whose plan the revision changed.", examples=[5])
    curve: list[CurvePoint] = Field(description="Plan curve now: cumulative TPS planned over time.")

    def partition_key(self) -> str:
        return self.plan_id
