"""Fixtures shared with the notifications tests: the loopback SMTP server."""

from ..notifications.conftest import smtp

__all__ = ["smtp"]
