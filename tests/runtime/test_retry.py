"""The transient-failure retry (pure logic: an operation that fails as a dependency would)."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry
from pymongo.errors import AutoReconnect
from siaga_runtime.consumer import TransientRetry
from siaga_runtime.metrics import RuntimeMetrics


def _retry(stopping: asyncio.Event | None = None) -> tuple[TransientRetry, RuntimeMetrics]:
    metrics = RuntimeMetrics(CollectorRegistry(), "t")
    return TransientRetry(metrics, stopping or asyncio.Event(), max_backoff=0.05), metrics


def _retries(metrics: RuntimeMetrics) -> float:
    return (
        metrics.registry.get_sample_value(
            "siaga_transient_retries_total", {"service": "t", "dependency": "mongodb"}
        )
        or 0.0
    )


async def test_a_transient_failure_is_retried_until_the_dependency_is_back() -> None:
    retry, metrics = _retry()
    calls = 0

    async def op() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise AutoReconnect("the server went away")
        return "ok"

    assert await retry.run(op, "write") == "ok"
    assert calls == 3 and _retries(metrics) == 2


async def test_a_failure_that_is_not_transient_is_raised_at_once() -> None:
    retry, metrics = _retry()
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        await retry.run(op, "write")
    assert calls == 1 and _retries(metrics) == 0


async def test_shutting_down_stops_the_retries() -> None:
    stopping = asyncio.Event()
    retry, _ = _retry(stopping)
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            stopping.set()
        raise AutoReconnect("still away")

    with pytest.raises(AutoReconnect):
        await retry.run(op, "write")
    assert calls == 2
