"""The outbox relay: publishes the events saved inside aggregate documents, in order, at least once.

Entries are written by ``AggregateStore`` in the same document write as the state change, and named by a
journal record (``siaga_runtime.journal``). The relay publishes them with an idempotent producer
(``acks=all``) and then deletes the journal record; it never writes the aggregate documents (the next
write of a document drops the entries of retired journals), and it never queries them by a field.

How the relay finds work:

- **Hand-over.** The store tells the relay, once a journal's documents are written, which entries it holds
  (``notify``). The relay publishes from that list: no read at all.
- **Recovery.** At start, before the service consumes anything, every journal record left in the database
  (a previous run's) is read, with the documents it names, and published first, so that per document the
  order of events survives a crash. Then every ``recover_interval`` seconds records older than
  ``stale_after`` are looked for: what a replica that died left behind. The journal collection holds only
  records not yet retired, so these reads stay small however large the aggregates' collections grow.

A crash between publishing and deleting the record publishes those entries again (the same event ids):
at-least-once, and consumers make a repeated event a no-op.

**Back-pressure.** Entries wait in memory until they are out, so a writer that saves events faster than
the broker takes them (a national import, a consumer catching up) would grow the process without bound.
Bulk writers therefore ``await relay.room()`` between two units of work (a consumer batch, a kab/kota of
an import): it returns once at most ``max_backlog`` entries are waiting. Single API writes do not wait.

**Order and latency.** Each key's events are published in the order they were saved. Beyond that the
relay does not keep journals in line: a round publishes at most ``slice_entries`` entries of each journal,
oldest journal first, so the few events of a sweep or an API call are not held behind the 20,000 of a
consumer batch saved just before them. A journal of at most ``small_entries`` entries that shares no key
with an earlier queued journal goes first, whole, however many batches are queued before it. A journal
that shares a key with an earlier journal still being published waits for it. A journal is retired once
all its entries are out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uuid_utils
from siaga_schemas import CONTENT_TYPE
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from .journal import JournalRecord, OutboxJournal
from .metrics import RuntimeMetrics
from .outbox_entry import OutboxEntry, entry_for
from .packing import unpack

__all__ = ["Enqueue", "OutboxEntry", "OutboxRelay", "entry_for"]

log = logging.getLogger(__name__)


def _log_relay_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning("outbox relay: publishing failed (%s); retrying in %.1fs", type(exc).__name__, delay)


# enqueue(topic, key, value, headers) -> the broker's acknowledgement, to be awaited. Records are handed to
# the producer in the order of the calls, which keeps each key's order.
Enqueue = Callable[[str, bytes, bytes, dict[str, str]], Awaitable[Awaitable[Any]]]
# collection name -> the collection (the stores' collections of this service)
Collections = Callable[[str], Any]


def _journal_time(journal_id: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(uuid_utils.UUID(journal_id).timestamp / 1000, tz=UTC)
    except ValueError:
        return None


@dataclass(slots=True)
class _Pending:
    """A journal's entries waiting to be published, and how many of them are out already."""

    entries: Sequence[OutboxEntry]
    sent: int = 0
    keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = frozenset(e["key"] for e in self.entries)


