"""Real local Kafka and FerretDB for development and tests (``python -m siaga_devstack up|down|status|env``).

``ensure_up()`` starts whatever is missing and returns the endpoints; a server named by
``KAFKA_BOOTSTRAP_SERVERS`` or ``MONGODB_URL`` is used as it is and nothing local is started for it.
``SIAGA_KAFKA_BROKERS=3`` makes "kafka" a replicated 3-broker cluster (``siaga_devstack.cluster``);
``start_cluster``/``stop_broker``/``start_broker`` drive one for fault tests.
Every operation holds ``.devstack/devstack.lock``, so concurrent test sessions share one set of servers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .cluster import BROKERS_VAR, KafkaCluster, configured_brokers
from .ferretdb import FerretDB
from .kafka import KafkaNode
from .paths import Paths
from .probes import ClusterHealth
from .process import DevstackError, locked

__all__ = [
    "BROKERS_VAR",
    "SERVERS",
    "ClusterHealth",
    "DevstackError",
    "Endpoints",
    "KafkaCluster",
    "ServerStatus",
    "Stack",
    "cluster_health",
    "ensure_up",
    "kill_ferretdb",
    "kill_kafka",
    "local_servers",
    "restart_ferretdb",
    "restart_kafka",
    "start_broker",
    "start_cluster",
    "start_ferretdb",
    "start_kafka",
    "status",
    "stop",
    "stop_broker",
    "stop_cluster",
]

SERVERS = ("kafka", "ferretdb")
EXTERNAL_ENV = {"kafka": "KAFKA_BOOTSTRAP_SERVERS", "ferretdb": "MONGODB_URL"}


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    mongodb_url: str
    kafka_external: bool = False
    mongodb_external: bool = False


@dataclass(frozen=True)
class ServerStatus:
    name: str
    endpoint: str
    external: bool
    pid: int | None
    ready: bool
    log: str


def local_servers(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The decision: which servers the devstack runs itself (those not given by the environment)."""
    env = os.environ if env is None else env
    return tuple(name for name in SERVERS if not env.get(EXTERNAL_ENV[name], "").strip())


class Stack:
    """The two local servers of one checkout; "kafka" is one node, or a cluster with ``SIAGA_KAFKA_BROKERS``."""

    def __init__(self, paths: Paths | None = None, *, brokers: int | None = None) -> None:
        self.paths = paths or Paths.discover()
        brokers = configured_brokers() if brokers is None else brokers
        self.kafka: KafkaNode | KafkaCluster = (
            KafkaNode(self.paths) if brokers == 1 else KafkaCluster(self.paths, brokers)
        )
        self.ferretdb = FerretDB(self.paths)

    @property
    def cluster(self) -> KafkaCluster:
        """The local Kafka cluster (``SIAGA_KAFKA_BROKERS`` ≥ 3); a clear error for a single node."""
        if not isinstance(self.kafka, KafkaCluster):
            raise DevstackError(f"the local Kafka is a single node: set {BROKERS_VAR}=3 for a cluster")
        return self.kafka

    def server(self, name: str) -> KafkaNode | KafkaCluster | FerretDB:
        if name == "kafka":
            return self.kafka
        if name == "ferretdb":
            return self.ferretdb
        raise ValueError(f"unknown server {name!r}; expected one of {SERVERS}")

    def endpoints(self) -> Endpoints:
        kafka_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
        mongo_env = os.environ.get("MONGODB_URL", "").strip()
        return Endpoints(
            kafka_bootstrap=kafka_env or self.kafka.bootstrap,
            mongodb_url=mongo_env or self.ferretdb.url,
            kafka_external=bool(kafka_env),
            mongodb_external=bool(mongo_env),
        )

    def up(self) -> Endpoints:
        """Install and start what is missing (FerretDB first: it is ready in a second while Kafka boots)."""
        endpoints = self.endpoints()
        wanted = local_servers()
        with locked(self.paths.lock):
            for name in reversed(SERVERS):
                if name in wanted:
                    self.server(name).start()
        return endpoints

    def down(self, which: Iterable[str] = SERVERS, *, kill: bool = False) -> list[str]:
        """Stop only servers this devstack started (by pidfile); return the names of those stopped."""
        names = [which] if isinstance(which, str) else list(which)
        with locked(self.paths.lock):
            return [name for name in names if self.server(name).stop(kill=kill)]

    def restart(self, name: str, *, kill: bool = False) -> None:
        with locked(self.paths.lock):
            server = self.server(name)
            server.stop(kill=kill)
            server.start()

    def status(self) -> list[ServerStatus]:
        endpoints = self.endpoints()
        result = []
        for name, endpoint, external in (
            ("kafka", endpoints.kafka_bootstrap, endpoints.kafka_external),
            ("ferretdb", endpoints.mongodb_url, endpoints.mongodb_external),
        ):
            server = self.server(name)
            pid = server.running()
            ready = server.ready() if pid else False
            result.append(ServerStatus(name, endpoint, external, pid, ready, str(server.log)))
        return result


