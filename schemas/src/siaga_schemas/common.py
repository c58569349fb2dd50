"""Value types shared by several event payloads."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .regions import RegionCode

__all__ = ["Identifier", "Institution", "Party", "PartySet", "Severity", "Timestamp"]

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


Timestamp = Annotated[
    AwareDatetime,
    Field(description="An instant with its UTC offset (RFC 3339).", examples=["2024-11-26T09:00:00+08:00"]),
]
