"""Durable timers that are found by point reads: a due index in time buckets.

A sweep that asks "which documents are due?" with a query on a time field reads the whole collection on
FerretDB 1.x (it pushes down only ``{_id: value}``), and on any server it grows with the number of open
documents rather than with the number due. The due index keeps one document per time bucket (``_id`` is the
bucket's start, e.g. ``t:2024-11-26T08:15:00Z``) listing the ids due in it, plus one cursor document (``_id``
``cursor``) listing the buckets not yet swept (``pending``). A sweep reads the cursor, then each elapsed
pending bucket by ``_id``: its cost is the number of due buckets and ids, however far the clock jumped.

Guarantees, with several replicas and across restarts:

- ``schedule`` adds the ids to the bucket (bumping the bucket's version ``_v`` and marking it unswept),
  then lists the bucket in the cursor's ``pending``.
- ``sweep`` hands a bucket's ids over, then marks the bucket swept under its version guard: a schedule into
  that bucket meanwhile makes the guard fail and the bucket stays pending. Only buckets marked swept leave
  ``pending``, and after that removal the sweep looks at them once more and lists again any that a racing
  schedule reopened. No version is shared between buckets, so a steady stream of schedules never makes a
  sweep fail (no livelock under load).
- A crash between a schedule's two writes leaves ids in an unlisted bucket; every scheduler in Siaga is
  replayed after a crash (a consumer batch is redelivered until committed; API writes are also scheduled
  by the projection of the events they emit), which lists it again.
- A timer may fire more than once (a retried sweep, two replicas), up to one bucket early (the bucket that
  is still filling is read too, so work due now never waits for the bucket to close) and up to ``grace``
  plus one sweep interval late. Callers make the effect idempotent (``AggregateStore.mutate`` with a
  deterministic key) and check the document's current state: a timer that fired early is scheduled again
  for its exact time, and an outdated one (the ETA moved) is a no-op.

Swept buckets are kept for ``retention`` (default: 1,000 buckets; listed in ``done``), then deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from types import FunctionType, MethodType
from typing import Any

from siaga_schemas import Envelope

from .clock import Clock, SystemClock
from .store import ApplyResult

__all__ = ["DueIndex", "TimerRoute"]

log = logging.getLogger(__name__)

CURSOR = "cursor"
# (event) -> [(document id, due time)] the event asks for; an empty list ignores it.
TimerRoute = Callable[[Envelope[Any]], Sequence[tuple[str, datetime]]]


class DueIndex:
    """Timers over one collection of bucket documents (see the module docstring)."""

    def __init__(
        self,
        collection: Any,
        *,
        bucket: timedelta = timedelta(seconds=30),
        grace: timedelta | None = None,
        retention: timedelta | None = None,
        clock: Clock | None = None,
        max_buckets_per_sweep: int = 500,
    ) -> None:
        if bucket <= timedelta(0):
            raise ValueError("the bucket size must be positive")
        self._collection = collection
        self.bucket = bucket
        self.grace = timedelta(0) if grace is None else grace
        # the ``done`` list holds at most retention / bucket entries
        self.retention = bucket * 1000 if retention is None else retention
        self.clock = clock or SystemClock()
        self.max_buckets_per_sweep = max_buckets_per_sweep

    @property
    def collection(self) -> Any:
        c = self._collection
        return c() if isinstance(c, FunctionType | MethodType) else c

    @cached_property
    def _epoch(self) -> datetime:
        return datetime(2000, 1, 1, tzinfo=UTC)

    def bucket_start(self, at: datetime) -> datetime:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        n = (at.astimezone(UTC) - self._epoch) // self.bucket
        return self._epoch + n * self.bucket

    @staticmethod
    def bucket_id(start: datetime) -> str:
        return "t:" + start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- scheduling ---------------------------------------------------------------------------------

    async def schedule(self, timers: Iterable[tuple[str, datetime]]) -> int:
        """Make each ``(doc_id, at)`` due at ``at`` (a time in the past is due at the next sweep)."""
        by_bucket: dict[datetime, set[str]] = {}
        now_bucket = self.bucket_start(self.clock.now())
        for doc_id, at in timers:
            by_bucket.setdefault(max(self.bucket_start(at), now_bucket), set()).add(doc_id)
        if not by_bucket:
            return 0
        coll = self.collection
        for start, ids in sorted(by_bucket.items()):
            await coll.update_one(
                {"_id": self.bucket_id(start)},
                {
                    "$addToSet": {"ids": {"$each": sorted(ids)}},
                    "$set": {"at": start, "swept": False},
                    "$inc": {"_v": 1},
                },
                upsert=True,
            )
        await coll.update_one(
            {"_id": CURSOR}, {"$addToSet": {"pending": {"$each": sorted(by_bucket)}}}, upsert=True
        )
        return sum(len(ids) for ids in by_bucket.values())

    async def apply(self, items: Sequence[tuple[str, Envelope[Any]]], when: TimerRoute) -> ApplyResult:
        """Projection entry point (``Projection(name, due_index, route, when)``): schedule what events ask.

        ``items`` pair each event with the id its route returned; ``when`` gives the timers it asks for.
        Scheduling is idempotent, so a redelivered event only re-adds ids already present.
        """
        result = ApplyResult()
        timers: list[tuple[str, datetime]] = []
        for _, event in items:
            try:
                asked = when(event)
            except Exception as exc:  # a bug or a bad payload: this event only
                result.rejected.append((event, exc))
                continue
            timers.extend(asked)
            result.applied += 1
            result.applied_types[event.type] += 1
        await self.schedule(timers)
        return result

    # -- sweeping -----------------------------------------------------------------------------------

    async def sweep(self, handle: Callable[[list[str]], Awaitable[None]]) -> int:
        """Hand the ids of every elapsed bucket to ``handle`` (in bucket order), then mark them swept.

        ``handle`` raising leaves the buckets pending: they are read again next time.
        Returns how many ids were handed over.
        """
        coll = self.collection
        cursor = await coll.find_one({"_id": CURSOR})
        if cursor is None:
            return 0
        limit = self.clock.now() - self.grace
        due = sorted(_aware(s) for s in cursor.get("pending", ()) if _aware(s) <= limit)
        due = due[: self.max_buckets_per_sweep]
        handed = 0
        swept: list[datetime] = []
        for start in due:
            doc = await coll.find_one({"_id": self.bucket_id(start)})
            if doc is None or doc.get("swept"):
                swept.append(start)
                continue
            ids = list(doc.get("ids", ()))
            if ids:
                await handle(ids)
                handed += len(ids)
            marked = await coll.update_one(
                {"_id": doc["_id"], "_v": doc["_v"]}, {"$set": {"swept": True}, "$inc": {"_v": 1}}
            )
            if marked.matched_count:
                swept.append(start)
        if not swept:
            return handed
        await coll.update_one(
            {"_id": CURSOR}, {"$pullAll": {"pending": swept}, "$addToSet": {"done": {"$each": swept}}}
        )
        reopened = []
        for start in swept:
            doc = await coll.find_one({"_id": self.bucket_id(start)}, {"swept": 1})
            if doc is not None and not doc.get("swept"):
                reopened.append(start)
        if reopened:
            await coll.update_one({"_id": CURSOR}, {"$addToSet": {"pending": {"$each": reopened}}})
        await self._forget(cursor, limit - self.retention)
        return handed

    async def _forget(self, cursor: dict[str, Any], before: datetime) -> None:
        """Delete buckets swept before ``before`` (a schedule never targets a bucket that old)."""
        pending = {_aware(s) for s in cursor.get("pending", ())}
        old = [s for s in (_aware(x) for x in cursor.get("done", ())) if s < before and s not in pending]
        if not old:
            return
        coll = self.collection
        for start in old:
            await coll.delete_one({"_id": self.bucket_id(start)})
        await coll.update_one({"_id": CURSOR}, {"$pullAll": {"done": old}})


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
