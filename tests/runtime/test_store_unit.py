"""Dedup, ordering, conflicts and outbox of the store, on an in-memory collection (domain logic only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from siaga_runtime import AggregateStore, Decision, EventRejected, ManualClock, RuntimeMetrics
from siaga_runtime.outbox import OutboxRelay
from siaga_schemas import Envelope
from siaga_schemas.events.logistics import ShipmentStatusReported

from .fakes import FakeCollection

T0 = datetime(2024, 11, 25, 8, 0, tzinfo=UTC)


def _event(shipment: str, status: str, minutes: int = 0) -> Envelope[Any]:
    return Envelope.wrap(
        ShipmentStatusReported(
            shipment_id=shipment,
            status=status,
            observed_at=T0 + timedelta(minutes=minutes),
            source_system="t",
        ),
        source="/test",
    )


def _track(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
    """Count events and keep their order; emit a copy of each 'delivered'."""
    state = dict(doc or {"seen": []})
    state["seen"] = [*state.get("seen", []), env.data.status]
    if env.data.status == "delivered":
        return Decision(state=state, emit=[env.data])
    return Decision(state=state)


@pytest.fixture
def store() -> AggregateStore:
    return AggregateStore(FakeCollection("shipments"), source="/test", clock=ManualClock(T0))


async def test_a_duplicate_in_the_same_batch_and_in_a_later_batch_is_applied_once(
    store: AggregateStore,
) -> None:
    a, b = _event("shp-1", "dispatched"), _event("shp-1", "checkpoint", 5)
    first = await store.apply([("shp-1", a), ("shp-1", b), ("shp-1", a)], _track)
    assert (first.applied, first.duplicates) == (2, 1)
    second = await store.apply([("shp-1", b), ("shp-1", a)], _track)
    assert (second.applied, second.duplicates) == (0, 2)
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"] == ["dispatched", "checkpoint"]
    assert doc["_applied"] == [a.id, b.id]


async def test_events_keep_their_order_per_document(store: AggregateStore) -> None:
    events = [
        _event("shp-1", s, i) for i, s in enumerate(["dispatched", "checkpoint", "checkpoint", "delivered"])
    ]
    others = [_event("shp-2", "dispatched")]
    interleaved = [("shp-1", events[0]), ("shp-2", others[0]), *[("shp-1", e) for e in events[1:]]]
    result = await store.apply(interleaved, _track)
    assert result.applied == 5 and result.written_docs == 2
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"] == ["dispatched", "checkpoint", "checkpoint", "delivered"]


async def test_a_lost_race_is_reloaded_and_reapplied(store: AggregateStore) -> None:
    await store.apply([("shp-1", _event("shp-1", "dispatched"))], _track)
    coll = store.collection
    assert isinstance(coll, FakeCollection)

    def concurrent_writer(c: FakeCollection) -> None:  # another replica writes between our load and write
        c.docs["shp-1"]["seen"].append("rerouted")
        c.docs["shp-1"]["_v"] += 1
        c.docs["shp-1"]["_w"] = "other-writer"

    coll.before_write.append(concurrent_writer)
    result = await store.apply([("shp-1", _event("shp-1", "checkpoint"))], _track)
    assert result.conflicts == 1 and result.applied == 1
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"] == ["dispatched", "rerouted", "checkpoint"]


async def test_a_rejected_event_does_not_stop_the_batch(store: AggregateStore) -> None:
    def strict(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
        if env.data.status == "checkpoint":
            raise EventRejected("status: a checkpoint needs a place")
        return _track(doc, env)

    bad = _event("shp-1", "checkpoint")
    result = await store.apply([("shp-1", _event("shp-1", "dispatched")), ("shp-1", bad)], strict)
    assert result.applied == 1
    assert [e.id for e, _ in result.rejected] == [bad.id]


async def test_the_applied_window_is_bounded(store: AggregateStore) -> None:
    small = AggregateStore(FakeCollection(), source="/t", applied_window=3)
    for i in range(5):
        await small.apply([("shp-1", _event("shp-1", "checkpoint", i))], _track)
    doc = await small.get("shp-1")
    assert doc is not None and len(doc["_applied"]) == 3 and len(doc["seen"]) == 5


async def test_mutate_with_an_idempotency_key_applies_once(store: AggregateStore) -> None:
    calls = 0

    def bump(doc: dict[str, Any] | None) -> Decision:
        nonlocal calls
        calls += 1
        return Decision(state={"n": (doc or {}).get("n", 0) + 1})

    await store.mutate("timer-1", bump, idempotency_key="overdue:2024-11-26")
    await store.mutate("timer-1", bump, idempotency_key="overdue:2024-11-26")
    doc = await store.get("timer-1")
    assert doc is not None and doc["n"] == 1 and calls == 1


async def test_outbox_is_written_with_the_state_and_drained_by_the_relay(store: AggregateStore) -> None:
    delivered = _event("shp-1", "delivered")
    await store.apply([("shp-1", delivered)], _track)
    doc = await store.get("shp-1")
    assert doc is not None and doc["_outbox_pending"] and len(doc["_outbox"]) == 1
    entry = doc["_outbox"][0]
    assert entry["topic"] == "siaga.logistics.status-updates.v1" and entry["key"] == "shp-1"

    sent: list[tuple[str, bytes]] = []

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        sent.append((topic, value))

    relay = OutboxRelay(
        [store.collection], publish, RuntimeMetrics(CollectorRegistry(), "t"), clock=store.clock
    )
    assert await relay.drain_once() == 1
    assert await relay.drain_once() == 0
    doc = await store.get("shp-1")
    assert doc is not None and doc["_outbox"] == [] and not doc["_outbox_pending"]
    published = Envelope.model_validate_json(sent[0][1])
    assert published.causationid == delivered.id and published.id == entry["id"]


async def test_a_crash_between_publish_and_removal_publishes_again_with_the_same_id(
    store: AggregateStore,
) -> None:
    await store.apply([("shp-1", _event("shp-1", "delivered"))], _track)
    ids: list[str] = []

    async def publish_then_crash(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        ids.append(Envelope.model_validate_json(value).id)
        raise ConnectionError("process killed before the outbox entry was removed")

    metrics = RuntimeMetrics(CollectorRegistry(), "t")
    crashing = OutboxRelay([store.collection], publish_then_crash, metrics)
    with pytest.raises(ConnectionError):
        await crashing.drain_once()

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        ids.append(Envelope.model_validate_json(value).id)

    assert await OutboxRelay([store.collection], publish, metrics).drain_once() == 1
    assert len(ids) == 2 and ids[0] == ids[1]  # at least once, same id: consumers deduplicate


async def test_an_entry_added_while_the_relay_publishes_is_not_lost(store: AggregateStore) -> None:
    await store.apply([("shp-1", _event("shp-1", "delivered"))], _track)
    second = _event("shp-1", "delivered", 9)
    sent: list[str] = []

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        sent.append(Envelope.model_validate_json(value).causationid or "")
        if len(sent) == 1:  # the consumer writes a new event into the outbox meanwhile
            await store.apply([("shp-1", second)], _track)

    relay = OutboxRelay([store.collection], publish, RuntimeMetrics(CollectorRegistry(), "t"))
    store.set_outbox_listener(relay.notify)  # as ServiceRuntime wires it
    await relay.drain_once()
    await relay.drain_once()
    assert second.id in sent
    doc = await store.get("shp-1")
    assert doc is not None and doc["_outbox"] == []


async def test_a_write_drops_the_entries_the_relay_already_published() -> None:
    """The relay may lose its removal to a consumer's write; that write removes the published entries."""
    published: set[str] = set()
    clock = ManualClock(T0)
    store = AggregateStore(
        FakeCollection("shipments"), source="/test", clock=clock, published=published.__contains__
    )
    await store.apply([("shp-1", _event("shp-1", "delivered"))], _track)
    doc = await store.get("shp-1")
    assert doc is not None
    first = doc["_outbox"][0]["id"]
    published.add(first)
    clock.advance(timedelta(seconds=5))
    await store.apply([("shp-1", _event("shp-1", "delivered", 9))], _track)
    doc = await store.get("shp-1")
    assert doc is not None and [e["id"] for e in doc["_outbox"]] != [first] and len(doc["_outbox"]) == 1
    assert doc["_outbox_since"] == T0 + timedelta(seconds=5)  # the oldest pending entry is the new one


