"""The HTTP API for warehouse and field operators (write within their region) and readers."""

from .common import domain_error_response
from .imports import make_import_router
from .plans import make_plans_router
from .shipments import make_shipments_router

__all__ = ["domain_error_response", "make_import_router", "make_plans_router", "make_shipments_router"]
