"""The benchmark's workload: a stream of shipment status reports and the reducer both persisting paths use.

The stream imitates another agency's logistics system: each shipment is dispatched, passes a few
checkpoints and is delivered; scans of many shipments interleave in time, some scans arrive late (older than
a scan already seen) and about 2% of the records are exact re-sends of an earlier record (same bytes, same
key), as an at-least-once producer would emit after a retry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from siaga_runtime import Decision, Doc
from siaga_runtime.records import as_utc
from siaga_schemas import Envelope, new_event_id
from siaga_schemas.events.logistics import (
    HandoverRecord,
    ItemType,
    PodLine,
    ShipmentDelivered,
    ShipmentStatusReported,
)
from siaga_schemas.regions import children

__all__ = ["Stream", "decide", "make_stream", "route"]

WITA = timezone(timedelta(hours=8))
PLACES = (
    "Gudang KPU Kabupaten",
    "Dermaga Tanjung Selor",
    "Bandara Tanjung Harapan",
    "Kantor PPK",
    "Sekretariat PPS",
    None,
)
SOURCE_SYSTEMS = ("silog-kpu", "silog-bulog", "pos-logistik")


@dataclass(frozen=True)
class Stream:
    records: list[tuple[bytes, bytes]]  # (key, value) in production order, duplicates included
    distinct: int  # distinct envelope ids
    duplicates: int  # exact re-sends
    shipments: int
    delivered_shipments: int  # shipments with a delivered scan: one outbox event each
    mean_bytes: float


def _villages(limit: int = 400) -> list[str]:
    out: list[str] = []
    for regency in children("65"):
        for district in children(regency):
            out.extend(children(district))
            if len(out) >= limit:
                return out[:limit]
    return out or ["65.01"]


def make_stream(events: int, *, seed: int = 7, dup_rate: float = 0.02, per_shipment: int = 5) -> Stream:
    """``events`` records in total, of which ``round(events * dup_rate)`` are exact re-sends."""
    rng = random.Random(seed)
    n_dup = round(events * dup_rate) if events >= 50 else 0
    n_distinct = events - n_dup
    villages = _villages()
    base = datetime(2024, 11, 20, 6, 0, tzinfo=WITA)
    timed: list[tuple[float, str, bytes]] = []
    shipments = 0
    delivered = 0
    while len(timed) < n_distinct:
        shipments += 1
        village = rng.choice(villages)
        regency = ".".join(village.split(".")[:2])
        sid = f"shp-{regency}-{shipments:06d}"
        remaining = n_distinct - len(timed)
        k = min(remaining, rng.randint(max(2, per_shipment - 2), per_shipment + 2))
        statuses = ["dispatched", *(["checkpoint"] * (k - 2)), "delivered"][:k] if k >= 2 else ["dispatched"]
        at = base + timedelta(minutes=rng.uniform(0, 24 * 60))
        source_system = rng.choice(SOURCE_SYSTEMS)
        for status in statuses:
            at += timedelta(minutes=rng.uniform(15, 120))
            place = rng.choice(PLACES)
            payload = ShipmentStatusReported(
                shipment_id=sid,
                status=status,
                observed_at=at,
                place=place,
                region=village if status == "delivered" or rng.random() < 0.5 else regency,
                lot_id=f"LOT-{regency}-{shipments:06d}" if rng.random() < 0.7 else None,
                source_system=source_system,
            )
            env = Envelope.wrap(payload, source=f"/agency/{source_system}", time=at, event_id=new_event_id())
            # arrival order: mostly by scan time; 3% of scans arrive hours late (offline handhelds)
            arrival = at.timestamp() + (rng.uniform(3600, 6 * 3600) if rng.random() < 0.03 else 0.0)
            timed.append((arrival, sid, env.to_bytes()))
        if statuses[-1] == "delivered":
            delivered += 1
    timed.sort(key=lambda t: t[0])
    records = [(sid.encode(), value) for _, sid, value in timed]
    for _ in range(n_dup):
        i = rng.randrange(len(records))
        j = min(len(records), i + rng.randint(1, 3000))
        records.insert(j, records[i])
    return Stream(
        records=records,
        distinct=n_distinct,
        duplicates=n_dup,
        shipments=shipments,
        delivered_shipments=delivered,
        mean_bytes=sum(len(v) for _, v in records) / max(1, len(records)),
    )


def route(event: Envelope[Any]) -> str | None:
    data = event.data
    return data.shipment_id if isinstance(data, ShipmentStatusReported) else None


def decide(doc: Doc | None, event: Envelope[Any]) -> Decision:
    """Latest status per shipment; older scans are recorded as seen but change nothing; one event on delivery."""
    data: ShipmentStatusReported = event.data
    if (
        doc is not None
        and doc.get("observed_at") is not None
        and as_utc(doc["observed_at"]) >= data.observed_at
    ):
        return Decision(state=None)
    was_delivered = doc is not None and doc.get("status") == "delivered"
    region = data.region or (doc or {}).get("region")
    state: Doc = {
        "shipment_id": data.shipment_id,
        "status": data.status,
        "observed_at": data.observed_at.astimezone(UTC),
        "place": data.place,
        "region": region,
        "lot_id": data.lot_id or (doc or {}).get("lot_id"),
        "source_system": data.source_system,
        "scans": int((doc or {}).get("scans", 0)) + 1,
    }
    emit = []
    if data.status == "delivered" and not was_delivered and region:
        state["delivered_at"] = data.observed_at.astimezone(UTC)
        emit.append(
            ShipmentDelivered(
                shipment_id=data.shipment_id,
                destination_region=region,
                delivered_at=data.observed_at,
                lines=[PodLine(item=ItemType.TPS_KIT, shipped=1, accepted=1, rejected=0)],
                handover=HandoverRecord(
                    number=f"BA-{data.shipment_id}",
                    handed_over_by=data.source_system,
                    received_by=data.place or "PPS",
                    at=data.observed_at,
                ),
            )
        )
    return Decision(state=state, emit=emit)
