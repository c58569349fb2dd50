"""Which failures are transient (wait and retry) and which are the event's fault (dead-letter it)."""

from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WaitQueueTimeoutError

__all__ = ["EventRejected", "is_transient"]


class EventRejected(Exception):
    """Raised by a decide function: the event is well-formed but violates a domain rule.

    The event goes to the dead-letter topic with this message; the rest of the batch is applied.
    """


def is_transient(exc: BaseException) -> bool:
    """True for failures of a dependency that will pass: the consumer backs off and retries."""
    if isinstance(exc, ConnectionFailure | ExecutionTimeout | WaitQueueTimeoutError):
        return True
    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError):
        return True
    if isinstance(exc, KafkaError) and getattr(exc, "retriable", False):
        return True
    return isinstance(exc, ConnectionError | TimeoutError)
