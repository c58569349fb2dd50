"""``python -m bench national``: phases, measurements and results (JSON, markdown, PNG)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from .generate import NATIONAL_TPS, national, sample
from .harness import TOKEN, Receiver, Run, lag, new_run, pod, produce, sampler, scan, setup, start_receiver
from .profiling import CpuLedger, Profilers, ferretdb_cpu_profile
from .report import write_results

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _say(message: str) -> None:
    """Progress on stderr (results go to the files and stdout)."""
    print(f"bench national: {message}", file=sys.stderr, flush=True)


async def _wait_drained(run: Run, budget_s: float) -> float:
    """Wait (bounded) until every consumer group of the run has no lag; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < budget_s:
        with contextlib.suppress(Exception):
            if sum((await lag(run)).values()) == 0:
                break
        await asyncio.sleep(1)
    return round(time.monotonic() - started, 1)


def devstack_pid(name: str) -> int | None:
    """The pid of a server the devstack started (None for an external one)."""
    from siaga_devstack import status

    return next((s.pid for s in status() if s.name == name and not s.external), None)


async def _wait_applied(
    svc: Any, name: str, target: float, budget_s: float, since: float | None = None
) -> tuple[float, float]:
    """Poll a counter until it reaches ``target``; returns (seconds since ``since`` or since the call, value
    reached)."""
    started = time.monotonic() if since is None else since
    value = 0.0
    while time.monotonic() - started < budget_s:
        value = await asyncio.to_thread(svc.metric, name)
        svc.sample_rss()
        if value >= target:
            break
        await asyncio.sleep(0.25)
    return time.monotonic() - started, value


async def _delayed_times(run: Run, budget_s: float) -> dict[str, tuple[float, float]]:
    """shipment id → (wall time at which its shipment-delayed envelope was created (its CloudEvents time),
    time the outbox relay put it on the topic (the record's timestamp)), reading the logistics events topic
    from its beginning to the end offsets taken now."""
    topic = f"{run.prefix}.siaga.logistics.events.v1"
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=run.kafka, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    out: dict[str, tuple[float, float]] = {}
    try:
        started = time.monotonic()
        while not consumer.assignment() and time.monotonic() - started < 30:
            await consumer.getmany(timeout_ms=200)  # lets the assignment happen; records are re-read below
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in partitions]
            if all(pos >= ends[tp] for pos, tp in zip(positions, partitions, strict=True)):
                break
            batch = await consumer.getmany(*partitions, timeout_ms=500)
            for records in batch.values():
                for r in records:
                    e = json.loads(r.value)
                    if e["type"].endswith("shipment-delayed"):
                        sid = e["data"]["shipment_id"]
                        created = datetime.fromisoformat(e["time"]).timestamp()
                        out.setdefault(sid, (created, r.timestamp / 1000))
    finally:
        await consumer.stop()
    return out


