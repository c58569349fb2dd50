"""``python -m siaga_<service>``: every service is served the same way, with its JSON logs configured first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from .gc_tuning import freeze, tune
from .logs import configure_logging
from .settings import RuntimeSettings

__all__ = ["serve"]

S = TypeVar("S", bound=RuntimeSettings)


def serve(build_app: Callable[[S], FastAPI], settings: S) -> None:
    """Configure logging from ``settings``, build the app and serve it with uvicorn until stopped (uvicorn's
    own log configuration is left off, so its lines go through the service's JSON handler).

    The garbage collector is tuned before the app is built and what start-up built is frozen out of its
    reach (``gc_tuning``)."""
    configure_logging(settings.service_name, settings.log_level, json_logs=settings.log_json)
    tune(settings.gc_young_threshold)
    app = build_app(settings)
    freeze()
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None)
