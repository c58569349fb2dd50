"""Timer sweeps: overdue ETAs (shipment-delayed) and readiness behind plan (region-at-risk).

Both are safe with several replicas and across restarts: every emission is a ``store.mutate`` with a
deterministic idempotency key (``delayed:<severity>``, ``at-risk:<region>:<local day>``), so a step that
already happened is a no-op wherever and however often it runs again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from siaga_runtime import Clock, Decision

from ..domain.delay import RANK, severity_for
from ..domain.readiness import region_rows, risk_event
from ..domain.shipment import OPEN, Shipment
from ..domain.timezones import zone
from .common import Stores

__all__ = ["sweep_delays", "sweep_risk"]

Hook = Callable[[str], Awaitable[None]]


async def sweep_delays(
    stores: Stores, clock: Clock, *, critical_slack: timedelta, after_each: Hook | None = None
) -> int:
    """Emit shipment-delayed for every open shipment whose ETA passed, once per severity step.

    ``after_each`` (tests) runs after each shipment is handled. Returns the number of events emitted.
    """
    now = clock.now()
    emitted = 0
    flt = {"status": {"$in": sorted(s.value for s in OPEN)}}
    ids = [d["_id"] async for d in stores.shipments.collection.find(flt, {"_id": 1})]
    for shipment_id in sorted(ids):
        doc = await stores.shipments.get(shipment_id)
        if doc is None:
            continue
        current = Shipment.from_doc(doc)
        severity = severity_for(now, current.eta, current.deadline_at, critical_slack=critical_slack)
        if severity is not None and RANK[severity] > RANK[current.delay_severity]:

            def change(d: dict[str, Any] | None, sev: Any = severity) -> Decision:
                if d is None:
                    return Decision(state=None)
                nxt, events = Shipment.from_doc(d).mark_delayed(sev, now)
                return Decision(state=nxt.to_state(), emit=events) if events else Decision(state=None)

            _, envs = await stores.shipments.mutate(
                shipment_id, change, idempotency_key=f"delayed:{severity}"
            )
            emitted += len(envs)
        if after_each is not None:
            await after_each(shipment_id)
    return emitted


async def sweep_risk(stores: Stores, clock: Clock) -> int:
    """Emit region-at-risk for each region whose readiness is behind its plan curve, once per local day."""
    now = clock.now()
    emitted = 0
    ids = [d["_id"] async for d in stores.readiness.collection.find({}, {"_id": 1})]
    for doc_id in sorted(ids):
        doc = await stores.readiness.get(doc_id)
        if doc is None:
            continue
        for row in region_rows(doc):
            if risk_event(row, now) is None:
                continue
            day = now.astimezone(zone(row["region"])).date().isoformat()
            region = row["region"]

            def change(d: dict[str, Any] | None, region: str = region, day: str = day) -> Decision:
                if d is None:
                    return Decision(state=None)
                fresh = next((r for r in region_rows(d) if r["region"] == region), None)
                event = risk_event(fresh, now) if fresh is not None else None
                if event is None:
                    return Decision(state=None)
                state = {k: v for k, v in d.items() if not k.startswith("_")}
                state["at_risk"] = [*d.get("at_risk", []), {"region": region, "day": day}][-400:]
                return Decision(state=state, emit=[event])

            _, envs = await stores.readiness.mutate(doc_id, change, idempotency_key=f"at-risk:{region}:{day}")
            emitted += len(envs)
    return emitted
