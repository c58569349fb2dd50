"""WhatsApp Business through the Cloud API: ``POST {base}/{phone-number-id}/messages`` with a bearer token.
A firing notification is an ``interactive`` message with reply buttons (acknowledge, silence 1 h, mute
until resolved), whose replies come back on the incoming webhook (``api/public.py``); other notifications,
and answers to a reply, are ``text`` messages. Errors name the status only, never the token.

A notification's request carries ``Idempotency-Key: <notification id>`` (the same on every attempt), for a
gateway in front of the Cloud API to drop a repeated attempt; the Cloud API itself ignores it."""

from __future__ import annotations

from typing import Any

import httpx

from .base import IDEMPOTENCY_HEADER, ChannelError, Outgoing, http_status_error
from .text import BUTTONS, actions_text, button_label

__all__ = ["WhatsAppSender", "interactive", "reply_id"]

MAX_BODY = 1024  # interactive body text
MAX_TEXT = 4096
MAX_HEADER = 60


def reply_id(action: str, notification_id: str) -> str:
    return f"{action}:{notification_id}"


def interactive(message: Outgoing) -> dict[str, Any]:
    links = actions_text(message)
    body = message.body
    if links and len(body) + len(links) + 2 <= MAX_BODY:
        body = f"{body}\n\n{links}"
    return {
        "type": "button",
        "header": {"type": "text", "text": message.title[:MAX_HEADER]},
        "body": {"text": body[:MAX_BODY]},
        "footer": {"text": "Siaga"},
        "action": {
            "buttons": [
                {
                    "type": "reply",
                    "reply": {
                        "id": reply_id(a, message.notification_id),
                        "title": button_label(message.language, a)[:20],
                    },
                }
                for a in BUTTONS
            ]
        },
    }


class WhatsAppSender:
    name = "whatsapp"

    def __init__(
        self, client: httpx.AsyncClient, base_url: str, phone_number_id: str | None, token: str | None
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._phone = phone_number_id
        self._token = token

    async def _post(self, body: dict[str, Any], key: str | None = None) -> None:
        if not self._token or not self._phone:
            raise ChannelError("whatsapp is not configured (no phone number id or token)", retryable=False)
        try:
            resp = await self._client.post(
                f"{self._base}/{self._phone}/messages",
                json={"messaging_product": "whatsapp", "recipient_type": "individual", **body},
                headers={
                    "Authorization": f"Bearer {self._token}",
                    **({IDEMPOTENCY_HEADER: key} if key else {}),
                },
            )
        except httpx.HTTPError as exc:
            raise ChannelError(type(exc).__name__) from None
        if resp.status_code >= 300:
            raise http_status_error(resp.status_code)

    async def send(self, message: Outgoing) -> None:
        if not message.address:
            raise ChannelError("contact has no whatsapp number", retryable=False)
        if message.actions:
            await self._post(
                {"to": message.address, "type": "interactive", "interactive": interactive(message)},
                message.notification_id,
            )
            return
        text = f"*{message.title}*\n\n{message.body}"[:MAX_TEXT]
        await self._post(
            {"to": message.address, "type": "text", "text": {"body": text, "preview_url": False}},
            message.notification_id,
        )

    async def reply(self, to: str, text: str, context_id: str | None = None) -> None:
        """A text answer to a button reply (quoting it when ``context_id`` is the replied message's id)."""
        body: dict[str, Any] = {"to": to, "type": "text", "text": {"body": text[:MAX_TEXT]}}
        if context_id:
            body["context"] = {"message_id": context_id}
        await self._post(body)

    async def close(self) -> None:
        await self._client.aclose()