def ensure_up() -> Endpoints:
    """Start what is missing (idempotent: running servers are reused) and return the endpoints."""
    return Stack().up()


def stop(which: str | Iterable[str] = SERVERS, *, kill: bool = False) -> list[str]:
    """Stop only the servers this devstack started (by pidfile): SIGTERM, wait, then SIGKILL."""
    return Stack().down(which, kill=kill)


def status() -> list[ServerStatus]:
    return Stack().status()


def restart_kafka(*, kill: bool = False) -> None:
    """Stop (SIGTERM; SIGKILL with ``kill``) and start the local broker, keeping its data; returns when ready."""
    Stack().restart("kafka", kill=kill)


def restart_ferretdb(*, kill: bool = False) -> None:
    """Stop and start the local MongoDB-wire server, keeping its data; returns when ready."""
    Stack().restart("ferretdb", kill=kill)


def kill_kafka() -> bool:
    """SIGKILL the local broker (a crash); ``start_kafka()`` brings it back."""
    return bool(Stack().down("kafka", kill=True))


def start_kafka() -> int:
    """Start the local broker (every broker of a cluster) if not running; return its (the first's) pid once
    it is ready."""
    stack = Stack()
    with locked(stack.paths.lock):
        if isinstance(stack.kafka, KafkaCluster):
            return stack.kafka.start()[0]
        return stack.kafka.start()


def _cluster(brokers: int | None) -> tuple[Stack, KafkaCluster]:
    stack = Stack(brokers=brokers or max(configured_brokers(), 3))
    return stack, stack.cluster


def start_cluster(brokers: int | None = None) -> str:
    """Start the local cluster (``SIAGA_KAFKA_BROKERS``, at least 3; or ``brokers``) unless it runs; return
    its bootstrap servers once every broker is live and every partition in sync. Runs beside the single
    node on its own ports (``SIAGA_KAFKA_CLUSTER_PORT``, ``SIAGA_KAFKA_CLUSTER_CONTROLLER_PORT``)."""
    stack, cluster = _cluster(brokers)
    with locked(stack.paths.lock):
        cluster.start()
    return cluster.bootstrap


def stop_cluster(brokers: int | None = None, *, kill: bool = False) -> bool:
    """Stop every broker of the local cluster; data is kept."""
    stack, cluster = _cluster(brokers)
    with locked(stack.paths.lock):
        return cluster.stop(kill=kill)


def stop_broker(index: int, *, kill: bool = False, brokers: int | None = None) -> ClusterHealth:
    """Stop broker ``index`` (0-based; SIGTERM, or SIGKILL with ``kill``) of the local cluster; returns once
    the other brokers' metadata no longer lists it."""
    stack, cluster = _cluster(brokers)
    with locked(stack.paths.lock):
        return cluster.stop_broker(index, kill=kill)


def start_broker(index: int, *, brokers: int | None = None) -> ClusterHealth:
    """Start broker ``index`` of the local cluster again; returns once it is live and every partition's
    replicas are all back in sync."""
    stack, cluster = _cluster(brokers)
    with locked(stack.paths.lock):
        return cluster.start_broker(index)


def cluster_health(brokers: int | None = None) -> ClusterHealth:
    """The local cluster's live brokers and under-replicated partitions."""
    return _cluster(brokers)[1].health()


def kill_ferretdb() -> bool:
    """SIGKILL the local MongoDB-wire server; ``start_ferretdb()`` brings it back."""
    return bool(Stack().down("ferretdb", kill=True))


def start_ferretdb() -> int:
    """Start the local MongoDB-wire server if it is not running; return its pid once it is ready."""
    stack = Stack()
    with locked(stack.paths.lock):
        return stack.ferretdb.start()
