"""Distribution plans: from one row per TPS to the legs of a kab/kota, with deadlines and a schedule.

Routes: kab/kota warehouse → PPK (kecamatan) → PPS (desa) → TPS, or warehouse → TPS directly.
A plan is built in four named steps, each a pure function:

1. ``admit_rows``: every row is checked on its own (region within the kab/kota, quantities at least what
   the DPT needs) and against the rows before it (a TPS listed twice, a desa or kecamatan whose leg
   settings disagree, a second distribution start). A row that fails is reported by its index and column
   and left out; the others go on.
2. ``schedule``: forwards from the distribution start with each leg's duration and the handling time at
   the PPK and PPS. A TPS that would get its logistics after H-1 (UU 7/2017 art. 241(6)) is reported.
3. ``leg_deadlines``: backwards from H-1: the leg into a PPS must arrive in time for its slowest TPS leg
   plus handling at the PPS, and likewise for the PPK.
4. ``assemble``: kecamatan units (the PPK leg) and desa chunks (the PPS leg and up to 16 TPS legs, see
   ``layout``), with the plan curve: TPS planned to be supplied, cumulative, by the hour.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from siaga_schemas import region_info
from siaga_schemas.events.logistics import CurvePoint, ItemType, ShipmentLine, Site, SiteKind, TransportMode
from siaga_schemas.localtime import aware_in, end_of_day_before, region_zone
from siaga_schemas.regions import RegionLevel

from .catalogue import line_key, sum_lines, tps_requirement
from .layout import CHUNK_TPS, chunk_of, tps_leg_id

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
    "build_kab_plan",
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


def _hours(mode: TransportMode, override: float | None) -> float:
    return override if override is not None else TYPICAL_HOURS[mode]


def _requirement(row: TpsRow) -> tuple[tuple[ShipmentLine, ...], RowProblem | None]:
    """The TPS's allocation: the rows' own quantities, never below what its DPT needs."""
    minimum = tps_requirement(row.dpt, list(row.contests))
    if row.items is None:
        return tuple(minimum), None
    given = {line_key(ln.item, ln.variant): ln for ln in row.items}
    out: list[ShipmentLine] = []
    for need in minimum:
        key = line_key(need.item, need.variant)
        have = given.pop(key, None)
        if have is None:
            out.append(need)
            continue
        if have.quantity < need.quantity:
            what = "DPT + 2% cadangan" if need.item is ItemType.BALLOT else "kebutuhan minimum TPS"
            return (), RowProblem(
                -1,
                _item_column(need),
                f"jumlah {have.quantity} di bawah {what} ({need.quantity} untuk DPT {row.dpt})",
            )
        out.append(have)
    if given:
        extra = next(iter(given.values()))
        return (), RowProblem(
            -1,
            _item_column(extra),
            f"barang {line_key(extra.item, extra.variant)} tidak untuk pemilihan {', '.join(row.contests)}",
        )
    return tuple(out), None


def _item_column(line: ShipmentLine) -> str:
    return f"items.{line_key(line.item, line.variant)}"


# -- step 1 -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Admitted:
    rows: dict[int, TpsRow] = field(default_factory=dict)
    required: dict[int, tuple[ShipmentLine, ...]] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    start: datetime | None = None


def admit_rows(kab: str, rows: list[TpsRow], default_start: datetime | None) -> _Admitted:
    out = _Admitted(start=aware_in(default_start, region_zone(kab)) if default_start is not None else None)
    seen: set[tuple[str, int]] = set()
    desa_legs: dict[str, tuple[TransportMode, float | None]] = {}
    kec_legs: dict[str, tuple[TransportMode, float | None]] = {}
    row_start: datetime | None = None
    for i, row in enumerate(rows):
        problem = _check_row(kab, row, seen, desa_legs, kec_legs)
        if problem is None and row.distribution_start is not None:
            start = aware_in(row.distribution_start, region_zone(kab))
            if row_start is not None and start != row_start:
                problem = RowProblem(
                    i,
                    "distribution_start",
                    f"{start.isoformat()} berbeda dengan baris lain kab/kota ini ({row_start.isoformat()})",
                )
            else:
                row_start = start
        required: tuple[ShipmentLine, ...] = ()
        if problem is None:
            required, problem = _requirement(row)
        if problem is not None:
            out.problems.append(RowProblem(i, problem.column, problem.message))
            continue
        seen.add((row.desa, row.number))
        if not row.direct:
            desa_legs.setdefault(row.desa, (row.pps_mode, row.pps_hours))
            kec_legs.setdefault(row.kecamatan, (row.ppk_mode, row.ppk_hours))
        out.rows[i] = row
        out.required[i] = required
    out.start = row_start or out.start
    return out


def _check_row(
    kab: str,
    row: TpsRow,
    seen: set[tuple[str, int]],
    desa_legs: dict[str, tuple[TransportMode, float | None]],
    kec_legs: dict[str, tuple[TransportMode, float | None]],
) -> RowProblem | None:
    info = region_info(row.desa)
    if info is None or info.level != RegionLevel.DESA:
        return RowProblem(-1, "desa", f"{row.desa} bukan kode desa/kelurahan Kemendagri")
    if row.kab_kota != kab:
        return RowProblem(-1, "desa", f"{row.desa} tidak di kab/kota {kab}")
    if (row.desa, row.number) in seen:
        return RowProblem(-1, "number", f"TPS {row.number:03d} desa {row.desa} sudah ada di baris sebelumnya")
    if not row.direct:
        leg = desa_legs.get(row.desa)
        if leg is not None and leg != (row.pps_mode, row.pps_hours):
            return RowProblem(-1, "pps_mode", f"moda/jam PPS desa {row.desa} berbeda dengan baris sebelumnya")
        leg = kec_legs.get(row.kecamatan)
        if leg is not None and leg != (row.ppk_mode, row.ppk_hours):
            return RowProblem(
                -1, "ppk_mode", f"moda/jam PPK kecamatan {row.kecamatan} berbeda dengan baris sebelumnya"
            )
    return None


# -- step 2 -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Times:
    ppk_arrival: dict[str, datetime]
    pps_arrival: dict[str, datetime]
    tps_dispatch: dict[int, datetime]
    tps_arrival: dict[int, datetime]


def schedule(adm: _Admitted, deadline: datetime) -> _Times:
    """Forward planned times; a TPS that would arrive after H-1 is moved to the problems."""
    assert adm.start is not None
    start = adm.start
    ppk: dict[str, datetime] = {}
    pps: dict[str, datetime] = {}
    dispatch: dict[int, datetime] = {}
    arrival: dict[int, datetime] = {}
    for i, row in list(adm.rows.items()):
        hours = timedelta(hours=_hours(row.mode, row.hours))
        if row.direct:
            leaves = start
        else:
            at_ppk = ppk.setdefault(
                row.kecamatan, start + timedelta(hours=_hours(row.ppk_mode, row.ppk_hours))
            )
            at_pps = pps.setdefault(
                row.desa,
                at_ppk + timedelta(hours=HANDLING_HOURS[SiteKind.PPK] + _hours(row.pps_mode, row.pps_hours)),
            )
            leaves = at_pps + timedelta(hours=HANDLING_HOURS[SiteKind.PPS])
        earliest = leaves + hours
        planned = earliest
        column = "distribution_start"
        if row.planned_arrival is not None:
            wanted = aware_in(row.planned_arrival, region_zone(row.desa))
            if wanted < earliest:
                adm.problems.append(
                    RowProblem(
                        i,
                        "planned_arrival",
                        f"{wanted.isoformat()} lebih awal dari tiba "
                        f"tercepat menurut rute ({earliest.isoformat()})",
                    )
                )
                del adm.rows[i]
                continue
            planned, column = wanted, "planned_arrival"
        if planned > deadline:
            adm.problems.append(
                RowProblem(
                    i,
                    column,
                    f"tiba di TPS {planned.isoformat()}, setelah batas H-1 "
                    f"{deadline.isoformat()}; mulai distribusi lebih awal",
                )
            )
            del adm.rows[i]
            continue
        dispatch[i] = planned - hours
        arrival[i] = planned
    return _Times(ppk, pps, dispatch, arrival)


# -- step 3 -----------------------------------------------------------------------------------------------


def leg_deadlines(adm: _Admitted, deadline: datetime) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(PPS deadline by desa, PPK deadline by kecamatan), backwards from H-1 over the admitted rows."""
    pps: dict[str, datetime] = {}
    for row in adm.rows.values():
        if not row.direct:
            need = deadline - timedelta(hours=_hours(row.mode, row.hours) + HANDLING_HOURS[SiteKind.PPS])
            pps[row.desa] = min(pps.get(row.desa, need), need)
    ppk: dict[str, datetime] = {}
    for row in adm.rows.values():
        if not row.direct:
            need = pps[row.desa] - timedelta(
                hours=_hours(row.pps_mode, row.pps_hours) + HANDLING_HOURS[SiteKind.PPK]
            )
            ppk[row.kecamatan] = min(ppk.get(row.kecamatan, need), need)
    return pps, ppk


