"""One event waiting in an aggregate document's outbox."""

from __future__ import annotations

from typing import TypedDict

from siaga_schemas import AnyEnvelope

__all__ = ["OutboxEntry", "entry_for"]


class OutboxEntry(TypedDict):
    id: str
    topic: str
    key: str
    value: str
    type: str
    j: str  # the journal that names the document (siaga_runtime.journal)


def entry_for(envelope: AnyEnvelope, journal_id: str) -> OutboxEntry:
    return OutboxEntry(
        id=envelope.id,
        topic=envelope.data.topic,
        key=envelope.partitionkey,
        value=envelope.to_bytes().decode(),
        type=envelope.type,
        j=journal_id,
    )
