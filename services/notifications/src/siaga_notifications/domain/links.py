"""Acknowledge links: a signed, expiring capability to act on one alert, given to one recipient.

A token is ``<payload>.<signature>``, both base64url without padding: the payload is the compact JSON of
the claims (token id, alert fingerprint and chain run, recipient contact id, expiry), the signature is
HMAC-SHA256 of the payload under the service's ``ack_link_secret``. Verifying checks the signature (in
constant time) and the expiry; being single-use is the notifications DB's part (``ack_tokens``: the
first write of a token id wins). The secret never leaves the process and is never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from .labels import short_hash

__all__ = ["LinkClaims", "LinkRefused", "Refusal", "issue", "token_id_for", "verify"]

VERSION = 1
MAX_TOKEN = 1024


class Refusal(StrEnum):
    FORGED = "forged"  # malformed, or not signed by this service's key
    EXPIRED = "expired"
    USED = "used"  # single use: someone already followed it


class LinkRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LinkClaims:
    token_id: str
    fingerprint: str
    chain_run: int
    contact_id: str
    expires_at: datetime


def token_id_for(notification_id: str, fingerprint: str) -> str:
    """Deterministic per notification and alert, so a retried send carries the same link."""
    return f"tok-{short_hash(notification_id, fingerprint)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def issue(secret: bytes, claims: LinkClaims) -> str:
    body = {
        "v": VERSION,
        "t": claims.token_id,
        "f": claims.fingerprint,
        "r": claims.chain_run,
        "c": claims.contact_id,
        "e": int(claims.expires_at.timestamp()),
    }
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: bytes, token: str, now: datetime) -> LinkClaims:
    """The claims of a token this service signed and that has not expired; ``LinkRefused`` otherwise."""
    payload, sep, signature = token.partition(".")
    if not sep or len(token) > MAX_TOKEN or not hmac.compare_digest(_mac(secret, payload), signature):
        raise LinkRefused(Refusal.FORGED)
    try:
        body = json.loads(_unb64(payload))
        claims = LinkClaims(
            token_id=str(body["t"]),
            fingerprint=str(body["f"]),
            chain_run=int(body["r"]),
            contact_id=str(body["c"]),
            expires_at=datetime.fromtimestamp(int(body["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise LinkRefused(Refusal.FORGED) from None
    if body.get("v") != VERSION:
        raise LinkRefused(Refusal.FORGED)
    if now >= claims.expires_at:
        raise LinkRefused(Refusal.EXPIRED)
    return claims


def expiry(sent_at: datetime, ttl_s: float) -> datetime:
    return sent_at + timedelta(seconds=ttl_s)
