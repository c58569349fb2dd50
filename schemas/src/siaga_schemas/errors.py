"""Domain errors, shared by every service: which field is wrong and why, and whether it is bad input, a
conflict, a missing thing or a refusal. The runtime maps them to HTTP (``siaga_runtime.http``)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DomainError", "ErrorKind"]


class ErrorKind(StrEnum):
    INVALID = "invalid"  # 422
    CONFLICT = "conflict"  # 409
    NOT_FOUND = "not_found"  # 404
    FORBIDDEN = "forbidden"  # 403


class DomainError(Exception):
    """A rule was broken; ``field`` names the offending input as a dotted path (e.g. ``lines.0.accepted``)."""

    def __init__(self, field: str, message: str, kind: ErrorKind = ErrorKind.INVALID) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.kind = kind