async def test_a_removal_that_lost_the_race_is_retried_from_a_fresh_snapshot_without_publishing_twice() -> (
    None
):
    coll = FakeCollection("shipments")
    writer = AggregateStore(coll, source="/test")  # another writer: no hints, does not know what was sent
    await writer.apply([("shp-1", _event("shp-1", "delivered"))], _track)
    sent: list[str] = []

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        sent.append(Envelope.model_validate_json(value).causationid or "")
        if len(sent) == 1:  # the other writer moves the version before the removal runs
            await writer.apply([("shp-1", _event("shp-1", "delivered", 9))], _track)

    relay = OutboxRelay([coll], publish, RuntimeMetrics(CollectorRegistry(), "t"))
    assert await relay.drain_once() == 1  # the start-up sweep found the first entry and published it
    doc = await coll.find_one({"_id": "shp-1"})
    assert doc is not None and len(doc["_outbox"]) == 2  # the removal lost: both entries still there
    assert await relay.drain_once() == 1  # the re-queued snapshot: only the second is published
    assert len(sent) == 2 and sent[0] != sent[1]
    doc = await coll.find_one({"_id": "shp-1"})
    assert doc is not None and doc["_outbox"] == [] and not doc["_outbox_pending"]


async def test_a_deferred_removal_is_done_by_the_next_write_or_after_the_delay() -> None:
    """With a removal delay, a document written again meanwhile needs no removal write of the relay's."""
    coll = FakeCollection("shipments")
    now = [0.0]
    sent: list[str] = []

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        sent.append(Envelope.model_validate_json(value).id)

    relay = OutboxRelay(
        [coll], publish, RuntimeMetrics(CollectorRegistry(), "t"), removal_delay=1.0, monotonic=lambda: now[0]
    )
    store = AggregateStore(coll, source="/test", on_outbox=relay.notify, published=relay.was_sent)
    assert await relay.drain_once() == 0  # the start-up sweep: nothing yet
    await store.apply([("shp-1", _event("shp-1", "delivered"))], _track)
    assert await relay.drain_once() == 1
    doc = await coll.find_one({"_id": "shp-1"})
    assert doc is not None and [e["id"] for e in doc["_outbox"]] == sent  # published, not removed yet
    await store.apply([("shp-1", _event("shp-1", "delivered", 9))], _track)  # the next write removes it
    doc = await coll.find_one({"_id": "shp-1"})
    assert doc is not None and len(doc["_outbox"]) == 1 and doc["_outbox"][0]["id"] not in sent
    assert await relay.drain_once() == 1
    now[0] = 0.5
    assert await relay.remove_due() == 0
    doc = await coll.find_one({"_id": "shp-1"})
    assert doc is not None and len(doc["_outbox"]) == 1  # still within the delay
    now[0] = 2.0
    assert await relay.remove_due() == 1
    doc = await coll.find_one({"_id": "shp-1"})
    assert doc is not None and doc["_outbox"] == [] and not doc["_outbox_pending"]
    assert len(sent) == len(set(sent)) == 2  # each entry published once

    await store.apply([("shp-2", _event("shp-2", "delivered"))], _track)
    await relay.start()
    await relay.stop()  # stopping removes what is published at once, whatever the delay
    doc = await coll.find_one({"_id": "shp-2"})
    assert doc is not None and doc["_outbox"] == [] and len(sent) == 3


