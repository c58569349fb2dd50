"""Small helpers for integration tests: bounded waits (failure guards, never timing assertions) and Kafka I/O."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


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
    bootstrap: str, records: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]]
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
