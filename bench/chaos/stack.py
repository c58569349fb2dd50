"""The chaos run's servers: its own FerretDB and Kafka (a 3-broker KRaft cluster, or one node), started by
the devstack API with their own state on ports of their own, and two instances of each service as real
subprocesses that can be killed with SIGKILL and started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from siaga_devstack.cluster import KafkaCluster
from siaga_devstack.ferretdb import FerretDB
from siaga_devstack.kafka import KafkaNode
from siaga_devstack.paths import Paths, find_root

__all__ = ["SERVICES", "Instance", "Ports", "Stack"]

SERVICES = ("logistics", "notifications", "meetings")
ROUTING = Path(__file__).with_name("routing.yaml")
SECRET = "chaos-webhook-secret"  # noqa: S105 (loopback test only)


@dataclass(frozen=True)
class Ports:
    """Every port of one run, from ``base`` up (the chaos run's range: 29300-29599)."""

    base: int = 29300

    @property
    def ferretdb(self) -> int:
        return self.base + 1

    @property
    def webhook(self) -> int:
        return self.base + 5

    @property
    def kafka(self) -> int:
        """The first broker's port (the others follow)."""
        return self.base + 11

    @property
    def kafka_controller(self) -> int:
        return self.base + 31

    def service(self, name: str, slot: int) -> int:
        return self.base + 40 + 2 * SERVICES.index(name) + slot


@dataclass
class Instance:
    """One instance of a service (``slot`` 0 or 1) as its own process."""

    service: str
    slot: int
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"siaga_{self.service}"], env=self.env, stdout=out, stderr=out
        )
        out.close()
        self.starts += 1

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, budget_s: float = 90.0) -> None:
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            if self.ready():
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.service}[{self.slot}] exited; see {self.log}")
            time.sleep(0.3)
        raise RuntimeError(f"{self.service}[{self.slot}] not ready after {budget_s:.0f}s; see {self.log}")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def metric(self, name: str, having: str = "") -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if (line.startswith(name + "{") or line.startswith(name + " "))
            and having in line.split("}", 1)[0]
        )


@dataclass
class Stack:
    """The run's servers and instances; ``state`` holds their data and logs."""

    state: Path
    prefix: str
    ports: Ports = field(default_factory=Ports)
    brokers: int = 3
    instances: list[Instance] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        paths = Paths(find_root(), state_dir=self.state)
        self.ferretdb = FerretDB(paths, port=self.ports.ferretdb)
        self.kafka: KafkaNode | KafkaCluster = (
            KafkaNode(paths, port=self.ports.kafka, controller_port=self.ports.kafka_controller)
            if self.brokers == 1
            else KafkaCluster(
                paths, self.brokers, port=self.ports.kafka, controller_port=self.ports.kafka_controller
            )
        )

    def stop_broker(self, index: int) -> None:
        """One broker away: a failover on the cluster, an outage on one node."""
        if isinstance(self.kafka, KafkaCluster):
            self.kafka.stop_broker(index)
        else:
            self.kafka.stop()

    def start_broker(self, index: int) -> None:
        if isinstance(self.kafka, KafkaCluster):
            self.kafka.start_broker(index)
        else:
            self.kafka.start()

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def mongodb_url(self) -> str:
        return self.ferretdb.url

    @property
    def receiver_log(self) -> Path:
        return self.state / "webhooks.jsonl"

    def start_servers(self) -> None:
        self.ferretdb.start()
        self.kafka.start()

    def env(self, service: str, port: int) -> dict[str, str]:
        return {
            **os.environ,
            "SERVICE_NAME": service,
            "HTTP_PORT": str(port),
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "MONGODB_URL": self.mongodb_url,
            "MONGODB_DATABASE": f"{self.prefix}_{service}",
            "KAFKA_TOPIC_PREFIX": f"{self.prefix}.",
            "KAFKA_GROUP_PREFIX": self.prefix,
            "AUTH_DEV_TOKENS": "true",
            "LOG_LEVEL": "WARNING",
            "LEASE_TTL_S": "6",
            "SHUTDOWN_TIMEOUT_S": "10",
            "OUTBOX_STALE_AFTER_S": "10",
            "DELAY_SWEEP_INTERVAL_S": "0.5",
            "RISK_SWEEP_INTERVAL_S": "3600",
            "TIMER_BUCKET_S": "2",
            "SWEEP_INTERVAL_S": "0.5",
            "DELIVERY_POLL_S": "0.5",
            "DELIVERY_LEASE_S": "15",
            "DELIVERY_BACKOFF_S": "1",
            "DELIVERY_BACKOFF_MAX_S": "10",
            "DELIVERY_MAX_ATTEMPTS": "30",
            "FULL_SCAN_INTERVAL_S": "20",
            "CHANNEL_RATE_PER_S": "500",
            "ROUTING_FILE": str(ROUTING),
            "WEBHOOK_URL": f"http://127.0.0.1:{self.ports.webhook}/siaga",
            "WEBHOOK_SECRET": SECRET,
        }

    def start_instances(self) -> None:
        logs = self.state / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            for slot in (0, 1):
                port = self.ports.service(service, slot)
                inst = Instance(service, slot, port, self.env(service, port), logs / f"{service}-{slot}.log")
                inst.start()
                self.instances.append(inst)
        for inst in self.instances:
            inst.wait_ready()

    def of(self, service: str) -> list[Instance]:
        return [i for i in self.instances if i.service == service]

    def stop(self) -> None:
        for inst in self.instances:
            inst.stop()
        self.kafka.stop()
        self.ferretdb.stop()
