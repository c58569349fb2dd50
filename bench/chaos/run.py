"""``python -m bench chaos``: two instances of each service under the national generator's traffic (a small
fraction), while one instance of each service is killed with SIGKILL and started again, the broker is
stopped and brought back and FerretDB is restarted, at seeded random times. Then everything is counted at
the receiver and in the databases: 0 lost, 0 duplicated, every alert in the state its events imply, every
outbox drained, every dead letter accounted for.

The run has its own FerretDB and Kafka (state under ``--state``, ports from ``--port-base``), so the shared
devstack is never stopped. Kafka is a 3-broker KRaft cluster (replication factor 3, ``min.insync.replicas``
2, the services produce with ``acks=all``): stopping one broker is a failover. With ``--brokers 1`` it is
one node, and stopping it an outage the services must ride out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from siaga_devstack.receivers import Receivers
from siaga_logistics.importing.national import write_national_csv
from siaga_notifications.domain.labels import fingerprint
from siaga_schemas.topics import LOGISTICS_STATUS_UPDATES

from bench.national.feed import HEADERS, Feed, legs_of_file, read_feed, write_feed
from bench.national.harness import Run, Service
from bench.national.phases import import_plan

from .faults import Fault, inject, plan_faults
from .stack import SECRET, SERVICES, Ports, Stack
from .verify import broker_figures, database_figures, receiver_figures

__all__ = ["ChaosConfig", "run_chaos"]

ELECTION = "nasional"
DESK = {"Authorization": "Bearer dev:kemendagri:national:admin"}


def _say(message: str) -> None:
    print(f"chaos: {message}", flush=True)


@dataclass(frozen=True)
class ChaosConfig:
    fraction: float = 0.0002
    seed: int = 15
    window_s: float = 60.0  # traffic and faults
    settle_s: float = 120.0  # the longest wait for everything to be delivered and drained afterwards
    port_base: int = 29300
    brokers: int = 3  # a replicated KRaft cluster; 1: one node (stopping it is an outage)
    state: Path = Path(".devstack") / "chaos"


async def _retrying(what: str, call: Any, budget_s: float = 90.0) -> Any:
    """A call against instances that may be down right now: tried again until it works (bounded)."""
    deadline = time.monotonic() + budget_s
    while True:
        try:
            return await call()
        except (httpx.HTTPError, OSError) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: still failing after {budget_s:.0f}s ({exc!r})") from exc
            await asyncio.sleep(1.0)


async def _add_desk(stack: Stack) -> None:
    body = {
        "contact_id": "chaos-desk",
        "name": "Meja nasional (uji kekacauan)",
        "institution": "kemendagri",
        "roles": ["desk"],
        "channels": {"webhook_default": True},
    }

    async def put() -> None:
        async with httpx.AsyncClient(
            base_url=stack.of("notifications")[1].url, headers=DESK, timeout=30
        ) as c:
            (await c.put("/contacts/chaos-desk", json=body)).raise_for_status()

    await _retrying("add the desk contact", put)


async def _produce(stack: Stack, feed: Path, seconds: float) -> int:
    """The feed's scans onto the inbound topic, paced over ``seconds``; a record the broker did not take
    (it is down) is sent again, as a source system would (same envelope id: consumers drop the repeat)."""
    records = list(read_feed(feed))
    topic = f"{stack.prefix}.{LOGISTICS_STATUS_UPDATES.name}"
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.bootstrap.split(","),
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=10_000,
    )
    await _retrying_kafka(producer.start)
    started = time.monotonic()
    sent = 0
    try:
        for i, (key, value) in enumerate(records):
            while True:
                try:
                    await producer.send_and_wait(topic, value=value, key=key, headers=HEADERS)
                    break
                except Exception:  # noqa: BLE001 - the broker is away: the same record again in a second
                    await asyncio.sleep(1.0)
            sent += 1
            ahead = started + (i + 1) * seconds / max(len(records), 1) - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
    finally:
        await producer.stop()
    return sent


async def _retrying_kafka(start: Any) -> None:
    for _ in range(60):
        try:
            await start()
            return
        except Exception:  # noqa: BLE001 - not up yet
            await asyncio.sleep(1.0)
    await start()


async def _delay(stack: Stack, delayed: list[str]) -> int:
    """Each late shipment reports a checkpoint whose ETA passes in 3 s, through either logistics instance."""
    eta = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    done = 0
    for n, sid in enumerate(delayed):

        async def post(sid: str = sid, n: int = n) -> None:
            # the instance picked first may be down: then the other one (any instance serves HTTP)
            for inst in (stack.of("logistics")[n % 2], stack.of("logistics")[(n + 1) % 2]):
                try:
                    async with httpx.AsyncClient(base_url=inst.url, headers=DESK, timeout=20) as c:
                        r = await c.post(
                            f"/shipments/{sid}/checkpoints",
                            json={"place": "sungai", "passed_at": datetime.now(UTC).isoformat(), "eta": eta},
                        )
                    if r.status_code < 500:
                        r.raise_for_status()
                        return
                except httpx.TransportError:
                    continue
            raise httpx.TransportError("no logistics instance answered")

        await _retrying(f"checkpoint of {sid}", post)
        done += 1
    return done


async def _settled(stack: Stack, expected: set[str], budget_s: float) -> float:
    """Wait (bounded) until nothing is left to do: no lag, every late shipment notified, no delivery
    pending, no outbox journal left. Returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < budget_s:
        with contextlib.suppress(Exception):
            broker = await broker_figures(stack.bootstrap, stack.prefix)
            seen = receiver_figures(stack.receiver_log, expected)
            db = await database_figures(
                stack.mongodb_url, stack.prefix, SERVICES, expected, set(seen["notified_ids"])
            )
            if (
                not any(broker["lag"].values())
                and not seen["lost"]
                and db["deliveries_not_delivered"] == 0
                and not any(db["outbox_journals_left"].values())
            ):
                return round(time.monotonic() - started, 1)
        await asyncio.sleep(2.0)
    return round(time.monotonic() - started, 1)


