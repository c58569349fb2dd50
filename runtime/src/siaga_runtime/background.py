"""What a service runs beside consuming: its periodic tasks (sweepers, escalation timers), and the hand-over
to Kafka of outbox records (for the relay) and of dead letters (for the sink). ``ServiceRuntime`` (in
``service``) takes these from ``BackgroundWork``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from .deadletter import DeadLetter
from .errors import is_transient
from .lease import LEASES_COLLECTION, Lease, LeaseKeeper, LeaseLost
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
    leases: dict[str, LeaseKeeper]
    db: Any

    def every(self, seconds: float, task: Periodic, name: str, *, leased: bool = False) -> None:
        """Run ``task`` every ``seconds`` while the service runs (sweepers, escalation timers).

        With ``leased`` only the instance holding the lease named ``name`` (``siaga_runtime.lease``, in the
        service's ``_leases`` collection) runs it; the others take over within ``LEASE_TTL_S`` when it
        dies. Without it every instance runs the task: it must be safe to run on several at once."""
        self._periodic.append((name, seconds, task))
        if leased:
            lease = Lease(
                lambda: self.db[LEASES_COLLECTION],
                name,
                self.settings.instance_id,
                self.settings.lease_ttl_s,
            )
            self.leases[name] = LeaseKeeper(lease, on_change=partial(self.metrics.set_lease, name))

    async def _loop(self, name: str, seconds: float, task: Periodic) -> None:
        keeper = self.leases.get(name)
        while not self.stopping.is_set():
            if keeper is not None and not keeper.held:
                keeper.changed.clear()
                with contextlib.suppress(TimeoutError):  # wait for the lease (or stop)
                    await asyncio.wait_for(keeper.changed.wait(), min(seconds, keeper.renew_s))
                continue
            try:
                if keeper is not None:
                    # the fence: a holder whose lease moved on while it stalled (its own clock says it
                    # still holds it) is refused here, before it sweeps, by one point read
                    await keeper.lease.check()
                await task()
            except LeaseLost as lost:
                log.warning("%s: %s; another instance runs it", name, lost)
                if keeper is not None and keeper.on_change is not None:
                    keeper.on_change(False)
                continue
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
