"""The console's composition root: settings, the services' clients, sessions, routes, static assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from siaga_runtime import Authenticator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import make_actions_router, make_auth_router, make_live_router, make_pages_router
from .api.common import Console, NotSignedIn, back_to
from .client import Services
from .session import SessionCodec
from .settings import ConsoleSettings

__all__ = ["build_app"]

STATIC = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    b"content-security-policy": b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
    b"data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"DENY",
}


class SecurityHeaders:
    """Every answer forbids framing, foreign scripts and styles, and sniffing (pure ASGI: SSE unbuffered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


def build_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    console = Console(
        settings=settings,
        services=Services.from_settings(settings),
        sessions=SessionCodec(settings.session_secret.get_secret_value(), settings.session_max_age_s),
        authenticator=Authenticator.from_file(settings.auth_tokens_file, dev_tokens=settings.auth_dev_tokens),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await console.services.close()

    app = FastAPI(title="Siaga console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = console

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if request.url.path.startswith("/live/"):
            return PlainTextResponse("sign in", status_code=401)
        expired = "?expired=1" if request.cookies.get("siaga_session") else ""
        return RedirectResponse(f"/masuk{expired}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def invalid_form(request: Request, exc: RequestValidationError) -> Response:
        if request.method == "POST" and request.url.path.startswith("/peringatan/"):
            fields = ",".join(str(e["loc"][-1]) for e in exc.errors())
            return back_to("/peringatan", err="invalid", field=fields)
        return JSONResponse({"detail": "invalid request"}, status_code=422)

    @app.get("/health/ready", include_in_schema=False)
    @app.get("/health/live", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(make_auth_router())
    app.include_router(make_pages_router())
    app.include_router(make_actions_router())
    app.include_router(make_live_router())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(GZipMiddleware, minimum_size=800)  # for slow links; never the SSE stream
    app.add_middleware(SecurityHeaders)
    return app
