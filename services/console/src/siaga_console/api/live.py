"""Live updates: Server-Sent Events. The console re-reads the services for the page's view every few seconds
(with the viewer's token) and pushes the re-rendered content when it changed; the page swaps it in."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from ..domain.i18n import translator
from .common import TEMPLATES, Ctx
from .views import LOADERS, load

__all__ = ["make_live_router"]

STREAM_S = 15 * 60  # then the browser's EventSource reconnects (and the session is checked again)


def _event(name: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n".encode()


def make_live_router() -> APIRouter:
    router = APIRouter()

    @router.get("/live/{view}", include_in_schema=False)
    async def live(view: str, request: Request, ctx: Ctx) -> StreamingResponse:
        if view not in LOADERS:
            raise HTTPException(404, "no such view")
        q = dict(request.query_params)
        poll = ctx.console.settings.live_poll_s

        async def html() -> str:
            partial, values, problems = await load(ctx, view, q)
            return TEMPLATES.env.get_template(partial).render(
                t=translator(ctx.lang), lang=ctx.lang, viewer=ctx.viewer, csrf=ctx.session.csrf,
                problems=problems, **values,
            )  # fmt: skip

        async def stream() -> AsyncIterator[bytes]:
            last = hashlib.sha256((await html()).encode()).hexdigest()
            yield b"retry: 5000\n\n"
            ends = time.monotonic() + STREAM_S
            while time.monotonic() < ends:
                await asyncio.sleep(poll)
                if await request.is_disconnected():
                    return
                body = await html()
                digest = hashlib.sha256(body.encode()).hexdigest()
                if digest != last:
                    last = digest
                    yield _event("update", body)
                else:
                    yield b": still here\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return router
