"""The console's routes: sign-in, the four views, the alert actions and the live stream."""

from .actions import make_actions_router
from .auth import make_auth_router
from .live import make_live_router
from .pages import make_pages_router

__all__ = ["make_actions_router", "make_auth_router", "make_live_router", "make_pages_router"]
