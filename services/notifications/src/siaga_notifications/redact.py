"""Acknowledge-link tokens are capabilities: the access log shows their paths without them."""

from __future__ import annotations

import logging
import re

__all__ = ["RedactTokens", "redact_access_log"]

TOKEN_PATH = re.compile(r"(/public/ack/)[^/?\s\"]+")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_PATH.sub(r"\1<token>", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger (once per process, however many apps are built)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
