"""What goes in and out of a store: events routed to documents, the results of applying and merging, the
callables a store is given, and the reserved fields of a stored document."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from siaga_schemas import AnyEnvelope
from siaga_schemas.decision import Change, Decide, Doc

from .outbox_entry import OutboxEntry

__all__ = [
    "RESERVED",
    "ApplyResult",
    "BeforeWrite",
    "Change",
    "Decide",
    "Merged",
    "OutboxListener",
    "Position",
    "Routed",
    "as_utc",
    "strip_reserved",
]

# The store's own fields beside a service's state (see ``store``).
RESERVED = ("_id", "_v", "_w", "_wm", "_keys", "_outbox", "_updated_at")


@dataclass(frozen=True, slots=True)
class Position:
    """Where a consumed record came from: what makes a redelivery recognisable."""

    topic: str
    partition: int
    offset: int


class Routed(NamedTuple):
    """One event for one document: the unit a projection hands to a store."""

    doc_id: str
    event: AnyEnvelope
    position: Position | None = None


@dataclass(slots=True)
class Merged:
    """What ``AggregateStore.merge`` wrote: the documents (as written, or as they were when unchanged) and
    the events their changes emitted."""

    docs: dict[str, Doc] = field(default_factory=dict)
    emitted: list[AnyEnvelope] = field(default_factory=list)
    written: int = 0


@dataclass(slots=True)
class ApplyResult:
    applied: int = 0
    duplicates: int = 0
    conflicts: int = 0
    emitted: int = 0
    written_docs: int = 0
    reads: int = 0
    emitted_envelopes: list[AnyEnvelope] = field(default_factory=list)
    rejected: list[tuple[AnyEnvelope, Exception]] = field(default_factory=list)
    applied_types: Counter[str] = field(default_factory=Counter)

    def add(self, other: ApplyResult) -> None:
        """Count ``other`` (a later part of the same batch) in."""
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        self.emitted += other.emitted
        self.written_docs += other.written_docs
        self.reads += other.reads
        self.emitted_envelopes.extend(other.emitted_envelopes)
        self.rejected.extend(other.rejected)
        self.applied_types.update(other.applied_types)


# ``Decide`` (a reducer: (document, event) -> decision) and ``Change`` (one change of one document) are
# the contracts' (``siaga_schemas.decision``), generic in the document and event types; re-exported here.
# Told, once a journal's documents are written, which entries it holds (in write order).
OutboxListener = Callable[[str, Sequence[OutboxEntry]], None]
# Called with the events a batch rejected before that batch is written (their dead letters go first).
BeforeWrite = Callable[[Sequence[tuple[AnyEnvelope, Exception]]], Awaitable[None]]


def strip_reserved(doc: Mapping[str, Any]) -> Doc:
    """The service's own fields of a stored document (for API responses)."""
    return {k: v for k, v in doc.items() if k not in RESERVED or k == "_id"}


def as_utc(value: datetime) -> datetime:
    """Make a datetime read from MongoDB aware (the runtime's client is tz-aware; this is for others)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
