"""The HTTP side of a service: FastAPI with health, metrics, AsyncAPI and the service's own routers; errors
as problem details (``problems``) and an OpenAPI document that says so (``openapi``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from . import schema_routes
from .asyncapi import build_asyncapi
from .auth import Authenticator
from .guards import readable_body
from .openapi import document_problems
from .operations import make_operations_router
from .problems import install_problem_handlers
from .service import ServiceRuntime

__all__ = ["asyncapi_document", "make_http_app"]

log = logging.getLogger(__name__)


def asyncapi_document(runtime: ServiceRuntime, title: str, description: str = "") -> dict[str, Any]:
    """The service's AsyncAPI 3.0 document, generated from what its runtime declares (see ``asyncapi``)."""
    return build_asyncapi(runtime, title, description)


def make_http_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Callable[[], Awaitable[object]]] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[object]]] = (),
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

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        dependencies=[Depends(readable_body)],  # a body that is not JSON: 422 before any scope check
    )
    app.state.runtime = runtime
    app.include_router(schema_routes.make_schemas_router(runtime.settings))
    app.state.authenticator = authenticator or Authenticator.from_file(
        runtime.settings.auth_tokens_file, dev_tokens=runtime.settings.auth_dev_tokens
    )
    install_problem_handlers(app)
    app.include_router(
        make_operations_router(runtime, lambda: asyncapi_document(runtime, title, description))
    )
    for router in routers:
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            generated = get_openapi(
                title=app.title,
                version=app.version,
                description=description,
                routes=app.routes,
                separate_input_output_schemas=False,  # one schema per model: one class in generated clients
            )
            app.openapi_schema = document_problems(generated, app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
