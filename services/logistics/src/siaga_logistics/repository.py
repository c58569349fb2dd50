"""Read queries for the API. Rollups are ``_id`` lookups; the delayed list is a typed-filter scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from siaga_schemas import is_within, region_info
from siaga_schemas.regions import RegionLevel

from .domain.errors import DomainError, ErrorKind
from .domain.readiness import readiness_id, reading, region_rows
from .domain.shipment import OPEN, Shipment
from .handlers.common import Stores

__all__ = ["delayed_shipments", "readiness"]


async def delayed_shipments(stores: Stores, within: str | None) -> list[Shipment]:
    """Open shipments with a delay raised, destined for ``within`` (or anywhere), most severe first."""
    flt = {"status": {"$in": sorted(s.value for s in OPEN)}, "delay_severity": {"$ne": None}}
    found = [Shipment.from_doc(d) async for d in stores.shipments.collection.find(flt)]
    found = [
        s
        for s in found
        if s.delay_severity is not None and (within is None or is_within(s.destination_region, within))
    ]
    order = {"will_miss_h1": 0, "critical": 1, "warning": 2}
    return sorted(found, key=lambda s: (order[str(s.delay_severity)], s.eta, s.shipment_id))


async def readiness(stores: Stores, election_id: str, region: str, now: datetime) -> dict[str, Any]:
    """Readiness of a province, kab/kota or kecamatan, with its subdivisions."""
    info = region_info(region)
    if info is None or info.level == RegionLevel.DESA:
        raise DomainError("region", f"{region}: readiness is kept for provinces, kab/kota and kecamatan")
    parts = region.split(".")
    doc_region = region if info.level != RegionLevel.KECAMATAN else ".".join(parts[:2])
    doc = await stores.readiness.get(readiness_id(election_id, doc_region))
    if doc is None:
        raise DomainError("region", f"no plan of election {election_id} covers {region}", ErrorKind.NOT_FOUND)
    rows = region_rows(doc)
    own: dict[str, Any] | None
    if info.level == RegionLevel.PROVINCE:
        own, subs = rows[0], doc["kab_kota"]
    elif info.level == RegionLevel.KAB_KOTA:
        own, subs = rows[0], rows[1:]
    else:
        own = next((r for r in rows if r["region"] == region), None)
        if own is None:
            raise DomainError("region", f"plan of {doc_region} has no TPS in {region}", ErrorKind.NOT_FOUND)
        subs = []
    out = {"election_id": election_id, "as_of": now.isoformat(), **reading(own, now)}
    out["subdivisions"] = [reading(r, now) for r in subs]
    if info.level == RegionLevel.KECAMATAN:
        out["tps"] = [
            {
                "tps_id": t["tps_id"],
                "region": t["region"],
                "ready": t["ready"],
                "ready_at": t["ready_at"],
                "planned_at": t["planned_at"],
            }
            for t in doc["tps"]
            if t["kecamatan"] == region
        ]
    return out
