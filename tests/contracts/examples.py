"""Build a valid example instance of any payload model from the examples declared on its fields."""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

NOW = datetime(2024, 11, 20, 9, 0, tzinfo=UTC)


def _value_for(annotation: Any, info: FieldInfo | None) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _value_for(args[0], info)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if info is not None and info.examples and info.examples[0] is not None:
            return info.examples[0]
        return _value_for(non_none[0], None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return example_of(annotation)
    if origin is list:
        if info is not None and info.examples:
            return info.examples[0]
        return [_value_for(args[0], None)]
    if origin is dict:
        if info is not None and info.examples:
            return info.examples[0]
        return {}
    if info is not None and info.examples:
        return info.examples[0]
    if annotation in (datetime, AwareDatetime):
        return NOW
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


def example_of(model: type[BaseModel]) -> Any:
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(model, include_extras=True)
    for name, info in model.model_fields.items():
        values[name] = _value_for(hints.get(name, info.annotation), info)
    return model.model_validate(values)
