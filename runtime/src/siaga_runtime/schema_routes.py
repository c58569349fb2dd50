"""``GET /schemas/<type>/v<n>``: the JSON Schema each ``dataschema`` URL of this service's events names.

A service serves the schemas of the events it owns (those on the topics the topic registry gives it, its
inbound commands included): the same document as ``schemas/jsonschema/<type>.v<n>.json``, the whole
CloudEvent with that payload. ``GET /schemas`` lists them. Schemas only grow compatibly within a version
(see ``siaga_schemas.export.breaking_changes``); a breaking change is a new ``schemaversion`` and a new URL,
and the old one keeps being served.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from siaga_schemas import TOPICS, EventData, registry
from siaga_schemas.envelope import SCHEMA_PATH
from siaga_schemas.export import event_schema

from .settings import RuntimeSettings

__all__ = ["SCHEMA_MEDIA_TYPE", "SchemaEntry", "make_schemas_router", "owned_models"]

SCHEMA_MEDIA_TYPE = "application/schema+json"


def owned_models(service: str) -> list[type[EventData]]:
    """The event models whose topic this service owns, by type and version."""
    return [m for m in registry.models() if m.topic in TOPICS and TOPICS[m.topic].owner == service]


class SchemaEntry(BaseModel):
    """One event type and version this service owns, and where its schema is."""

    type: str = Field(description="The CloudEvents type.", examples=["siaga.logistics.shipment-delayed"])
    schemaversion: int = Field(description="The payload's schema version.", examples=[1])
    topic: str = Field(description="The topic its events travel on.")
    url: str = Field(description="The dataschema URL, served here (its URN without a public URL).")
    urn: str = Field(description="The schema's URN, stable across hosts.")


@cache
def _schema(model: type[EventData]) -> dict[str, Any]:
    return event_schema(model)


def make_schemas_router(settings: RuntimeSettings) -> APIRouter:
    router = APIRouter(prefix=SCHEMA_PATH, tags=["schemas"])
    models = {(m.event_type, m.schema_version): m for m in owned_models(settings.service_name)}
    base = settings.schema_base_url()

    @router.get("", summary="The JSON Schemas of the events this service owns")
    async def index() -> list[SchemaEntry]:
        return [
            SchemaEntry(
                type=t, schemaversion=v, topic=m.topic, url=m.data_schema_uri(base), urn=m.schema_urn()
            )
            for (t, v), m in sorted(models.items())
        ]

    @router.get(
        "/{event_type}/{version}",
        summary="The JSON Schema (Draft 2020-12) that an event's dataschema URL names",
        response_class=JSONResponse,
        responses={
            200: {"content": {SCHEMA_MEDIA_TYPE: {}}, "description": "The schema of the whole CloudEvent."},
            404: {"description": "No such event type or version owned by this service."},
        },
    )
    async def schema(event_type: str, version: str) -> JSONResponse:
        number = int(version[1:]) if version[:1] == "v" and version[1:].isdigit() else None
        model = models.get((event_type, number)) if number is not None else None
        if model is None:
            raise HTTPException(404, f"no schema {event_type} {version} here")
        return JSONResponse(
            _schema(model), media_type=SCHEMA_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=3600"}
        )

    return router