class OutboxRelay:
    """Publishes journaled outbox entries. Safe with several replicas (a repeated event is a no-op)."""

    def __init__(
        self,
        journal: OutboxJournal,
        collections: Collections,
        enqueue: Enqueue,
        metrics: RuntimeMetrics,
        *,
        max_entries: int = 5_000,
        max_backlog: int = 50_000,
        slice_entries: int = 500,
        small_entries: int = 200,
        idle_interval: float = 1.0,
        stale_after: float = 30.0,
        recover_interval: float = 30.0,
    ) -> None:
        self.journal = journal
        self.collections = collections
        self.enqueue = enqueue
        self.metrics = metrics
        self.max_entries = max_entries
        self.max_backlog = max_backlog
        self.slice_entries = slice_entries
        self.small_entries = small_entries
        self.idle_interval = idle_interval
        self.stale_after = stale_after
        self.recover_interval = recover_interval
        self._queue: OrderedDict[str, _Pending] = OrderedDict()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # set while ``backlog`` is at most ``max_backlog``
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self._recovery_task: asyncio.Task[None] | None = None
        self._stopping = False

    def notify(self, journal_id: str, entries: Sequence[OutboxEntry]) -> None:
        """A journal's documents are written; ``entries`` are its events in write order."""
        self._queue[journal_id] = _Pending(entries)
        self._room_changed()
        self._wake.set()

    @property
    def backlog(self) -> int:
        return sum(len(p.entries) - p.sent for p in self._queue.values())

    async def room(self) -> None:
        """Wait until at most ``max_backlog`` entries are waiting to be published (at once if so already,
        or if the relay is stopping): how bulk writers keep the process's memory bounded."""
        while not self._room.is_set() and not self._stopping:
            await self._room.wait()

    def _room_changed(self) -> None:
        if self._stopping or self.backlog <= self.max_backlog:
            self._room.set()
        else:
            self._room.clear()

    async def start(self) -> None:
        """Publish what a previous run left (all of it, first), then keep publishing in the background."""
        await self.recover_once(older_than=timedelta(0))
        while self._queue:
            await self.drain_once()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        self._recovery_task = asyncio.create_task(self._recovery_loop(), name="outbox-recovery")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Publish what is queued (bounded by ``timeout``), then stop; the rest is recovered on restart."""
        self._stopping = True
        self._room.set()
        self._wake.set()
        if self._recovery_task is not None:
            self._recovery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery_task
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            log.warning("outbox relay did not finish within %.1fs; the rest is sent on restart", timeout)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            sent = await self._drain_retrying()
            if sent is None or (self._stopping and not self._queue):
                return
            if sent == 0 and not self._queue:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_interval)

    async def _drain_retrying(self) -> int | None:
        """One round, retried with exponential backoff (0.2 s doubling to 5 s) for as long as the service
        runs: the relay outlives any failure. None once a failure meets a stopping service."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda exc: not self._stopping),
            wait=wait_exponential(multiplier=0.2, min=0.2, max=5.0),
            before_sleep=_log_relay_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self.drain_once()
        except Exception:  # noqa: BLE001 - only once stopping: the rest is recovered on restart
            return None
        return None  # pragma: no cover - AsyncRetrying either returns from an attempt or raises

    async def _recovery_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.recover_interval)
            try:
                found = await self.recover_once(older_than=timedelta(seconds=self.stale_after))
            except Exception as exc:  # noqa: BLE001 - a dependency away, or a bug: never the end of recovery
                log.warning("outbox recovery failed (%s); trying again later", type(exc).__name__)
                continue
            if found:
                self._wake.set()

    def _plan(self) -> list[tuple[str, int, int]]:
        """One round: ``(journal, start, stop)`` slices in publishing order (see the module docstring).

        Small journals that share no key with any journal queued before them (a sweep's few events, an
        API call's) go first, whole, on a budget of their own, wherever they are in the queue: behind ten
        consumer batches they would otherwise wait for every one of those to be out. Publishing them ahead
        of earlier journals cannot reorder a key, since no earlier journal holds one of their keys. The
        other journals then share ``max_entries`` in queue order, as before."""
        plan: list[tuple[str, int, int]] = []
        first: set[str] = set()
        budget = self.max_entries
        seen: set[str] = set()  # keys of every journal before this one
        for journal_id, pending in self._queue.items():
            left = len(pending.entries) - pending.sent
            if 0 < left <= min(self.small_entries, budget) and seen.isdisjoint(pending.keys):
                plan.append((journal_id, pending.sent, len(pending.entries)))
                first.add(journal_id)
                budget -= left
            seen |= pending.keys
        budget = self.max_entries
        held: set[str] = set()  # keys of earlier journals with entries not out after this round
        for journal_id, pending in self._queue.items():
            if budget <= 0:
                break
            if journal_id in first:
                continue
            if not held.isdisjoint(pending.keys):
                held |= pending.keys  # it waits, and so does every later journal sharing its keys
                continue
            left = len(pending.entries) - pending.sent
            take = min(left, budget, self.slice_entries)
            plan.append((journal_id, pending.sent, pending.sent + take))  # nothing left: retired this round
            budget -= take
            if take < left:
                held |= pending.keys
        return plan

    async def drain_once(self) -> int:
        """Publish one round of queued entries (about ``max_entries``); retire the journals now all out."""
        plan = self._plan()
        if not plan:
            self._report()
            return 0
        acks: list[Awaitable[Any]] = []
        for journal_id, start, stop in plan:
            for e in self._queue[journal_id].entries[start:stop]:
                acks.append(
                    await self.enqueue(
                        e["topic"], e["key"].encode(), e["value"].encode(), {"content-type": CONTENT_TYPE}
                    )
                )
        await asyncio.gather(*acks)
        count = 0
        done: list[str] = []
        for journal_id, start, stop in plan:
            pending = self._queue[journal_id]
            pending.sent = stop
            count += stop - start
            if stop >= len(pending.entries):
                done.append(journal_id)
            else:
                self.journal.mark_published(journal_id, (e["id"] for e in pending.entries[start:stop]))
        await self.journal.retire(done)
        for journal_id in done:
            self._queue.pop(journal_id, None)
        self._room_changed()
        self.metrics.outbox_published.inc(count)
        self._report()
        return count

    async def recover_once(self, *, older_than: timedelta) -> int:
        """Queue the entries of journal records older than ``older_than``; returns how many journals."""
        records = await self.journal.stale(older_than, datetime.now(UTC))  # journal ids are wall time
        found = 0
        for record in records:
            if record.journal_id in self._queue:
                continue
            self._queue[record.journal_id] = _Pending(await self._entries_of(record))
            found += 1
        if found:
            self._room_changed()
            log.info("outbox recovery: %d journal(s) left unpublished", found)
        return found

    async def _entries_of(self, record: JournalRecord) -> list[OutboxEntry]:
        coll = self.collections(record.collection)
        if coll is None:
            log.warning(
                "outbox recovery: journal %s names unknown collection %r",
                record.journal_id,
                record.collection,
            )
            return []
        gate = asyncio.Semaphore(16)

        async def read(doc_id: str) -> dict[str, Any] | None:
            async with gate:
                stored: dict[str, Any] | None = await coll.find_one({"_id": doc_id})
                return unpack(stored) if stored is not None else None

        docs = await asyncio.gather(*(read(i) for i in record.doc_ids))
        return [
            e for d in docs if d is not None for e in d.get("_outbox", ()) if e.get("j") == record.journal_id
        ]

    def oldest_age(self) -> float:
        """Seconds since the oldest queued, not yet published entry was saved (0 when none waits)."""
        oldest = next((t for t in map(_journal_time, self._queue) if t is not None), None)
        return max((datetime.now(UTC) - oldest).total_seconds(), 0.0) if oldest else 0.0

    def _report(self) -> None:
        self.metrics.outbox_backlog.set(self.backlog)
        self.metrics.outbox_oldest_age.set(self.oldest_age())
