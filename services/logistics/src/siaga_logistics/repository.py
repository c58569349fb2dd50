"""Read queries for the API, every one by ``_id`` except the delayed list (its own small collection)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siaga_runtime import AggregateStore, DueIndex
from siaga_schemas import is_within, region_info
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events.logistics import CurvePoint
from siaga_schemas.regions import RegionLevel, children

from .domain.layout import leg_ref
from .domain.legs import shipment_in
from .domain.readiness import kab_rollup_id, national_rollup_id, province_rollup_id, reading, sum_rows
from .domain.shipment import OPEN, Shipment
from .domain.stored import tps_row as stored_row

__all__ = ["Stores", "delayed_shipments", "readiness", "shipment_view"]


@dataclass(frozen=True)
class Stores:
    plans: AggregateStore  # plan headers and the rows each plan was imported from
    shipments: AggregateStore  # the documents holding shipments (see domain.layout)
    readiness: AggregateStore  # rollups per kab/kota, province and election
    pods: AggregateStore  # proofs of delivery, one per delivered shipment
    delayed: AggregateStore  # one per shipment with a delay raised (open or cleared)
    timers: DueIndex  # delay timers of the documents holding open shipments (see handlers.sweeps)


_SEVERITY_ORDER = {"will_miss_h1": 0, "critical": 1, "warning": 2}


def _view(s: Shipment, pod: dict[str, Any] | None) -> dict[str, Any]:
    out = s.model_dump(mode="json", exclude={"pod", "handover"})
    out["destination_region"] = s.destination_region
    out["pod"] = pod["pod"] if pod else []
    out["handover"] = pod["handover"] if pod else None
    for key in ("pod", "handover"):
        out[key] = _json(out[key])
    return out


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


async def shipment_view(stores: Stores, shipment: Shipment) -> dict[str, Any]:
    pod = await stores.pods.get(shipment.shipment_id) if shipment.delivered_at is not None else None
    return _view(shipment, pod)


async def delayed_shipments(stores: Stores, within: str | None) -> list[dict[str, Any]]:
    """Open shipments with a delay raised, destined for ``within`` (or anywhere), most severe first, with
    their slack to H-1, leg and transport mode."""
    found = [
        d
        async for d in stores.delayed.scan(
            lambda d: bool(d.get("open")) and (within is None or is_within(d["region"], within))
        )
    ]
    docs = await stores.shipments.load_many(leg_ref(d["shipment_id"]).doc_id for d in found)
    out: list[dict[str, Any]] = []
    for d in found:
        try:
            s = shipment_in(docs.get(leg_ref(d["shipment_id"]).doc_id), d["shipment_id"])
        except DomainError:
            continue
        if s.status not in OPEN or s.delay_severity is None or s.arrived_at is not None:
            continue  # delivered or cancelled since: the list's projection has not heard yet
        view = _view(s, None)
        view["slack_seconds"] = d["slack_seconds"]
        out.append(view)
    return sorted(
        out, key=lambda v: (_SEVERITY_ORDER.get(str(v["delay_severity"]), 3), v["eta"], v["shipment_id"])
    )


def _points(raw: list[dict[str, Any]]) -> list[CurvePoint]:
    return [CurvePoint.model_validate(p) for p in raw]


def _planned(points: list[CurvePoint], now: datetime) -> int:
    return max((p.tps for p in points if p.at <= now), default=0)


async def _kab_parts(
    stores: Stores, election_id: str, kabs: list[str]
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    rollups = await stores.readiness.load_many(kab_rollup_id(election_id, k) for k in kabs)
    headers = await stores.plans.current(r["plan_id"] for r in rollups.values())
    out = []
    for kab in kabs:
        r = rollups.get(kab_rollup_id(election_id, kab))
        h = headers.get(r["plan_id"]) if r else None
        if r is not None and h is not None:
            out.append((kab, r, h))
    return out


def _aggregate(
    region: str, parts: list[tuple[str, dict[str, Any], dict[str, Any]]], now: datetime
) -> dict[str, Any]:
    ready = total = planned = 0
    for _, r, h in parts:
        rd, tt = sum_rows(r)
        ready, total, planned = ready + rd, total + tt, planned + _planned(_points(h["curve"]), now)
    out = reading(region, ready, total, [], now)
    out["planned"] = round(min(planned / total, 1.0), 4) if total else 0.0
    out["behind_plan"] = out["readiness"] < out["planned"]
    return out


async def readiness(stores: Stores, election_id: str, region: str | None, now: datetime) -> dict[str, Any]:
    """Readiness of the nation (``region`` None), a province, kab/kota or kecamatan, with its subdivisions
    (a kecamatan: with its TPS)."""
    info = region_info(region) if region else None
    if region is not None and (info is None or info.level == RegionLevel.DESA):
        raise DomainError("region", f"{region}: readiness is kept for provinces, kab/kota and kecamatan")
    head = {"election_id": election_id, "as_of": now.isoformat()}
    if region is None or (info is not None and info.level == RegionLevel.PROVINCE):
        top = national_rollup_id(election_id) if region is None else province_rollup_id(election_id, region)
        doc = await stores.readiness.get(top)
        if doc is None:
            raise DomainError(
                "region",
                f"no plan of election {election_id} covers {region or 'the nation'}",
                ErrorKind.NOT_FOUND,
            )
        if region is None:
            subs = []
            for prov in sorted(doc["rows"]):
                subs.append(
                    _aggregate(prov, await _kab_parts(stores, election_id, list(children(prov))), now)
                )
            own = reading("nasional", *sum_rows(doc), [], now)
            planned = sum(s["planned"] * s["tps_total"] for s in subs)
            own["planned"] = round(planned / own["tps_total"], 4) if own["tps_total"] else 0.0
            own["behind_plan"] = own["readiness"] < own["planned"]
            own["name"] = "Indonesia"
            return {**head, **own, "subdivisions": subs}
        parts = await _kab_parts(stores, election_id, sorted(doc["rows"]))
        subs = [reading(k, *sum_rows(r), _points(h["curve"]), now) for k, r, h in parts]
        return {**head, **_aggregate(region, parts, now), "subdivisions": subs}
    kab = ".".join(region.split(".")[:2])
    parts = await _kab_parts(stores, election_id, [kab])
    if not parts:
        raise DomainError("region", f"no plan of election {election_id} covers {region}", ErrorKind.NOT_FOUND)
    _, rollup, header = parts[0]
    if info is not None and info.level == RegionLevel.KAB_KOTA:
        own = reading(kab, *sum_rows(rollup), _points(header["curve"]), now)
        subs = [
            reading(k, *sum_rows(rollup, within=k), _points(s["curve"]), now)
            for k, s in sorted(header["kecamatan"].items())
        ]
        return {**head, **own, "plan_id": header["plan_id"], "subdivisions": subs}
    summary = header["kecamatan"].get(region)
    if summary is None:
        raise DomainError("region", f"plan of {kab} has no TPS in {region}", ErrorKind.NOT_FOUND)
    own = reading(region, *sum_rows(rollup, within=region), _points(summary["curve"]), now)
    chunks = await stores.shipments.load_many(summary["chunks"])
    tps = [
        {
            "tps_id": t["tps_id"],
            "region": t["region"],
            "ready": t["ready"],
            "ready_at": _json(t["ready_at"]),
            "planned_at": _json(t["planned_at"]),
        }
        for c in summary["chunks"]
        if c in chunks
        for t in map(stored_row, chunks[c]["tps"].values())
    ]
    return {**head, **own, "plan_id": header["plan_id"], "subdivisions": [], "tps": tps}
