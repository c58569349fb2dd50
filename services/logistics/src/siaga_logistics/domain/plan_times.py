"""Steps 2 and 3 of building a plan (see ``planning``): the planned times forwards from the distribution
start, and the leg deadlines backwards from H-1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from siaga_schemas.events.logistics import SiteKind
from siaga_schemas.localtime import aware_in, region_zone

from .plan_rows import AdmittedRows
from .plan_types import HANDLING_HOURS, RowProblem, leg_hours

__all__ = ["PlannedTimes", "leg_deadlines", "schedule"]


# -- step 2 -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedTimes:
    """Planned arrivals at each PPK (by kecamatan) and PPS (by desa), and dispatch and arrival of each TPS leg
    (by row index)."""

    ppk_arrival: dict[str, datetime]
    pps_arrival: dict[str, datetime]
    tps_dispatch: dict[int, datetime]
    tps_arrival: dict[int, datetime]


def schedule(adm: AdmittedRows, deadline: datetime) -> PlannedTimes:
    """Forward planned times; a TPS that would arrive after H-1 is moved to the problems."""
    assert adm.start is not None
    start = adm.start
    ppk: dict[str, datetime] = {}
    pps: dict[str, datetime] = {}
    dispatch: dict[int, datetime] = {}
    arrival: dict[int, datetime] = {}
    for i, row in list(adm.rows.items()):
        hours = timedelta(hours=leg_hours(row.mode, row.hours))
        if row.direct:
            leaves = start
        else:
            at_ppk = ppk.setdefault(
                row.kecamatan, start + timedelta(hours=leg_hours(row.ppk_mode, row.ppk_hours))
            )
            at_pps = pps.setdefault(
                row.desa,
                at_ppk
                + timedelta(hours=HANDLING_HOURS[SiteKind.PPK] + leg_hours(row.pps_mode, row.pps_hours)),
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
    return PlannedTimes(ppk, pps, dispatch, arrival)


# -- step 3 -----------------------------------------------------------------------------------------------


def leg_deadlines(adm: AdmittedRows, deadline: datetime) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(PPS deadline by desa, PPK deadline by kecamatan), backwards from H-1 over the admitted rows."""
    pps: dict[str, datetime] = {}
    for row in adm.rows.values():
        if not row.direct:
            need = deadline - timedelta(hours=leg_hours(row.mode, row.hours) + HANDLING_HOURS[SiteKind.PPS])
            pps[row.desa] = min(pps.get(row.desa, need), need)
    ppk: dict[str, datetime] = {}
    for row in adm.rows.values():
        if not row.direct:
            need = pps[row.desa] - timedelta(
                hours=leg_hours(row.pps_mode, row.pps_hours) + HANDLING_HOURS[SiteKind.PPK]
            )
            ppk[row.kecamatan] = min(ppk.get(row.kecamatan, need), need)
    return pps, ppk
