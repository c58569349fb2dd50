"""Bearer-token authentication with region scopes, for every service's HTTP API.

Tokens are opaque secrets; the service stores only their SHA-256 (a YAML file named by
``AUTH_TOKENS_FILE``). Each token maps to a principal: an institution, a home region and roles.

- ``operator``: acts only within its own region (an operator of 35.71 writes only for 35.71 and below).
- ``organiser``: organises within its region (an organiser of 35 reads and writes all of 35.xx).
- ``reader``: reads within its region; Bawaslu and Desk Pilkada accounts get this.
- ``admin``: everything (national operations).

With ``AUTH_DEV_TOKENS=true`` (local runs and tests only) a token of the form
``dev:<institution>:<region>:<role>[,<role>]`` is accepted without a file.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from siaga_schemas import is_within, region_info
from siaga_schemas.common import Institution

__all__ = [
    "Authenticator",
    "Caller",
    "Principal",
    "Role",
    "current_principal",
    "hash_token",
]


class Role:
    OPERATOR = "operator"
    ORGANISER = "organiser"
    READER = "reader"
    ADMIN = "admin"
    ALL = frozenset({OPERATOR, ORGANISER, READER, ADMIN})


@dataclass(frozen=True)
class Principal:
    subject: str
    institution: Institution
    region: str | None  # None: national
    roles: frozenset[str] = field(default_factory=frozenset)

    def covers(self, region: str) -> bool:
        return self.region is None or is_within(region, self.region)

    def can_read(self, region: str) -> bool:
        return bool(self.roles & Role.ALL) and self.covers(region)

    def can_write(self, region: str, *, organise: bool = False) -> bool:
        if Role.ADMIN in self.roles:
            return True
        wanted = {Role.ORGANISER} if organise else {Role.ORGANISER, Role.OPERATOR}
        return bool(self.roles & wanted) and self.covers(region)

    def require_read(self, region: str) -> None:
        if not self.can_read(region):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{self.subject} may not read region {region}")

    def require_write(self, region: str, *, organise: bool = False) -> None:
        if not self.can_write(region, organise=organise):
            what = "organise for" if organise else "act for"
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{self.subject} may not {what} region {region}")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    def __init__(self, principals_by_hash: dict[str, Principal], *, dev_tokens: bool = False) -> None:
        self._by_hash = principals_by_hash
        self._dev = dev_tokens

    @classmethod
    def from_file(cls, path: str | None, *, dev_tokens: bool = False) -> Authenticator:
        entries: dict[str, Principal] = {}
        if path:
            raw: Any = yaml.safe_load(Path(path).read_text()) or []
            for i, item in enumerate(raw):
                try:
                    entries[str(item["token_sha256"])] = Principal(
                        subject=str(item["subject"]),
                        institution=Institution(item["institution"]),
                        region=item.get("region"),
                        roles=frozenset(item.get("roles", [])),
                    )
                except (KeyError, ValueError) as exc:
                    raise ValueError(f"{path}: entry {i}: {exc}") from None
        return cls(entries, dev_tokens=dev_tokens)

    def authenticate(self, token: str) -> Principal | None:
        digest = hash_token(token)
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                return principal
        if self._dev and token.startswith("dev:"):
            return _parse_dev_token(token)
        return None


def _parse_dev_token(token: str) -> Principal | None:
    parts = token.split(":")
    if len(parts) != 4:
        return None
    _, institution, region, roles = parts
    try:
        inst = Institution(institution)
    except ValueError:
        return None
    if region not in ("", "national") and region_info(region) is None:
        return None
    role_set = frozenset(r for r in roles.split(",") if r in Role.ALL)
    if not role_set:
        return None
    return Principal(
        subject=f"{institution}-{region or 'national'}-{'+'.join(sorted(role_set))}",
        institution=inst,
        region=None if region in ("", "national") else region,
        roles=role_set,
    )


_bearer = HTTPBearer(auto_error=False, description="API token issued to an operator, organiser or reader.")


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the authenticated caller, or 401."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"}
        )
    authenticator: Authenticator = request.app.state.authenticator
    principal = authenticator.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token", {"WWW-Authenticate": "Bearer"})
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
"""The authenticated principal of a request, as an endpoint parameter type (``principal: Caller``)."""
