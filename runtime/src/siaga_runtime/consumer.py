"""Batch consumption: decode, dead-letter what can never work, apply the rest idempotently, then commit.

The subscriber that calls ``BatchPipeline.process`` commits the batch's offsets only after ``process``
returns, so an offset is committed only once every effect of the batch is durable in MongoDB and every dead
letter is acknowledged by Kafka. Transient failures (MongoDB or Kafka unavailable) are retried with backoff
until the dependency returns; they never produce dead letters.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, Protocol, TypeVar

from siaga_schemas import (
    AnyEnvelope,
    DeadLetterReason,
    InvalidEvent,
    dead_letter_topic,
    decode_event,
    registry,
)
from siaga_schemas.decision import Decide, Event, State
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from .batch_writes import paced
from .deadletter import DeadLetter, DeadLetterSink
from .due_pages import DuePages, TimerRoute
from .errors import EventRejected, is_transient
from .logs import bind
from .metrics import RuntimeMetrics
from .records import ApplyResult, BeforeWrite, Position, Routed

__all__ = [
    "AnyProjection",
    "Applier",
    "BatchPipeline",
    "ConsumedRecord",
    "Projection",
    "TimerProjection",
    "TransientRetry",
]

log = logging.getLogger(__name__)


T = TypeVar("T")
# The protocol's own parameters: its decide reads the event (hence covariant) and returns the state.
S = TypeVar("S", bound=Mapping[str, object])
E_co = TypeVar("E_co", covariant=True)


class ConsumedRecord(Protocol):
    """What the pipeline reads of a consumed Kafka record (aiokafka's ``ConsumerRecord``)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]] | None: ...


class Applier(Protocol[S, E_co]):
    """What a projection writes through, typed by the documents it holds and the events it decides on:
    an ``AggregateStore`` (``Applier[Doc, AnyEnvelope]``) or a service's own (a rollup, a write-once
    store) that decides with the projection's ``decide``."""

    async def apply(
        self,
        items: Sequence[Routed],
        decide: Decide[S, E_co],
        /,
        *,
        scope: str = "",
        before_write: BeforeWrite | None = None,
    ) -> ApplyResult: ...


@dataclass(frozen=True, slots=True)
class Projection(Generic[State, Event]):
    """How one kind of document reacts to a topic: which document an event targets, and what changes.

    ``route`` returns the document id, or ``None`` when this projection ignores the event; ``decide`` is
    the reducer the store applies it with. ``Projection[State, Event]`` makes mypy check that the three
    agree: ``route`` takes an ``Event``, ``decide`` takes a ``State`` and an ``Event`` and returns a
    ``Decision[State]``, and ``store`` is an ``Applier[State, Event]``. The pipeline routes every decoded
    event, so a projection it consumes with (``AnyProjection``) has ``Event = AnyEnvelope``.
    """

    name: str
    store: Applier[State, Event]
    route: Callable[[Event], str | None]
    decide: Decide[State, Event]

    async def apply(self, items: Sequence[Routed], before_write: BeforeWrite | None = None) -> ApplyResult:
        """Apply routed events through the store with this projection's decide (and name as its scope)."""
        return await self.store.apply(items, self.decide, scope=self.name, before_write=before_write)


@dataclass(frozen=True, slots=True)
class TimerProjection:
    """How a topic's events schedule timers: ``route`` picks the events (``None``: ignored), ``when``
    says which documents are due when (``due_pages.TimerRoute``); scheduling is idempotent."""

    name: str
    index: DuePages
    route: Callable[[AnyEnvelope], str | None]
    when: TimerRoute

    async def apply(self, items: Sequence[Routed], before_write: BeforeWrite | None = None) -> ApplyResult:
        return await self.index.apply(items, self.when, scope=self.name, before_write=before_write)


class AnyProjection(Protocol):
    """A projection as the pipeline sees it, whatever its document type (``Projection[State,
    AnyEnvelope]``, ``TimerProjection``): it has a name, routes decoded events and applies them."""

    @property
    def name(self) -> str: ...

    @property
    def route(self) -> Callable[[AnyEnvelope], str | None]: ...

    async def apply(
        self, items: Sequence[Routed], before_write: BeforeWrite | None = None
    ) -> ApplyResult: ...


class TransientRetry:
    """Retry an operation while its failure is transient (``is_transient``), backing off exponentially up
    to ``max_backoff`` seconds; stop only when shutting down. Built on tenacity."""

    def __init__(self, metrics: RuntimeMetrics, stopping: asyncio.Event, max_backoff: float = 5.0) -> None:
        self.metrics = metrics
        self.stopping = stopping
        self.max_backoff = max_backoff

    def _count(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        dependency = "kafka" if exc is not None and "kafka" in type(exc).__module__ else "mongodb"
        self.metrics.transient_retries.labels(self.metrics.service, dependency).inc()
        self.metrics.dependency_up.labels(dependency).set(0)
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "%s: %s unavailable (%s); retrying in %.1fs",
            state.kwargs.get("what", "operation"),
            dependency,
            type(exc).__name__,
            wait,
        )

    async def run(self, op: Callable[[], Awaitable[T]], what: str) -> T:
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=lambda _: self.stopping.is_set(),
            wait=wait_exponential(multiplier=0.1, min=0.1, max=self.max_backoff),
            before_sleep=self._count,
            reraise=True,
        )
        return await retrying(_call, op, what=what)


async def _call(op: Callable[[], Awaitable[T]], *, what: str) -> T:
    del what  # named for the log line of a retry
    return await op()


