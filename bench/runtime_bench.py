"""Runtime benchmark: the Siaga batch path against a naive FastStream handler and raw aiokafka, in one run.

Run ``make bench`` or ``uv run python -m bench.runtime_bench [--events N | --quick]``. For each path a fresh
topic (unique prefix per run) is filled with the same pre-produced stream of ShipmentStatusReported
envelopes, then the path runs in its own subprocess (so peak RSS is per path):

1. ``runtime``: a real ``ServiceRuntime`` with one store and one ``Projection`` (status reducer), its batch
   subscriber, idempotent bulk apply, outbox relay and offset commit; timed from the first batch handed to
   the pipeline until every record is applied or skipped as a duplicate AND every outbox event is published.
2. ``naive``: a FastStream per-message subscriber (``AckPolicy.ACK``, FastStream's default INFO logging)
   doing the same document write per message (load by ``_id``, reducer, version-guarded replace with the
   dedup id, emitted events published directly). It runs for a fixed time budget and reports its rate.
3. ``raw``: aiokafka ``getmany`` over the same topic, no decoding, no persistence.

Then a shorter profiled run of path 1 (pyinstrument) and a probe of the MongoDB-wire server's operation
costs at the collection size path 1 reached explain where the time goes. Results: ``runtime.json``,
``runtime.md`` and ``runtime_profile.txt`` in ``bench/results/`` (or ``--results-dir``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python bench/runtime_bench.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
STATUS_TOPIC = "siaga.logistics.status-updates.v1"
EVENTS_TOPIC = "siaga.logistics.events.v1"
PARTITIONS = 12  # as LOGISTICS_STATUS_UPDATES


# -- helpers shared by every worker -----------------------------------------------------------------------


class RssSampler:
    """Peak resident set size of this process, sampled every 20 ms on a thread (the event loop may be busy)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.proc = psutil.Process()
        self.interval = interval
        self.baseline = self.proc.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    def summary(self) -> dict[str, float]:
        return {"baseline_rss_mb": self.baseline / 2**20, "peak_rss_mb": self.peak / 2**20}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50_ms": pct(ms, 50),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms) if ms else None,
        "mean_ms": statistics.fmean(ms) if ms else None,
    }


def metric_total(registry: Any, name: str) -> float:
    total = 0.0
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == name:
                total += sample.value
    return total


def counter_total(counter: Any) -> float:
    """Sum of a (labelled) counter's values; cheap enough to poll (collects one metric only)."""
    return sum(s.value for family in counter.collect() for s in family.samples if s.name.endswith("_total"))


class PhaseTimers:
    """Wall time per phase of the runtime path, collected by thin wrappers (no change to the runtime)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds
        self.calls[name] += 1

    def wrap_async(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)

        return timed

    def wrap_sync(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)

        return timed

    def report(self) -> dict[str, Any]:
        return {k: {"seconds": round(v, 4), "calls": self.calls[k]} for k, v in sorted(self.seconds.items())}


class TimedCollection:
    """Times the write calls the store and the relay make on a collection; everything else passes through."""

    def __init__(self, inner: Any, timers: PhaseTimers) -> None:
        self._inner = inner
        self._timers = timers
        self.bulk_write = timers.wrap_async("mongo bulk_write (insert + {_id,_v} replace)", inner.bulk_write)
        self.update_one = timers.wrap_async("mongo update_one", inner.update_one)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# -- path 1: the runtime ----------------------------------------------------------------------------------


async def path_runtime(spec: dict[str, Any]) -> dict[str, Any]:
    from siaga_runtime import Projection, RuntimeSettings, ServiceRuntime, configure_logging
    from siaga_schemas.events.logistics import ShipmentStatusReported
    from siaga_schemas.topics import LOGISTICS_EVENTS, LOGISTICS_STATUS_UPDATES

    from bench.shipments import decide, route

    configure_logging("benchrt", "INFO", json_logs=True)
    settings = RuntimeSettings(
        service_name="benchrt",
        kafka_bootstrap_servers=spec["kafka"],
        mongodb_url=spec["mongodb"],  # type: ignore[arg-type]
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


def summarise_profile(profiler: Any, elapsed: float) -> dict[str, Any]:
    """Self time by category and the heaviest frames, from pyinstrument's call tree."""
    session = profiler.last_session
    root = session.root_frame()
    self_time: dict[tuple[str, str], float] = defaultdict(float)
    inclusive: dict[tuple[str, str], float] = defaultdict(float)

    def walk(frame: Any, seen: frozenset[tuple[str, str]]) -> None:
        if frame.is_synthetic:  # "[self]" leaves: already in their parent's total_self_time
            return
        key = (frame.function or "?", frame.file_path_short or frame.file_path or "?")
        self_time[key] += frame.total_self_time
        if key not in seen:  # count recursion once
            inclusive[key] += frame.time
        for child in frame.children:
            walk(child, seen | {key})

    if root is not None:
        walk(root, frozenset())
    categories: dict[str, float] = defaultdict(float)
    for (function, path), seconds in self_time.items():
        categories[categorise(function, path)] += seconds
    total = sum(categories.values()) or 1.0
    top_self = sorted(self_time.items(), key=lambda kv: kv[1], reverse=True)[:15]
    heavy = [
        (k, v)
        for k, v in sorted(inclusive.items(), key=lambda kv: kv[1], reverse=True)
        if any(m in k[1] for m in ("siaga_runtime", "pymongo", "siaga_schemas", "aiokafka", "bench"))
    ][:15]
    return {
        "sampled_s": round(session.duration, 3),
        "measured_path_s": round(elapsed, 3),
        "self_time_by_category": {
            k: {"seconds": round(v, 3), "share": round(v / total, 3)}
            for k, v in sorted(categories.items(), key=lambda kv: kv[1], reverse=True)
        },
        "top_self_frames": [{"function": f, "file": p, "seconds": round(s, 3)} for (f, p), s in top_self],
        "top_inclusive_frames": [{"function": f, "file": p, "seconds": round(s, 3)} for (f, p), s in heavy],
    }


