"""The batch write path of ``AggregateStore`` (in ``store``), which takes it from ``BatchWrites``: the
load-decide-write loop of ``apply`` and the unordered bulk write in chunks with the classification of its
outcomes. The next version of each document, with its dedup mark and outbox, comes from ``next_doc``, which
also says why consumed records are deduplicated by offset.

A consumer applies a whole batch with point reads (or none: the write-through cache holds the documents
this process wrote or read last) and one unordered bulk write in chunks; a document whose version moved
meanwhile (another replica, a sweeper, an API call) is read again and its events are decided again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError
from siaga_schemas import AnyEnvelope
from siaga_schemas.decision import Doc

from .doccache import DocCache
from .next_doc import DocumentVersions, mark_of, seen
from .outbox_entry import OutboxEntry
from .packing import pack_sized
from .records import ApplyResult, BeforeWrite, Decide, OutboxListener, Routed

__all__ = [
    "BULK_CHUNK",
    "DOCS_PER_ROUND",
    "MAX_CONFLICT_ROUNDS",
    "YIELD_EVERY",
    "BatchWrites",
    "paced",
]

MAX_CONFLICT_ROUNDS = 50
# FerretDB v1.24 stops answering an ``update`` command that carries 100 or more statements (measured here:
# 99 returns in ~0.13 s, 100 never returns), so bulk writes are sent in chunks well below that.
BULK_CHUNK = 50
# A batch of thousands of events is decided and encoded in one go; every so many the store lets the event
# loop run the other tasks (the outbox relay, HTTP, /metrics, timers), or they would wait for the batch.
YIELD_EVERY = 200
# Documents decided and written together by one ``apply`` round: bounds the decoded copies a batch holds
# (a desa chunk is 25-35 KB of BSON, about 5.5 times that decoded, held as read and as decided).
DOCS_PER_ROUND = 500

T = TypeVar("T")


async def paced(items: Iterable[T]) -> AsyncIterator[T]:
    """``items``, letting the event loop run other tasks every ``YIELD_EVERY`` of them."""
    for i, item in enumerate(items):
        if i and not i % YIELD_EVERY:
            await asyncio.sleep(0)
        yield item


class BatchWrites(DocumentVersions):
    """Applying batches of events and writing documents in bulk (an ``AggregateStore`` part)."""

    _on_outbox: OutboxListener | None
    _docs: DocCache
    writes: int
    written_bytes: int

    if TYPE_CHECKING:
        # provided by ``AggregateStore``

        @property
        def collection(self) -> Any: ...

        @property
        def name(self) -> str: ...

        async def _read(self, ids: Sequence[str]) -> dict[str, tuple[Doc, int, Doc]]: ...

        async def _load(
            self, ids: Iterable[str], result: ApplyResult | None = None, *, fresh: bool = False
        ) -> dict[str, Doc]: ...

        def forget(self, doc_id: str) -> None: ...

    async def apply(
        self,
        items: Sequence[Routed | tuple[str, AnyEnvelope]],
        decide: Decide,
        *,
        scope: str = "",
        before_write: BeforeWrite | None = None,
        absent: bool = False,
    ) -> ApplyResult:
        """Apply events in order: per document, events keep their sequence; one write per document.

        The documents are taken ``DOCS_PER_ROUND`` at a time (each with all its events), so a batch of
        20,000 records holds the decoded copies of at most that many documents at once, not of all it
        touches. See ``_apply_docs`` for ``absent`` and ``scope``."""
        routed = [it if isinstance(it, Routed) else Routed(it[0], it[1]) for it in items]
        by_doc: dict[str, list[Routed]] = {}
        for it in routed:
            by_doc.setdefault(it.doc_id, []).append(it)
        if len(by_doc) <= DOCS_PER_ROUND:
            return await self._apply_docs(
                routed, decide, scope=scope, before_write=before_write, absent=absent
            )
        result = ApplyResult()
        doc_ids = list(by_doc)
        for start in range(0, len(doc_ids), DOCS_PER_ROUND):
            part = [it for doc_id in doc_ids[start : start + DOCS_PER_ROUND] for it in by_doc[doc_id]]
            result.add(
                await self._apply_docs(part, decide, scope=scope, before_write=before_write, absent=absent)
            )
        return result

    async def _apply_docs(  # noqa: C901 - the load-decide-write loop of one batch, whose invariants hold across its rounds
        self,
        routed: Sequence[Routed],
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
        result = ApplyResult()
        pending = list(routed)
        rejected_ids: set[str] = set()
        # documents decided again on a fresh read: a cached copy rejected an event or changed nothing, and
        # another instance may have written the document since (a partition that moved, an API call)
        rechecked: set[str] = set()
        journal_id: str | None = None
        journal_opened = False
        published: list[OutboxEntry] = []
        rounds = 0
        while pending:
            rounds += 1
            if rounds > MAX_CONFLICT_ROUNDS:
                raise RuntimeError(f"{self.name}: still conflicting after {MAX_CONFLICT_ROUNDS} rounds")
            cached = {it.doc_id for it in pending if it.doc_id in self._docs}
            if absent and rounds == 1:
                current = {it.doc_id: d for it in pending if (d := self._docs.get(it.doc_id)) is not None}
            else:
                current = await self._load((it.doc_id for it in pending), result)
            originals: dict[str, Doc | None] = {}
            working: dict[str, Doc | None] = {}
            by_doc: dict[str, list[Routed]] = {}
            applied: dict[str, list[AnyEnvelope]] = {}
            dups: dict[str, int] = {}
            emitted: dict[str, list[AnyEnvelope]] = {}
            new_rejections: list[tuple[str, AnyEnvelope, Exception]] = []
            async for it in paced(pending):
                doc_id, event = it.doc_id, it.event
                by_doc.setdefault(doc_id, []).append(it)
                if doc_id not in working:
                    originals[doc_id] = working[doc_id] = current.get(doc_id)
                doc = working[doc_id]
                mark = mark_of(it, scope)
                if seen(doc, mark):
                    dups[doc_id] = dups.get(doc_id, 0) + 1
                    continue
                try:
                    decision = decide(doc, event)
                except Exception as exc:  # noqa: BLE001 - a domain rule or a bug: this event only, never the batch
                    if event.id not in rejected_ids:
                        new_rejections.append((doc_id, event, exc))
                    continue
                applied.setdefault(doc_id, []).append(event)
                if decision.state is None:
                    continue
                envelopes = self._envelopes(decision, event)
                if envelopes and journal_id is None:
                    journal_id = self.journal.new_id() if self.journal is not None else ""
                working[doc_id] = self._next_doc(doc, doc_id, decision.state, mark, envelopes, journal_id)
                emitted.setdefault(doc_id, []).extend(envelopes)
            doubtful = {
                doc_id
                for doc_id in working
                if doc_id in cached
                and doc_id not in rechecked
                and (
                    (doc_id in applied and working[doc_id] is originals[doc_id])  # decided: no change
                    or any(r[0] == doc_id for r in new_rejections)
                )
            }
            for doc_id in doubtful:  # read again and decided again next round; nothing written now
                self.forget(doc_id)
                working[doc_id] = originals[doc_id]
                emitted.pop(doc_id, None)
            rechecked |= doubtful
            rejections = [(ev, exc) for doc_id, ev, exc in new_rejections if doc_id not in doubtful]
            if rejections:
                rejected_ids.update(ev.id for ev, _ in rejections)
                result.rejected.extend(rejections)
                if before_write is not None:
                    await before_write(rejections)
            if emitted and not journal_opened and self.journal is not None and journal_id:
                await self.journal.open(journal_id, self.name, (it.doc_id for it in routed))
                journal_opened = True
            lost = await self._write(originals, working)
            for doc_id in working:
                if doc_id in lost or doc_id in doubtful:
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
            pending = [it for doc_id in lost | doubtful for it in by_doc[doc_id]]
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
