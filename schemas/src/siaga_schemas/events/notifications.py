"""Events published by the notifications service (topic ``siaga.notifications.events.v1``)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from ..codec import registry
from ..common import Identifier, Severity, Timestamp
from ..envelope import EventData
from ..regions import RegionCode
from ..topics import NOTIFICATIONS_ALERTS, NOTIFICATIONS_EVENTS

__all__ = [
    "AlertAcknowledged",
    "AlertEscalated",
    "AlertNotification",
    "AlertRaised",
    "AlertResolved",
    "Channel",
    "NotificationDelivered",
    "NotificationFailed",
]


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    TELEGRAM = "telegram"
    TOPIC = "topic"
    WHATSAPP = "whatsapp"


class _AlertEvent(EventData):
    topic: ClassVar[str] = NOTIFICATIONS_EVENTS.name

    alert_id: Identifier = Field(description="Alert id.", examples=["alr-0192f5c4"])
    fingerprint: str = Field(
        max_length=128,
        pattern=r"^[0-9a-f]{16,128}$",
        description="Dedup key of the alert.",
        examples=["9f2c1e0a7b3d4c5e"],
    )

    def partition_key(self) -> str:
        return self.fingerprint


@registry.register
class AlertRaised(_AlertEvent):
    """An alert was raised from a Siaga event or from Prometheus Alertmanager."""

    event_type: ClassVar[str] = "siaga.notifications.alert-raised"

    severity: Severity = Field(description="Severity.", examples=["critical"])
    region: RegionCode | None = Field(None, description="Region concerned.", examples=["65.01"])
    labels: dict[str, str] = Field(
        default_factory=dict, description="Alert labels.", examples=[{"alertname": "shipment-delayed"}]
    )
    summary: str = Field(
        max_length=1000, description="One-line summary.", examples=["Pengiriman shp-1 terlambat"]
    )
    cause_event_id: str | None = Field(
        None,
        max_length=64,
        description="Event that raised it.",
        examples=["0192f5c4-5b7e-7cc2-9a6e-2f4b1c8d9e01"],
    )
    starts_at: Timestamp = Field(description="When it started firing.")


@registry.register
class AlertEscalated(_AlertEvent):
    """An unacknowledged alert went up to the next level of its escalation chain."""

    event_type: ClassVar[str] = "siaga.notifications.alert-escalated"

    step: int = Field(ge=0, description="Escalation step reached (0 is the first).", examples=[1])
    receiver: str = Field(
        max_length=120, description="Receiver notified at this step.", examples=["kpu-province"]
    )
    escalated_at: Timestamp = Field(description="When.")


@registry.register
class AlertAcknowledged(_AlertEvent):
    """Someone on duty acknowledged an alert; its escalation stops."""

    event_type: ClassVar[str] = "siaga.notifications.alert-acknowledged"

    acknowledged_by: str = Field(max_length=120, description="Account.", examples=["kpu-65-coordinator"])
    comment: str | None = Field(None, max_length=2000, description="Comment.", examples=["Speedboat dikirim"])
    acknowledged_at: Timestamp = Field(description="When.")
    until_resolved: bool = Field(
        False,
        description="Muted until it resolves: no reminders either (a re-fire after it resolves notifies again).",
        examples=[False],
    )


@registry.register
class AlertResolved(_AlertEvent):
    """An alert's condition cleared (or it was resolved by hand)."""

    event_type: ClassVar[str] = "siaga.notifications.alert-resolved"

    resolved_at: Timestamp = Field(description="When.")
    resolved_by: str | None = Field(
        None,
        max_length=120,
        description="Account, or none when the cause cleared.",
        examples=["kpu-65-coordinator"],
    )
    reason: str = Field(max_length=200, description="Why.", examples=["cause cleared: shipment delivered"])


class _NotificationEvent(_AlertEvent):
    notification_id: Identifier = Field(description="Notification id.", examples=["ntf-0192f5c4"])
    channel: Channel = Field(description="Delivery channel.", examples=["webhook"])
    contact_id: Identifier = Field(
        description="Directory contact (never the address itself).", examples=["ct-kpu-65.01-log"]
    )
    attempt: int = Field(ge=1, description="Delivery attempt.", examples=[1])


@registry.register
class NotificationDelivered(_NotificationEvent):
    """A notification of an alert reached its channel (webhook, e-mail, Telegram, topic)."""

    event_type: ClassVar[str] = "siaga.notifications.notification-delivered"

    delivered_at: Timestamp = Field(description="When the channel accepted it.")


@registry.register
class NotificationFailed(_NotificationEvent):
    """A notification of an alert could not be delivered after its retries."""

    event_type: ClassVar[str] = "siaga.notifications.notification-failed"

    failed_at: Timestamp = Field(description="When.")
    error: str = Field(
        max_length=500, description="Error class and message, secrets redacted.", examples=["HTTP 503"]
    )
    will_retry: bool = Field(description="Whether another attempt follows.", examples=[True])


@registry.register
class AlertNotification(EventData):
    """The 'topic' channel: a rendered alert for agency systems on ``siaga.notifications.alerts.v1``."""

    event_type: ClassVar[str] = "siaga.notifications.alert-notification"
    topic: ClassVar[str] = NOTIFICATIONS_ALERTS.name

    alert_ids: list[Identifier] = Field(
        min_length=1, description="Alerts in this notification (a group).", examples=[["alr-0192f5c4"]]
    )
    group_key: str = Field(max_length=300, description="Grouping key.", examples=["region=65.01"])
    severity: Severity = Field(description="Highest severity in the group.", examples=["critical"])
    region: RegionCode | None = Field(None, description="Region.", examples=["65.01"])
    title: str = Field(
        max_length=300, description="Rendered title.", examples=["3 pengiriman terlambat di Kab. Bulungan"]
    )
    body: str = Field(max_length=8000, description="Rendered body.", examples=["..."])
    language: str = Field(pattern=r"^(id|en)$", description="Language.", examples=["id"])
    status: str = Field(pattern=r"^(firing|resolved)$", description="Group status.", examples=["firing"])

    def partition_key(self) -> str:
        return self.group_key
