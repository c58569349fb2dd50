"""Apache Kafka 4.1, one combined KRaft node on loopback, from its Maven Central artifacts."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import struct
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from .paths import Paths
from .process import (
    DevstackError,
    alive,
    fingerprint,
    pid_running,
    port_open,
    require_free_port,
    spawn,
    stop_pidfile,
    wait_for,
)

__all__ = ["KafkaNode"]

MARKER = "kafka.Kafka"


@dataclass(frozen=True)
class KafkaNode:
    paths: Paths
    port: int = int(os.environ.get("SIAGA_KAFKA_PORT", "9092"))
    controller_port: int = int(os.environ.get("SIAGA_KAFKA_CONTROLLER_PORT", "9093"))

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pidfile(self) -> Path:
        return self.paths.pidfile("kafka")

    def install(self) -> None:
        """Copy Kafka's runtime classpath from Maven Central (cached; redone only when pom.xml changes)."""
        for tool in ("java", "mvn"):
            if shutil.which(tool) is None:
                raise DevstackError(f"'{tool}' is not installed: Kafka needs Java 17+ and Maven")
        stamp = self.paths.kafka_lib / ".stamp"
        wanted = fingerprint([self.paths.kafka_pom])
        if stamp.exists() and stamp.read_text() == wanted:
            return
        if self.paths.kafka_lib.exists():
            shutil.rmtree(self.paths.kafka_lib)
        self.paths.kafka_lib.mkdir(parents=True)
        print(f"devstack: fetching Kafka's classpath with Maven into {self.paths.kafka_lib}", flush=True)
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(self.paths.kafka_pom),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={self.paths.kafka_lib}",
                f"-Dmaven.repo.local={self.paths.m2}",
            ],
            check=True,
        )
        stamp.write_text(wanted)

    def _java(self, *args: str) -> list[str]:
        return [
            "java",
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.paths.logs}",
            f"-Dlog4j2.configurationFile={self.paths.kafka_log_config}",
            "-cp",
            f"{self.paths.kafka_lib}/*",
            *args,
        ]

    def _write_config(self) -> None:
        cfg = self.paths.kafka_config
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"log.dirs={self.paths.kafka_data}",
                    "num.partitions=3",
                    "auto.create.topics.enable=true",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.retention.hours=168",
                    "log.segment.bytes=104857600",
                    "",
                ]
            )
        )

    def _format(self) -> None:
        if (self.paths.kafka_data / "meta.properties").exists():
            return
        self.paths.kafka_data.mkdir(parents=True, exist_ok=True)
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.paths.kafka_config),
                "--standalone",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def running(self) -> int | None:
        return alive(self.pidfile, MARKER)

    def start(self, timeout: float = 90.0) -> None:
        if self.running():
            return
        require_free_port(self.port, "Kafka", "SIAGA_KAFKA_PORT")
        require_free_port(self.controller_port, "the Kafka controller", "SIAGA_KAFKA_CONTROLLER_PORT")
        self.install()
        self._write_config()
        self._format()
        log = self.paths.log("kafka-stdout")
        pid = spawn(self._java("kafka.Kafka", str(self.paths.kafka_config)), pidfile=self.pidfile, log=log)
        wait_for(
            self.ready,
            timeout=timeout,
            what="Kafka",
            log=self.paths.log("kafka"),
            pid_check=lambda: pid_running(pid),
        )

    def ready(self) -> bool:
        """A real Kafka protocol round trip (ApiVersions), not just an open port."""
        if not port_open(self.port):
            return False
        try:
            return api_versions_ok("127.0.0.1", self.port)
        except OSError:
            return False

    def stop(self, *, kill: bool = False) -> bool:
        return stop_pidfile(self.pidfile, MARKER, timeout=60.0, kill=kill)


def api_versions_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """Send ApiVersions v3 and check the broker answers with error code 0."""
    client_id = b"siaga-devstack"
    # request header v2: api_key, api_version, correlation_id, client_id (nullable string), tagged fields
    header = struct.pack(">hhih", 18, 3, 7, len(client_id)) + client_id + b"\x00"
    # ApiVersions v3 body: client_software_name, client_software_version (compact strings), tagged fields
    body = bytes([len(b"siaga") + 1]) + b"siaga" + bytes([len(b"1") + 1]) + b"1" + b"\x00"
    payload = header + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        size = struct.unpack(">i", _recv(sock, 4))[0]
        response = _recv(sock, size)
    correlation_id, error_code = struct.unpack(">ih", response[:6])
    return correlation_id == 7 and error_code == 0


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data