def _prepare(config: ChaosConfig, state: Path) -> tuple[Any, Feed]:
    voting_day = datetime.now(UTC).date() + timedelta(days=12)
    plan = write_national_csv(state / "rencana.csv", fraction=config.fraction, voting_day=voting_day)
    feed = write_feed(legs_of_file(plan.path, ELECTION, voting_day), state / "scans.bin", seed=config.seed)
    return (plan, voting_day), feed


async def run_chaos(config: ChaosConfig) -> dict[str, Any]:
    rng = random.Random(config.seed)
    prefix = f"ch{uuid.uuid4().hex[:8]}"
    state = config.state / prefix
    stack = Stack(state, prefix, Ports(config.port_base), brokers=config.brokers)
    (plan, voting_day), feed = await asyncio.to_thread(_prepare, config, state)
    expected = {fingerprint({"alertname": "shipment-delayed", "shipment_id": s}) for s in feed.delayed}
    _say(f"{plan.tps} TPS, {feed.records} scans, {len(feed.delayed)} late shipments; starting the servers")
    # a slow receiver (0.5 s per post): a sender killed meanwhile sent without recording it
    receiver = Receivers(folder=stack.state, webhook_secret=SECRET, webhook_delay_s=0.5)
    receiver.start(port=stack.ports.webhook)
    faults: list[Fault] = plan_faults(rng, config.window_s, config.brokers)
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "config": {k: str(v) for k, v in config.__dict__.items()},
        "traffic": {"tps": plan.tps, "scans": feed.records, "late_shipments": len(feed.delayed)},
    }
    t_start = time.monotonic()
    try:
        await asyncio.to_thread(stack.start_servers)
        await asyncio.to_thread(stack.start_instances)
        await _add_desk(stack)
        log0 = stack.of("logistics")[0]
        assert log0.proc is not None
        run = Run(prefix=prefix, kafka=stack.bootstrap, mongodb=stack.mongodb_url)
        target = Service("logistics", log0.port, log0.proc)
        rejected = state / "ditolak.csv"
        summary = await asyncio.to_thread(import_plan, run, target, plan.path, ELECTION, voting_day, rejected)
        result["import"] = {k: summary.get(k) for k in ("wall_s", "shipments", "plans") if k in summary}
        await _settled(stack, set(), config.settle_s)  # the plan's events consumed before the scans come
        _say(f"traffic for {config.window_s:.0f}s with {len(faults)} faults")
        t0 = time.monotonic()
        traffic = asyncio.create_task(_produce(stack, feed.path, config.window_s * 0.6))
        injecting = [asyncio.create_task(inject(stack, f, t0)) for f in faults]
        delayed = 0
        waves = [feed.delayed[i::3] for i in range(3)]  # late shipments in 3 waves, so faults meet deliveries
        for share, wave in zip((0.25, 0.5, 0.75), waves, strict=True):
            await asyncio.sleep(max(0.0, t0 + share * config.window_s - time.monotonic()))
            delayed += await _delay(stack, wave)
        sent = await traffic
        await asyncio.gather(*injecting)
        _say("faults done; waiting until everything is delivered and drained")
        settled_s = await _settled(stack, expected, config.settle_s)
        broker = await broker_figures(stack.bootstrap, prefix)
        seen = receiver_figures(stack.receiver_log, expected)
        db = await database_figures(stack.mongodb_url, prefix, SERVICES, expected, set(seen["notified_ids"]))
        seen.pop("notified_ids")
        skipped = {
            f"{i.service}[{i.slot}]": await asyncio.to_thread(
                i.metric, "siaga_events_duplicates_skipped_total"
            )
            for i in stack.instances
        }
        leases = {
            f"{i.service}[{i.slot}]": await asyncio.to_thread(i.metric, "siaga_lease_owned")
            for i in stack.instances
        }
        result.update(
            {
                "faults": [f.record() for f in faults],
                "scans_sent": sent,
                "late_checkpoints_posted": delayed,
                "settled_after_s": settled_s,
                "receiver": seen,
                "databases": db,
                "broker": broker,
                "leases_held_at_end": leases,
                "duplicates_skipped_by_consumers": skipped,
                "instance_starts": {f"{i.service}[{i.slot}]": i.starts for i in stack.instances},
            }
        )
    finally:
        await asyncio.to_thread(stack.stop)
        receiver.stop()
    result["elapsed_s"] = round(time.monotonic() - t_start, 1)
    result["verdict"] = verdict(result)
    return result


