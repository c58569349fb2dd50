"""The routing configuration (as validated models) and the Alertmanager-style routing tree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from siaga_schemas import is_within
from siaga_schemas.common import Severity
from siaga_schemas.durations import Duration
from siaga_schemas.events.notifications import Channel

from .labels import LABEL_NAME, short_hash

__all__ = [
    "EscalationPolicy",
    "EscalationStep",
    "InhibitRule",
    "Matcher",
    "Receiver",
    "ResolvedRoute",
    "Route",
    "RoutingConfig",
    "Target",
    "TargetLevel",
    "group_id_for",
]

NAME = r"^[a-z0-9][a-z0-9_-]{0,79}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetLevel(StrEnum):
    """Where a receiver's contacts sit relative to the alert's region."""

    REGION = "region"  # exactly the alert's region
    KAB_KOTA = "kab_kota"  # the kab/kota the alert lies in
    PROVINCE = "province"  # the province the alert lies in
    NATIONAL = "national"  # national desks (contacts without a region)
    WITHIN = "within"  # every contact within the alert's region


class Target(_Model):
    """Contacts of one institution role at one level. ``institution: alert`` takes the alert's own."""

    institution: str | None = Field(None, description="Institution, 'alert', or none for any.")
    role: str | None = Field(None, pattern=NAME, description="Role in the directory, e.g. 'logistics'.")
    level: TargetLevel = TargetLevel.REGION


ChannelName = Literal["email", "webhook", "telegram", "whatsapp"]


def _all_channels() -> list[ChannelName]:
    return ["email", "webhook", "telegram", "whatsapp"]


class Receiver(_Model):
    name: str = Field(pattern=NAME)
    targets: list[Target] = Field(default_factory=list)
    channels: list[ChannelName] = Field(default_factory=_all_channels)
    topic: bool = Field(False, description="Also publish on siaga.notifications.alerts.v1.")

    @model_validator(mode="after")
    def _something(self) -> Receiver:
        if not self.targets and not self.topic:
            raise ValueError("a receiver needs targets or 'topic: true'")
        return self


class Matcher(_Model):
    """What a route matches. Every given field must match; lists mean any of."""

    event_types: list[str] = Field(default_factory=list)
    alertnames: list[str] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)
    institutions: list[str] = Field(default_factory=list)
    region_prefix: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    labels_regex: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels", "labels_regex")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for k in value:
            if not LABEL_NAME.match(k):
                raise ValueError(f"label name {k!r} is not an identifier")
        return value

    @field_validator("labels_regex")
    @classmethod
    def _regex(cls, value: dict[str, str]) -> dict[str, str]:
        for k, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"labels_regex.{k}: {exc}") from None
        return value

    def matches(self, labels: dict[str, str]) -> bool:
        if self.event_types and labels.get("event_type") not in self.event_types:
            return False
        if self.alertnames and labels.get("alertname") not in self.alertnames:
            return False
        if self.severities and labels.get("severity") not in self.severities:
            return False
        if self.institutions and labels.get("institution") not in self.institutions:
            return False
        if self.region_prefix is not None:
            region = labels.get("region")
            if not region or not is_within(region, self.region_prefix):
                return False
        if any(labels.get(k) != v for k, v in self.labels.items()):
            return False
        return all(re.fullmatch(p, labels.get(k, "")) for k, p in self.labels_regex.items())


class Route(_Model):
    """A node of the routing tree; unset grouping settings are inherited from the parent."""

    id: str | None = Field(None, pattern=NAME)
    match: Matcher = Field(default_factory=Matcher)
    receiver: str | None = None
    escalation: str | None = None
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    continue_: bool = Field(False, alias="continue")
    routes: list[Route] = Field(default_factory=list)


class EscalationStep(_Model):
    notify: list[str] = Field(min_length=1, description="Receivers notified at this step.")
    wait: Duration | None = Field(None, description="Wait for an acknowledgement before the next step.")


class EscalationPolicy(_Model):
    steps: list[EscalationStep] = Field(min_length=1)
    repeat: int = Field(0, ge=0, le=20, description="How many times the whole chain runs again.")


