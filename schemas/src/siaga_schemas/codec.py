"""Decode and validate Kafka records into typed envelopes, or say precisely why not.

Every failure is an ``InvalidEvent`` with a machine-readable ``reason``; the runtime sends such records to
the dead-letter topic with that reason, the original bytes, and moves on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import ValidationError

from .envelope import CONTENT_TYPE, AnyEnvelope, Envelope, EventData

__all__ = [
    "MAX_EVENT_BYTES",
    "DeadLetterReason",
    "EventRegistry",
    "InvalidEvent",
    "decode_event",
    "find_forbidden_key",
    "registry",
]

MAX_EVENT_BYTES = 256 * 1024


class DeadLetterReason(StrEnum):
    UNDECODABLE = "undecodable"
    OVERSIZED = "oversized"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    FORBIDDEN_KEY = "forbidden_key"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    SCHEMA_VIOLATION = "schema_violation"
    HANDLER_ERROR = "handler_error"


class InvalidEvent(Exception):
    """A record that can never be processed as it is (``event_type``: its type, when it has one)."""

    def __init__(self, reason: DeadLetterReason, message: str, event_type: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.event_type = event_type


class EventRegistry:
    """Maps ``(type, schemaversion)`` to payload models."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[EventData]] = {}

    def register(self, model: type[EventData]) -> type[EventData]:
        key = (model.event_type, model.schema_version)
        existing = self._models.get(key)
        if existing is not None and existing is not model:
            raise ValueError(f"event {key} is registered twice: {existing.__name__} and {model.__name__}")
        self._models[key] = model
        return model

    def model(self, event_type: str, version: int) -> type[EventData]:
        model = self._models.get((event_type, version))
        if model is None:
            if any(t == event_type for t, _ in self._models):
                raise InvalidEvent(
                    DeadLetterReason.UNSUPPORTED_VERSION,
                    f"event type {event_type!r} has no schema version {version}",
                )
            raise InvalidEvent(DeadLetterReason.UNKNOWN_TYPE, f"unknown event type {event_type!r}")
        return model

    def models(self) -> Iterable[type[EventData]]:
        return sorted(self._models.values(), key=lambda m: (m.event_type, m.schema_version))

    def types(self) -> set[str]:
        return {t for t, _ in self._models}


registry = EventRegistry()


@cache
def _envelope_model(model: type[EventData]) -> type[AnyEnvelope]:
    return Envelope[model]  # type: ignore[valid-type]


def find_forbidden_key(value: Any, path: str = "") -> str | None:
    """Path of the first mapping key that starts with ``$`` or contains ``.`` (MongoDB operator injection).

    Every consumed record goes through this, so the common case (no such key) is one iterative pass that
    builds no paths; only a record that has one is walked again to name it.
    """
    return _forbidden_path(value, path) if _has_forbidden_key(value) else None


def _bad_key(k: Any) -> bool:
    return not isinstance(k, str) or k.startswith("$") or "." in k or "\x00" in k


_CONTAINERS = (dict, list)  # what JSON decodes to: exact types, far cheaper to test than the Mapping ABC


def _has_forbidden_key(value: Any) -> bool:
    if not isinstance(value, _CONTAINERS) and isinstance(value, Mapping):
        value = dict(value)  # another mapping type (never from JSON): checked the same way
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                if _bad_key(k):
                    return True
                if isinstance(x, _CONTAINERS):
                    stack.append(x)
                elif isinstance(x, Mapping):
                    stack.append(dict(x))
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, _CONTAINERS):
                    stack.append(x)
                elif isinstance(x, Mapping):
                    stack.append(dict(x))
    return False


def _forbidden_path(value: Any, path: str) -> str | None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if _bad_key(k):
                return f"{path}/{k}"
            found = _forbidden_path(v, f"{path}/{k}")
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _forbidden_path(v, f"{path}/{i}")
            if found:
                return found
    return None


def _header(headers: Sequence[tuple[str, bytes]] | None, name: str) -> str | None:
    for k, v in headers or ():
        if k.lower() == name:
            try:
                return v.decode() if isinstance(v, bytes | bytearray) else str(v)
            except UnicodeDecodeError:
                return "<undecodable>"
    return None


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in e["loc"]) or "<root>"
        parts.append(f"{loc}: {e['msg']}")
    more = err.error_count() - 5
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def decode_event(
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]] | None = None,
    *,
    accept: set[str] | None = None,
    events: EventRegistry = registry,
) -> AnyEnvelope:
    """Parse one record value into a typed envelope.

    ``accept`` limits the event types this consumer handles; anything else is ``unknown_type`` for it.
    """
    if value is None:
        raise InvalidEvent(DeadLetterReason.UNDECODABLE, "record has no value (tombstone)")
    if len(value) > MAX_EVENT_BYTES:
        raise InvalidEvent(
            DeadLetterReason.OVERSIZED, f"record is {len(value)} bytes; the limit is {MAX_EVENT_BYTES}"
        )
    content_type = _header(headers, "content-type")
    if content_type is not None and content_type.split(";")[0].strip() != CONTENT_TYPE:
        raise InvalidEvent(
            DeadLetterReason.WRONG_CONTENT_TYPE,
            f"content-type {content_type!r}; expected {CONTENT_TYPE!r} (CloudEvents structured mode)",
        )
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidEvent(DeadLetterReason.UNDECODABLE, f"value is not UTF-8 JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent(DeadLetterReason.UNDECODABLE, f"value is JSON {type(raw).__name__}, not an object")
    bad_key = find_forbidden_key(raw)
    if bad_key:
        raise InvalidEvent(DeadLetterReason.FORBIDDEN_KEY, f"key {bad_key!r} starts with '$' or contains '.'")
    event_type = raw.get("type")
    if not isinstance(event_type, str):
        raise InvalidEvent(DeadLetterReason.SCHEMA_VIOLATION, "type: missing or not a string")
    version = raw.get("schemaversion", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidEvent(DeadLetterReason.SCHEMA_VIOLATION, "schemaversion: not an integer")
    if raw.get("datacontenttype", "application/json") != "application/json":
        raise InvalidEvent(
            DeadLetterReason.WRONG_CONTENT_TYPE,
            f"datacontenttype {raw.get('datacontenttype')!r}; expected 'application/json'",
        )
    if accept is not None and event_type not in accept:
        raise InvalidEvent(
            DeadLetterReason.UNKNOWN_TYPE, f"event type {event_type!r} is not handled here", event_type
        )
    model = events.model(event_type, version)
    try:
        return _envelope_model(model).model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(DeadLetterReason.SCHEMA_VIOLATION, _describe(exc)) from None
