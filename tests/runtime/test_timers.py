"""The due index on the real MongoDB-wire server: timers fire once due, survive restarts, and never get lost
when a schedule races with a sweep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from siaga_runtime import DueIndex, ManualClock

from ..conftest import Servers
from ..helpers import scratch_collection

T0 = datetime(2024, 11, 26, 8, 0, 10, tzinfo=UTC)
BUCKET = timedelta(seconds=30)


@pytest.fixture
async def collection(servers: Servers, isolation: str) -> AsyncIterator[Any]:
    async with scratch_collection(servers.mongodb_url, f"{isolation}_timers", "due") as c:
        yield c


def _index(collection: Any, clock: ManualClock) -> DueIndex:
    return DueIndex(collection, bucket=BUCKET, clock=clock, retention=timedelta(minutes=5))


async def test_timers_fire_once_they_are_due_and_only_then(collection: Any) -> None:
    clock = ManualClock(T0)
    due = _index(collection, clock)
    await due.schedule([("shp-1", T0 + timedelta(minutes=5)), ("shp-2", T0 + timedelta(minutes=10))])
    await due.schedule([("shp-1", T0 + timedelta(minutes=5))])  # scheduling again is idempotent
    fired: list[str] = []

    async def handle(ids: list[str]) -> None:
        fired.extend(ids)

    assert await due.sweep(handle) == 0
    clock.advance(timedelta(minutes=6))
    assert await due.sweep(handle) == 1
    assert fired == ["shp-1"]
    assert await due.sweep(handle) == 0  # the cursor moved past it
    clock.advance(timedelta(minutes=5))
    await due.sweep(handle)
    assert fired == ["shp-1", "shp-2"]


async def test_a_timer_in_the_past_fires_at_the_next_sweep(collection: Any) -> None:
    clock = ManualClock(T0)
    due = _index(collection, clock)
    fired: list[str] = []

    async def handle(ids: list[str]) -> None:
        fired.extend(ids)

    await due.schedule([("late", T0 - timedelta(hours=3))])
    clock.advance(BUCKET * 2 + timedelta(seconds=1))
    await due.sweep(handle)
    assert fired == ["late"]


async def test_a_failing_handler_leaves_the_timers_for_the_next_sweep(collection: Any) -> None:
    clock = ManualClock(T0)
    due = _index(collection, clock)
    await due.schedule([("shp-1", T0)])
    clock.advance(timedelta(minutes=2))

    async def crash(ids: list[str]) -> None:
        raise ConnectionError("replica died mid-sweep")

    with pytest.raises(ConnectionError):
        await due.sweep(crash)
    fired: list[str] = []

    async def handle(ids: list[str]) -> None:
        fired.extend(ids)

    restarted = _index(collection, clock)  # a new process over the same collection
    await restarted.sweep(handle)
    assert fired == ["shp-1"]


async def test_a_schedule_racing_with_a_sweep_is_not_lost(collection: Any) -> None:
    """Another replica schedules into a bucket the sweep has already read: the version guard on the cursor
    makes the sweep keep that bucket for next time."""
    clock = ManualClock(T0)
    due = _index(collection, clock)
    other = _index(collection, ManualClock(T0))  # its clock lags: it schedules into the past of ours
    await due.schedule([("a", T0)])
    clock.advance(timedelta(minutes=2))
    fired: list[str] = []

    async def handle(ids: list[str]) -> None:
        fired.extend(ids)
        if ids == ["a"]:
            await other.schedule([("b", T0)])

    await due.sweep(handle)
    await due.sweep(handle)
    assert sorted(set(fired)) == ["a", "b"]


async def test_concurrent_sweeps_hand_every_timer_over_at_least_once(collection: Any) -> None:
    clock = ManualClock(T0)
    due = _index(collection, clock)
    ids = [f"s{i}" for i in range(60)]
    await due.schedule((doc_id, T0 + timedelta(seconds=10 * i)) for i, doc_id in enumerate(ids))
    clock.advance(timedelta(minutes=15))
    fired: list[str] = []

    async def handle(batch: list[str]) -> None:
        fired.extend(batch)

    await asyncio.gather(*(_index(collection, clock).sweep(handle) for _ in range(3)))
    assert set(fired) == set(ids)
    assert await due.sweep(handle) == 0


async def test_swept_hours_are_deleted_after_the_retention(collection: Any) -> None:
    clock = ManualClock(T0)
    due = _index(collection, clock)  # retention: five minutes
    soon = T0 + timedelta(seconds=5)  # in the bucket still open: its own bucket, hour 08:00
    await due.schedule([("a", soon)])
    clock.advance(timedelta(hours=1, minutes=2))

    async def handle(ids: list[str]) -> None:
        return None

    await due.sweep(handle)
    first_page = due.page_id(due.bucket_start(soon), 0)
    assert await collection.find_one({"_id": first_page}) is not None  # kept for the retention
    cursor = await collection.find_one({"_id": "cursor"})
    assert cursor is not None and cursor["hours"] == [] and len(cursor["done_hours"]) == 1
    clock.advance(timedelta(hours=2))
    await due.schedule([("b", clock.now())])
    await due.sweep(handle)
    assert await collection.find_one({"_id": first_page}) is None
    assert await collection.find_one({"_id": due.hour_id(due.hour_start(T0))}) is None


async def test_schedules_into_other_buckets_do_not_hold_a_sweep_back(collection: Any) -> None:
    """A steady stream of new timers (other buckets) while sweeping: the due bucket is still swept."""
    clock = ManualClock(T0)
    due = _index(collection, clock)
    await due.schedule([("a", T0 + timedelta(seconds=5))])  # its own bucket, in the hour of T0
    clock.advance(timedelta(minutes=2))
    later = [T0 + timedelta(hours=h) for h in range(1, 4)]

    async def handle(ids: list[str]) -> None:
        for i, at in enumerate(later):
            await due.schedule([(f"n{i}", at)])

    assert await due.sweep(handle) == 1
    cursor = await collection.find_one({"_id": "cursor"})
    assert cursor is not None
    assert sorted(cursor["hours"]) == sorted({due.hour_start(T0), *(due.hour_start(at) for at in later)})
    assert await due.sweep(handle) == 0  # the first bucket left its hour's pending list


async def test_many_timers_due_together_fill_bounded_pages_and_all_fire(collection: Any) -> None:
    """No document of the index grows with the timers: 1,234 ids due in one bucket take pages of 100."""
    clock = ManualClock(T0)
    due = DueIndex(collection, bucket=BUCKET, clock=clock, page_size=100)
    ids = [f"chunk-{i:05d}" for i in range(1234)]
    for start in range(0, len(ids), 300):  # as consumer batches would: several schedules into one bucket
        await due.schedule((i, T0 + timedelta(seconds=5)) for i in ids[start : start + 300])
    # again: it sits in the first page, so the last page gets it a second time (a timer may fire twice;
    # finding it would cost a read of every page)
    await due.schedule([(ids[0], T0 + timedelta(seconds=5))])
    pages = [d["ids"] async for d in collection.find({"ids": {"$exists": True}})]
    assert max(len(p) for p in pages) <= 100 and sum(len(p) for p in pages) == len(ids) + 1
    header = await collection.find_one({"_id": due.bucket_id(due.bucket_start(T0))})
    assert header is not None and header["pages"] == 13
    clock.advance(timedelta(minutes=1))
    fired: list[str] = []

    async def handle(batch: list[str]) -> None:
        assert len(batch) <= 100  # handed over a page at a time
        fired.extend(batch)

    assert await due.sweep(handle) == len(ids) + 1
    assert sorted(set(fired)) == ids
    assert await due.sweep(handle) == 0


async def test_a_timer_scheduled_again_after_its_page_was_swept_fires_again(collection: Any) -> None:
    clock = ManualClock(T0)
    due = _index(collection, clock)
    await due.schedule([("a", T0)])
    clock.advance(BUCKET)  # its bucket has closed
    fired: list[str] = []

    async def handle(batch: list[str]) -> None:
        fired.extend(batch)

    await due.sweep(handle)
    await due.schedule([("a", T0)])  # a follow-up already due: the same bucket, already swept
    await due.sweep(handle)
    assert fired == ["a", "a"]


async def test_a_timer_scheduled_again_while_its_page_is_handed_over_fires_again(collection: Any) -> None:
    """The handler decided on the document as it was; meanwhile its new ETA was scheduled into the same
    page. The id was already listed there, but the page must not be marked swept over that schedule."""
    clock = ManualClock(T0)
    due = _index(collection, clock)
    other = _index(collection, clock)  # the API's write, in another task or replica
    await due.schedule([("a", T0)])
    clock.advance(BUCKET)  # the bucket of T0 has closed: the next sweep hands it over
    fired: list[str] = []

    async def handle(batch: list[str]) -> None:
        fired.extend(batch)
        if len(fired) == 1:  # a new ETA already past: into the last closed bucket, the page handed over
            await other.schedule([("a", clock.now() - BUCKET)])

    await due.sweep(handle)
    await due.sweep(handle)
    assert fired == ["a", "a"]
    assert await due.sweep(handle) == 0  # and then it is done


async def test_a_timer_never_fires_before_its_bucket_has_closed(collection: Any) -> None:
    clock = ManualClock(T0)  # 08:00:10, in the bucket 08:00:00-08:00:30
    due = _index(collection, clock)
    await due.schedule([("a", T0 + timedelta(seconds=5))])
    fired: list[str] = []

    async def handle(batch: list[str]) -> None:
        fired.extend(batch)

    clock.advance(timedelta(seconds=10))  # its time has passed, its bucket is still open
    assert await due.sweep(handle) == 0
    clock.advance(timedelta(seconds=10))  # 08:00:30: the bucket has closed
    assert await due.sweep(handle) == 1
    assert fired == ["a"]


async def test_a_timer_due_now_fires_at_the_next_sweep_without_waiting_for_its_bucket(
    collection: Any,
) -> None:
    """A group to flush at once is scheduled for now, inside the bucket still open: it must not wait for
    that bucket to close."""
    clock = ManualClock(T0)  # 08:00:10, in the bucket 08:00:00-08:00:30
    due = _index(collection, clock)
    await due.schedule([("now", T0), ("later", T0 + timedelta(seconds=5))])
    fired: list[str] = []

    async def handle(batch: list[str]) -> None:
        fired.extend(batch)

    assert await due.sweep(handle) == 1
    assert fired == ["now"]
