"""Distribution plans: destinations down to TPS, quantities from voter counts, leg deadlines and schedule.

Routes: kab/kota warehouse → PPK (kecamatan) → PPS (desa) → TPS, or warehouse → TPS directly.
- Deadlines run backwards from the legal H-1 deadline: a TPS leg must arrive by H-1; the leg into a PPS
  must arrive in time for the slowest of its TPS legs plus handling at the PPS; likewise for the PPK.
- The planned schedule runs forwards from the plan's distribution start with typical leg durations and
  handling; a plan whose schedule misses a deadline is rejected, naming the leg.
- The plan curve: for each TPS, the planned arrival of its final leg; cumulative per region.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator
from siaga_schemas import RegionCode, is_within, region_info
from siaga_schemas.common import Identifier
from siaga_schemas.events.logistics import CurvePoint, ShipmentLine, Site, SiteKind, TransportMode
from siaga_schemas.regions import RegionLevel

from .catalogue import sum_lines, tps_requirement
from .errors import DomainError
from .timezones import legal_deadline, local

__all__ = [
    "HANDLING_HOURS",
    "TYPICAL_HOURS",
    "Leg",
    "Plan",
    "PlanSpec",
    "PpkSpec",
    "PpsSpec",
    "TpsRow",
    "TpsSpec",
    "build_plan",
    "curve",
    "planned_share",
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
    tps_id: Identifier = Field(description="TPS id.", examples=["tps-65.01.05.1001-001"])
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
    distribution_starts_at: datetime = Field(
        description="When the first legs leave the warehouse (no offset: the kab/kota's local time)."
    )
    warehouse_name: str | None = Field(None, max_length=200, description="Warehouse name.")
    ppk: list[PpkSpec] = Field(default_factory=list, max_length=100, description="PPK destinations.")
    pps: list[PpsSpec] = Field(default_factory=list, max_length=1000, description="PPS destinations.")
    tps: list[TpsSpec] = Field(min_length=1, max_length=5000, description="TPS destinations.")

    @model_validator(mode="after")
    def _unique_contests(self) -> PlanSpec:
        if len(set(self.contests)) != len(self.contests):
            raise ValueError("contests: duplicate contest")
        return self


class Leg(BaseModel):
    model_config = ConfigDict(frozen=True)

    leg_id: str
    origin: Site
    destination: Site
    mode: TransportMode
    duration_h: float
    lines: list[ShipmentLine]
    deadline_at: datetime
    planned_dispatch_at: datetime
    planned_arrival_at: datetime
    tps_ids: list[str] = Field(default_factory=list, description="TPS served through this leg.")


class TpsRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    tps_id: str
    region: str
    dpt: int
    direct: bool
    planned_at: datetime
    required: list[ShipmentLine]


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    plan_id: str
    election_id: str
    region: str
    voting_day: date
    contests: list[str]
    legal_deadline_at: datetime
    warehouse: Site
    legs: list[Leg]
    tps: list[TpsRow]

    def leg(self, leg_id: str) -> Leg | None:
        return next((lg for lg in self.legs if lg.leg_id == leg_id), None)


def _check_region(code: str, plan_region: str, level: RegionLevel, field: str) -> None:
    info = region_info(code)
    if info is None or info.level != level:
        raise DomainError(field, f"{code} is not a {level.name.lower().replace('_', '/')} code")
    if not is_within(code, plan_region):
        raise DomainError(field, f"{code} is not within the plan's region {plan_region}")


def build_plan(spec: PlanSpec) -> Plan:
    """Validate a plan and compute its legs, quantities, deadlines and schedule."""
    info = region_info(spec.region)
    if info is None or info.level != RegionLevel.KAB_KOTA:
        raise DomainError("region", f"{spec.region} is not a kab/kota code")
    ppk = {}
    for i, p in enumerate(spec.ppk):
        _check_region(p.region, spec.region, RegionLevel.KECAMATAN, f"ppk.{i}.region")
        if p.region in ppk:
            raise DomainError(f"ppk.{i}.region", f"PPK {p.region} is listed twice")
        ppk[p.region] = p
    pps = {}
    for i, s in enumerate(spec.pps):
        _check_region(s.region, spec.region, RegionLevel.DESA, f"pps.{i}.region")
        if s.region in pps:
            raise DomainError(f"pps.{i}.region", f"PPS {s.region} is listed twice")
        kec = s.region.rsplit(".", 1)[0]
        if kec not in ppk:
            raise DomainError(f"pps.{i}.region", f"no PPK listed for its kecamatan {kec}")
        pps[s.region] = s
    seen: set[str] = set()
    for i, t in enumerate(spec.tps):
        _check_region(t.region, spec.region, RegionLevel.DESA, f"tps.{i}.region")
        if t.tps_id in seen:
            raise DomainError(f"tps.{i}.tps_id", f"TPS {t.tps_id} is listed twice")
        seen.add(t.tps_id)
        if not t.direct and t.region not in pps:
            raise DomainError(f"tps.{i}.region", f"no PPS listed for desa {t.region} (or set direct)")

    deadline = legal_deadline(spec.voting_day, spec.region)
    start = local(spec.distribution_starts_at, spec.region)
    warehouse = Site(
        kind=SiteKind.WAREHOUSE,
        region=spec.region,
        site_id=f"gudang-{spec.region}",
        name=spec.warehouse_name or f"Gudang KPU {info.name}",
    )

    def hours(mode: TransportMode, override: float | None) -> float:
        return override if override is not None else TYPICAL_HOURS[mode]

    def site(kind: SiteKind, region: str, site_id: str) -> Site:
        ri = region_info(region)
        return Site(
            kind=kind, region=region, site_id=site_id, name=f"{kind.value.upper()} {ri.name if ri else ''}"
        )

    requirements = {t.tps_id: tps_requirement(t.dpt, spec.contests) for t in spec.tps}
    ppk_sites = {k: site(SiteKind.PPK, k, f"ppk-{k}") for k in ppk}
    pps_sites = {d: site(SiteKind.PPS, d, f"pps-{d}") for d in pps}

    # backwards: deadlines
    tps_deadline = deadline
    pps_deadline: dict[str, datetime] = {}
    for t in spec.tps:
        if not t.direct:
            need = tps_deadline - timedelta(hours=hours(t.mode, t.duration_h) + HANDLING_HOURS[SiteKind.PPS])
            pps_deadline[t.region] = min(pps_deadline.get(t.region, need), need)
    ppk_deadline: dict[str, datetime] = {}
    for d, dl in pps_deadline.items():
        s = pps[d]
        kec = d.rsplit(".", 1)[0]
        need = dl - timedelta(hours=hours(s.mode, s.duration_h) + HANDLING_HOURS[SiteKind.PPK])
        ppk_deadline[kec] = min(ppk_deadline.get(kec, need), need)

    # forwards: schedule
    legs: list[Leg] = []
    tps_by_pps: dict[str, list[TpsSpec]] = defaultdict(list)
    for t in spec.tps:
        if not t.direct:
            tps_by_pps[t.region].append(t)
    pps_by_ppk: dict[str, list[str]] = defaultdict(list)
    for d in tps_by_pps:
        pps_by_ppk[d.rsplit(".", 1)[0]].append(d)

    def add(
        leg_id: str,
        origin: Site,
        dest: Site,
        mode: TransportMode,
        dur: float,
        lines: list[ShipmentLine],
        dl: datetime,
        dispatch: datetime,
        tps_ids: list[str],
        field: str,
    ) -> Leg:
        arrival = dispatch + timedelta(hours=dur)
        if arrival > dl:
            raise DomainError(
                field,
                f"leg {leg_id} ({mode.value}, {dur:g} h) would arrive {arrival.isoformat()}, after its deadline "
                f"{dl.isoformat()} derived from H-1; start distribution earlier",
            )
        leg = Leg(
            leg_id=leg_id,
            origin=origin,
            destination=dest,
            mode=mode,
            duration_h=dur,
            lines=lines,
            deadline_at=dl,
            planned_dispatch_at=dispatch,
            planned_arrival_at=arrival,
            tps_ids=tps_ids,
        )
        legs.append(leg)
        return leg

    planned_at: dict[str, datetime] = {}
    ppk_index = {p.region: i for i, p in enumerate(spec.ppk)}
    pps_index = {p.region: i for i, p in enumerate(spec.pps)}
    tps_index = {t.tps_id: i for i, t in enumerate(spec.tps)}
    for kec, desas in pps_by_ppk.items():
        p = ppk[kec]
        tps_here = [t for d in desas for t in tps_by_pps[d]]
        ppk_leg = add(
            f"ppk-{kec}",
            warehouse,
            ppk_sites[kec],
            p.mode,
            hours(p.mode, p.duration_h),
            sum_lines([requirements[t.tps_id] for t in tps_here]),
            ppk_deadline[kec],
            start,
            [t.tps_id for t in tps_here],
            f"ppk.{ppk_index[kec]}",
        )
        for d in desas:
            s = pps[d]
            pps_leg = add(
                f"pps-{d}",
                ppk_sites[kec],
                pps_sites[d],
                s.mode,
                hours(s.mode, s.duration_h),
                sum_lines([requirements[t.tps_id] for t in tps_by_pps[d]]),
                pps_deadline[d],
                ppk_leg.planned_arrival_at + timedelta(hours=HANDLING_HOURS[SiteKind.PPK]),
                [t.tps_id for t in tps_by_pps[d]],
                f"pps.{pps_index[d]}",
            )
            for t in tps_by_pps[d]:
                leg = add(
                    f"tps-{t.tps_id}",
                    pps_sites[d],
                    site(SiteKind.TPS, t.region, t.tps_id),
                    t.mode,
                    hours(t.mode, t.duration_h),
                    requirements[t.tps_id],
                    tps_deadline,
                    pps_leg.planned_arrival_at + timedelta(hours=HANDLING_HOURS[SiteKind.PPS]),
                    [t.tps_id],
                    f"tps.{tps_index[t.tps_id]}",
                )
                planned_at[t.tps_id] = leg.planned_arrival_at
    for t in spec.tps:
        if t.direct:
            leg = add(
                f"tps-{t.tps_id}",
                warehouse,
                site(SiteKind.TPS, t.region, t.tps_id),
                t.mode,
                hours(t.mode, t.duration_h),
                requirements[t.tps_id],
                tps_deadline,
                start,
                [t.tps_id],
                f"tps.{tps_index[t.tps_id]}",
            )
            planned_at[t.tps_id] = leg.planned_arrival_at
    tps_rows = [
        TpsRow(
            tps_id=t.tps_id,
            region=t.region,
            dpt=t.dpt,
            direct=t.direct,
            planned_at=planned_at[t.tps_id],
            required=requirements[t.tps_id],
        )
        for t in spec.tps
    ]
    return Plan(
        plan_id=spec.plan_id,
        election_id=spec.election_id,
        region=spec.region,
        voting_day=spec.voting_day,
        contests=list(spec.contests),
        legal_deadline_at=deadline,
        warehouse=warehouse,
        legs=legs,
        tps=tps_rows,
    )


def curve(planned: list[datetime]) -> list[CurvePoint]:
    """Cumulative TPS planned to be supplied, one point per distinct planned time."""
    counts: dict[datetime, int] = defaultdict(int)
    for at in planned:
        counts[at] += 1
    out: list[CurvePoint] = []
    total = 0
    for at in sorted(counts):
        total += counts[at]
        out.append(CurvePoint(at=at, tps=total))
    return out


def planned_share(points: list[CurvePoint], total: int, now: datetime) -> float:
    """Share of ``total`` TPS the plan expects to be supplied at ``now``."""
    if total <= 0:
        return 0.0
    done = max((p.tps for p in points if p.at <= now), default=0)
    return min(done / total, 1.0)
