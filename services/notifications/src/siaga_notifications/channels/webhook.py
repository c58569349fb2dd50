"""Signed webhooks: ``X-Siaga-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the
timestamp in ``X-Siaga-Timestamp`` (receivers reject stale timestamps to stop replays). A firing
notification's ``actions`` carry each alert's signed ``acknowledge_url`` (bound to the contact).

Every post carries ``Idempotency-Key: <notification id>``: a delivery is at-least-once (a receiver that got
the post but answered after the timeout, an instance killed between sending and recording), and every
attempt of one notification, from any instance, carries the same key. Receivers keep the keys they have
acted on and drop a repeat."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from .base import IDEMPOTENCY_HEADER, ChannelError, Outgoing, http_status_error

__all__ = ["WebhookSender", "sign"]


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookSender:
    name = "webhook"

    def __init__(self, client: httpx.AsyncClient, secret: bytes, default_url: str | None) -> None:
        self._client = client
        self._secret = secret
        self._default_url = default_url

    async def send(self, message: Outgoing) -> None:
        url = self._default_url if message.address in (None, "default") else message.address
        if not url:
            raise ChannelError("no webhook URL configured", retryable=False)
        payload = {
            **message.payload,
            "actions": [
                {
                    "fingerprint": a.fingerprint,
                    "label": a.label,
                    "acknowledge_url": a.url,
                    "expires_at": a.expires_at.isoformat(),
                }
                for a in message.actions
            ],
        }
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Siaga-Timestamp": timestamp,
            "X-Siaga-Signature": sign(self._secret, timestamp, body),
            "X-Siaga-Notification-Id": message.notification_id,
            IDEMPOTENCY_HEADER: message.notification_id,
        }
        try:
            resp = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"{type(exc).__name__}") from None
        if resp.status_code >= 300:
            raise http_status_error(resp.status_code)

    async def close(self) -> None:
        await self._client.aclose()
