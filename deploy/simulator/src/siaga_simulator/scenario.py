"""The scenario file: a timeline of steps at offsets from a scenario start, on an accelerated clock.

A step does one thing through the services' public interfaces:

- ``http``: one call (or one per region with ``for_each``) to a service's HTTP API;
- ``contacts``: put entries in the notifications directory;
- ``logistics``: create a distribution plan, a shipment for every leg, and dispatch them;
- ``deliver``: deliver a plan's shipments with proof of delivery (changes per leg: short, damaged...);
- ``acknowledge``: a coordinator acknowledges the oldest open alert of a kind, with a comment.

Errors name the YAML line and the field, e.g. ``default.yaml line 42: steps.3.http.method: ...``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from siaga_schemas import region_info
from siaga_schemas.durations import parse_duration
from siaga_schemas.yamlfile import YamlFileError, load_yaml_model

__all__ = ["Scenario", "ScenarioError", "Step", "load_scenario", "parse_offset"]

Service = Literal["meetings", "logistics", "notifications"]


class ScenarioError(YamlFileError):
    """A scenario file that cannot run; the message names the line and the field."""


def parse_offset(text: str) -> timedelta:
    """``+1d2h30m`` → 1 day 2 h 30 min after the scenario start (the durations of ``siaga_schemas``)."""
    body = text.strip().removeprefix("+")
    try:
        return timedelta(seconds=parse_duration(body))
    except ValueError:
        raise ValueError(f"offset {text!r}: use e.g. +30m, +2h, +1d6h") from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ForEach(_Strict):
    """Repeat a call for the regions at ``level`` within ``within``, taking the slice [start, stop) of them
    (as shares of the sorted list), so that steps can split regions into on-time, late and never."""

    within: str
    level: int = Field(ge=1, le=4)
    start: float = Field(0.0, ge=0, le=1)
    stop: float = Field(1.0, ge=0, le=1)

    @field_validator("within")
    @classmethod
    def _known(cls, v: str) -> str:
        if region_info(v) is None:
            raise ValueError(f"{v!r} is not an official region code")
        return v


class HttpCall(_Strict):
    service: Service
    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str = Field(pattern=r"^/")
    token: str
    body: Any = None
    for_each: ForEach | None = None
    expect: list[int] = Field(default_factory=lambda: [200, 201])


class Contacts(_Strict):
    token: str
    entries: list[dict[str, Any]] = Field(min_length=1)


class Logistics(_Strict):
    token: str
    plan: dict[str, Any]
    dispatch_at: str = Field(description="Local time of the plan's region, ISO 8601 without offset.")
    eta: str | None = Field(None, description="ETA of every leg (default: the plan's arrival times).")
    eta_overrides: dict[str, str] = Field(default_factory=dict, description="leg id → ETA (late legs).")


class Deliver(_Strict):
    token: str
    plan_id: str
    at: str
    legs: list[str] = Field(
        default_factory=list, description="Leg ids; empty: every leg not listed elsewhere."
    )
    level: Literal["ppk", "pps", "tps", "any"] = "any"
    changes: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="leg id → 'item/variant' → PoD line overrides."
    )


class Acknowledge(_Strict):
    token: str
    alertname: str
    comment: str


class Step(_Strict):
    at: timedelta
    title: str
    http: HttpCall | None = None
    contacts: Contacts | None = None
    logistics: Logistics | None = None
    deliver: Deliver | None = None
    acknowledge: Acknowledge | None = None

    @field_validator("at", mode="before")
    @classmethod
    def _offset(cls, v: Any) -> Any:
        return parse_offset(v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [k for k in ("http", "contacts", "logistics", "deliver", "acknowledge") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                f"a step does exactly one thing (http, contacts, logistics, deliver, acknowledge); got {given or 'none'}"
            )
        return self

    @property
    def kind(self) -> str:
        return next(
            k for k in ("http", "contacts", "logistics", "deliver", "acknowledge") if getattr(self, k)
        )


class Scenario(_Strict):
    name: str
    description: str = ""
    start: AwareDatetime
    factor: float = Field(gt=0, le=100_000, description="Scenario seconds per wall-clock second.")
    end: timedelta | None = None
    watch: dict[str, Any] = Field(default_factory=dict, description="What the live view follows.")
    steps: list[Step] = Field(min_length=1)

    @field_validator("end", mode="before")
    @classmethod
    def _offset(cls, v: Any) -> Any:
        return parse_offset(v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _ordered(self) -> Scenario:
        offsets = [s.at for s in self.steps]
        if offsets != sorted(offsets):
            raise ValueError("steps must be in time order")
        return self

    def at(self, offset: timedelta) -> datetime:
        return self.start + offset

    @property
    def duration(self) -> timedelta:
        return self.end or self.steps[-1].at


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; a ``ScenarioError`` names the line and the field."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    return load_yaml_model(
        Scenario, text, path.name, error=ScenarioError, what="name, start, factor and steps"
    )
