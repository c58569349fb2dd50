"""Response bodies of the reporting routes that answer more than one stored model."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..domain.compliance import ItemComparison, ProvinceTotals
from ..domain.schedules import ReportSchedule

__all__ = ["NextPeriod", "Rollup", "ScheduleSummary"]


class ScheduleSummary(ReportSchedule):
    """A schedule with where it stands now."""

    recent_periods: list[str] = Field(description="The latest periods due so far, newest first.")
    next_period: str | None = Field(description="The next period to open (none: the schedule has ended).")


class Rollup(BaseModel):
    """Totals of the numeric items per province and overall, with the period-over-period comparison."""

    schedule_id: str
    template_id: str
    period_id: str
    previous_period_id: str | None
    regions_obligated: int
    regions_reported: int
    provinces: list[ProvinceTotals]
    totals: dict[str, float] = Field(description="Sum of each numeric item over the latest reports.")
    comparison: list[ItemComparison]


class NextPeriod(BaseModel):
    """A region's next due period (all null: the schedule has no period left)."""

    period_id: str | None
    opens_at: datetime | None = None
    due_at: datetime | None = None
