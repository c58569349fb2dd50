"""The HTTP API for warehouse and field operators (write within their region) and readers."""

from .common import domain_error_response
from .plans import make_plans_router
from .shipments import make_shipments_router

__all__ = ["domain_error_response", "make_plans_router", "make_shipments_router"]
