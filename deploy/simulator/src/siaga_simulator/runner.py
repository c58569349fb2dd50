"""Play a scenario's timeline on the shared accelerated clock."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from siaga_runtime import AcceleratedClock

from .actions import Driver, StepFailed
from .scenario import Scenario

__all__ = ["Progress", "play"]

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """What the live view shows of the timeline."""

    scenario: Scenario
    clock: AcceleratedClock
    current: str = "starting"
    done: int = 0
    failed: int = 0
    finished: bool = False
    summary: str = ""
    lines: deque[tuple[datetime, str]] = field(default_factory=lambda: deque(maxlen=12))
    log: list[tuple[datetime, str]] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.lines.append((self.clock.now(), text))
        self.log.append(self.lines[-1])


async def play(scenario: Scenario, driver: Driver, clock: AcceleratedClock, progress: Progress) -> Progress:
    """Run every step when the scenario clock reaches it; a failed step is reported and the play goes on."""
    for step in scenario.steps:
        due = scenario.at(step.at)
        wait = (due - clock.now()).total_seconds() / clock.factor
        if wait > 0:
            progress.current = f"waiting for {step.title}"
            await asyncio.sleep(wait)
        progress.current = step.title
        try:
            summary = await driver.run(step)
            progress.done += 1
            progress.note(f"{step.title}: {summary}")
        except (StepFailed, OSError) as exc:  # a refused call or a service that is not up
            progress.failed += 1
            progress.note(f"{step.title}: FAILED {exc}")
            log.warning("step %r failed: %s", step.title, exc)
    end = scenario.at(scenario.duration)
    rest = (end - clock.now()).total_seconds() / clock.factor
    if rest > 0:
        progress.current = "watching the consequences"
        await asyncio.sleep(rest)
    progress.current = "scenario finished"
    progress.finished = True
    return progress
