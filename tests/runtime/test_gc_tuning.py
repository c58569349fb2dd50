"""The garbage-collector tuning every service applies at start-up, and the series that measure it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from siaga_runtime.gc_tuning import GcCollector, freeze, gc_times, tune


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


def test_tune_raises_only_the_young_threshold(restored_gc: None) -> None:
    _, older, oldest = gc.get_threshold()
    tune(50_000)
    assert gc.get_threshold() == (50_000, older, oldest)


def test_freeze_keeps_what_is_alive_out_of_later_collections(restored_gc: None) -> None:
    kept = [[i] for i in range(1_000)]
    freeze()
    assert gc.get_freeze_count() >= len(kept)


def test_collections_are_timed_and_exported_per_generation() -> None:
    registry = CollectorRegistry()
    registry.register(GcCollector("logistics"))
    before = registry.get_sample_value(
        "siaga_gc_collections_total", {"service": "logistics", "generation": "2"}
    )
    seconds_before = registry.get_sample_value(
        "siaga_gc_seconds_total", {"service": "logistics", "generation": "2"}
    )
    assert before is not None and seconds_before is not None
    gc.collect()
    after = registry.get_sample_value(
        "siaga_gc_collections_total", {"service": "logistics", "generation": "2"}
    )
    seconds_after = registry.get_sample_value(
        "siaga_gc_seconds_total", {"service": "logistics", "generation": "2"}
    )
    assert after == before + 1
    assert seconds_after is not None and seconds_after > seconds_before


def test_the_timer_is_installed_once_however_many_collectors_are_made() -> None:
    GcCollector("a"), GcCollector("b")
    assert sum(1 for cb in gc.callbacks if cb is gc_times()) == 1