class _CountingCollection(FakeCollection):
    """Counts the queries that are not point reads by ``_id`` (the ones FerretDB answers by a full scan)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.scans = 0

    def find(self, flt: dict[str, Any], projection: dict[str, Any] | None = None) -> Any:
        self.scans += 1
        return super().find(flt, projection)


async def test_hinted_writes_are_published_without_querying_the_collection() -> None:
    clock = ManualClock(T0)
    coll = _CountingCollection("shipments")
    store = AggregateStore(coll, source="/test", clock=clock)
    sent: list[str] = []

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        sent.append(Envelope.model_validate_json(value).causationid or "")

    relay = OutboxRelay([coll], publish, RuntimeMetrics(CollectorRegistry(), "t"), clock=clock)
    store.set_outbox_listener(relay.notify)
    assert await relay.drain_once() == 0  # the start-up sweep
    scans_after_start = coll.scans
    events = [_event(f"shp-{i}", "delivered") for i in range(5)]
    await store.apply([(e.data.shipment_id, e) for e in events], _track)
    assert await relay.drain_once() == 5
    assert sorted(sent) == sorted(e.id for e in events)
    assert coll.scans == scans_after_start  # no sweep: the hints named the documents
    for e in events:
        doc = await store.get(e.data.shipment_id)
        assert doc is not None and doc["_outbox"] == [] and not doc["_outbox_pending"]


async def test_the_periodic_sweep_publishes_what_another_replica_left_behind() -> None:
    clock = ManualClock(T0)
    coll = FakeCollection("shipments")
    crashed = AggregateStore(coll, source="/test", clock=clock)  # its relay died before publishing
    await crashed.apply([("shp-9", _event("shp-9", "delivered"))], _track)
    sent: list[str] = []

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        sent.append(topic)

    relay = OutboxRelay(
        [coll], publish, RuntimeMetrics(CollectorRegistry(), "t"), clock=clock, sweep_interval=0.0
    )
    relay._sweep_all = False  # a relay that has been running for a while: only stale entries are swept
    assert await relay.drain_once() == 0  # fresh: still the writer's to publish
    clock.advance(timedelta(seconds=relay.stale_after + 1))
    assert await relay.drain_once() == 1
    assert sent == ["siaga.logistics.status-updates.v1"]
    doc = await coll.find_one({"_id": "shp-9"})
    assert doc is not None and doc["_outbox"] == []


async def test_a_removal_that_fails_is_queued_again() -> None:
    coll = FakeCollection("shipments")
    now = [0.0]

    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> None:
        return None

    relay = OutboxRelay(
        [coll], publish, RuntimeMetrics(CollectorRegistry(), "t"), removal_delay=1.0, monotonic=lambda: now[0]
    )
    store = AggregateStore(coll, source="/test", on_outbox=relay.notify, published=relay.was_sent)
    await relay.drain_once()
    await store.apply([("shp-1", _event("shp-1", "delivered"))], _track)
    assert await relay.drain_once() == 1
    now[0] = 2.0
    real_bulk_write = coll.bulk_write

    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("MongoDB went away")

    coll.bulk_write = unavailable  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await relay.remove_due()
    coll.bulk_write = real_bulk_write  # type: ignore[method-assign]
    assert await relay.remove_due() == 1
    doc = await coll.find_one({"_id": "shp-1"})
    assert doc is not None and doc["_outbox"] == []
