"""``POST /plans/import``: upload a distribution plan file (CSV or XLSX) and import it.

The body is the file itself (``Content-Type: text/csv`` or the XLSX type, or ``?format=csv|xlsx``),
streamed to a temporary file, never held in memory. Each row is checked against the caller's scope: an
operator imports only rows within its own region, a row outside it is refused by line number. With
``Accept: application/x-ndjson`` the response is a stream of JSON lines: progress (``{"progress": …}``)
while the import runs, then every rejected row (``{"rejected": …}``), then the summary
(``{"summary": …}``); otherwise one JSON document once it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from siaga_runtime import Clock, Writer, omit_problems, problem_responses
from siaga_schemas.common import Identifier
from siaga_schemas.errors import DomainError

from ..handlers import Stores
from ..handlers.file_import import ImportProgress, ImportReport, RejectedRow, import_file
from ..importing import XLSX_TYPE
from .views import ImportReportView

__all__ = ["make_import_router"]

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def _suffix(request: Request, fmt: str | None) -> str:
    if fmt in ("csv", "xlsx"):
        return f".{fmt}"
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("text/csv", "application/csv"):
        return ".csv"
    if ctype == XLSX_TYPE:
        return ".xlsx"
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        f"content-type {ctype or '(none)'}: send text/csv or {XLSX_TYPE}, or say ?format=csv|xlsx",
    )


async def _save(request: Request, suffix: str, directory: str | None) -> Path:
    """The request body in a temporary file, written chunk by chunk as it arrives (bounded memory)."""
    handle, name = tempfile.mkstemp(prefix="siaga-upload-", suffix=suffix, dir=directory)
    path = Path(name)
    size = 0
    out = os.fdopen(handle, "wb")
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise HTTPException(
                    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"file over {MAX_UPLOAD_BYTES} bytes"
                )
            out.write(chunk)
    except BaseException:
        out.close()
        path.unlink(missing_ok=True)  # noqa: ASYNC240 (a local temporary file)
        raise
    out.close()
    if size == 0:
        path.unlink(missing_ok=True)  # noqa: ASYNC240
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "body: the file is empty")
    return path


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        **report.summary(),
        "plans": report.plans,
        "rejected": [_rejected_json(r) for r in report.rejected],
        "rejected_listed": len(report.rejected),
    }


def _rejected_json(r: RejectedRow) -> dict[str, Any]:
    return {"line": r.line, "column": r.column, "reason": r.reason, "value": r.value}


def make_import_router(
    stores: Stores,
    clock: Clock,
    *,
    spill_dir: str | None = None,
    room: Callable[[], Awaitable[None]] | None = None,
) -> APIRouter:
    """``room``: awaited between two kab/kota of an import (see ``import_file``)."""
    router = APIRouter(tags=["plans"])

    @router.post(
        "/plans/import",
        response_model=ImportReportView,
        summary="Import a distribution plan file (CSV or XLSX, one row per TPS or per TPS and item)",
        responses={
            200: {"content": {"application/json": {}, "application/x-ndjson": {}}},
            **problem_responses(413, 415),
        },
        openapi_extra=omit_problems(404, 409),
    )
    async def import_plan(
        request: Request,
        principal: Writer,
        election_id: Annotated[
            Identifier, Query(description="Election of the plan.", examples=["pilkada2024"])
        ],
        voting_day: Annotated[date, Query(description="Voting day (local date).", examples=["2024-11-27"])],
        contests: Annotated[
            str | None, Query(max_length=200, description="Contests for rows without a 'pemilihan' column.")
        ] = None,
        distribution_start: Annotated[
            datetime | None,
            Query(
                description="Distribution start for rows without 'mulai_distribusi' (local time if naive)."
            ),
        ] = None,
        fmt: Annotated[str | None, Query(alias="format", pattern="^(csv|xlsx)$")] = None,
    ) -> Any:
        suffix = _suffix(request, fmt)
        path = await _save(request, suffix, spill_dir)
        default_contests = (
            tuple(c.strip().lower() for c in contests.replace("|", ";").split(";") if c.strip())
            if contests
            else None
        )
        streaming = "application/x-ndjson" in request.headers.get("accept", "")

        async def run(progress: Any, rejected: Any) -> ImportReport:
            try:
                return await import_file(
                    stores,
                    clock,
                    path,
                    election_id=election_id,
                    voting_day=voting_day,
                    default_contests=default_contests,
                    distribution_start=distribution_start,
                    may_write=principal.can_write,
                    progress=progress,
                    rejected=rejected,
                    spill_dir=spill_dir,
                    room=room,
                )
            finally:
                path.unlink(missing_ok=True)

        if not streaming:
            try:
                report = await run(None, None)
            except ValueError as exc:  # the header is unusable: nothing was imported
                raise DomainError("file", str(exc)) from None
            return _report_json(report)

        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1000)

        async def progress(p: ImportProgress) -> None:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait({"progress": p.as_dict()})

        async def rejected(r: RejectedRow) -> None:
            await queue.put({"rejected": _rejected_json(r)})  # at the client's pace: the queue is bounded

        async def work() -> None:
            try:
                report = await run(progress, rejected)
                await queue.put({"summary": {**report.summary(), "plans": report.plans}})
            except ValueError as exc:
                await queue.put({"error": {"field": "file", "message": str(exc)}})
            finally:
                await queue.put(None)

        task = asyncio.create_task(work())

        async def lines() -> AsyncIterator[bytes]:
            while (item := await queue.get()) is not None:
                yield (json.dumps(item, default=str) + "\n").encode()
            await task

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    return router
