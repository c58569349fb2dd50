"""The topic registry: every Kafka topic Siaga owns, in one place.

Naming convention: ``siaga.<owning-service>.<stream>.v<major>``. ``events`` streams carry the facts a service
publishes (its public contract); inbound integration streams are named after what other agencies send
(``report-submissions``, ``status-updates``). Each consumed topic has a dead-letter topic named
``<topic>.dlt``. The major version in the name changes only with a breaking change of the stream itself
(keying or partitioning); payload versions travel in each event's ``schemaversion``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEAD_LETTER_PARTITIONS",
    "DEAD_LETTER_RETENTION_MS",
    "TOPICS",
    "TopicSpec",
    "dead_letter_topic",
    "topic",
]

DAY_MS = 24 * 3600 * 1000
DEAD_LETTER_PARTITIONS = 1
"""A dead-letter topic has one partition: it is read by people and tools, in the order letters came."""
DEAD_LETTER_RETENTION_MS = 90 * DAY_MS


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """What a topic is for and how it is configured."""

    name: str
    owner: str
    key: str
    description: str
    partitions: int = 6
    retention_ms: int = -1
    cleanup_policy: Literal["delete", "compact"] = "delete"

    @property
    def dead_letter(self) -> str:
        return dead_letter_topic(self.name)

    def config(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}


def dead_letter_topic(name: str) -> str:
    return f"{name}.dlt"


MEETINGS_EVENTS = TopicSpec(
    name="siaga.meetings.events.v1",
    owner="meetings",
    key="aggregate id: meeting id, action item id, or report obligation id",
    description="Facts from the meetings service: rakor, action items and reporting duties.",
    partitions=6,
)
MEETINGS_REPORT_SUBMISSIONS = TopicSpec(
    name="siaga.meetings.report-submissions.v1",
    owner="meetings",
    key="obligated region code",
    description="Inbound: other agencies' systems submit periodic reports here, validated like the HTTP API.",
    partitions=6,
    retention_ms=30 * DAY_MS,
)
LOGISTICS_EVENTS = TopicSpec(
    name="siaga.logistics.events.v1",
    owner="logistics",
    key="aggregate id: shipment id, plan id, or region code for readiness events",
    description="Facts from the logistics service: plans, shipments, delays, discrepancies, readiness.",
    partitions=12,
)
LOGISTICS_STATUS_UPDATES = TopicSpec(
    name="siaga.logistics.status-updates.v1",
    owner="logistics",
    key="shipment id",
    description="Inbound: status and scan updates from another agency's logistics system.",
    partitions=12,
    retention_ms=30 * DAY_MS,
)
NOTIFICATIONS_EVENTS = TopicSpec(
    name="siaga.notifications.events.v1",
    owner="notifications",
    key="alert fingerprint",
    description="Facts from the notifications service: alert lifecycle and delivery outcomes.",
    partitions=6,
)
NOTIFICATIONS_ALERTS = TopicSpec(
    name="siaga.notifications.alerts.v1",
    owner="notifications",
    key="alert fingerprint",
    description="The 'topic' delivery channel: rendered alert notifications for agency systems.",
    partitions=6,
    retention_ms=90 * DAY_MS,
)

TOPICS: dict[str, TopicSpec] = {
    t.name: t
    for t in (
        MEETINGS_EVENTS,
        MEETINGS_REPORT_SUBMISSIONS,
        LOGISTICS_EVENTS,
        LOGISTICS_STATUS_UPDATES,
        NOTIFICATIONS_EVENTS,
        NOTIFICATIONS_ALERTS,
    )
}


def topic(name: str) -> TopicSpec:
    """Look up a registered topic; a typo fails loudly at start-up rather than creating a stray topic."""
    try:
        return TOPICS[name]
    except KeyError:
        raise KeyError(f"topic {name!r} is not in the Siaga topic registry") from None
