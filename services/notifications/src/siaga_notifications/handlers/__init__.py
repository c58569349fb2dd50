"""Projections over consumed events, and the durable timers: escalation, group flushes, delivery workers."""

from .delivery import DeliveryWorker, outgoing
from .engine import Engine
from .projections import (
    Stores,
    alert_projection,
    group_projections,
    notice_projection,
    route_count,
    timer_projection,
)

__all__ = [
    "DeliveryWorker",
    "Engine",
    "Stores",
    "alert_projection",
    "group_projections",
    "notice_projection",
    "outgoing",
    "route_count",
    "timer_projection",
]
