"""The collaborators handlers work with."""

from __future__ import annotations

from ..repository import Stores

__all__ = ["Stores"]
