"""Projections over consumed events, and the commands the API calls (``commands``)."""

from ..repository import Stores
from . import commands
from .projections import (
    alert_projection,
    group_projections,
    notice_projection,
    route_count,
    timer_projection,
)

__all__ = [
    "Stores",
    "alert_projection",
    "commands",
    "group_projections",
    "notice_projection",
    "route_count",
    "timer_projection",
]
