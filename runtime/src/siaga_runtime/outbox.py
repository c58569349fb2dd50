"""The outbox relay: publishes events saved inside aggregate documents, then removes them.

Entries are written by ``AggregateStore`` in the same document write as the state change. The relay
publishes them in order with an idempotent producer (``acks=all``) and then removes exactly the published
entries under the document's version guard. A crash between publish and removal publishes an entry again on
restart: at-least-once, and consumers deduplicate on the event id, so effects happen exactly once end to end.

How the relay finds work:

- **Hints.** The store tells the relay which documents it has just written with entries (``notify``), with
  their version and entries. The relay publishes from that snapshot and removes by ``{_id, _v}``: no query.
- **Deferred removal.** With ``removal_delay`` > 0 the relay waits that long after publishing before it
  removes the entries. A busy document is usually written again meanwhile, and that write drops the
  entries the relay has published (``AggregateStore`` asks ``was_sent``), so the relay's removal, a second
  write of the whole document, is skipped: one document write per event instead of two under load. A crash
  inside the delay publishes those entries again on restart, which at-least-once delivery allows. Removals
  run on a task of their own, so a slow write never holds up publishing.
- **Sweeps.** At start, and then every ``sweep_interval`` seconds, it also looks for documents whose entries
  have waited longer than ``stale_after`` (``_outbox_pending`` and ``_outbox_since``): what a crashed
  replica or a failed removal left behind. The sweep is the only query that is not a point lookup; on
  FerretDB 1.x it reads the whole collection, which is why it is not the main path (measured 158 ms per
  poll at 4,730 documents; the hint path needs none) and why it runs on a task of its own: what it finds
  is queued like a hint. (``drain_once`` on a relay that was not started sweeps inline, for one-shot use.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from pymongo import UpdateOne
from pymongo.errors import PyMongoError
from siaga_schemas import CONTENT_TYPE, Envelope

from .clock import Clock, SystemClock
from .metrics import RuntimeMetrics

__all__ = ["OutboxEntry", "OutboxRelay", "Publish", "entry_for"]

log = logging.getLogger(__name__)

# FerretDB 1.24 hangs on an update command with 100 or more statements (see store.BULK_CHUNK).
BULK_CHUNK = 50


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

_FIELDS = {"_outbox": 1, "_v": 1, "_outbox_since": 1}


@dataclass(slots=True)
class _Pending:
    collection: Any
    doc: dict[str, Any]  # _id, _v, _outbox, _outbox_since


class OutboxRelay:
    """Drains the outboxes of some collections. Safe to run in several replicas (duplicates are deduped)."""

    def __init__(
        self,
        collections: Sequence[Any],
        publish: Publish,
        metrics: RuntimeMetrics,
        *,
        clock: Clock | None = None,
        batch_docs: int = 2000,
        idle_interval: float = 1.0,
        sweep_interval: float = 30.0,
        stale_after: float = 10.0,
        remember_sent: int = 100_000,
        removal_delay: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.collections = list(collections)
        self.publish = publish
        self.metrics = metrics
        self.clock = clock or SystemClock()
        self.batch_docs = batch_docs
        self.idle_interval = idle_interval
        self.sweep_interval = sweep_interval
        self.stale_after = stale_after
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._hints: OrderedDict[tuple[int, Any], _Pending] = OrderedDict()
        self._sweep_all = True  # the first sweep takes every pending entry, however fresh
        self._next_sweep = 0.0
        # Ids this process has published: a newer snapshot of a document may still list an entry that an
        # older snapshot already sent (the removal lost a race); it is removed without a second publish.
        self._sent: OrderedDict[str, None] = OrderedDict()
        self._remember_sent = remember_sent
        self.removal_delay = removal_delay
        self._monotonic = monotonic
        # Published documents whose entries are still to be removed, in the order they are due:
        # key -> (snapshot as published, monotonic time the removal is due).
        self._removals: OrderedDict[tuple[int, Any], tuple[_Pending, float]] = OrderedDict()
        self._removal_wake = asyncio.Event()
        self._sweep_wake = asyncio.Event()
        self._sweep_task: asyncio.Task[None] | None = None
        self._removal_task: asyncio.Task[None] | None = None

    def notify(self, collection: Any, docs: Sequence[dict[str, Any]]) -> None:
        """The store wrote ``docs`` (as stored) with outbox entries: publish them soon."""
        for doc in docs:
            key = (id(collection), doc["_id"])
            # A newer write dropped what this relay had published (the store asks was_sent), so a queued
            # removal of an older snapshot has nothing left to do; the new snapshot gets its own.
            self._removals.pop(key, None)
            self._hints.pop(key, None)  # the newest snapshot of a document wins, queued last
            self._hints[key] = _Pending(
                collection,
                {
                    "_id": doc["_id"],
                    "_v": doc["_v"],
                    "_outbox": doc.get("_outbox", []),
                    "_outbox_since": doc.get("_outbox_since"),
                },
            )
        self._wake.set()

    def was_sent(self, event_id: str) -> bool:
        """Whether this process has published the entry (the store drops such entries when it writes)."""
        return event_id in self._sent

    def kick(self) -> None:
        """Publish now rather than at the next poll, and sweep for pending entries."""
        self._next_sweep = 0.0
        self._wake.set()
        self._sweep_wake.set()

    async def start(self) -> None:
        self._sweep_task = asyncio.create_task(self._sweep_loop(), name="outbox-sweeps")
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        if self.removal_delay > 0:
            self._removal_task = asyncio.create_task(self._removal_loop(), name="outbox-removals")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Flush what is pending (bounded by ``timeout``), then stop."""
        self._stopping = True
        self._wake.set()
        self._sweep_wake.set()
        if self._sweep_task is not None:
            self._sweep_task.cancel()  # what it has not found yet, the next start's sweep finds
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweep_task
        for task in (self._task, self._removal_task):  # publishing first: it queues the last removals
            if task is None:
                continue
            self._removal_wake.set()
            try:
                await asyncio.wait_for(task, timeout)
            except TimeoutError:
                log.warning("outbox relay did not finish within %.1fs; the rest is sent on restart", timeout)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run(self) -> None:
        idle = lambda: not self._hints  # noqa: E731
        await self._loop("publish", self.drain_once, self._idle_wait, idle=idle, finished=idle)

    async def _removal_loop(self) -> None:
        """Removals on their own task, so a slow write never holds up publishing (only with a delay)."""

        def finished() -> bool:  # once stopping: nothing queued, and publishing (which queues) is over
            return not self._removals and (self._task is None or self._task.done())

        await self._loop("remove", self.remove_due, self._removal_wait, idle=lambda: True, finished=finished)

    async def _loop(
        self,
        what: str,
        step: Callable[[], Awaitable[int]],
        wait: Callable[[], Awaitable[None]],
        *,
        idle: Callable[[], bool],
        finished: Callable[[], bool],
    ) -> None:
        """Run ``step`` until stopped; after a step that did nothing, ``wait`` when ``idle()``."""
        backoff = 0.2
        while True:
            try:
                worked = await step()
                backoff = 0.2
            except (PyMongoError, OSError, ConnectionError) as exc:
                log.warning("outbox relay: dependency unavailable (%s); retrying in %.1fs", exc, backoff)
                if self._stopping:
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except Exception:
                if self._stopping:
                    return
                log.exception("outbox relay: %s failed; retrying", what)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if self._stopping and worked == 0 and finished():
                return
            if worked == 0 and idle():
                await wait()

    async def _idle_wait(self) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.idle_interval)

    async def _removal_wait(self) -> None:
        """Until the first queued removal is due (or something is queued, or the relay stops)."""
        if self._stopping:  # everything is due now; poll until publishing has queued its last removals
            await asyncio.sleep(0.01)
            return
        wait = self.removal_delay
        if self._removals:
            wait = max(next(iter(self._removals.values()))[1] - self._monotonic(), 0.0)
        self._removal_wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._removal_wake.wait(), wait)

    async def drain_once(self) -> int:
        """Publish one round of pending entries (hinted documents, then a sweep when one is due)."""
        batch: list[_Pending] = []
        while self._hints and len(batch) < self.batch_docs:
            batch.append(self._hints.popitem(last=False)[1])
        loop_now = asyncio.get_running_loop().time()
        if self._sweep_task is None and loop_now >= self._next_sweep:  # not started: sweep inline
            batch.extend(await self._sweep(exclude={(id(p.collection), p.doc["_id"]) for p in batch}))
            self._next_sweep = loop_now + self.sweep_interval
        if not batch:
            self._report(0)
            return 0
        sent = await asyncio.gather(*(self._send(entry) for p in batch for entry in p.doc["_outbox"]))
        now = self._monotonic()
        for p in batch:
            key = (id(p.collection), p.doc["_id"])
            queued = self._removals.get(key)
            # assigning to a queued key keeps its place (and its due time): the order stays the due order
            self._removals[key] = (p, queued[1] if queued else now + self.removal_delay)
        if self.removal_delay <= 0:
            await self.remove_due()
        else:
            self._removal_wake.set()
        total = sum(sent)
        self.metrics.outbox_published.inc(total)
        self._report(total)
        return total

    async def remove_due(self) -> int:
        """Remove the published entries whose removal is due (all of them once stopping); returns how many
        documents it wrote or looked at."""
        now = self._monotonic()
        due: list[_Pending] = []
        while self._removals:
            key, (p, at) = next(iter(self._removals.items()))
            if at > now and not self._stopping:
                break
            del self._removals[key]
            due.append(p)
        by_collection: dict[int, list[_Pending]] = {}
        for p in due:
            by_collection.setdefault(id(p.collection), []).append(p)
        try:
            for group in by_collection.values():
                await self._remove_sent(group[0].collection, [p.doc for p in group])
        except BaseException:
            for p in due:  # not lost: due again at once, unless a newer snapshot took its place meanwhile
                self._removals.setdefault((id(p.collection), p.doc["_id"]), (p, now))
            raise
        return len(due)

    async def _sweep_loop(self) -> None:
        """The sweeps on their own task: on FerretDB a sweep reads the whole collection, which must never
        hold up publishing what the hints name. What a sweep finds is queued like a hint."""
        while not self._stopping:
            loop_now = asyncio.get_running_loop().time()
            if loop_now >= self._next_sweep:
                self._next_sweep = loop_now + self.sweep_interval
                try:
                    found = await self._sweep(exclude=set(self._hints) | set(self._removals))
                except (PyMongoError, OSError, ConnectionError) as exc:
                    log.warning("outbox sweep: dependency unavailable (%s); trying again later", exc)
                    self._next_sweep = loop_now + min(self.sweep_interval, 5.0)
                    found = []
                except Exception:  # a bug must not end the sweeps for the life of the process
                    log.exception("outbox sweep failed; trying again later")
                    self._next_sweep = loop_now + min(self.sweep_interval, 5.0)
                    found = []
                for p in found:
                    self._hints.setdefault((id(p.collection), p.doc["_id"]), p)  # a newer hint wins
                if found:
                    self._wake.set()
            self._sweep_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._sweep_wake.wait(), max(self._next_sweep - asyncio.get_running_loop().time(), 0.0)
                )

    async def _sweep(self, exclude: set[tuple[int, Any]]) -> list[_Pending]:
        flt: dict[str, Any] = {"_outbox_pending": True}
        if not self._sweep_all:
            flt["_outbox_since"] = {"$lt": self.clock.now() - timedelta(seconds=self.stale_after)}
        found: list[_Pending] = []
        for coll in self.collections:
            async for d in coll.find(flt, _FIELDS).limit(self.batch_docs):
                if (id(coll), d["_id"]) not in exclude and d.get("_outbox"):
                    found.append(_Pending(coll, d))
        if len(found) < self.batch_docs:
            self._sweep_all = False
        else:
            self._next_sweep = 0.0  # a backlog: keep sweeping until it is gone
        if found:
            log.info("outbox sweep found %d documents with pending entries", len(found))
        return found

    def _report(self, sent: int) -> None:
        backlog = sum(len(p.doc["_outbox"]) for p in self._hints.values())
        self.metrics.outbox_backlog.set(backlog)
        oldest: datetime | None = None
        for p in self._hints.values():
            since = p.doc.get("_outbox_since")
            if since is not None:
                since = since if since.tzinfo else since.replace(tzinfo=UTC)
                oldest = since if oldest is None or since < oldest else oldest
        age = (self.clock.now() - oldest).total_seconds() if oldest else 0.0
        self.metrics.outbox_oldest_age.set(max(age, 0.0))

    async def _send(self, entry: OutboxEntry) -> int:
        """Publish one entry unless this relay already did; returns how many records it published."""
        if entry["id"] in self._sent:
            return 0
        await self.publish(
            entry["topic"], entry["key"].encode(), entry["value"].encode(), {"content-type": CONTENT_TYPE}
        )
        self._sent[entry["id"]] = None
        if len(self._sent) > self._remember_sent:
            self._sent.popitem(last=False)
        return 1

    async def _remove_sent(self, coll: Any, docs: list[dict[str, Any]]) -> None:
        """Remove the published entries with one guarded bulk write.

        A document whose version moved meanwhile (a consumer or an API call wrote it) is read again and,
        if it still lists entries this relay sent, queued again as a hint with that fresh snapshot: the next
        round removes them without publishing them twice. The relay never waits on one document, so a hot
        document cannot stall it; and the store drops already-published entries itself when it writes.
        """
        ops = [UpdateOne(*self._removal(d, {e["id"] for e in d["_outbox"]})) for d in docs]
        moved: list[dict[str, Any]] = []
        for start in range(0, len(ops), BULK_CHUNK):
            chunk = ops[start : start + BULK_CHUNK]
            res = await coll.bulk_write(chunk, ordered=False)
            if res.matched_count < len(chunk):
                moved.extend(docs[start : start + BULK_CHUNK])
        if not moved:
            return
        gate = asyncio.Semaphore(32)

        async def reread(doc: dict[str, Any]) -> dict[str, Any] | None:
            async with gate:
                current: dict[str, Any] | None = await coll.find_one({"_id": doc["_id"]}, _FIELDS)
                return current

        for doc, current in zip(moved, await asyncio.gather(*(reread(d) for d in moved)), strict=True):
            if current is None:
                continue
            sent_ids = {e["id"] for e in doc["_outbox"]}
            if not sent_ids.intersection(e["id"] for e in current.get("_outbox", ())):
                continue  # a later write already dropped them
            key = (id(coll), current["_id"])
            if key not in self._hints:  # a newer hint of this document removes them when it is handled
                self._hints[key] = _Pending(coll, current)
                self._wake.set()

    @staticmethod
    def _removal(current: dict[str, Any], sent_ids: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The guarded ``(filter, update)`` that removes ``sent_ids`` from this version of the document."""
        remaining = [e for e in current.get("_outbox", ()) if e["id"] not in sent_ids]
        return (
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
