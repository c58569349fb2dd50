"""The OpenAPI document as an outside integrator needs it: every error an operation can return, as a
problem, the roles each operation admits, and an example on every JSON request body."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute

from .auth import Role
from .examples import example_json
from .guards import route_roles
from .problems import KINDS, PROBLEM_MEDIA_TYPE, FieldError, Problem, kind_for_status, problem_example

__all__ = ["OMIT_PROBLEMS", "api_routes", "document_problems", "omit_problems", "problem_responses"]

OMIT_PROBLEMS = "x-siaga-omit-problems"
SCHEME = "bearer"
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

_SCHEME_DESCRIPTION = (
    "API token issued to an institution's account: `Authorization: Bearer <token>`. Each account has a "
    "home region (or is national) and roles: `operator` acts within its own region, `organiser` organises "
    "within its region and below, `reader` reads within its region, `admin` may do everything. An "
    "operation's security requirement lists the roles it admits; any one of them suffices, and the region "
    "that the request names must be within the account's. A missing or unknown token is a 401, a role or "
    "region that does not cover the request a 403 (decided before the body is validated)."
)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that returns these problem statuses beyond the ones derived for it."""
    return {s: {"description": _title(s)} for s in statuses}


def omit_problems(*statuses: int) -> dict[str, Any]:
    """``openapi_extra=`` for a route that cannot return some of the statuses derived for it (e.g. a write
    that references nothing stored cannot answer 404)."""
    return {OMIT_PROBLEMS: list(statuses)}


def _title(status: int) -> str:
    kind = kind_for_status(status)
    return KINDS[kind].title_en if kind else "Error"


def _problem_response(status: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    kind = kind_for_status(status)
    description = (existing or {}).get("description") or _title(status)
    if kind and description == _title(status):
        description = f"{KINDS[kind].title_en}: {KINDS[kind].description_en}"
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF, "example": problem_example(status)}},
    }


def _statuses(route: Any, method: str, operation: dict[str, Any], secured: bool) -> set[int]:
    wanted: set[int] = set()
    if secured:
        wanted |= {401, 403}
    if operation.get("parameters") or operation.get("requestBody"):
        wanted.add(422)
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        wanted.add(404)
    if secured and method in _WRITES:
        wanted |= {404, 409}
    declared = {int(s) for s in operation.get("responses", {}) if s.isdigit() and int(s) >= 400}
    wanted |= {s for s in declared if not _has_other_content(operation["responses"][str(s)])}
    return wanted - set(operation.pop(OMIT_PROBLEMS, ()))


def _has_other_content(response: dict[str, Any]) -> bool:
    """A declared error response with a body schema of its own (e.g. readiness' 503 as JSON) stays."""
    return any(c.get("schema") for c in response.get("content", {}).values())


def _body_model(route: Any) -> type[BaseModel] | None:
    if route.body_field is None:
        return None
    annotation = route.body_field.field_info.annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _document_operation(route: Any, method: str, operation: dict[str, Any]) -> None:
    roles = route_roles(route)
    responses = operation.setdefault("responses", {})
    for status in sorted(_statuses(route, method, operation, roles is not None)):
        responses[str(status)] = _problem_response(status, responses.get(str(status)))
    if roles is not None:
        operation["security"] = [{SCHEME: sorted(roles)}]
        if roles != Role.ALL:
            note = f"Roles: {', '.join(sorted(roles))} (any one)."
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
    model = _body_model(route)
    content = operation.get("requestBody", {}).get("content", {})
    if model is not None and "application/json" in content:
        content["application/json"]["example"] = example_json(model)


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[Any]:
    """Every API route with its effective path and dependencies (FastAPI 0.16x keeps included routers as
    branches; ``iter_route_contexts`` resolves them)."""
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    if iterate is None:
        yield from (r for r in routes if isinstance(r, APIRoute))
        return
    for context in iterate(list(routes)):
        if isinstance(context.original_route, APIRoute):
            yield context


def _operations(
    openapi: dict[str, Any], routes: Iterable[BaseRoute]
) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    for route in api_routes(routes):
        if not route.include_in_schema:
            continue
        item = openapi.get("paths", {}).get(route.path_format, {})
        for method in sorted(route.methods or ()):
            if (operation := item.get(method.lower())) is not None:
                yield route, method, operation


def document_problems(openapi: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """Post-process FastAPI's document: problem details for every error status an operation can return
    (401/403 when secured, 422 with parameters or a body, 404 with a path parameter, 404/409 for secured
    writes, and whatever a route declares), in place of FastAPI's ``HTTPValidationError``; the bearer
    scheme with the roles of each operation; an example on every JSON request body."""
    for route, method, operation in _operations(openapi, routes):
        _document_operation(route, method, operation)
    components = openapi.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for model in (FieldError, Problem):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "opaque",
        "description": _SCHEME_DESCRIPTION,
    }
    return openapi
