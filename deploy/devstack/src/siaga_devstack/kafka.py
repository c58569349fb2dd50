"""Apache Kafka 4.1, one combined KRaft node on loopback, from its Maven Central artifacts."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .paths import Paths
from .probes import kafka_ready
from .process import (
    DevstackError,
    alive,
    env_port,
    fingerprint,
    java_major_version,
    pid_running,
    require_free_port,
    require_tool,
    spawn,
    stop_pidfile,
    wait_for,
)

__all__ = ["KafkaNode", "new_cluster_id"]

HEAP = ("-Xms256m", "-Xmx768m")


@dataclass(frozen=True)
class KafkaNode:
    paths: Paths
    port: int = field(default_factory=lambda: env_port("SIAGA_KAFKA_PORT", 9092))
    controller_port: int = field(default_factory=lambda: env_port("SIAGA_KAFKA_CONTROLLER_PORT", 9093))

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pidfile(self) -> Path:
        return self.paths.pidfile("kafka")

    @property
    def logs_dir(self) -> Path:
        """Where Kafka's log4j writes ``kafka.log`` (``-Dkafka.logs.dir``)."""
        return self.paths.logs

    @property
    def log(self) -> Path:
        return self.logs_dir / "kafka.log"

    @property
    def stdout_log(self) -> Path:
        return self.logs_dir / "kafka-stdout.log"

    @property
    def config_path(self) -> Path:
        return self.paths.kafka_config

    @property
    def data_dir(self) -> Path:
        return self.paths.kafka_data

    @property
    def heap(self) -> tuple[str, ...]:
        return HEAP

    @property
    def marker(self) -> str:
        """Part of our broker's command line: its config file, unique to this checkout."""
        return str(self.config_path)

    def installed(self) -> bool:
        stamp = self.paths.kafka_lib / ".stamp"
        return stamp.exists() and stamp.read_text() == fingerprint([self.paths.kafka_pom])

    def install(self) -> None:
        """Copy Kafka's runtime classpath from Maven Central (cached; redone only when pom.xml changes)."""
        if self.installed():
            return
        require_tool("mvn", "the devstack fetches Kafka's jars with Maven (e.g. the maven package)")
        lib = self.paths.kafka_lib
        if lib.exists():
            shutil.rmtree(lib)
        lib.mkdir(parents=True)
        print(f"devstack: fetching Kafka's classpath with Maven into {lib}", flush=True)
        cmd = [
            "mvn",
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(self.paths.kafka_pom),
            "dependency:copy-dependencies",
        ]
        cmd += ["-DincludeScope=runtime", f"-DoutputDirectory={lib}", f"-Dmaven.repo.local={self.paths.m2}"]
        if subprocess.run(cmd, check=False).returncode != 0:
            raise DevstackError(f"Maven could not fetch Kafka's classpath (pom: {self.paths.kafka_pom})")
        (lib / ".stamp").write_text(fingerprint([self.paths.kafka_pom]))

    def _java(self, *args: str) -> list[str]:
        return [
            "java",
            *self.heap,
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.logs_dir}",
            f"-Dlog4j2.configurationFile={self.paths.kafka_log_config}",
            "-cp",
            f"{self.paths.kafka_lib}/*",
            *args,
        ]

    def properties(self) -> dict[str, str]:
        """The broker's server.properties, as keys and values (a cluster node overrides some)."""
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            "default.replication.factor": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "72",
            "log.retention.bytes": "1073741824",
            "log.segment.bytes": "67108864",
            "log.retention.check.interval.ms": "300000",
        }

    def config_text(self) -> str:
        header = (
            "# written by siaga_devstack on every start; edit deploy/devstack/src/siaga_devstack/kafka.py"
        )
        return "\n".join([header, *(f"{key}={value}" for key, value in self.properties().items()), ""])

    def format_args(self) -> tuple[str, list[str]]:
        """The cluster id and the storage tool's quorum option: a standalone (single-voter) quorum."""
        return new_cluster_id(), ["--standalone"]

    def _format(self) -> None:
        """Format the KRaft storage once (when meta.properties is absent)."""
        if (self.data_dir / "meta.properties").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cluster_id, quorum = self.format_args()
        cmd = self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.config_path))
        out = subprocess.run([*cmd, *quorum], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise DevstackError(
                f"formatting Kafka's storage failed: {(out.stderr or out.stdout).strip()[-800:]}"
            )

    def running(self) -> int | None:
        """Our broker's pid, when the pidfile names a live process whose command line is our broker's."""
        return alive(self.pidfile, self.marker)

    def ready(self) -> bool:
        """A real Kafka protocol round trip (ApiVersions + Metadata with a live broker), not just an open port."""
        return kafka_ready("127.0.0.1", self.port)

    port_vars = ("SIAGA_KAFKA_PORT", "SIAGA_KAFKA_CONTROLLER_PORT")

    def launch(self) -> int:
        """Spawn the broker unless ours already runs (without waiting for it). Returns the pid."""
        pid = self.running()
        if pid is None:
            require_free_port(self.port, "Kafka", self.port_vars[0])
            require_free_port(self.controller_port, "the Kafka controller", self.port_vars[1])
            if java_major_version() < 17:
                raise DevstackError("Kafka 4 needs Java 17 or later; `java -version` reports an older one")
            self.install()
            self.config_path.parent.mkdir(parents=True, exist_ok=True)
            self.config_path.write_text(self.config_text())
            self._format()
            pid = spawn(
                self._java("kafka.Kafka", str(self.config_path)), pidfile=self.pidfile, log=self.stdout_log
            )
        elif self.config_path.exists() and _ports(self.config_path.read_text()) != _ports(self.config_text()):
            raise DevstackError(
                f"our Kafka (pid {pid}, {self.config_path}) listens on other ports than requested now; "
                "stop it first: python -m siaga_devstack down kafka"
            )
        return pid

    def start(self, timeout: float = 120.0) -> int:
        """Start the broker unless ours already runs; return when a client can use it. Returns the pid."""
        pid = self.launch()
        started = pid
        wait_for(
            self.ready,
            timeout=timeout,
            what=f"Kafka on {self.bootstrap}",
            log=self.log,
            pid_check=lambda: pid_running(started),
        )
        return pid

    def stop(self, *, kill: bool = False, timeout: float = 60.0) -> bool:
        """SIGTERM (a clean controlled shutdown), SIGKILL after ``timeout``; or SIGKILL at once with ``kill``."""
        return stop_pidfile(self.pidfile, self.marker, timeout=timeout, kill=kill)


def _ports(config: str) -> set[str]:
    """The listener lines of a server.properties: what must match for a running broker to be reused."""
    keys = (
        "listeners=",
        "advertised.listeners=",
        "controller.quorum.bootstrap.servers=",
        "controller.quorum.voters=",
    )
    return {line for line in config.splitlines() if line.startswith(keys)}


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64, as ``kafka-storage random-uuid`` makes one.

    Like Kafka's own ``Uuid.randomUuid``, it never starts with '-': the storage tool would read such an id
    as an option and stop ("--cluster-id expected one argument"), which happened 1 time in 64.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id
