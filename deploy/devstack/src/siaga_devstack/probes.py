"""Readiness probes through the clients the services use: aiokafka's admin client and pymongo's ``hello``.

Kafka is ready when a client can bootstrap (its ApiVersions handshake) and the cluster's metadata lists at
least one broker, registered and unfenced, so a client connecting afterwards really gets a working broker.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pymongo import MongoClient
from pymongo.errors import PyMongoError

__all__ = ["hello_ok", "kafka_ready", "metadata_broker_count"]

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


def metadata_broker_count(host: str, port: int, timeout: float = 2.0) -> int:
    """How many live brokers the cluster's metadata lists; 0 when none answers. Callable from synchronous
    code and from inside a running event loop (a benchmark's), where the probe runs on a thread of its own."""

    def probe() -> int:
        try:
            return asyncio.run(_broker_count(host, port, timeout))
        except (KafkaError, OSError, TimeoutError):
            return 0

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return probe()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(probe).result()


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
