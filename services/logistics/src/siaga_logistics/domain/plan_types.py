"""The data of a distribution plan: the typed rows it is built from, the problems of rows left out, and the
plan itself (kab/kota → kecamatan units → desa chunks → legs and TPS), with the typical leg durations and
handling times it is scheduled with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from siaga_schemas.events.logistics import ShipmentLine, Site, SiteKind, TransportMode

from .layout import tps_leg_id

__all__ = [
    "HANDLING_HOURS",
    "TYPICAL_HOURS",
    "ChunkPlan",
    "KabPlan",
    "KecPlan",
    "PlannedLeg",
    "RowProblem",
    "TpsPlan",
    "TpsRow",
    "leg_hours",
]

TYPICAL_HOURS: dict[TransportMode, float] = {
    TransportMode.LAND: 8.0,
    TransportMode.RIVER: 16.0,
    TransportMode.SEA: 24.0,
    TransportMode.AIR: 4.0,
    TransportMode.ON_FOOT: 12.0,
}
# Unloading, counting and repacking at an intermediate site before the next leg leaves.
HANDLING_HOURS: dict[SiteKind, float] = {SiteKind.PPK: 24.0, SiteKind.PPS: 12.0}


class TpsRow(BaseModel):
    """One TPS of a plan as read from a file or the API: already typed, not yet checked against others."""

    model_config = ConfigDict(frozen=True)

    desa: str = Field(description="Desa/kelurahan of the TPS (a valid code of level 4).")
    number: int = Field(ge=1, le=999, description="TPS number within its desa/kelurahan.")
    dpt: int = Field(ge=1, le=1000, description="Registered voters (DPT).")
    contests: tuple[str, ...] = Field(min_length=1, max_length=5)
    direct: bool = False
    mode: TransportMode = TransportMode.LAND
    hours: float | None = Field(None, gt=0, le=720)
    pps_mode: TransportMode = TransportMode.LAND
    pps_hours: float | None = Field(None, gt=0, le=720)
    ppk_mode: TransportMode = TransportMode.LAND
    ppk_hours: float | None = Field(None, gt=0, le=720)
    distribution_start: datetime | None = None
    planned_arrival: datetime | None = None
    items: tuple[ShipmentLine, ...] | None = None

    @property
    def kecamatan(self) -> str:
        return self.desa.rsplit(".", 1)[0]

    @property
    def kab_kota(self) -> str:
        return ".".join(self.desa.split(".")[:2])

    @property
    def tps_id(self) -> str:
        return tps_leg_id(self.desa, self.number)


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why the row at ``index`` (of the rows handed to ``build_kab_plan``) was left out; ``column`` is the
    ``TpsRow`` field (``items.<item>/<variant>`` for a quantity), which the file reader names as its column."""

    index: int
    column: str
    message: str


@dataclass(frozen=True, slots=True)
class PlannedLeg:
    leg_id: str
    kind: SiteKind  # the destination's kind
    origin: Site
    destination: Site
    mode: TransportMode
    hours: float
    lines: tuple[ShipmentLine, ...]
    deadline_at: datetime
    planned_dispatch_at: datetime
    planned_arrival_at: datetime
    tps_served: int


@dataclass(frozen=True, slots=True)
class TpsPlan:
    number: int
    desa: str
    dpt: int
    direct: bool
    required: tuple[ShipmentLine, ...]
    planned_at: datetime

    @property
    def tps_id(self) -> str:
        return tps_leg_id(self.desa, self.number)


@dataclass(slots=True)
class ChunkPlan:
    desa: str
    k: int
    pps_leg: PlannedLeg | None
    tps_legs: list[PlannedLeg] = field(default_factory=list)
    tps: list[TpsPlan] = field(default_factory=list)


@dataclass(slots=True)
class KecPlan:
    kecamatan: str
    ppk_leg: PlannedLeg | None
    chunks: list[ChunkPlan] = field(default_factory=list)

    @property
    def tps_total(self) -> int:
        return sum(len(c.tps) for c in self.chunks)


@dataclass(slots=True)
class KabPlan:
    plan_id: str
    election_id: str
    region: str
    voting_day: date
    contests: tuple[str, ...]
    legal_deadline_at: datetime
    distribution_starts_at: datetime
    warehouse: Site
    kecamatan: list[KecPlan]

    @property
    def tps_total(self) -> int:
        return sum(k.tps_total for k in self.kecamatan)

    @property
    def legs(self) -> int:
        return sum(
            (k.ppk_leg is not None) + sum((c.pps_leg is not None) + len(c.tps_legs) for c in k.chunks)
            for k in self.kecamatan
        )

    def all_tps(self) -> list[TpsPlan]:
        return [t for k in self.kecamatan for c in k.chunks for t in c.tps]


def leg_hours(mode: TransportMode, override: float | None) -> float:
    return override if override is not None else TYPICAL_HOURS[mode]
