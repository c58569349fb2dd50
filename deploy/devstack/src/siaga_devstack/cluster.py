"""A replicated Kafka on loopback: N combined broker + controller KRaft nodes (``SIAGA_KAFKA_BROKERS=3``).

Every node is a voter of the controller quorum (a static quorum, ``controller.quorum.voters``), so the
cluster survives losing any one node. Topics default to replication factor 3 and
``min.insync.replicas=2``: with the services' ``acks=all`` a write is acknowledged once two replicas have it,
and producing goes on while one broker is away.

Broker ``i`` (0-based) is node id ``i + 1`` and listens on ``SIAGA_KAFKA_CLUSTER_PORT + i`` (default
19092) and its controller on ``SIAGA_KAFKA_CLUSTER_CONTROLLER_PORT + i`` (default 19192): other ports than
the single-node default, so a cluster can run beside it. State lives under ``.devstack/kafka-cluster/``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .kafka import KafkaNode, new_cluster_id
from .paths import Paths
from .probes import ClusterHealth, cluster_health
from .process import DevstackError, env_port, pid_running

__all__ = ["BROKERS_VAR", "ClusterNode", "KafkaCluster", "configured_brokers"]

BROKERS_VAR = "SIAGA_KAFKA_BROKERS"
PORT_VAR = "SIAGA_KAFKA_CLUSTER_PORT"
CONTROLLER_PORT_VAR = "SIAGA_KAFKA_CLUSTER_CONTROLLER_PORT"
CLUSTER_HEAP = ("-Xms192m", "-Xmx512m")
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
MAX_BROKERS = 9


def configured_brokers(env: Mapping[str, str] | None = None) -> int:
    """How many local brokers the devstack runs: 1 (the default) or a cluster of 3 or more."""
    env = os.environ if env is None else env
    raw = env.get(BROKERS_VAR, "").strip() or "1"
    if not raw.isdigit() or int(raw) not in (1, *range(REPLICATION_FACTOR, MAX_BROKERS + 1)):
        raise DevstackError(
            f"{BROKERS_VAR}={raw!r}: choose 1 (one node) or {REPLICATION_FACTOR} to {MAX_BROKERS} "
            f"(a cluster with replication factor {REPLICATION_FACTOR})"
        )
    return int(raw)


@dataclass(frozen=True)
class ClusterNode(KafkaNode):
    """Node ``index`` of a local cluster: its own ports, config, data, logs and pidfile."""

    index: int = 0
    brokers: int = REPLICATION_FACTOR
    base_controller_port: int = 19192

    @property
    def node_id(self) -> int:
        return self.index + 1

    @property
    def home(self) -> Path:
        return self.paths.state / "kafka-cluster" / f"node-{self.node_id}"

    @property
    def pidfile(self) -> Path:
        return self.paths.pidfile(f"kafka-cluster-{self.node_id}")

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def config_path(self) -> Path:
        return self.home / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def heap(self) -> tuple[str, ...]:
        return CLUSTER_HEAP

    port_vars = (PORT_VAR, CONTROLLER_PORT_VAR)

    @property
    def voters(self) -> str:
        return ",".join(f"{i + 1}@127.0.0.1:{self.base_controller_port + i}" for i in range(self.brokers))

    def properties(self) -> dict[str, str]:
        props = super().properties()
        del props["controller.quorum.bootstrap.servers"]  # a static quorum: the voters are listed
        rf = str(REPLICATION_FACTOR)
        isr = str(MIN_INSYNC_REPLICAS)
        props.update(
            {
                "node.id": str(self.node_id),
                "controller.quorum.voters": self.voters,
                "default.replication.factor": rf,
                "min.insync.replicas": isr,
                "offsets.topic.replication.factor": rf,
                "transaction.state.log.replication.factor": rf,
                "transaction.state.log.min.isr": isr,
                "share.coordinator.state.topic.replication.factor": rf,
                "share.coordinator.state.topic.min.isr": isr,
                "unclean.leader.election.enable": "false",
                # a killed broker is fenced (and leaves the metadata) after this long without a heartbeat
                "broker.session.timeout.ms": "6000",
                "broker.heartbeat.interval.ms": "1000",
                # leadership goes back to the preferred replicas soon after a broker returns
                "leader.imbalance.check.interval.seconds": "30",
            }
        )
        return props

    def format_args(self) -> tuple[str, list[str]]:
        """One cluster id for every node (kept in ``.devstack/kafka-cluster/cluster.id``); static voters."""
        id_file = self.home.parent / "cluster.id"
        if not id_file.exists():
            id_file.parent.mkdir(parents=True, exist_ok=True)
            id_file.write_text(new_cluster_id())
        return id_file.read_text().strip(), []


@dataclass(frozen=True)
class KafkaCluster:
    """The local cluster: start and stop it whole, or stop and start one broker, each waiting until the
    cluster's metadata shows the expected live brokers (and, after a start, every replica back in sync)."""

    paths: Paths
    brokers: int = REPLICATION_FACTOR
    port: int = field(default_factory=lambda: env_port(PORT_VAR, 19092))
    controller_port: int = field(default_factory=lambda: env_port(CONTROLLER_PORT_VAR, 19192))

    def __post_init__(self) -> None:
        if self.brokers < REPLICATION_FACTOR:
            raise DevstackError(f"a cluster needs at least {REPLICATION_FACTOR} brokers, not {self.brokers}")

    @property
    def nodes(self) -> tuple[ClusterNode, ...]:
        return tuple(
            ClusterNode(
                self.paths,
                port=self.port + i,
                controller_port=self.controller_port + i,
                index=i,
                brokers=self.brokers,
                base_controller_port=self.controller_port,
            )
            for i in range(self.brokers)
        )

    def node(self, index: int) -> ClusterNode:
        if not 0 <= index < self.brokers:
            raise DevstackError(f"no broker {index}: the cluster has brokers 0 to {self.brokers - 1}")
        return self.nodes[index]

    @property
    def node_ids(self) -> frozenset[int]:
        return frozenset(range(1, self.brokers + 1))

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def log(self) -> Path:
        return self.nodes[0].log

    def health(self, timeout: float = 3.0) -> ClusterHealth:
        """Live brokers and under-replicated partitions, as the running brokers' metadata says."""
        running = [n.bootstrap for n in self.nodes if n.running()]
        if not running:
            return ClusterHealth(frozenset(), error="no broker of the cluster is running")
        return cluster_health(",".join(running), timeout)

    def running(self) -> int | None:
        """The pid of the first running node (None when none runs)."""
        return next((pid for pid in self.pids() if pid is not None), None)

    def _running(self, *, exclude: int) -> dict[int, int]:
        """Node id → pid of the running nodes but node ``exclude`` (an index)."""
        return {n.node_id: pid for n in self.nodes if n.index != exclude and (pid := n.running()) is not None}

    def pids(self) -> list[int | None]:
        return [node.running() for node in self.nodes]

    def ready(self) -> bool:
        """Every broker is live in the metadata."""
        return self.health().live == self.node_ids

    def install(self) -> None:
        self.nodes[0].install()

    def _wait(self, pids: Mapping[int, int], *, in_sync: bool, timeout: float, what: str) -> ClusterHealth:
        """Poll the metadata until exactly the brokers of ``pids`` (node id → pid) are live (and, with
        ``in_sync``, no partition is under-replicated); fail early when one of those processes exits."""
        want = frozenset(pids)
        deadline = time.monotonic() + timeout
        health = self.health()
        while time.monotonic() < deadline:
            if health.error is None and health.live == want and (not in_sync or not health.under_replicated):
                return health
            for node in self.nodes:
                if node.node_id in pids and not pid_running(pids[node.node_id]):
                    raise DevstackError(f"Kafka broker {node.index} exited during {what}; see {node.log}")
            time.sleep(0.5)
            health = self.health()
        detail = health.error or (
            f"live brokers {sorted(health.live)} (want {sorted(want)}), "
            f"{len(health.under_replicated)} under-replicated partitions"
            + (f" e.g. {', '.join(health.under_replicated[:3])}" if health.under_replicated else "")
        )
        raise DevstackError(f"the Kafka cluster did not settle within {timeout:.0f}s after {what}: {detail}")

    def start(self, timeout: float = 180.0) -> list[int]:
        """Start every node not running (all at once: the quorum needs a majority), wait until all are live
        and every partition fully in sync. Returns the pids."""
        self.install()
        pids = [node.launch() for node in self.nodes]
        self._wait(
            dict(zip(sorted(self.node_ids), pids, strict=True)),
            in_sync=True,
            timeout=timeout,
            what="start-up",
        )
        return pids

    def stop(self, *, kill: bool = False, timeout: float = 60.0) -> bool:
        """Stop every node (SIGTERM, SIGKILL after ``timeout``; SIGKILL at once with ``kill``)."""
        with ThreadPoolExecutor(max_workers=self.brokers) as pool:
            stopped = list(pool.map(lambda n: n.stop(kill=kill, timeout=timeout), self.nodes))
        return any(stopped)

    def stop_broker(self, index: int, *, kill: bool = False, timeout: float = 90.0) -> ClusterHealth:
        """Stop broker ``index`` (a controlled shutdown; ``kill``: SIGKILL, a crash) and wait until the
        others' metadata no longer lists it. Refused when it would leave no majority of the voters."""
        node = self.node(index)
        others = self._running(exclude=index)
        if len(others) <= self.brokers // 2:
            raise DevstackError(
                f"stopping broker {index} would leave {len(others)} of {self.brokers} controller voters: "
                "the quorum would be lost; start the others first"
            )
        node.stop(kill=kill)
        return self._wait(others, in_sync=False, timeout=timeout, what=f"stopping broker {index}")

    def start_broker(self, index: int, timeout: float = 180.0) -> ClusterHealth:
        """Start broker ``index`` and wait until every running broker is live and every partition's
        in-sync replicas are its replicas again (the restarted broker has caught up)."""
        pid = self.node(index).launch()
        want = {**self._running(exclude=index), index + 1: pid}
        return self._wait(want, in_sync=True, timeout=timeout, what=f"starting broker {index}")
