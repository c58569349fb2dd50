"""Siaga shared runtime: what every service stands on.

- ``ServiceRuntime``: broker, MongoDB client, stores, batch subscribers, outbox relay, timers, shutdown.
- ``AggregateStore`` / ``Decision``: single-document writes carrying state, dedup record and outbox.
- ``Projection``: how a topic's events change one kind of document.
- ``DueIndex``: durable timers found by point reads (time buckets), for sweeps that scale.
- ``make_http_app``: FastAPI with health, metrics, AsyncAPI and scoped bearer auth.
"""

from .auth import Authenticator, Caller, Principal, Role, current_principal
from .clock import AcceleratedClock, Clock, ManualClock, SystemClock
from .consumer import BatchPipeline, Projection
from .errors import EventRejected, is_transient
from .http import asyncapi_document, make_http_app
from .journal import OutboxJournal
from .logs import bind, configure_logging
from .metrics import RuntimeMetrics
from .records import ApplyResult, Change, Decide, Position, Routed, strip_reserved
from .service import ServiceRuntime
from .settings import RuntimeSettings
from .store import AggregateStore, Decision, Doc
from .timers import DueIndex

__all__ = [
    "AcceleratedClock",
    "AggregateStore",
    "ApplyResult",
    "Authenticator",
    "BatchPipeline",
    "Caller",
    "Change",
    "Clock",
    "Decide",
    "Decision",
    "Doc",
    "DueIndex",
    "EventRejected",
    "ManualClock",
    "OutboxJournal",
    "Position",
    "Principal",
    "Projection",
    "Role",
    "Routed",
    "RuntimeMetrics",
    "RuntimeSettings",
    "ServiceRuntime",
    "SystemClock",
    "asyncapi_document",
    "bind",
    "configure_logging",
    "current_principal",
    "is_transient",
    "make_http_app",
    "strip_reserved",
]
