"""Signing the acknowledge links of a delivery, at send time: the secret stays in the process, and the
stored delivery (the audit log, readable through the API) holds no link anyone else could follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import links

__all__ = ["Action", "ActionLinks", "ack_path"]

ACK_PATH = "/public/ack/"


def ack_path(token: str) -> str:
    return f"{ACK_PATH}{token}"


@dataclass(frozen=True, slots=True)
class Action:
    """One alert a recipient can acknowledge from the message: its label and its signed link."""

    fingerprint: str
    label: str
    url: str
    expires_at: datetime


class ActionLinks:
    def __init__(self, secret: bytes, public_url: str, ttl_s: float) -> None:
        self._secret = secret
        self.key = secret  # for verifying, in this process only (never logged)
        self._base = public_url.rstrip("/")
        self._ttl_s = ttl_s

    def for_delivery(self, doc: dict[str, Any]) -> list[Action]:
        """The links of one delivery, each bound to its alert (and chain run) and its recipient. Retried
        sends carry the same links (the token id and expiry derive from the delivery)."""
        if doc.get("status") != "firing" or doc.get("channel") == "topic":
            return []
        expires = links.expiry(doc["created_at"], self._ttl_s)
        out = []
        for item in doc.get("actions", []):
            claims = links.LinkClaims(
                token_id=links.token_id_for(doc["notification_id"], item["fingerprint"]),
                fingerprint=item["fingerprint"],
                chain_run=int(item["chain_run"]),
                contact_id=doc["contact_id"],
                expires_at=expires,
            )
            url = self._base + ack_path(links.issue(self._secret, claims))
            out.append(Action(item["fingerprint"], item["label"], url, claims.expires_at))
        return out
