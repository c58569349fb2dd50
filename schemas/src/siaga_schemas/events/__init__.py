"""Payload models of every Siaga event; importing this package registers them all."""

from . import logistics, meetings, notifications

__all__ = ["logistics", "meetings", "notifications"]
