"""Where a field named by a domain rule lives in the request: ``body.``, ``path.`` or ``query.`` before the
dotted path a ``DomainError`` gives, the same locations pydantic's errors have (``body.lines.0.quantity``,
``path.region``, ``query.period_id``). The domain knows its fields, not HTTP; the route knows both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

__all__ = ["LOCATIONS", "locate"]

LOCATIONS = ("body", "path", "query", "header", "cookie")


def _dependants(dependant: Any) -> Iterator[Any]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _names(fields: Any) -> set[str]:
    return {name for f in fields for name in (f.name, getattr(f, "alias", None)) if name}


def _body_fields(route: Any) -> set[str]:
    field = getattr(route, "body_field", None)
    annotation = getattr(getattr(field, "field_info", None), "annotation", None)
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return set()
    return {n for name, info in annotation.model_fields.items() for n in (name, info.alias) if n}


def locate(route: Any, field: str) -> str:
    """``field`` with its location in front (unchanged if it has one, or if the route does not know it)."""
    head = field.split(".", 1)[0]
    dependant = getattr(route, "dependant", None)
    if head in LOCATIONS or dependant is None:
        return field
    dependants = list(_dependants(dependant))
    for location, attribute in (("path", "path_params"), ("query", "query_params")):
        if any(head in _names(getattr(d, attribute)) for d in dependants):
            return f"{location}.{field}"
    if head in _body_fields(route):
        return f"body.{field}"
    return field
