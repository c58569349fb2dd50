"""What a pure domain returns to the runtime: a document's next state and the events it emits.

It lives here, not in ``siaga_runtime``, so that a domain depends on the contracts only and never on the
packages that do I/O (pymongo, aiokafka, FastStream)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .envelope import AnyEnvelope, EventData

__all__ = ["Decision", "Doc"]

Doc = dict[str, Any]


@dataclass(slots=True)
class Decision:
    """The outcome of applying one event or command to one document.

    ``state`` is the new state (``None``: nothing changes and nothing is written; deciding the same event
    again later must then again change nothing); ``emit`` are the events to publish, in order.
    """

    state: Doc | None
    emit: Sequence[EventData | AnyEnvelope] = ()
