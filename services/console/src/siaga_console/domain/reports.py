"""The Laporan page: who reported for a period, who is late and who never did, and the Anev rollup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .places import local_time, region_name, zone_abbr

__all__ = ["ComplianceGroup", "RollupRow", "compliance_groups", "rollup_rows"]

# Shown in this order: what needs chasing first.
STATES = ("overdue", "late", "reported", "pending", "not_requested")


@dataclass(frozen=True)
class ReporterRow:
    region: str
    name: str
    zone: str
    submitted: str
    due: str
    versions: int


@dataclass
class ComplianceGroup:
    state: str
    rows: list[ReporterRow] = field(default_factory=list)


def compliance_groups(rows: list[dict[str, Any]]) -> list[ComplianceGroup]:
    """Compliance rows grouped by state (never reported first), times in each reporter's own zone."""
    groups = {s: ComplianceGroup(s) for s in STATES}
    for r in rows:
        region = r["region"]
        groups.setdefault(r["state"], ComplianceGroup(r["state"])).rows.append(
            ReporterRow(
                region=region,
                name=region_name(region),
                zone=zone_abbr(region),
                submitted=local_time(r.get("first_submitted_at"), region),
                due=local_time(r.get("due_at"), region),
                versions=int(r.get("versions", 0)),
            )
        )
    for g in groups.values():
        g.rows.sort(key=lambda x: x.name)
    return [g for g in groups.values() if g.rows]


@dataclass(frozen=True)
class RollupRow:
    key: str
    label: str
    current: float | None
    previous: float | None
    change: float | None
    trend: str | None


def rollup_rows(rollup: dict[str, Any], labels: dict[str, str]) -> list[RollupRow]:
    """The period-over-period comparison of a rollup, each item named by its template label."""
    return [
        RollupRow(
            key=c["key"],
            label=labels.get(c["key"], c["key"]),
            current=c.get("current"),
            previous=c.get("previous"),
            change=c.get("change"),
            trend=c.get("trend"),
        )
        for c in rollup.get("comparison", [])
    ]
