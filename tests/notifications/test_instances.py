"""Several instances of the delivery worker over one deliveries collection (the real MongoDB-wire server):
each notification is sent once however many instances race for it, and a delivery sent again after its
instance died carries the same Idempotency-Key, so the receiver acts on it once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from siaga_notifications.channels import ChannelSender, Outgoing
from siaga_notifications.domain.deliveries import new_delivery
from siaga_notifications.workers.delivery import DeliveryWorker
from siaga_runtime import AggregateStore, Decision, DueIndex, ManualClock

from ..conftest import Servers
from ..helpers import scratch_collection
from .support import T0

pytestmark = pytest.mark.integration


class Counting(ChannelSender):
    """A receiver that counts every send by notification id and keeps the keys it acted on."""

    name = "webhook"

    def __init__(self) -> None:
        self.sent: dict[str, int] = {}
        self.acted: set[str] = set()

    async def send(self, message: Outgoing) -> None:
        await asyncio.sleep(0)  # let the racing instance run in between
        self.sent[message.notification_id] = self.sent.get(message.notification_id, 0) + 1
        self.acted.add(message.notification_id)

    async def close(self) -> None:
        return None


@pytest.fixture
async def collection(servers: Servers, isolation: str) -> AsyncIterator[Any]:
    async with scratch_collection(servers.mongodb_url, f"{isolation}_notifications", "deliveries") as c:
        yield c


def _worker(
    collection: Any,
    clock: ManualClock,
    owner: str,
    sender: ChannelSender,
    timers: DueIndex | None = None,
) -> DeliveryWorker:
    # each instance has its own store (its own cache), as two processes would
    store = AggregateStore(collection, source="/siaga/notifications", clock=clock, name="deliveries")
    return DeliveryWorker(
        "webhook",
        store,
        clock,
        owner,
        sender=lambda: sender,
        rate_per_s=10_000,
        timeout_s=5,
        max_attempts=5,
        backoff_s=1,
        backoff_max_s=10,
        lease_s=30,
        timers=timers,
    )


def _delivery(n: int) -> dict[str, Any]:
    base = {
        "group_id": f"grp-{n}",
        "group_key": f"alertname=shipment-delayed,shipment_id=shp-{n}",
        "notify_seq": 1,
        "step": 0,
        "status": "firing",
        "severity": "critical",
        "region": "65.01",
        "fingerprints": [f"{n:016x}"],
        "alert_ids": [f"al-{n}"],
        "firing_count": 1,
        "resolved_count": 0,
    }
    d = new_delivery(
        base,
        channel="webhook",
        contact_id="ct-desk",
        receiver="desk",
        address=None,
        language="id",
        title=f"Pengiriman {n} terlambat",
        body="Pengiriman terlambat",
        now=T0,
    )
    return {**d, "_id": d["notification_id"]}


def _create(doc: dict[str, Any]) -> Any:
    return lambda _: Decision(state=doc)


async def test_two_instances_racing_over_the_same_deliveries_send_each_once(collection: Any) -> None:
    clock = ManualClock(T0)
    receiver = Counting()
    store = AggregateStore(collection, source="/siaga/notifications", clock=clock, name="deliveries")
    docs = [_delivery(n) for n in range(40)]
    for d in docs:
        await store.mutate(d["_id"], _create(d))
    ids = [d["_id"] for d in docs]
    a = _worker(collection, clock, "instance-a", receiver)
    b = _worker(collection, clock, "instance-b", receiver)
    # the engine's hand-over, the timer sweep and the safety-net scan of both instances, all at once
    sent = await asyncio.gather(a._send_ids(ids), b._send_ids(ids), a.scan_once(), b.scan_once())
    assert sum(sent) == len(ids)
    assert receiver.sent == dict.fromkeys(ids, 1)
    stored = [await store.get(i) for i in ids]
    assert all(d is not None and d["state"] == "delivered" and d["attempts"] == 1 for d in stored)


async def test_a_delivery_retried_after_its_instance_died_carries_the_same_idempotency_key(
    collection: Any,
) -> None:
    """Instance a claims the delivery and sends it, then dies before recording the outcome. Once its claim
    expires, instance b sends it again: the receiver sees the same key twice and acts once."""
    import httpx
    from siaga_devstack.receivers import Receivers
    from siaga_notifications.channels.webhook import WebhookSender

    clock = ManualClock(T0)
    receivers = Receivers(webhook_secret="secret")
    port = receivers.start()
    webhook = WebhookSender(httpx.AsyncClient(), b"secret", f"http://127.0.0.1:{port}/siaga")
    store = AggregateStore(collection, source="/siaga/notifications", clock=clock, name="deliveries")
    d = _delivery(1)
    await store.mutate(d["_id"], _create(d))

    class DiesAfterSending:
        name = "webhook"

        async def send(self, message: Outgoing) -> None:
            await webhook.send(message)
            raise asyncio.CancelledError  # kill -9 right after the receiver got it

        async def close(self) -> None:
            return None

    a = _worker(collection, clock, "instance-a", DiesAfterSending())
    with pytest.raises(asyncio.CancelledError):
        await a.deliver_one(d["_id"], 1, DiesAfterSending())
    b = _worker(collection, clock, "instance-b", webhook)
    assert await b._send_ids([d["_id"]]) == 0  # a's claim still holds: b does not send
    clock.advance(timedelta(seconds=31))
    assert await b._send_ids([d["_id"]]) == 1
    posts = receivers.webhooks
    assert [p["idempotency_key"] for p in posts] == [d["_id"], d["_id"]]
    assert all(p["signature_valid"] for p in posts)
    assert [p["repeat"] for p in posts] == [False, True]  # the receiver acts on the first only
    stored = await store.get(d["_id"])
    assert stored is not None and stored["state"] == "delivered" and stored["attempts"] == 2
    await webhook.close()
    receivers.stop()


async def test_a_new_delivery_is_sent_at_once_and_its_timer_recovers_it_only_if_the_send_never_happened(
    servers: Servers, isolation: str
) -> None:
    """The engine's hand-over sends at once, and the durable timer is set one send timeout (5 s) later: a
    sweep meanwhile hands nothing over (no second read and claim racing the send). A delivery whose
    instance died after setting its timer but before sending is sent by the sweep once that timer is due."""
    database = f"{isolation}_notifications"
    async with (
        scratch_collection(servers.mongodb_url, database, "deliveries") as deliveries,
        scratch_collection(servers.mongodb_url, database, "timers") as timer_docs,
    ):
        clock = ManualClock(T0)
        timers = DueIndex(timer_docs, bucket=timedelta(seconds=1), clock=clock)
        store = AggregateStore(deliveries, source="/siaga/notifications", clock=clock, name="deliveries")
        sent_now, lost = _delivery(1), _delivery(2)
        for d in (sent_now, lost):
            await store.mutate(d["_id"], _create(d))
        receiver = Counting()
        worker = _worker(deliveries, clock, "instance-a", receiver, timers)

        await worker.enqueue([sent_now])
        await asyncio.gather(*worker._tasks)
        assert receiver.sent == {sent_now["_id"]: 1}
        clock.advance(timedelta(seconds=2))
        assert await timers.sweep(_nothing) == 0  # not due yet: nothing being sent is handed over again

        # instance b's enqueue of the other delivery set its timer, and b died before its send ran
        await timers.schedule([(lost["_id"], lost["next_attempt_at"] + timedelta(seconds=5))])
        clock.advance(timedelta(seconds=5))
        assert await worker._sweep_timers() == 1  # both timers are due; the first finds its delivery sent
        assert receiver.sent == {sent_now["_id"]: 1, lost["_id"]: 1}
        assert await worker._sweep_timers() == 0
        stored = [await store.get(d["_id"]) for d in (sent_now, lost)]
        assert all(d is not None and d["state"] == "delivered" and d["attempts"] == 1 for d in stored)


async def _nothing(ids: list[str]) -> None:
    raise AssertionError(f"handed over {ids}")


class Held(ChannelSender):
    """A receiver that holds the sends of the ids in ``slow`` until released, and answers others at once."""

    name = "webhook"

    def __init__(self, slow: set[str]) -> None:
        self.slow = slow
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def send(self, message: Outgoing) -> None:
        if message.notification_id in self.slow:
            await self.release.wait()
        self.sent.append(message.notification_id)

    async def close(self) -> None:
        return None


async def test_a_hand_over_is_not_held_behind_an_earlier_one_still_waiting_on_its_receiver(
    collection: Any,
) -> None:
    """Every caller shares one gate of ``concurrency`` sends: a new delivery handed over while an earlier
    one waits on a slow receiver goes out at once, not after it (a lock per batch made it wait)."""
    clock = ManualClock(T0)
    store = AggregateStore(collection, source="/siaga/notifications", clock=clock, name="deliveries")
    slow, fast = _delivery(1), _delivery(2)
    for d in (slow, fast):
        await store.mutate(d["_id"], _create(d))
    receiver = Held({slow["_id"]})
    worker = _worker(collection, clock, "instance-a", receiver)

    await worker.enqueue([slow])
    first = set(worker._tasks)
    await worker.enqueue([fast])
    second = set(worker._tasks) - first
    await asyncio.wait_for(asyncio.gather(*second), timeout=10)
    assert receiver.sent == [fast["_id"]]  # sent while the first still waits on its receiver
    receiver.release.set()
    await asyncio.gather(*first)
    assert receiver.sent == [fast["_id"], slow["_id"]]
    stored = [await store.get(d["_id"]) for d in (slow, fast)]
    assert all(d is not None and d["state"] == "delivered" and d["attempts"] == 1 for d in stored)
