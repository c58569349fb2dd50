"""Build a valid example instance of any pydantic model from the examples declared on its fields.

Used by the contract tests (one example per event) and by the OpenAPI customisation (an ``example`` on every
JSON request body), so the published examples are generated from the models and cannot drift from them.
Optional fields without an example are left out; ``Literal`` fields take their first value.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

__all__ = ["NOW", "example_json", "example_of"]

NOW = datetime(2024, 11, 20, 9, 0, tzinfo=UTC)
M = typing.TypeVar("M", bound=BaseModel)


def _declared(info: FieldInfo | None) -> list[Any] | None:
    return info.examples if info is not None and info.examples else None


def _value_for(annotation: Any, info: FieldInfo | None) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        if (examples := _declared(info)) is None:
            inner = [m for m in args[1:] if isinstance(m, FieldInfo) and m.examples]
            examples = inner[0].examples if inner else None
        if examples:
            return examples[0]
        return _value_for(args[0], None)
    if origin is typing.Literal:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        if (examples := _declared(info)) is not None and examples[0] is not None:
            return examples[0]
        non_none = [a for a in args if a is not type(None)]
        return _value_for(non_none[0], None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return example_of(annotation)
    if (examples := _declared(info)) is not None:
        return examples[0]
    if origin is list:
        return [_value_for(args[0], None)]
    if origin is dict:
        return {}
    return _scalar(annotation)


def _scalar(annotation: Any) -> Any:
    if annotation in (datetime, AwareDatetime):
        return NOW
    if annotation is date:
        return NOW.date()
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation))
    if annotation is bool:
        return True
    if annotation is int:
        return 1
    if annotation is float:
        return 0.5
    if annotation is str:
        return "contoh"
    raise TypeError(f"no example for {annotation!r}")


def example_of(model: type[M]) -> M:
    """A valid instance of ``model``: declared examples first, then a plain value of each required field's
    type; optional fields without an example are left unset."""
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(model, include_extras=True)
    for name, info in model.model_fields.items():
        if not info.is_required() and not _declared(info):
            continue
        values[info.alias or name] = _value_for(hints.get(name, info.annotation), info)
    return model.model_validate(values)


def example_json(model: type[BaseModel]) -> Any:
    """The JSON form of ``example_of(model)``, as a client would send it (only the fields it sets)."""
    return example_of(model).model_dump(mode="json", by_alias=True, exclude_unset=True)
