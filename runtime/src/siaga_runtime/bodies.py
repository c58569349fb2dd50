"""A request's JSON body exactly as FastAPI will hand it to validation, or ``UNREADABLE``.

Scope checks read the body before pydantic does (``auth.scope_from_body``); they must read it the way
FastAPI will, so that no scope is ever derived from a body that validation is going to refuse as not JSON
(``text/plain`` carrying JSON, no ``Content-Type`` at all, bytes that are not UTF-8)."""

from __future__ import annotations

import email.message
import json
from typing import Any

from starlette.requests import Request

__all__ = ["UNREADABLE", "is_json_media_type", "json_body"]


class _Unreadable:
    """The body is not JSON (by its media type or its bytes), or not shaped so that a path can be followed."""

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE: Any = _Unreadable()
_STATE_KEY = "siaga_json_body"


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json``, as FastAPI decides (strict content type:
    a body without ``Content-Type`` is not JSON)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def json_body(request: Request) -> Any:
    """The parsed JSON body; ``None`` for an empty body; ``UNREADABLE`` for a body of another media type or
    one that does not parse. Read once per request."""
    cached = getattr(request.state, _STATE_KEY, None)
    if cached is not None:
        return cached[0]
    raw = await request.body()
    value: Any
    if not raw:
        value = None
    elif not is_json_media_type(request.headers.get("content-type")):
        value = UNREADABLE
    else:
        try:
            value = json.loads(raw)
        except ValueError:  # not JSON, or not UTF-8/16/32
            value = UNREADABLE
    setattr(request.state, _STATE_KEY, (value,))
    return value
