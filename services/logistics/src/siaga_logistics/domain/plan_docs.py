"""The plan's own documents: its header, and its rows as imported (what a corrected import is compared to).

- ``<plan id>`` (the header): election, kab/kota, voting day, deadline, warehouse, totals, the plan curve,
  and per kecamatan its TPS total, curve and chunk documents. Bounded by the official region list: a
  kab/kota has at most 51 kecamatan, and a curve has at most one point an hour.
- ``rows:<plan id>``: every row of the plan in a compact form, with a hash per leg document, so that an
  import of a corrected file is compared without reading the legs, and only the documents whose rows
  changed are written. Its size follows the kab/kota's TPS (the largest, 8,329 TPS, is about 0.4 MB); it
  is read and written by imports only, never by an event.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from siaga_schemas.events.logistics import CurvePoint, ShipmentLine, TransportMode
from siaga_schemas.localtime import aware_in, region_zone

from .layout import chunk_doc_id, kec_doc_id
from .plan_types import ChunkPlan, KabPlan, KecPlan, PlannedLeg, TpsRow
from .planning import curve

__all__ = [
    "header_state",
    "leg_hashes",
    "plan_fields",
    "row_from_compact",
    "row_key",
    "row_to_compact",
    "rows_state",
]

_ROW_FIELDS = (
    "desa",
    "number",
    "dpt",
    "contests",
    "direct",
    "mode",
    "hours",
    "pps_mode",
    "pps_hours",
    "ppk_mode",
    "ppk_hours",
    "distribution_start",
    "planned_arrival",
    "items",
)


def row_key(row: TpsRow) -> str:
    return f"{row.desa}-{row.number:03d}"


def row_to_compact(row: TpsRow) -> list[Any]:
    """A row as a short list (its fields in ``_ROW_FIELDS`` order), so 8,329 rows stay one small value."""
    out: list[Any] = []
    for name in _ROW_FIELDS:
        value = getattr(row, name)
        if name == "items":
            value = (
                None if value is None else [[ln.item.value, ln.variant, ln.quantity, ln.unit] for ln in value]
            )
        elif name == "contests":
            value = list(value)
        elif isinstance(value, TransportMode):
            value = value.value
        elif isinstance(value, datetime):
            value = aware_in(
                value, region_zone(row.desa)
            )  # a naive time is the desa's local time: stored as an instant
        out.append(value)
    return out


def row_from_compact(values: list[Any]) -> TpsRow:
    data = dict(zip(_ROW_FIELDS, values, strict=True))
    if data["items"] is not None:
        data["items"] = tuple(
            ShipmentLine(item=i, variant=v, quantity=q, unit=u) for i, v, q, u in data["items"]
        )
    data["contests"] = tuple(data["contests"])
    return TpsRow.model_validate(data)


def _digest(value: Any) -> str:
    return hashlib.blake2b(
        json.dumps(value, sort_keys=True, default=str).encode(), digest_size=12
    ).hexdigest()


def _leg_sig(leg: PlannedLeg | None) -> Any:
    if leg is None:
        return None
    return [
        leg.leg_id,
        leg.origin.site_id,
        leg.mode.value,
        leg.hours,
        [[ln.item.value, ln.variant, ln.quantity] for ln in leg.lines],
        leg.deadline_at.isoformat(),
        leg.planned_dispatch_at.isoformat(),
        leg.planned_arrival_at.isoformat(),
    ]


def _chunk_sig(chunk: ChunkPlan) -> Any:
    return [
        _leg_sig(chunk.pps_leg),
        [_leg_sig(lg) for lg in chunk.tps_legs],
        [
            [t.number, t.dpt, t.direct, [[ln.item.value, ln.variant, ln.quantity] for ln in t.required]]
            for t in chunk.tps
        ],
    ]


def leg_hashes(plan: KabPlan) -> dict[str, str]:
    """A hash of what the plan puts in each of its leg documents (kecamatan and chunk documents)."""
    out: dict[str, str] = {}
    for kec in plan.kecamatan:
        out[kec_doc_id(plan.plan_id, kec.kecamatan)] = _digest(_leg_sig(kec.ppk_leg))
        for c in kec.chunks:
            out[chunk_doc_id(plan.plan_id, c.desa, c.k)] = _digest(_chunk_sig(c))
    return out


def _curve_json(points: list[CurvePoint]) -> list[dict[str, Any]]:
    return [{"at": p.at, "tps": p.tps} for p in points]


def _kec_summary(plan: KabPlan, kec: KecPlan) -> dict[str, Any]:
    return {
        "tps_total": kec.tps_total,
        "curve": _curve_json(curve([t.planned_at for c in kec.chunks for t in c.tps])),
        "chunks": [chunk_doc_id(plan.plan_id, c.desa, c.k) for c in kec.chunks],
    }


def plan_fields(plan: KabPlan) -> dict[str, Any]:
    """What a plan's header and its view share: the plan's own fields."""
    return {
        "plan_id": plan.plan_id,
        "election_id": plan.election_id,
        "region": plan.region,
        "voting_day": plan.voting_day.isoformat(),
        "contests": list(plan.contests),
        "legal_deadline_at": plan.legal_deadline_at,
        "distribution_starts_at": plan.distribution_starts_at,
        "warehouse": plan.warehouse.model_dump(mode="python"),
        "tps_total": plan.tps_total,
    }


def header_state(plan: KabPlan, *, created_at: datetime, revision: int) -> dict[str, Any]:
    return {
        **plan_fields(plan),
        "legs": plan.legs,
        "curve": _curve_json(curve([t.planned_at for t in plan.all_tps()])),
        "kecamatan": {k.kecamatan: _kec_summary(plan, k) for k in plan.kecamatan},
        "created_at": created_at,
        "revision": revision,
    }


def rows_state(
    plan_id: str,
    election_id: str,
    kab: str,
    voting_day: date,
    rows: dict[str, TpsRow],
    hashes: dict[str, str],
    warehouse_name: str | None,
) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "election_id": election_id,
        "region": kab,
        "voting_day": voting_day.isoformat(),
        "warehouse_name": warehouse_name,
        "rows": [row_to_compact(rows[k]) for k in sorted(rows)],
        "hashes": hashes,
    }
