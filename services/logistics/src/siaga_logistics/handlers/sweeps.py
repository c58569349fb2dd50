"""Timer sweeps: overdue ETAs (shipment-delayed) and readiness behind plan (region-at-risk).

Both are safe with several replicas and across restarts because each emission is decided from the
document's state under its version guard: a severity step is emitted only when it is higher than the one
the shipment holds, a region is reported at risk once per local day (its rollup remembers the day).

The delay sweep does not query shipments: it reads the due index (``stores.timers``), whose ids are the
documents holding shipments (a chunk of a desa, a kecamatan, a stand-alone shipment). Every ETA is
scheduled there, right after the API's write and again by a projection of our own events, and each time
a document's timer fires the sweep schedules its next step (``deadline - critical slack``, then the
deadline itself). So the sweep's cost follows the number of documents due, not the number open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from siaga_runtime import Change, Clock, Decision, Doc, Routed
from siaga_schemas import EventData
from siaga_schemas.events.logistics import CurvePoint, ShipmentDelayed
from siaga_schemas.localtime import region_zone

from ..domain.delay import RANK, severity_for
from ..domain.legs import legs_in, with_shipment
from ..domain.readiness import reading, risk_event, sum_rows
from .common import Stores
from .projections import list_delayed
from .shipments import schedule_next

__all__ = ["Hook", "sweep_delays", "sweep_risk"]

Hook = Callable[[str], Awaitable[None]]


def _delays(now: datetime, critical_slack: timedelta) -> Change:
    def change(doc: Doc | None) -> Decision:
        if doc is None:
            return Decision(state=None)
        state, events = doc, []
        for s in legs_in(doc):
            severity = severity_for(now, s.eta, s.deadline_at, critical_slack=critical_slack)
            if severity is None or RANK[severity] <= RANK[s.delay_severity]:
                continue
            nxt, emitted = s.mark_delayed(severity, now)
            if emitted:
                state = with_shipment(state, nxt)
                events.extend(emitted)
        return Decision(state=state, emit=events) if events else Decision(state=None)

    return change


async def sweep_delays(
    stores: Stores, clock: Clock, *, critical_slack: timedelta, after_each: Hook | None = None
) -> int:
    """Emit shipment-delayed for every open shipment whose ETA passed, once per severity step; returns the
    number of events emitted. ``after_each`` (tests) runs after each document, which the sweep then
    handles one at a time instead of a page at a time."""
    emitted = 0

    async def check(ids: list[str]) -> None:
        nonlocal emitted
        now = clock.now()  # per page: a long sweep must not judge a late page by its start time
        merged = await stores.shipments.merge(
            {doc_id: _delays(now, critical_slack) for doc_id in ids}, fresh=True
        )
        emitted += len(merged.emitted)
        if merged.emitted:  # the list of delayed shipments at once (its projection does the same, durably)
            delayed: list[Routed] = []
            for e in merged.emitted:
                assert isinstance(e.data, ShipmentDelayed)  # the only event _delays emits
                delayed.append(Routed(e.data.shipment_id, e))
            await stores.delayed.apply(delayed, list_delayed)
        await schedule_next(stores, list(merged.docs.values()), now, critical_slack)

    async def handle(ids: list[str]) -> None:
        unique = list(dict.fromkeys(ids))
        if after_each is None:
            await check(unique)
            return
        for doc_id in unique:
            await check([doc_id])
            await after_each(doc_id)

    await stores.timers.sweep(handle)
    return emitted


def _points(raw: list[dict[str, Any]]) -> list[CurvePoint]:
    return [CurvePoint.model_validate(p) for p in raw]


def _planned_count(points: list[CurvePoint], now: datetime) -> int:
    return max((p.tps for p in points if p.at <= now), default=0)


def _at_risk(region: str, day: str, event: EventData) -> Change:
    def change(doc: Doc | None) -> Decision:
        if doc is None or doc.get("at_risk", {}).get(region) == day:
            return Decision(state=None)
        return Decision(state={**doc, "at_risk": {**doc.get("at_risk", {}), region: day}}, emit=[event])

    return change


async def sweep_risk(stores: Stores, clock: Clock) -> int:
    """Emit region-at-risk for each kecamatan, kab/kota, province and nation whose readiness is behind its
    plan curve, once per local day. Reads the rollups (about 550 small documents per election) and the
    plan headers; never a shipment."""
    now = clock.now()
    rollups = [d async for d in stores.readiness.scan()]
    kabs = [d for d in rollups if d.get("level") == "kab_kota"]
    headers = await stores.plans.current(d["plan_id"] for d in kabs)
    emitted = 0
    planned_by: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # region -> [planned, ready, total]
    for kab in kabs:
        header = headers.get(kab["plan_id"])
        if header is None:
            continue
        checks: list[tuple[str, int, int, list[CurvePoint]]] = []
        ready, total = sum_rows(kab)
        points = _points(header["curve"])
        checks.append((kab["region"], ready, total, points))
        for kec, summary in header.get("kecamatan", {}).items():
            r, t = sum_rows(kab, within=kec)
            checks.append((kec, r, t, _points(summary["curve"])))
        for key in (kab["region"].split(".")[0], ""):
            acc = planned_by[f"{kab['election_id']}|{key}"]
            acc[0] += _planned_count(points, now)
            acc[1] += ready
            acc[2] += total
        for region, r, t, pts in checks:
            emitted += await _report(stores, kab["_id"], region, r, t, pts, now)
    for doc in rollups:
        if doc.get("level") not in ("province", "national"):
            continue
        region = doc.get("region") or ""
        planned, ready, total = planned_by.get(f"{doc['election_id']}|{region}", [0, 0, 0])
        if not total:
            continue
        summary = reading(region or "nasional", ready, total, [], now)
        summary["planned"] = round(min(planned / total, 1.0), 4)
        summary["behind_plan"] = summary["readiness"] < summary["planned"]
        event = risk_event(summary, now) if region else None
        if event is not None:
            day = now.astimezone(region_zone(region)).date().isoformat()
            _, envs = await stores.readiness.mutate(doc["_id"], _at_risk(region, day, event))
            emitted += len(envs)
    return emitted


async def _report(
    stores: Stores,
    rollup_id: str,
    region: str,
    ready: int,
    total: int,
    points: list[CurvePoint],
    now: datetime,
) -> int:
    event = risk_event(reading(region, ready, total, points, now), now)
    if event is None:
        return 0
    day = now.astimezone(region_zone(region)).date().isoformat()
    _, envs = await stores.readiness.mutate(rollup_id, _at_risk(region, day, event))
    return len(envs)
