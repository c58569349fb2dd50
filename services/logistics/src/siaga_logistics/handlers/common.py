"""The collaborators handlers work with."""

from __future__ import annotations

from dataclasses import dataclass

from siaga_runtime import AggregateStore, DueIndex

__all__ = ["Stores"]


@dataclass(frozen=True)
class Stores:
    plans: AggregateStore  # plan headers and the rows each plan was imported from
    shipments: AggregateStore  # the documents holding shipments (see domain.layout)
    readiness: AggregateStore  # rollups per kab/kota, province and election
    pods: AggregateStore  # proofs of delivery, one per delivered shipment
    delayed: AggregateStore  # one per shipment with a delay raised (open or cleared)
    timers: DueIndex  # delay timers of the documents holding open shipments (see handlers.sweeps)
