"""Channel workers: one queue per channel, driven by the deliveries collection.

A worker learns of new deliveries from the engine in-process (``enqueue``: sent at once) and durably through
its channel's due index (``timers``, also used for retries at their backoff time). The deliveries collection
is the audit log and grows forever, so scanning it is only a safety net, run every
``full_scan_interval_s`` (a lease left by a crashed replica, a timer lost between two writes).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter
from siaga_runtime import AggregateStore, Clock, Doc, DueIndex

from ..channels import ActionLinks, ChannelError, ChannelSender, Outgoing
from ..domain import deliveries as delivery_rules
from ..domain.labels import region_name
from ..metrics import NotificationMetrics

log = logging.getLogger(__name__)


def outgoing(doc: Doc, links: ActionLinks | None = None) -> Outgoing:
    region = doc.get("region")
    payload = {
        "notification_id": doc["notification_id"],
        "status": doc["status"],
        "severity": doc["severity"],
        "region": region,
        "region_name": region_name(region, national="Nasional"),
        "group_key": doc["group_key"],
        "escalation_step": doc["step"],
        "title": doc["title"],
        "body": doc["body"],
        "language": doc["language"],
        "firing_count": doc["firing_count"],
        "acknowledged_count": doc.get("acknowledged_count", 0),
        "resolved_count": doc["resolved_count"],
        "alerts": [
            {"alert_id": a, "fingerprint": f}
            for a, f in zip(doc["alert_ids"][:100], doc["fingerprints"][:100], strict=False)
        ],
    }
    return Outgoing(
        doc["notification_id"],
        doc.get("address"),
        doc["title"],
        doc["body"],
        doc["language"],
        payload,
        links.for_delivery(doc) if links is not None else [],
    )


class DeliveryWorker:
    """One channel's queue: its own task, rate limit and retries, so one channel's outage holds up no other.

    Up to ``concurrency`` deliveries are in flight at once (each waits on its receiver), paced by the
    channel's rate limit."""

    def __init__(
        self,
        channel: str,
        store: AggregateStore,
        clock: Clock,
        owner: str,
        *,
        sender: Callable[[], ChannelSender | None],
        rate_per_s: float,
        timeout_s: float,
        max_attempts: int,
        backoff_s: float,
        backoff_max_s: float,
        lease_s: float,
        batch: int = 200,
        concurrency: int = 8,
        timers: DueIndex | None = None,
        full_scan_interval_s: float = 60.0,
        metrics: NotificationMetrics | None = None,
        links: ActionLinks | None = None,
    ) -> None:
        self.channel = channel
        self.links = links
        self.store = store
        self.clock = clock
        self.owner = owner
        self.sender = sender
        # rate_per_s sends a second, with a burst of as many (a rate under 1/s: one send per 1/rate s)
        self.limiter = AsyncLimiter(max(1.0, rate_per_s), max(1.0, rate_per_s) / rate_per_s)
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.lease_s = lease_s
        self.batch = batch
        self.timers = timers
        self.full_scan_interval_s = full_scan_interval_s
        self.metrics = metrics
        self._last_full_scan: float | None = None
        self._inflight: set[str] = set()
        self._tasks: set[asyncio.Task[int]] = set()
        # One gate for every caller (new deliveries, the sweep, the scan): at most ``concurrency`` in
        # flight in all, and a hand-over never waits for an earlier one's slowest receiver.
        self._gate = asyncio.Semaphore(concurrency)

    async def enqueue(self, deliveries: Sequence[Doc]) -> None:
        """New deliveries for this channel (already saved): send them now, and set each a durable timer
        one send timeout later, which finds it delivered (a read) unless this process died first.

        The timer is not due at once: the sweep would then hand over the deliveries being sent, and
        scheduling into the bucket it is sweeping makes both redo their writes. Nor does the send wait for
        the timer's writes. A process that dies between the two leaves a saved pending delivery without a
        timer, which the full scan finds (``full_scan_interval_s``)."""
        mine = [d for d in deliveries if d.get("channel") == self.channel]
        if not mine:
            return
        task = asyncio.create_task(self._send_ids([d["notification_id"] for d in mine]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self.timers is not None:
            after = timedelta(seconds=self.timeout_s)
            await self.timers.schedule([(d["notification_id"], d["next_attempt_at"] + after) for d in mine])

    async def run_once(self) -> int:
        """Due deliveries from the index; now and then (always, without an index) a scan of the log."""
        sent = 0
        if self.timers is not None:
            sent += await self._sweep_timers()
        mono = time.monotonic()
        if (
            self.timers is None
            or self._last_full_scan is None
            or (mono - self._last_full_scan >= self.full_scan_interval_s)
        ):
            self._last_full_scan = mono
            sent += await self.scan_once()
        return sent

    async def _sweep_timers(self) -> int:
        assert self.timers is not None
        sent = 0

        async def handle(ids: list[str]) -> None:
            nonlocal sent
            sent += await self._send_ids(ids)

        await self.timers.sweep(handle)
        return sent

    async def _send_ids(self, ids: list[str]) -> int:
        sender = self.sender()
        if sender is None:
            return 0
        later: list[tuple[str, datetime]] = []

        async def one(nid: str) -> bool:
            async with self._gate:
                doc = await self.store.get(nid)
                if doc is None or doc.get("state") != "pending":
                    return False
                now = self.clock.now()
                lease = doc.get("lease_until")
                if doc["next_attempt_at"] > now or (lease is not None and lease > now):
                    later.append((nid, max(doc["next_attempt_at"], lease or doc["next_attempt_at"])))
                    return False
                return await self.deliver_one(nid, doc["attempts"] + 1, sender)

        sent = sum(await asyncio.gather(*(one(nid) for nid in dict.fromkeys(ids))))
        if later and self.timers is not None:
            await self.timers.schedule(later)
        return sent

    async def scan_once(self) -> int:
        sender = self.sender()
        if sender is None:
            return 0
        now = self.clock.now()
        due = [
            d
            async for d in self.store.scan(
                lambda d: d.get("channel") == self.channel and d.get("state") == "pending"
            )
            if d["next_attempt_at"] <= now and (d.get("lease_until") is None or d["lease_until"] <= now)
        ]
        due.sort(key=lambda d: (d["next_attempt_at"], d["_id"]))

        async def one(d: Doc) -> bool:
            async with self._gate:
                return await self.deliver_one(d["_id"], d["attempts"] + 1, sender)

        return sum(await asyncio.gather(*(one(d) for d in due[: self.batch])))

    async def deliver_one(self, nid: str, attempt: int, sender: ChannelSender) -> bool:
        """One attempt; at most one at a time per delivery in this worker (the claim is per attempt)."""
        if nid in self._inflight:
            return False
        self._inflight.add(nid)
        try:
            return await self._attempt(nid, attempt, sender)
        finally:
            self._inflight.discard(nid)

    async def _attempt(self, nid: str, attempt: int, sender: ChannelSender) -> bool:
        now = self.clock.now()
        doc, _ = await self.store.mutate(
            nid,
            lambda d: delivery_rules.claim(d, self.owner, now, self.lease_s),
            idempotency_key=f"claim:{nid}:{attempt}",
        )
        if doc is None or doc.get("lease_owner") != self.owner or doc["attempts"] != attempt:
            return False  # another replica took it
        await self.limiter.acquire()
        error: str | None = None
        retryable = True
        try:
            await asyncio.wait_for(sender.send(outgoing(doc, self.links)), self.timeout_s)
        except ChannelError as exc:
            error, retryable = str(exc), exc.retryable
        except TimeoutError:
            error = f"timeout after {self.timeout_s:.0f}s"
        except (
            Exception
        ) as exc:  # a bug in a channel must not stop the queue; the class name only (no secrets)
            error = f"{type(exc).__name__}"
            log.exception("%s channel failed unexpectedly", self.channel)
        finished = self.clock.now()
        stored, _ = await self.store.mutate(
            nid,
            lambda d: delivery_rules.finish(
                d,
                attempt,
                finished,
                error=error,
                retryable=retryable,
                max_attempts=self.max_attempts,
                backoff_s=self.backoff_s,
                backoff_max_s=self.backoff_max_s,
            ),
            idempotency_key=f"done:{nid}:{attempt}",
        )
        if self.metrics is not None and stored is not None:
            outcome = {"delivered": "delivered", "pending": "retry"}.get(stored.get("state", ""), "failed")
            self.metrics.attempts.labels(self.channel, outcome).inc()
            if outcome == "delivered" and stored.get("created_at") is not None:
                waited = (finished - stored["created_at"]).total_seconds()
                self.metrics.delivery_latency.labels(self.channel).observe(max(waited, 0.0))
        if stored is not None and stored.get("state") == "pending" and self.timers is not None:
            await self.timers.schedule([(nid, stored["next_attempt_at"])])  # the retry, after its backoff
        if error:
            log.warning("delivery %s via %s attempt %d failed: %s", nid, self.channel, attempt, error)
        return error is None