def _published_type(exc: InvalidEvent) -> bool:
    """Whether the record is an event of a type in the published contracts (``siaga_schemas.registry``).

    A consumer that handles only some of a topic's types skips the others; only types nobody publishes
    (and malformed records) are dead letters.
    """
    return exc.event_type is not None and exc.event_type in registry.types()


class BatchPipeline:
    """Everything between a batch of raw records and the commit of their offsets."""

    def __init__(
        self,
        *,
        service: str,
        projections: Sequence[AnyProjection],
        dead_letters: DeadLetterSink,
        metrics: RuntimeMetrics,
        retry: TransientRetry,
        accept: set[str] | None = None,
        handler_retries: int = 3,
    ) -> None:
        self.service = service
        self.projections = list(projections)
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.retry = retry
        self.accept = accept
        self.handler_retries = handler_retries

    async def _decode(
        self, records: Sequence[ConsumedRecord]
    ) -> tuple[list[tuple[ConsumedRecord, AnyEnvelope]], list[DeadLetter]]:
        good: list[tuple[ConsumedRecord, AnyEnvelope]] = []
        bad: list[DeadLetter] = []
        ignored = 0
        async for r in paced(records):  # a large batch must not hold the event loop (see ``batch_writes``)
            try:
                env = decode_event(r.value, list(r.headers or ()), accept=self.accept)
            except InvalidEvent as exc:
                if exc.reason is DeadLetterReason.UNKNOWN_TYPE and _published_type(exc):
                    ignored += 1  # another consumer's event on a shared topic: nothing wrong with it
                    continue
                bad.append(self._letter(r, exc.reason, "InvalidEvent", exc.message))
                continue
            good.append((r, env))
        if ignored:
            self.metrics.events_ignored.labels(self.service, records[0].topic).inc(ignored)
        return good, bad

    @staticmethod
    def _letter(
        record: ConsumedRecord, reason: DeadLetterReason, error_class: str, message: str
    ) -> DeadLetter:
        return DeadLetter(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=list(record.headers or ()),
            reason=reason,
            error_class=error_class,
            message=message,
        )

    async def process(self, records: Sequence[ConsumedRecord]) -> None:
        if not records:
            return
        topic = records[0].topic
        started = time.perf_counter()
        good, letters = await self._decode(records)
        by_id = {env.id: rec for rec, env in good}
        sent: set[str] = set()

        async def dead_letter_first(rejected: Sequence[tuple[AnyEnvelope, Exception]]) -> None:
            """A rejected event's dead letter is acknowledged before the batch's writes, so that no crash
            in between can leave it neither applied nor dead-lettered (its offset may be covered by a
            watermark once the batch is written)."""
            out = [self._rejection(by_id[env.id], env, exc) for env, exc in rejected if env.id not in sent]
            if out:
                await self.retry.run(
                    lambda: self.dead_letters.publish(out, dead_letter_topic), "dead letters"
                )
                sent.update(env.id for env, _ in rejected)

        for projection in self.projections:
            items = [
                Routed(doc_id, env, Position(rec.topic, rec.partition, rec.offset))
                for rec, env in good
                if (doc_id := projection.route(env)) is not None
            ]
            if not items:
                continue
            result = await self._apply(projection, items, dead_letter_first)
            for env, exc in result.rejected:
                with bind(event_id=env.id, correlation_id=env.correlationid):
                    log.warning("event rejected by %s: %s: %s", projection.name, type(exc).__name__, exc)
                if env.id not in sent:
                    letters.append(self._rejection(by_id[env.id], env, exc))
            for event_type, n in result.applied_types.items():
                self.metrics.events_applied.labels(self.service, topic, event_type).inc(n)
            if result.duplicates:
                self.metrics.duplicates_skipped.labels(self.service, topic).inc(result.duplicates)
        if letters:
            unique = list({(dl.topic, dl.partition, dl.offset): dl for dl in letters}.values())
            await self.retry.run(lambda: self.dead_letters.publish(unique, dead_letter_topic), "dead letters")
        self.metrics.batch_size.labels(self.service, topic).observe(len(records))
        self.metrics.batch_duration.labels(self.service, topic).observe(time.perf_counter() - started)

    def _rejection(self, record: ConsumedRecord, env: AnyEnvelope, exc: Exception) -> DeadLetter:
        reason = (
            DeadLetterReason.SCHEMA_VIOLATION
            if isinstance(exc, EventRejected | ValueError)
            else DeadLetterReason.HANDLER_ERROR
        )
        return self._letter(record, reason, type(exc).__name__, str(exc))

    async def _apply(
        self, projection: AnyProjection, items: list[Routed], before_write: BeforeWrite
    ) -> ApplyResult:
        """Apply the batch; if a write keeps failing for a non-transient reason, isolate the culprit."""

        async def apply(batch: list[Routed]) -> ApplyResult:
            return await projection.apply(batch, before_write)

        try:
            return await self.retry.run(partial(apply, items), projection.name)
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning("batch write failed (%s); applying one event at a time", type(exc).__name__)
        total = ApplyResult()
        for item in items:
            last: Exception | None = None
            for _ in range(self.handler_retries + 1):
                try:
                    one = await self.retry.run(partial(apply, [item]), projection.name)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    last = exc
                    continue
                total.applied += one.applied
                total.duplicates += one.duplicates
                total.applied_types.update(one.applied_types)
                total.rejected.extend(one.rejected)
                last = None
                break
            if last is not None:
                total.rejected.append((item.event, last))
        return total
