"""The notifications service's own metrics, beside the runtime's (``siaga_events_*``, ``siaga_outbox_*``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["NotificationMetrics"]

ALERT_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class NotificationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "siaga_notifications_delivery_attempts_total",
            "Delivery attempts per channel and outcome (delivered, retry, failed).",
            ["channel", "outcome"],
            registry=registry,
        )
        self.delivery_latency = Histogram(
            "siaga_notifications_delivery_latency_seconds",
            "From a notification being decided (group flush) to its delivery, per channel.",
            ["channel"],
            buckets=ALERT_LATENCY_BUCKETS,
            registry=registry,
        )
        self.escalations = Counter(
            "siaga_notifications_escalation_steps_total",
            "Escalation steps fired because nobody acknowledged in time.",
            registry=registry,
        )
