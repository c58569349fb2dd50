"""Compliance (who reported, who is late, who never reported) and rollups for the rakor. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from .obligations import Obligation, ObligationStatus
from .templates import NUMERIC, TemplateItem, Trend

__all__ = [
    "ComplianceRow",
    "ComplianceState",
    "ItemComparison",
    "ProvinceTotals",
    "compare_totals",
    "compliance_rows",
    "totals",
    "totals_by_province",
]


class ComplianceState(StrEnum):
    REPORTED = "reported"  # on time
    LATE = "late"  # reported after the due time
    OVERDUE = "overdue"  # due time passed, never reported
    PENDING = "pending"  # not yet due, not yet reported
    NOT_REQUESTED = "not_requested"  # period not opened yet


class ComplianceRow(BaseModel):
    region: str
    state: ComplianceState
    versions: int
    first_submitted_at: datetime | None = None
    last_submitted_at: datetime | None = None
    due_at: datetime | None = None


def compliance_rows(
    regions: Iterable[str], obligations: Mapping[str, Obligation], now: datetime
) -> list[ComplianceRow]:
    """One row per obligated region; ``obligations`` maps region to its obligation for the period."""
    rows: list[ComplianceRow] = []
    for region in regions:
        ob = obligations.get(region)
        if ob is None:
            rows.append(ComplianceRow(region=region, state=ComplianceState.NOT_REQUESTED, versions=0))
            continue
        if ob.versions:
            state = ComplianceState.LATE if ob.versions[0].late else ComplianceState.REPORTED
        elif ob.status is ObligationStatus.OVERDUE or now > ob.due_at:
            state = ComplianceState.OVERDUE
        else:
            state = ComplianceState.PENDING
        rows.append(
            ComplianceRow(
                region=region,
                state=state,
                versions=len(ob.versions),
                first_submitted_at=ob.versions[0].submitted_at if ob.versions else None,
                last_submitted_at=ob.versions[-1].submitted_at if ob.versions else None,
                due_at=ob.due_at,
            )
        )
    return rows


def _numeric_keys(items: Iterable[TemplateItem]) -> list[str]:
    return [i.key for i in items if i.type in NUMERIC]


def totals(items: list[TemplateItem], obligations: Iterable[Obligation]) -> dict[str, float]:
    """Sum of each numeric item over the latest version of every submitted report."""
    keys = _numeric_keys(items)
    out: dict[str, float] = dict.fromkeys(keys, 0)
    for ob in obligations:
        latest = ob.latest
        if latest is None:
            continue
        for entry in latest.values:
            if (
                entry.key in out
                and isinstance(entry.value, int | float)
                and not isinstance(entry.value, bool)
            ):
                out[entry.key] += entry.value
    return out


class ProvinceTotals(BaseModel):
    province: str
    reported: int
    totals: dict[str, float]


def totals_by_province(items: list[TemplateItem], obligations: Iterable[Obligation]) -> list[ProvinceTotals]:
    groups: dict[str, list[Obligation]] = {}
    for ob in obligations:
        groups.setdefault(ob.province, []).append(ob)
    return [
        ProvinceTotals(
            province=prov,
            reported=sum(1 for ob in obs if ob.versions),
            totals=totals(items, obs),
        )
        for prov, obs in sorted(groups.items())
    ]


class ItemComparison(BaseModel):
    key: str
    previous: float | None
    current: float | None
    change: float | None
    trend: Trend | None


def compare_totals(
    keys: Iterable[str], previous: Mapping[str, float] | None, current: Mapping[str, float]
) -> list[ItemComparison]:
    """Period-over-period comparison per item: red-zone kab/kota 45 → 29 is a change of -16, down."""
    out: list[ItemComparison] = []
    for key in keys:
        cur = current.get(key)
        prev = previous.get(key) if previous is not None else None
        if cur is None or prev is None:
            out.append(ItemComparison(key=key, previous=prev, current=cur, change=None, trend=None))
            continue
        change = cur - prev
        trend = Trend.UP if change > 0 else Trend.DOWN if change < 0 else Trend.STEADY
        out.append(ItemComparison(key=key, previous=prev, current=cur, change=change, trend=trend))
    return out
