"""One run of a scenario: the shared clock, the driver, the timeline and the view together."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from siaga_runtime import AcceleratedClock

from .actions import DEFAULT_URLS, Driver
from .runner import Progress, play
from .scenario import Scenario
from .view import Watch, Watcher

__all__ = ["DEFAULT_SCENARIO", "run_scenario", "scenario_clock_env"]

DEFAULT_SCENARIO = Path(__file__).parent / "scenarios" / "default.yaml"


def scenario_clock_env(scenario: Scenario, *, lead: timedelta = timedelta(seconds=20)) -> dict[str, str]:
    """``CLOCK_*`` settings for the services: scenario time ``start`` falls ``lead`` after now (wall time),
    so that the services are up before the first step. The simulator reads the same values back."""
    epoch = datetime.now(UTC) + lead
    return {
        "CLOCK_START": scenario.start.isoformat(),
        "CLOCK_EPOCH": epoch.isoformat(),
        "CLOCK_FACTOR": repr(scenario.factor),
    }


def clock_from_env(scenario: Scenario, env: dict[str, str]) -> AcceleratedClock:
    epoch = datetime.fromisoformat(env["CLOCK_EPOCH"]) if "CLOCK_EPOCH" in env else None
    return AcceleratedClock(scenario.start, scenario.factor, epoch=epoch)


async def run_scenario(
    scenario: Scenario,
    *,
    clock: AcceleratedClock,
    kafka_bootstrap: str,
    urls: dict[str, str] | None = None,
    topic_prefix: str = "",
    live: bool = False,
    clients: dict[str, httpx.AsyncClient] | None = None,
) -> Progress:
    """Play the timeline while the view follows; returns the progress (steps done and failed)."""
    driver = Driver(urls=dict(urls or DEFAULT_URLS), clients=dict(clients or {}))
    progress = Progress(scenario, clock)
    w = scenario.watch
    watcher = Watcher(
        driver,
        Watch(
            schedule_id=w.get("schedule_id"),
            period_id=w.get("period_id"),
            election_id=w.get("election_id"),
            readiness_regions=list(w.get("readiness_regions", [])),
        ),
        kafka_bootstrap,
        topic_prefix,
    )
    try:
        view = asyncio.create_task(watcher.show(progress, live=live))
        await play(scenario, driver, clock, progress)
        await view
        progress.summary = watcher.summary()
        progress.note(progress.summary)
    finally:
        await driver.close()
    return progress
