"""The outbox relay on several instances (the real MongoDB-wire server): an instance dies with events in
its outbox, and the two surviving instances both recover its journal at once. Both publish the same
events (the same ids), and a consumer whose decisions treat a copy as a no-op (as every Siaga consumer's
do) takes each into account once: running the relay twice is safe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from siaga_runtime import (
    AggregateStore,
    Decision,
    ManualClock,
    OutboxJournal,
    Position,
    Routed,
    RuntimeMetrics,
)
from siaga_runtime.outbox import OutboxRelay
from siaga_schemas import Envelope
from siaga_schemas.events.logistics import ShipmentStatusReported

from ..conftest import Servers

pytestmark = pytest.mark.integration

T0 = datetime(2024, 11, 25, 8, 0, tzinfo=UTC)
TOPIC = "siaga.logistics.events.v1"


@pytest.fixture
async def db(servers: Servers, isolation: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url, tz_aware=True)
    try:
        yield client[f"{isolation}_relays"]
    finally:
        await client.drop_database(f"{isolation}_relays")
        await client.close()


def _delivered(doc: dict[str, Any] | None, *, n: int) -> Decision:
    data = ShipmentStatusReported(
        shipment_id=f"shp-{n}", status="delivered", observed_at=T0, source_system="t"
    )
    return Decision(state={**(doc or {}), "status": "delivered"}, emit=[data])


def _note(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
    """As every Siaga decision: a copy of an event already taken into account changes nothing. (A copy
    at a new offset is not caught by the offset marks; the decision is what makes it a no-op.)"""
    seen = (doc or {}).get("delivered", [])
    shipment = env.subject  # the shipment id (its data is read here untyped)
    if shipment in seen:
        return Decision(state=None)
    return Decision(state={"delivered": [*seen, shipment]})


async def test_two_instances_recovering_a_dead_instances_outbox_at_once_make_one_effect(db: Any) -> None:
    journal = OutboxJournal(db["_outbox_journal"])
    dead = AggregateStore(db["shipments"], source="/siaga/logistics", journal=journal, name="shipments")
    for n in range(30):  # written, never published: the instance is killed before its relay runs
        await dead.mutate(f"shp-{n}", partial(_delivered, n=n))
    assert await db["_outbox_journal"].count_documents({}) == 30

    sent: list[list[bytes]] = [[], []]

    def relay(i: int) -> OutboxRelay:
        async def enqueue(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
            sent[i].append(value)
            await asyncio.sleep(0)

            async def ack() -> None:
                return None

            return ack()

        return OutboxRelay(
            OutboxJournal(db["_outbox_journal"]),
            {"shipments": db["shipments"]}.get,
            enqueue,
            RuntimeMetrics(CollectorRegistry(), "logistics"),
        )

    a, b = relay(0), relay(1)
    found = await asyncio.gather(
        a.recover_once(older_than=timedelta(0)), b.recover_once(older_than=timedelta(0))
    )
    assert list(found) == [30, 30]
    while a.backlog or b.backlog:
        await asyncio.gather(a.drain_once(), b.drain_once())
    assert await db["_outbox_journal"].count_documents({}) == 0  # drained (each retired once or twice)
    published: list[Envelope[Any]] = [Envelope.model_validate_json(v) for v in sent[0] + sent[1]]
    ids = {e.id for e in published}
    assert len(ids) == 30 and len(published) == 60  # every event twice, with the same id

    # a consumer reads both copies (they reach different offsets): each event takes effect once
    consumer = AggregateStore(db["applied"], source="/siaga/notifications", clock=ManualClock(T0))
    routed = [Routed("all", e, Position(TOPIC, 0, offset)) for offset, e in enumerate(published)]
    await consumer.apply(routed[:30], _note, scope="p")
    await consumer.apply(routed[30:], _note, scope="p")
    doc = await consumer.get("all")
    assert doc is not None and sorted(doc["delivered"]) == sorted(f"shp-{n}" for n in range(30))
