"""Errors as RFC 9457 problem details (``application/problem+json``), the same on every service.

A problem's ``type`` is a relative URI ``/problems/<kind>`` that every service serves (``GET
/problems/{kind}``: what it means and what to do, in Indonesian by default); ``title`` is short and
Indonesian, ``detail`` names the failing field (``body.lines.0.quantity: ...``). A validation problem lists
every failing field in ``errors``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from siaga_schemas.errors import DomainError, ErrorKind
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from .guards import authorise_unread_body
from .locations import locate
from .problem_kinds import KINDS, ProblemKind

__all__ = [
    "KINDS",
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemKind",
    "install_problem_handlers",
    "kind_for_status",
    "problem_response",
    "problem_type",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One failing input: where it is, what is wrong, and the kind of error."""

    field: str = Field(
        description="Dotted path of the failing input, e.g. body.lines.0.quantity or path.region.",
        examples=["body.lines.0.quantity"],
    )
    loc: list[str | int] = Field(
        description="The same path as a list of keys and indexes.",
        examples=[["body", "lines", 0, "quantity"]],
    )
    message: str = Field(description="What is wrong.", examples=["Input should be greater than 0"])
    type: str = Field(
        description="Error type (pydantic's, or a domain error kind).", examples=["greater_than"]
    )


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "/problems/validation",
        "title": "Permintaan tidak valid",
        "status": 422,
        "detail": "invalid request: body.lines.0.quantity",
        "instance": "/shipments/shp-65.01-000123/deliver",
        "errors": [{
            "field": "body.lines.0.quantity",
            "loc": ["body", "lines", 0, "quantity"],
            "message": "Input should be greater than 0",
            "type": "greater_than",
        }],
    }]})  # fmt: skip

    type: str = Field(
        description="URI of the problem type; GET it for a description.", examples=["/problems/forbidden"]
    )
    title: str = Field(
        description="Short summary of the problem type (Indonesian).", examples=["Akses ditolak"]
    )
    status: int = Field(ge=100, le=599, description="The HTTP status code.", examples=[403])
    detail: str = Field(
        description="What went wrong in this request, naming the failing field where there is one.",
        examples=["kpu-65.01-operator may not act for region 35.26"],
    )
    instance: str | None = Field(None, description="The path of the request.", examples=["/plans"])
    errors: list[FieldError] | None = Field(None, description="Validation problems: every failing field.")


_KIND_BY_STATUS = {k.status: name for name, k in KINDS.items()}
_DOMAIN_STATUS = {
    ErrorKind.INVALID: 422,
    ErrorKind.CONFLICT: 409,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.FORBIDDEN: 403,
}


def problem_type(kind: str) -> str:
    return f"/problems/{kind}"


def kind_for_status(status: int) -> str | None:
    return _KIND_BY_STATUS.get(status)


def problem(
    status: int, detail: str, *, instance: str | None = None, errors: list[FieldError] | None = None
) -> Problem:
    kind = kind_for_status(status)
    if kind is None:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        return Problem(
            type="about:blank", title=phrase, status=status, detail=detail, instance=instance, errors=errors
        )
    return Problem(
        type=problem_type(kind),
        title=KINDS[kind].title,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
    )


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = problem(status, detail, instance=instance, errors=errors)
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _path_parts(field: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in field.split(".") if p]


def field_error(field: str, message: str, type_: str) -> FieldError:
    return FieldError(field=field, loc=_path_parts(field), message=message, type=type_)


async def _validation_problem(request: Request, exc: Exception) -> Response:
    """422 with every offending field named as a dotted path, e.g. ``body.lines.0.quantity``.

    A body that is not JSON at all is refused by FastAPI before any dependency runs; the caller must still
    be authenticated and allowed to write before learning that (``auth.authorise_unread_body``)."""
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        try:
            await authorise_unread_body(request)
        except StarletteHTTPException as refused:
            return await _http_problem(request, refused)
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()  # a path parameter checked by a dependency too is reported once
    for e in raw:
        loc = [p if isinstance(p, int) else str(p) for p in e.get("loc", ())]
        message = str(e.get("msg", ""))
        if e.get("type") == "json_invalid":  # FastAPI's loc is (body, character position): not a path
            if why := (e.get("ctx") or {}).get("error"):
                message = f"{message}: {why}"
            if len(loc) > 1 and isinstance(loc[1], int):
                message, loc = f"{message} (at character {loc[1]})", loc[:1]
        error = FieldError(
            field=".".join(str(p) for p in loc), loc=loc, message=message, type=str(e.get("type", ""))
        )
        if (error.field, error.type) not in seen:
            seen.add((error.field, error.type))
            errors.append(error)
    fields = ", ".join(e.field for e in errors)
    return problem_response(422, f"invalid request: {fields}", instance=request.url.path, errors=errors)


def _domain_problem(request: Request, exc: Exception) -> Response:
    """A broken domain rule, naming its field; for a 422 with its location (``body.tps.0.region``)."""
    assert isinstance(exc, DomainError)
    status = _DOMAIN_STATUS[exc.kind]
    field = locate(request.scope.get("route"), exc.field) if status == 422 else exc.field
    errors = [field_error(field, exc.message, exc.kind.value)] if status == 422 else None
    return problem_response(status, f"{field}: {exc.message}", instance=request.url.path, errors=errors)


async def _http_problem(request: Request, exc: Exception) -> Response:
    """Starlette's and FastAPI's HTTP errors (401, 403, 404, 405, 409, 413, 415 ...). A 422 raised by hand
    (``field: message``) names its field in ``errors`` too. FastAPI's 400 for a JSON body it could not
    decode (bytes that are not UTF-8) is the 422 of any other malformed JSON body."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        undecodable = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error", "input": None}
        context = {"error": "the body is not UTF-8 JSON"}
        return await _validation_problem(request, RequestValidationError([{**undecodable, "ctx": context}]))
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    errors = None
    if exc.status_code == 422:
        field, sep, message = detail.partition(": ")
        if sep and " " not in field:
            field = locate(request.scope.get("route"), field)
            detail = f"{field}: {message}"
        errors = [field_error(field, message, ErrorKind.INVALID.value)] if sep and " " not in field else []
    return problem_response(
        exc.status_code, detail, instance=request.url.path, errors=errors, headers=dict(exc.headers or {})
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(DomainError, _domain_problem)
    app.add_exception_handler(StarletteHTTPException, _http_problem)


def problem_example(status: int) -> dict[str, Any]:
    """A typical problem of this status, for the OpenAPI document."""
    kind = kind_for_status(status)
    details = {
        401: "missing bearer token",
        403: "kpu-65.01-operator may not act for region 35.26",
        404: "shipment_id: shipment shp-65.01-000123 does not exist",
        409: "status: cannot dispatch a shipment that is delivered",
        422: "invalid request: body.lines.0.quantity",
    }
    body = problem(status, details.get(status, kind or "error")).model_dump(mode="json", exclude_none=True)
    if status == 422:
        body["errors"] = [
            field_error(
                "body.lines.0.quantity", "Input should be greater than 0", "greater_than"
            ).model_dump()
        ]
    return body
