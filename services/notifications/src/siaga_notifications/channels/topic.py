"""The ``siaga.notifications.alerts.v1`` channel. Sending is the delivery document's own outbox: the worker's
"delivered" write emits the ``AlertNotification`` in the same document write, so it is published exactly
once per notification id (the relay is at-least-once; consumers deduplicate on the event id)."""

from __future__ import annotations

from .base import Outgoing

__all__ = ["TopicSender"]


class TopicSender:
    name = "topic"

    async def send(self, message: Outgoing) -> None:
        return None

    async def close(self) -> None:
        return None
