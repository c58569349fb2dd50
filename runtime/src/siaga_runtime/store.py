"""Aggregate documents that carry their own dedup marks and outbox.

FerretDB and a stand-alone MongoDB have no multi-document transactions, so everything that must change
together lives in ONE document and is written with ONE replace guarded by a version number:

- the aggregate's state (fields chosen by the service),
- ``_wm``: per ``(projection, topic, partition)``, the offset of the last consumed record applied to it,
- ``_keys``: the idempotency keys of the last ``KEYS_WINDOW`` commands (and of events applied without a
  record position),
- ``_outbox``: the events this document still has to publish, each tagged with its journal
  (``siaga_runtime.journal``),
- ``_v``: the version used for optimistic concurrency, and ``_w``, the token of the write that made it.

Documents are stored packed (``siaga_runtime.packing``): three top-level values, whatever the state.

Why offsets and not a list of event ids: a consumed record can come again only as itself (same topic,
partition and offset): after a crash before its offsets were committed, after a rebalance, or after a
reset of the group's offsets. Within a partition records are applied in order, so "the record's offset is
at most the watermark this document holds for its partition" is exact however many events came in
between, and costs one number per partition instead of a list that grows with the events. An event that
was *published* twice (the outbox relay after a crash, an agency re-sending) arrives as a new record; the
services' decisions make such a copy a no-op themselves (a shipment already dispatched, a TPS already
counted, a signal older than the alert's last one), which the service tests check event by event.

A consumer applies a whole batch with point reads (or none: the write-through cache holds the documents
this process wrote or read last) and one unordered bulk write in chunks; a document whose version moved
meanwhile (another replica, a sweeper, an API call) is read again and its events are decided again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from types import FunctionType, MethodType
from typing import Any, TypeVar

from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError
from siaga_schemas import Envelope, new_event_id
from siaga_schemas.decision import Decision, Doc

from .clock import Clock, SystemClock
from .doccache import DocCache
from .journal import OutboxJournal
from .outbox_entry import OutboxEntry, entry_for
from .packing import pack_sized, unpack, unpack_sized
from .records import (
    RESERVED,
    ApplyResult,
    BeforeWrite,
    Change,
    Decide,
    Merged,
    OutboxListener,
    Routed,
)

__all__ = ["BULK_CHUNK", "KEYS_WINDOW", "AggregateStore", "Decision", "Doc"]

log = logging.getLogger(__name__)

KEYS_WINDOW = 64
MAX_CONFLICT_ROUNDS = 50
# Concurrent single-document reads used by ``load_many``. A ``{_id: {$in: [...]}}`` query is one round trip
# on MongoDB, but FerretDB 1.x pushes down only a bare ``{_id: value}`` filter and answers ``$in`` by decoding
# every document of the collection (793 ms for 50 ids at 4,730 documents, measured); indexed point reads
# cost well under a millisecond each on both servers.
LOAD_CONCURRENCY = 32
# FerretDB v1.24 stops answering an ``update`` command that carries 100 or more statements (measured here:
# 99 returns in ~0.13 s, 100 never returns), so bulk writes are sent in chunks well below that.
BULK_CHUNK = 50
# A batch of thousands of events is decided and encoded in one go; every so many the store lets the event
# loop run the other tasks (the outbox relay, HTTP, /metrics, timers), or they would wait for the batch.
YIELD_EVERY = 200

T = TypeVar("T")


async def paced(items: Iterable[T]) -> AsyncIterator[T]:
    """``items``, letting the event loop run other tasks every ``YIELD_EVERY`` of them."""
    for i, item in enumerate(items):
        if i and not i % YIELD_EVERY:
            await asyncio.sleep(0)
        yield item


class AggregateStore:
    """Load-decide-save over one collection, with per-document dedup marks and outbox."""

    def __init__(
        self,
        collection: Any,
        *,
        source: str,
        journal: OutboxJournal | None = None,
        name: str | None = None,
        clock: Clock | None = None,
        on_outbox: OutboxListener | None = None,
        cache_mb: float = 32.0,
        packed_cache_mb: float | None = None,
    ) -> None:
        self._collection = collection
        self._name = name
        self.source = source
        self.clock = clock or SystemClock()
        self.journal = journal
        self._on_outbox = on_outbox
        # decoded documents, then their stored forms (see ``doccache``); packed: 4 times the decoded budget
        self._docs = DocCache(cache_mb, 4 * cache_mb if packed_cache_mb is None else packed_cache_mb)
        # since the start, exported by ``metrics.StoreCollector``: documents read from the database, and
        # documents written with their BSON bytes (before packing)
        self.reads = 0
        self.writes = 0
        self.written_bytes = 0

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

    # -- reads ------------------------------------------------------------------------------------------

    async def get(self, doc_id: str) -> Doc | None:
        """The document as stored now (a point read; it also refreshes the cache)."""
        stored = await self.collection.find_one({"_id": doc_id})
        self.reads += 1
        if stored is None:
            self.forget(doc_id)
            return None
        doc, size = unpack_sized(stored)
        self._docs.put(doc, size, stored)
        return doc

    async def load_many(self, ids: Iterable[str]) -> dict[str, Doc]:
        """The stored documents among ``ids``, read now by indexed point reads (see ``LOAD_CONCURRENCY``)."""
        unique = list(dict.fromkeys(ids))
        found = await self._read(unique)
        for doc, size, stored in found.values():
            self._docs.put(doc, size, stored)
        return {doc_id: doc for doc_id, (doc, _, _) in found.items()}

    async def scan(self, keep: Callable[[Doc], bool] | None = None) -> AsyncIterator[Doc]:
        """Every document of the collection (optionally those ``keep`` accepts), decoded.

        A whole-collection read: for the small collections (templates, contacts, silences) and for rare
        safety nets, never for work whose cost must follow the events."""
        async for stored in self.collection.find({}):
            doc = unpack(stored)
            if keep is None or keep(doc):
                yield doc

    async def _read(self, ids: Sequence[str]) -> dict[str, tuple[Doc, int, Doc]]:
        """The stored documents among ``ids``: each decoded, with its BSON size and its stored form."""
        if not ids:
            return {}
        collection = self.collection
        gate = asyncio.Semaphore(LOAD_CONCURRENCY)

        async def one(doc_id: str) -> tuple[Doc, int, Doc] | None:
            async with gate:
                stored: Doc | None = await collection.find_one({"_id": doc_id})
            if stored is None:
                return None
            doc, size = unpack_sized(stored)
            return doc, size, stored

        docs = await asyncio.gather(*(one(doc_id) for doc_id in ids))
        self.reads += len(ids)
        return {d[0]["_id"]: d for d in docs if d is not None}

    async def _load(
        self, ids: Iterable[str], result: ApplyResult | None = None, *, fresh: bool = False
    ) -> dict[str, Doc]:
        """The current documents for a write: from the cache when this process holds them (unless
        ``fresh``), else read."""
        unique = list(dict.fromkeys(ids))
        out: dict[str, Doc] = {}
        missing: list[str] = []
        for doc_id in unique:
            cached = None if fresh else self._docs.get(doc_id)
            if cached is None:
                missing.append(doc_id)
            else:
                out[doc_id] = cached
        if missing:
            read = await self._read(missing)
            if result is not None:
                result.reads += len(missing)
            for doc_id, (doc, size, stored) in read.items():
                self._docs.put(doc, size, stored)
                out[doc_id] = doc
        if self.journal is not None:
            foreign = [
                e["j"]
                for d in out.values()
                for e in d.get("_outbox", ())
                if self.journal.known_retired(e.get("j", "")) is None
            ]
            if foreign:
                await self.journal.resolve(foreign)
        return out

    @property
    def cache(self) -> DocCache:
        """The write-through cache (read-only use: its sizes and lookup counts)."""
        return self._docs

    @property
    def cached_bytes(self) -> int:
        """What the decoded documents in the cache are charged (their BSON sizes times ``PY_OVERHEAD``)."""
        return self._docs.decoded_bytes

    @property
    def cache_bytes(self) -> int:
        """The budget of the decoded documents in the cache."""
        return self._docs.decoded_budget

    async def current(self, ids: Iterable[str]) -> dict[str, Doc]:
        """The documents among ``ids`` as this process last wrote or read them, reading only the others:
        for decisions that are checked by a guarded write anyway."""
        return await self._load(ids)

    def forget(self, doc_id: str) -> None:
        """Drop a cached document (it is read again on its next write)."""
        self._docs.drop(doc_id)

    # -- the write path ---------------------------------------------------------------------------------

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

    def _kept_entries(self, current: Doc | None) -> list[OutboxEntry]:
        """The current document's entries that are not published yet (or not known to be)."""
        entries: list[OutboxEntry] = list(current.get("_outbox", ())) if current else []
        if not entries or self.journal is None:
            return entries
        return [e for e in entries if not self.journal.known_retired(e.get("j", ""))]

    def _next_doc(
        self,
        current: Doc | None,
        doc_id: str,
        state: Mapping[str, Any],
        mark: tuple[str, int] | str | None,
        envelopes: list[Envelope[Any]],
        journal_id: str | None,
    ) -> Doc:
        """The document to write: the new state, the dedup mark of what caused it, the outbox."""
        wm: dict[str, int] = dict(current.get("_wm", {})) if current else {}
        keys: list[str] = list(current.get("_keys", ())) if current else []
        if isinstance(mark, tuple):
            scope, offset = mark
            wm[scope] = max(offset, wm.get(scope, -1))
        elif mark is not None:
            keys = [*keys, mark][-KEYS_WINDOW:]
        outbox = self._kept_entries(current)
        outbox.extend(entry_for(e, journal_id or "") for e in envelopes)
        doc = {k: v for k, v in state.items() if k not in RESERVED}
        doc.update(
            _id=doc_id,
            _v=(current["_v"] if current else 0) + 1,
            _wm=wm,
            _keys=keys,
            _outbox=outbox,
            _updated_at=self.clock.now(),
            _w=new_event_id(),
        )
        return doc

    @staticmethod
    def _mark(item: Routed, scope: str) -> tuple[str, int] | str:
        pos = item.position
        if pos is None:
            return item.event.id
        return (f"{scope}|{pos.topic}|{pos.partition}", pos.offset)

    @staticmethod
    def _seen(doc: Doc | None, mark: tuple[str, int] | str) -> bool:
        if doc is None:
            return False
        if isinstance(mark, tuple):
            scope, offset = mark
            applied: int = doc.get("_wm", {}).get(scope, -1)
            return offset <= applied
        return mark in doc.get("_keys", ())

    async def apply(  # noqa: C901 - the load-decide-write loop of one batch, whose invariants hold across its rounds
        self,
        items: Sequence[Routed | tuple[str, Envelope[Any]]],
        decide: Decide,
        *,
        scope: str = "",
        before_write: BeforeWrite | None = None,
        absent: bool = False,
    ) -> ApplyResult:
        """Apply events in order: per document, events keep their sequence; one write per document.

        With ``absent`` the documents are expected not to exist (records written once): the first round
        reads none, and one that exists is found by its duplicate key and decided again after a read.

        ``scope`` (the projection's name) keeps the watermarks of two projections that write the same
        document apart. Returns counts; raises only on infrastructure errors (which the consumer treats as
        transient).
        """
        routed = [it if isinstance(it, Routed) else Routed(it[0], it[1]) for it in items]
        result = ApplyResult()
        pending = routed
        rejected_ids: set[str] = set()
        journal_id: str | None = None
        journal_opened = False
        published: list[OutboxEntry] = []
        rounds = 0
        while pending:
            rounds += 1
            if rounds > MAX_CONFLICT_ROUNDS:
                raise RuntimeError(f"{self.name}: still conflicting after {MAX_CONFLICT_ROUNDS} rounds")
            if absent and rounds == 1:
                current = {it.doc_id: d for it in pending if (d := self._docs.get(it.doc_id)) is not None}
            else:
                current = await self._load((it.doc_id for it in pending), result)
            originals: dict[str, Doc | None] = {}
            working: dict[str, Doc | None] = {}
            by_doc: dict[str, list[Routed]] = {}
            applied: dict[str, list[Envelope[Any]]] = {}
            dups: dict[str, int] = {}
            emitted: dict[str, list[Envelope[Any]]] = {}
            new_rejections: list[tuple[Envelope[Any], Exception]] = []
            async for it in paced(pending):
                doc_id, event = it.doc_id, it.event
                by_doc.setdefault(doc_id, []).append(it)
                if doc_id not in working:
                    originals[doc_id] = working[doc_id] = current.get(doc_id)
                doc = working[doc_id]
                mark = self._mark(it, scope)
                if self._seen(doc, mark):
                    dups[doc_id] = dups.get(doc_id, 0) + 1
                    continue
                try:
                    decision = decide(doc, event)
                except Exception as exc:  # noqa: BLE001 - a domain rule or a bug: this event only, never the batch
                    if event.id not in rejected_ids:
                        rejected_ids.add(event.id)
                        new_rejections.append((event, exc))
                    continue
                applied.setdefault(doc_id, []).append(event)
                if decision.state is None:
                    continue
                envelopes = self._envelopes(decision, event)
                if envelopes and journal_id is None:
                    journal_id = self.journal.new_id() if self.journal is not None else ""
                working[doc_id] = self._next_doc(doc, doc_id, decision.state, mark, envelopes, journal_id)
                emitted.setdefault(doc_id, []).extend(envelopes)
            if new_rejections:
                result.rejected.extend(new_rejections)
                if before_write is not None:
                    await before_write(new_rejections)
            if emitted and not journal_opened and self.journal is not None and journal_id:
                await self.journal.open(journal_id, self.name, (it.doc_id for it in routed))
                journal_opened = True
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
                written = working[doc_id]
                if written is not originals[doc_id] and written is not None:
                    result.written_docs += 1
                    published.extend(e for e in written["_outbox"] if e.get("j") == journal_id and envs)
            result.conflicts += len(lost)
            pending = [it for doc_id in lost for it in by_doc[doc_id]]
        if journal_opened:
            self._hand_over(journal_id, published)
        return result

    def _hand_over(self, journal_id: str | None, entries: list[OutboxEntry]) -> None:
        """Tell the relay what an opened journal holds (nothing: it is retired at once)."""
        if journal_id and self._on_outbox is not None:
            self._on_outbox(journal_id, entries)

    async def _write(  # noqa: C901 - one bulk write and the classification of each of its outcomes
        self, originals: Mapping[str, Doc | None], working: Mapping[str, Doc | None]
    ) -> set[str]:
        """One unordered bulk write in chunks; returns the ids whose write lost a race."""
        ops: list[Any] = []
        op_ids: list[str] = []
        sizes: dict[str, int] = {}
        packed: dict[str, Doc] = {}
        async for doc_id, doc in paced(working.items()):
            original = originals[doc_id]
            if doc is original or doc is None:
                continue
            stored, sizes[doc_id] = pack_sized(doc)
            packed[doc_id] = stored
            if original is None:
                ops.append(InsertOne(stored))
            else:
                ops.append(ReplaceOne({"_id": doc_id, "_v": original["_v"]}, stored))
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
            now_docs = await self._read(replaced)
            for doc_id in replaced:
                found = now_docs.get(doc_id)
                doc = working[doc_id]
                assert doc is not None
                if found is None or found[0].get("_w") != doc["_w"]:
                    lost.add(doc_id)
        for doc_id in op_ids:
            if doc_id in lost:
                self.forget(doc_id)
            else:
                written = working[doc_id]
                assert written is not None
                self._docs.put(written, sizes[doc_id], packed[doc_id])
                self.writes += 1
                self.written_bytes += sizes[doc_id]
        return lost

    async def merge(
        self,
        changes: Mapping[str, Change],
        *,
        cause: Envelope[Any] | None = None,
        absent: bool = False,
        fresh: bool = False,
    ) -> Merged:
        """Apply one change to each of many documents: reads (or the cache), bulk writes in chunks, and
        one journal for all their events. A document whose write lost a race is read again and its change
        decided again. Changes must be idempotent by themselves (no dedup mark is kept): a re-import, a
        rollup recomputed from its sources. With ``absent`` the documents are expected not to exist yet
        (a new plan's): they are written without being read first, and any that exists is read then.
        With ``fresh`` they are read from the database, not the cache: for timers, whose decision is often
        to write nothing (no guard would catch a stale copy) and may follow another replica's write.
        Returns the documents as written (or as they were, unchanged)."""
        pending = dict(changes)
        out = Merged()
        journal_id: str | None = None
        journal_opened = False
        published: list[OutboxEntry] = []
        rounds = 0
        while pending:
            rounds += 1
            if rounds > MAX_CONFLICT_ROUNDS:
                raise RuntimeError(f"{self.name}: still conflicting after {MAX_CONFLICT_ROUNDS} rounds")
            if absent and rounds == 1:
                current = {}
            else:
                current = await self._load(pending, fresh=fresh and rounds == 1)
            originals: dict[str, Doc | None] = {}
            working: dict[str, Doc | None] = {}
            emitted: dict[str, list[Envelope[Any]]] = {}
            async for doc_id, change in paced(pending.items()):
                doc = originals[doc_id] = working[doc_id] = current.get(doc_id)
                decision = change(doc)
                if decision.state is None:
                    if doc is not None:
                        out.docs[doc_id] = doc
                    continue
                envelopes = emitted[doc_id] = self._envelopes(decision, cause)
                if envelopes and journal_id is None:
                    journal_id = self.journal.new_id() if self.journal is not None else ""
                working[doc_id] = self._next_doc(doc, doc_id, decision.state, None, envelopes, journal_id)
            if journal_id and not journal_opened and self.journal is not None:
                await self.journal.open(journal_id, self.name, changes)
                journal_opened = True
            lost = await self._write(originals, working)
            for doc_id, doc in working.items():
                if doc_id in lost or doc is None or doc is originals[doc_id]:
                    continue
                out.docs[doc_id] = doc
                out.written += 1
                out.emitted.extend(emitted.get(doc_id, ()))
                published.extend(e for e in doc["_outbox"] if journal_id and e.get("j") == journal_id)
            pending = {doc_id: pending[doc_id] for doc_id in lost}
        if journal_opened:
            self._hand_over(journal_id, published)
        return out

    async def mutate(
        self,
        doc_id: str,
        change: Change,
        *,
        idempotency_key: str | None = None,
        cause: Envelope[Any] | None = None,
    ) -> tuple[Doc | None, list[Envelope[Any]]]:
        """Apply a command (HTTP request, sweeper tick) to one document, retrying on conflicts.

        With an ``idempotency_key`` a command repeated within the last ``KEYS_WINDOW`` commands of this
        document is a no-op that returns the stored document (commands that must be idempotent beyond
        that window check the document's state, as every timer in Siaga does).
        Returns the document as stored and the envelopes emitted by this call.
        """
        journal_id: str | None = None
        for attempt in range(MAX_CONFLICT_ROUNDS):
            if attempt:
                self.forget(doc_id)
            current = (await self._load([doc_id])).get(doc_id)
            if idempotency_key and current is not None and idempotency_key in current.get("_keys", ()):
                return current, []
            decision = change(current)
            if decision.state is None:
                self._hand_over(journal_id, [])
                return current, []
            envelopes = self._envelopes(decision, cause)
            if envelopes and journal_id is None and self.journal is not None:
                journal_id = self.journal.new_id()
                await self.journal.open(journal_id, self.name, [doc_id])
            doc = self._next_doc(current, doc_id, decision.state, idempotency_key, envelopes, journal_id)
            stored, size = pack_sized(doc)
            try:
                if current is None:
                    await self.collection.insert_one(stored)
                else:
                    res = await self.collection.replace_one({"_id": doc_id, "_v": current["_v"]}, stored)
                    if res.matched_count == 0:
                        continue
            except DuplicateKeyError:
                continue
            self._docs.put(doc, size, stored)
            self.writes += 1
            self.written_bytes += size
            self._hand_over(journal_id, [e for e in doc["_outbox"] if e.get("j") == journal_id])
            return doc, envelopes
        raise RuntimeError(f"{self.name}/{doc_id}: still conflicting after {MAX_CONFLICT_ROUNDS} attempts")