# -- step 4 -----------------------------------------------------------------------------------------------


def _site(kind: SiteKind, region: str, site_id: str, label: str) -> Site:
    info = region_info(region)
    return Site(
        kind=kind, region=region, site_id=site_id, name=f"{label} {info.name if info else region}"[:200]
    )


def assemble(
    plan_id: str,
    election_id: str,
    kab: str,
    voting_day: date,
    warehouse_name: str | None,
    adm: _Admitted,
    times: _Times,
    deadline: datetime,
) -> KabPlan:
    pps_deadline, ppk_deadline = leg_deadlines(adm, deadline)
    assert adm.start is not None
    info = region_info(kab)
    warehouse = Site(
        kind=SiteKind.WAREHOUSE,
        region=kab,
        site_id=f"gudang-{kab}",
        name=(warehouse_name or f"Gudang KPU {info.name if info else kab}")[:200],
    )
    by_kec: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, row in adm.rows.items():
        by_kec[row.kecamatan][row.desa].append(i)
    units: list[KecPlan] = []
    for kec in sorted(by_kec):
        desas = by_kec[kec]
        via = [i for d in desas.values() for i in d if not adm.rows[i].direct]
        ppk_site = _site(SiteKind.PPK, kec, f"ppk-{kec}", "PPK")
        ppk_leg: PlannedLeg | None = None
        if via:
            first = adm.rows[via[0]]
            hours = _hours(first.ppk_mode, first.ppk_hours)
            ppk_leg = PlannedLeg(
                leg_id=f"ppk-{kec}",
                kind=SiteKind.PPK,
                origin=warehouse,
                destination=ppk_site,
                mode=first.ppk_mode,
                hours=hours,
                lines=tuple(sum_lines([list(adm.required[i]) for i in via])),
                deadline_at=ppk_deadline[kec],
                planned_dispatch_at=adm.start,
                planned_arrival_at=times.ppk_arrival[kec],
                tps_served=len(via),
            )
        unit = KecPlan(kec, ppk_leg)
        for desa in sorted(desas):
            unit.chunks.extend(
                _chunks(desa, desas[desa], adm, times, warehouse, ppk_site, pps_deadline, deadline)
            )
        units.append(unit)
    contests = sorted({c for r in adm.rows.values() for c in r.contests})
    return KabPlan(
        plan_id=plan_id,
        election_id=election_id,
        region=kab,
        voting_day=voting_day,
        contests=tuple(contests),
        legal_deadline_at=deadline,
        distribution_starts_at=adm.start,
        warehouse=warehouse,
        kecamatan=units,
    )


