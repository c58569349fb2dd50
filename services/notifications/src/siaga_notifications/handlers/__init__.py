"""Projections over consumed events, and the durable timers: escalation, group flushes, delivery workers."""

from .delivery import DeliveryWorker, outgoing
from .engine import Engine
from .projections import Stores, alert_projection, group_projections, route_count, timer_projection

__all__ = [
    "DeliveryWorker",
    "Engine",
    "Stores",
    "alert_projection",
    "group_projections",
    "outgoing",
    "route_count",
    "timer_projection",
]
