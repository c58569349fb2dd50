"""Dedup, ordering, conflicts, packing, cache and outbox of the store, on an in-memory collection (pure logic:
the same behaviour on the real servers is covered by the integration tests)."""

from __future__ import annotations

import asyncio
import logging
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pytest
from bson import Binary
from prometheus_client import CollectorRegistry
from siaga_runtime import (
    AggregateStore,
    Decision,
    EventRejected,
    ManualClock,
    Position,
    Routed,
    RuntimeMetrics,
)
from siaga_runtime.doccache import DocCache
from siaga_runtime.journal import OutboxJournal
from siaga_runtime.metrics import StoreCollector
from siaga_runtime.outbox import OutboxEntry, OutboxRelay
from siaga_runtime.packing import BLOB, ZLIB_SUBTYPE, ZSTD_SUBTYPE, pack, unpack
from siaga_schemas import Envelope
from siaga_schemas.events.logistics import ShipmentStatusReported

from .fakes import FakeCollection

T0 = datetime(2024, 11, 25, 8, 0, tzinfo=UTC)
TOPIC = "siaga.logistics.status-updates.v1"


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


def _at(event: Envelope[Any], offset: int, partition: int = 0) -> Routed:
    return Routed(event.data.shipment_id, event, Position(TOPIC, partition, offset))


