"""Back-pressure from the outbox relay: bulk writers wait for ``room`` once too many saved events are not out
yet, and go on as the relay publishes them (pure logic: an in-memory journal and a recording producer)."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CollectorRegistry
from siaga_runtime import RuntimeMetrics
from siaga_runtime.journal import OutboxJournal
from siaga_runtime.outbox import OutboxEntry, OutboxRelay

from .fakes import FakeCollection

TOPIC = "siaga.logistics.events.v1"


def _entries(journal: str, n: int) -> list[OutboxEntry]:
    return [
        OutboxEntry(
            id=f"{journal}-{i}", topic=TOPIC, key=f"k{i}", value=f"{journal}-{i}", type="t", j=journal
        )
        for i in range(n)
    ]


def _relay(sent: list[str], *, max_backlog: int) -> OutboxRelay:
    async def enqueue(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
        sent.append(value.decode())

        async def ack() -> None:
            return None

        return ack()

    no_collections: dict[str, FakeCollection] = {}
    return OutboxRelay(
        OutboxJournal(FakeCollection("_outbox_journal")),
        no_collections.get,
        enqueue,
        RuntimeMetrics(CollectorRegistry(), "t"),
        max_entries=300,
        slice_entries=300,
        max_backlog=max_backlog,
    )


async def _returns(awaitable: Any) -> bool:
    """Whether ``awaitable`` finishes while the loop runs everything else that is ready."""
    task = asyncio.ensure_future(awaitable)
    for _ in range(5):
        await asyncio.sleep(0)
    if task.done():
        return True
    task.cancel()
    return False


async def test_room_is_there_up_to_the_bound_and_comes_back_as_the_relay_publishes() -> None:
    sent: list[str] = []
    relay = _relay(sent, max_backlog=500)
    relay.notify("a", _entries("a", 500))
    assert await _returns(relay.room())  # at the bound: still room

    relay.notify("b", _entries("b", 200))
    assert relay.backlog == 700
    waiting = asyncio.ensure_future(relay.room())
    assert not await _returns(asyncio.shield(waiting))

    assert await relay.drain_once() == 300  # 400 left waiting: room again
    assert relay.backlog == 400
    await asyncio.wait_for(waiting, 1)
    assert len(sent) == 300


async def test_a_writer_waiting_for_room_goes_on_once_the_relay_stops() -> None:
    """A stopping service must not leave its consumer or import hanging: the rest is recovered on restart."""
    relay = _relay([], max_backlog=10)
    relay.notify("a", _entries("a", 50))
    waiting = asyncio.ensure_future(relay.room())
    assert not await _returns(asyncio.shield(waiting))
    await relay.stop(timeout=1)
    await asyncio.wait_for(waiting, 1)


async def test_a_writer_held_by_room_lets_the_relay_bring_the_backlog_back_under_the_bound() -> None:
    """A bulk writer that awaits ``room`` before each unit of work never has more than the bound plus one
    unit waiting, however much it writes in all."""
    sent: list[str] = []
    relay = _relay(sent, max_backlog=1_000)
    await relay.start()
    peak = 0
    try:
        for n in range(40):
            await relay.room()
            relay.notify(f"unit{n}", _entries(f"unit{n}", 400))
            peak = max(peak, relay.backlog)
        while relay.backlog:
            await asyncio.sleep(0.01)
    finally:
        await relay.stop(timeout=5)
    assert peak <= 1_000 + 400
    assert len(sent) == len(set(sent)) == 40 * 400
