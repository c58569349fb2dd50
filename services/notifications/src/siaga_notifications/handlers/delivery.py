"""Channel workers: one queue per channel, driven by the deliveries collection."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from siaga_runtime import AggregateStore, Clock, Doc

from ..channels import ChannelError, ChannelSender, Outgoing
from ..domain import deliveries as delivery_rules
from ..domain.labels import region_name

log = logging.getLogger(__name__)


def outgoing(doc: Doc) -> Outgoing:
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
        "resolved_count": doc["resolved_count"],
        "alerts": [
            {"alert_id": a, "fingerprint": f}
            for a, f in zip(doc["alert_ids"][:100], doc["fingerprints"][:100], strict=False)
        ],
    }
    return Outgoing(
        doc["notification_id"], doc.get("address"), doc["title"], doc["body"], doc["language"], payload
    )


class DeliveryWorker:
    """One channel's queue: its own task, rate limit and retries, so one channel's outage holds up no other."""

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
    ) -> None:
        self.channel = channel
        self.store = store
        self.clock = clock
        self.owner = owner
        self.sender = sender
        self.min_gap = 1.0 / rate_per_s
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.lease_s = lease_s
        self.batch = batch
        self._last_send = 0.0

    async def run_once(self) -> int:
        sender = self.sender()
        if sender is None:
            return 0
        now = self.clock.now()
        cursor = self.store.collection.find(
            {"channel": self.channel, "state": "pending"},
            {"next_attempt_at": 1, "lease_until": 1, "attempts": 1},
        )
        due = [
            d
            async for d in cursor
            if d["next_attempt_at"] <= now and (d.get("lease_until") is None or d["lease_until"] <= now)
        ]
        due.sort(key=lambda d: (d["next_attempt_at"], d["_id"]))
        sent = 0
        for d in due[: self.batch]:
            if await self.deliver_one(d["_id"], d["attempts"] + 1, sender):
                sent += 1
        return sent

    async def deliver_one(self, nid: str, attempt: int, sender: ChannelSender) -> bool:
        now = self.clock.now()
        doc, _ = await self.store.mutate(
            nid,
            lambda d: delivery_rules.claim(d, self.owner, now, self.lease_s),
            idempotency_key=f"claim:{nid}:{attempt}",
        )
        if doc is None or doc.get("lease_owner") != self.owner or doc["attempts"] != attempt:
            return False  # another replica took it
        gap = self.min_gap - (time.monotonic() - self._last_send)
        if gap > 0:
            await asyncio.sleep(gap)
        self._last_send = time.monotonic()
        error: str | None = None
        retryable = True
        try:
            await asyncio.wait_for(sender.send(outgoing(doc)), self.timeout_s)
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
        await self.store.mutate(
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
        if error:
            log.warning("delivery %s via %s attempt %d failed: %s", nid, self.channel, attempt, error)
        return error is None
