"""Readiness probes through the clients the services use: aiokafka's admin client and pymongo's ``hello``.

Kafka is ready when a client can bootstrap (its ApiVersions handshake) and the cluster's metadata lists at
least one broker, registered and unfenced, so a client connecting afterwards really gets a working broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pymongo import MongoClient
from pymongo.errors import PyMongoError

__all__ = ["ClusterHealth", "cluster_health", "hello_ok", "kafka_ready", "metadata_broker_count"]

T = TypeVar("T")

# a probe that fails is an answer ("not yet"), not an error worth a traceback in the devstack's output
for _name in ("aiokafka", "kafka"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


async def _broker_count(host: str, port: int, wait_s: float) -> int:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=f"{host}:{port}", client_id="siaga-devstack", request_timeout_ms=int(wait_s * 1000)
    )
    try:
        async with asyncio.timeout(2 * wait_s):  # the bootstrap, then one metadata request
            await admin.start()
            cluster = await admin.describe_cluster()
        return len(cluster.get("brokers", []))
    finally:
        await admin.close()


def _run_sync(probe: Callable[[], T]) -> T:
    """Run a probe from synchronous code, or from inside a running event loop (a benchmark's, a test's) on a
    thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return probe()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(probe).result()


def metadata_broker_count(host: str, port: int, timeout: float = 2.0) -> int:
    """How many live brokers the cluster's metadata lists; 0 when none answers. Callable from synchronous
    code and from inside a running event loop (a benchmark's), where the probe runs on a thread of its own."""

    def probe() -> int:
        try:
            return asyncio.run(_broker_count(host, port, timeout))
        except (KafkaError, OSError, TimeoutError):
            return 0

    return _run_sync(probe)


@dataclass(frozen=True)
class ClusterHealth:
    """What a cluster's metadata says: the live (registered, unfenced) brokers, and the partitions whose
    in-sync replicas are fewer than their replicas (``under_replicated``: ``topic/partition`` names)."""

    live: frozenset[int]
    partitions: int = 0
    under_replicated: tuple[str, ...] = ()
    error: str | None = None

    def settled(self, brokers: frozenset[int]) -> bool:
        """Exactly ``brokers`` are live and every partition's replicas are all in sync."""
        return self.error is None and self.live == brokers and not self.under_replicated


async def _cluster_health(bootstrap: str, wait_s: float) -> ClusterHealth:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="siaga-devstack", request_timeout_ms=int(wait_s * 1000)
    )
    try:
        async with asyncio.timeout(3 * wait_s):  # the bootstrap, then two metadata requests
            await admin.start()
            cluster = await admin.describe_cluster()
            topics: list[dict[str, Any]] = await admin.describe_topics()
    finally:
        await admin.close()
    live = frozenset(int(b["node_id"]) for b in cluster.get("brokers", []))
    lagging: list[str] = []
    count = 0
    for topic in topics:
        for part in topic.get("partitions", []):
            count += 1
            if set(part.get("isr", [])) != set(part.get("replicas", [])):
                lagging.append(f"{topic['topic']}/{part['partition']}")
    return ClusterHealth(live, count, tuple(sorted(lagging)))


def cluster_health(bootstrap: str, timeout: float = 3.0) -> ClusterHealth:
    """The live brokers and the under-replicated partitions, as the metadata of any reachable broker of
    ``bootstrap`` (``host:port,host:port``) tells them; ``error`` says why when none answered."""

    def probe() -> ClusterHealth:
        try:
            return asyncio.run(_cluster_health(bootstrap, timeout))
        except (KafkaError, OSError, TimeoutError) as exc:
            return ClusterHealth(frozenset(), error=f"{type(exc).__name__}: {exc}")

    return _run_sync(probe)


def kafka_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """A client bootstraps and the metadata lists at least one (unfenced) broker; False on any failure."""
    return metadata_broker_count(host, port, timeout) >= 1


def hello_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """The server answers MongoDB's ``hello`` with ``ok: 1``."""
    client: MongoClient[dict[str, object]] = MongoClient(
        host, port, serverSelectionTimeoutMS=int(timeout * 1000), connectTimeoutMS=int(timeout * 1000)
    )
    try:
        return client.admin.command("hello").get("ok") == 1.0
    except PyMongoError:
        return False
    finally:
        client.close()
