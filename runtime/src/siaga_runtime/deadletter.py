"""Dead letters: the original record, untouched, plus why it could not be processed.

A dead letter keeps the original key, value and headers and adds ``dlt.*`` headers: reason, error class
and message, service, time, and the source topic, partition and offset.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from siaga_schemas import DeadLetterReason, dead_letter_topic

__all__ = ["DeadLetter", "DeadLetterSink", "dead_letter_headers", "parse_dead_letter_headers"]

HEADER_PREFIX = "dlt."
MAX_MESSAGE = 1000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
    reason: DeadLetterReason
    error_class: str
    message: str


def dead_letter_headers(
    dl: DeadLetter, service: str, when: datetime | None = None
) -> list[tuple[str, bytes]]:
    extra = {
        "reason": dl.reason.value,
        "error.class": dl.error_class,
        "error.message": dl.message[:MAX_MESSAGE],
        "service": service,
        "time": (when or datetime.now(UTC)).isoformat(),
        "source.topic": dl.topic,
        "source.partition": str(dl.partition),
        "source.offset": str(dl.offset),
    }
    original = [(k, v) for k, v in dl.headers if not k.startswith(HEADER_PREFIX)]
    return original + [(HEADER_PREFIX + k, v.encode()) for k, v in extra.items()]


def parse_dead_letter_headers(
    headers: Sequence[tuple[str, bytes]],
) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    """Split a dead letter's headers into its ``dlt.*`` metadata and the original headers."""
    meta: dict[str, str] = {}
    original: list[tuple[str, bytes]] = []
    for k, v in headers:
        if k.startswith(HEADER_PREFIX):
            meta[k[len(HEADER_PREFIX) :]] = v.decode(errors="replace")
        else:
            original.append((k, v))
    return meta, original


# send(topic, key, value, headers) -> awaitable resolved once the broker has the record
RawSend = Callable[[str, bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[Any]]


class DeadLetterSink:
    """Publishes dead letters and counts them. Awaited before the source offset is committed."""

    def __init__(self, send: RawSend, service: str, on_dead_letter: Callable[[DeadLetter], None]) -> None:
        self._send = send
        self._service = service
        self._on_dead_letter = on_dead_letter

    async def publish(
        self, letters: Sequence[DeadLetter], dead_letter_topic_of: Callable[[str], str]
    ) -> None:
        import asyncio

        await asyncio.gather(
            *(
                self._send(
                    dead_letter_topic_of(dl.topic), dl.key, dl.value, dead_letter_headers(dl, self._service)
                )
                for dl in letters
            )
        )
        for dl in letters:
            self._on_dead_letter(dl)


def default_dead_letter_topic(source_topic: str) -> str:
    return dead_letter_topic(source_topic)
