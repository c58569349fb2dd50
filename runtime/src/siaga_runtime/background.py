"""What a service runs beside consuming: its periodic tasks (sweepers, escalation timers), and the hand-over
to Kafka of outbox records (for the relay) and of dead letters (for the sink). ``ServiceRuntime`` (in
``service``) takes these from ``BackgroundWork``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from .deadletter import DeadLetter
from .errors import is_transient
from .metrics import RuntimeMetrics
from .settings import RuntimeSettings

__all__ = ["BackgroundWork", "Periodic"]

# The service runtime's log, whose name these lines have always carried.
log = logging.getLogger("siaga_runtime.service")

Periodic = Callable[[], Awaitable[Any]]


class BackgroundWork:
    """Periodic tasks and the producers behind the outbox relay and the dead-letter sink (a ``ServiceRuntime``
    part)."""

    settings: RuntimeSettings
    broker: KafkaBroker
    metrics: RuntimeMetrics
    stopping: asyncio.Event
    _publishers: dict[str, Any]
    _periodic: list[tuple[str, float, Periodic]]
    _raw_producer: AIOKafkaProducer | None

    def every(self, seconds: float, task: Periodic, name: str) -> None:
        """Run ``task`` every ``seconds`` while the service runs (sweepers, escalation timers)."""
        self._periodic.append((name, seconds, task))

    async def _loop(self, name: str, seconds: float, task: Periodic) -> None:
        while not self.stopping.is_set():
            try:
                await task()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc):
                    log.warning("%s: dependency unavailable (%s); will retry", name, type(exc).__name__)
                else:
                    log.exception("%s failed; will run again", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), seconds)

    async def _enqueue_outbox(
        self, topic: str, key: bytes, value: bytes, headers: dict[str, str]
    ) -> Awaitable[Any]:
        """Hand one outbox record to the producer (in call order); returns the acknowledgement to await."""
        name = self.settings.topic_name(topic)
        publisher = self._publishers.get(name)
        if publisher is not None:
            ack: Awaitable[Any] = await publisher.publish(value, key=key, headers=headers, no_confirm=True)
        else:
            ack = await self.broker.publish(value, name, key=key, headers=headers, no_confirm=True)
        return ack

    async def _publish_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Any:
        """Dead letters keep the original bytes and headers exactly, so they bypass FastStream's encoder."""
        if self._raw_producer is None:
            raise RuntimeError("the service has not started: no dead-letter producer yet")
        return await self._raw_producer.send_and_wait(topic, value=value, key=key, headers=headers)

    def _count_dead_letter(self, dl: DeadLetter) -> None:
        self.metrics.dead_letters.labels(self.settings.service_name, dl.topic, dl.reason.value).inc()
        log.warning(
            "dead-lettered %s/%s@%s: %s: %s", dl.topic, dl.partition, dl.offset, dl.reason.value, dl.message
        )