async def _latency_phase(
    run: Run,
    args: argparse.Namespace,
    rng: random.Random,
    on_time: list[str],
    delayed: list[str],
    rate: float,
) -> dict[str, Any]:
    """Background scans at ``rate`` for ``steady_s`` while the ETAs of ``delayed`` pass; then wait (bounded)
    until each late shipment's shipment-delayed is published and its webhook has arrived.

    Latency is from the shipment-delayed envelope's time (set when the delay sweep emitted it) to the
    webhook receiver's arrival time."""
    from siaga_notifications.domain.labels import fingerprint

    log_svc = run.services["logistics"]
    background = [
        scan(rng.choice(on_time), "checkpoint", place=f"patroli {i}")
        for i in range(int(rate * args.steady_s))
    ]
    producing = asyncio.create_task(produce(run, background, rate))
    await asyncio.sleep(min(5.0, args.steady_s / 4))
    soon = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{log_svc.port}", headers=TOKEN, timeout=60) as c:
        for s in delayed:
            r = await c.post(
                f"/shipments/{s}/checkpoints",
                json={"place": "sungai", "passed_at": datetime.now(UTC).isoformat(), "eta": soon},
            )
            r.raise_for_status()
    background_s = await producing
    mine = set(delayed)
    emitted: dict[str, tuple[float, float]] = {}
    waited = time.monotonic()
    while time.monotonic() - waited < args.phase_budget:
        emitted = {s: t for s, t in (await _delayed_times(run, 60)).items() if s in mine}
        if len(emitted) >= len(delayed):
            break
        await asyncio.sleep(2)
    by_fp = {
        fingerprint({"alertname": "shipment-delayed", "shipment_id": s}): t[0] for s, t in emitted.items()
    }
    on_topic = {
        fingerprint({"alertname": "shipment-delayed", "shipment_id": s}): t[1] for s, t in emitted.items()
    }
    while time.monotonic() - waited < args.phase_budget:
        with Receiver.lock:
            seen = {a.get("fingerprint") for _, p, _ in Receiver.arrivals for a in p.get("alerts", [])}
        if set(by_fp) <= seen:
            break
        await asyncio.sleep(0.5)
    latencies: dict[str, float] = {}
    first: dict[str, tuple[float, str]] = {}  # fingerprint -> (arrival, notification id) of its first webhook
    with Receiver.lock:
        arrivals = list(Receiver.arrivals)
    for at, payload, valid in arrivals:
        for alert in payload.get("alerts", []):
            fp = alert.get("fingerprint")
            if valid and fp in by_fp and fp not in latencies:
                latencies[fp] = at - by_fp[fp]
                first[fp] = (at, str(payload.get("notification_id")))
    ms = sorted(1000 * v for v in latencies.values())
    stages = await _stages(run, by_fp, on_topic, first)
    return {
        "background_records": len(background),
        "background_rate_per_s": round(len(background) / max(background_s, 1e-9)),
        "target_rate_per_s": rate,
        "delayed_shipments": len(delayed),
        "shipment_delayed_emitted": len(emitted),
        "notified": len(latencies),
        "signatures_valid": all(v for _, _, v in arrivals),
        "wait_after_load_s": round(time.monotonic() - waited, 1),
        "latency_ms": _percentiles(ms),
        "stages_ms": stages,
    }


STAGES = (
    "outbox relay: emitted → on the topic",
    "notifications consumer: on the topic → alert raised",
    "grouping and escalation timers: alert raised → notification created",
    "delivery worker: notification created → webhook received",
)


async def _stages(
    run: Run, emitted: dict[str, float], on_topic: dict[str, float], first: dict[str, tuple[float, str]]
) -> dict[str, dict[str, float | None]]:
    """Where each alert's latency went, from the record timestamps and what the notifications API tells:
    the alert's raised_at and the notification's created_at (both set by the service when it wrote them)."""
    spans: dict[str, list[float]] = {name: [] for name in STAGES}
    base = f"http://127.0.0.1:{run.services['notifications'].port}"
    async with httpx.AsyncClient(base_url=base, headers=TOKEN, timeout=30) as c:
        for fp, (arrived, nid) in first.items():
            alert = (await c.get(f"/alerts/{fp}")).json()
            delivery = (await c.get(f"/deliveries/{nid}")).json()
            raised = alert.get("raised_at")
            created = delivery.get("created_at")
            if raised is None or created is None:
                continue
            raised_t = _ts(raised)
            created_t = _ts(created)
            for name, span in zip(
                STAGES,
                (
                    on_topic[fp] - emitted[fp],
                    raised_t - on_topic[fp],
                    created_t - raised_t,
                    arrived - created_t,
                ),
                strict=True,
            ):
                spans[name].append(1000 * span)
    return {name: _percentiles(sorted(v)) for name, v in spans.items()}


