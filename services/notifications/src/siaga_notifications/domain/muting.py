"""Silences (mute matching alerts until they expire) and inhibition (a firing alert mutes others)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from siaga_schemas import is_within
from siaga_schemas.common import Timestamp

from .labels import LABEL_NAME
from .routing import InhibitRule

__all__ = ["LabelMatcher", "Silence", "inhibited", "muted_fingerprints", "silenced"]


class LabelMatcher(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Label name.", examples=["alertname"])
    value: str = Field(
        max_length=300, description="Value, or a regular expression.", examples=["shipment-delayed"]
    )
    is_regex: bool = Field(False, description="Whether value is a full-match regular expression.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not LABEL_NAME.match(v):
            raise ValueError(f"label name {v!r} is not an identifier")
        return v

    @field_validator("value")
    @classmethod
    def _regex(cls, v: str, info: Any) -> str:
        if info.data.get("is_regex"):
            re.compile(v)
        return v

    def matches(self, labels: dict[str, str]) -> bool:
        got = labels.get(self.name, "")
        return bool(re.fullmatch(self.value, got)) if self.is_regex else got == self.value


class Silence(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    silence_id: str = Field(description="Silence id.", examples=["sil-0192f5c4"])
    matchers: list[LabelMatcher] = Field(description="All must match.")
    region_prefix: str | None = Field(None, description="Only alerts within this region.", examples=["65.01"])
    starts_at: Timestamp = Field(description="From.")
    ends_at: Timestamp = Field(description="Until (the expiry).")
    created_by: str = Field(description="Account.", examples=["kpu-65-organiser"])
    comment: str = Field(description="Why.", examples=["Jembatan putus, sudah ditangani"])
    expired_at: Timestamp | None = Field(None, description="When it was expired early.")

    def active(self, now: datetime) -> bool:
        return self.expired_at is None and self.starts_at <= now < self.ends_at

    def matches(self, alert: dict[str, Any]) -> bool:
        labels = alert.get("labels", {})
        if self.region_prefix is not None:
            region = alert.get("region")
            if not region or not is_within(region, self.region_prefix):
                return False
        return all(m.matches(labels) for m in self.matchers)


def silenced(alert: dict[str, Any], silences: list[Silence], now: datetime) -> bool:
    return any(s.active(now) and s.matches(alert) for s in silences)


def inhibited(alert: dict[str, Any], sources: list[dict[str, Any]], rules: list[InhibitRule]) -> bool:
    """True when a firing source alert mutes this one under some rule (an alert never mutes itself)."""
    labels = alert.get("labels", {})
    for rule in rules:
        if not rule.target.matches(labels):
            continue
        for src in sources:
            if src.get("fingerprint") == alert.get("fingerprint") or src.get("status") == "resolved":
                continue
            slabels = src.get("labels", {})
            if not rule.source.matches(slabels):
                continue
            if any(slabels.get(k) != labels.get(k) for k in rule.equal):
                continue
            if rule.region_within:
                sr, tr = src.get("region"), alert.get("region")
                if not sr or not tr or not is_within(tr, sr):
                    continue
            return True
    return False


def muted_fingerprints(
    alerts: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    rules: list[InhibitRule],
    silences: list[Silence],
    now: datetime,
) -> set[str]:
    return {a["fingerprint"] for a in alerts if silenced(a, silences, now) or inhibited(a, sources, rules)}
