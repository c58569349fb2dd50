"""Step 1 of building a plan (see ``planning``): admitting rows, each checked on its own and against the rows
before it, with the allocation of each TPS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from siaga_schemas import region_info
from siaga_schemas.events.logistics import ItemType, ShipmentLine, TransportMode
from siaga_schemas.localtime import aware_in, region_zone
from siaga_schemas.regions import RegionLevel

from .catalogue import line_key, tps_requirement
from .plan_types import RowProblem, TpsRow

__all__ = ["AdmittedRows", "admit_rows"]


def _requirement(row: TpsRow) -> tuple[tuple[ShipmentLine, ...], RowProblem | None]:
    """The TPS's allocation: the rows' own quantities, never below what its DPT needs."""
    minimum = tps_requirement(row.dpt, row.contests)
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


@dataclass(slots=True)
class AdmittedRows:
    """The rows admitted so far (by their index), the allocation of each, the problems of the others, and the
    distribution start."""

    rows: dict[int, TpsRow] = field(default_factory=dict)
    required: dict[int, tuple[ShipmentLine, ...]] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    start: datetime | None = None


def admit_rows(kab: str, rows: list[TpsRow], default_start: datetime | None) -> AdmittedRows:
    out = AdmittedRows(start=aware_in(default_start, region_zone(kab)) if default_start is not None else None)
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
