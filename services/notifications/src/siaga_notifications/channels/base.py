"""The one protocol every delivery channel implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .links import Action

__all__ = ["IDEMPOTENCY_HEADER", "ChannelError", "ChannelSender", "Outgoing"]

# The header every HTTP delivery carries: the notification id, the same on every attempt from any instance.
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One rendered notification for one address. ``notification_id`` lets receivers drop repeats."""

    notification_id: str
    address: str | None
    title: str
    body: str
    language: str
    payload: dict[str, Any]
    actions: list[Action] = field(default_factory=list)
    """Signed acknowledge links, one per alert the recipient can act on (firing notifications only)."""


class ChannelError(Exception):
    """A failed send; ``retryable`` says whether another attempt may succeed. Messages never hold secrets."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ChannelSender(Protocol):
    name: str

    async def send(self, message: Outgoing) -> None:
        """Deliver or raise ``ChannelError``."""
        ...

    async def close(self) -> None: ...


def http_status_error(status: int) -> ChannelError:
    retryable = status >= 500 or status in (408, 425, 429)
    return ChannelError(f"HTTP {status}", retryable=retryable)
