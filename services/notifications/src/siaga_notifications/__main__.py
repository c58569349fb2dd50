"""``python -m siaga_notifications``: serve the notifications service with uvicorn."""

from __future__ import annotations

from siaga_runtime.serve import serve

from .app import build_app
from .settings import NotificationsSettings


def main() -> None:
    serve(build_app, NotificationsSettings())


if __name__ == "__main__":
    main()
