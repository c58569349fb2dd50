"""Leases on the real MongoDB-wire server: one holder at a time among racing instances, expiry when the
holder dies, the fencing epoch, release on shutdown, and the lease gauge of a service's periodic job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from siaga_runtime.lease import Lease, LeaseKeeper, LeaseLost

from ..conftest import Servers
from ..helpers import scratch_collection

pytestmark = pytest.mark.integration

T0 = datetime(2024, 11, 26, 8, 0, tzinfo=UTC)


class Wall:
    """A settable clock shared by the instances of one test (no sleeping for a lease to expire)."""

    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def leases(servers: Servers, isolation: str) -> AsyncIterator[Any]:
    async with scratch_collection(servers.mongodb_url, f"{isolation}_lease", "_leases") as c:
        yield c


async def test_of_many_instances_racing_for_a_lease_exactly_one_holds_it(leases: Any) -> None:
    wall = Wall()
    instances = [Lease(leases, "sweep", f"i{n}", 15, now=wall) for n in range(8)]
    won = await asyncio.gather(*(lease.acquire() for lease in instances))
    assert sum(won) == 1
    holder = instances[won.index(True)]
    stored = await leases.find_one({"_id": "sweep"})
    assert (stored["holder"], stored["epoch"]) == (holder.holder, 1)
    # every round after that: the holder renews, nobody else gets it
    wall.at += timedelta(seconds=5)
    again = await asyncio.gather(*(lease.acquire() for lease in instances))
    assert again == won
    assert (await leases.find_one({"_id": "sweep"}))["epoch"] == 1


async def test_a_dead_holders_lease_expires_and_the_epoch_fences_it_off(leases: Any) -> None:
    wall = Wall()
    a, b = Lease(leases, "sweep", "a", 15, now=wall), Lease(leases, "sweep", "b", 15, now=wall)
    assert await a.acquire()
    assert await a.check() == 1
    wall.at += timedelta(seconds=14)
    assert not await b.acquire()  # still a's
    wall.at += timedelta(seconds=1)  # a stopped renewing (killed): its lease is over
    assert await b.acquire()
    assert b.epoch == 2
    with pytest.raises(LeaseLost):  # a wakes up: its fence refuses it
        await a.check()
    assert not a.held
    assert not await a.acquire()  # and it cannot take it back while b renews
    assert await b.check() == 2


async def test_racing_takeovers_of_an_expired_lease_leave_one_holder(leases: Any) -> None:
    wall = Wall()
    first = Lease(leases, "sweep", "dead", 15, now=wall)
    assert await first.acquire()
    wall.at += timedelta(seconds=16)
    rivals = [Lease(leases, "sweep", f"r{n}", 15, now=wall) for n in range(6)]
    won = await asyncio.gather(*(r.acquire() for r in rivals))
    assert sum(won) == 1
    assert (await leases.find_one({"_id": "sweep"}))["epoch"] == 2


async def test_a_released_lease_is_taken_at_once(leases: Any) -> None:
    wall = Wall()
    a, b = Lease(leases, "sweep", "a", 15, now=wall), Lease(leases, "sweep", "b", 15, now=wall)
    assert await a.acquire()
    assert await a.release()
    assert await b.acquire()
    assert b.epoch == 2


async def test_the_keeper_follows_the_lease_in_the_gauge(leases: Any) -> None:
    from siaga_runtime.metrics import RuntimeMetrics

    metrics = RuntimeMetrics(CollectorRegistry(), "test")
    gauge = metrics.lease_owned.labels("sweep")
    wall = Wall()
    keepers = [
        LeaseKeeper(Lease(leases, "sweep", n, 15, now=wall), on_change=lambda held: gauge.set(int(held)))
        for n in ("a", "b")
    ]
    assert [await k.round() for k in keepers] == [True, False]
    gauge.set(0)
    assert await keepers[0].round()
    assert metrics.registry.get_sample_value("siaga_lease_owned", {"lease": "sweep"}) == 1
    await keepers[0].stop()  # shutdown releases
    assert metrics.registry.get_sample_value("siaga_lease_owned", {"lease": "sweep"}) == 0
    assert await keepers[1].round()
    assert keepers[1].held
