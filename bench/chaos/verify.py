"""What a chaos run left behind, counted: at the webhook receiver by notification id and step, in each
service's database (deliveries, alerts, outbox journals) and on the broker (consumer lag, dead letters)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from pymongo import AsyncMongoClient
from siaga_runtime.packing import unpack
from siaga_runtime.service import JOURNAL_COLLECTION

__all__ = ["broker_figures", "database_figures", "receiver_figures"]


def receiver_figures(log: Path, expected_fps: set[str]) -> dict[str, Any]:
    """Posts at the receiver, by (notification id, escalation step).

    - ``received``: posts with a valid signature; ``repeats``: posts whose Idempotency-Key the receiver had
      seen already (an at-least-once redelivery after a kill -9 between sending and recording, dropped);
    - ``notifications``: distinct (notification id, step) acted on;
    - ``duplicated``: a group notified more than once for the same step and status (two notification
      ids where one is due: the chaos routing never repeats a group within a run), plus any
      (notification id, step) acted on twice;
    - ``lost``: delayed shipments whose alert reached the receiver in no notification."""
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    valid = [e for e in entries if e.get("signature_valid")]
    acted: dict[tuple[str, int], int] = defaultdict(int)
    by_group: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    notified: set[str] = set()
    for e in valid:
        p = e["payload"]
        key = (str(p["notification_id"]), int(p["escalation_step"]))
        if e.get("idempotency_key") != p["notification_id"]:
            acted[key] += 1  # no key, or a wrong one: the receiver could not have dropped a repeat
        elif not e.get("repeat"):
            acted[key] += 1
        by_group[(p["group_key"], key[1], p["status"])].add(key[0])
        notified |= {a["fingerprint"] for a in p.get("alerts", ())}
    twice = sum(n - 1 for n in acted.values() if n > 1)
    regrouped = sum(len(nids) - 1 for nids in by_group.values() if len(nids) > 1)
    return {
        "received": len(valid),
        "invalid_signatures": len(entries) - len(valid),
        "repeats_dropped_by_key": sum(1 for e in valid if e.get("repeat")),
        "notifications": len(acted),
        "duplicated": twice + regrouped,
        "lost": sorted(expected_fps - notified),
        "notified_ids": sorted({k[0] for k in acted}),
    }


async def database_figures(
    url: str, prefix: str, services: tuple[str, ...], expected_fps: set[str], notified_ids: set[str]
) -> dict[str, Any]:
    """Deliveries not delivered (or delivered but never received), alerts not in the state their events
    imply (a delayed shipment, never delivered, must have a firing alert), and outbox journals left."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    try:
        db = client[f"{prefix}_notifications"]
        deliveries = [unpack(d) async for d in db["deliveries"].find({})]
        alerts = {d["_id"]: unpack(d) async for d in db["alerts"].find({})}
        journals = {
            s: await client[f"{prefix}_{s}"][JOURNAL_COLLECTION].count_documents({}) for s in services
        }
    finally:
        await client.close()
    by_state: dict[str, int] = defaultdict(int)
    for d in deliveries:
        by_state[str(d.get("state"))] += 1
    unreceived = [
        d["_id"] for d in deliveries if d.get("state") == "delivered" and d["_id"] not in notified_ids
    ]
    wrong = sorted(fp for fp in expected_fps if alerts.get(fp, {}).get("status") != "firing")
    return {
        "deliveries": len(deliveries),
        "deliveries_by_state": dict(by_state),
        "deliveries_not_delivered": sum(n for s, n in by_state.items() if s != "delivered"),
        "delivered_not_received": unreceived,
        "attempts_beyond_first": sum(max(int(d.get("attempts", 0)) - 1, 0) for d in deliveries),
        "alerts": len(alerts),
        "alerts_by_status": _count(a.get("status") for a in alerts.values()),
        "alerts_in_wrong_state": wrong,
        "outbox_journals_left": journals,
    }


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[str(v)] += 1
    return dict(out)


async def broker_figures(bootstrap: str, prefix: str) -> dict[str, Any]:
    """Records per topic of this run, dead letters per dead-letter topic, and each group's lag."""
    hosts = bootstrap.split(",")  # aiokafka reads one comma-separated string as one host
    admin = AIOKafkaAdminClient(bootstrap_servers=hosts)
    await admin.start()
    consumer = AIOKafkaConsumer(bootstrap_servers=hosts, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefix + ".")]
        described = await admin.describe_topics(topics)
        parts = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
        ends = await consumer.end_offsets(parts) if parts else {}
        per_topic: dict[str, int] = defaultdict(int)
        for tp, end in ends.items():
            per_topic[tp.topic] += end
        groups = [g[0] for g in await admin.list_consumer_groups() if str(g[0]).startswith(prefix)]
        lag: dict[str, int] = {}
        for g in groups:
            offsets = await admin.list_consumer_group_offsets(g)
            group_ends = await consumer.end_offsets(list(offsets)) if offsets else {}
            lag[g] = sum(max(group_ends[tp] - meta.offset, 0) for tp, meta in offsets.items())
        partitions = {d["topic"]: len(d["partitions"]) for d in described}
    finally:
        await consumer.stop()
        await admin.close()
    dead = {t: n for t, n in per_topic.items() if t.endswith(".dlt")}
    return {
        "events": sum(n for t, n in per_topic.items() if not t.endswith(".dlt")),
        "records_per_topic": dict(per_topic),
        "partitions": partitions,
        "dead_letters": dead,
        "lag": lag,
    }
