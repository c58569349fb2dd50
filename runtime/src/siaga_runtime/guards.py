"""What is decided about a request before anything in its body is: the roles its route admits, and a body
that validation is going to refuse anyway.

A body that is not JSON (by its media type or its bytes), or missing where one is required, is answered
with a 422 naming ``body``, to any caller who is authenticated (401) and holds one of the route's roles
(403), before any scope check runs: a scope check can derive nothing from such a body, so it must not
answer for it (a writer of another region sending ``text/plain`` to ``/shipments/{id}/deliver`` learns
that the body is not JSON, not that the shipment is someone else's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import HTTPException, Request, params, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from .auth import Role, _bearer, current_principal
from .bodies import UNREADABLE, is_json_media_type, json_body

__all__ = ["authorise_unread_body", "readable_body", "route_roles"]


def _calls(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def route_roles(route: Any) -> frozenset[str] | None:
    """The roles a route admits (any one suffices), or None for a route without authentication."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    calls = list(_calls(dependant))
    if current_principal not in calls:
        return None
    roles = Role.ALL
    for call in calls:
        roles &= getattr(call, "__siaga_roles__", Role.ALL)
    return roles


async def authorise_unread_body(request: Request) -> None:
    """For a body that will not be validated (not JSON, or missing): the caller must still be authenticated
    (401) and hold one of the route's roles (403) before it is told about the body."""
    roles = route_roles(request.scope.get("route"))
    if roles is None:
        return
    principal = current_principal(request, await _bearer(request))
    if not principal.roles & roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{principal.subject} may not write")


def _body_error(request: Request, route: APIRoute, body: Any) -> dict[str, Any] | None:
    """The validation error of a JSON body that FastAPI will not parse, or None if it will."""
    field = route.body_field
    assert field is not None
    if body is None:
        if not field.field_info.is_required():
            return None
        return {"type": "missing", "loc": ("body",), "msg": "A JSON body is required", "input": None}
    if body is not UNREADABLE:
        return None
    content_type = request.headers.get("content-type")
    if not is_json_media_type(content_type):
        why = f"Content-Type is {content_type!r}" if content_type else "there is no Content-Type"
        return {
            "type": "json_type",
            "loc": ("body",),
            "msg": f"The body must be JSON sent as application/json; {why}",
            "input": None,
        }
    return {
        "type": "json_invalid",
        "loc": ("body",),
        "msg": "JSON decode error: the body is not UTF-8 JSON",
        "input": None,
    }


async def readable_body(request: Request) -> None:
    """App-wide dependency, solved before every route's own: refuse a JSON body that cannot be validated
    (see the module) with a 422 naming ``body``, after authentication and the route's roles."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None or _is_form(route):
        return
    error = _body_error(request, route, await json_body(request))
    if error is not None:
        await authorise_unread_body(request)
        raise RequestValidationError([error])


def _is_form(route: APIRoute) -> bool:
    return isinstance(route.body_field.field_info if route.body_field else None, params.Form)