def _chunks(
    desa: str,
    indices: list[int],
    adm: _Admitted,
    times: _Times,
    warehouse: Site,
    ppk_site: Site,
    pps_deadline: dict[str, datetime],
    deadline: datetime,
) -> list[ChunkPlan]:
    rows = sorted(indices, key=lambda i: adm.rows[i].number)
    via = [i for i in rows if not adm.rows[i].direct]
    pps_site = _site(SiteKind.PPS, desa, f"pps-{desa}", "PPS")
    pps_leg: PlannedLeg | None = None
    if via:
        first = adm.rows[via[0]]
        hours = _hours(first.pps_mode, first.pps_hours)
        arrival = times.pps_arrival[desa]
        pps_leg = PlannedLeg(
            leg_id=f"pps-{desa}",
            kind=SiteKind.PPS,
            origin=ppk_site,
            destination=pps_site,
            mode=first.pps_mode,
            hours=hours,
            lines=tuple(sum_lines([list(adm.required[i]) for i in via])),
            deadline_at=pps_deadline[desa],
            planned_dispatch_at=arrival - timedelta(hours=hours),
            planned_arrival_at=arrival,
            tps_served=len(via),
        )
    chunks: dict[int, ChunkPlan] = {}
    for i in rows:
        row = adm.rows[i]
        k = chunk_of(row.number)
        chunk = chunks.setdefault(k, ChunkPlan(desa, k, pps_leg if k == 0 else None))
        tps_site = _site(SiteKind.TPS, desa, row.tps_id, f"TPS {row.number:03d}")
        chunk.tps_legs.append(
            PlannedLeg(
                leg_id=row.tps_id,
                kind=SiteKind.TPS,
                origin=warehouse if row.direct else pps_site,
                destination=tps_site,
                mode=row.mode,
                hours=_hours(row.mode, row.hours),
                lines=adm.required[i],
                deadline_at=deadline,
                planned_dispatch_at=times.tps_dispatch[i],
                planned_arrival_at=times.tps_arrival[i],
                tps_served=1,
            )
        )
        chunk.tps.append(
            TpsPlan(row.number, desa, row.dpt, row.direct, adm.required[i], times.tps_arrival[i])
        )
    if pps_leg is not None and 0 not in chunks:
        chunks[0] = ChunkPlan(
            desa, 0, pps_leg
        )  # the desa's first TPS are all direct: the PPS leg still has a home
    assert all(len(c.tps) <= CHUNK_TPS for c in chunks.values())
    return [chunks[k] for k in sorted(chunks)]


