"""Value types shared by several event payloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from .regions import RegionCode

__all__ = ["Identifier", "Institution", "LocalTimestamp", "Party", "PartySet", "Severity", "Timestamp"]

Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="Opaque identifier: letters, digits, '_', '.', ':' and '-' only.",
        examples=["mtg-0192f5c4"],
    ),
]


class Institution(StrEnum):
    """Who acts: the election bodies and their partners."""

    KPU = "kpu"
    BAWASLU = "bawaslu"
    DESK_PILKADA = "desk_pilkada"
    FORKOPIMDA = "forkopimda"
    KEMENDAGRI = "kemendagri"
    PPK = "ppk"
    PPS = "pps"
    KPPS = "kpps"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Party(BaseModel):
    """One institution in one region, e.g. KPU of Kota Kediri (35.71)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    institution: Institution = Field(description="The institution.", examples=["kpu"])
    region: RegionCode = Field(description="Region the institution serves.", examples=["35.71"])


class PartySet(BaseModel):
    """Institution × regions: for example every KPU kab/kota in 35 is ``kpu`` within ``35`` at level 2."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    institution: Institution = Field(description="The institution invited or obligated.", examples=["kpu"])
    within: RegionCode = Field(description="The region whose subdivisions are included.", examples=["35"])
    level: int = Field(
        ge=1,
        le=4,
        description="Administrative level of the included regions (1 province … 4 desa).",
        examples=[2],
    )


_DATE_TIME = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
_OFFSET = r"([Zz]|[+-]\d{2}:\d{2})"
_AWARE = re.compile(f"^{_DATE_TIME}{_OFFSET}$")
_LOCAL = re.compile(f"^{_DATE_TIME}{_OFFSET}?$")
LOCAL_TIMESTAMP_PATTERN = _LOCAL.pattern


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else type(value).__name__


def _strict(pattern: re.Pattern[str], what: str) -> Callable[[Any], Any]:
    """Only an RFC 3339 date-time string passes on to pydantic's datetime parsing (or a ``datetime`` from
    Python code): pydantic's lax mode would read ``1732608000`` or ``"1732608000"`` as an epoch and a
    date-only ``"2024-11-26"`` as midnight, which no contract means."""

    def check(value: Any) -> Any:
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise PydanticCustomError(
                "datetime_type",
                "must be {what} as a string, e.g. 2024-11-26T09:00:00+08:00, not a {kind}",
                {"what": what, "kind": _kind(value)},
            )
        if not pattern.match(value.strip()):
            raise PydanticCustomError(
                "datetime_format", "must be {what}, e.g. 2024-11-26T09:00:00+08:00", {"what": what}
            )
        return value

    return check


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_strict(_AWARE, "an RFC 3339 date-time with its UTC offset")),
    Field(description="An instant with its UTC offset (RFC 3339).", examples=["2024-11-26T09:00:00+08:00"]),
]
"""The one date-time type of every contract (event payloads and envelopes, request bodies): an RFC 3339
string with its offset (``Z`` or ``+08:00``). An epoch number, a date alone or a time without an offset is
invalid, named by field (a 422 over HTTP, ``schema_violation`` in a dead letter)."""

LocalTimestamp = Annotated[
    datetime,
    BeforeValidator(_strict(_LOCAL, "an RFC 3339 date-time (without an offset: the region's local time)")),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIMESTAMP_PATTERN,
            "description": "An RFC 3339 date-time; without a UTC offset it is the local time of the region the "
            "request is about (WIB, WITA or WIT).",
            "examples": ["2024-11-26T09:00:00+08:00", "2024-11-26T09:00:00"],
        }
    ),
]
"""A date-time in a request body that the API reads in the region's local time when it has no offset (an
operator types the time on the clock): strict like ``Timestamp`` otherwise (no epoch numbers, no date
alone). The handler makes it aware (``siaga_schemas.localtime.aware_in``)."""
