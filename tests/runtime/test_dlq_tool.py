"""A rejected event lands in the dead-letter topic; after the fix, the tool replays it and it is applied."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from siaga_runtime import Decision, EventRejected, Projection, RuntimeSettings, ServiceRuntime
from siaga_runtime.dlq import read_dead_letters, replay
from siaga_schemas import Envelope, dead_letter_topic
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.topics import LOGISTICS_STATUS_UPDATES

from ..helpers import produce, status_shipment, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


async def test_list_and_replay_after_a_fix(
    settings_for: Callable[[str], RuntimeSettings], runtime_env: Callable[[str], dict[str, str]]
) -> None:
    settings = settings_for("dlq")
    fixed = False

    def decide(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
        if env.data.place is None and not fixed:
            raise EventRejected("place: required for a checkpoint (a bug: it is optional)")
        return Decision(state={"n": (doc or {}).get("n", 0) + 1})

    runtime = ServiceRuntime(settings)
    store = runtime.store("tracking")
    runtime.subscribe(LOGISTICS_STATUS_UPDATES, [Projection("tracking", store, status_shipment, decide)])
    topic = settings.topic_name(LOGISTICS_STATUS_UPDATES.name)
    event = Envelope.wrap(
        ShipmentStatusReported(
            shipment_id="shp-7", status="checkpoint", observed_at=datetime.now(UTC), source_system="t"
        ),
        source="/test",
    )
    await runtime.start()
    try:
        await produce(
            settings.kafka_bootstrap_servers, [(topic, b"shp-7", event.to_bytes(), event_headers())]
        )
        dlt = dead_letter_topic(topic)

        async def dead_lettered() -> bool:
            return len(await read_dead_letters(settings, dlt, idle_ms=300)) == 1

        await wait_until(dead_lettered, timeout=60, what="the rejected event in the dead-letter topic")
        listed = subprocess.run(
            [sys.executable, "-m", "siaga_runtime.dlq", "list", dlt],
            cwd=ROOT,
            env={**os.environ, **runtime_env("dlq")},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert '"reason": "schema_violation"' in listed and "place: required" in listed

        fixed = True  # the fix is deployed
        letters = await read_dead_letters(settings, dlt)
        assert await replay(settings, letters) == 1

        async def applied() -> bool:
            doc = await store.get("shp-7")
            return doc is not None and doc["n"] == 1

        await wait_until(applied, timeout=60, what="the replayed event applied")
    finally:
        await runtime.stop()


def event_headers() -> list[tuple[str, bytes]]:
    return [("content-type", b"application/cloudevents+json"), ("traceparent", b"00-abc-def-01")]
