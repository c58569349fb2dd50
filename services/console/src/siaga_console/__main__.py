"""``python -m siaga_console``: serve the console with uvicorn."""

from __future__ import annotations

import uvicorn
from siaga_runtime import configure_logging

from .app import build_app
from .settings import ConsoleSettings


def main() -> None:
    settings = ConsoleSettings()
    configure_logging(settings.service_name, settings.log_level, json_logs=settings.log_json)
    uvicorn.run(
        build_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=3,  # live pages hold a stream open; they reconnect to the next process
    )


if __name__ == "__main__":
    main()
