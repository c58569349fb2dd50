"""Structured JSON logs carrying service, event id, correlation id and the record's topic/partition/offset."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

__all__ = ["bind", "configure_logging", "log_context"]

_context: ContextVar[dict[str, Any] | None] = ContextVar("siaga_log_context", default=None)
_SECRET = re.compile(r"(?i)((?:password|secret|token|authorization)[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)")
_URL_CREDENTIALS = re.compile(r"(\w+://[^:/\s]+:)([^@\s]+)(@)")


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add fields (event_id, correlation_id, topic, partition, offset …) to every log line in this block."""
    current = dict(_context.get() or {})
    current.update({k: v for k, v in fields.items() if v is not None})
    token = _context.set(current)
    try:
        yield
    finally:
        _context.reset(token)


def log_context() -> dict[str, Any]:
    return dict(_context.get() or {})


def redact(text: str) -> str:
    text = _URL_CREDENTIALS.sub(r"\1***\3", text)
    return _SECRET.sub(r"\1***", text)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        for key, value in (_context.get() or {}).items():
            setattr(record, key, value)
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = redact(str(record.msg))
        return True


def configure_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    """Configure the root logger once per process."""
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(service)s %(name)s %(message)s"))
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "pymongo", "faststream.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
