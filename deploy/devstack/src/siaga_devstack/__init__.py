"""Real local Kafka and FerretDB for development and tests (``python -m siaga_devstack up|down|status|env``).

``ensure_up()`` starts whatever is missing and returns the endpoints; a server named by
``KAFKA_BOOTSTRAP_SERVERS`` or ``MONGODB_URL`` is used as it is and nothing local is started for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .ferretdb import FerretDB
from .kafka import KafkaNode
from .paths import Paths
from .process import DevstackError

__all__ = [
    "DevstackError",
    "Endpoints",
    "Stack",
    "ensure_up",
    "restart_ferretdb",
    "restart_kafka",
    "stop",
]


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    mongodb_url: str
    kafka_external: bool
    mongodb_external: bool


class Stack:
    """The two local servers of one checkout."""

    def __init__(self, paths: Paths | None = None) -> None:
        self.paths = paths or Paths.discover()
        self.kafka = KafkaNode(self.paths)
        self.ferretdb = FerretDB(self.paths)

    def endpoints(self) -> Endpoints:
        kafka_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        mongo_env = os.environ.get("MONGODB_URL")
        return Endpoints(
            kafka_bootstrap=kafka_env or self.kafka.bootstrap,
            mongodb_url=mongo_env or self.ferretdb.url,
            kafka_external=bool(kafka_env),
            mongodb_external=bool(mongo_env),
        )

    def up(self) -> Endpoints:
        endpoints = self.endpoints()
        if not endpoints.mongodb_external:
            self.ferretdb.start()
        if not endpoints.kafka_external:
            self.kafka.start()
        return endpoints

    def down(self) -> list[str]:
        stopped = []
        if self.kafka.stop():
            stopped.append("kafka")
        if self.ferretdb.stop():
            stopped.append("ferretdb")
        return stopped


def ensure_up() -> Endpoints:
    """Start what is missing (idempotent: running servers are reused) and return the endpoints."""
    return Stack().up()


def stop() -> list[str]:
    """Stop only the servers this devstack started (by pidfile)."""
    return Stack().down()


def restart_kafka(*, kill: bool = False) -> None:
    """Stop (SIGTERM, or SIGKILL with ``kill``) and start the local broker, keeping its data."""
    stack = Stack()
    stack.kafka.stop(kill=kill)
    stack.kafka.start()


def restart_ferretdb(*, kill: bool = False) -> None:
    """Stop and start the local MongoDB-wire server, keeping its data."""
    stack = Stack()
    stack.ferretdb.stop(kill=kill)
    stack.ferretdb.start()
