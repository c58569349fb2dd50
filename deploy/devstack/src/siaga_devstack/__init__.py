"""Real local Kafka and FerretDB for development and tests (``python -m siaga_devstack up|down|status|env``).

``ensure_up()`` starts whatever is missing and returns the endpoints; a server named by
``KAFKA_BOOTSTRAP_SERVERS`` or ``MONGODB_URL`` is used as it is and nothing local is started for it.
Every operation holds ``.devstack/devstack.lock``, so concurrent test sessions share one set of servers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .ferretdb import FerretDB
from .kafka import KafkaNode
from .paths import Paths
from .process import DevstackError, locked

__all__ = [
    "SERVERS",
    "DevstackError",
    "Endpoints",
    "ServerStatus",
    "Stack",
    "ensure_up",
    "kill_ferretdb",
    "kill_kafka",
    "local_servers",
    "restart_ferretdb",
    "restart_kafka",
    "start_ferretdb",
    "start_kafka",
    "status",
    "stop",
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
    """The two local servers of one checkout."""

    def __init__(self, paths: Paths | None = None) -> None:
        self.paths = paths or Paths.discover()
        self.kafka = KafkaNode(self.paths)
        self.ferretdb = FerretDB(self.paths)

    def server(self, name: str) -> KafkaNode | FerretDB:
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
    """Start the local broker if it is not running; return its pid once it is ready."""
    stack = Stack()
    with locked(stack.paths.lock):
        return stack.kafka.start()


def kill_ferretdb() -> bool:
    """SIGKILL the local MongoDB-wire server; ``start_ferretdb()`` brings it back."""
    return bool(Stack().down("ferretdb", kill=True))


def start_ferretdb() -> int:
    """Start the local MongoDB-wire server if it is not running; return its pid once it is ready."""
    stack = Stack()
    with locked(stack.paths.lock):
        return stack.ferretdb.start()
