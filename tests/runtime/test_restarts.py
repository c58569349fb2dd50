"""The broker, then the MongoDB-wire server, restarted mid-stream: processing resumes by itself, nothing lost.

These restart the local devstack servers, so they run only when the devstack owns them (not against
external servers named by KAFKA_BOOTSTRAP_SERVERS / MONGODB_URL).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from siaga_runtime import Decision, Projection, RuntimeSettings, ServiceRuntime
from siaga_schemas import Envelope
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.topics import LOGISTICS_STATUS_UPDATES

from ..helpers import produce, status_shipment, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CT = [("content-type", b"application/cloudevents+json")]
EVENTS, SHIPMENTS = 6_000, 60
T0 = datetime(2024, 11, 25, 8, 0, tzinfo=UTC)


def _devstack_owns(server: str) -> bool:
    from siaga_devstack import Stack

    stack = Stack()
    node = stack.kafka if server == "kafka" else stack.ferretdb
    endpoint = stack.kafka.bootstrap if server == "kafka" else stack.ferretdb.url
    wanted = os.environ.get("KAFKA_BOOTSTRAP_SERVERS" if server == "kafka" else "MONGODB_URL", endpoint)
    return node.running() is not None and wanted == endpoint


def _count(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
    """Counts each scan once: one no newer than the last counted (a producer's retry) changes nothing."""
    if doc is not None and env.data.observed_at <= doc["last"]:
        return Decision(state=None)
    return Decision(state={"n": (doc or {}).get("n", 0) + 1, "last": env.data.observed_at})


async def _stream_with_restart(settings: RuntimeSettings, restart: Callable[[], None]) -> None:
    runtime = ServiceRuntime(settings)
    store = runtime.store("tracking")
    runtime.subscribe(LOGISTICS_STATUS_UPDATES, [Projection("tracking", store, status_shipment, _count)])
    topic = settings.topic_name(LOGISTICS_STATUS_UPDATES.name)
    events = [
        Envelope.wrap(
            ShipmentStatusReported(
                shipment_id=f"shp-{i % SHIPMENTS}",
                status="checkpoint",
                observed_at=T0 + timedelta(milliseconds=i),
                source_system="t",
            ),
            source="/test",
        )
        for i in range(EVENTS)
    ]
    half = EVENTS // 2
    first = [(topic, e.partitionkey.encode(), e.to_bytes(), CT) for e in events[:half]]
    second = [(topic, e.partitionkey.encode(), e.to_bytes(), CT) for e in events[half:]]

    async def applied() -> int:
        return sum([d.get("n", 0) async for d in store.scan()])

    await runtime.start()
    try:
        await produce(settings.kafka_bootstrap_servers, first)

        async def some() -> bool:
            return await applied() >= EVENTS // 10

        await wait_until(some, timeout=180, what="part of the stream applied before the restart")
        await asyncio.to_thread(restart)
        await produce(settings.kafka_bootstrap_servers, second)

        async def everything() -> bool:
            try:
                return await applied() >= EVENTS
            except Exception:  # noqa: BLE001 - the server may still be coming back
                return False

        await wait_until(everything, timeout=300, what="the whole stream applied after the restart")
        docs = [d async for d in store.scan()]
        assert sum(d["n"] for d in docs) == EVENTS
        assert all(d["n"] == EVENTS // SHIPMENTS for d in docs)
        assert all(len(d["_wm"]) == 1 for d in docs)  # one offset mark per document, however many events
    finally:
        await runtime.stop()


async def test_kafka_restart_mid_stream(settings_for: Callable[[str], RuntimeSettings]) -> None:
    from siaga_devstack import restart_kafka

    if not _devstack_owns("kafka"):
        pytest.skip("the broker is external: only the devstack's own broker is restarted")
    await _stream_with_restart(settings_for("kafka-restart"), restart_kafka)


async def test_mongodb_restart_mid_stream(settings_for: Callable[[str], RuntimeSettings]) -> None:
    from siaga_devstack import restart_ferretdb

    if not _devstack_owns("mongodb"):
        pytest.skip("the MongoDB server is external: only the devstack's own server is restarted")
    await _stream_with_restart(settings_for("mongo-restart"), restart_ferretdb)
