"""Bearer-token authentication with region scopes, for every service's HTTP API.

Tokens are opaque secrets; the service stores only their SHA-256 (a YAML file named by
``AUTH_TOKENS_FILE``). Each token maps to a principal: an institution, a home region and roles.

- ``operator``: acts only within its own region (an operator of 35.71 writes only for 35.71 and below).
- ``organiser``: organises within its region (an organiser of 35 reads and writes all of 35.xx).
- ``reader``: reads within its region; Bawaslu and Desk Pilkada accounts get this.
- ``admin``: everything (national operations).

With ``AUTH_DEV_TOKENS=true`` (local runs and tests only) a token of the form
``dev:<institution>:<region>:<role>[,<role>]`` is accepted without a file.

Authorization is decided before the body is validated: a caller who may not act for the region a body
names gets a 403 and learns nothing about the body's schema. ``scope_from_body`` reads the region (or the
party, or anything else a check needs) from the raw JSON before pydantic sees it; ``Writer`` refuses a
caller who may not write anywhere. Each dependency declares the roles it admits (``admits``), and the
OpenAPI document lists them in the operation's security requirement.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict
from siaga_schemas import is_within, region_info
from siaga_schemas.common import Institution
from siaga_schemas.yamlfile import YamlFileError, load_yaml_list

from .bodies import UNREADABLE, json_body

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "Authenticator",
    "Caller",
    "Principal",
    "Role",
    "TokensFileError",
    "Writer",
    "admits",
    "current_principal",
    "current_writer",
    "hash_token",
    "require_roles",
    "scope_from_body",
]


class Role:
    OPERATOR = "operator"
    ORGANISER = "organiser"
    READER = "reader"
    ADMIN = "admin"
    ALL = frozenset({OPERATOR, ORGANISER, READER, ADMIN})
    WRITERS = frozenset({OPERATOR, ORGANISER, ADMIN})
    ORGANISERS = frozenset({ORGANISER, ADMIN})


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

    def can_write_somewhere(self, *, organise: bool = False) -> bool:
        """Whether some region exists that this principal may write for (or organise for)."""
        return bool(self.roles & (Role.ORGANISERS if organise else Role.WRITERS))

    def require_write_somewhere(self, *, organise: bool = False) -> None:
        if not self.can_write_somewhere(organise=organise):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"{self.subject} may not {'organise' if organise else 'write'}"
            )

    def require_read(self, region: str) -> None:
        if not self.can_read(region):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{self.subject} may not read region {region}")

    def require_write(self, region: str, *, organise: bool = False) -> None:
        if not self.can_write(region, organise=organise):
            what = "organise for" if organise else "act for"
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{self.subject} may not {what} region {region}")


class TokensFileError(YamlFileError):
    """A tokens file that cannot be used: the message names the file and the line."""


class _TokenEntry(BaseModel):
    """One principal of the tokens file (``AUTH_TOKENS_FILE``), as written there."""

    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)

    token_sha256: str
    subject: str
    institution: Institution
    region: str | None = None
    roles: frozenset[str] = frozenset()


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
            text = Path(path).read_text()
            for item in load_yaml_list(_TokenEntry, text, path, error=TokensFileError, what="principals"):
                entries[item.token_sha256] = Principal(
                    subject=item.subject, institution=item.institution, region=item.region, roles=item.roles
                )
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


_bearer = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="opaque",
    auto_error=False,
    description="API token issued to an operator, organiser, reader or admin.",
)


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


def admits(*roles: str) -> Callable[[F], F]:
    """Declare the roles a dependency lets through (any one of them suffices); the OpenAPI document puts the
    intersection over a route's dependencies into its security requirement."""
    unknown = set(roles) - Role.ALL
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def mark(dependency: F) -> F:
        dependency.__siaga_roles__ = frozenset(roles)  # type: ignore[attr-defined]
        return dependency

    return mark


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail)


@admits(*Role.WRITERS)
def current_writer(principal: Caller) -> Principal:
    """FastAPI dependency: the caller, who must be able to write for some region (403 otherwise)."""
    principal.require_write_somewhere()
    return principal


Writer = Annotated[Principal, Depends(current_writer)]
"""A caller who may write somewhere (an operator, organiser or admin); the route checks where."""


def require_roles(*roles: str, what: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only callers with one of ``roles`` (``what`` names them in the 403)."""

    @admits(*roles)
    def dependency(principal: Caller) -> Principal:
        if not principal.roles & set(roles):
            raise _forbidden(f"{principal.subject} is not {what}")
        return principal

    return dependency


BodyCheck = Callable[[Principal, Any], Awaitable[None] | None]


def _at(body: Any, path: tuple[str | int, ...]) -> Any:
    value = body
    for key in path:
        if isinstance(value, dict) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int):
            value = value[key] if -len(value) <= key < len(value) else None
        else:
            return UNREADABLE
        if value is None:
            return None
    return value


def region_check(*, organise: bool = False) -> BodyCheck:
    """The default check: the value is a region the caller must be able to write for (or organise for).
    A value that is not a region code at all is left to validation, for a caller who may write somewhere."""

    def check(principal: Principal, value: Any) -> None:
        if isinstance(value, str) and region_info(value.strip()) is not None:
            principal.require_write(value.strip(), organise=organise)
        else:
            principal.require_write_somewhere(organise=organise)

    return check


def scope_from_body(
    *path: str | int, check: BodyCheck | None = None, organise: bool = False
) -> Callable[..., Awaitable[Principal]]:
    """A dependency that decides, before the body is validated, whether the caller may act on what the body
    names: it reads the raw JSON, follows ``path`` (keys and list indexes; none: the whole body) and passes
    the value found (``None`` where a key is missing) to ``check``, which raises 403 (default: the value is
    a region the caller must write, or with ``organise`` organise, for). A body that cannot be read or
    followed (or that FastAPI will not parse as JSON) goes on to validation only for a caller who may write
    somewhere. Returns the principal."""
    decide = check or region_check(organise=organise)
    roles = Role.ORGANISERS if organise else Role.WRITERS

    @admits(*roles)
    async def dependency(request: Request, principal: Caller) -> Principal:
        body = await json_body(request)  # as FastAPI reads it: never a scope from what it will not parse
        value = UNREADABLE if body is None or body is UNREADABLE else _at(body, path)
        if value is UNREADABLE:
            principal.require_write_somewhere(organise=organise)
            return principal
        outcome = decide(principal, value)
        if inspect.isawaitable(outcome):
            await outcome
        return principal

    return dependency
