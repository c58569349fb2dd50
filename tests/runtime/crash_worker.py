"""A consuming service process for the crash test: counts status events per shipment, and emits a milestone
event for every 'delivered'. Run as ``python -m tests.runtime.crash_worker`` with the runtime's env vars."""

from __future__ import annotations

import asyncio
import signal
from typing import Any, ClassVar

from pydantic import Field
from siaga_runtime import Decision, Projection, RuntimeSettings, ServiceRuntime, configure_logging
from siaga_schemas import AnyEnvelope, Envelope, EventData, TopicSpec, registry
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.topics import LOGISTICS_STATUS_UPDATES

MILESTONES = TopicSpec(name="siaga.test.milestones.v1", owner="test", key="shipment id", description="test")


@registry.register
class MilestoneReached(EventData):
    event_type: ClassVar[str] = "siaga.test.milestone-reached"
    topic: ClassVar[str] = MILESTONES.name

    shipment_id: str = Field(description="Shipment.", examples=["shp-1"])
    count: int = Field(description="Events seen so far.", examples=[10])

    def partition_key(self) -> str:
        return self.shipment_id


def decide(doc: dict[str, Any] | None, env: Envelope[Any]) -> Decision:
    """Counts each scan of a shipment once: a scan no newer than the last one counted (the same scan sent
    again by an at-least-once producer) changes nothing, as every Siaga decision treats a repeat."""
    seen = (doc or {}).get("last")
    if seen is not None and env.data.observed_at <= seen:
        return Decision(state=None)
    n = (doc or {}).get("n", 0) + 1
    emit = (
        [MilestoneReached(shipment_id=env.data.shipment_id, count=n)]
        if env.data.status == "delivered"
        else []
    )
    return Decision(state={"n": n, "last": env.data.observed_at}, emit=emit)


def _shipment(env: AnyEnvelope) -> str:
    assert isinstance(env.data, ShipmentStatusReported)  # what the test produces on this topic
    return env.data.shipment_id


async def main() -> None:
    settings = RuntimeSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime = ServiceRuntime(settings)
    store = runtime.store("tracking")
    runtime.publisher(MILESTONES)
    runtime.subscribe(LOGISTICS_STATUS_UPDATES, [Projection("tracking", store, _shipment, decide)])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    await stop.wait()
    await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main())
