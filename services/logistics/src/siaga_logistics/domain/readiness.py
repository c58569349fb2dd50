"""Readiness rollups: the share of TPS fully supplied per kecamatan, kab/kota and province.

One document per (election, kab/kota) holds its TPS rows (requirement and accepted quantities) and the
counts per kecamatan; one document per (election, province) holds each kab/kota's counts. Rollups are
then ``_id`` lookups. Counts only grow (a supplied TPS stays supplied), so the province copies the highest
count it has seen, which makes it indifferent to duplicates and order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from siaga_schemas import region_info
from siaga_schemas.events.logistics import CurvePoint, RegionAtRisk, ShipmentDelivered, TpsSupplied

from .catalogue import line_key
from .planning import Plan, curve, planned_share

__all__ = [
    "apply_delivery",
    "apply_plan_to_province",
    "apply_supplied_to_province",
    "kab_doc",
    "readiness_id",
    "reading",
    "region_rows",
    "risk_event",
]


def readiness_id(election_id: str, region: str) -> str:
    return f"{election_id}:{region}"


def _curve_json(points: list[CurvePoint]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in points]


def kab_doc(plan: Plan) -> dict[str, Any]:
    """The kab/kota readiness document of a new plan: every TPS unsupplied."""
    rows: list[dict[str, Any]] = []
    by_kec: dict[str, list[datetime]] = {}
    for t in plan.tps:
        kec = t.region.rsplit(".", 1)[0]
        by_kec.setdefault(kec, []).append(t.planned_at)
        rows.append(
            {
                "tps_id": t.tps_id,
                "region": t.region,
                "kecamatan": kec,
                "planned_at": t.planned_at.isoformat(),
                "required": [
                    {"key": line_key(ln.item, ln.variant), "quantity": ln.quantity} for ln in t.required
                ],
                "accepted": [],
                "shipments": [],
                "ready": False,
                "ready_at": None,
            }
        )
    return {
        "level": "kab_kota",
        "election_id": plan.election_id,
        "plan_id": plan.plan_id,
        "region": plan.region,
        "tps_total": len(rows),
        "tps_ready": 0,
        "curve": _curve_json(curve([t.planned_at for t in plan.tps])),
        "kecamatan": [
            {"region": k, "tps_total": len(v), "tps_ready": 0, "curve": _curve_json(curve(v))}
            for k, v in sorted(by_kec.items())
        ],
        "tps": rows,
    }


def apply_delivery(
    doc: dict[str, Any], d: ShipmentDelivered
) -> tuple[dict[str, Any] | None, TpsSupplied | None]:
    """Add a delivery's accepted quantities to its TPS; returns the new state and the supplied event, if any."""
    if d.destination is None:
        return None, None
    rows: list[dict[str, Any]] = [dict(r) for r in doc["tps"]]
    idx = next((i for i, r in enumerate(rows) if r["tps_id"] == d.destination.site_id), None)
    if idx is None or d.shipment_id in rows[idx]["shipments"]:
        return None, None
    row = rows[idx]
    accepted = {a["key"]: a["quantity"] for a in row["accepted"]}
    for ln in d.lines:
        k = line_key(ln.item, ln.variant)
        accepted[k] = accepted.get(k, 0) + ln.accepted
    row["accepted"] = [{"key": k, "quantity": q} for k, q in accepted.items()]
    row["shipments"] = [*row["shipments"], d.shipment_id]
    state = {**doc, "tps": rows}
    supplied: TpsSupplied | None = None
    if not row["ready"] and all(accepted.get(r["key"], 0) >= r["quantity"] for r in row["required"]):
        row["ready"] = True
        row["ready_at"] = d.delivered_at.isoformat()
        state["tps_ready"] = doc["tps_ready"] + 1
        state["kecamatan"] = [
            {**k, "tps_ready": k["tps_ready"] + 1} if k["region"] == row["kecamatan"] else k
            for k in doc["kecamatan"]
        ]
        supplied = TpsSupplied(
            tps_id=row["tps_id"],
            region=row["region"],
            plan_id=doc["plan_id"],
            election_id=doc["election_id"],
            supplied_at=d.delivered_at,
            tps_ready_in_kab_kota=state["tps_ready"],
            planned_at=datetime.fromisoformat(row["planned_at"]),
        )
    return state, supplied


def _province_base(doc: dict[str, Any] | None, election_id: str, province: str) -> dict[str, Any]:
    if doc is not None:
        return {k: v for k, v in doc.items() if not k.startswith("_")}
    return {
        "level": "province",
        "election_id": election_id,
        "region": province,
        "kab_kota": [],
        "tps_total": 0,
        "tps_ready": 0,
        "curve": [],
    }


def _province_totals(state: dict[str, Any]) -> dict[str, Any]:
    rows = state["kab_kota"]
    state["tps_total"] = sum(r["tps_total"] for r in rows)
    state["tps_ready"] = sum(r["tps_ready"] for r in rows)
    times: list[datetime] = []
    for r in rows:
        before = 0
        for p in r["curve"]:
            times.extend([datetime.fromisoformat(p["at"])] * (p["tps"] - before))
            before = p["tps"]
    state["curve"] = _curve_json(curve(times))
    return state


def _row(state: dict[str, Any], region: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = [dict(r) for r in state["kab_kota"]]
    row = next((r for r in rows if r["region"] == region), None)
    if row is None:
        row = {"region": region, "plan_id": None, "tps_total": 0, "tps_ready": 0, "curve": []}
        rows.append(row)
        rows.sort(key=lambda r: r["region"])
    return rows, row


def apply_plan_to_province(doc: dict[str, Any] | None, e: Any) -> dict[str, Any]:
    """``e`` is a PlanCreated: the kab/kota row gets its total and plan curve."""
    state = _province_base(doc, e.election_id, e.region.split(".")[0])
    rows, row = _row(state, e.region)
    row.update(plan_id=e.plan_id, tps_total=e.tps_total, curve=_curve_json(e.curve))
    state["kab_kota"] = rows
    return _province_totals(state)


def apply_supplied_to_province(doc: dict[str, Any] | None, e: TpsSupplied) -> dict[str, Any]:
    kab = ".".join(e.region.split(".")[:2])
    state = _province_base(doc, e.election_id, e.region.split(".")[0])
    rows, row = _row(state, kab)
    row["tps_ready"] = max(row["tps_ready"], e.tps_ready_in_kab_kota)
    state["kab_kota"] = rows
    return _province_totals(state)


def region_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every region a readiness document answers for: its own region, and its kecamatan for a kab/kota."""
    own = {
        "region": doc["region"],
        "tps_total": doc["tps_total"],
        "tps_ready": doc["tps_ready"],
        "curve": doc["curve"],
    }
    return [own, *doc.get("kecamatan", [])] if doc["level"] == "kab_kota" else [own]


def reading(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    total, ready = row["tps_total"], row["tps_ready"]
    points = [CurvePoint.model_validate(p) for p in row["curve"]]
    share = ready / total if total else 0.0
    planned = planned_share(points, total, now)
    info = region_info(row["region"])
    return {
        "region": row["region"],
        "name": info.name if info else None,
        "tps_total": total,
        "tps_ready": ready,
        "readiness": round(share, 4),
        "planned": round(planned, 4),
        "behind_plan": share < planned,
    }


def risk_event(row: dict[str, Any], now: datetime) -> RegionAtRisk | None:
    r = reading(row, now)
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
