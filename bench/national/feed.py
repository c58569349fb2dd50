"""The distribution as another agency's system would report it: every leg dispatched, checkpointed and
delivered with proof of delivery, as ShipmentStatusReported records.

The legs come from the national plan file through the same planner KPU's system uses
(``siaga_logistics.domain.planning``), so every shipment id, line and quantity is the one the service
holds. The scans come in the order distribution happens: the warehouse→PPK legs first (dispatched,
passing a checkpoint, delivered), then the PPK→PPS legs, then the legs to the TPS. Within each wave,
``routes`` desa (or kecamatan) are on their way at once, and their scans interleave one by one, as the
scans of many vehicles reach SILOG together: a desa's ten TPS legs are spread over ``routes`` times ten
records, not consecutive.

The records are written to a file before the measured phase (the envelopes are built with ``json.dumps``,
not pydantic: the generator must not compete for the CPU it measures), then produced from it.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import uuid_utils
from siaga_logistics.domain.layout import shipment_id
from siaga_logistics.domain.plan_types import KabPlan, TpsRow
from siaga_logistics.domain.planning import build_kab_plan
from siaga_logistics.importing import ParsedRow, read_plan_file

__all__ = ["Feed", "Leg", "legs_of_file", "read_feed", "write_feed"]

LEVELS = ("ppk", "pps", "tps")
KINDS = ("dispatched", "checkpoint", "delivered")
HEADERS = [("content-type", b"application/cloudevents+json")]
_LEN = struct.Struct("<II")


@dataclass(frozen=True, slots=True)
class Leg:
    shipment_id: str
    level: str
    route: str  # the kecamatan (PPK legs) or desa (PPS and TPS legs) it travels with
    region: str  # its destination
    lines: tuple[tuple[str, str | None, int], ...]


@dataclass(slots=True)
class Feed:
    path: Path
    records: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    shipments: int = 0
    short: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    delayed: list[str] = field(default_factory=list)  # ETA moved by the API to pass before delivery
    # short legs that really arrive short (a first line of one piece cannot be shipped one short)
    short_effective: int = 0
    on_time: list[str] = field(default_factory=list)


def _legs(plan: KabPlan) -> Iterator[Leg]:
    def lines(leg: object) -> tuple[tuple[str, str | None, int], ...]:
        return tuple((ln.item.value, ln.variant, ln.quantity) for ln in leg.lines)  # type: ignore[attr-defined]

    for kec in plan.kecamatan:
        if kec.ppk_leg is not None:
            yield Leg(
                shipment_id(plan.plan_id, kec.ppk_leg.leg_id),
                "ppk",
                kec.kecamatan,
                kec.kecamatan,
                lines(kec.ppk_leg),
            )
        for chunk in kec.chunks:
            if chunk.pps_leg is not None:
                yield Leg(
                    shipment_id(plan.plan_id, chunk.pps_leg.leg_id),
                    "pps",
                    chunk.desa,
                    chunk.desa,
                    lines(chunk.pps_leg),
                )
            for leg in chunk.tps_legs:
                yield Leg(shipment_id(plan.plan_id, leg.leg_id), "tps", chunk.desa, chunk.desa, lines(leg))


def legs_of_file(path: Path, election_id: str, voting_day: date) -> Iterator[Leg]:
    """Every leg of the plans in a plan file (its rows grouped by kab/kota, as the generator writes them)."""
    kab: str | None = None
    rows: list[TpsRow] = []

    def flush() -> Iterator[Leg]:
        if kab is None or not rows:
            return
        plan, problems = build_kab_plan(
            plan_id=f"plan-{election_id}-{kab}",
            election_id=election_id,
            kab=kab,
            voting_day=voting_day,
            rows=rows,
        )
        if problems or plan is None:
            raise ValueError(f"{kab}: the plan file has rows the planner rejects: {problems[:3]}")
        yield from _legs(plan)

    with read_plan_file(path) as plan_file:
        for item in plan_file:
            if not isinstance(item, ParsedRow):
                raise ValueError(f"the plan file has a bad row: {item}")
            if item.row.kab_kota != kab:
                yield from flush()
                kab, rows = item.row.kab_kota, []
            rows.append(item.row)
    yield from flush()


def _envelope(sid: str, status: str, at: datetime, extra: dict[str, object]) -> bytes:
    data = {
        "shipment_id": sid,
        "status": status,
        "observed_at": at.isoformat(),
        "source_system": "silog-bench",
        **extra,
    }
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid_utils.uuid7()),
            "source": "/agency/silog-bench",
            "type": "siaga.logistics.shipment-status-reported",
            "time": at.isoformat(),
            "subject": sid,
            "datacontenttype": "application/json",
            "dataschema": "urn:siaga:jsonschema:siaga.logistics.shipment-status-reported:v1",
            "schemaversion": 1,
            "partitionkey": sid,
            "data": data,
        },
        separators=(",", ":"),
    ).encode()


def _pod(leg: Leg, short: bool, damaged: bool, at: datetime) -> dict[str, object]:
    lines = []
    for i, (item, variant, qty) in enumerate(leg.lines):
        shipped = qty - 1 if short and i == 0 and qty > 1 else qty
        rejected = 1 if damaged and i == 0 and shipped > 0 else 0
        line: dict[str, object] = {
            "item": item,
            "variant": variant,
            "shipped": shipped,
            "accepted": shipped - rejected,
            "rejected": rejected,
        }
        if rejected:
            line["rejection_reasons"] = {"damaged": rejected}
        lines.append(line)
    return {
        "region": leg.region if leg.level != "ppk" else None,
        "lines": lines,
        "handover": {
            "number": f"BA-{leg.shipment_id}"[:80],
            "handed_over_by": "Petugas pengiriman",
            "received_by": "Penerima",
            "at": at.isoformat(),
        },
    }


def _interleaved(legs: list[Leg], routes: int) -> Iterator[Leg]:
    """Legs of ``routes`` routes at a time, one leg of each in turn."""
    by_route: dict[str, list[Leg]] = {}
    for leg in legs:
        by_route.setdefault(leg.route, []).append(leg)
    queue = list(by_route.values())
    for start in range(0, len(queue), routes):
        window = [list(reversed(q)) for q in queue[start : start + routes]]
        while window:
            window = [q for q in window if q]
            for q in window:
                yield q.pop()


def write_feed(
    legs: Iterable[Leg],
    path: Path,
    *,
    routes: int = 1000,
    seed: int = 7,
    short_share: float = 0.02,
    damaged_share: float = 0.03,
    delay_share: float = 0.002,
    delayed_min: int = 100,
) -> Feed:
    """Write the whole distribution's scans to ``path``, 1 ms apart, the last one made now.

    The legs picked as delayed (``delay_share`` of the TPS legs, at least ``delayed_min``) are dispatched
    and checkpointed but never delivered: the benchmark moves their ETA to pass while it measures."""
    rng = random.Random(seed)
    by_level: dict[str, list[Leg]] = {lv: [] for lv in LEVELS}
    for leg in legs:
        by_level[leg.level].append(leg)
    out = Feed(path)
    tps = by_level["tps"]
    n_short, n_damaged = int(len(tps) * short_share), int(len(tps) * damaged_share)
    n_delayed = max(int(len(tps) * delay_share), min(delayed_min, len(tps) // 10))
    picked = rng.sample(range(len(tps)), k=min(len(tps), n_short + n_damaged + n_delayed))
    short = {tps[i].shipment_id for i in picked[:n_short]}
    damaged = {tps[i].shipment_id for i in picked[n_short : n_short + n_damaged]}
    out.delayed = [tps[i].shipment_id for i in picked[n_short + n_damaged :]]
    out.short, out.damaged = sorted(short), sorted(damaged)
    out.short_effective = sum(
        1 for leg in tps if leg.shipment_id in short and leg.lines and leg.lines[0][2] > 1
    )
    out.shipments = sum(len(v) for v in by_level.values())
    held = set(out.delayed)
    step = timedelta(milliseconds=1)
    # the scans were made before they are reported: the last one is now, none is in the future
    at = datetime.now(UTC) - step * (len(KINDS) * out.shipments - len(held))
    with path.open("wb") as f:
        for level in LEVELS:
            for kind in KINDS:
                for leg in _interleaved(by_level[level], routes):
                    if kind == "delivered" and leg.shipment_id in held:
                        continue
                    at += step
                    extra: dict[str, object] = {}
                    if kind == "checkpoint":
                        extra = {"place": f"Pos pemeriksaan {leg.route}", "region": leg.region}
                    elif kind == "delivered":
                        extra = _pod(leg, leg.shipment_id in short, leg.shipment_id in damaged, at)
                    key = leg.shipment_id.encode()
                    value = _envelope(leg.shipment_id, kind, at, extra)
                    f.write(_LEN.pack(len(key), len(value)))
                    f.write(key)
                    f.write(value)
                    out.records += 1
                    out.by_kind[f"{level}:{kind}"] = out.by_kind.get(f"{level}:{kind}", 0) + 1
    out.on_time = [leg.shipment_id for leg in tps if leg.shipment_id not in held][:50_000]
    return out


def read_feed(path: Path) -> Iterator[tuple[bytes, bytes]]:
    with path.open("rb") as f:
        while header := f.read(_LEN.size):
            klen, vlen = _LEN.unpack(header)
            yield f.read(klen), f.read(vlen)