def categorise_was_other(frame: dict[str, Any]) -> bool:
    """Built-in poll frames were filed under "other" by the first version of ``categorise``."""
    return frame["file"] == "<built-in>" and "poll" in frame["function"]


def recategorise(profile: dict[str, Any]) -> None:
    """Re-file the top self-time frames of a saved profile under the current categories."""
    cats = profile.get("self_time_by_category")
    if not cats:
        return
    secs = {k: v["seconds"] for k, v in cats.items()}
    for f in profile.get("top_self_frames", []):
        new = categorise(f["function"], f["file"])
        if new != "other" and categorise_was_other(f) and secs.get("other", 0) >= f["seconds"]:
            secs["other"] -= f["seconds"]
            secs[new] = secs.get(new, 0) + f["seconds"]
    total = sum(secs.values()) or 1.0
    profile["self_time_by_category"] = {
        k: {"seconds": round(v, 3), "share": round(v / total, 3)}
        for k, v in sorted(secs.items(), key=lambda kv: kv[1], reverse=True)
    }


def categorise(function: str, path: str) -> str:
    p = path.replace("\\", "/")
    if "epoll" in function or function in ("select.select", "poll.poll", "kqueue.control"):
        return "idle: event loop waiting on sockets (server round trips, fetch waits)"
    if function in ("select", "poll", "epoll", "_run_once") and ("selectors" in p or "asyncio" in p):
        return "idle: event loop waiting on sockets (server round trips, fetch waits)"
    if "[await]" in function or "[idle]" in function or ("[self]" in function and "selectors" in p):
        return "idle: event loop waiting on sockets (server round trips, fetch waits)"
    if "pymongo" in p or "bson" in p:
        return "MongoDB driver (BSON encode/decode, wire protocol)"
    if "pydantic" in p or "siaga_schemas" in p or "json" in p:
        return "decode/validate/encode (json, pydantic, schemas)"
    if "aiokafka" in p or "kafka" in p:
        return "Kafka client (aiokafka)"
    if "faststream" in p or "fast_depends" in p:
        return "FastStream"
    if "siaga_runtime" in p:
        return "runtime (store, pipeline, relay)"
    if "prometheus" in p:
        return "metrics"
    if "logging" in p or "pythonjsonlogger" in p:
        return "logging"
    if "bench/" in p:
        return "benchmark harness (reducer, wrappers)"
    if "asyncio" in p or "selectors" in p:
        return "asyncio machinery"
    return "other"


