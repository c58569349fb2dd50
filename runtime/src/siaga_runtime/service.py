"""``ServiceRuntime``: the broker, MongoDB, stores, subscribers, outbox relay and timers of one service.

A service's composition root (``build_app(settings)``) creates one, declares its stores, subscribers and
periodic tasks, and hands it to ``make_http_app``. Clients are created in ``start()`` (the lifespan), never at
import time. ``stop()`` is the graceful shutdown: stop consuming (the batch in flight finishes and commits),
flush the outbox, close the clients, all within ``shutdown_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, Union

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from siaga_schemas import Envelope, EventData, TopicSpec, dead_letter_topic, registry

from .clock import Clock
from .consumer import BatchPipeline, Projection, TransientRetry
from .deadletter import DeadLetter, DeadLetterSink
from .errors import is_transient
from .journal import OutboxJournal
from .logs import bind
from .metrics import RuntimeMetrics
from .outbox import OutboxRelay
from .settings import RuntimeSettings
from .store import AggregateStore
from .timers import DueIndex

__all__ = ["JOURNAL_COLLECTION", "ServiceRuntime"]

log = logging.getLogger(__name__)

Periodic = Callable[[], Awaitable[Any]]
JOURNAL_COLLECTION = "_outbox_journal"


def topic_models(topic: str) -> list[type[EventData]]:
    """Payload models whose events travel on ``topic`` (by the topic registry)."""
    return [m for m in registry.models() if m.topic == topic]


def envelope_union(models: Sequence[type[EventData]]) -> Any:
    """``Envelope[A] | Envelope[B] | …`` for documentation."""
    types = tuple(Envelope[m] for m in models)  # type: ignore[valid-type]
    return types[0] if len(types) == 1 else Union[types]  # noqa: UP007


class ServiceRuntime:
    def __init__(self, settings: RuntimeSettings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or settings.make_clock()
        self.source = f"/siaga/{settings.service_name}"
        self.registry = CollectorRegistry()
        self.metrics = RuntimeMetrics(self.registry, settings.service_name)
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            client_id=f"siaga-{settings.service_name}",
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            graceful_timeout=settings.shutdown_timeout_s,
            middlewares=[
                KafkaPrometheusMiddleware(
                    registry=self.registry, app_name=settings.service_name, metrics_prefix="faststream"
                )
            ],
            log_level=logging.DEBUG,
            security=settings.faststream_security(),
        )
        self.stopping = asyncio.Event()
        self.mongo: AsyncMongoClient[dict[str, Any]] | None = None
        self.stores: dict[str, AggregateStore] = {}
        self.journal = OutboxJournal(lambda: self.db[JOURNAL_COLLECTION])
        self.relay = OutboxRelay(
            self.journal,
            self._store_collection,
            self._enqueue_outbox,
            self.metrics,
            stale_after=settings.outbox_stale_after_s,
        )
        self.retry = TransientRetry(self.metrics, self.stopping)
        self.dead_letters = DeadLetterSink(self._publish_raw, settings.service_name, self._count_dead_letter)
        self._publishers: dict[str, Any] = {}
        self._topics: dict[str, TopicSpec] = {}
        self._subscribers: list[Any] = []
        self.consumed: dict[str, list[type[EventData]]] = {}
        self._periodic: list[tuple[str, float, Periodic]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._raw_producer: AIOKafkaProducer | None = None
        self._consuming: asyncio.Task[None] | None = None
        self.started = False
        self.consuming = False

    # -- declaration (before start) -------------------------------------------------------------------

    @property
    def db(self) -> Any:
        if self.mongo is None:
            raise RuntimeError("the service has not started: no MongoDB client yet")
        return self.mongo[self.settings.mongodb_database]

    def store(
        self, collection: str, *, cache_mb: float | None = None, packed_cache_mb: float | None = None
    ) -> AggregateStore:
        """A store over one of this service's own collections; its outbox is drained by the relay.

        ``cache_mb`` bounds the memory of its write-through cache's decoded documents (default:
        ``STORE_CACHE_MB``), ``packed_cache_mb`` that of their stored forms (default: 4 times as much)."""
        if collection in self.stores:
            raise ValueError(f"store {collection!r} is declared twice")
        store = AggregateStore(
            lambda: self.db[collection],
            source=self.source,
            journal=self.journal,
            clock=self.clock,
            name=collection,
            on_outbox=self.relay.notify,
            cache_mb=self.settings.store_cache_mb if cache_mb is None else cache_mb,
            packed_cache_mb=packed_cache_mb,
        )
        self.stores[collection] = store
        return store

    def _store_collection(self, name: str) -> Any:
        return self.db[name] if name in self.stores else None

    def due_index(self, collection: str, *, bucket: timedelta = timedelta(seconds=30)) -> DueIndex:
        """Durable timers over one of this service's own collections (see ``siaga_runtime.timers``)."""
        return DueIndex(lambda: self.db[collection], bucket=bucket, clock=self.clock)

    def publisher(self, spec: TopicSpec, *, schema: Any = None, description: str | None = None) -> Any:
        """Declare an outbound topic once (it appears in the AsyncAPI document)."""
        name = self.settings.topic_name(spec.name)
        if name not in self._publishers:
            self._topics[spec.name] = spec
            if schema is None:
                models = topic_models(spec.name)
                schema = envelope_union(models) if models else None
            self._publishers[name] = self.broker.publisher(
                name, schema=schema, title=f"{name}:publish", description=description or spec.description
            )
        return self._publishers[name]

    def subscribe(
        self,
        spec: TopicSpec,
        projections: Sequence[Projection[Any]],
        *,
        accept: set[str] | None = None,
        description: str | None = None,
    ) -> BatchPipeline:
        """Consume a topic in batches: decode, dead-letter, apply idempotently, then commit."""
        name = self.settings.topic_name(spec.name)
        self._topics[spec.name] = spec
        self.consumed[f"{name}:consume"] = [
            m
            for m in registry.models()
            if (m.event_type in accept if accept is not None else m.topic == spec.name)
        ]
        pipeline = BatchPipeline(
            service=self.settings.service_name,
            projections=projections,
            dead_letters=self.dead_letters,
            metrics=self.metrics,
            retry=self.retry,
            accept=accept,
            handler_retries=self.settings.handler_retries,
        )
        subscriber = self.broker.subscriber(
            name,
            group_id=self.settings.group_id(),
            batch=True,
            max_records=self.settings.batch_max_records,
            batch_timeout_ms=self.settings.batch_timeout_ms,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            max_poll_interval_ms=600_000,
            title=f"{name}:consume",
            description=description or spec.description,
        )

        async def handle(msg: KafkaMessage) -> None:
            records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
            first = records[0]
            with bind(topic=first.topic, partition=first.partition, offset=first.offset, batch=len(records)):
                await pipeline.process(records)
            self._observe_lag(msg, records)

        subscriber(handle)
        self._subscribers.append(subscriber)
        return pipeline

    def every(self, seconds: float, task: Periodic, name: str) -> None:
        """Run ``task`` every ``seconds`` while the service runs (sweepers, escalation timers)."""
        self._periodic.append((name, seconds, task))

    # -- runtime ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        log.info(
            "starting %s with kafka=%s mongodb=%s",
            s.service_name,
            s.kafka_bootstrap_servers,
            s.mongodb_url_redacted(),
        )
        self.mongo = AsyncMongoClient(
            s.mongodb_url.get_secret_value(),
            tz_aware=True,
            serverSelectionTimeoutMS=5000,
            appname=f"siaga-{s.service_name}",
        )
        if s.kafka_create_topics:
            await self.retry.run(self.ensure_topics, "create topics")
        self._raw_producer = AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap_servers,
            client_id=f"siaga-{s.service_name}-dlt",
            enable_idempotence=True,
            acks="all",
            **s.kafka_security_kwargs(),
        )
        await self.retry.run(self._raw_producer.start, "dead-letter producer")
        await self.retry.run(self.broker.connect, "kafka producer")
        self._consuming = asyncio.create_task(self._start_consuming(), name="start-consuming")
        self.started = True
        try:  # normally the service consumes before it serves; with MongoDB away it serves health first
            await asyncio.wait_for(asyncio.shield(self._consuming), s.startup_wait_s)
        except TimeoutError:
            log.warning(
                "not consuming yet after %.0fs (a dependency is away); serving health meanwhile",
                s.startup_wait_s,
            )

    async def _start_consuming(self) -> None:
        """What a previous run left in the outbox goes out before anything new is consumed (so each key's
        events keep their order across a crash); then the subscribers and periodic tasks start. In the
        background: a service whose MongoDB is away still serves ``/health/ready`` (503) meanwhile."""
        await self.retry.run(self.relay.start, "outbox recovery")
        await self.broker.start()
        for name, seconds, task in self._periodic:
            self._tasks.append(asyncio.create_task(self._loop(name, seconds, task), name=name))
        self.consuming = True

    async def stop(self) -> None:
        """Graceful shutdown, bounded by ``shutdown_timeout_s``."""
        self.stopping.set()
        budget = self.settings.shutdown_timeout_s
        if self._consuming is not None and not self._consuming.done():
            self._consuming.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._consuming
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for sub in self._subscribers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sub.stop(), budget / 2)
        await self.relay.stop(timeout=budget / 2)
        with contextlib.suppress(Exception):
            await self.broker.stop()
        if self._raw_producer is not None:
            with contextlib.suppress(Exception):
                await self._raw_producer.stop()
        if self.mongo is not None:
            await self.mongo.close()
        self.started = False

    async def ensure_topics(self) -> None:
        specs = list(self._topics.values())
        names = {self.settings.topic_name(t.name): t for t in specs}
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, **self.settings.kafka_security_kwargs()
        )
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = []
            for name, spec in names.items():
                if name not in existing:
                    wanted.append(NewTopic(name, spec.partitions, 1, topic_configs=spec.config()))
                dlt = dead_letter_topic(name)
                if dlt not in existing:
                    wanted.append(
                        NewTopic(dlt, 1, 1, topic_configs={"retention.ms": str(90 * 24 * 3600 * 1000)})
                    )
            for topic in wanted:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([topic])
        finally:
            await admin.close()

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

    def _observe_lag(self, msg: KafkaMessage, records: Sequence[Any]) -> None:
        consumer = getattr(msg, "consumer", None)
        if consumer is None or not hasattr(consumer, "highwater"):
            return
        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), -1), r.offset)
        from aiokafka import TopicPartition

        for (topic, partition), offset in last.items():
            high = consumer.highwater(TopicPartition(topic, partition))
            if high is not None:
                self.metrics.consumer_lag.labels(self.settings.service_name, topic, str(partition)).set(
                    max(high - offset - 1, 0)
                )

    async def readiness(self) -> dict[str, bool]:
        """Whether MongoDB and Kafka answer right now."""
        status = {"mongodb": False, "kafka": False}
        if self.mongo is not None:
            try:
                await asyncio.wait_for(self.mongo.admin.command("ping"), 2.0)
                status["mongodb"] = True
            except Exception as exc:  # noqa: BLE001 - any failure of a probe means "not ready"
                log.debug("mongodb not ready: %s", type(exc).__name__)
        try:
            status["kafka"] = bool(await asyncio.wait_for(self.broker.ping(timeout=2.0), 3.0))
        except Exception as exc:  # noqa: BLE001 - any failure of a probe means "not ready"
            log.debug("kafka not ready: %s", type(exc).__name__)
        for dep, ok in status.items():
            self.metrics.dependency_up.labels(dep).set(1 if ok else 0)
        return status
