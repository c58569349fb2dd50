"""Aggregate documents that carry their own dedup record and outbox.

FerretDB and a stand-alone MongoDB have no multi-document transactions, so everything that must change
together lives in ONE document and is written with ONE replace guarded by a version number:

- the aggregate's state (top-level fields chosen by the service),
- ``_applied``: the ids of the events (and idempotency keys of commands) already applied to it,
- ``_outbox``: the events this document still has to publish,
- ``_v``: the version used for optimistic concurrency.

A consumer applies a whole batch with one ``find`` and one unordered ``bulk_write``; a document whose
version moved meanwhile (another replica, a sweeper, the outbox relay) is reloaded and its events are
re-applied. A duplicate event is recognised inside the same document it would change, so an effect is
applied at most once per document however often the event is delivered.

The guard needs the server to evaluate a filter and write atomically. MongoDB does; FerretDB 1.x does not
(it selects, filters and updates in separate steps), so the devstack puts a small proxy in front of it that
runs write commands one at a time (deploy/ferretdb/proxy.go).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FunctionType, MethodType
from typing import Any

from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError
from siaga_schemas import Envelope, EventData, new_event_id

from .clock import Clock, SystemClock
from .outbox import OutboxEntry, entry_for

__all__ = [
    "APPLIED_WINDOW",
    "AggregateStore",
    "ApplyResult",
    "Decision",
    "Doc",
    "as_utc",
    "strip_reserved",
]

log = logging.getLogger(__name__)

Doc = dict[str, Any]
APPLIED_WINDOW = 1000
RESERVED = ("_id", "_v", "_w", "_applied", "_outbox", "_outbox_pending", "_outbox_since", "_updated_at")
MAX_CONFLICT_ROUNDS = 50
# Concurrent single-document reads used by ``load_many``. A ``{_id: {$in: [...]}}`` query is one round trip
# on MongoDB, but FerretDB 1.x pushes down only a bare ``{_id: value}`` filter and answers ``$in`` by decoding
# every document of the collection (793 ms for 50 ids at 4,730 documents, measured); indexed point reads
# cost well under a millisecond each on both servers.
LOAD_CONCURRENCY = 32
# FerretDB v1.24 stops answering an ``update`` command that carries 100 or more statements (measured here:
# 99 returns in ~0.13 s, 100 never returns), so bulk writes are sent in chunks well below that.
BULK_CHUNK = 50


@dataclass(slots=True)
class Decision:
    """The outcome of applying one event or command to one document.

    ``state`` is the new state (``None`` keeps the document unchanged: no write, but the event still
    counts as seen only if ``record`` is true); ``emit`` are the events to publish, in order.
    """

    state: Doc | None
    emit: Sequence[EventData | Envelope[Any]] = ()
    record: bool = True


@dataclass(slots=True)
class ApplyResult:
    applied: int = 0
    duplicates: int = 0
    conflicts: int = 0
    emitted: int = 0
    written_docs: int = 0
    emitted_envelopes: list[Envelope[Any]] = field(default_factory=list)
    rejected: list[tuple[Envelope[Any], Exception]] = field(default_factory=list)
    applied_types: Counter[str] = field(default_factory=Counter)


Decide = Callable[[Doc | None, Envelope[Any]], Decision]
# Told about documents just written with outbox entries: (collection, [document as written]).
OutboxListener = Callable[[Any, Sequence[Doc]], None]
# Whether the outbox relay has already published the entry with this event id.
Published = Callable[[str], bool]


class AggregateStore:
    """Load-decide-save over one collection, with per-document dedup and outbox."""

    def __init__(
        self,
        collection: Any,
        *,
        source: str,
        name: str | None = None,
        clock: Clock | None = None,
        applied_window: int = APPLIED_WINDOW,
        on_outbox: OutboxListener | None = None,
        published: Published | None = None,
    ) -> None:
        self._collection = collection
        self._published = published
        self._name = name
        self.source = source
        self.clock = clock or SystemClock()
        self.applied_window = applied_window
        self._on_outbox = on_outbox

    @property
    def collection(self) -> Any:
        """The MongoDB collection; a zero-argument provider is resolved on use (clients open in the lifespan)."""
        c = self._collection
        return c() if isinstance(c, FunctionType | MethodType) else c

    @property
    def name(self) -> str:
        return self._name or str(self.collection.name)

    def set_outbox_listener(self, listener: OutboxListener) -> None:
        self._on_outbox = listener

    async def get(self, doc_id: str) -> Doc | None:
        doc: Doc | None = await self.collection.find_one({"_id": doc_id})
        return doc

    async def load_many(self, ids: Iterable[str]) -> dict[str, Doc]:
        """The stored documents among ``ids``, read by indexed point lookups (see ``LOAD_CONCURRENCY``)."""
        unique = list(dict.fromkeys(ids))
        if not unique:
            return {}
        collection = self.collection
        gate = asyncio.Semaphore(LOAD_CONCURRENCY)

        async def one(doc_id: str) -> Doc | None:
            async with gate:
                doc: Doc | None = await collection.find_one({"_id": doc_id})
                return doc

        docs = await asyncio.gather(*(one(doc_id) for doc_id in unique))
        return {d["_id"]: d for d in docs if d is not None}

    # -- the write path ---------------------------------------------------------------------------

    def _envelopes(self, decision: Decision, cause: Envelope[Any] | None) -> list[Envelope[Any]]:
        out: list[Envelope[Any]] = []
        for item in decision.emit:
            if isinstance(item, Envelope):
                out.append(item)
            else:
                out.append(
                    Envelope.wrap(
                        item,
                        source=self.source,
                        time=self.clock.now(),
                        correlation_id=(cause.correlationid or cause.id) if cause else None,
                        causation_id=cause.id if cause else None,
                    )
                )
        return out

    def _next_doc(
        self, current: Doc | None, doc_id: str, state: Doc, mark: str | None, envelopes: list[Envelope[Any]]
    ) -> Doc:
        applied = list(current.get("_applied", ())) if current else []
        if mark is not None:
            applied.append(mark)
            if len(applied) > self.applied_window:
                applied = applied[-self.applied_window :]
        outbox: list[OutboxEntry] = list(current.get("_outbox", ())) if current else []
        if outbox and self._published is not None:
            # Entries the relay already published but could not remove yet (this write moved the version
            # under it): this write removes them, so the relay and the consumer do not fight over the guard.
            outbox = [e for e in outbox if not self._published(e["id"])]
        since = current.get("_outbox_since") if current and outbox else None
        outbox.extend(entry_for(e) for e in envelopes)
        now = self.clock.now()
        doc = {k: v for k, v in state.items() if k not in RESERVED}
        doc.update(
            _id=doc_id,
            _v=(current["_v"] if current else 0) + 1,
            _applied=applied,
            _outbox=outbox,
            _outbox_pending=bool(outbox),
            _outbox_since=(since or now) if outbox else None,
            _updated_at=now,
            _w=new_event_id(),
        )
        return doc

    async def apply(
        self,
        items: Sequence[tuple[str, Envelope[Any]]],
        decide: Decide,
    ) -> ApplyResult:
        """Apply ``(doc_id, event)`` pairs in order: per document, events keep their sequence.

        Returns counts; raises only on infrastructure errors (which the consumer treats as transient).
        """
        result = ApplyResult()
        pending: list[tuple[str, Envelope[Any]]] = list(items)
        rejected_ids: set[str] = set()
        written_with_outbox: list[Doc] = []
        rounds = 0
        while pending:
            rounds += 1
            if rounds > MAX_CONFLICT_ROUNDS:
                raise RuntimeError(f"{self.name}: still conflicting after {MAX_CONFLICT_ROUNDS} rounds")
            current = await self.load_many(doc_id for doc_id, _ in pending)
            originals: dict[str, Doc | None] = {}
            working: dict[str, Doc | None] = {}
            by_doc: dict[str, list[tuple[str, Envelope[Any]]]] = {}
            applied: dict[str, list[Envelope[Any]]] = {}
            dups: dict[str, int] = {}
            emitted: dict[str, list[Envelope[Any]]] = {}
            for doc_id, event in pending:
                by_doc.setdefault(doc_id, []).append((doc_id, event))
                if doc_id not in working:
                    originals[doc_id] = working[doc_id] = current.get(doc_id)
                doc = working[doc_id]
                if doc is not None and event.id in doc.get("_applied", ()):
                    dups[doc_id] = dups.get(doc_id, 0) + 1
                    continue
                try:
                    decision = decide(doc, event)
                except Exception as exc:  # a domain rule or a bug: this event only, never the batch
                    if event.id not in rejected_ids:
                        rejected_ids.add(event.id)
                        result.rejected.append((event, exc))
                    continue
                applied.setdefault(doc_id, []).append(event)
                if decision.state is None and not decision.record:
                    continue
                envelopes = self._envelopes(decision, event)
                state = decision.state if decision.state is not None else (doc or {})
                working[doc_id] = self._next_doc(doc, doc_id, state, event.id, envelopes)
                emitted.setdefault(doc_id, []).extend(envelopes)
            lost = await self._write(originals, working)
            for doc_id in working:
                if doc_id in lost:
                    continue
                result.applied += len(applied.get(doc_id, ()))
                result.duplicates += dups.get(doc_id, 0)
                for ev in applied.get(doc_id, ()):
                    result.applied_types[ev.type] += 1
                envs = emitted.get(doc_id, [])
                result.emitted += len(envs)
                result.emitted_envelopes.extend(envs)
                if working[doc_id] is not originals[doc_id]:
                    result.written_docs += 1
                    written = working[doc_id]
                    if envs and written is not None:
                        written_with_outbox.append(written)
            result.conflicts += len(lost)
            pending = [pair for doc_id in lost for pair in by_doc[doc_id]]
        if result.emitted and self._on_outbox:
            self._on_outbox(self.collection, written_with_outbox)
        return result

    async def _write(
        self, originals: Mapping[str, Doc | None], working: Mapping[str, Doc | None]
    ) -> set[str]:
        """One unordered bulk write; returns the ids whose write lost a race."""
        ops: list[Any] = []
        op_ids: list[str] = []
        for doc_id, doc in working.items():
            original = originals[doc_id]
            if doc is original or doc is None:
                continue
            if original is None:
                ops.append(InsertOne(doc))
            else:
                ops.append(ReplaceOne({"_id": doc_id, "_v": original["_v"]}, doc))
            op_ids.append(doc_id)
        if not ops:
            return set()
        lost: set[str] = set()
        unmatched = 0
        for start in range(0, len(ops), BULK_CHUNK):
            chunk = ops[start : start + BULK_CHUNK]
            replaces = sum(isinstance(op, ReplaceOne) for op in chunk)
            try:
                res = await self.collection.bulk_write(chunk, ordered=False)
                unmatched += replaces - res.matched_count
            except BulkWriteError as exc:
                for err in exc.details.get("writeErrors", []):
                    if err.get("code") == 11000:
                        lost.add(op_ids[start + err["index"]])
                    else:
                        raise
                unmatched += replaces - exc.details.get("nMatched", 0)
        # A replace whose filter did not match lost to a concurrent writer; find which by the write token.
        # When every replace matched there is nothing to find (the common case: no read-back).
        replaced = [doc_id for doc_id in op_ids if originals[doc_id] is not None and doc_id not in lost]
        if replaced and unmatched:
            now_docs = await self.load_many(replaced)
            for doc_id in replaced:
                stored = now_docs.get(doc_id)
                doc = working[doc_id]
                assert doc is not None
                if stored is None or stored.get("_w") != doc["_w"]:
                    lost.add(doc_id)
        return lost

    async def mutate(
        self,
        doc_id: str,
        change: Callable[[Doc | None], Decision],
        *,
        idempotency_key: str | None = None,
        cause: Envelope[Any] | None = None,
    ) -> tuple[Doc | None, list[Envelope[Any]]]:
        """Apply a command (HTTP request, sweeper tick) to one document, retrying on conflicts.

        With an ``idempotency_key`` a repeated command is a no-op that returns the stored document.
        Returns the document as stored and the envelopes emitted by this call.
        """
        for _ in range(MAX_CONFLICT_ROUNDS):
            current = await self.get(doc_id)
            if idempotency_key and current is not None and idempotency_key in current.get("_applied", ()):
                return current, []
            decision = change(current)
            if decision.state is None:
                return current, []
            envelopes = self._envelopes(decision, cause)
            doc = self._next_doc(current, doc_id, decision.state, idempotency_key, envelopes)
            try:
                if current is None:
                    await self.collection.insert_one(doc)
                else:
                    res = await self.collection.replace_one({"_id": doc_id, "_v": current["_v"]}, doc)
                    if res.matched_count == 0:
                        continue
            except DuplicateKeyError:
                continue
            if envelopes and self._on_outbox:
                self._on_outbox(self.collection, [doc])
            return doc, envelopes
        raise RuntimeError(f"{self.name}/{doc_id}: still conflicting after {MAX_CONFLICT_ROUNDS} attempts")


def strip_reserved(doc: Mapping[str, Any]) -> Doc:
    """The service's own fields of a stored document (for API responses)."""
    return {k: v for k, v in doc.items() if k not in RESERVED or k == "_id"}


def as_utc(value: datetime) -> datetime:
    """Make a datetime read from MongoDB aware (the runtime's client is tz-aware; this is for others)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
