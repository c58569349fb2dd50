"""The meetings domain: pure models and rules (no I/O). Handlers load documents, call these, and save."""

from siaga_schemas.errors import DomainError, ErrorKind

__all__ = ["DomainError", "ErrorKind"]
