"""``python -m siaga_meetings``: serve the meetings service with uvicorn."""

from __future__ import annotations

from siaga_runtime.serve import serve

from .app import build_app
from .settings import MeetingsSettings


def main() -> None:
    serve(build_app, MeetingsSettings())


if __name__ == "__main__":
    main()
