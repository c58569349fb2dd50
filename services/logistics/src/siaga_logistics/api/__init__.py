"""The HTTP API for warehouse and field operators (write within their region) and readers."""

from .imports import make_import_router
from .plans import make_plans_router
from .shipments import make_shipments_router

__all__ = ["make_import_router", "make_plans_router", "make_shipments_router"]