def verdict(r: dict[str, Any]) -> dict[str, Any]:
    """The figures the issue asks for, and whether each holds."""
    seen, db, broker = r["receiver"], r["databases"], r["broker"]
    checks = {
        "faults_injected": sum(1 for f in r["faults"] if f["error"] is None),
        "faults_failed": [f for f in r["faults"] if f["error"] is not None],
        "events": broker["events"],
        "notifications": seen["notifications"],
        "duplicates": seen["duplicated"],
        "losses": len(seen["lost"]) + db["deliveries_not_delivered"] + len(db["delivered_not_received"]),
        "alerts_in_wrong_state": len(db["alerts_in_wrong_state"]),
        "outbox_journals_left": sum(db["outbox_journals_left"].values()),
        "consumer_lag_left": sum(broker["lag"].values()),
        "dead_letters": sum(broker["dead_letters"].values()),
    }
    checks["ok"] = (
        not checks["faults_failed"]
        and checks["duplicates"] == 0
        and checks["losses"] == 0
        and checks["alerts_in_wrong_state"] == 0
        and checks["outbox_journals_left"] == 0
        and checks["consumer_lag_left"] == 0
        and checks["dead_letters"] == 0
        and checks["notifications"] >= r["traffic"]["late_shipments"]
    )
    return checks


def write_report(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "chaos.json").write_text(json.dumps(result, indent=2, default=str))
    v = result["verdict"]
    lines = [
        "# Chaos run: two instances of each service, faults at seeded random times",
        "",
        f"Run at {result['started_at']} (`make chaos`, {result['elapsed_s']} s); config: "
        + ", ".join(f"{k}={val}" for k, val in result["config"].items() if k != "state"),
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| {k} | {val} |" for k, val in v.items() if k != "faults_failed"),
        f"| brokers | {result['config']['brokers']} |",
        f"| scans produced | {result['scans_sent']} |",
        f"| late shipments (checkpoint ETA passed) | {result['traffic']['late_shipments']} |",
        f"| posts received (valid signature) | {result['receiver']['received']} |",
        f"| repeats dropped by Idempotency-Key | {result['receiver']['repeats_dropped_by_key']} |",
        f"| delivery attempts beyond the first | {result['databases']['attempts_beyond_first']} |",
        f"| settled after the faults (s) | {result['settled_after_s']} |",
        "",
        "## Faults",
        "",
        "| at (s) | fault | target | started | ended | error |",
        "|---|---|---|---|---|---|",
        *(
            f"| {f['at_s']} | {f['kind']} | {f['target']} | {f['started_s']} | {f['ended_s']} | {f['error'] or ''} |"
            for f in result["faults"]
        ),
        "",
        "## Where things ended",
        "",
        f"- deliveries by state: {result['databases']['deliveries_by_state']}",
        f"- alerts by status: {result['databases']['alerts_by_status']}",
        f"- outbox journals left: {result['databases']['outbox_journals_left']}",
        f"- consumer lag by group: {result['broker']['lag']}",
        f"- dead letters by topic: {result['broker']['dead_letters'] or 'none'}",
        f"- partitions by topic: {result['broker']['partitions']}",
        f"- leases held at the end (siaga_lease_owned per instance): {result['leases_held_at_end']}",
        f"- instance starts: {result['instance_starts']}",
        "- redelivered events the consumers recognised and skipped (counters since each instance's last "
        f"start): {result['duplicates_skipped_by_consumers']}",
        "",
    ]
    (out / "chaos.md").write_text("\n".join(lines))
