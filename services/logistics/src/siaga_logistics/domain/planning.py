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

Steps 1 to 3 live in ``plan_rows`` and ``plan_times``, the data they work on in ``plan_types``; this module
assembles the plan and draws its curve.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from siaga_schemas import region_info
from siaga_schemas.events.logistics import CurvePoint, Site, SiteKind
from siaga_schemas.localtime import end_of_day_before

from .catalogue import sum_lines
from .layout import CHUNK_TPS, chunk_of
from .plan_rows import AdmittedRows, admit_rows
from .plan_times import PlannedTimes, leg_deadlines, schedule
from .plan_types import ChunkPlan, KabPlan, KecPlan, PlannedLeg, RowProblem, TpsPlan, TpsRow, leg_hours

__all__ = ["build_kab_plan", "curve", "planned_share"]


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
    adm: AdmittedRows,
    times: PlannedTimes,
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
            hours = leg_hours(first.ppk_mode, first.ppk_hours)
            ppk_leg = PlannedLeg(
                leg_id=f"ppk-{kec}",
                kind=SiteKind.PPK,
                origin=warehouse,
                destination=ppk_site,
                mode=first.ppk_mode,
                hours=hours,
                lines=tuple(sum_lines(adm.required[i] for i in via)),
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
    adm: AdmittedRows,
    times: PlannedTimes,
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
        hours = leg_hours(first.pps_mode, first.pps_hours)
        arrival = times.pps_arrival[desa]
        pps_leg = PlannedLeg(
            leg_id=f"pps-{desa}",
            kind=SiteKind.PPS,
            origin=ppk_site,
            destination=pps_site,
            mode=first.pps_mode,
            hours=hours,
            lines=tuple(sum_lines(adm.required[i] for i in via)),
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
                hours=leg_hours(row.mode, row.hours),
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
    times = schedule(adm, deadline) if adm.rows else PlannedTimes({}, {}, {}, {})
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
