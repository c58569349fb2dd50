"""Small helpers for integration tests: bounded waits (failure guards, never timing assertions), Kafka I/O,
and a service run in-process behind an ASGI client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from siaga_schemas import AnyEnvelope
from siaga_schemas.events.logistics import ShipmentStatusReported

S = TypeVar("S")


def status_shipment(env: AnyEnvelope) -> str:
    """Route a shipment-status report by its shipment: the only event the runtime's stream tests consume."""
    assert isinstance(env.data, ShipmentStatusReported)
    return env.data.shipment_id


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


PROBLEM_KINDS = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    422: "validation",
}


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    """The RFC 9457 problem of an error response, after checking its status, media type and type URI."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["type"] == f"/problems/{PROBLEM_KINDS[status]}", body
    if status == 422:
        assert body["errors"], body
    return body


@dataclass
class Running(Generic[S]):
    """A service running in-process; ``S`` is the type of its ``app.state.stores``."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def stores(self) -> S:
        return cast(S, self.app.state.stores)


@asynccontextmanager
async def serve(app: FastAPI, name: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app's lifespan (Kafka, MongoDB, relay, consumers, timers) around an ASGI client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            yield app, client


@asynccontextmanager
async def scratch_collection(mongodb_url: str, database: str, name: str) -> AsyncIterator[Any]:
    """A collection of a database of its own on the real server, dropped afterwards."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        yield client[database][name]
    finally:
        await client.drop_database(database)
        await client.close()


async def read_to_end(bootstrap: str, topic: str) -> list[Any]:
    """Every record now in ``topic`` (read up to the end offsets taken once the partitions are assigned)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:

        async def assigned() -> bool:
            await consumer.getmany(timeout_ms=100)  # only to let the assignment happen; records re-read below
            return bool(consumer.assignment())

        await wait_until(assigned, timeout=30, what=f"partitions of {topic}")
        tps = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Any] = []

        async def done() -> bool:
            batch = await consumer.getmany(*tps, timeout_ms=300)
            for recs in batch.values():
                records.extend(recs)
            positions = [await consumer.position(tp) for tp in tps]
            return all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True))

        await wait_until(done, timeout=60, what=f"read {topic} to its end")
        return records
    finally:
        await consumer.stop()


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], *, timeout: float = 120.0, what: str = ""
) -> None:
    """Poll until ``predicate`` is true; fail the test after ``timeout`` seconds (a guard, not a measurement)."""
    deadline = time.monotonic() + timeout
    while True:
        if await predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout:.0f}s: {what}")
        await asyncio.sleep(0.2)


async def produce(
    bootstrap: str, records: Sequence[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=value, key=key, headers=headers)
            for topic, key, value, headers in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, expected: int, *, timeout: float = 120.0) -> list[Any]:
    """Read a topic from the beginning until ``expected`` records arrived (or fail after ``timeout``)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=8 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
    finally:
        await consumer.stop()
    assert len(records) >= expected, (
        f"{topic}: got {len(records)} of {expected} records within {timeout:.0f}s"
    )
    return records
