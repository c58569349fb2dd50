"""Siaga shared runtime: what every service stands on.

- ``ServiceRuntime``: broker, MongoDB client, stores, batch subscribers, outbox relay, timers, shutdown.
- ``AggregateStore`` / ``Decision``: single-document writes carrying state, dedup record and outbox.
- ``Projection[State, Event]`` / ``TimerProjection``: how a topic's events change one kind of document,
  or schedule timers.
- ``DueIndex``: durable timers found by point reads (time buckets), for sweeps that scale.
- ``make_http_app``: FastAPI with health, metrics, AsyncAPI and scoped bearer auth; errors as RFC 9457
  problem details (``Problem``), authorization decided before body validation (``scope_from_body``).
"""

from .auth import (
    Authenticator,
    Caller,
    Principal,
    Role,
    Writer,
    admits,
    current_principal,
    current_writer,
    require_roles,
    scope_from_body,
)
from .clock import AcceleratedClock, Clock, ManualClock, SystemClock
from .consumer import BatchPipeline, Projection, TimerProjection
from .errors import EventRejected, is_transient
from .examples import example_json, example_of
from .http import asyncapi_document, make_http_app
from .journal import OutboxJournal
from .logs import bind, configure_logging
from .metrics import RuntimeMetrics
from .openapi import document_problems, omit_problems, problem_responses
from .problems import FieldError, Problem
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
    "FieldError",
    "ManualClock",
    "OutboxJournal",
    "Position",
    "Principal",
    "Problem",
    "Projection",
    "Role",
    "Routed",
    "RuntimeMetrics",
    "RuntimeSettings",
    "ServiceRuntime",
    "SystemClock",
    "TimerProjection",
    "Writer",
    "admits",
    "asyncapi_document",
    "bind",
    "configure_logging",
    "current_principal",
    "current_writer",
    "document_problems",
    "example_json",
    "example_of",
    "is_transient",
    "make_http_app",
    "omit_problems",
    "problem_responses",
    "require_roles",
    "scope_from_body",
    "strip_reserved",
]
