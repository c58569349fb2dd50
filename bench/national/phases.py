"""The national run's phases: import the plan file, distribute, catch up, and replay into a fresh instance.

Completion is read from each service's own counter of consumed records per topic
(``siaga_consumer_batch_records_sum``) against the topic's end offsets: consumer-group lag would miss a
partition whose offset was never committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from siaga_schemas.topics import LOGISTICS_EVENTS, LOGISTICS_STATUS_UPDATES

from .feed import HEADERS, read_feed
from .harness import Run, Service

__all__ = [
    "ADMIN",
    "Caught",
    "end_offsets",
    "import_plan",
    "offsets_by_partition",
    "produce_feed",
    "wait_consumed",
]

ADMIN = "dev:kpu:national:admin"  # KPU RI: may import plans of every region


def events_topic(run: Run) -> str:
    return f"{run.prefix}.{LOGISTICS_EVENTS.name}"


def status_topic(run: Run) -> str:
    return f"{run.prefix}.{LOGISTICS_STATUS_UPDATES.name}"


async def partitions_of(run: Run, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=run.kafka)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for d in described for p in d.get("partitions", [])]


async def end_offsets(run: Run, topic: str) -> int:
    """The number of records ever written to ``topic`` (the sum of its partitions' end offsets)."""
    return sum((await offsets_by_partition(run, topic)).values())


async def offsets_by_partition(run: Run, topic: str) -> dict[int, int]:
    parts = await partitions_of(run, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=run.kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        return {tp.partition: end for tp, end in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class Caught:
    seconds: float
    consumed: int
    target: int

    @property
    def complete(self) -> bool:
        return self.consumed >= self.target


async def wait_consumed(
    svc: Service, topic: str, target: int, budget_s: float, since: float | None = None, base: int = 0
) -> Caught:
    """Wait (bounded) until ``svc`` has consumed ``target`` records of ``topic`` beyond ``base``."""
    started = time.monotonic() if since is None else since
    consumed = 0
    while True:
        svc.sample_rss()
        with contextlib.suppress(OSError):  # /metrics may not answer in time while the service is busy
            total = await asyncio.to_thread(
                svc.metric, "siaga_consumer_batch_records_sum", f'topic="{topic}"'
            )
            consumed = int(total) - base
        if consumed >= target or time.monotonic() - started > budget_s:
            return Caught(round(time.monotonic() - started, 2), consumed, target)
        await asyncio.sleep(0.5)


def import_plan(
    run: Run, svc: Service, path: Path, election: str, voting_day: date, rejected: Path
) -> dict[str, Any]:
    """``python -m siaga_logistics import``, as KPU RI runs it; returns its JSON summary and the time."""
    env = {**os.environ, "SIAGA_TOKEN": ADMIN, "SIAGA_LOGISTICS_URL": f"http://127.0.0.1:{svc.port}"}
    cmd = [sys.executable, "-m", "siaga_logistics", "import", str(path), "--election", election]
    cmd += ["--voting-day", voting_day.isoformat(), "--json", "--rejected-out", str(rejected)]
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    summary.pop("plans", None)  # one line per kab/kota: the totals are what the report needs
    return {**summary, "wall_s": round(seconds, 2)}


async def produce_feed(run: Run, path: Path) -> tuple[int, float]:
    """Every record of the feed file onto the inbound status topic, as fast as the broker takes them."""
    producer = AIOKafkaProducer(
        bootstrap_servers=run.kafka, linger_ms=20, max_batch_size=512 * 1024, enable_idempotence=True
    )
    await producer.start()
    started = time.monotonic()
    sent = 0
    try:
        pending: list[asyncio.Future[Any]] = []
        for key, value in read_feed(path):
            pending.append(await producer.send(status_topic(run), value=value, key=key, headers=HEADERS))
            sent += 1
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent, time.monotonic() - started
