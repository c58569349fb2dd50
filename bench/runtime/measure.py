"""What each benchmark worker measures with: peak RSS, latency percentiles, metric totals, phase timers
and a collection wrapper that times every call."""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import psutil


class RssSampler:
    """Peak resident set size of this process, sampled every 20 ms on a thread (the event loop may be busy)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.proc = psutil.Process()
        self.interval = interval
        self.baseline = self.proc.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    def summary(self) -> dict[str, float]:
        return {"baseline_rss_mb": self.baseline / 2**20, "peak_rss_mb": self.peak / 2**20}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50_ms": pct(ms, 50),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms) if ms else None,
        "mean_ms": statistics.fmean(ms) if ms else None,
    }


def metric_total(registry: Any, name: str) -> float:
    total = 0.0
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == name:
                total += sample.value
    return total


def counter_total(counter: Any) -> float:
    """Sum of a (labelled) counter's values; cheap enough to poll (collects one metric only)."""
    return float(
        sum(s.value for family in counter.collect() for s in family.samples if s.name.endswith("_total"))
    )


class PhaseTimers:
    """Wall time per phase of the runtime path, collected by thin wrappers (no change to the runtime)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds
        self.calls[name] += 1

    def wrap_async(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)

        return timed

    def wrap_sync(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)

        return timed

    def report(self) -> dict[str, Any]:
        return {k: {"seconds": round(v, 4), "calls": self.calls[k]} for k, v in sorted(self.seconds.items())}


class TimedCollection:
    """Times the write calls the store and the relay make on a collection; everything else passes through."""

    def __init__(self, inner: Any, timers: PhaseTimers) -> None:
        self._inner = inner
        self._timers = timers
        self.bulk_write = timers.wrap_async("mongo bulk_write (insert + {_id,_v} replace)", inner.bulk_write)
        self.update_one = timers.wrap_async("mongo update_one", inner.update_one)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
