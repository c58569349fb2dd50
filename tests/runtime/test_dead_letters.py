"""The hostile corpus, interleaved with valid events, against the real Kafka and FerretDB."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from siaga_runtime import Decision, Projection, RuntimeSettings, ServiceRuntime
from siaga_schemas import Envelope, dead_letter_topic
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.topics import LOGISTICS_STATUS_UPDATES

from ..helpers import produce, read_all, status_shipment, wait_until

pytestmark = pytest.mark.integration
CORPUS = [json.loads(line) for line in (Path(__file__).parent / "data" / "hostile_corpus.jsonl").open()]
CT = [("content-type", b"application/cloudevents+json")]


def _count(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
    return Decision(state={"n": (doc or {}).get("n", 0) + 1, "status": env.data.status})


def _valid(i: int) -> Envelope[Any]:
    return Envelope.wrap(
        ShipmentStatusReported(
            shipment_id=f"shp-{i % 40}", status="checkpoint", observed_at=datetime.now(UTC), source_system="t"
        ),
        source="/test",
    )


async def test_every_hostile_record_is_dead_lettered_and_every_valid_one_applied(
    settings_for: Callable[[str], RuntimeSettings],
) -> None:
    assert len(CORPUS) >= 200
    settings = settings_for("corpus")
    runtime = ServiceRuntime(settings)
    store = runtime.store("tracking")
    runtime.subscribe(LOGISTICS_STATUS_UPDATES, [Projection("tracking", store, status_shipment, _count)])
    topic = settings.topic_name(LOGISTICS_STATUS_UPDATES.name)
    await runtime.start()
    try:
        valid = [_valid(i) for i in range(300)]
        records: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
        for i, env in enumerate(valid):
            records.append((topic, env.partitionkey.encode(), env.to_bytes(), CT))
            if i < len(CORPUS):
                r = CORPUS[i]
                value = None if r["value_b64"] is None else base64.b64decode(r["value_b64"])
                headers = [(k, base64.b64decode(v)) for k, v in r["headers"]]
                records.append((topic, r["key"].encode(), value, headers))
        await produce(settings.kafka_bootstrap_servers, records)

        async def all_applied() -> bool:
            total = int(sum([d["n"] async for d in store.scan()]))
            return total >= len(valid)

        await wait_until(all_applied, timeout=180, what="300 valid events applied")
        letters = await read_all(settings.kafka_bootstrap_servers, dead_letter_topic(topic), len(CORPUS))
        assert len(letters) == len(CORPUS)
        by_key = {r["key"]: r for r in CORPUS}
        for letter in letters:
            original = by_key[letter.key.decode()]
            got = dict(letter.headers)
            assert got["dlt.reason"].decode() == original["reason"], original["case"]
            assert got["dlt.service"] == b"corpus"
            assert got["dlt.source.topic"].decode() == topic
            assert int(got["dlt.source.offset"]) >= 0
            assert got["dlt.error.message"], original["case"]
            expected_value = (
                None if original["value_b64"] is None else base64.b64decode(original["value_b64"])
            )
            assert letter.value == expected_value, original["case"]
            for k, v in original["headers"]:
                assert (k, base64.b64decode(v)) in letter.headers, original["case"]
        # Still alive and consuming: one more valid event is applied.
        extra = _valid(999)
        await produce(
            settings.kafka_bootstrap_servers, [(topic, extra.partitionkey.encode(), extra.to_bytes(), CT)]
        )

        async def extra_applied() -> bool:
            total = int(sum([d["n"] async for d in store.scan()]))
            return total == len(valid) + 1

        await wait_until(extra_applied, timeout=60, what="the event after the corpus applied")
        applied = runtime.metrics.events_applied.labels("corpus", topic, ShipmentStatusReported.event_type)
        assert applied._value.get() == len(valid) + 1
    finally:
        await runtime.stop()


async def test_a_published_type_this_consumer_does_not_handle_is_skipped_not_dead_lettered(
    settings_for: Callable[[str], RuntimeSettings],
) -> None:
    """On a shared topic each consumer picks its types; another service's event is no dead letter, but a
    type nobody publishes is."""
    settings = settings_for("picky")
    runtime = ServiceRuntime(settings)
    store = runtime.store("tracking")
    runtime.subscribe(
        LOGISTICS_STATUS_UPDATES,
        [Projection("tracking", store, status_shipment, _count)],
        accept={ShipmentStatusReported.event_type},
    )
    topic = settings.topic_name(LOGISTICS_STATUS_UPDATES.name)
    other = Envelope.wrap(_held(), source="/test")
    nobody = json.loads(_valid(1).to_bytes())
    nobody["type"] = "siaga.logistics.shipment-teleported"
    await runtime.start()
    try:
        records = [
            (topic, b"m", other.to_bytes(), CT),
            (topic, b"x", json.dumps(nobody).encode(), CT),
            (topic, b"shp-7", _valid(7).to_bytes(), CT),
        ]
        await produce(settings.kafka_bootstrap_servers, records)

        async def applied() -> bool:
            return await store.collection.find_one({"_id": "shp-7"}) is not None

        await wait_until(applied, timeout=60, what="the handled event applied")
        letters = await read_all(settings.kafka_bootstrap_servers, dead_letter_topic(topic), 1, timeout=20)
        assert [dict(r.headers)["dlt.reason"] for r in letters] == [b"unknown_type"]
        assert letters[0].key == b"x"
        ignored = runtime.metrics.events_ignored.labels("picky", topic)._value.get()
        assert ignored == 1
    finally:
        await runtime.stop()


def _held() -> Any:
    from siaga_schemas.events.meetings import MeetingHeld

    return MeetingHeld.model_validate(
        {
            "meeting_id": "mtg-1",
            "organiser": {"institution": "bawaslu", "region": "35"},
            "held_at": "2020-04-03T14:00:00+07:00",
            "attendance": {"invited": 38, "present": 33, "late": 3, "absent": 2, "absent_parties": []},
            "recommendations": [],
        }
    )
