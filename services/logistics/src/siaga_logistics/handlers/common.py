"""The collaborators handlers work with."""

from __future__ import annotations

from dataclasses import dataclass

from siaga_runtime import AggregateStore, DueIndex

__all__ = ["Stores"]


@dataclass(frozen=True)
class Stores:
    plans: AggregateStore
    shipments: AggregateStore
    readiness: AggregateStore
    timers: DueIndex  # ETA timers of open shipments (see handlers.sweeps)
