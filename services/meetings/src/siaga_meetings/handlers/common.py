"""What every handler shares: the stores, bounded concurrency, and model ↔ document conversion."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from typing import TypeVar

from pydantic import BaseModel
from siaga_runtime import Decision, Doc
from siaga_schemas import EventData
from siaga_schemas.errors import DomainError, ErrorKind

from ..repository import Stores

__all__ = ["Stores", "decision", "dump", "emit_once", "gather_bounded", "require"]

T = TypeVar("T")


def dump(model: BaseModel) -> Doc:
    """A model as a stored document: JSON types only (times as RFC 3339 text with their offset)."""
    return model.model_dump(mode="json")


def decision(state: BaseModel, emit: Sequence[EventData] = ()) -> Decision:
    return Decision(state=dump(state), emit=list(emit))


def require(doc: Doc | None, field: str, what: str) -> Doc:
    if doc is None:
        raise DomainError(field, f"{what} does not exist", ErrorKind.NOT_FOUND)
    return doc


async def gather_bounded(tasks: Iterable[Awaitable[T]], limit: int = 16) -> list[T]:
    sem = asyncio.Semaphore(limit)

    async def run(task: Awaitable[T]) -> T:
        async with sem:
            return await task

    return list(await asyncio.gather(*(run(t) for t in tasks)))


async def emit_once(stores: Stores, fact_id: str, event: EventData) -> bool:
    """Publish ``event`` exactly once for ``fact_id``, however many replicas or sweeps try.

    The fact is a document of its own, created by an insert: the unique ``_id`` makes exactly one insert win
    (a version-guarded replace is not atomic on FerretDB, an insert is). Returns whether this call won.
    """
    state = {
        "fact": event.event_type,
        "subject": event.partition_key(),
        "event": event.model_dump(mode="json"),
    }

    def change(doc: Doc | None) -> Decision:
        return Decision(state=state, emit=[event]) if doc is None else Decision(state=None)

    _, emitted = await stores.facts.mutate(fact_id, change)
    return bool(emitted)
