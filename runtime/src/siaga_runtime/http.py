"""The HTTP side of a service: FastAPI with health, metrics, AsyncAPI and the service's own routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from siaga_schemas.errors import DomainError, ErrorKind

from . import schema_routes
from .asyncapi import build_asyncapi
from .auth import Authenticator
from .service import ServiceRuntime

__all__ = ["asyncapi_document", "make_http_app"]

log = logging.getLogger(__name__)


def asyncapi_document(runtime: ServiceRuntime, title: str, description: str = "") -> dict[str, Any]:
    """The service's AsyncAPI 3.0 document, generated from what its runtime declares (see ``asyncapi``)."""
    return build_asyncapi(runtime, title, description)


def _validation_error(_: Request, exc: Exception) -> Response:
    """422 with every offending field named as a dotted path, e.g. ``body.lines.0.quantity``."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())),
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors()
    ]
    fields = ", ".join(e["field"] for e in errors)
    return JSONResponse({"detail": f"invalid request: {fields}", "errors": errors}, status_code=422)


_STATUS = {
    ErrorKind.INVALID: 422,
    ErrorKind.CONFLICT: 409,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.FORBIDDEN: 403,
}


def domain_error_response(_: Request, exc: Exception) -> Response:
    """A broken domain rule as an HTTP error naming its field (registered on every service's app)."""
    assert isinstance(exc, DomainError)
    return JSONResponse(
        {
            "detail": f"{exc.field}: {exc.message}",
            "errors": [{"field": exc.field, "message": exc.message, "type": exc.kind.value}],
        },
        status_code=_STATUS[exc.kind],
    )


def make_http_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Callable[[], Awaitable[Any]]] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[Any]]] = (),
    authenticator: Authenticator | None = None,
) -> FastAPI:
    """Compose a service's FastAPI app; the lifespan starts and stops the runtime, and runs the service's
    own ``on_startup`` hooks after the runtime started and ``on_shutdown`` hooks after it stopped."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            for hook in on_startup:
                await hook()
            yield
        finally:
            try:
                await runtime.stop()
            finally:
                for hook in on_shutdown:
                    await hook()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.include_router(schema_routes.make_schemas_router(runtime.settings))
    app.state.authenticator = authenticator or Authenticator.from_file(
        runtime.settings.auth_tokens_file, dev_tokens=runtime.settings.auth_dev_tokens
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DomainError, domain_error_response)

    @app.get("/health/live", tags=["operations"], summary="The process is alive")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["operations"], summary="Kafka and MongoDB are reachable")
    async def ready() -> JSONResponse:
        status = await runtime.readiness()
        ok = all(status.values()) and runtime.started
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", **status}, status_code=200 if ok else 503
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics() -> Response:
        return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI 3.0 document of this service's topics")
    async def asyncapi() -> dict[str, Any]:
        return asyncapi_document(runtime, title, description)

    for router in routers:
        app.include_router(router)
    return app
