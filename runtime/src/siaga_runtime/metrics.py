"""Runtime metrics, named after Prometheus conventions (base units, ``_total`` counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["RuntimeMetrics"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RuntimeMetrics:
    """One set of runtime metrics per service, in the service's own registry."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.registry = registry
        self.service = service
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
            "siaga_outbox_oldest_age_seconds", "Age of the oldest unpublished event.", registry=registry
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
        self.dependency_up = Gauge(
            "siaga_dependency_up",
            "1 when the dependency answered its last check.",
            ["dependency"],
            registry=registry,
        )
