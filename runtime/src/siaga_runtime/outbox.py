"""The outbox relay: publishes events saved inside aggregate documents, then removes them.

Entries are written by ``AggregateStore`` in the same document write as the state change. The relay finds
documents with ``_outbox_pending``, publishes their entries in order with an idempotent producer
(``acks=all``), and then removes exactly the published entries under the document's version guard. A crash
between publish and removal publishes an entry again on restart: at-least-once, and consumers deduplicate
on the event id, so effects happen exactly once end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

from pymongo.errors import PyMongoError
from siaga_schemas import CONTENT_TYPE, Envelope

from .clock import Clock, SystemClock
from .metrics import RuntimeMetrics

__all__ = ["OutboxEntry", "OutboxRelay", "Publish", "entry_for"]

log = logging.getLogger(__name__)


class OutboxEntry(TypedDict):
    id: str
    topic: str
    key: str
    value: str
    type: str


def entry_for(envelope: Envelope[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=envelope.id,
        topic=envelope.data.topic,
        key=envelope.partitionkey,
        value=envelope.to_bytes().decode(),
        type=envelope.type,
    )


# publish(topic, key, value, headers) -> awaitable that resolves once the broker acknowledged the record
Publish = Callable[[str, bytes, bytes, dict[str, str]], Awaitable[Any]]


class OutboxRelay:
    """Drains the outboxes of some collections. Safe to run in several replicas (duplicates are deduped)."""

    def __init__(
        self,
        collections: Sequence[Any],
        publish: Publish,
        metrics: RuntimeMetrics,
        *,
        clock: Clock | None = None,
        batch_docs: int = 500,
        idle_interval: float = 1.0,
    ) -> None:
        self.collections = list(collections)
        self.publish = publish
        self.metrics = metrics
        self.clock = clock or SystemClock()
        self.batch_docs = batch_docs
        self.idle_interval = idle_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def kick(self) -> None:
        """Called after a write that added outbox entries: publish now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Flush what is pending (bounded by ``timeout``), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, timeout)
            except TimeoutError:
                log.warning("outbox relay did not finish within %.1fs; the rest is sent on restart", timeout)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                sent = await self.drain_once()
                backoff = 0.2
            except (PyMongoError, OSError, ConnectionError) as exc:
                log.warning("outbox relay: dependency unavailable (%s); retrying in %.1fs", exc, backoff)
                sent = 0
                if self._stopping:
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except Exception:
                if self._stopping:
                    return
                log.exception("outbox relay: publish failed; retrying")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if self._stopping and sent == 0:
                return
            if sent == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_interval)

    async def drain_once(self) -> int:
        """Publish one round of pending entries across all collections; returns how many were sent."""
        total = 0
        backlog = 0
        oldest: datetime | None = None
        for coll in self.collections:
            docs = [
                d
                async for d in coll.find(
                    {"_outbox_pending": True},
                    {"_outbox": 1, "_v": 1, "_outbox_since": 1},
                ).limit(self.batch_docs)
            ]
            if not docs:
                continue
            for d in docs:
                backlog += len(d.get("_outbox", ()))
                since = d.get("_outbox_since")
                if since is not None:
                    since = since if since.tzinfo else since.replace(tzinfo=UTC)
                    oldest = since if oldest is None or since < oldest else oldest
            futures = []
            for d in docs:
                for entry in d.get("_outbox", ()):
                    futures.append(self._send(entry))
            await asyncio.gather(*futures)
            for d in docs:
                await self._remove_sent(coll, d)
            total += sum(len(d.get("_outbox", ())) for d in docs)
        self.metrics.outbox_backlog.set(max(backlog - total, 0))
        age = (self.clock.now() - oldest).total_seconds() if oldest and backlog > total else 0.0
        self.metrics.outbox_oldest_age.set(max(age, 0.0))
        if total:
            self.metrics.outbox_published.inc(total)
        return total

    async def _send(self, entry: OutboxEntry) -> None:
        await self.publish(
            entry["topic"], entry["key"].encode(), entry["value"].encode(), {"content-type": CONTENT_TYPE}
        )

    async def _remove_sent(self, coll: Any, doc: dict[str, Any]) -> None:
        sent_ids = {e["id"] for e in doc.get("_outbox", ())}
        current = doc
        for _ in range(50):
            remaining = [e for e in current.get("_outbox", ()) if e["id"] not in sent_ids]
            res = await coll.update_one(
                {"_id": current["_id"], "_v": current["_v"]},
                {
                    "$set": {
                        "_outbox": remaining,
                        "_outbox_pending": bool(remaining),
                        "_outbox_since": current.get("_outbox_since") if remaining else None,
                    },
                    "$inc": {"_v": 1},
                },
            )
            if res.matched_count:
                return
            fresh = await coll.find_one({"_id": current["_id"]}, {"_outbox": 1, "_v": 1, "_outbox_since": 1})
            if fresh is None:
                return
            current = fresh
        log.warning("outbox: could not mark %s sent after 50 attempts; it will be sent again", doc["_id"])
