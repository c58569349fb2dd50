"""What every route shares: the signed-in viewer, the language, the renderer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from siaga_runtime import Authenticator

from ..client import Services
from ..domain.i18n import pick_language, translator
from ..domain.places import local_time, region_name
from ..domain.viewer import Viewer
from ..session import COOKIE, Session, SessionCodec
from ..settings import ConsoleSettings

__all__ = ["LANG_COOKIE", "Console", "Context", "Ctx", "NotSignedIn", "render"]

LANG_COOKIE = "siaga_lang"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
TEMPLATES.env.globals.update(region_name=region_name, local_time=local_time)


class NotSignedIn(Exception):
    """No valid session: the app's handler sends the browser to the sign-in page."""


@dataclass
class Console:
    """The composition root's parts, kept on ``app.state.console``."""

    settings: ConsoleSettings
    services: Services
    sessions: SessionCodec
    authenticator: Authenticator


@dataclass
class Context:
    """One request of a signed-in person."""

    request: Request
    console: Console
    session: Session
    viewer: Viewer
    lang: str

    @property
    def token(self) -> str:
        return self.session.token

    def t(self, key: str, **values: object) -> str:
        return translator(self.lang)(key, **values)


def language(request: Request) -> str:
    """``?lang=`` (remembered in a cookie), then the cookie; Indonesian otherwise."""
    return pick_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def viewer_of(console: Console, token: str) -> Viewer | None:
    principal = console.authenticator.authenticate(token)
    if principal is None:
        return None
    return Viewer(
        subject=principal.subject,
        institution=principal.institution.value,
        region=principal.region,
        roles=principal.roles,
    )


def context(request: Request) -> Context:
    """FastAPI dependency: the signed-in person (``NotSignedIn`` otherwise)."""
    console: Console = request.app.state.console
    session = console.sessions.load(request.cookies.get(COOKIE))
    viewer = viewer_of(console, session.token) if session else None
    if session is None or viewer is None:
        raise NotSignedIn
    return Context(request, console, session, viewer, language(request))


Ctx = Annotated[Context, Depends(context)]
"""A route parameter: the signed-in person of the request."""


def render(
    ctx: Context | None, request: Request, template: str, status_code: int = 200, **values: Any
) -> HTMLResponse:
    lang = ctx.lang if ctx else language(request)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": translator(lang),
            "lang": lang,
            "viewer": ctx.viewer if ctx else None,
            "csrf": ctx.session.csrf if ctx else "",
            "path": request.url.path,
            **values,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in ("id", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def back_to(path: str, **query: str) -> RedirectResponse:
    from urllib.parse import urlencode

    q = urlencode({k: v for k, v in query.items() if v})
    return RedirectResponse(f"{path}?{q}" if q else path, status_code=303)
