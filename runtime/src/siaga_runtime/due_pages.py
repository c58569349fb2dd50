"""The documents of the due index and the scheduling into them (how they are swept: ``timers``).

Timer ids go into **pages** of at most ``page_size`` ids per time bucket, counted by a **bucket** header,
listed in an **hour** document and the hour in the **cursor**; ``DuePages`` holds their layout (ids and
time buckets) and writes ids into them in that order (see the ``timers`` module docstring for why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import FunctionType, MethodType
from typing import Any

from pymongo.errors import DuplicateKeyError
from siaga_schemas import AnyEnvelope

from .clock import Clock, SystemClock
from .records import ApplyResult, BeforeWrite, Routed

__all__ = ["CURSOR", "HOUR", "DuePages", "TimerRoute", "as_aware"]

CURSOR = "cursor"
PAGE_SIZE = 500
# Buckets whose last page (and the ids in it) this process remembers, to schedule into them without reading.
MEMORY_BUCKETS = 20_000
HOUR = timedelta(hours=1)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# (event) -> [(document id, due time)] the event asks for; an empty list ignores it.
TimerRoute = Callable[[AnyEnvelope], Sequence[tuple[str, datetime]]]


def as_aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DuePages:
    """The page, bucket, hour and cursor documents of a due index, and scheduling into them; ``DueIndex``
    (in ``timers``) adds the sweep."""

    def __init__(
        self,
        collection: Any,
        *,
        bucket: timedelta = timedelta(seconds=30),
        grace: timedelta | None = None,
        retention: timedelta | None = None,
        clock: Clock | None = None,
        max_buckets_per_sweep: int = 500,
        page_size: int = PAGE_SIZE,
    ) -> None:
        if bucket <= timedelta(0) or HOUR % bucket:
            raise ValueError("the bucket size must be positive and divide an hour")
        self._collection = collection
        self.bucket = bucket
        self.grace = timedelta(0) if grace is None else grace
        self.retention = bucket * 1000 if retention is None else retention
        self.clock = clock or SystemClock()
        self.max_buckets_per_sweep = max_buckets_per_sweep
        self.page_size = page_size
        # For buckets no sweep can have reached yet (see ``schedule``): the ids known to be in their
        # unswept pages, and their last page as this process last wrote or read it.
        self._known: dict[datetime, set[str]] = {}
        self._pages: dict[datetime, tuple[int, dict[str, Any]]] = {}

    @property
    def collection(self) -> Any:
        c = self._collection
        return c() if isinstance(c, FunctionType | MethodType) else c

    def bucket_start(self, at: datetime) -> datetime:
        n = (as_aware(at).astimezone(UTC) - EPOCH) // self.bucket
        return EPOCH + n * self.bucket

    @staticmethod
    def hour_start(at: datetime) -> datetime:
        return as_aware(at).astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    @staticmethod
    def bucket_id(start: datetime) -> str:
        return "t:" + _stamp(start)

    def page_id(self, start: datetime, k: int) -> str:
        return f"{self.bucket_id(start)}#{k}"

    @staticmethod
    def hour_id(hour: datetime) -> str:
        return "h:" + _stamp(hour)

    # -- scheduling ---------------------------------------------------------------------------------

    async def schedule(self, timers: Iterable[tuple[str, datetime]]) -> int:
        """Make each ``(doc_id, at)`` due at ``at`` (a time in the past is due at the next sweep)."""
        by_bucket: dict[datetime, set[str]] = {}
        now = self.clock.now()
        last_closed = self.bucket_start(now) - self.bucket
        for doc_id, at in timers:
            # due already (even within the bucket still open): the last closed one, swept next time
            start = last_closed if at <= now else self.bucket_start(at)
            by_bucket.setdefault(start, set()).add(doc_id)
        if not by_bucket:
            return 0
        horizon = now + 2 * self.bucket  # no sweep has handed over a bucket that starts after this
        self._forget_known(horizon)
        relist: list[datetime] = []
        for start, ids in sorted(by_bucket.items()):
            known = self._known.get(start) if start > horizon else None
            todo = sorted(ids - known) if known else sorted(ids)
            if todo and await self._add(start, todo, remember=start > horizon):
                relist.append(start)
        if relist:
            await self._list(relist)
        return sum(len(ids) for ids in by_bucket.values())

    async def _list(self, starts: list[datetime]) -> None:
        """List buckets in their hours and the hours in the cursor (after their ids are in pages)."""
        coll = self.collection
        by_hour: dict[datetime, list[datetime]] = {}
        for start in sorted(starts):
            by_hour.setdefault(self.hour_start(start), []).append(start)
        for hour, in_hour in sorted(by_hour.items()):
            await coll.update_one(
                {"_id": self.hour_id(hour)},
                {"$addToSet": {"pending": {"$each": in_hour}}, "$set": {"at": hour}},
                upsert=True,
            )
        await coll.update_one(
            {"_id": CURSOR}, {"$addToSet": {"hours": {"$each": sorted(by_hour)}}}, upsert=True
        )

    def _forget_known(self, horizon: datetime) -> None:
        for start in [s for s in self._known if s <= horizon]:
            del self._known[start]
            self._pages.pop(start, None)

    def _remember(self, start: datetime, k: int, page: dict[str, Any], ids: Iterable[str]) -> None:
        self._pages[start] = (k, page)
        self._known.setdefault(start, set()).update(ids)
        while len(self._pages) > MEMORY_BUCKETS:
            oldest = next(iter(self._pages))
            del self._pages[oldest]
            self._known.pop(oldest, None)

    async def _add(self, start: datetime, ids: list[str], *, remember: bool) -> bool:
        """Add ``ids`` to the bucket's last page, opening new pages when it is full. Returns whether the
        bucket may need listing: a page was opened or a swept one reopened. Ids appended to a page that
        was not swept need none: a bucket leaves its hour's list only once all its pages are marked swept,
        and the append's version bump makes a racing mark fail."""
        coll = self.collection
        cached = self._pages.get(start) if remember else None
        if cached is not None:
            k, page = cached
        else:
            header = await coll.find_one({"_id": self.bucket_id(start)})
            k = max(int(header.get("pages", 1)) - 1, 0) if header else 0
            page = await coll.find_one({"_id": self.page_id(start, k)})
        relist = False
        remaining = ids
        while remaining:
            if page is None:
                chunk, rest = remaining[: self.page_size], remaining[self.page_size :]
                page = {"_id": self.page_id(start, k), "at": start, "ids": chunk, "swept": False, "_v": 1}
                try:
                    await coll.insert_one(page)
                except DuplicateKeyError:  # another scheduler opened it first: read it and add to it
                    page = await coll.find_one({"_id": self.page_id(start, k)})
                    continue
                await coll.update_one(
                    {"_id": self.bucket_id(start)},
                    {"$max": {"pages": k + 1}, "$set": {"at": start}},
                    upsert=True,
                )
                relist = True
            else:
                present = set(page.get("ids", ()))
                new = [i for i in remaining if i not in present]
                space = max(self.page_size - len(present), 0)
                chunk, rest = new[:space], new[space:]
                swept = bool(page.get("swept"))
                again = len(new) < len(remaining)  # some ids are listed already
                # A sweep may be handing this page over right now, having decided on the documents as
                # they were before the change that scheduled them again: bump the version, so that its
                # mark fails and the page is handed over once more. A bucket no sweep can have reached yet
                # (``remember``) needs no bump.
                if chunk or (again and (swept or not remember)):
                    update: dict[str, Any] = {"$set": {"swept": False}, "$inc": {"_v": 1}}
                    if chunk:
                        update["$addToSet"] = {"ids": {"$each": chunk}}
                    res = await coll.update_one({"_id": page["_id"], "_v": page["_v"]}, update)
                    if res.matched_count == 0:  # a sweep or another scheduler moved it: read it again
                        page = await coll.find_one({"_id": self.page_id(start, k)})
                        continue
                    relist = relist or swept
                    page = {
                        **page,
                        "ids": [*page.get("ids", ()), *chunk],
                        "swept": False,
                        "_v": page["_v"] + 1,
                    }
                elif swept:
                    relist = True
            if remember and not page.get("swept"):
                self._remember(start, k, page, page["ids"])
            remaining = rest
            if remaining:
                k += 1
                page = await coll.find_one({"_id": self.page_id(start, k)})
        return relist

    async def apply(
        self,
        items: Sequence[Routed | tuple[str, AnyEnvelope]],
        when: TimerRoute,
        *,
        scope: str = "",
        before_write: BeforeWrite | None = None,
    ) -> ApplyResult:
        """Projection entry point (``TimerProjection(name, due_index, route, when)``): schedule what events ask.

        Scheduling is idempotent, so a redelivered event only re-adds ids already present (``scope`` and
        ``before_write`` are the store's, with nothing to do here).
        """
        del scope, before_write
        result = ApplyResult()
        timers: list[tuple[str, datetime]] = []
        for item in items:
            event = item[1]
            try:
                asked = when(event)
            except Exception as exc:  # noqa: BLE001 - a bug or a bad payload: this event only
                result.rejected.append((event, exc))
                continue
            timers.extend(asked)
            result.applied += 1
            result.applied_types[event.type] += 1
        await self.schedule(timers)
        return result