def _ts(value: str) -> float:
    t = datetime.fromisoformat(value)
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from siaga_devstack import ensure_up

    full = national()
    dist = sample(full, args.fraction)
    endpoints = ensure_up()
    run = new_run(endpoints.kafka_bootstrap, endpoints.mongodb_url)
    receiver = start_receiver(run)
    rng = random.Random(args.seed)
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "national": {
            "provinces": full.provinces,
            "kab_kota": full.kab_kota,
            "kecamatan": full.kecamatan,
            "villages": len(full.villages),
            "tps": full.tps_total,
        },
        "sample": {
            "fraction": args.fraction,
            "provinces": dist.provinces,
            "kab_kota": dist.kab_kota,
            "kecamatan": dist.kecamatan,
            "villages": len(dist.villages),
            "tps": dist.tps_total,
        },
    }
    t0 = time.monotonic()
    cpu = CpuLedger()
    profilers = Profilers(Path(args.results_dir))
    stop = asyncio.Event()
    sampling: asyncio.Task[None] | None = None
    try:
        run.services["logistics"] = run.start("logistics", args.port)
        run.services["notifications"] = run.start("notifications", args.port + 1)
        for name, svc in run.services.items():
            cpu.watch(name, svc.proc.pid)
            if args.profile:
                profilers.start(name, svc.proc.pid)
        cpu.watch("ferretdb", devstack_pid("ferretdb"))
        cpu.watch("kafka", devstack_pid("kafka"))
        cpu.watch("bench (producer, receiver)", os.getpid())
        sampling = asyncio.create_task(sampler(run, stop, t0))  # stopped through ``stop`` below
        started = time.monotonic()
        _say(f"setup: plans and shipments for {dist.tps_total:,} TPS through the HTTP API")
        lines = await setup(run, dist, datetime.now(UTC) + timedelta(days=2), args.setup_budget)
        result["setup"] = {"shipments": len(lines), "seconds": round(time.monotonic() - started, 1)}
        ids = sorted(lines)
        rng.shuffle(ids)
        n_delay = max(1, int(len(ids) * args.delay_share))
        n_short = max(1, int(len(ids) * args.short_share))
        delayed, short = ids[:n_delay], set(ids[n_delay : n_delay + n_short])
        on_time = ids[n_delay:]

        # Phase A: the distribution's scans as fast as they can be produced.
        records = [scan(s, "dispatched") for s in ids] + [
            scan(s, "checkpoint", place="gudang PPK") for s in ids
        ]
        records += [scan(s, "delivered", **pod(s, lines[s], s in short)) for s in on_time]
        log_svc, notif_svc = run.services["logistics"], run.services["notifications"]
        base_log = await asyncio.to_thread(log_svc.metric, "siaga_events_applied_total")
        base_notif = await asyncio.to_thread(notif_svc.metric, "siaga_events_applied_total")
        phase_a = time.monotonic()
        cpu.mark("setup")
        _say(f"phase A: {len(records):,} scans as fast as possible")
        ferret = asyncio.create_task(ferretdb_cpu_profile(args.ferretdb_profile_s, Path(args.results_dir)))
        produced_s = await produce(run, records, None)
        log_s, _ = await _wait_applied(
            log_svc, "siaga_events_applied_total", base_log + len(records), args.phase_budget, since=phase_a
        )
        expected_notif = len(on_time) + len(short)  # delivered events, and the discrepancies they found
        notif_s, notif_n = await _wait_applied(
            notif_svc,
            "siaga_events_applied_total",
            base_notif + expected_notif,
            args.phase_budget,
            since=phase_a,
        )
        with contextlib.suppress(Exception):
            result["ferretdb_profile"] = await ferret
        result["phase_a"] = {
            "records": len(records),
            "produce_s": round(produced_s, 2),
            "logistics_s": round(log_s, 2),
            "logistics_events_per_s": round(len(records) / max(log_s, 1e-9)),
            "notifications_events": int(notif_n - base_notif),
            "notifications_s": round(notif_s, 2),
            "notifications_pipeline_events_per_s": round((notif_n - base_notif) / max(notif_s, 1e-9)),
            "wall_s": round(time.monotonic() - phase_a, 2),
        }

        cpu.mark("phase A: as fast as possible")

        # Phase B: alert latency under a background load, first at a load logistics sustains (half of what
        # phase A measured), then at the target's 1,000 scans/s; each with its own late shipments.
        sustainable = max(10.0, round(0.5 * result["phase_a"]["logistics_events_per_s"]))
        half = len(delayed) // 2
        _say(f"phase B1: alert latency at {sustainable:.0f} scans/s")
        result["phase_b_sustained"] = await _latency_phase(
            run, args, rng, on_time, delayed[:half], sustainable
        )
        cpu.mark(f"phase B1: {sustainable:.0f} scans/s")
        _say(f"phase B2: alert latency at {args.rate:.0f} scans/s")
        result["phase_b"] = await _latency_phase(run, args, rng, on_time, delayed[half:], args.rate)
        cpu.mark(f"phase B2: {args.rate:.0f} scans/s")
        emitted = await _delayed_times(run, 60)

        # Phase C: replay the whole logistics history into a fresh notifications database, once the other
        # consumers have caught up (so that the replay has the machine to itself, as a rebuild would).
        result["drain_before_replay_s"] = await _wait_drained(run, args.phase_budget)
        _say("phase C: replay into a fresh notifications database")
        replay_db = f"{run.prefix}_notifications_replay"
        started = time.monotonic()
        run.services["replay"] = run.start(
            "notifications", args.port + 2, database=replay_db, group=f"{run.prefix}r"
        )
        cpu.watch("replay", run.services["replay"].proc.pid)
        if args.profile:
            profilers.start("replay", run.services["replay"].proc.pid)
        cpu.mark("replay start")
        ferret_replay = asyncio.create_task(
            ferretdb_cpu_profile(
                min(args.ferretdb_profile_s, 10.0), Path(args.results_dir), name="ferretdb_replay"
            )
        )
        total = await asyncio.to_thread(notif_svc.metric, "siaga_events_applied_total")
        # Timed from the first counter reading after start-up: what the instance applied while it was
        # starting is left out of both the count and the time.
        ready_at = time.monotonic()
        at_ready = await asyncio.to_thread(run.services["replay"].metric, "siaga_events_applied_total")
        replay_s, replayed = await _wait_applied(
            run.services["replay"], "siaga_events_applied_total", total, args.phase_budget, since=ready_at
        )
        timed = replayed - at_ready
        events = sum(r["phase_a"]["notifications_events"] for r in [result]) + len(emitted)
        result["phase_c"] = {
            "events": int(replayed),
            "events_timed": int(timed),
            "seconds_incl_start": round(time.monotonic() - started, 2),
            "seconds_applying": round(replay_s, 2),
            # too few events left after start-up to time: no rate rather than a made-up one
            "events_per_s": round(timed / max(replay_s, 1e-9)) if timed >= 0.5 * replayed else None,
            "national_events_estimate": round(events / max(args.fraction, 1e-9)),
        }
        cpu.mark("phase C: replay")
        with contextlib.suppress(Exception):
            result["ferretdb_profile_replay"] = await ferret_replay
    finally:
        result["profiles"] = profilers.stop()
        result["cpu_by_phase"] = [p for p in cpu.phases() if p["phase"] != "replay start"]
        stop.set()
        if sampling is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sampling, 10)
        run.stop_all()
        receiver.shutdown()
    result["peak_rss_mb"] = {name: round(svc.peak_rss / 2**20) for name, svc in run.services.items()}
    result["series"] = run.series
    result["finished_at"] = datetime.now(UTC).isoformat()
    return result


