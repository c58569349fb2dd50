"""Alert latency under a steady background load of scans: late shipments' ETAs pass while other shipments
report checkpoints at a fixed rate, and each delay is timed from the emitted event (and from the ETA itself)
to the webhook receiver.

Background scans are checkpoints of delivered TPS legs at fresh places: each is a real write (a
checkpoint added, an event published) that notifications consumes and ignores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from .harness import TOKEN, Receiver, Run, produce, scan
from .phases import events_topic, offsets_by_partition

__all__ = ["STAGES", "delayed_times", "latency_phase", "percentiles", "topic_positions"]


async def topic_positions(run: Run) -> dict[int, int]:
    """The logistics events topic's end offset per partition, now."""
    return await offsets_by_partition(run, events_topic(run))


async def delayed_times(run: Run, budget_s: float, since: dict[int, int]) -> dict[str, tuple[float, float]]:
    """shipment id → (wall time at which its shipment-delayed envelope was created (its CloudEvents time),
    time the outbox relay put it on the topic (the record's timestamp)), reading the logistics events topic
    from the offsets ``since`` to the end offsets taken now."""
    topic = events_topic(run)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=run.kafka, enable_auto_commit=False)
    await consumer.start()
    out: dict[str, tuple[float, float]] = {}
    try:
        started = time.monotonic()
        while not consumer.assignment() and time.monotonic() - started < 30:
            await consumer.getmany(timeout_ms=200)  # lets the assignment happen; records are re-read below
        partitions = sorted(consumer.assignment())
        for tp in partitions:
            consumer.seek(tp, since.get(tp.partition, 0))
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in partitions]
            if all(pos >= ends[tp] for pos, tp in zip(positions, partitions, strict=True)):
                break
            batch = await consumer.getmany(*partitions, timeout_ms=500)
            for records in batch.values():
                for r in records:
                    e = json.loads(r.value)
                    if e["type"].endswith("shipment-delayed"):
                        sid = e["data"]["shipment_id"]
                        created = datetime.fromisoformat(e["time"]).timestamp()
                        out.setdefault(sid, (created, r.timestamp / 1000))
    finally:
        await consumer.stop()
    return out


