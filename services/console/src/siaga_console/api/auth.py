"""Sign in with a token once; the session lives in an encrypted, HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..session import COOKIE, Session
from .common import Console, Ctx, render, viewer_of

__all__ = ["make_auth_router"]


def make_auth_router() -> APIRouter:
    router = APIRouter()

    @router.get("/masuk", response_class=HTMLResponse, include_in_schema=False)
    async def signin_form(request: Request, expired: str | None = None) -> HTMLResponse:
        return render(None, request, "signin.html", error="signin.expired" if expired else None)

    @router.post("/masuk", include_in_schema=False, response_model=None)
    async def signin(
        request: Request, token: Annotated[str, Form(max_length=500)]
    ) -> HTMLResponse | RedirectResponse:
        console: Console = request.app.state.console
        token = token.strip()
        if not token or viewer_of(console, token) is None:
            return render(None, request, "signin.html", status_code=401, error="signin.invalid")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            console.sessions.dump(Session.new(token)),
            max_age=console.settings.session_max_age_s,
            httponly=True,
            secure=console.settings.cookie_secure,
            samesite="strict",
            path="/",
        )
        return response

    @router.post("/keluar", include_in_schema=False)
    async def signout(ctx: Ctx, csrf: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
        response = RedirectResponse("/masuk", status_code=303)
        if ctx.session.csrf_ok(csrf):
            response.delete_cookie(COOKIE, path="/")
        return response

    return router
