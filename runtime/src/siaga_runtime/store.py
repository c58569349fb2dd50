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

How a batch of events is applied is described in ``batch_writes``, and why consumed records are
deduplicated by offset in ``next_doc``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from types import FunctionType, MethodType
from typing import Any

from pymongo.errors import DuplicateKeyError
from siaga_schemas import AnyEnvelope
from siaga_schemas.decision import Decision, Doc

from .batch_writes import BULK_CHUNK, MAX_CONFLICT_ROUNDS, BatchWrites, paced
from .clock import Clock, SystemClock
from .doccache import DocCache
from .journal import OutboxJournal
from .next_doc import KEYS_WINDOW
from .outbox_entry import OutboxEntry
from .packing import pack_sized, unpack, unpack_sized
from .records import ApplyResult, Change, Merged, OutboxListener

__all__ = ["BULK_CHUNK", "KEYS_WINDOW", "AggregateStore", "Decision", "Doc"]

log = logging.getLogger(__name__)

# Concurrent single-document reads used by ``load_many``. A ``{_id: {$in: [...]}}`` query is one round trip
# on MongoDB, but FerretDB 1.x pushes down only a bare ``{_id: value}`` filter and answers ``$in`` by decoding
# every document of the collection (793 ms for 50 ids at 4,730 documents, measured); indexed point reads
# cost well under a millisecond each on both servers.
LOAD_CONCURRENCY = 32


class AggregateStore(BatchWrites):
    """Load-decide-save over one collection, with per-document dedup marks and outbox."""

    def __init__(
        self,
        collection: Any,
        *,
        source: str,
        schema_base: str | None = None,
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
        self.schema_base = schema_base
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

    # -- the write path (``apply`` and the bulk write it shares: ``batch_writes``) ----------------------

    async def merge(
        self,
        changes: Mapping[str, Change],
        *,
        cause: AnyEnvelope | None = None,
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
            emitted: dict[str, list[AnyEnvelope]] = {}
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
        cause: AnyEnvelope | None = None,
    ) -> tuple[Doc | None, list[AnyEnvelope]]:
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
