"""The faults of a chaos run, drawn from a seed: kill -9 one instance of each service (and start it again),
stop the broker and bring it back, restart FerretDB. Each is a plan entry at a time into the traffic
window; ``inject`` carries one out and records when it started and ended."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass
from typing import Any

from .stack import SERVICES, Stack

__all__ = ["Fault", "inject", "plan_faults"]


@dataclass
class Fault:
    at_s: float  # seconds into the traffic window
    kind: str  # kill9, broker-restart, ferretdb-restart
    target: str
    started_s: float | None = None
    ended_s: float | None = None
    error: str | None = None

    def record(self) -> dict[str, Any]:
        return asdict(self)


def plan_faults(rng: random.Random, window_s: float, brokers: int) -> list[Fault]:
    """One kill -9 per service (of the instance holding its leases), one broker restart, one FerretDB
    restart, at seeded times spread over the window (the two server restarts kept apart, so that each is
    seen on its own as well)."""
    # the instance killed is the one holding the service's leases (its sweeps must move to the other); the
    # notifications one right after the second wave of late shipments, while their deliveries go out
    at = {s: rng.uniform(0.1, 0.8) * window_s for s in SERVICES}
    at["notifications"] = 0.5 * window_s + rng.uniform(4.0, 8.0)
    faults = [Fault(round(at[s], 1), "kill9", f"{s}[holder]") for s in SERVICES]
    first, second = sorted((rng.uniform(0.15, 0.4), rng.uniform(0.55, 0.8)))
    servers = [("broker-restart", f"broker[{rng.randint(0, brokers - 1)}]"), ("ferretdb-restart", "ferretdb")]
    rng.shuffle(servers)
    faults.append(Fault(round(first * window_s, 1), *servers[0]))
    faults.append(Fault(round(second * window_s, 1), *servers[1]))
    return sorted(faults, key=lambda f: f.at_s)


async def inject(stack: Stack, fault: Fault, t0: float, *, down_s: float = 3.0) -> None:
    """Wait for the fault's time, then carry it out (blocking server calls in a thread)."""
    await asyncio.sleep(max(0.0, t0 + fault.at_s - time.monotonic()))
    fault.started_s = round(time.monotonic() - t0, 1)
    try:
        if fault.kind == "kill9":
            service = fault.target.split("[")[0]
            slot = await asyncio.to_thread(_holder, stack, service)
            fault.target = f"{service}[{slot}]"
            inst = stack.of(service)[slot]
            inst.kill9()
            await asyncio.sleep(down_s)
            inst.start()
            await asyncio.to_thread(inst.wait_ready, 120.0)
        elif fault.kind == "broker-restart":
            _, index = _indexed(fault.target)
            await asyncio.to_thread(stack.stop_broker, index)
            await asyncio.sleep(down_s)
            await asyncio.to_thread(stack.start_broker, index)
        elif fault.kind == "ferretdb-restart":
            await asyncio.to_thread(stack.ferretdb.stop)
            await asyncio.sleep(down_s)
            await asyncio.to_thread(stack.ferretdb.start)
    except Exception as exc:  # noqa: BLE001 - recorded: a fault that could not be injected fails the run
        fault.error = f"{type(exc).__name__}: {exc}"[:300]
    fault.ended_s = round(time.monotonic() - t0, 1)


def _holder(stack: Stack, service: str) -> int:
    """The slot of the instance holding most of the service's leases now (0 when none answers)."""
    held = []
    for inst in stack.of(service):
        try:
            held.append(inst.metric("siaga_lease_owned"))
        except Exception:  # noqa: BLE001 - an instance that does not answer holds nothing we can see
            held.append(0.0)
    return max(range(len(held)), key=lambda i: held[i]) if any(held) else 0


def _indexed(target: str) -> tuple[str, int]:
    """``"notifications[1]"`` → ``("notifications", 1)``."""
    name, index = target.rstrip("]").split("[")
    return name, int(index)
