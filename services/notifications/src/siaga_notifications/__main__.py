"""``python -m siaga_notifications``: serve the notifications service with uvicorn."""

from __future__ import annotations

import logging
import re

import uvicorn
from siaga_runtime import configure_logging

from .app import build_app
from .settings import NotificationsSettings

TOKEN_PATH = re.compile(r"(/public/ack/)[^/?\s\"]+")


class RedactTokens(logging.Filter):
    """Acknowledge-link tokens are capabilities: the access log shows their path without them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_PATH.sub(r"\1<token>", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def main() -> None:
    settings = NotificationsSettings()
    configure_logging(settings.service_name, settings.log_level, json_logs=settings.log_json)
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    uvicorn.run(build_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
