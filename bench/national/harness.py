"""The national benchmark's plumbing: the services as their own processes, a webhook receiver, a producer
of status scans and readings of counters, lag and memory."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from siaga_schemas import Envelope
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.topics import LOGISTICS_EVENTS, LOGISTICS_STATUS_UPDATES

SECRET = "bench-webhook-secret"  # noqa: S105 (loopback benchmark only)
TOKEN = {"Authorization": "Bearer dev:kemendagri:national:admin"}
ROUTING = Path(__file__).with_name("routing.yaml")

# Settings the benchmark runs the services with, where they differ from the defaults; recorded in each
# result and listed in the report. The sweeps and polls are shorter than a deployment's so that a delay's
# latency is not a sweep interval; the risk sweep (a forecast per kab/kota) is left out of the timed run;
# the channel rate is the webhook receiver's, not a chat provider's.
TUNED: dict[str, str] = {
    "DELAY_SWEEP_INTERVAL_S": "0.5",
    "RISK_SWEEP_INTERVAL_S": "3600",
    "SWEEP_INTERVAL_S": "0.2",
    "DELIVERY_POLL_S": "0.2",
    "CHANNEL_RATE_PER_S": "2000",
}


class Receiver(BaseHTTPRequestHandler):
    """Loopback webhook receiver: checks the HMAC signature and notes when each notification arrived."""

    arrivals: list[tuple[float, dict[str, Any], bool]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        at = time.time()
        signed = self.headers.get("X-Siaga-Timestamp", "").encode() + b"." + body
        expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, self.headers.get("X-Siaga-Signature", ""))
        with self.lock:
            self.arrivals.append((at, json.loads(body or b"{}"), valid))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@dataclass
class Service:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    peak_rss: int = 0

    def metric(self, name: str, having: str = "") -> float:
        """The sum of a metric's series (those whose labels contain ``having``, when given)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            text = r.read().decode()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name + "{") and having in line.split("}", 1)[0]
        )

    def sample_rss(self) -> int | None:
        """The process's resident memory now (bytes), also kept as its peak; None once it has gone."""
        try:
            rss = int(psutil.Process(self.proc.pid).memory_info().rss)
        except psutil.Error:
            return None
        self.peak_rss = max(self.peak_rss, rss)
        return rss


@dataclass
class Run:
    prefix: str
    kafka: str
    mongodb: str
    services: dict[str, Service] = field(default_factory=dict)
    series: list[dict[str, float]] = field(default_factory=list)
    receiver_port: int = 0

    def env(self, service: str, port: int, database: str | None = None) -> dict[str, str]:
        return {
            **os.environ,
            "SERVICE_NAME": service,
            "HTTP_PORT": str(port),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "MONGODB_URL": self.mongodb,
            "MONGODB_DATABASE": database or f"{self.prefix}_{service}",
            "KAFKA_TOPIC_PREFIX": f"{self.prefix}.",
            "KAFKA_GROUP_PREFIX": self.prefix,
            "AUTH_DEV_TOKENS": "true",
            "LOG_LEVEL": "WARNING",
            **TUNED,
            "ROUTING_FILE": str(ROUTING),
            "WEBHOOK_URL": f"http://127.0.0.1:{self.receiver_port}/siaga",
            "WEBHOOK_SECRET": SECRET,
        }

    def start(
        self, service: str, port: int, database: str | None = None, group: str | None = None
    ) -> Service:
        env = self.env(service, port, database)
        if group:
            env["KAFKA_GROUP_PREFIX"] = group
        log = open(Path(".devstack") / "logs" / f"bench-{service}-{port}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", f"siaga_{service}"], env=env, stdout=log, stderr=log)
        svc = Service(service, port, proc)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2):
                    return svc
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"{service} did not become ready; see {log.name}")

    def stop_all(self) -> None:
        for svc in self.services.values():
            svc.proc.terminate()
        for svc in self.services.values():
            try:
                svc.proc.wait(30)
            except subprocess.TimeoutExpired:
                svc.proc.kill()


def start_receiver(run: Run) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    run.receiver_port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def scan(shipment_id: str, status: str, **extra: Any) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    data = ShipmentStatusReported(
        shipment_id=shipment_id, status=status, observed_at=datetime.now(UTC), source_system="bench", **extra
    )
    env = Envelope.wrap(data, source="/bench/silog")
    return shipment_id.encode(), env.to_bytes(), env.kafka_headers()


