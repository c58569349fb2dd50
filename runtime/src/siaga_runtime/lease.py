"""Leases: one instance at a time runs a periodic job, and a dead holder's lease expires.

A lease is ONE document of the service's own database, found by ``_id`` (FerretDB 1.x pushes down only
``{_id: value}``), claimed and renewed by a compare-and-set on its version ``_v``:

- ``holder``: the instance id holding it (``None`` once released);
- ``until``: when it expires unless renewed (wall time; instances' clocks are taken to agree within a
  small part of ``ttl``);
- ``epoch``: the fencing token, incremented every time the lease changes hands. A holder that paused
  past its expiry (a long GC, a frozen VM) finds the epoch moved on at its next renewal or ``check``, and
  stops; writes that must not come from a stale holder check the epoch they were started under.

``decide`` is the pure rule (what to write, given the stored document); ``Lease`` does the guarded write
and keeps what it last saw. ``LeaseKeeper`` renews a lease in the background every ``ttl / 3``, so the
job it guards may run longer than one renewal period, and releases it on shutdown so that another
instance takes over at once instead of after ``ttl``.

Every write is ``insert_one`` (no document yet: a racing insert gets ``DuplicateKeyError``) or
``update_one({_id, _v})`` (a racing writer moved ``_v``: nothing matched). Of two instances claiming the
same expired lease, exactly one write succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FunctionType, MethodType
from typing import Any, Literal

from pymongo.errors import DuplicateKeyError

__all__ = ["LEASES_COLLECTION", "Lease", "LeaseKeeper", "LeaseLost", "LeaseWrite", "decide"]

log = logging.getLogger(__name__)

LEASES_COLLECTION = "_leases"

Now = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class LeaseLost(RuntimeError):
    """The lease is no longer this instance's (it expired and another instance took it)."""


@dataclass(frozen=True, slots=True)
class LeaseWrite:
    """What to write: a new document (``insert``) or the stored one replaced under its version guard."""

    kind: Literal["insert", "update"]
    doc: dict[str, Any]
    guard_v: int | None = None


def decide(
    stored: dict[str, Any] | None, name: str, holder: str, now: datetime, ttl: timedelta
) -> LeaseWrite | None:
    """The write that makes ``holder`` hold lease ``name`` until ``now + ttl``, or ``None`` while another
    holder's lease is still valid. Renewing keeps the epoch; taking over (expired, released, or never
    held) increments it."""
    until = now + ttl
    if stored is None:
        return LeaseWrite("insert", {"_id": name, "holder": holder, "until": until, "epoch": 1, "_v": 1})
    current_until = _aware(stored.get("until"))
    valid = current_until is not None and current_until > now and stored.get("holder") is not None
    version = int(stored.get("_v", 0))
    epoch = int(stored.get("epoch", 0))
    if valid and stored.get("holder") != holder:
        return None
    if not (valid and stored.get("holder") == holder):
        epoch += 1
    doc = {"_id": name, "holder": holder, "until": until, "epoch": epoch, "_v": version + 1}
    return LeaseWrite("update", doc, guard_v=version)


def release_write(stored: dict[str, Any] | None, holder: str, epoch: int) -> LeaseWrite | None:
    """The write that gives the lease up (only the holder of that epoch may)."""
    if stored is None or stored.get("holder") != holder or int(stored.get("epoch", 0)) != epoch:
        return None
    version = int(stored.get("_v", 0))
    doc = {**stored, "holder": None, "until": None, "_v": version + 1}
    return LeaseWrite("update", doc, guard_v=version)


class Lease:
    """One named lease in a collection, as seen by one instance (``holder``)."""

    def __init__(
        self, collection: Any, name: str, holder: str, ttl_s: float, *, now: Now | None = None
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("a lease's ttl must be positive")
        self._collection = collection
        self.name = name
        self.holder = holder
        self.ttl = timedelta(seconds=ttl_s)
        self.now = now or _utc_now
        self.epoch: int | None = None  # the epoch this instance holds, None when it holds nothing
        self.until: datetime | None = None

    @property
    def collection(self) -> Any:
        c = self._collection
        return c() if isinstance(c, FunctionType | MethodType) else c

    @property
    def held(self) -> bool:
        """Whether this instance holds the lease as far as it knows (its last write, not yet expired)."""
        return self.epoch is not None and self.until is not None and self.until > self.now()

    async def _write(self, write: LeaseWrite) -> bool:
        coll = self.collection
        if write.kind == "insert":
            try:
                await coll.insert_one(write.doc)
            except DuplicateKeyError:
                return False
            return True
        res = await coll.update_one(
            {"_id": self.name, "_v": write.guard_v},
            {"$set": {k: v for k, v in write.doc.items() if k != "_id"}},
        )
        return bool(res.matched_count)

    async def acquire(self) -> bool:
        """Claim or renew the lease (one guarded write); returns whether this instance holds it now."""
        now = self.now()
        stored = await self.collection.find_one({"_id": self.name})
        write = decide(stored, self.name, self.holder, now, self.ttl)
        if write is None or not await self._write(write):
            self._lost()
            return False
        if self.epoch is not None and self.epoch != write.doc["epoch"]:
            log.info("lease %s: epoch %s was lost, now %s", self.name, self.epoch, write.doc["epoch"])
        self.epoch, self.until = int(write.doc["epoch"]), write.doc["until"]
        return True

    def _lost(self) -> None:
        if self.epoch is not None:
            log.info("lease %s: no longer held by %s (epoch %s)", self.name, self.holder, self.epoch)
        self.epoch, self.until = None, None

    async def check(self) -> int:
        """The fence: read the lease now and return the epoch this instance holds, or raise ``LeaseLost``
        (its lease expired and another instance may be doing the work)."""
        if self.epoch is None:
            raise LeaseLost(f"lease {self.name} is not held by {self.holder}")
        stored = await self.collection.find_one({"_id": self.name})
        until = _aware((stored or {}).get("until"))
        if (
            stored is None
            or stored.get("holder") != self.holder
            or int(stored.get("epoch", 0)) != self.epoch
            or until is None
            or until <= self.now()
        ):
            epoch = self.epoch
            self._lost()
            raise LeaseLost(f"lease {self.name} epoch {epoch} is no longer held by {self.holder}")
        return self.epoch

    async def release(self) -> bool:
        """Give the lease up, so another instance takes over without waiting for it to expire."""
        if self.epoch is None:
            return False
        stored = await self.collection.find_one({"_id": self.name})
        write = release_write(stored, self.holder, self.epoch)
        self.epoch, self.until = None, None
        return write is not None and await self._write(write)


class LeaseKeeper:
    """Keeps trying to hold a lease, renewing it every ``ttl / 3``; ``on_change(held)`` follows it."""

    def __init__(
        self, lease: Lease, *, on_change: Callable[[bool], None] | None = None, renew_s: float | None = None
    ) -> None:
        self.lease = lease
        self.on_change = on_change
        self.renew_s = renew_s if renew_s is not None else lease.ttl.total_seconds() / 3
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def held(self) -> bool:
        return self.lease.held

    async def round(self) -> bool:
        before = self.lease.epoch is not None
        try:
            held = await self.lease.acquire()
        except Exception as exc:  # noqa: BLE001 - a database away: held until the known expiry, then not
            log.warning("lease %s: renewal failed (%s)", self.lease.name, type(exc).__name__)
            held = self.lease.held
        if held != before:
            self.changed.set()
        if self.on_change is not None:
            self.on_change(held)
        return held

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"lease-{self.lease.name}")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.round()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.renew_s)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.lease.release(), 2.0)
        if self.on_change is not None:
            self.on_change(False)