def build_kab_plan(
    *,
    plan_id: str,
    election_id: str,
    kab: str,
    voting_day: date,
    rows: list[TpsRow],
    distribution_start: datetime | None = None,
    warehouse_name: str | None = None,
) -> tuple[KabPlan | None, list[RowProblem]]:
    """The plan of one kab/kota from its rows, and the rows left out (none admitted: no plan)."""
    deadline = end_of_day_before(voting_day, kab)  # H-1 (UU 7/2017 art. 241(6)): by the end of the day before
    adm = admit_rows(kab, rows, distribution_start)
    if adm.rows and adm.start is None:
        for i in adm.rows:
            adm.problems.append(
                RowProblem(i, "distribution_start", "tidak ada waktu mulai distribusi untuk kab/kota ini")
            )
        adm.rows.clear()
    times = schedule(adm, deadline) if adm.rows else _Times({}, {}, {}, {})
    problems = sorted(adm.problems, key=lambda p: p.index)
    if not adm.rows:
        return None, problems
    return assemble(plan_id, election_id, kab, voting_day, warehouse_name, adm, times, deadline), problems


def curve(planned: list[datetime], *, step: timedelta = timedelta(hours=1)) -> list[CurvePoint]:
    """Cumulative TPS planned to be supplied, one point per ``step`` (planned times rounded up to it), so
    that a curve has at most one point an hour however many TPS it counts."""
    counts: dict[datetime, int] = defaultdict(int)
    for at in planned:
        ts = at.timestamp()
        s = step.total_seconds()
        rounded = datetime.fromtimestamp(-(-ts // s) * s, tz=at.tzinfo)
        counts[rounded] += 1
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
