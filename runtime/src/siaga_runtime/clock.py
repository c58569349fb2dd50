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
    """Scenario time: ``start`` at wall time ``epoch`` (default: now), running ``factor`` times faster.

    Processes given the same ``start``, ``epoch`` and ``factor`` agree on the scenario time, so a simulator
    and the services it drives can share one accelerated clock (``CLOCK_*`` settings).
    """

    def __init__(self, start: datetime, factor: float, *, epoch: datetime | None = None) -> None:
        if start.tzinfo is None or (epoch is not None and epoch.tzinfo is None):
            raise ValueError("AcceleratedClock needs aware datetimes")
        if factor <= 0:
            raise ValueError("the clock factor must be positive")
        self.start = start
        self.factor = factor
        self.epoch = epoch or datetime.now(UTC)

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self.epoch
        return self.start + timedelta(seconds=elapsed.total_seconds() * self.factor)

    def wall_seconds(self, scenario: timedelta) -> float:
        """How long ``scenario`` time lasts on the wall clock."""
        return scenario.total_seconds() / self.factor
