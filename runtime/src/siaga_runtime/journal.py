"""The outbox journal: which documents hold events still to be published, without scanning or rewriting them.

An event is saved in the same document write as the state change that caused it (the outbox entries of an
aggregate document, ``_outbox``), so a state change and its events are durable together. What the journal
adds is how the relay finds those entries and how they leave the document again, both without a query on a
field (FerretDB 1.x answers every filter other than ``{_id: value}`` by decoding the whole collection) and
without a second write of the document per event:

- Before a store writes documents with new entries, it inserts one small journal record ``{_id: J, c:
  collection, ids}`` naming them (one record per ``apply`` or ``mutate`` call, not per event), and tags the
  new entries with ``J``. A crash after the journal insert and before the document writes leaves a record
  that names documents without ``J``'s entries: harmless.
- The relay publishes ``J``'s entries (told in memory by the store, or, after a crash, by reading the
  documents the record names) and then deletes the record. ``J`` is then *retired*.
- Entries of a retired journal are dropped by the next write of their document, which happens anyway. A
  document that is never written again keeps its last published entries, bounded by what one write emits.

Whether a journal is retired is known without a query for the journals this process opened and retired;
for any other (a previous run's, another replica's) the store reads the journal record by ``_id``: absent
means retired, and that answer is final, so it is remembered.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FunctionType, MethodType
from typing import Any

import uuid_utils

__all__ = ["JournalRecord", "OutboxJournal"]

# Journal records whose answer "retired" is remembered; older answers are read again if ever needed.
REMEMBER_RETIRED = 200_000
RECORD_IDS_SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class JournalRecord:
    journal_id: str
    collection: str
    doc_ids: tuple[str, ...]

    @property
    def created_at(self) -> datetime:
        """When the record was made (journal ids are UUIDv7: time-ordered)."""
        millis = uuid_utils.UUID(self.journal_id).timestamp
        return datetime.fromtimestamp(millis / 1000, tz=UTC)


class OutboxJournal:
    """The journal records of one database, shared by the stores and the outbox relay of a service."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self._open: set[str] = set()
        self._retired: OrderedDict[str, None] = OrderedDict()
        # Per journal still open here: the ids of its entries the broker has acknowledged already. A
        # journal of a 20,000-record batch is published in slices over seconds, and every document written
        # meanwhile would otherwise carry its published entries until the whole journal is out.
        self._published: dict[str, set[str]] = {}

    @property
    def collection(self) -> Any:
        c = self._collection
        return c() if isinstance(c, FunctionType | MethodType) else c

    # -- the store's side -----------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid_utils.uuid7())

    async def open(self, journal_id: str, collection: str, doc_ids: Iterable[str]) -> None:
        """Record, before the documents are written, that they may hold ``journal_id``'s entries."""
        ids = RECORD_IDS_SEPARATOR.join(dict.fromkeys(doc_ids))
        self._open.add(journal_id)
        await self.collection.insert_one({"_id": journal_id, "c": collection, "ids": ids})

    def known_retired(self, journal_id: str) -> bool | None:
        """True: retired; False: open (this process's); None: not known here (ask ``resolve``)."""
        if journal_id in self._open:
            return False
        if journal_id in self._retired:
            return True
        return None

    def is_published(self, journal_id: str, entry_id: str) -> bool:
        """Whether this process has seen the broker acknowledge entry ``entry_id`` of ``journal_id``."""
        if journal_id in self._retired:
            return True
        published = self._published.get(journal_id)
        return published is not None and entry_id in published

    async def resolve(self, journal_ids: Iterable[str]) -> None:
        """Find out which of these journals (not this process's) are retired, by point reads."""
        unknown = [j for j in dict.fromkeys(journal_ids) if self.known_retired(j) is None]
        if not unknown:
            return
        gate = asyncio.Semaphore(16)
        coll = self.collection

        async def exists(journal_id: str) -> bool:
            async with gate:
                return await coll.find_one({"_id": journal_id}, {"_id": 1}) is not None

        for journal_id, present in zip(
            unknown, await asyncio.gather(*(exists(j) for j in unknown)), strict=True
        ):
            if not present:
                self._remember_retired(journal_id)

    # -- the relay's side ------------------------------------------------------------------------------

    def mark_published(self, journal_id: str, entry_ids: Iterable[str]) -> None:
        """The broker acknowledged these entries of an open journal: a document written from now on need
        not carry them (recovery after a crash then finds only what was not out)."""
        if journal_id in self._retired:
            return
        self._published.setdefault(journal_id, set()).update(entry_ids)

    async def retire(self, journal_ids: Sequence[str]) -> None:
        """Delete the records of journals whose entries are all published."""
        if not journal_ids:
            return
        await self.collection.delete_many({"_id": {"$in": list(journal_ids)}})
        for journal_id in journal_ids:
            self._open.discard(journal_id)
            self._published.pop(journal_id, None)
            self._remember_retired(journal_id)

    def forget_open(self, journal_id: str) -> None:
        """A journal whose documents were never written (the write failed): nothing of it to publish."""
        self._open.discard(journal_id)

    async def stale(self, older_than: timedelta, now: datetime) -> list[JournalRecord]:
        """Records older than ``older_than``: what a crashed process (or a stuck relay) left behind.

        This reads the whole journal collection, which holds only the records not yet retired."""
        out: list[JournalRecord] = []
        async for d in self.collection.find({}):
            record = JournalRecord(
                journal_id=str(d["_id"]),
                collection=str(d.get("c", "")),
                doc_ids=tuple(i for i in str(d.get("ids", "")).split(RECORD_IDS_SEPARATOR) if i),
            )
            if record.journal_id in self._open:
                continue  # this process's own, still on its way
            if now - record.created_at >= older_than:
                out.append(record)
        return sorted(out, key=lambda r: r.journal_id)

    def _remember_retired(self, journal_id: str) -> None:
        self._retired[journal_id] = None
        self._retired.move_to_end(journal_id)
        if len(self._retired) > REMEMBER_RETIRED:
            self._retired.popitem(last=False)
