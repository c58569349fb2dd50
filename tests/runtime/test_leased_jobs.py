"""A leased periodic job on two instances (the runtime's own loop and lease keeper, over the real
MongoDB-wire server): only the holder runs it, the other takes over when the holder stops, and a holder
whose lease was taken while it stalled is refused by the fence before it runs again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from siaga_runtime import RuntimeMetrics, RuntimeSettings
from siaga_runtime.background import BackgroundWork
from siaga_runtime.lease import LEASES_COLLECTION

from ..conftest import Servers

pytestmark = pytest.mark.integration


class Instance(BackgroundWork):
    """The periodic-task part of a ServiceRuntime, over a real database."""

    def __init__(self, db: Any, instance_id: str) -> None:
        self.settings = RuntimeSettings(service_name="t", instance_id=instance_id, lease_ttl_s=3)
        self.metrics = RuntimeMetrics(CollectorRegistry(), "t")
        self.stopping = asyncio.Event()
        self.leases = {}
        self._periodic = []
        self._publishers = {}
        self._raw_producer = None
        self.db = db
        self.runs = 0
        self.ran = asyncio.Event()
        self.every(0.05, self.job, "sweep", leased=True)

    async def job(self) -> None:
        self.runs += 1
        self.ran.set()

    def owned(self) -> float | None:
        return self.metrics.registry.get_sample_value("siaga_lease_owned", {"lease": "sweep"})

    async def start(self, *, keepers: bool = True) -> asyncio.Task[None]:
        for keeper in self.leases.values() if keepers else ():
            keeper.start()
        name, seconds, task = self._periodic[0]
        return asyncio.create_task(self._loop(name, seconds, task))

    async def stop(self, loop: asyncio.Task[None]) -> None:
        self.stopping.set()
        await loop
        for keeper in self.leases.values():
            await keeper.stop()


@pytest.fixture
async def db(servers: Servers, isolation: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url, tz_aware=True)
    try:
        yield client[f"{isolation}_jobs"]
    finally:
        await client.drop_database(f"{isolation}_jobs")
        await client.close()


async def test_only_the_holder_runs_a_leased_job_and_the_other_takes_over(db: Any) -> None:
    a = Instance(db, "a")
    await a.leases["sweep"].round()  # a claims first
    b = Instance(db, "b")
    loop_a, loop_b = await a.start(), await b.start()
    await asyncio.wait_for(a.ran.wait(), 30)
    a.ran.clear()
    await asyncio.wait_for(a.ran.wait(), 30)  # a ran twice: b had as many chances
    assert b.runs == 0
    assert (a.owned(), b.owned()) == (1, 0)
    await a.stop(loop_a)  # released on shutdown: b takes over without waiting for the ttl
    await asyncio.wait_for(b.ran.wait(), 30)
    assert b.owned() == 1 and a.owned() == 0
    await b.stop(loop_b)


async def test_a_stalled_holder_is_fenced_off_before_it_runs_again(db: Any) -> None:
    a = Instance(db, "a")
    assert await a.leases["sweep"].round()
    # while a stalls, its lease expires and b takes it (an epoch later): written as b's claim would be
    stored = await db[LEASES_COLLECTION].find_one({"_id": "sweep"})
    await db[LEASES_COLLECTION].update_one(
        {"_id": "sweep"},
        {
            "$set": {
                "holder": "b",
                "epoch": stored["epoch"] + 1,
                "until": stored["until"] + timedelta(hours=1),
            }
        },
    )
    assert a.leases["sweep"].held  # a's own view: still its lease
    loop = await a.start(keepers=False)  # and no renewal comes to tell it otherwise: only the fence

    async def fenced() -> None:
        while a.leases["sweep"].held:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(fenced(), 30)
    # the fence read comes before the job in the same round: the job never ran
    assert a.runs == 0
    assert a.owned() == 0
    a.stopping.set()
    await loop
