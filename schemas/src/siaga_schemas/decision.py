"""What a pure domain returns to the runtime: a document's next state and the events it emits.

It lives here, not in ``siaga_runtime``, so that a domain depends on the contracts only and never on the
packages that do I/O (pymongo, aiokafka, FastStream).

The hand-off is generic: ``Decision[State]`` carries a state of the document type ``State`` (a mapping),
``Decide[State, Event]`` is a reducer from a document and an ``Event`` to such a decision, ``Change[State]``
one change of one document. ``State`` defaults to ``Doc`` and ``Event`` to ``AnyEnvelope`` (what the
runtime stores and routes), so a bare ``Decision`` is ``Decision[Doc]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic

from typing_extensions import TypeVar  # a TypeVar with a default (PEP 696) before Python 3.13

from .envelope import AnyEnvelope, EventData

__all__ = ["Change", "Decide", "Decision", "Doc", "Event", "State"]

# A stored document: the state a service decides, plus the store's reserved fields, as read from BSON.
Doc = dict[str, Any]

State = TypeVar("State", bound=Mapping[str, object], default=Doc)
Event = TypeVar("Event", default=AnyEnvelope)


@dataclass(slots=True)
class Decision(Generic[State]):
    """The outcome of applying one event or command to one document.

    ``state`` is the new state (``None``: nothing changes and nothing is written; deciding the same event
    again later must then again change nothing); ``emit`` are the events to publish, in order.
    """

    state: State | None
    emit: Sequence[EventData | AnyEnvelope] = ()


Decide = Callable[[State | None, Event], Decision[State]]  # a reducer: (document, event) -> decision
Change = Callable[[State | None], Decision[State]]  # one change of one document (merge, mutate)
