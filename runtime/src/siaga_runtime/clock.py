"""Time as a collaborator, so detection and escalation can run on a controllable clock in tests and demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["AcceleratedClock", "Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class AcceleratedClock:
    """Scenario time: starts at ``start`` and runs ``factor`` times faster than the wall clock."""

    def __init__(self, start: datetime, factor: float) -> None:
        self._start = start
        self._factor = factor
        self._wall_start = datetime.now(UTC)

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self._wall_start
        return self._start + timedelta(seconds=elapsed.total_seconds() * self._factor)
