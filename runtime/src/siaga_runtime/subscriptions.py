"""The topics of a service on its broker: outbound publishers, batch subscribers, topic creation and the
consumer lag, with the payload models each topic documents. ``ServiceRuntime`` (in ``service``) takes these
from ``TopicWiring``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from siaga_schemas import Envelope, EventData, TopicSpec, dead_letter_topic, registry
from siaga_schemas.topics import DEAD_LETTER_PARTITIONS, DEAD_LETTER_RETENTION_MS

from .consumer import AnyProjection, BatchPipeline, TransientRetry
from .deadletter import DeadLetterSink
from .logs import bind
from .metrics import RuntimeMetrics
from .outbox import OutboxRelay
from .settings import RuntimeSettings

__all__ = ["Route", "TopicWiring", "envelope_union", "topic_models"]


def topic_models(topic: str) -> list[type[EventData]]:
    """Payload models whose events travel on ``topic`` (by the topic registry)."""
    return [m for m in registry.models() if m.topic == topic]


def envelope_union(models: Sequence[type[EventData]]) -> Any:
    """``Envelope[A] | Envelope[B] | …`` for documentation."""
    types = tuple(Envelope[m] for m in models)  # type: ignore[valid-type]
    return types[0] if len(types) == 1 else Union[types]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class Route:
    """One topic this service publishes to or consumes, with the event models it carries there (what its
    AsyncAPI document says about it)."""

    spec: TopicSpec
    models: tuple[type[EventData], ...]
    description: str


async def default_replication_factor(admin: AIOKafkaAdminClient) -> int:
    """The cluster's ``default.replication.factor`` (aiokafka's ``NewTopic`` cannot leave it to the broker);
    1 when a broker does not say. Not capped at the live brokers: a topic created while a broker is away
    would stay under-replicated for good, so creating it waits (retries) until the broker is back.

    A single broker can hold one replica only: then no request is made (the metadata of the client's
    bootstrap already lists the brokers), which keeps a service's start as quick as before on one node."""
    brokers = sorted(b.nodeId for b in admin._client.cluster.brokers())  # the bootstrap's cached metadata
    if len(brokers) <= 1:
        return 1
    key = "default.replication.factor"
    resource = ConfigResource(ConfigResourceType.BROKER, str(brokers[0]), {key: None})
    for response in await admin.describe_configs([resource]):
        for res in response.to_object().get("resources", []):
            for entry in res.get("config_entries", []):
                if entry.get("config_names") == key and str(entry.get("config_value", "")).isdigit():
                    return max(1, int(entry["config_value"]))
    return 1


class PartitionMetrics(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts this instance's rebalances of a topic's consumer and forgets the lag of revoked partitions
    (the instance they move to reports it), so lag summed over instances counts each partition once."""

    def __init__(self, metrics: RuntimeMetrics, topic: str) -> None:
        self.metrics = metrics
        self.topic = topic

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.metrics.partitions_revoked(
            self.topic, [tp.partition for tp in revoked if tp.topic == self.topic]
        )

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.metrics.partitions_assigned(self.topic, sum(1 for tp in assigned if tp.topic == self.topic))


class TopicWiring:
    """Declaring the topics a service publishes and consumes, and creating them (a ``ServiceRuntime`` part)."""

    settings: RuntimeSettings
    broker: KafkaBroker
    metrics: RuntimeMetrics
    retry: TransientRetry
    dead_letters: DeadLetterSink
    relay: OutboxRelay
    consumed: dict[str, list[type[EventData]]]
    published: dict[str, Route]
    received: dict[str, Route]
    _publishers: dict[str, Any]
    _topics: dict[str, TopicSpec]
    _subscribers: list[Any]

    def publisher(self, spec: TopicSpec, *, schema: Any = None, description: str | None = None) -> Any:
        """Declare an outbound topic once (it appears in the AsyncAPI document)."""
        name = self.settings.topic_name(spec.name)
        if name not in self._publishers:
            self._topics[spec.name] = spec
            models = topic_models(spec.name)
            self.published[spec.name] = Route(spec, tuple(models), description or spec.description)
            if schema is None:
                schema = envelope_union(models) if models else None
            self._publishers[name] = self.broker.publisher(
                name, schema=schema, title=f"{name}:publish", description=description or spec.description
            )
        return self._publishers[name]

    def subscribe(
        self,
        spec: TopicSpec,
        projections: Sequence[AnyProjection],
        *,
        accept: set[str] | None = None,
        description: str | None = None,
    ) -> BatchPipeline:
        """Consume a topic in batches: decode, dead-letter, apply idempotently, then commit."""
        name = self.settings.topic_name(spec.name)
        self._topics[spec.name] = spec
        models = [
            m
            for m in registry.models()
            if (m.event_type in accept if accept is not None else m.topic == spec.name)
        ]
        self.consumed[f"{name}:consume"] = models
        self.received[spec.name] = Route(spec, tuple(models), description or spec.description)
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
            max_partition_fetch_bytes=self.settings.max_partition_fetch_bytes,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            partition_assignment_strategy=self.settings.partition_assignors(),
            listener=PartitionMetrics(self.metrics, name),
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
            # the next batch is fetched once the events this one saved are mostly out (bounded memory)
            await self.relay.room()

        subscriber(handle)
        self._subscribers.append(subscriber)
        return pipeline

    async def ensure_topics(self) -> None:
        specs = list(self._topics.values())
        names = {self.settings.topic_name(t.name): t for t in specs}
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.bootstrap_list(), **self.settings.kafka_security_kwargs()
        )
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            replicas = self.settings.kafka_replication_factor or await default_replication_factor(admin)
            wanted = []
            for name, spec in names.items():
                if name not in existing:
                    wanted.append(NewTopic(name, spec.partitions, replicas, topic_configs=spec.config()))
                dlt = dead_letter_topic(name)
                if dlt not in existing:
                    wanted.append(
                        NewTopic(
                            dlt,
                            DEAD_LETTER_PARTITIONS,
                            replicas,
                            topic_configs={"retention.ms": str(DEAD_LETTER_RETENTION_MS)},
                        )
                    )
            for topic in wanted:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([topic])
        finally:
            await admin.close()

    def _observe_lag(self, msg: KafkaMessage, records: Sequence[Any]) -> None:
        consumer = getattr(msg, "consumer", None)
        if consumer is None or not hasattr(consumer, "highwater"):
            return
        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), -1), r.offset)
        for (topic, partition), offset in last.items():
            high = consumer.highwater(TopicPartition(topic, partition))
            if high is not None:
                self.metrics.consumer_lag.labels(self.settings.service_name, topic, str(partition)).set(
                    max(high - offset - 1, 0)
                )
