"""The three measured paths, each run in its own subprocess: the Siaga runtime, a naive FastStream handler
and raw aiokafka."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from pathlib import Path
from typing import Any

from .common import STATUS_TOPIC
from .measure import PhaseTimers, RssSampler, TimedCollection, counter_total, latency_summary, metric_total
from .profiling import summarise_profile


async def path_runtime(spec: dict[str, Any]) -> dict[str, Any]:
    from siaga_runtime import Projection, RuntimeSettings, ServiceRuntime, configure_logging
    from siaga_schemas.events.logistics import ShipmentStatusReported
    from siaga_schemas.topics import LOGISTICS_EVENTS, LOGISTICS_STATUS_UPDATES

    from bench.shipments import decide, route

    configure_logging("benchrt", "INFO", json_logs=True)
    settings = RuntimeSettings(
        service_name="benchrt",
        kafka_bootstrap_servers=spec["kafka"],
        mongodb_url=spec["mongodb"],
        mongodb_database=spec["database"],
        kafka_topic_prefix=spec["prefix"],
        kafka_group_prefix=spec["prefix"].rstrip("."),
        shutdown_timeout_s=20.0,
    )
    timers = PhaseTimers()
    runtime = ServiceRuntime(settings)
    store = runtime.store("shipments")
    store._collection = lambda: TimedCollection(runtime.db["shipments"], timers)
    store._read = timers.wrap_async("mongo find_one by _id (loads the cache misses, verify)", store._read)  # type: ignore[method-assign]
    runtime.publisher(LOGISTICS_EVENTS)
    timed_decide = timers.wrap_sync("decide (reducer)", decide)
    pipeline = runtime.subscribe(
        LOGISTICS_STATUS_UPDATES,
        [Projection("shipments", store, route, timed_decide)],
        accept={ShipmentStatusReported.event_type},
    )
    pipeline._decode = timers.wrap_sync("decode + validate (json + pydantic)", pipeline._decode)  # type: ignore[method-assign]
    batches: list[float] = []
    sizes: list[int] = []
    marks: dict[str, float] = {}
    inner_process = pipeline.process

    async def process(records: Any) -> None:
        started = time.perf_counter()
        marks.setdefault("first", started)
        if "last_end" in marks:
            timers.add("between batches (Kafka fetch + FastStream + commit)", started - marks["last_end"])
        await inner_process(records)
        ended = time.perf_counter()
        marks["last_end"] = ended
        batches.append(ended - started)
        sizes.append(len(records))

    pipeline.process = process  # type: ignore[method-assign]

    expected_records = spec["records"]
    expected_emits = spec["emits"]
    budget = spec["budget_s"]
    profiler = None
    if spec.get("profile_out"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="disabled")
    with RssSampler() as rss:
        await runtime.start()
        if profiler:
            profiler.start()
        deadline = time.perf_counter() + budget
        done_at = None
        applied_at = None
        while time.perf_counter() < deadline:
            applied = counter_total(runtime.metrics.events_applied)
            dups = counter_total(runtime.metrics.duplicates_skipped)
            published = counter_total(runtime.metrics.outbox_published)
            if applied_at is None and applied + dups >= expected_records:
                applied_at = time.perf_counter()
            if applied + dups >= expected_records and published >= expected_emits:
                done_at = time.perf_counter()
                break
            await asyncio.sleep(0.025)
        if profiler:
            profiler.stop()
        applied = metric_total(runtime.registry, "siaga_events_applied_total")
        dups = metric_total(runtime.registry, "siaga_events_duplicates_skipped_total")
        published = metric_total(runtime.registry, "siaga_outbox_published_total")
        end = done_at or time.perf_counter()
        await runtime.stop()
    elapsed = end - marks.get("first", end)
    # What the store holds (after timing): the documents' state and dedup marks, and the journal.
    from pymongo import AsyncMongoClient
    from siaga_runtime.packing import unpack
    from siaga_runtime.service import JOURNAL_COLLECTION

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(spec["mongodb"], tz_aware=True)
    try:
        coll = client[spec["database"]]["shipments"]
        docs = [unpack(d) async for d in coll.find({})]
        journal_left = await client[spec["database"]][JOURNAL_COLLECTION].count_documents({})
    finally:
        await client.close()
    result: dict[str, Any] = {
        "path": "runtime",
        "completed": done_at is not None,
        "records_consumed": int(applied + dups),
        "applied": int(applied),
        "duplicates_skipped": int(dups),
        "outbox_published": int(published),
        "store_docs": len(docs),
        "store_marks_max": max((len(d.get("_wm", {})) for d in docs), default=0),
        "store_delivered": sum(1 for d in docs if d.get("status") == "delivered"),
        "journal_left": journal_left,
        "elapsed_s": elapsed,
        "events_per_s": (applied + dups) / elapsed if elapsed > 0 else 0.0,
        "all_applied_after_s": (applied_at - marks["first"]) if applied_at and "first" in marks else None,
        "expected_outbox_events": expected_emits,
        "batch_latency": latency_summary(batches),
        "batch_size_mean": statistics.fmean(sizes) if sizes else 0,
        "batches": len(batches),
        "phases": timers.report(),
        **rss.summary(),
    }
    if profiler:
        text = profiler.output_text(unicode=False, color=False, show_all=False, timeline=False)
        await asyncio.to_thread(Path(spec["profile_out"]).write_text, text)
        result["profile"] = summarise_profile(profiler, elapsed)
    return result


async def path_naive(spec: dict[str, Any]) -> dict[str, Any]:
    from faststream import AckPolicy
    from faststream.kafka import KafkaBroker
    from faststream.kafka.annotations import KafkaMessage
    from pymongo import AsyncMongoClient
    from siaga_runtime import AggregateStore
    from siaga_schemas import decode_event
    from siaga_schemas.events.logistics import ShipmentStatusReported

    from bench.shipments import decide, route

    logging.basicConfig(level=logging.INFO)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(spec["mongodb"], tz_aware=True)
    store = AggregateStore(
        client[spec["database"]]["shipments"], source="/siaga/benchnaive", name="shipments"
    )
    broker = KafkaBroker(spec["kafka"], client_id="siaga-benchnaive")  # FastStream's default logging (INFO)
    topic = spec["prefix"] + STATUS_TOPIC
    accept = {ShipmentStatusReported.event_type}
    latencies: list[float] = []
    marks: dict[str, float] = {}
    counts = {"records": 0, "applied": 0, "duplicates": 0, "published": 0}
    done = asyncio.Event()
    first_seen = asyncio.Event()

    @broker.subscriber(  # type: ignore[untyped-decorator]  # FastStream's decorator is untyped
        topic,
        group_id=spec["prefix"] + "naive",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
    )
    async def handle(message: KafkaMessage) -> None:
        started = time.perf_counter()
        marks.setdefault("first", started)
        first_seen.set()
        raw = message.raw_message
        env = decode_event(raw.value, list(raw.headers or ()), accept=accept)  # type: ignore[union-attr]
        doc_id = route(env)
        if doc_id is not None:
            key = env.id
            before = await store.get(doc_id)
            if before is not None and key in before.get("_keys", ()):
                counts["duplicates"] += 1
            else:
                _, emitted = await store.mutate(
                    doc_id, lambda doc: decide(doc, env), idempotency_key=key, cause=env
                )
                counts["applied"] += 1
                for out in emitted:
                    await broker.publish(
                        out.to_bytes(),
                        spec["prefix"] + out.data.topic,
                        key=out.partitionkey.encode(),
                        headers={"content-type": "application/cloudevents+json"},
                    )
                    counts["published"] += 1
        counts["records"] += 1
        ended = time.perf_counter()
        marks["last"] = ended
        latencies.append(ended - started)
        if counts["records"] >= spec["records"]:
            done.set()

    with RssSampler() as rss:
        await broker.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_seen.wait(), 60)  # group join
        with contextlib.suppress(TimeoutError):  # the budget starts at the first message
            await asyncio.wait_for(done.wait(), spec["budget_s"])
        end_marks = dict(marks)
        snapshot = dict(counts)
        await broker.stop()
        await client.close()
    elapsed = end_marks.get("last", 0.0) - end_marks.get("first", 0.0)
    return {
        "path": "naive",
        "completed": snapshot["records"] >= spec["records"],
        "records_consumed": snapshot["records"],
        "applied": snapshot["applied"],
        "duplicates_skipped": snapshot["duplicates"],
        "outbox_published": snapshot["published"],
        "elapsed_s": elapsed,
        "budget_s": spec["budget_s"],
        "events_per_s": snapshot["records"] / elapsed if elapsed > 0 else 0.0,
        "message_latency": latency_summary(latencies[: snapshot["records"]]),
        **rss.summary(),
    }


async def path_raw(spec: dict[str, Any]) -> dict[str, Any]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        spec["prefix"] + STATUS_TOPIC,
        bootstrap_servers=spec["kafka"],
        group_id=spec["prefix"] + "raw",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 2**20,
    )
    batches: list[float] = []
    count = 0
    nbytes = 0
    first = last = 0.0
    with RssSampler() as rss:
        await consumer.start()
        deadline = time.perf_counter() + spec["budget_s"] + 30
        try:
            while count < spec["records"] and time.perf_counter() < deadline:
                started = time.perf_counter()
                got = await consumer.getmany(timeout_ms=200, max_records=2000)
                n = sum(len(v) for v in got.values())
                if not n:
                    continue
                ended = time.perf_counter()
                if not first:
                    first = started  # includes the wait of the call that returned the first records
                batches.append(ended - started)
                for recs in got.values():
                    for r in recs:
                        nbytes += len(r.value or b"")
                count += n
                last = ended
        finally:
            await consumer.stop()
    elapsed = last - first
    return {
        "path": "raw",
        "completed": count >= spec["records"],
        "records_consumed": count,
        "bytes_consumed": nbytes,
        "elapsed_s": elapsed,
        "events_per_s": count / elapsed if elapsed > 0 else 0.0,
        "batch_latency": latency_summary(batches),
        **rss.summary(),
    }


WORKERS = {"runtime": path_runtime, "naive": path_naive, "raw": path_raw}
