"""Who is looking: the principal behind the session's token, and what the console may offer them."""

from __future__ import annotations

from dataclasses import dataclass

from siaga_schemas import is_within

from .places import region_name

__all__ = ["Viewer"]

WRITERS = frozenset({"operator", "organiser", "admin"})


@dataclass(frozen=True)
class Viewer:
    subject: str
    institution: str
    region: str | None  # None: national
    roles: frozenset[str]

    @property
    def national(self) -> bool:
        return self.region is None

    @property
    def home_name(self) -> str:
        return region_name(self.region)

    @property
    def read_only(self) -> bool:
        return not (self.roles & WRITERS)

    def covers(self, region: str) -> bool:
        return self.region is None or is_within(region, self.region)

    def may_respond(self, region: str | None) -> bool:
        """Acknowledge, resolve or silence an alert of ``region`` (the notifications API decides the same)."""
        if "admin" in self.roles:
            return True
        if not self.roles & {"operator", "organiser"}:
            return False
        if region is None:
            return self.region is None
        return self.covers(region)