class InhibitRule(_Model):
    """A firing source alert mutes matching target alerts (``equal`` labels, or target region within)."""

    source: Matcher
    target: Matcher
    equal: list[str] = Field(default_factory=list)
    region_within: bool = Field(False, description="Target region lies within the source's region.")


class RoutingConfig(_Model):
    route: Route
    receivers: list[Receiver] = Field(min_length=1)
    escalation_policies: dict[str, EscalationPolicy] = Field(default_factory=dict)
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> RoutingConfig:
        if self.route.receiver is None:
            raise ValueError("route.receiver: the root route needs a receiver")
        names = [r.name for r in self.receivers]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"receivers: duplicate names {sorted(dupes)}")
        known = set(names)
        for name, policy in self.escalation_policies.items():
            for i, step in enumerate(policy.steps):
                for r in step.notify:
                    if r not in known:
                        raise ValueError(
                            f"escalation_policies.{name}.steps.{i}.notify: unknown receiver {r!r}"
                        )
        for path, node in _walk(self.route, "route"):
            if node.receiver is not None and node.receiver not in known:
                raise ValueError(f"{path}.receiver: unknown receiver {node.receiver!r}")
            if node.escalation is not None and node.escalation not in self.escalation_policies:
                raise ValueError(f"{path}.escalation: unknown escalation policy {node.escalation!r}")
        return self

    def receiver(self, name: str) -> Receiver:
        for r in self.receivers:
            if r.name == name:
                return r
        raise KeyError(name)

    def routes_for(self, labels: dict[str, str]) -> list[ResolvedRoute]:
        """The routes an alert goes to (Alertmanager semantics: deepest match, ``continue`` fans out)."""
        root = _settings_of(self.route, None, "root")
        found = _match(self.route, labels, root)
        return found or [root]


@dataclass(frozen=True, slots=True)
class ResolvedRoute:
    route_id: str
    receiver: str
    escalation: str | None
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float

    def group_labels(self, labels: dict[str, str]) -> dict[str, str]:
        if "..." in self.group_by:
            return dict(labels)
        return {k: labels.get(k, "") for k in self.group_by}

    def as_doc(self) -> dict[str, Any]:
        return {
            "route_id": self.route_id,
            "receiver": self.receiver,
            "escalation": self.escalation,
            "group_by": list(self.group_by),
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
        }


def _walk(route: Route, path: str) -> list[tuple[str, Route]]:
    out = [(path, route)]
    for i, child in enumerate(route.routes):
        out.extend(_walk(child, f"{path}.routes.{i}"))
    return out


def _settings_of(route: Route, parent: ResolvedRoute | None, route_id: str) -> ResolvedRoute:
    return ResolvedRoute(
        route_id=route.id or route_id,
        receiver=route.receiver or (parent.receiver if parent else "default"),
        escalation=route.escalation
        if route.escalation is not None
        else (parent.escalation if parent else None),
        group_by=tuple(route.group_by) if route.group_by is not None else (parent.group_by if parent else ()),
        group_wait=_pick(route.group_wait, parent.group_wait if parent else None, 30.0),
        group_interval=_pick(route.group_interval, parent.group_interval if parent else None, 300.0),
        repeat_interval=_pick(route.repeat_interval, parent.repeat_interval if parent else None, 14400.0),
    )


def _pick(own: float | None, inherited: float | None, default: float) -> float:
    return own if own is not None else inherited if inherited is not None else default


def _match(route: Route, labels: dict[str, str], settings: ResolvedRoute) -> list[ResolvedRoute]:
    found: list[ResolvedRoute] = []
    for i, child in enumerate(route.routes):
        if not child.match.matches(labels):
            continue
        child_settings = _settings_of(child, settings, f"{settings.route_id}.{i}")
        deeper = _match(child, labels, child_settings)
        found.extend(deeper or [child_settings])
        if not child.continue_:
            break
    return found


def group_id_for(route_id: str, step: int, receivers: list[str], group_labels: dict[str, str]) -> str:
    """Deterministic id of the group of one route, escalation step and receivers, for given label values."""
    parts = [
        route_id,
        str(step),
        ",".join(receivers),
        *(f"{k}={group_labels[k]}" for k in sorted(group_labels)),
    ]
    return f"grp-{short_hash(*parts)}"


CHANNELS = tuple(c.value for c in Channel)
