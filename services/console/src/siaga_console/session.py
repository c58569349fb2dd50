"""Sessions in an encrypted, authenticated cookie (Fernet: AES-CBC + HMAC, with a timestamp for expiry).

The cookie holds the bearer token and a CSRF secret; it is HttpOnly, SameSite=Strict and Secure, and never
put in a URL or in the page. POST forms carry the CSRF secret in a hidden field, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["COOKIE", "Session", "SessionCodec"]

COOKIE = "siaga_session"


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str

    @classmethod
    def new(cls, token: str) -> Session:
        return cls(token=token, csrf=secrets.token_urlsafe(24))

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf, str(sent))


class SessionCodec:
    def __init__(self, secret: str, max_age_s: int) -> None:
        key = base64.urlsafe_b64encode(hashlib.sha256(b"siaga-console-session:" + secret.encode()).digest())
        self._fernet = Fernet(key)
        self.max_age_s = max_age_s

    def dump(self, session: Session) -> str:
        raw = json.dumps({"t": session.token, "c": session.csrf}).encode()
        return self._fernet.encrypt(raw).decode()

    def load(self, cookie: str | None, *, now: int | None = None) -> Session | None:
        """The session, or None for a missing, forged, foreign or expired cookie (``now``: Unix seconds)."""
        if not cookie:
            return None
        try:
            if now is None:
                plain = self._fernet.decrypt(cookie.encode(), ttl=self.max_age_s)
            else:
                plain = self._fernet.decrypt_at_time(cookie.encode(), ttl=self.max_age_s, current_time=now)
            raw = json.loads(plain)
            return Session(token=str(raw["t"]), csrf=str(raw["c"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None
