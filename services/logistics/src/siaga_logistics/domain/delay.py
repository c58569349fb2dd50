"""Delay severity from the slack left to the leg's deadline (itself derived back from H-1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from siaga_schemas.events.logistics import DelaySeverity

__all__ = ["AFTER_DUE", "RANK", "severity_for"]

# A delay timer fires just after its instant: "now == eta" is not yet late.
AFTER_DUE = timedelta(seconds=1)

RANK = {None: 0, DelaySeverity.WARNING: 1, DelaySeverity.CRITICAL: 2, DelaySeverity.WILL_MISS_H1: 3}


def severity_for(
    now: datetime, eta: datetime, deadline: datetime, *, critical_slack: timedelta
) -> DelaySeverity | None:
    """``None`` while the ETA has not passed; then warning, critical (little slack) or will-miss-H-1."""
    if now <= eta:
        return None
    slack = deadline - now
    if slack <= timedelta(0):
        return DelaySeverity.WILL_MISS_H1
    if slack < critical_slack:
        return DelaySeverity.CRITICAL
    return DelaySeverity.WARNING
