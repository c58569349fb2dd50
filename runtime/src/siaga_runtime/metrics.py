"""Runtime metrics, named after Prometheus conventions (base units, ``_total`` counters)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .store import AggregateStore

__all__ = ["RuntimeMetrics", "StoreCollector"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RuntimeMetrics:
    """One set of runtime metrics per service instance, in the instance's own registry.

    Every instance is its own scrape target, so Prometheus' ``instance`` target label tells instances
    apart; ``siaga_instance_info`` maps a target to the instance id (``INSTANCE_ID``) its logs and leases
    carry.
    """

    def __init__(self, registry: CollectorRegistry, service: str, instance_id: str = "") -> None:
        self.registry = registry
        self.service = service
        self.instance_id = instance_id
        self.instance_info = Gauge(
            "siaga_instance_info",
            "Always 1: the service and instance id of this scrape target.",
            ["service", "instance_id"],
            registry=registry,
        )
        self.instance_info.labels(service, instance_id).set(1)
        self.lease_owned = Gauge(
            "siaga_lease_owned",
            "1 while this instance holds the lease (the right to run one periodic job), 0 otherwise.",
            ["lease"],
            registry=registry,
        )
        self.events_applied = Counter(
            "siaga_events_applied_total",
            "Events whose effect was applied.",
            ["service", "topic", "type"],
            registry=registry,
        )
        self.duplicates_skipped = Counter(
            "siaga_events_duplicates_skipped_total",
            "Events skipped because their effect was already applied (same envelope id).",
            ["service", "topic"],
            registry=registry,
        )
        self.events_ignored = Counter(
            "siaga_events_ignored_total",
            "Events of a published type this consumer does not handle (skipped, not dead-lettered).",
            ["service", "topic"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "siaga_dead_letters_total",
            "Records sent to a dead-letter topic, by reason.",
            ["service", "topic", "reason"],
            registry=registry,
        )
        self.transient_retries = Counter(
            "siaga_transient_retries_total",
            "Retries after a dependency (MongoDB or Kafka) was unavailable.",
            ["service", "dependency"],
            registry=registry,
        )
        self.outbox_backlog = Gauge(
            "siaga_outbox_backlog_events", "Events saved but not yet published.", registry=registry
        )
        self.outbox_oldest_age = Gauge(
            "siaga_outbox_oldest_age_seconds",
            "Age of the oldest event this instance saved but has not yet published (0: none waiting); "
            "read at scrape time, so it grows while the relay is stuck.",
            registry=registry,
        )
        self.outbox_published = Counter(
            "siaga_outbox_published_total", "Events published by the outbox relay.", registry=registry
        )
        self.batch_duration = Histogram(
            "siaga_handler_duration_seconds",
            "Time to validate, apply and persist one consumed batch.",
            ["service", "topic"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "siaga_consumer_batch_records",
            "Records per consumed batch.",
            ["service", "topic"],
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "siaga_consumer_lag_records",
            "Records between the consumer position and the partition's high watermark.",
            ["service", "topic", "partition"],
            registry=registry,
        )
        self.rebalances = Counter(
            "siaga_consumer_rebalances_total",
            "Partition assignments this instance's consumer of a topic received (one per group rebalance).",
            ["service", "topic"],
            registry=registry,
        )
        self.assigned_partitions = Gauge(
            "siaga_consumer_assigned_partitions",
            "Partitions of the topic assigned to this instance's consumer now.",
            ["service", "topic"],
            registry=registry,
        )
        self.dependency_up = Gauge(
            "siaga_dependency_up",
            "1 when the dependency answered its last check.",
            ["dependency"],
            registry=registry,
        )

    def set_lease(self, lease: str, owned: bool) -> None:
        """Record whether this instance holds ``lease`` now (``siaga_lease_owned``)."""
        self.lease_owned.labels(lease).set(1 if owned else 0)

    def partitions_revoked(self, topic: str, partitions: Iterable[int]) -> None:
        """Forget the lag of partitions this instance no longer consumes (another instance reports it)."""
        for partition in partitions:
            with contextlib.suppress(KeyError):
                self.consumer_lag.remove(self.service, topic, str(partition))
        self.assigned_partitions.labels(self.service, topic).set(0)

    def partitions_assigned(self, topic: str, count: int) -> None:
        self.rebalances.labels(self.service, topic).inc()
        self.assigned_partitions.labels(self.service, topic).set(count)


class StoreCollector(Collector):
    """The stores' own counts, read at scrape time: what their caches answered, what they read and wrote.

    A store counts with plain integers on its hot path; this turns them into series when Prometheus asks.
    """

    def __init__(self, service: str, stores: Mapping[str, AggregateStore]) -> None:
        self.service = service
        self.stores = stores

    def collect(self) -> Iterator[Metric]:
        labels = ["service", "store"]
        lookups = CounterMetricFamily(
            "siaga_store_cache_lookups",
            "Lookups in a store's write-through cache, by the tier that answered (miss: read from the database).",
            labels=[*labels, "tier"],
        )
        reads = CounterMetricFamily(
            "siaga_store_documents_read", "Documents read from the database by a store.", labels=labels
        )
        writes = CounterMetricFamily(
            "siaga_store_documents_written", "Documents a store wrote to the database.", labels=labels
        )
        written = CounterMetricFamily(
            "siaga_store_written_bytes",
            "BSON bytes of the documents a store wrote, before compression.",
            labels=labels,
        )
        cached = GaugeMetricFamily(
            "siaga_store_cache_bytes",
            "What a store's cache holds, by tier (decoded: charged at its Python size).",
            labels=[*labels, "tier"],
        )
        for name, store in self.stores.items():
            cache = store.cache
            key = [self.service, name]
            lookups.add_metric([*key, "decoded"], cache.hits_decoded)
            lookups.add_metric([*key, "packed"], cache.hits_packed)
            lookups.add_metric([*key, "miss"], cache.misses)
            reads.add_metric(key, store.reads)
            writes.add_metric(key, store.writes)
            written.add_metric(key, store.written_bytes)
            cached.add_metric([*key, "decoded"], cache.decoded_bytes)
            cached.add_metric([*key, "packed"], cache.packed_bytes)
        yield from (lookups, reads, writes, written, cached)
