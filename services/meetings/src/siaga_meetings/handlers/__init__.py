"""Async command handlers: they take their collaborators (stores, clock) as parameters."""

from siaga_runtime import Clock

from .common import Stores
from .meetings import (
    assign_action_items,
    cancel_action_item,
    complete_action_item,
    hold_meeting,
    record_attendance,
    schedule_meeting,
    set_minutes,
    set_recommendations,
    sweep_action_items,
)
from .reports import (
    define_schedule,
    define_template,
    ensure_builtin_templates,
    load_schedule,
    load_template,
    make_submission_decider,
    route_submission,
    submit,
    sweep_reports,
)

__all__ = [
    "Stores",
    "assign_action_items",
    "cancel_action_item",
    "complete_action_item",
    "define_schedule",
    "define_template",
    "ensure_builtin_templates",
    "hold_meeting",
    "load_schedule",
    "load_template",
    "make_submission_decider",
    "record_attendance",
    "route_submission",
    "schedule_meeting",
    "set_minutes",
    "set_recommendations",
    "submit",
    "sweep_action_items",
    "sweep_overdue",
    "sweep_reports",
]


async def sweep_overdue(stores: Stores, clock: Clock, *, lookback_days: int = 8) -> dict[str, int]:
    """Run both sweeps now (the timer calls this; tests and the operations endpoint too)."""
    reports = await sweep_reports(stores, clock, lookback_days=lookback_days)
    actions = await sweep_action_items(stores, clock)
    return {"report_events": reports, "action_items_overdue": actions}
