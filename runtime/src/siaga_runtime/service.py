"""``ServiceRuntime``: the broker, MongoDB, stores, subscribers, outbox relay and timers of one service.

A service's composition root (``build_app(settings)``) creates one, declares its stores, subscribers and
periodic tasks, and hands it to ``make_http_app``. Clients are created in ``start()`` (the lifespan), never at
import time. ``stop()`` is the graceful shutdown: stop consuming (the batch in flight finishes and commits),
flush the outbox, close the clients, all within ``shutdown_timeout_s``.

Declaring topics and subscribers comes from ``TopicWiring`` (``subscriptions``), periodic tasks and the
producers behind the outbox and dead letters from ``BackgroundWork`` (``background``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from siaga_schemas import EventData, TopicSpec

from .background import BackgroundWork, Periodic
from .clock import Clock
from .consumer import TransientRetry
from .deadletter import DeadLetterSink
from .gc_tuning import GcCollector
from .journal import OutboxJournal
from .lease import LeaseKeeper
from .metrics import RuntimeMetrics, StoreCollector
from .outbox import OutboxRelay
from .settings import RuntimeSettings
from .store import AggregateStore
from .subscriptions import Route, TopicWiring
from .timers import DueIndex

__all__ = ["JOURNAL_COLLECTION", "ServiceRuntime"]

log = logging.getLogger(__name__)

JOURNAL_COLLECTION = "_outbox_journal"


class ServiceRuntime(TopicWiring, BackgroundWork):
    def __init__(self, settings: RuntimeSettings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or settings.make_clock()
        self.source = f"/siaga/{settings.service_name}"
        self.registry = CollectorRegistry()
        self.metrics = RuntimeMetrics(self.registry, settings.service_name, settings.instance_id)
        self.broker = KafkaBroker(
            settings.bootstrap_list(),
            client_id=f"siaga-{settings.service_name}",
            linger_ms=5,
            graceful_timeout=settings.shutdown_timeout_s,
            middlewares=[
                KafkaPrometheusMiddleware(
                    registry=self.registry, app_name=settings.service_name, metrics_prefix="faststream"
                )
            ],
            log_level=logging.DEBUG,
            security=settings.faststream_security(),
            **settings.producer_kwargs(),
        )
        self.stopping = asyncio.Event()
        self.mongo: AsyncMongoClient[dict[str, Any]] | None = None
        self.stores: dict[str, AggregateStore] = {}
        self.registry.register(StoreCollector(settings.service_name, self.stores))
        self.registry.register(GcCollector(settings.service_name))
        self.journal = OutboxJournal(lambda: self.db[JOURNAL_COLLECTION])
        self.relay = OutboxRelay(
            self.journal,
            self._store_collection,
            self._enqueue_outbox,
            self.metrics,
            stale_after=settings.outbox_stale_after_s,
            max_backlog=settings.outbox_max_backlog,
        )
        self.metrics.outbox_oldest_age.set_function(self.relay.oldest_age)
        self.retry = TransientRetry(self.metrics, self.stopping)
        self.dead_letters = DeadLetterSink(self._publish_raw, settings.service_name, self._count_dead_letter)
        self._publishers: dict[str, Any] = {}
        self._topics: dict[str, TopicSpec] = {}
        self._subscribers: list[Any] = []
        self.consumed: dict[str, list[type[EventData]]] = {}
        self.published: dict[str, Route] = {}
        self.received: dict[str, Route] = {}
        self._periodic: list[tuple[str, float, Periodic]] = []
        self.leases: dict[str, LeaseKeeper] = {}
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
            schema_base=self.settings.schema_base_url(),
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

    # -- runtime ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        log.info(
            "starting %s (instance %s) with kafka=%s mongodb=%s",
            s.service_name,
            s.instance_id,
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
            bootstrap_servers=s.bootstrap_list(),
            client_id=f"siaga-{s.service_name}-dlt",
            **s.producer_kwargs(),
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
        for keeper in self.leases.values():
            keeper.start()
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
        for keeper in self.leases.values():  # released: another instance takes over at once
            await keeper.stop()
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
