"""Readiness rollups: the share of TPS fully supplied per kecamatan, kab/kota, province and the nation.

The chunk documents decide each TPS (see ``legs.supply_tps``) and count their own ready TPS. Above them,
one document per level holds one row per child, ``[version, ready, total]``:

- ``<election>:<kab/kota>``: a row per chunk of the kab/kota's plan (at most 852 desa, 63 chunks each in
  theory; in practice about one per desa), from which the kecamatan and kab/kota counts are summed;
- ``<election>:<province>``: a row per kab/kota (at most 38);
- ``<election>``: a row per province (38).

A row is replaced only by one with a higher version (the child document's own version), so applying the
same count twice, or an older count after a newer one, changes nothing: the rollups are exact whatever
the order and however often an event arrives, and a count can also go down (a corrected plan). No
document grows with the TPS, shipments or events of its region; each is bounded by the official list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from siaga_schemas import region_info
from siaga_schemas.events.logistics import CurvePoint, RegionAtRisk

from .planning import planned_share

__all__ = [
    "kab_rollup_id",
    "kab_rollup_state",
    "merge_row",
    "national_rollup_id",
    "province_rollup_id",
    "reading",
    "risk_event",
    "sum_rows",
]

Row = list[int]  # [version, ready, total]


def kab_rollup_id(election_id: str, kab: str) -> str:
    return f"{election_id}:{kab}"


def province_rollup_id(election_id: str, province: str) -> str:
    return f"{election_id}:{province}"


def national_rollup_id(election_id: str) -> str:
    return election_id


def kab_rollup_state(
    plan_id: str,
    election_id: str,
    kab: str,
    chunks: dict[str, tuple[int, int]],
    current: dict[str, Any] | None,
) -> dict[str, Any]:
    """The kab/kota rollup for a plan's chunks ``{chunk id: (ready, total)}``; rows already counted keep
    their count (a corrected plan changes totals, not what was delivered)."""
    rows: dict[str, Row] = dict((current or {}).get("rows", {}))
    for chunk_id, (ready, total) in chunks.items():
        old = rows.get(chunk_id)
        rows[chunk_id] = [old[0], old[1], total] if old else [0, ready, total]
    return {
        "level": "kab_kota",
        "plan_id": plan_id,
        "election_id": election_id,
        "region": kab,
        "rows": rows,
        "at_risk": (current or {}).get("at_risk", {}),
    }


def merge_row(doc: dict[str, Any], child: str, version: int, ready: int, total: int) -> dict[str, Any] | None:
    """The rollup with ``child``'s row at this version; None when it already holds this or a newer one."""
    rows: dict[str, Row] = doc.get("rows", {})
    old = rows.get(child)
    if old is not None and old[0] >= version:
        return None
    return {**doc, "rows": {**rows, child: [version, ready, total]}}


def sum_rows(doc: dict[str, Any] | None, within: str | None = None) -> tuple[int, int]:
    """(ready, total) over the rows, or over those of chunks within ``within`` (a kecamatan)."""
    ready = total = 0
    for child, (_, r, t) in (doc or {}).get("rows", {}).items():
        if within is not None and f":{within}." not in child:
            continue
        ready += r
        total += t
    return ready, total


def reading(region: str, ready: int, total: int, points: list[CurvePoint], now: datetime) -> dict[str, Any]:
    share = ready / total if total else 0.0
    planned = planned_share(points, total, now)
    info = region_info(region)
    return {
        "region": region,
        "name": info.name if info else None,
        "tps_total": total,
        "tps_ready": ready,
        "readiness": round(share, 4),
        "planned": round(planned, 4),
        "behind_plan": share < planned,
    }


def risk_event(r: dict[str, Any], now: datetime) -> RegionAtRisk | None:
    if not r["behind_plan"]:
        return None
    return RegionAtRisk(
        region=r["region"],
        as_of=now,
        tps_total=r["tps_total"],
        tps_ready=r["tps_ready"],
        readiness=r["readiness"],
        planned=r["planned"],
    )
