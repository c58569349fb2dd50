"""Settings of the meetings service (environment variables, no prefix)."""

from __future__ import annotations

from pydantic import Field
from siaga_runtime import RuntimeSettings

__all__ = ["MeetingsSettings"]


class MeetingsSettings(RuntimeSettings):
    service_name: str = Field(
        "meetings", description="Service name, used in logs, metrics and event sources."
    )
    mongodb_database: str = Field("siaga_meetings", description="Database owned by the meetings service.")
    http_port: int = 8101
    sweep_interval_s: float = Field(
        30.0, gt=0, description="How often overdue reports and action items are swept."
    )
    report_lookback_days: int = Field(
        8,
        ge=1,
        le=60,
        description="How far back the sweeper looks for report periods to request or mark overdue.",
    )
    max_invited_parties: int = Field(
        2000, ge=1, description="Upper bound on an expanded invitation or duty set."
    )