# -- path 2: naive FastStream per-message handler -------------------------------------------------------


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

    @broker.subscriber(
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


# -- path 3: raw aiokafka ---------------------------------------------------------------------------------


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


# -- orchestration ----------------------------------------------------------------------------------------


def resolve_servers() -> tuple[str, str, str]:
    kafka, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    if kafka and mongo:
        return kafka, mongo, "environment"
    try:
        from siaga_devstack import ensure_up

        endpoints = ensure_up()
        return endpoints.kafka_bootstrap, endpoints.mongodb_url, "siaga_devstack.ensure_up()"
    except ImportError:
        return kafka or "127.0.0.1:19092", mongo or "mongodb://127.0.0.1:27999", "probe defaults"


async def produce(kafka: str, topic: str, records: list[tuple[bytes, bytes]]) -> float:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        prefix = topic.removesuffix(STATUS_TOPIC)
        wanted = [(topic, PARTITIONS), (prefix + EVENTS_TOPIC, PARTITIONS)]
        for name, partitions in wanted:
            if name not in existing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka, linger_ms=20, max_batch_size=512 * 1024, acks="all", enable_idempotence=True
    )
    await producer.start()
    started = time.perf_counter()
    headers = [("content-type", b"application/cloudevents+json")]
    try:
        pending = []
        for key, value in records:
            pending.append(await producer.send(topic, value=value, key=key, headers=headers))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(records) / (time.perf_counter() - started)


