"""What logistics' HTTP API answers: the published response bodies.

The repository and handlers build these answers as plain JSON-ready mappings; FastAPI validates each
against its model here and serialises only the fields declared, so the OpenAPI document describes every
field an integrator receives, and a field nobody declared never leaks out of a stored document. Plans and
readiness are answered without the optional fields that do not apply (a province has no ``tps`` list).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from siaga_schemas.events.logistics import (
    CurvePoint,
    DelaySeverity,
    HandoverRecord,
    PodLine,
    ShipmentLine,
    Site,
    TransportMode,
)

from ..domain.shipment import Status

__all__ = [
    "DelayedShipmentView",
    "ImportReportView",
    "ImportedPlan",
    "KecamatanSummary",
    "PlanView",
    "PlannedLegView",
    "ReadinessView",
    "RegionReadiness",
    "RejectedRowView",
    "ShipmentView",
    "TpsReadiness",
]


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CheckpointView(_View):
    place: str = Field(description="Where it was seen (a port, a PPK, a bridge).")
    region: str | None = Field(None, description="Region code of the place, when known.")
    passed_at: datetime
    eta: datetime | None = Field(None, description="The arrival time expected from there, when given.")
    source: str = Field("api", description="'api' or the reporting system.")
    lot_id: str | None = None


class RerouteView(_View):
    at: datetime
    reason: str
    mode: TransportMode = Field(description="The transport mode taken from then on.")
    via: str | None = None
    eta: datetime
    previous_mode: TransportMode


class ShipmentView(_View):
    """One shipment (a leg of a plan, or another shipment for that leg), with its proof of delivery."""

    shipment_id: str = Field(description="'<plan id>:<leg id>' for a plan's own leg.")
    plan_id: str
    election_id: str
    leg_id: str
    origin: Site
    destination: Site
    destination_region: str = Field(description="Region code of the destination.")
    lines: list[ShipmentLine]
    transport_mode: TransportMode
    planned_dispatch_at: datetime
    eta: datetime
    deadline_at: datetime = Field(description="When this leg must arrive for the next one to leave in time.")
    legal_deadline_at: datetime = Field(description="H-1: when every TPS must have its logistics.")
    status: Status
    status_at: datetime | None
    dispatched_at: datetime | None
    arrived_at: datetime | None
    delivered_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    checkpoints: list[CheckpointView] = Field(description="The latest checkpoints passed.")
    checkpoints_total: int = Field(description="Checkpoints passed, including those no longer listed.")
    reroutes: list[RerouteView]
    delay_severity: DelaySeverity | None = Field(description="The delay raised, if one is open.")
    delayed_at: datetime | None
    pod: list[PodLine] = Field(description="Proof of delivery per line (empty until delivered).")
    handover: HandoverRecord | None = Field(description="The signed handover (berita acara), once delivered.")


class DelayedShipmentView(ShipmentView):
    slack_seconds: float = Field(
        description="Time left between the expected arrival and H-1 (negative: it will miss H-1)."
    )


class PlannedLegView(_View):
    leg_id: str
    shipment_id: str = Field(description="The shipment that carries this leg.")
    origin: Site
    destination: Site
    mode: TransportMode
    duration_h: float | None = Field(description="Planned travel time in hours.")
    lines: list[ShipmentLine]
    deadline_at: datetime
    planned_dispatch_at: datetime
    planned_arrival_at: datetime
    tps_served: int | None = Field(None, description="TPS supplied through this leg (in a new plan).")
    status: Status | None = Field(None, description="The shipment's status (in a stored plan).")


class KecamatanSummary(_View):
    region: str = Field(description="Kecamatan code.")
    tps_total: int
    chunks: int = Field(description="Stored documents holding its legs (up to 16 TPS each).")


class PlanView(_View):
    """A kab/kota's distribution plan, with its legs (all of a small plan's, or one kecamatan's)."""

    plan_id: str
    election_id: str
    region: str = Field(description="The kab/kota code.")
    voting_day: date
    contests: list[str]
    legal_deadline_at: datetime = Field(description="H-1.")
    distribution_starts_at: datetime
    warehouse: Site
    tps_total: int
    legs_total: int = Field(description="Legs in the whole plan.")
    legs: list[PlannedLegView]
    curve: list[CurvePoint] | None = Field(
        None, description="TPS planned to be fully supplied over time (a stored plan)."
    )
    kecamatan: list[KecamatanSummary] | None = Field(None, description="Its kecamatan (a stored plan).")
    legs_listed: str | None = Field(
        None, description="'all', the kecamatan whose legs are listed, or 'none: ask per kecamatan'."
    )
    created_at: datetime | None = None
    revision: int | None = Field(None, description="Raised by every import that changed the plan.")


class RegionReadiness(_View):
    region: str = Field(description="Region code ('nasional' for the nation).")
    name: str | None = Field(description="Region name.")
    tps_total: int
    tps_ready: int = Field(description="TPS with every planned item accepted.")
    readiness: float = Field(description="tps_ready / tps_total.")
    planned: float = Field(description="The share the plan's curve expects by now.")
    behind_plan: bool


class TpsReadiness(_View):
    tps_id: str
    region: str = Field(description="Desa code.")
    ready: bool
    ready_at: datetime | None
    planned_at: datetime | None


class ReadinessView(RegionReadiness):
    election_id: str
    as_of: datetime
    plan_id: str | None = Field(None, description="The kab/kota's plan (a kab/kota or kecamatan).")
    subdivisions: list[RegionReadiness] = Field(description="Provinces, kab/kota or kecamatan within it.")
    tps: list[TpsReadiness] | None = Field(None, description="Every TPS (a kecamatan).")


class ImportedPlan(_View):
    plan_id: str
    region: str = Field(description="The kab/kota code.")
    created: bool
    unchanged: bool
    rows: int
    accepted: int


class RejectedRowView(_View):
    line: int = Field(description="Line in the file.")
    column: str
    reason: str
    value: str | None


class ImportReportView(_View):
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    plans_created: int
    plans_revised: int
    plans_unchanged: int
    tps_added: int
    legs_planned: int
    legs_replanned: int
    legs_cancelled: int
    documents_written: int
    seconds: float
    rows_per_s: float
    plans: list[ImportedPlan]
    rejected: list[RejectedRowView] = Field(description="The first rejected rows (all are counted).")
    rejected_listed: int