def _percentiles(ms: list[float]) -> dict[str, float | None]:
    if not ms:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return {
        "p50": round(q[49], 1),
        "p95": round(q[94], 1),
        "p99": round(q[98], 1),
        "max": round(ms[-1], 1),
        "n": len(ms),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench national", description=__doc__)
    p.add_argument(
        "--fraction", type=float, default=0.002, help="share of the national TPS (1.0: all 820,161)"
    )
    p.add_argument("--rate", type=float, default=1000.0, help="background scans per second in phase B")
    p.add_argument("--steady-s", type=float, default=30.0)
    p.add_argument("--delay-share", type=float, default=0.05)
    p.add_argument("--short-share", type=float, default=0.02)
    p.add_argument("--setup-budget", type=float, default=600.0)
    p.add_argument("--phase-budget", type=float, default=600.0)
    p.add_argument("--port", type=int, default=8301)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--results-dir", default=str(RESULTS))
    p.add_argument(
        "--ferretdb-profile-s",
        type=float,
        default=15.0,
        help="Go CPU profile of FerretDB from phase A's start",
    )
    p.add_argument(
        "--no-profile", dest="profile", action="store_false", help="do not sample the services with py-spy"
    )
    args = p.parse_args(argv)
    result = asyncio.run(bench(args))
    write_results(result, Path(args.results_dir), NATIONAL_TPS)
    print(json.dumps({k: v for k, v in result.items() if k != "series"}, indent=2))
    return 0
