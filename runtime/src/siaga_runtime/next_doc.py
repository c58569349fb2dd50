"""The next version of an aggregate document: its new state, the dedup mark of what caused it, and its
outbox (an ``AggregateStore`` part, shared by the batch path in ``batch_writes`` and the single writes in
``store``).

Why offsets and not a list of event ids: a consumed record can come again only as itself (same topic,
partition and offset): after a crash before its offsets were committed, after a rebalance, or after a
reset of the group's offsets. Within a partition records are applied in order, so "the record's offset is
at most the watermark this document holds for its partition" is exact however many events came in
between, and costs one number per partition instead of a list that grows with the events. An event that
was *published* twice (the outbox relay after a crash, an agency re-sending) arrives as a new record; the
services' decisions make such a copy a no-op themselves (a shipment already dispatched, a TPS already
counted, a signal older than the alert's last one), which the service tests check event by event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from siaga_schemas import AnyEnvelope, Envelope, new_event_id
from siaga_schemas.decision import Decision, Doc

from .clock import Clock
from .journal import OutboxJournal
from .outbox_entry import OutboxEntry, entry_for
from .records import RESERVED, Routed

__all__ = ["KEYS_WINDOW", "DocumentVersions", "Mark", "mark_of", "seen"]

# Idempotency keys of commands (and of events applied without a record position) a document remembers.
KEYS_WINDOW = 64

Mark = tuple[str, int] | str
"""What an applied event leaves on a document: ``(projection|topic|partition, offset)`` for a consumed
record, or an id (an event's, a command's idempotency key) for one without a record position."""


def mark_of(item: Routed, scope: str) -> Mark:
    """The dedup mark ``item`` leaves on its document when ``scope`` (a projection) applies it."""
    pos = item.position
    if pos is None:
        return item.event.id
    return (f"{scope}|{pos.topic}|{pos.partition}", pos.offset)


def seen(doc: Doc | None, mark: Mark) -> bool:
    """Whether ``doc`` already holds what ``mark`` stands for (its offset is at most the watermark)."""
    if doc is None:
        return False
    if isinstance(mark, tuple):
        scope, offset = mark
        applied: int = doc.get("_wm", {}).get(scope, -1)
        return offset <= applied
    return mark in doc.get("_keys", ())


class DocumentVersions:
    """Building the next version of a document and the envelopes it publishes (an ``AggregateStore`` part)."""

    source: str
    schema_base: str | None
    clock: Clock
    journal: OutboxJournal | None

    def _envelopes(self, decision: Decision, cause: AnyEnvelope | None) -> list[AnyEnvelope]:
        out: list[AnyEnvelope] = []
        for item in decision.emit:
            if isinstance(item, Envelope):
                out.append(item)
            else:
                out.append(
                    Envelope.wrap(
                        item,
                        source=self.source,
                        schema_base=self.schema_base,
                        time=self.clock.now(),
                        correlation_id=(cause.correlationid or cause.id) if cause else None,
                        causation_id=cause.id if cause else None,
                    )
                )
        return out

    def _kept_entries(self, current: Doc | None) -> list[OutboxEntry]:
        """The current document's entries that are not published yet (or not known to be): those of a
        retired journal, and those the broker acknowledged from a journal still being published, go."""
        entries: list[OutboxEntry] = list(current.get("_outbox", ())) if current else []
        if not entries or self.journal is None:
            return entries
        return [e for e in entries if not self.journal.is_published(e.get("j", ""), e["id"])]

    def _next_doc(
        self,
        current: Doc | None,
        doc_id: str,
        state: Mapping[str, Any],
        mark: Mark | None,
        envelopes: list[AnyEnvelope],
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
