"""A leg document planned again: what a corrected plan changes in it, and the events that says so.

Pure functions over document states (see ``legs``): the plan's part of each leg is replaced, the
shipment's part is kept (a shipment already on its way stays on its way), a planned shipment's ETA
follows its new planned arrival, and the TPS rows get their new requirement while keeping what they
accepted. A leg the new plan no longer has (all of a desa's TPS now supplied straight from the warehouse)
is cancelled if it is still open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from siaga_schemas import EventData
from siaga_schemas.events import logistics as ev

from .legs import shipment_in
from .shipment import OPEN, Status
from .stored import leg as stored_leg
from .stored import pack
from .stored import tps_row as stored_row

__all__ = ["cancel_dropped", "replan_doc"]

_COMPARED = (
    "origin",
    "destination",
    "lines",
    "transport_mode",
    "planned_dispatch_at",
    "planned_arrival_at",
    "deadline_at",
)


def _tps_rows(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The TPS rows of ``old`` with the plan's part of ``new``'s, and whether any of them changed."""
    out: dict[str, Any] = {}
    changed = False
    for number, stored in new.items():
        before = old.get(number)
        if before is None:
            out[number] = stored
            changed = True
            continue
        prev, row = stored_row(before), stored_row(stored)
        merged = {**prev, **{k: row[k] for k in ("dpt", "direct", "planned_at", "required")}}
        covered = all(merged["accepted"].get(k, 0) >= q for k, q in merged["required"].items())
        if covered != prev["ready"]:
            merged["ready"] = covered
            merged["ready_at"] = prev["ready_at"] if covered else None
        if merged == prev:
            out[number] = before
        else:
            out[number] = pack(merged)
            changed = True
    for number, stored in old.items():
        out.setdefault(number, stored)
    return out, changed


def replan_doc(doc: dict[str, Any], fresh: dict[str, Any]) -> tuple[dict[str, Any], list[EventData]]:
    """``doc`` with the plan of ``fresh`` (a newly built state of the same document); ``doc`` itself when
    nothing differs."""
    legs = dict(doc.get("legs", {}))
    events: list[EventData] = []
    changed_any = False
    for key, packed in fresh["legs"].items():
        before = legs.get(key)
        leg = stored_leg(packed)
        if before is None:
            legs[key] = packed
            events.append(shipment_in({"legs": {key: packed}}, leg["shipment_id"]).planned_event())
            changed_any = True
            continue
        current = stored_leg(before)
        changed = [f for f in _COMPARED if current["plan"].get(f) != leg["plan"].get(f)]
        if not changed:
            continue
        changed_any = True
        ship = dict(current["ship"])
        if ship.get("status") == Status.PLANNED.value and ship.get("eta") == current["plan"].get(
            "planned_arrival_at"
        ):
            ship["eta"] = leg["plan"]["planned_arrival_at"]
        if ship.get("status") == Status.PLANNED.value and "transport_mode" in changed:
            ship["transport_mode"] = leg["plan"]["transport_mode"]
        legs[key] = pack({**current, "plan": leg["plan"], "ship": ship})
        s = shipment_in({"legs": legs}, leg["shipment_id"])
        if s.status in OPEN:
            events.append(
                ev.ShipmentReplanned(
                    shipment_id=s.shipment_id,
                    destination_region=s.destination_region,
                    plan_id=s.plan_id,
                    leg_id=s.leg_id,
                    lines=s.lines,
                    transport_mode=s.transport_mode,
                    planned_dispatch_at=s.planned_dispatch_at,
                    eta=s.eta,
                    deadline_at=s.deadline_at,
                    changed=["eta" if f == "planned_arrival_at" else f for f in changed],
                )
            )
    tps, rows_changed = _tps_rows(doc.get("tps", {}), fresh.get("tps", {}))
    changed_any = changed_any or rows_changed
    if not changed_any:
        return doc, []
    return {**doc, "legs": legs, "tps": tps}, events


def cancel_dropped(
    doc: dict[str, Any], fresh: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], list[EventData]]:
    """Cancel the open legs of ``doc`` that ``fresh`` no longer plans."""
    gone = [k for k in doc.get("legs", {}) if k not in fresh["legs"]]
    if not gone:
        return doc, []
    legs = dict(doc["legs"])
    events: list[EventData] = []
    for key in gone:
        current = stored_leg(legs[key])
        s = shipment_in({"legs": legs}, current["shipment_id"])
        if s.status not in OPEN:
            continue
        nxt, emitted = s.cancel(now, "tidak lagi dalam rencana distribusi (impor perbaikan)")
        legs[key] = pack(
            {
                **current,
                "ship": {
                    **current["ship"],
                    "status": nxt.status.value,
                    "status_at": now,
                    "cancelled_at": now,
                    "cancel_reason": nxt.cancel_reason,
                },
            }
        )
        events.extend(emitted)
    return ({**doc, "legs": legs}, events) if events else (doc, [])
