"""A plan sent as JSON (``POST /plans``): the same rows a file import reads, for a small plan in one request."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator
from siaga_schemas import RegionCode
from siaga_schemas.common import Identifier, LocalTimestamp
from siaga_schemas.errors import DomainError
from siaga_schemas.events.logistics import TransportMode

from .layout import DocKind, parse_leg
from .plan_types import TpsRow

__all__ = ["PlanSpec", "PpkSpec", "PpsSpec", "TpsSpec", "rows_of", "spec_field"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PpkSpec(_Spec):
    region: RegionCode = Field(description="Kecamatan of the PPK.", examples=["65.01.05"])
    mode: TransportMode = Field(TransportMode.LAND, description="Mode of the warehouse → PPK leg.")
    duration_h: float | None = Field(None, gt=0, le=720, description="Leg duration (default: typical).")


class PpsSpec(_Spec):
    region: RegionCode = Field(description="Desa/kelurahan of the PPS.", examples=["65.01.05.1001"])
    mode: TransportMode = Field(TransportMode.LAND, description="Mode of the PPK → PPS leg.")
    duration_h: float | None = Field(None, gt=0, le=720, description="Leg duration (default: typical).")


class TpsSpec(_Spec):
    tps_id: Identifier = Field(
        description="TPS id: 'tps-<desa code>-<number>', the TPS's number within its desa/kelurahan.",
        examples=["tps-65.01.05.1001-001"],
    )
    region: RegionCode = Field(description="Desa/kelurahan of the TPS.", examples=["65.01.05.1001"])
    dpt: int = Field(ge=1, le=1000, description="Registered voters (DPT) of the TPS.", examples=[540])
    mode: TransportMode = Field(TransportMode.LAND, description="Mode of the final leg into the TPS.")
    duration_h: float | None = Field(None, gt=0, le=720, description="Leg duration (default: typical).")
    direct: bool = Field(False, description="Supplied straight from the kab/kota warehouse.")


class PlanSpec(_Spec):
    plan_id: Identifier = Field(description="Plan id.", examples=["plan-pilkada2024-65.01"])
    election_id: Identifier = Field(description="Election.", examples=["pilkada2024"])
    region: RegionCode = Field(description="Kab/kota whose warehouse supplies the plan.", examples=["65.01"])
    voting_day: date = Field(description="Voting day (local date).", examples=["2024-11-27"])
    contests: list[str] = Field(
        min_length=1,
        max_length=5,
        description="Contests on the ballot; one ballot kind per contest.",
        examples=[["gubernur", "bupati"]],
    )
    distribution_starts_at: LocalTimestamp = Field(
        description="When the first legs leave the warehouse (no offset: the kab/kota's local time).",
        examples=["2024-11-18T08:00:00"],
    )
    warehouse_name: str | None = Field(
        None, max_length=200, description="Warehouse name.", examples=["Gudang Logistik KPU Bulungan"]
    )
    ppk: list[PpkSpec] = Field(
        default_factory=list,
        max_length=100,
        description="PPK destinations.",
        examples=[[{"region": "65.01.05", "mode": "river", "duration_h": 6}]],
    )
    pps: list[PpsSpec] = Field(
        default_factory=list,
        max_length=1000,
        description="PPS destinations: every TPS that is not direct goes through the PPS of its desa.",
        examples=[[{"region": "65.01.05.1001", "mode": "land"}]],
    )
    tps: list[TpsSpec] = Field(
        min_length=1, max_length=5000, description="TPS destinations (larger plans: import a file)."
    )

    @model_validator(mode="after")
    def _unique_contests(self) -> PlanSpec:
        if len(set(self.contests)) != len(self.contests):
            raise ValueError("contests: duplicate contest")
        return self


# TpsRow fields → the field of the spec's TPS entry that sets them
_FIELDS = {
    "desa": "region",
    "number": "tps_id",
    "dpt": "dpt",
    "mode": "mode",
    "hours": "duration_h",
    "direct": "direct",
}


def spec_field(index: int, row_field: str) -> str:
    """The spec's field path for a problem the planner found on row ``index`` (a TpsRow field)."""
    if row_field in ("pps_mode", "pps_hours"):
        return f"tps.{index}.region"
    if row_field in ("ppk_mode", "ppk_hours"):
        return f"tps.{index}.region"
    if row_field == "distribution_start":
        return "distribution_starts_at"
    return f"tps.{index}.{_FIELDS.get(row_field, 'tps_id')}"


def rows_of(spec: PlanSpec) -> list[TpsRow]:
    """The spec as rows; a TPS routed through a PPS or PPK the spec does not list is a DomainError."""
    ppk = {p.region: p for p in spec.ppk}
    pps = {p.region: p for p in spec.pps}
    for i, p in enumerate(spec.pps):
        if p.region.rsplit(".", 1)[0] not in ppk:
            raise DomainError(
                f"pps.{i}.region", f"no PPK listed for its kecamatan {p.region.rsplit('.', 1)[0]}"
            )
    rows: list[TpsRow] = []
    for i, t in enumerate(spec.tps):
        parsed = parse_leg(t.tps_id)
        if parsed is None or parsed[0] is not DocKind.CHUNK or parsed[2] is None:
            raise DomainError(f"tps.{i}.tps_id", f"{t.tps_id} is not 'tps-<desa code>-<three-digit number>'")
        if parsed[1] != t.region:
            raise DomainError(f"tps.{i}.region", f"{t.region} is not the desa of {t.tps_id}")
        via = pps.get(t.region)
        if not t.direct and via is None:
            raise DomainError(f"tps.{i}.region", f"no PPS listed for desa {t.region} (or set direct)")
        kec = ppk.get(t.region.rsplit(".", 1)[0])
        rows.append(
            TpsRow(
                desa=t.region,
                number=parsed[2],
                dpt=t.dpt,
                contests=tuple(spec.contests),
                direct=t.direct,
                mode=t.mode,
                hours=t.duration_h,
                pps_mode=via.mode if via else TransportMode.LAND,
                pps_hours=via.duration_h if via else None,
                ppk_mode=kec.mode if kec else TransportMode.LAND,
                ppk_hours=kec.duration_h if kec else None,
                distribution_start=spec.distribution_starts_at,
            )
        )
    return rows
