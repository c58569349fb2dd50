"""The compatibility checker itself: it must flag what breaks consumers and accept what does not."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from pydantic import Field
from siaga_schemas import EventData
from siaga_schemas.export import breaking_changes, event_schema


class _V1(EventData):
    event_type: ClassVar[str] = "siaga.test.thing-happened"
    topic: ClassVar[str] = "siaga.test.events.v1"
    thing_id: str = Field(description="id", examples=["t-1"])
    count: int = Field(description="n", examples=[1])
    note: str | None = Field(None, description="note", examples=["x"])

    def partition_key(self) -> str:
        return self.thing_id


def _schema() -> dict[str, Any]:
    return event_schema(_V1)


def test_identical_schema_is_compatible() -> None:
    assert breaking_changes(_schema(), _schema()) == []


def test_added_optional_field_is_compatible() -> None:
    class V1b(_V1):
        extra: str | None = Field(None, description="new", examples=["y"])

    assert breaking_changes(_schema(), event_schema(V1b)) == []


def test_removed_field_is_breaking() -> None:
    new = copy.deepcopy(_schema())
    del new["$defs"]["_V1"]["properties"]["note"]
    assert any("note: removed" in p for p in breaking_changes(_schema(), new))


def test_changed_type_is_breaking() -> None:
    new = copy.deepcopy(_schema())
    new["$defs"]["_V1"]["properties"]["count"] = {"type": "string", "description": "n"}
    assert any("count" in p and "narrowed" in p for p in breaking_changes(_schema(), new))


def test_new_required_field_is_breaking() -> None:
    class V1c(_V1):
        region: str = Field(description="r", examples=["35"])

    problems = breaking_changes(_schema(), event_schema(V1c))
    assert any("region: new required field" in p for p in problems)
