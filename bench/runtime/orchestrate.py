"""One benchmark run: the servers, the pre-produced stream, each path in its subprocess, the store probe."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from .common import EVENTS_TOPIC, PARTITIONS, ROOT, STATUS_TOPIC
from .report import analyse


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
        cmd = [sys.executable, "-m", "bench.runtime", "--worker", path, "--spec", str(spec_file)]
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
    report: dict[str, Any] = {
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
