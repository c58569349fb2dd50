"""The four views as full pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .common import Ctx, render
from .views import load

__all__ = ["make_pages_router"]

PAGES = {"kesiapan": "readiness", "laporan": "reports", "rakor": "rakor", "peringatan": "alerts"}


def make_pages_router() -> APIRouter:
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def home(ctx: Ctx) -> RedirectResponse:
        return RedirectResponse("/kesiapan", status_code=303)

    def page(slug: str, view: str) -> None:
        async def show(request: Request, ctx: Ctx) -> HTMLResponse:
            q = dict(request.query_params)
            partial, values, problems = await load(ctx, view, q)
            return render(
                ctx,
                request,
                "page.html",
                partial=partial,
                problems=problems,
                flash=q.get("ok"),
                error=q.get("err"),
                **values,
            )

        router.add_api_route(
            f"/{slug}", show, methods=["GET"], response_class=HTMLResponse, include_in_schema=False
        )

    for slug, view in PAGES.items():
        page(slug, view)
    return router
