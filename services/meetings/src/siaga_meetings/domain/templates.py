"""Report templates: typed items and the validation of submitted values. Pure, no I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from siaga_schemas.common import Identifier, Institution
from siaga_schemas.errors import DomainError

__all__ = [
    "ItemKey",
    "ItemType",
    "ReportEntry",
    "ReportTemplate",
    "TemplateItem",
    "Trend",
    "entries_as_dict",
    "validate_values",
]

ItemKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Item key: lower-case letters, digits and '_' (stored as a document field).",
        examples=["local_odp"],
    ),
]


class ItemType(StrEnum):
    INT = "int"  # a count: whole number >= 0
    NUMBER = "number"
    BOOL = "bool"
    CHOICE = "choice"
    TEXT = "text"
    TREND = "trend"
    DATE = "date"


class Trend(StrEnum):
    UP = "up"
    STEADY = "steady"
    DOWN = "down"


NUMERIC = frozenset({ItemType.INT, ItemType.NUMBER})


class TemplateItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: ItemKey
    label: str = Field(
        min_length=1, max_length=300, description="What the item asks.", examples=["ODP in the city"]
    )
    type: ItemType = Field(description="Value type.", examples=["int"])
    required: bool = Field(False, description="Must be present in every submission.")
    choices: list[str] | None = Field(None, max_length=50, description="Allowed values of a choice item.")
    section: str | None = Field(None, max_length=120, description="Heading the item belongs to.")
    max_length: int = Field(1000, ge=1, le=4000, description="Longest text of a text item.")

    @model_validator(mode="after")
    def _choices(self) -> TemplateItem:
        if self.type is ItemType.CHOICE and not self.choices:
            raise ValueError("a choice item needs choices")
        if self.type is not ItemType.CHOICE and self.choices:
            raise ValueError("only choice items have choices")
        return self


class ReportTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: Identifier
    title: str = Field(min_length=1, max_length=300, description="Template title.")
    description: str | None = Field(None, max_length=2000, description="What the report is for.")
    institution: Institution = Field(description="Institution that fills it in.")
    items: list[TemplateItem] = Field(min_length=1, max_length=200, description="Typed items.")

    @model_validator(mode="after")
    def _unique(self) -> ReportTemplate:
        seen: set[str] = set()
        for item in self.items:
            if item.key in seen:
                raise ValueError(f"item key {item.key!r} appears twice")
            seen.add(item.key)
        return self

    def item(self, key: str) -> TemplateItem | None:
        return next((i for i in self.items if i.key == key), None)


class ReportEntry(BaseModel):
    """One stored value (values are kept as a list, so item keys never become document keys)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str
    value: int | float | bool | str | None


def _check(item: TemplateItem, value: Any, field: str) -> int | float | bool | str:  # noqa: C901 - one branch per template rule, each naming its field
    t = item.type
    if t is ItemType.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer() and not isinstance(value, bool):
                value = int(value)
            else:
                raise DomainError(field, "must be a whole number (a count)")
        if value < 0:
            raise DomainError(field, "a count cannot be negative")
        return int(value)
    if t is ItemType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise DomainError(field, "must be a finite number")
        return value
    if t is ItemType.BOOL:
        if not isinstance(value, bool):
            raise DomainError(field, "must be true or false")
        return value
    if not isinstance(value, str):
        raise DomainError(field, f"must be a string ({t.value})")
    if t is ItemType.CHOICE:
        if value not in (item.choices or ()):
            raise DomainError(field, f"must be one of {', '.join(item.choices or ())}")
    elif t is ItemType.TREND:
        if value not in {x.value for x in Trend}:
            raise DomainError(field, "must be up, steady or down")
    elif t is ItemType.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise DomainError(field, "must be a date YYYY-MM-DD") from None
    elif len(value) > item.max_length:
        raise DomainError(field, f"is longer than {item.max_length} characters")
    return value


def validate_values(items: list[TemplateItem], values: Mapping[str, Any]) -> list[ReportEntry]:
    """Check every value against its item; returns entries in template order. Errors name ``values.<key>``."""
    by_key = {i.key: i for i in items}
    for key in values:
        if key not in by_key:
            raise DomainError(f"values.{key}", "is not an item of this report template")
    out: list[ReportEntry] = []
    for item in items:
        if item.key not in values or values[item.key] is None:
            if item.required:
                raise DomainError(f"values.{item.key}", "is required")
            continue
        out.append(ReportEntry(key=item.key, value=_check(item, values[item.key], f"values.{item.key}")))
    return out


def entries_as_dict(entries: list[ReportEntry]) -> dict[str, int | float | bool | str | None]:
    return {e.key: e.value for e in entries}
