"""HTTP routers of the meetings service."""

from .common import domain_error_response
from .meetings import make_meetings_router
from .reports import make_reports_router

__all__ = ["domain_error_response", "make_meetings_router", "make_reports_router"]
