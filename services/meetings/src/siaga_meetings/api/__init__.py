"""HTTP routers of the meetings service."""

from .meetings import make_meetings_router
from .reports import make_reports_router

__all__ = ["make_meetings_router", "make_reports_router"]
