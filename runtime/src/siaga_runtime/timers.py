"""Durable timers that are found by point reads: a due index in time buckets of bounded pages.

A sweep that asks "which documents are due?" with a query on a time field reads the whole collection on
FerretDB 1.x (it pushes down only ``{_id: value}``), and on any server it grows with the number of open
documents rather than with the number due. The due index instead keeps, in its own collection:

- a **page** ``t:<bucket start>#<k>`` per at most ``page_size`` ids due in one time bucket (``_v`` guards
  it, ``swept`` says whether its ids were handed over since they were added);
- a **bucket** header ``t:<bucket start>`` with its number of pages;
- an **hour** document ``h:<hour>`` listing the buckets of that hour not yet swept (``pending``) and swept
  (``done``), at most 3,600 / bucket seconds of each;
- the **cursor** listing the hours with buckets pending, and the swept hours kept for the retention.

No document grows with the number of timers: 820,161 ETAs due in the same minute fill 1,641 pages of 500.
A sweep reads the cursor, each due hour, each due bucket's header and pages, by ``_id``: its cost is the
number of due buckets and ids, however far the clock jumped.

Guarantees, with several replicas and across restarts:

- ``schedule`` writes the ids to a page first (guarded, or as a new page), then lists the bucket in its
  hour and the hour in the cursor. A crash between these writes leaves ids in an unlisted bucket; every
  scheduler in Siaga is replayed after a crash (a consumer batch is redelivered until committed; API writes
  are also scheduled by the projection of the events they emit), which lists it again.
- ``sweep`` hands a page's ids over, then marks the page swept under its version guard: a schedule into
  that page meanwhile (a new id, or one the page already lists, whose handler may have decided on a state
  older than that schedule) makes the guard fail and the bucket stays pending. Only buckets whose pages are all
  marked leave ``pending``, and after that removal the sweep looks at their pages once more and lists again
  any bucket that a racing schedule reopened (the same for hours leaving the cursor).
- A timer fires once its bucket has closed: never early, and up to one bucket plus ``grace`` plus one
  sweep interval late. A time already past when it is scheduled (a group to flush now, a retry due now)
  goes into the last closed bucket: due at the next sweep, whatever the bucket size. It
  may fire more than once (a retried sweep, two replicas, a page scheduled into while it was handed over).
  Callers make the effect idempotent and check the document's current state: an outdated timer is a no-op.

  Sweeping only closed buckets matters: a timer handed over early would be scheduled again into the very
  page being handed over, and every sweep until its time would read that page whole again.

Swept hours are kept for ``retention`` (default: 1,000 buckets), then their documents are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from .due_pages import CURSOR, HOUR, DuePages, as_aware

__all__ = ["DueIndex"]

log = logging.getLogger(__name__)

Handle = Callable[[list[str]], Awaitable[None]]


class DueIndex(DuePages):
    """Timers over one collection of page, bucket, hour and cursor documents (see the module docstring)."""

    # -- sweeping -----------------------------------------------------------------------------------

    async def sweep(self, handle: Handle) -> int:  # noqa: C901 - the walk cursor → hours → buckets and its race checks, read as one
        """Hand the ids of every elapsed bucket to ``handle`` (in bucket order, a page at a time), then mark
        them swept. ``handle`` raising leaves the rest pending: it is read again next time.
        Returns how many ids were handed over."""
        coll = self.collection
        cursor = await coll.find_one({"_id": CURSOR})
        if cursor is None:
            return 0
        limit = self.clock.now() - self.grace
        hours = sorted(h for h in map(as_aware, cursor.get("hours", ())) if h <= limit)
        handed = 0
        budget = self.max_buckets_per_sweep
        finished: list[datetime] = []
        for hour in hours:
            if budget <= 0:
                break
            doc = await coll.find_one({"_id": self.hour_id(hour)})
            pending = sorted(map(as_aware, doc.get("pending", ()))) if doc else []
            due = [b for b in pending if b + self.bucket <= limit][:budget]  # closed buckets only
            budget -= len(due)
            swept: list[datetime] = []
            for start in due:
                complete, n = await self._sweep_bucket(start, handle)
                handed += n
                if complete:
                    swept.append(start)
            reopened: list[datetime] = []
            if swept:
                await coll.update_one(
                    {"_id": self.hour_id(hour)},
                    {"$pullAll": {"pending": swept}, "$addToSet": {"done": {"$each": swept}}},
                )
                reopened = [s for s in swept if await self._open_pages(s)]
                if reopened:
                    await coll.update_one(
                        {"_id": self.hour_id(hour)}, {"$addToSet": {"pending": {"$each": reopened}}}
                    )
            left = (set(pending) - set(swept)) | set(reopened)
            if hour + HOUR <= limit and not left:
                finished.append(hour)
        if finished:
            await coll.update_one(
                {"_id": CURSOR},
                {"$pullAll": {"hours": finished}, "$addToSet": {"done_hours": {"$each": finished}}},
            )
            again = []
            for hour in finished:
                doc = await coll.find_one({"_id": self.hour_id(hour)}, {"pending": 1})
                if doc is not None and doc.get("pending"):
                    again.append(hour)
            if again:
                await coll.update_one({"_id": CURSOR}, {"$addToSet": {"hours": {"$each": again}}})
        await self._forget(cursor, limit - self.retention)
        return handed

    async def _sweep_bucket(self, start: datetime, handle: Handle) -> tuple[bool, int]:
        """Hand over each unswept page of one bucket; returns (every page marked swept, ids handed)."""
        coll = self.collection
        header = await coll.find_one({"_id": self.bucket_id(start)})
        pages = int(header.get("pages", 1)) if header else 1
        complete, handed = True, 0
        for k in range(pages):
            page = await coll.find_one({"_id": self.page_id(start, k)})
            if page is None or page.get("swept"):
                continue
            ids = list(page.get("ids", ()))
            if ids:
                await handle(ids)
                handed += len(ids)
            marked = await coll.update_one(
                {"_id": page["_id"], "_v": page["_v"]}, {"$set": {"swept": True}, "$inc": {"_v": 1}}
            )
            if not marked.matched_count:
                complete = False
        return complete, handed

    async def _open_pages(self, start: datetime) -> bool:
        """Whether a page of this bucket holds ids not yet swept (a schedule raced with the sweep)."""
        coll = self.collection
        header = await coll.find_one({"_id": self.bucket_id(start)})
        pages = int(header.get("pages", 1)) if header else 1
        for k in range(pages):
            page = await coll.find_one({"_id": self.page_id(start, k)}, {"swept": 1})
            if page is not None and not page.get("swept"):
                return True
        return False

    async def _forget(self, cursor: dict[str, Any], before: datetime) -> None:
        """Delete the documents of hours swept before ``before`` (no schedule targets a bucket that old)."""
        pending = {as_aware(h) for h in cursor.get("hours", ())}
        old = [
            h for h in map(as_aware, cursor.get("done_hours", ())) if h + HOUR <= before and h not in pending
        ]
        if not old:
            return
        coll = self.collection
        for hour in old:
            doc = await coll.find_one({"_id": self.hour_id(hour)})
            for start in map(as_aware, (doc or {}).get("done", ())):
                header = await coll.find_one({"_id": self.bucket_id(start)})
                for k in range(int(header.get("pages", 1)) if header else 1):
                    await coll.delete_one({"_id": self.page_id(start, k)})
                await coll.delete_one({"_id": self.bucket_id(start)})
            await coll.delete_one({"_id": self.hour_id(hour)})
        await coll.update_one({"_id": CURSOR}, {"$pullAll": {"done_hours": old}})