def run_worker(path: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_file.write_text(json.dumps(spec))
        cmd = [sys.executable, "-m", "bench.runtime_bench", "--worker", path, "--spec", str(spec_file)]
        cmd += ["--out", str(out_file)]
        log_file = Path(tmp) / "worker.log"
        with log_file.open("wb") as log_out:
            proc = subprocess.run(cmd, cwd=ROOT, stdout=log_out, stderr=subprocess.STDOUT, timeout=timeout)
        if proc.returncode != 0 or not out_file.exists():
            tail = log_file.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"worker {path} failed (exit {proc.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads(out_file.read_text())
        log_lines = log_file.read_text(errors="replace").count("\n")
        result["worker_log_lines"] = log_lines
        return result


async def probe_store_costs(mongo: str, database: str) -> dict[str, Any]:
    """Cost of each MongoDB-wire operation the store uses, on the collection path 1 left behind."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo, tz_aware=True)
    try:
        coll = client[database]["shipments"]
        all_ids = [d["_id"] async for d in coll.find({}, {"_id": 1})]
        size = len(all_ids)
        if size < 40:
            return {"collection_docs": size}
        # spread over the collection: a scan that stops at the first match is cheap for the first rows only
        step = size // 40
        picked = [all_ids[i * step + step // 2] for i in range(40)]
        docs = {d["_id"]: d async for d in coll.find({"_id": {"$in": picked}})}
        picked = [i for i in picked if i in docs]

        async def timed(fn: Callable[[Any], Any], ids: list[Any]) -> float:
            started = time.perf_counter()
            for i in ids:
                await fn(i)
            return (time.perf_counter() - started) / len(ids) * 1000

        out: dict[str, Any] = {"collection_docs": size}
        out["find_one {_id} ms"] = await timed(lambda i: coll.find_one({"_id": i}), picked[:20])
        out["find {_id: {$in: 50 ids}} ms"] = await timed(
            lambda i: coll.find({"_id": {"$in": all_ids[:: max(1, size // 50)][:50]}}).to_list(None),
            [0, 1, 2],
        )
        out["replace_one {_id} ms"] = await timed(
            lambda i: coll.replace_one({"_id": i}, docs[i]), picked[:10]
        )
        out["replace_one {_id, _v} ms (store CAS)"] = await timed(
            lambda i: coll.replace_one({"_id": i, "_v": docs[i]["_v"]}, docs[i]), picked[10:20]
        )
        out["update_one {_id, _v} $inc ms"] = await timed(
            lambda i: coll.update_one({"_id": i, "_v": docs[i]["_v"]}, {"$inc": {"probe": 1}}), picked[20:30]
        )
        out["update_one {_id} $inc ms"] = await timed(
            lambda i: coll.update_one({"_id": i}, {"$inc": {"probe": 1}}), picked[30:40]
        )
        return out
    finally:
        await client.close()


async def drop_databases(mongo: str, names: list[str]) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    try:
        for name in names:
            with contextlib.suppress(Exception):
                await client.drop_database(name)
    finally:
        await client.close()


async def server_info(kafka: str, mongo: str) -> dict[str, Any]:
    from pymongo import AsyncMongoClient

    info: dict[str, Any] = {"kafka_bootstrap": kafka}
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    try:
        build = await client.admin.command("buildInfo")
        info["mongodb_wire_version"] = build.get("version")
        info["ferretdb_version"] = build.get("ferretdbVersion")
    except Exception as exc:  # noqa: BLE001 - the version is informative only
        info["mongodb_wire_version"] = f"unknown ({type(exc).__name__})"
    finally:
        await client.close()
    gomod = ROOT / "deploy" / "ferretdb" / "go.mod"
    if gomod.exists():
        for line in gomod.read_text().splitlines():
            if line.strip().startswith(
                ("github.com/FerretDB/FerretDB ", "require github.com/FerretDB/FerretDB ")
            ):
                info["ferretdb_module"] = line.split()[-1]
                break
    jars = sorted((ROOT / ".cache" / "kafka" / "lib").glob("kafka_2.13-*.jar"))
    if jars:
        info["kafka_version"] = jars[-1].stem.removeprefix("kafka_2.13-")
    return info


def machine_info() -> dict[str, Any]:
    import importlib.metadata as md

    versions = {}
    for pkg in ("faststream", "aiokafka", "pymongo", "pydantic", "pyinstrument"):
        with contextlib.suppress(md.PackageNotFoundError):
            versions[pkg] = md.version(pkg)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


async def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    from bench.shipments import make_stream

    kafka, mongo, how = resolve_servers()
    run_id = uuid.uuid4().hex[:8]
    print(f"bench {run_id}: kafka={kafka} mongodb={mongo} ({how})", flush=True)
    started = time.perf_counter()
    stream = make_stream(args.events, seed=args.seed)
    print(
        f"stream: {len(stream.records)} records, {stream.distinct} distinct, {stream.duplicates} re-sent, "
        f"{stream.shipments} shipments, {stream.mean_bytes:.0f} B/record "
        f"(generated in {time.perf_counter() - started:.1f}s)",
        flush=True,
    )
    paths = [p for p in ("runtime", "naive", "raw") if p in args.paths.split(",")]
    results: dict[str, Any] = {}
    databases: list[str] = []
    produce_rates: dict[str, float] = {}
    probe: dict[str, Any] = {}
    try:
        for path in paths:
            prefix = f"bench{run_id}{path[:2]}."
            database = f"bench{run_id}_{path}"
            databases.append(database)
            produce_rates[path] = await produce(kafka, prefix + STATUS_TOPIC, stream.records)
            budget = {"runtime": args.runtime_budget_s, "naive": args.naive_budget_s, "raw": 120.0}[path]
            spec = {
                "kafka": kafka,
                "mongodb": mongo,
                "prefix": prefix,
                "database": database,
                "records": len(stream.records),
                "emits": stream.delivered_shipments,
                "budget_s": budget,
            }
            print(f"path {path}: running (budget {budget:.0f}s)...", flush=True)
            results[path] = run_worker(path, spec, timeout=budget + 180)
            r = results[path]
            print(
                f"path {path}: {r['records_consumed']} records in {r['elapsed_s']:.2f}s = "
                f"{r['events_per_s']:,.0f} ev/s, peak RSS {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
            if path == "runtime":
                probe = await probe_store_costs(mongo, database)
        profile: dict[str, Any] | None = None
        if not args.no_profile and "runtime" in paths:
            n = min(args.profile_events, len(stream.records))
            pstream = make_stream(n, seed=args.seed + 1)
            prefix = f"bench{run_id}pf."
            database = f"bench{run_id}_profile"
            databases.append(database)
            await produce(kafka, prefix + STATUS_TOPIC, pstream.records)
            profile_out = Path(args.results_dir) / "runtime_profile.txt"
            spec = {
                "kafka": kafka,
                "mongodb": mongo,
                "prefix": prefix,
                "database": database,
                "records": len(pstream.records),
                "emits": pstream.delivered_shipments,
                "budget_s": args.runtime_budget_s,
                "profile_out": str(profile_out),
            }
            print(f"profile: runtime path on {n} records with pyinstrument...", flush=True)
            profiled = run_worker("runtime", spec, timeout=args.runtime_budget_s + 180)
            profile = {
                "records": len(pstream.records),
                "events_per_s_under_profiler": profiled["events_per_s"],
                "completed": profiled["completed"],
                "phases": profiled["phases"],
                "elapsed_s": profiled["elapsed_s"],
                **profiled.get("profile", {}),
                "text_report": profile_out.name,
            }
    finally:
        if not args.keep_data:
            await drop_databases(mongo, databases)
    report = {
        "benchmark": "runtime",
        "run_id": run_id,
        "servers_from": how,
        "machine": machine_info(),
        "servers": await server_info(kafka, mongo),
        "stream": {
            "records": len(stream.records),
            "distinct_events": stream.distinct,
            "exact_duplicates": stream.duplicates,
            "shipments": stream.shipments,
            "delivered_shipments": stream.delivered_shipments,
            "mean_record_bytes": round(stream.mean_bytes, 1),
            "partitions": PARTITIONS,
            "producer_rate_per_path": {k: round(v) for k, v in produce_rates.items()},
        },
        "paths": results,
        "store_operation_costs": probe,
        "profile": profile,
        "targets": {"runtime_over_naive": 10.0, "runtime_events_per_s": 20_000},
    }
    rt, nv = results.get("runtime"), results.get("naive")
    if rt and nv and nv["events_per_s"] > 0:
        report["ratio_runtime_over_naive"] = rt["events_per_s"] / nv["events_per_s"]
    if rt:
        report["targets_met"] = {
            "runtime_over_naive": report.get("ratio_runtime_over_naive", 0) >= 10.0,
            "runtime_events_per_s": rt["events_per_s"] >= 20_000 and rt["completed"],
        }
    report["analysis"] = analyse(report)
    return report


def analyse(report: dict[str, Any]) -> list[str]:
    """Plain sentences on what limits the runtime path, from the phase timers, profile and server probe."""
    out: list[str] = []
    rt = report["paths"].get("runtime")
    if not rt:
        return out
    phases = {k: v["seconds"] for k, v in rt.get("phases", {}).items()}
    total = rt["elapsed_s"] or 1.0
    bulk = phases.get("mongo bulk_write (insert + {_id,_v} replace)", 0.0)
    loads = phases.get("mongo find_one by _id (loads the cache misses, verify)", 0.0)
    decode = phases.get("decode + validate (json + pydantic)", 0.0)
    reducer = phases.get("decide (reducer)", 0.0)
    fetch = phases.get("between batches (Kafka fetch + FastStream + commit)", 0.0)
    applied_after = rt.get("all_applied_after_s")
    out.append(
        f"Runtime path: {rt['events_per_s']:,.0f} events/s ({rt['records_consumed']:,} records in "
        f"{total:.1f}s; {'every record applied and every outbox event published' if rt['completed'] else 'the time budget ran out first'}"
        + (
            f"; all records were applied after {applied_after:.1f}s, the rest was the outbox relay"
            if applied_after
            else ""
        )
        + ")."
    )
    out.append(
        f"Consumer side, summed over {rt.get('batches')} batches: bulk writes {bulk:.1f}s, point loads of the documents "
        f"not in the write cache (find_one by _id, concurrent) {loads:.1f}s, JSON + pydantic decoding {decode:.2f}s, "
        f"the reducer {reducer:.2f}s, waiting for the next batch (Kafka fetch, FastStream, commit) {fetch:.2f}s. The "
        "outbox relay writes no aggregate document (one journal record per batch, deleted once published). "
        f"Python-side work (decode + reducer) is {(decode + reducer) / total:.1%} of the wall time: the path is "
        "bound by the MongoDB-wire server, not by Kafka or by validation."
    )
    probe = report.get("store_operation_costs") or {}
    if "replace_one {_id, _v} ms (store CAS)" in probe:
        out.append(
            f"Server probe on the {probe['collection_docs']:,}-document collection path 1 left (documents spread "
            f"over the table): find_one by _id {probe['find_one {_id} ms']:.1f} ms, replace by _id "
            f"{probe['replace_one {_id} ms']:.1f} ms, update by _id {probe['update_one {_id} $inc ms']:.1f} ms, "
            f"replace by {{_id,_v}} {probe['replace_one {_id, _v} ms (store CAS)']:.1f} ms, update by {{_id,_v}} "
            f"{probe['update_one {_id, _v} $inc ms']:.1f} ms and find $in(50) "
            f"{probe['find {_id: {$in: 50 ids}} ms']:.1f} ms. FerretDB/SQLite pushes down only a bare "
            "{_id: value} filter (the FerretDB front resolves {_id, _v} guards); every other filter scans the "
            "collection, which is why the store reads by _id only."
        )
    prof = report.get("profile") or {}
    cats = prof.get("self_time_by_category") or {}
    if cats:
        top = ", ".join(f"{k} {v['share']:.0%}" for k, v in list(cats.items())[:4])
        out.append(f"pyinstrument (main thread, wall clock) on {prof.get('records'):,} records: {top}.")
    nv = report["paths"].get("naive")
    if nv:
        out.append(
            f"Naive path: {nv['events_per_s']:,.0f} events/s ({nv['records_consumed']:,} records in its "
            f"{nv.get('budget_s', 0):.0f}s budget); per event one pushed-down read, one version-guarded write "
            "(a scan), a direct publish on delivery and FastStream's per-message commit and INFO log lines."
        )
    return out


def fmt(v: Any, spec: str = ",.0f") -> str:
    return "n/a" if v is None else format(v, spec)


def render_markdown(report: dict[str, Any]) -> str:
    m, s, st = report["machine"], report["servers"], report["stream"]
    lines = [
        "# Runtime benchmark",
        "",
        f"Run `{report['run_id']}` on {m['date']}: {m['logical_cores']} logical cores, {m['memory_gb']} GB, "
        f"Python {m['python']}, load average at start {m['load_average_at_start']}. Servers: Kafka "
        f"{s.get('kafka_version', 'unknown')} at {s['kafka_bootstrap']}, FerretDB {s.get('ferretdb_module', s.get('ferretdb_version'))} "
        f"(MongoDB wire {s.get('mongodb_wire_version')}), from {report['servers_from']}. "
        f"Packages: {', '.join(f'{k} {v}' for k, v in m['packages'].items())}.",
        "",
        f"Stream: {st['records']:,} ShipmentStatusReported records ({st['distinct_events']:,} distinct, "
        f"{st['exact_duplicates']:,} exact re-sends, {st['shipments']:,} shipments, {st['mean_record_bytes']:.0f} "
        f"bytes per record on average, {st['partitions']} partitions), produced into a fresh topic per path.",
        "",
        "| path | records | events/s | p50 latency | p99 latency | peak RSS | completed |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    names = {
        "runtime": "1 runtime (batch, validate, bulk apply + dedup, outbox, commit)",
        "naive": "2 naive FastStream per-message (same writes, ACK, INFO logs)",
        "raw": "3 raw aiokafka getmany (no persistence)",
    }
    for key in ("runtime", "naive", "raw"):
        r = report["paths"].get(key)
        if not r:
            continue
        lat = r.get("batch_latency") or r.get("message_latency") or {}
        unit = "batch" if "batch_latency" in r else "message"
        lines.append(
            f"| {names[key]} | {r['records_consumed']:,} | {fmt(r['events_per_s'])} | "
            f"{fmt(lat.get('p50_ms'), ',.1f')} ms / {unit} | {fmt(lat.get('p99_ms'), ',.1f')} ms / {unit} | "
            f"{r['peak_rss_mb']:.0f} MB | {'yes' if r['completed'] else 'no (time budget)'} |"
        )
    ratio = report.get("ratio_runtime_over_naive")
    lines += [
        "",
        f"Ratio runtime / naive: **{fmt(ratio, ',.1f')}×** (target ≥ 10×). Runtime path: "
        f"**{fmt(report['paths'].get('runtime', {}).get('events_per_s'))} events/s** (target ≥ 20,000 with "
        f"persistence and dedup). Targets met: {report.get('targets_met')}.",
        "",
        "The naive path runs for a fixed time budget (it would take far too long to drain the stream); its rate is "
        "records handled / time from its first to its last handled record. Latency is per batch for paths 1 and "
        "3 (pipeline time per consumed batch; getmany time) and per message for path 2 (decode + read + write + "
        "publish inside the handler, excluding FastStream's per-message commit). Peak RSS is the worker "
        "process's, sampled every 20 ms; each path runs in its own process.",
        "",
    ]
    rt = report["paths"].get("runtime")
    if rt:
        lines += [
            "## Where the runtime path spends its time",
            "",
            f"Store check after the run: {rt.get('store_docs')} documents holding at most "
            f"{rt.get('store_marks_max')} dedup marks each (one per partition, however many events), "
            f"{rt.get('store_delivered')} delivered, {rt.get('applied')} events decided (re-sends decided as "
            f"no-ops), {rt.get('duplicates_skipped')} redeliveries skipped, {rt.get('outbox_published')} outbox "
            f"events published ({rt.get('journal_left')} journal records left), {rt.get('batches')} batches of "
            f"{rt.get('batch_size_mean', 0):.0f} records on average.",
            "",
            "| phase (wall time, summed over batches) | seconds | calls |",
            "|---|---:|---:|",
        ]
        for name, v in rt.get("phases", {}).items():
            lines.append(f"| {name} | {v['seconds']:.2f} | {v['calls']} |")
        lines.append("")
    probe = report.get("store_operation_costs") or {}
    if len(probe) > 1:
        lines += ["| MongoDB-wire operation, on the collection path 1 left | ms per call |", "|---|---:|"]
        for k, v in probe.items():
            if k != "collection_docs":
                lines.append(f"| {k} ({probe['collection_docs']} docs) | {v:.1f} |")
        lines.append("")
    prof = report.get("profile")
    if prof:
        lines += [
            f"### Profile (pyinstrument, {prof['records']} records, {fmt(prof['events_per_s_under_profiler'])} events/s under the profiler)",
            "",
            "| category (self time, main thread) | seconds | share |",
            "|---|---:|---:|",
        ]
        for k, v in (prof.get("self_time_by_category") or {}).items():
            lines.append(f"| {k} | {v['seconds']:.2f} | {v['share']:.0%} |")
        lines += ["", "Heaviest frames (inclusive time):", ""]
        for f in prof.get("top_inclusive_frames", [])[:10]:
            lines.append(f"- `{f['function']}` ({f['file']}): {f['seconds']:.2f}s")
        lines += ["", f"Full call tree: `{prof['text_report']}`.", ""]
    lines += ["## Analysis", ""]
    lines += [f"- {a}" for a in report.get("analysis", [])]
    lines += ["", "## Store changes (what was done after the first run, and what is next)", ""]
    lines += [f"{i}. {a}" for i, a in enumerate(PROPOSALS, 1)]
    lines.append("")
    return "\n".join(lines)


PROPOSALS = [
    "Done: documents are stored packed (`_id`, `_v` and one BSON value): FerretDB decodes every stored value "
    "on every read and write, and a packed document has three.",
    "Done: no second write per event: the relay publishes what the store hands it and deletes one journal "
    "record per batch; the next write of a document drops its published entries.",
    "Done: dedup marks are per-partition offsets, not a window of event ids: bounded, and exact however many "
    "events come between a record and its redelivery; a record re-sent under a new offset is a no-op of the "
    "reducer (an older or equal scan changes nothing).",
    "Done: a write-through cache: a document this process wrote is not read again for its next event.",
    "Done: the FerretDB front adds the `_id` index FerretDB's own queries can use and resolves `{_id, _v}` "
    "guards itself, reading `_v` straight from SQLite, under a write gate per database.",
    "Next: a run against MongoDB 7/8 (the compose deployment) to measure the path without FerretDB.",
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--events", type=int, default=50_000, help="records per path (duplicates included)")
    p.add_argument("--quick", action="store_true", help="10,000 events, shorter budgets")
    p.add_argument("--naive-budget-s", type=float, default=45.0)
    p.add_argument("--runtime-budget-s", type=float, default=300.0)
    p.add_argument("--profile-events", type=int, default=3_000)
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--paths", default="runtime,naive,raw")
    p.add_argument("--results-dir", default=str(RESULTS))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep-data", action="store_true", help="keep the benchmark databases")
    p.add_argument("--render", action="store_true", help="only re-render runtime.md from runtime.json")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.events = min(args.events, 10_000)
        args.naive_budget_s = min(args.naive_budget_s, 20.0)
        args.profile_events = min(args.profile_events, 2_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        spec = json.loads(Path(args.spec).read_text())
        result = asyncio.run(WORKERS[args.worker](spec))
        Path(args.out).write_text(json.dumps(result, default=str))
        return 0
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.render:
        report = json.loads((out_dir / "runtime.json").read_text())
        recategorise(report.get("profile") or {})
        report["analysis"] = analyse(report)
        (out_dir / "runtime.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
        (out_dir / "runtime.md").write_text(render_markdown(report))
        return 0
    report = asyncio.run(orchestrate(args))
    (out_dir / "runtime.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out_dir / "runtime.md").write_text(render_markdown(report))
    print(f"wrote {out_dir / 'runtime.json'} and {out_dir / 'runtime.md'}", flush=True)
    for line in report["analysis"]:
        print(" -", line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
