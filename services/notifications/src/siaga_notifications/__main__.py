"""``python -m siaga_notifications``: serve the notifications service with uvicorn."""

from __future__ import annotations

import uvicorn
from siaga_runtime import configure_logging

from .app import build_app
from .settings import NotificationsSettings


def main() -> None:
    settings = NotificationsSettings()
    configure_logging(settings.service_name, settings.log_level, json_logs=settings.log_json)
    uvicorn.run(build_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