async def latency_phase(
    run: Run,
    args: argparse.Namespace,
    rng: random.Random,
    on_time: list[str],
    delayed: list[str],
    rate: float,
) -> dict[str, Any]:
    """Background scans at ``rate`` for ``steady_s`` while the ETAs of ``delayed`` pass; then wait (bounded)
    until each late shipment's shipment-delayed is published and its webhook has arrived.

    Latency is from the shipment-delayed envelope's time (set when the delay sweep emitted it) to the
    webhook receiver's arrival time."""
    from siaga_notifications.domain.labels import fingerprint

    log_svc = run.services["logistics"]
    since = await topic_positions(run)
    background = [
        scan(rng.choice(on_time), "checkpoint", place=f"patroli {i}")
        for i in range(int(rate * args.steady_s))
    ]
    producing = asyncio.create_task(produce(run, background, rate))
    await asyncio.sleep(min(5.0, args.steady_s / 4))
    eta = datetime.now(UTC) + timedelta(seconds=3)
    accepted: dict[str, float] = {}  # shipment → when it became late: its ETA, or its checkpoint's answer
    soon = eta.isoformat()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{log_svc.port}", headers=TOKEN, timeout=60) as c:
        posting = time.monotonic()
        for s in delayed:
            r = await c.post(
                f"/shipments/{s}/checkpoints",
                json={"place": "sungai", "passed_at": datetime.now(UTC).isoformat(), "eta": soon},
            )
            r.raise_for_status()
            accepted[s] = max(time.time(), eta.timestamp())
        posting = time.monotonic() - posting
    background_s = await producing
    mine = set(delayed)
    emitted: dict[str, tuple[float, float]] = {}
    waited = time.monotonic()
    while time.monotonic() - waited < args.latency_budget:
        emitted = {s: t for s, t in (await delayed_times(run, 60, since)).items() if s in mine}
        if len(emitted) >= len(delayed):
            break
        await asyncio.sleep(2)
    by_fp = {
        fingerprint({"alertname": "shipment-delayed", "shipment_id": s}): t[0] for s, t in emitted.items()
    }
    on_topic = {
        fingerprint({"alertname": "shipment-delayed", "shipment_id": s}): t[1] for s, t in emitted.items()
    }
    while time.monotonic() - waited < args.latency_budget:
        with Receiver.lock:
            seen = {a.get("fingerprint") for _, p, _ in Receiver.arrivals for a in p.get("alerts", [])}
        if set(by_fp) <= seen:
            break
        await asyncio.sleep(0.5)
    latencies: dict[str, float] = {}
    first: dict[str, tuple[float, str]] = {}  # fingerprint -> (arrival, notification id) of its first webhook
    with Receiver.lock:
        arrivals = list(Receiver.arrivals)
    for at, payload, valid in arrivals:
        for alert in payload.get("alerts", []):
            fp = alert.get("fingerprint")
            if valid and fp in by_fp and fp not in latencies:
                latencies[fp] = at - by_fp[fp]
                first[fp] = (at, str(payload.get("notification_id")))
    ms = sorted(1000 * v for v in latencies.values())
    late_at = {
        fingerprint({"alertname": "shipment-delayed", "shipment_id": s}): t for s, t in accepted.items()
    }
    from_eta = sorted(1000 * (at - late_at[fp]) for fp, (at, _) in first.items() if fp in late_at)
    stages = await _stages(run, by_fp, on_topic, first)
    return {
        "background_records": len(background),
        "background_rate_per_s": round(len(background) / max(background_s, 1e-9)),
        "target_rate_per_s": rate,
        "delayed_shipments": len(delayed),
        "shipment_delayed_emitted": len(emitted),
        "notified": len(latencies),
        "signatures_valid": all(v for _, _, v in arrivals),
        "wait_after_load_s": round(time.monotonic() - waited, 1),
        "latency_ms": percentiles(ms),
        "latency_from_eta_ms": percentiles(from_eta),
        "checkpoints_posted_s": round(posting, 1),
        "stages_ms": stages,
    }


STAGES = (
    "outbox relay: emitted → on the topic",
    "notifications consumer: on the topic → alert raised",
    "grouping and escalation timers: alert raised → notification created",
    "delivery worker: notification created → webhook received",
)


async def _stages(
    run: Run, emitted: dict[str, float], on_topic: dict[str, float], first: dict[str, tuple[float, str]]
) -> dict[str, dict[str, float | None]]:
    """Where each alert's latency went, from the record timestamps and what the notifications API tells:
    the alert's raised_at and the notification's created_at (both set by the service when it wrote them)."""
    spans: dict[str, list[float]] = {name: [] for name in STAGES}
    base = f"http://127.0.0.1:{run.services['notifications'].port}"
    async with httpx.AsyncClient(base_url=base, headers=TOKEN, timeout=30) as c:
        for fp, (arrived, nid) in first.items():
            alert = (await c.get(f"/alerts/{fp}")).json()
            delivery = (await c.get(f"/deliveries/{nid}")).json()
            raised = alert.get("raised_at")
            created = delivery.get("created_at")
            if raised is None or created is None:
                continue
            raised_t = _ts(raised)
            created_t = _ts(created)
            for name, span in zip(
                STAGES,
                (
                    on_topic[fp] - emitted[fp],
                    raised_t - on_topic[fp],
                    created_t - raised_t,
                    arrived - created_t,
                ),
                strict=True,
            ):
                spans[name].append(1000 * span)
    return {name: percentiles(sorted(v)) for name, v in spans.items()}


def _ts(value: str) -> float:
    t = datetime.fromisoformat(value)
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def percentiles(ms: list[float]) -> dict[str, float | None]:
    if not ms:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return {
        "p50": round(q[49], 1),
        "p95": round(q[94], 1),
        "p99": round(q[98], 1),
        "max": round(ms[-1], 1),
        "n": len(ms),
    }