def _track(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
    """Count events and keep their order; emit a copy of each 'delivered'."""
    state = dict(doc or {"seen": []})
    state["seen"] = [*state.get("seen", []), env.data.status]
    if env.data.status == "delivered":
        return Decision(state=state, emit=[env.data])
    return Decision(state=state)


class _Outbox:
    """A store wired to a journal and a relay as ``ServiceRuntime`` wires them, publishing into a list."""

    def __init__(self, *, cache_mb: float = 1.0) -> None:
        self.coll = FakeCollection("shipments")
        self.journals = FakeCollection("_outbox_journal")
        self.journal = OutboxJournal(self.journals)
        self.sent: list[Envelope[Any]] = []
        self.fail = False
        self.fail_times = 0  # the next calls that fail, then Kafka is back
        self.relay = OutboxRelay(
            self.journal, {"shipments": self.coll}.get, self.enqueue, RuntimeMetrics(CollectorRegistry(), "t")
        )
        self.store = AggregateStore(
            self.coll,
            source="/test",
            journal=self.journal,
            clock=ManualClock(T0),
            on_outbox=self.relay.notify,
            cache_mb=cache_mb,
        )

    async def enqueue(self, topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("Kafka went away for a moment")
        if self.fail:
            raise ConnectionError("Kafka went away")
        self.sent.append(Envelope.model_validate_json(value))

        async def ack() -> None:
            return None

        return ack()


@pytest.fixture
def store() -> AggregateStore:
    return AggregateStore(FakeCollection("shipments"), source="/test", clock=ManualClock(T0))


async def test_a_record_delivered_again_is_applied_once_in_the_same_and_in_a_later_batch(
    store: AggregateStore,
) -> None:
    a, b = _event("shp-1", "dispatched"), _event("shp-1", "checkpoint", 5)
    first = await store.apply([_at(a, 10), _at(b, 11), _at(a, 10)], _track, scope="p")
    assert (first.applied, first.duplicates) == (2, 1)
    second = await store.apply([_at(b, 11), _at(a, 10)], _track, scope="p")
    assert (second.applied, second.duplicates) == (0, 2)
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"] == ["dispatched", "checkpoint"]
    assert doc["_wm"] == {f"p|{TOPIC}|0": 11}


async def test_a_redelivery_after_any_number_of_later_events_is_still_applied_once(
    store: AggregateStore,
) -> None:
    """The dedup mark is the partition's offset, not a window of ids: 5,000 later events change nothing."""
    first = _event("shp-1", "dispatched")
    await store.apply([_at(first, 0)], _track, scope="p")
    for start in range(1, 5001, 500):
        later = [_at(_event("shp-1", "checkpoint", i), i) for i in range(start, start + 500)]
        await store.apply(later, _track, scope="p")
    again = await store.apply([_at(first, 0)], _track, scope="p")
    assert (again.applied, again.duplicates) == (0, 1)
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"].count("dispatched") == 1 and len(doc["seen"]) == 5001
    assert len(doc["_wm"]) == 1 and doc["_keys"] == []  # the marks did not grow with the events


async def test_watermarks_are_per_partition_and_per_projection(store: AggregateStore) -> None:
    a, b = _event("shp-1", "dispatched"), _event("shp-1", "checkpoint", 1)
    await store.apply([_at(a, 7, partition=0)], _track, scope="p")
    result = await store.apply([_at(b, 3, partition=1)], _track, scope="p")  # lower offset, other partition
    assert result.applied == 1
    result = await store.apply([_at(a, 7, partition=0)], _track, scope="q")  # another projection's effect
    assert result.applied == 1
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"] == ["dispatched", "checkpoint", "dispatched"]


async def test_events_without_a_record_position_are_deduplicated_by_id(store: AggregateStore) -> None:
    a = _event("shp-1", "dispatched")
    await store.apply([("shp-1", a)], _track)
    again = await store.apply([("shp-1", a)], _track)
    assert (again.applied, again.duplicates) == (0, 1)


async def test_events_keep_their_order_per_document(store: AggregateStore) -> None:
    events = [
        _event("shp-1", s, i) for i, s in enumerate(["dispatched", "checkpoint", "checkpoint", "delivered"])
    ]
    other = _event("shp-2", "dispatched")
    interleaved = [_at(events[0], 0), _at(other, 1), *[_at(e, 2 + i) for i, e in enumerate(events[1:])]]
    result = await store.apply(interleaved, _track, scope="p")
    assert result.applied == 5 and result.written_docs == 2
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"] == ["dispatched", "checkpoint", "checkpoint", "delivered"]


async def test_documents_are_stored_packed_in_three_values(store: AggregateStore) -> None:
    await store.apply([_at(_event("shp-1", "delivered"), 0)], _track, scope="p")
    coll = store.collection
    assert isinstance(coll, FakeCollection)
    stored = coll.docs["shp-1"]
    assert set(stored) == {"_id", "_v", BLOB} and isinstance(stored[BLOB], bytes)
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"] == ["delivered"] and doc["_v"] == 1


async def test_the_cache_spares_the_read_of_a_document_this_process_wrote(store: AggregateStore) -> None:
    first = await store.apply([_at(_event("shp-1", "dispatched"), 0)], _track, scope="p")
    assert first.reads == 1  # not known yet: read (and not found)
    second = await store.apply([_at(_event("shp-1", "checkpoint", 1), 1)], _track, scope="p")
    assert second.reads == 0 and second.applied == 1


async def test_the_cache_is_bounded_by_the_bytes_of_its_documents_not_their_count() -> None:
    """Documents of very different sizes: the cache keeps as many as fit its budget, the newest first."""
    store = AggregateStore(FakeCollection("docs"), source="/test", cache_mb=0.5)

    def big(doc: dict[str, Any] | None) -> Decision:
        return Decision(state={"rows": [f"baris {i:05d} " * 4 for i in range(500)]})  # about 25 KB of BSON

    await store.merge({f"d{i}": big for i in range(40)})
    budget = store.cache_bytes
    assert 0 < store.cached_bytes <= budget
    kept = await store.merge({f"d{i}": lambda d: Decision(state=None) for i in range(40)})
    assert len(kept.docs) == 40  # every one still there, the evicted ones read again
    small = AggregateStore(FakeCollection("docs"), source="/test", cache_mb=0.5)
    await small.merge({f"s{i}": lambda d: Decision(state={"n": 1}) for i in range(2_000)})
    assert small.cached_bytes <= small.cache_bytes
    assert store.cached_bytes // 40 > small.cached_bytes // 2_000  # each charged by its own size


async def test_a_late_remember_of_an_older_version_does_not_replace_the_newer_one() -> None:
    """A bulk write remembers its documents after its last chunk; a single write of the same document may
    have landed and been remembered meanwhile. The cache keeps the newer, which the database holds."""
    coll = FakeCollection("docs")
    store = AggregateStore(coll, source="/test")
    await store.merge({"d": lambda d: Decision(state={"eta": "lama"})})
    first = await store.current(["d"])
    await store.merge({"d": lambda d: Decision(state={"eta": "baru"})})
    cache = DocCache(1.0, 1.0)
    cache.put((await store.current(["d"]))["d"], 100)
    cache.put(first["d"], 100)  # the late remember of version 1
    held = cache.get("d")
    assert held is not None and held["eta"] == "baru" and held["_v"] == 2
    fresh = await store.merge({"d": lambda d: Decision(state=None)}, fresh=True)
    assert fresh.docs["d"]["eta"] == "baru"


async def test_documents_evicted_from_the_decoded_cache_are_served_from_their_packed_form() -> None:
    def big(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
        return Decision(
            state={"rows": [f"baris {i:05d} " * 4 for i in range(500)], "n": (doc or {}).get("n", 0) + 1}
        )

    events = [_at(_event(f"shp-{i}", "dispatched"), i) for i in range(40)]
    again = [_at(_event(f"shp-{i}", "checkpoint", 1), 40 + i) for i in range(40)]
    packed = AggregateStore(FakeCollection("docs"), source="/test", cache_mb=0.5, packed_cache_mb=1.0)
    await packed.apply(events, big, scope="p")
    assert (await packed.apply(again, big, scope="p")).reads == 0  # 40 × 25 KB do not fit; packed they do
    none = AggregateStore(FakeCollection("docs"), source="/test", cache_mb=0.5, packed_cache_mb=0)
    await none.apply(events, big, scope="p")
    assert (await none.apply(again, big, scope="p")).reads > 30  # the evicted ones are read again
    doc = await packed.get("shp-7")
    assert doc is not None and doc["n"] == 2


async def test_a_lost_race_is_reloaded_and_reapplied(store: AggregateStore) -> None:
    await store.apply([_at(_event("shp-1", "dispatched"), 0)], _track, scope="p")
    other = AggregateStore(store.collection, source="/test")  # another replica over the same collection
    await other.apply([_at(_event("shp-1", "checkpoint", 3), 0)], _track, scope="other")
    result = await store.apply([_at(_event("shp-1", "checkpoint"), 1)], _track, scope="p")  # stale cache
    assert result.conflicts == 1 and result.applied == 1
    doc = await store.get("shp-1")
    assert doc is not None and doc["seen"] == ["dispatched", "checkpoint", "checkpoint"]


async def test_a_rejected_event_does_not_stop_the_batch_and_is_reported_before_the_write(
    store: AggregateStore,
) -> None:
    def strict(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
        if env.data.status == "checkpoint":
            raise EventRejected("status: a checkpoint needs a place")
        return _track(doc, env)

    coll = store.collection
    assert isinstance(coll, FakeCollection)
    reported: list[tuple[str, bool]] = []

    async def before_write(rejected: Any) -> None:
        reported.extend((env.id, "shp-1" in coll.docs) for env, _ in rejected)

    bad = _event("shp-1", "checkpoint")
    items = [_at(_event("shp-1", "dispatched"), 0), _at(bad, 1)]
    result = await store.apply(items, strict, scope="p", before_write=before_write)
    assert result.applied == 1
    assert [e.id for e, _ in result.rejected] == [bad.id]
    assert reported == [(bad.id, False)]  # told before anything was written


async def test_an_event_that_changes_nothing_writes_nothing(store: AggregateStore) -> None:
    coll = store.collection
    assert isinstance(coll, FakeCollection)
    result = await store.apply([_at(_event("shp-1", "dispatched"), 0)], lambda d, e: Decision(state=None))
    assert result.applied == 1 and result.written_docs == 0 and coll.docs == {}


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


# -- the outbox ---------------------------------------------------------------------------------------------


async def test_an_event_is_saved_with_the_state_under_a_journal_and_published_without_a_query() -> None:
    box = _Outbox()
    delivered = _event("shp-1", "delivered")
    await box.store.apply([_at(delivered, 0)], _track, scope="p")
    doc = await box.store.get("shp-1")
    assert doc is not None and len(doc["_outbox"]) == 1
    entry = doc["_outbox"][0]
    assert entry["topic"] == TOPIC and entry["key"] == "shp-1"
    assert list(box.journals.docs) == [entry["j"]]  # the journal names the document
    assert box.journals.docs[entry["j"]]["ids"] == "shp-1"
    queries = box.coll.queries
    assert await box.relay.drain_once() == 1
    assert box.coll.queries == queries  # handed over in memory: nothing queried
    assert box.journals.docs == {}  # retired
    published = box.sent[0]
    assert published.causationid == delivered.id and published.id == entry["id"]
    assert box.relay.drain_once is not None and await box.relay.drain_once() == 0


async def test_the_next_write_drops_published_entries_and_nothing_else_writes_the_document() -> None:
    box = _Outbox()
    await box.store.apply([_at(_event("shp-1", "delivered"), 0)], _track, scope="p")
    await box.relay.drain_once()
    writes_before = box.coll.docs["shp-1"]["_v"]
    assert writes_before == 1  # the relay did not rewrite the document to remove the entry
    await box.store.apply([_at(_event("shp-1", "delivered", 9), 1)], _track, scope="p")
    doc = await box.store.get("shp-1")
    assert doc is not None and len(doc["_outbox"]) == 1 and doc["_outbox"][0]["id"] != box.sent[0].id


async def test_an_entry_written_while_the_relay_publishes_is_kept_for_its_own_journal() -> None:
    box = _Outbox()
    await box.store.apply([_at(_event("shp-1", "delivered"), 0)], _track, scope="p")
    await box.store.apply([_at(_event("shp-1", "delivered", 9), 1)], _track, scope="p")  # not published yet
    doc = await box.store.get("shp-1")
    assert doc is not None and len(doc["_outbox"]) == 2  # the first journal is still open: kept
    assert await box.relay.drain_once() == 2
    assert len({e.id for e in box.sent}) == 2 and box.journals.docs == {}


async def test_entries_out_of_a_journal_still_being_published_are_not_carried_by_the_next_write() -> None:
    """A consumer batch's journal goes out in slices; a document written between two slices keeps only
    what is not out yet, and a crash then recovers exactly that."""
    box = _Outbox()
    await box.store.apply(
        [_at(_event(f"shp-{n}", "delivered"), n) for n in (1, 2, 3)], _track, scope="p"
    )  # one journal, an entry in each of three documents
    box.relay.max_entries = box.relay.slice_entries = 1
    assert await box.relay.drain_once() == 1 and box.journals.docs != {}  # one out, the journal still open
    out = box.sent[0].partitionkey
    rest = sorted({"shp-1", "shp-2", "shp-3"} - {out})
    await box.store.apply(
        [_at(_event(shp, "checkpoint", 5), 10 + i) for i, shp in enumerate([out, rest[0]])], _track, scope="p"
    )
    written = await box.store.get(out)
    kept = await box.store.get(rest[0])
    assert written is not None and written["_outbox"] == []  # acknowledged: not carried
    assert kept is not None and len(kept["_outbox"]) == 1  # not out yet: carried
    restarted = OutboxRelay(
        OutboxJournal(box.journals),
        {"shipments": box.coll}.get,
        box.enqueue,
        RuntimeMetrics(CollectorRegistry(), "t"),
    )
    box.sent.clear()
    await restarted.start()  # as after a crash: recovery reads the journal's documents
    await restarted.stop()
    assert sorted(e.partitionkey for e in box.sent) == rest  # the acknowledged one is not sent again
    assert box.journals.docs == {}


async def test_the_running_relay_backs_off_through_failures_and_publishes_once_kafka_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    box = _Outbox()
    await box.relay.start()
    box.fail_times = 2
    with caplog.at_level(logging.WARNING, logger="siaga_runtime.outbox"):
        await box.store.apply([_at(_event("shp-1", "delivered"), 0)], _track, scope="p")
        for _ in range(200):  # bounded: the backoff is 0.2 s then 0.4 s
            if box.sent:
                break
            await asyncio.sleep(0.05)
        await box.relay.stop()
    assert len(box.sent) == 1 and box.journals.docs == {}
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 2 and "ConnectionError" in retries[0]


async def test_a_crash_before_the_journal_is_retired_publishes_again_with_the_same_id_and_in_order() -> None:
    box = _Outbox()
    await box.store.apply([_at(_event("shp-1", "delivered"), 0)], _track, scope="p")
    await box.store.apply([_at(_event("shp-1", "delivered", 9), 1)], _track, scope="p")
    box.fail = True
    with pytest.raises(ConnectionError):
        await box.relay.drain_once()  # the process dies here: the journals stay
    restarted = _Outbox()
    restarted.coll, restarted.journals = box.coll, box.journals
    restarted.journal = OutboxJournal(box.journals)
    restarted.relay = OutboxRelay(
        restarted.journal,
        {"shipments": box.coll}.get,
        restarted.enqueue,
        RuntimeMetrics(CollectorRegistry(), "t"),
    )
    await restarted.relay.start()  # recovery: every journal left behind, oldest first
    await restarted.relay.stop()
    doc = await AggregateStore(box.coll, source="/t").get("shp-1")
    assert doc is not None
    assert [e.id for e in restarted.sent] == [e["id"] for e in doc["_outbox"]]  # the same ids, in order
    assert box.journals.docs == {}


async def test_a_store_drops_the_entries_of_another_process_once_its_journal_is_retired() -> None:
    box = _Outbox()
    await box.store.apply([_at(_event("shp-1", "delivered"), 0)], _track, scope="p")
    await box.relay.drain_once()  # published and retired by the first process
    other = AggregateStore(
        box.coll, source="/t", journal=OutboxJournal(box.journals), on_outbox=lambda j, e: None
    )
    await other.apply([_at(_event("shp-1", "checkpoint", 5), 1)], _track, scope="p")
    doc = await other.get("shp-1")
    assert doc is not None and doc["_outbox"] == []  # it asked the journal: retired, so dropped


async def test_an_open_journal_of_another_process_keeps_its_entries() -> None:
    box = _Outbox()
    await box.store.apply([_at(_event("shp-1", "delivered"), 0)], _track, scope="p")  # not published yet
    other = AggregateStore(
        box.coll, source="/t", journal=OutboxJournal(box.journals), on_outbox=lambda j, e: None
    )
    await other.apply([_at(_event("shp-1", "checkpoint", 5), 1)], _track, scope="p")
    doc = await other.get("shp-1")
    assert doc is not None and len(doc["_outbox"]) == 1
    assert await box.relay.drain_once() == 1


async def test_recovery_publishes_only_what_is_stale_once_running() -> None:
    box = _Outbox()
    dead = AggregateStore(box.coll, source="/t", journal=OutboxJournal(box.journals))  # its relay died
    await dead.apply([_at(_event("shp-9", "delivered"), 0)], _track, scope="p")
    assert await box.relay.recover_once(older_than=timedelta(hours=1)) == 0  # fresh: still its owner's
    assert await box.relay.recover_once(older_than=timedelta(0)) == 1
    assert await box.relay.drain_once() == 1 and box.journals.docs == {}


def test_a_large_state_is_stored_compressed_and_earlier_zlib_blobs_are_still_read() -> None:
    doc = {"_id": "c:1", "_v": 3, "tps": {f"{i:03d}": {"ready": False, "dpt": 250 + i} for i in range(200)}}
    stored = pack(doc)
    assert stored[BLOB].subtype == ZSTD_SUBTYPE and len(stored[BLOB]) < len(bson.encode(doc)) / 3
    assert unpack(stored) == doc
    rest = {k: v for k, v in doc.items() if k not in ("_id", "_v")}
    older = {"_id": "c:1", "_v": 3, BLOB: Binary(zlib.compress(bson.encode(rest), 1), ZLIB_SUBTYPE)}
    assert unpack(older) == doc


async def test_the_store_counts_what_its_cache_answered_and_what_it_read_and_wrote(
    store: AggregateStore,
) -> None:
    """The counts behind ``siaga_store_*``: a new document is looked up (miss) and written; applied again it
    is answered by the cache and written again; after ``forget`` it is read from the database."""
    await store.apply([("shp-1", _event("shp-1", "dispatched"))], _track)
    await store.apply([("shp-1", _event("shp-1", "checkpoint", 1))], _track)
    store.forget("shp-1")
    await store.apply([("shp-1", _event("shp-1", "delivered", 2))], _track)
    cache = store.cache
    assert (cache.hits_decoded, cache.hits_packed, cache.misses) == (1, 0, 2)
    assert (store.reads, store.writes) == (2, 3)
    assert store.written_bytes > 3 * 40

    registry = CollectorRegistry()
    registry.register(StoreCollector("svc", {"shipments": store}))
    labels = {"service": "svc", "store": "shipments"}
    assert registry.get_sample_value("siaga_store_cache_lookups_total", {**labels, "tier": "miss"}) == 2
    assert registry.get_sample_value("siaga_store_cache_lookups_total", {**labels, "tier": "decoded"}) == 1
    assert registry.get_sample_value("siaga_store_documents_written_total", labels) == 3
    assert registry.get_sample_value("siaga_store_written_bytes_total", labels) == store.written_bytes


def _recording_enqueue(sent: list[str]) -> Any:
    """An enqueue that records each value it is handed, acknowledged at once."""

    async def enqueue(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
        sent.append(value.decode())

        async def ack() -> None:
            return None

        return ack()

    return enqueue


def _journal_entries(journal: str, keys: list[str]) -> list[OutboxEntry]:
    return [
        OutboxEntry(id=f"{journal}-{i}", topic=TOPIC, key=k, value=f"{journal}-{i}", type="t", j=journal)
        for i, k in enumerate(keys)
    ]


async def test_the_relay_publishes_a_small_journal_between_the_slices_of_a_large_one_keeping_key_order() -> (
    None
):
    """The events of a sweep are not held behind a consumer batch's thousands; the same key stays in order."""
    sent: list[str] = []
    enqueue = _recording_enqueue(sent)
    entries = _journal_entries

    journals = FakeCollection("_outbox_journal")
    no_collections: dict[str, FakeCollection] = {}
    relay = OutboxRelay(
        OutboxJournal(journals),
        no_collections.get,
        enqueue,
        RuntimeMetrics(CollectorRegistry(), "t"),
        max_entries=5_000,
        slice_entries=500,
    )
    relay.notify("big", entries("big", [f"k{i}" for i in range(1_200)]))
    relay.notify("sweep", entries("sweep", ["x"]))
    relay.notify("same-key", entries("same-key", ["k5"]))
    relay.notify("empty", [])

    assert await relay.drain_once() == 501
    assert sent[0] == "sweep-0" and sent[1:] == [f"big-{i}" for i in range(500)]
    assert relay.backlog == 701
    assert await relay.drain_once() == 500  # "same-key" shares k5 with "big": it waits for all of it
    assert await relay.drain_once() == 201
    assert sent[-201:] == [*(f"big-{i}" for i in range(1_000, 1_200)), "same-key-0"]
    assert relay.backlog == 0 and await relay.drain_once() == 0
    assert len(sent) == 1_202 == len(set(sent))


async def test_a_sweeps_journal_is_published_in_the_next_round_however_many_batches_are_queued() -> None:
    """Twelve consumer batches of 500 events are more than a round; the sweep queued after them goes out in
    the first round, and a small journal sharing a key with a batch still waits for that batch."""
    sent: list[str] = []
    enqueue = _recording_enqueue(sent)
    entries = _journal_entries

    no_collections: dict[str, FakeCollection] = {}
    relay = OutboxRelay(
        OutboxJournal(FakeCollection("_outbox_journal")),
        no_collections.get,
        enqueue,
        RuntimeMetrics(CollectorRegistry(), "t"),
        max_entries=5_000,
        slice_entries=500,
        small_entries=200,
    )
    for b in range(12):
        relay.notify(f"batch{b}", entries(f"batch{b}", [f"b{b}-{i}" for i in range(500)]))
    relay.notify("sweep", entries("sweep", [f"s{i}" for i in range(150)]))
    relay.notify("tied", entries("tied", ["b11-7"]))  # the same key as an entry of the last batch

    assert await relay.drain_once() == 5_150
    assert sent[:150] == [f"sweep-{i}" for i in range(150)]
    assert sent[150:] == [f"batch{b}-{i}" for b in range(10) for i in range(500)]
    assert "tied-0" not in sent
    assert await relay.drain_once() == 1_001
    assert sent[-501:] == [*(f"batch11-{i}" for i in range(500)), "tied-0"]
    assert relay.backlog == 0 and len(sent) == len(set(sent)) == 6_151


async def test_a_batch_over_many_documents_is_applied_a_few_documents_at_a_time_with_the_same_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Documents two at a time: every document gets all its events, in order, in one write (5 writes for
    10 events); the counts add up over the parts, and every emitted event reaches the relay."""
    monkeypatch.setattr("siaga_runtime.batch_writes.DOCS_PER_ROUND", 2)
    box = _Outbox()
    items = [
        _at(_event(f"shp-{i % 5}", status, n), n)
        for n, (i, status) in enumerate((i, s) for s in ("dispatched", "delivered") for i in range(5))
    ]
    result = await box.store.apply(items, _track, scope="p")
    assert (result.applied, result.written_docs, result.emitted) == (10, 5, 5)
    assert result.applied_types["siaga.logistics.shipment-status-reported"] == 10
    for i in range(5):
        doc = await box.store.get(f"shp-{i}")
        assert doc is not None and doc["seen"] == ["dispatched", "delivered"]
    assert len(box.journals.docs) == 3  # one journal per part: 2 + 2 + 1 documents
    assert await box.relay.drain_once() == 5 and box.journals.docs == {}
    again = await box.store.apply(items, _track, scope="p")
    assert (again.applied, again.duplicates) == (0, 10)


def _needs_dispatch(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
    """A rule that, like logistics', refuses a checkpoint of a shipment never dispatched."""
    seen = list((doc or {}).get("seen", []))
    if env.data.status == "checkpoint" and "dispatched" not in seen:
        raise ValueError("the shipment was never dispatched")
    if env.data.status in seen:
        return Decision(state=None)  # a repeat changes nothing
    return Decision(state={"seen": [*seen, env.data.status]})


async def test_a_rejection_decided_on_a_cached_copy_is_decided_again_on_a_fresh_read() -> None:
    """Two instances over one collection: a holds the shipment cached from before b dispatched it (its
    partition moved to b and back). a's checkpoint is not refused on that stale copy."""
    coll = FakeCollection("shipments")
    a = AggregateStore(coll, source="/a", clock=ManualClock(T0))
    b = AggregateStore(coll, source="/b", clock=ManualClock(T0))
    await a.mutate("shp-1", lambda d: Decision(state={"seen": []}))  # a writes it, and caches it
    await b.apply([_at(_event("shp-1", "dispatched", 1), 1)], _needs_dispatch, scope="p")
    result = await a.apply([_at(_event("shp-1", "checkpoint", 2), 2)], _needs_dispatch, scope="p")
    assert result.rejected == []
    assert result.applied == 1
    assert (await a.get("shp-1") or {})["seen"] == ["dispatched", "checkpoint"]


async def test_a_rule_still_refuses_an_event_on_the_fresh_document() -> None:
    store = AggregateStore(FakeCollection("shipments"), source="/a", clock=ManualClock(T0))
    await store.mutate("shp-1", lambda d: Decision(state={"seen": []}))
    result = await store.apply([_at(_event("shp-1", "checkpoint", 2), 1)], _needs_dispatch, scope="p")
    assert [str(exc) for _, exc in result.rejected] == ["the shipment was never dispatched"]
