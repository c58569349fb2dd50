"""The operations routes every service has: liveness, readiness, metrics, its AsyncAPI document and the
descriptions of its problem types."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from .problems import KINDS, ProblemKind, problem_response, problem_type
from .service import ServiceRuntime

__all__ = ["Liveness", "ProblemDescription", "Readiness", "make_operations_router"]


class Liveness(BaseModel):
    status: Literal["ok"] = Field(description="Always ok while the process answers.")
    instance: str = Field(description="This instance's id (INSTANCE_ID; default <hostname>-<pid>).")


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"] = Field(description="ok when every dependency answers.")
    instance: str = Field(description="This instance's id (INSTANCE_ID; default <hostname>-<pid>).")
    mongodb: bool = Field(description="MongoDB (FerretDB) answered a ping.")
    kafka: bool = Field(description="Kafka answered.")


class ProblemDescription(BaseModel):
    type: str = Field(description="The problem type URI.", examples=["/problems/forbidden"])
    status: int = Field(description="The HTTP status it comes with.", examples=[403])
    title: str = Field(description="Short title.", examples=["Akses ditolak"])
    description: str = Field(description="What it means and what to do.")
    lang: Literal["id", "en"] = Field(description="Language of title and description.")


def _describe(kind: str, info: ProblemKind, lang: Literal["id", "en"]) -> ProblemDescription:
    english = lang == "en"
    return ProblemDescription(
        type=problem_type(kind),
        status=info.status,
        title=info.title_en if english else info.title,
        description=info.description_en if english else info.description,
        lang=lang,
    )


def make_operations_router(runtime: ServiceRuntime, asyncapi: Any) -> APIRouter:
    """``asyncapi`` builds the service's AsyncAPI document (called per request)."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is alive")
    async def live() -> Liveness:
        return Liveness(status="ok", instance=runtime.settings.instance_id)

    @router.get(
        "/health/ready",
        summary="Kafka and MongoDB are reachable",
        responses={
            503: {"model": Readiness, "description": "A dependency does not answer (JSON, not a problem)."}
        },
    )
    async def ready() -> Readiness:
        status = await runtime.readiness()
        ok = all(status.values()) and runtime.started
        body = Readiness(
            status="ok" if ok else "unavailable", instance=runtime.settings.instance_id, **status
        )
        if not ok:
            return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
        return body

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus text exposition format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    async def metrics() -> Response:
        return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)

    @router.get(
        "/asyncapi.json",
        summary="AsyncAPI 3.0 document of this service's topics",
        responses={
            200: {
                "description": "The AsyncAPI 3.0 document.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def asyncapi_json() -> dict[str, Any]:
        doc: dict[str, Any] = asyncapi()
        return doc

    @router.get("/problems", summary="Every problem type this service returns")
    async def problems(
        lang: Literal["id", "en"] = Query("id", description="Language: id (default) or en."),
    ) -> list[ProblemDescription]:
        return [_describe(k, info, lang) for k, info in KINDS.items()]

    @router.get(
        "/problems/{kind}",
        summary="What a problem type means (the 'type' of an error response)",
        responses={404: {"description": "No such problem type."}},
    )
    async def describe(
        kind: str = Path(
            max_length=40, description=f"The problem kind: {', '.join(KINDS)}.", examples=["forbidden"]
        ),
        lang: Literal["id", "en"] = Query("id", description="Language: id (default) or en."),
    ) -> ProblemDescription:
        info = KINDS.get(kind)
        if info is None:
            return problem_response(404, f"kind: no problem type {kind}")  # type: ignore[return-value]
        return _describe(kind, info, lang)

    return router
