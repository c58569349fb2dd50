"""kill -9 in the middle of a stream of 20,000 events with duplicates; restart; every effect exactly once and
every emitted event published. Then SIGTERM: the process drains and exits cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from siaga_runtime import RuntimeSettings
from siaga_runtime.packing import unpack
from siaga_runtime.service import JOURNAL_COLLECTION
from siaga_schemas import Envelope
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.topics import LOGISTICS_STATUS_UPDATES

from ..helpers import produce, read_all, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
CT = [("content-type", b"application/cloudevents+json")]
EVENTS, SHIPMENTS, DUPLICATES = 20_000, 200, 1_000
T0 = datetime(2024, 11, 25, 8, 0, tzinfo=UTC)


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.crash_worker"],
        cwd=ROOT,
        env={**os.environ, **env, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_kill_9_mid_stream_then_restart(
    runtime_env: Callable[[str], dict[str, str]], settings_for: Callable[[str], RuntimeSettings]
) -> None:
    env = runtime_env("crash")
    settings = settings_for("crash")
    topic = settings.topic_name(LOGISTICS_STATUS_UPDATES.name)
    events = [
        Envelope.wrap(
            ShipmentStatusReported(
                shipment_id=f"shp-{i % SHIPMENTS}",
                status="delivered" if i % 10 == 0 else "checkpoint",
                observed_at=T0 + timedelta(milliseconds=i),
                source_system="crash-test",
            ),
            source="/test",
        )
        for i in range(EVENTS)
    ]
    stream: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
    for i, env_ in enumerate(events):
        stream.append((topic, env_.partitionkey.encode(), env_.to_bytes(), CT))
        if i % (EVENTS // DUPLICATES) == 0:  # the same event again, as an at-least-once producer would
            stream.append((topic, env_.partitionkey.encode(), env_.to_bytes(), CT))

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url.get_secret_value())
    tracking = mongo[settings.mongodb_database]["tracking"]

    async def applied() -> int:
        return sum([unpack(d).get("n", 0) async for d in tracking.find({})])

    first = _spawn(env)
    try:
        await produce(settings.kafka_bootstrap_servers, stream)

        async def some_applied() -> bool:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            return await applied() >= EVENTS // 4

        await wait_until(some_applied, timeout=300, what="a quarter of the stream applied")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert await applied() < EVENTS, "the worker finished before it was killed; the test proved nothing"

    second = _spawn(env)
    try:

        async def all_applied() -> bool:
            assert second.poll() is None, second.stderr.read() if second.stderr else ""
            return await applied() >= EVENTS

        await wait_until(all_applied, timeout=600, what="the whole stream applied after the restart")
        docs = [unpack(d) async for d in tracking.find({})]
        assert len(docs) == SHIPMENTS
        assert sum(d["n"] for d in docs) == EVENTS  # duplicates and redeliveries were not applied twice
        for doc in docs:
            assert doc["n"] == EVENTS // SHIPMENTS
            assert len(doc["_wm"]) == 1  # the dedup mark: one offset, however many events

        delivered = {e.id for e in events if e.data.status == "delivered"}
        milestones_topic = settings.topic_name("siaga.test.milestones.v1")
        published = await read_all(
            settings.kafka_bootstrap_servers, milestones_topic, len(delivered), timeout=300
        )
        causes = [Envelope.model_validate_json(r.value).causationid for r in published]
        assert set(causes) == delivered  # every emitted event published (at least once)

        journal = mongo[settings.mongodb_database][JOURNAL_COLLECTION]

        async def outbox_drained() -> bool:
            return await journal.count_documents({}) == 0

        await wait_until(outbox_drained, timeout=120, what="outbox drained")
    finally:
        second.send_signal(signal.SIGTERM)
        exit_code = second.wait(timeout=120)
        await mongo.close()
    assert exit_code == 0, second.stderr.read().decode()[-2000:] if second.stderr else ""
