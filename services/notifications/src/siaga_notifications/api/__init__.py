"""HTTP API of the notifications service."""

from .admin import make_admin_router
from .alertmanager import make_alertmanager_router
from .alerts import make_alerts_router
from .public import make_public_router

__all__ = ["make_admin_router", "make_alertmanager_router", "make_alerts_router", "make_public_router"]