async def produce(
    run: Run, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]], rate: float | None
) -> float:
    """Send records to the inbound topic, as fast as possible or at ``rate`` per second; returns seconds."""
    topic = f"{run.prefix}.{LOGISTICS_STATUS_UPDATES.name}"
    producer = AIOKafkaProducer(bootstrap_servers=run.kafka, linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    started = time.monotonic()
    try:
        pending = []
        for i, (key, value, headers) in enumerate(records):
            pending.append(await producer.send(topic, value=value, key=key, headers=headers))
            if rate:
                ahead = started + (i + 1) / rate - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.monotonic() - started


async def lag(run: Run) -> dict[str, int]:
    """Consumer lag per group of this run (end offset minus committed offset, summed over partitions)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=run.kafka)
    await admin.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups() if str(g[0]).startswith(run.prefix)]
        out: dict[str, int] = {}
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(bootstrap_servers=run.kafka)
        await consumer.start()
        try:
            for g in groups:
                offsets = await admin.list_consumer_group_offsets(g)
                if not offsets:
                    continue
                ends = await consumer.end_offsets(list(offsets))
                out[g] = sum(max(ends[tp] - meta.offset, 0) for tp, meta in offsets.items())
        finally:
            await consumer.stop()
        return out
    finally:
        await admin.close()


async def sampler(run: Run, stop: asyncio.Event, t0: float) -> None:
    """Every second: applied-event counters, lag per service and RSS."""
    while not stop.is_set():
        row: dict[str, float] = {"t": time.monotonic() - t0}
        for name, svc in run.services.items():
            rss = svc.sample_rss()
            if rss is not None:
                row[f"{name}_rss_mb"] = round(rss / 2**20)  # when the memory is taken, phase by phase
            with contextlib.suppress(OSError):
                row[f"{name}_applied"] = await asyncio.to_thread(svc.metric, "siaga_events_applied_total")
        try:
            for g, n in (await lag(run)).items():
                # groups are "<prefix>.<service>", and "<prefix>r.<service>" for the replay instance
                key = "replay" if g.startswith(run.prefix + "r.") else g.split(".", 1)[-1]
                row[f"lag_{key}"] = row.get(f"lag_{key}", 0) + n
        except Exception:  # noqa: BLE001 - a sample that fails is recorded as failed; the run goes on
            row["sample_failed"] = 1.0
        run.series.append(row)
        with_deadline = asyncio.create_task(stop.wait())
        await asyncio.wait([with_deadline], timeout=1.0)
        with_deadline.cancel()


def new_run(kafka: str, mongodb: str) -> Run:
    return Run(prefix=f"bn{uuid.uuid4().hex[:8]}", kafka=kafka, mongodb=mongodb)


__all__ = [
    "LOGISTICS_EVENTS",
    "TUNED",
    "Receiver",
    "Run",
    "lag",
    "memory_readings",
    "new_run",
    "produce",
    "sampler",
    "scan",
    "start_receiver",
    "store_counts",
]


STORE_COUNTS = {
    "decoded": ("siaga_store_cache_lookups_total", 'tier="decoded"'),
    "packed": ("siaga_store_cache_lookups_total", 'tier="packed"'),
    "miss": ("siaga_store_cache_lookups_total", 'tier="miss"'),
    "reads": ("siaga_store_documents_read_total", ""),
    "writes": ("siaga_store_documents_written_total", ""),
    "written_bytes": ("siaga_store_written_bytes_total", ""),
}


def store_counts(svc: Service, store: str) -> dict[str, int]:
    """One store's counters now (``siaga_runtime.metrics.StoreCollector``): cache lookups by the tier
    that answered, documents read and written, bytes written."""
    with urllib.request.urlopen(f"http://127.0.0.1:{svc.port}/metrics", timeout=5) as r:
        lines = r.read().decode().splitlines()
    out: dict[str, int] = {}
    for key, (name, having) in STORE_COUNTS.items():
        out[key] = int(
            sum(
                float(line.rsplit(" ", 1)[1])
                for line in lines
                if line.startswith(name + "{")
                and f'store="{store}"' in (labels := line.split("}", 1)[0])
                and having in labels
            )
        )
    return out


def memory_readings(svc: Service) -> dict[str, float]:
    """Where a service's memory and collector time are, by its own metrics: MB each store's cache holds per
    tier (``store/tier``), the outbox's waiting events, and the garbage collector's seconds by generation."""
    with urllib.request.urlopen(f"http://127.0.0.1:{svc.port}/metrics", timeout=5) as r:
        lines = r.read().decode().splitlines()
    out: dict[str, float] = {}
    for line in lines:
        if line.startswith("siaga_store_cache_bytes{"):
            labels = dict(
                part.split("=", 1) for part in line[line.index("{") + 1 : line.index("}")].split(",")
            )
            mb = float(line.rsplit(" ", 1)[1]) / 1e6
            if mb:
                out[f"cache_mb:{labels['store'].strip(chr(34))}/{labels['tier'].strip(chr(34))}"] = round(
                    mb, 1
                )
        elif line.startswith("siaga_outbox_backlog_events "):
            out["outbox_waiting_events"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("siaga_gc_seconds_total{"):
            gen = line.split('generation="', 1)[1].split('"', 1)[0]
            out[f"gc_s:gen{gen}"] = round(float(line.rsplit(" ", 1)[1]), 1)
    return out
