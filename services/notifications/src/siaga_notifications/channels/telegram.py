"""A Telegram-bot-compatible HTTP channel: ``POST {base}/bot{token}/sendMessage``, with an inline keyboard
(acknowledge, silence 1 h, mute until resolved) on firing notifications whose buttons come back as
callback queries (``api/public.py``), answered with ``answerCallbackQuery``. The token is part of the URL,
so errors report only the exception class and status, never the URL.

A message carries ``Idempotency-Key: <notification id>`` (the same on every attempt), for a chat gateway
or proxy in front of the bot API to drop a repeated attempt; the Telegram Bot API itself ignores it."""

from __future__ import annotations

from typing import Any

import httpx

from .base import IDEMPOTENCY_HEADER, ChannelError, Outgoing, http_status_error
from .text import BUTTONS, actions_text, button_label

__all__ = ["TelegramSender", "callback_data", "keyboard", "telegram_text"]

MAX_TEXT = 4096


def callback_data(action: str, notification_id: str) -> str:
    """``<action>:<notification id>`` (Telegram allows 64 bytes; this is at most 33)."""
    return f"{action}:{notification_id}"


def telegram_text(message: Outgoing) -> str:
    links = actions_text(message)
    text = f"{message.title}\n\n{message.body}"
    return (f"{text}\n\n{links}" if links else text)[:MAX_TEXT]


def keyboard(message: Outgoing) -> dict[str, Any] | None:
    if not message.actions:
        return None
    row = [
        {
            "text": button_label(message.language, a),
            "callback_data": callback_data(a, message.notification_id),
        }
        for a in BUTTONS
    ]
    return {"inline_keyboard": [row[:2], row[2:]]}


class TelegramSender:
    name = "telegram"

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str | None) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token

    async def _call(
        self, method: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        if not self._token:
            raise ChannelError("telegram is not configured (no bot token)", retryable=False)
        try:
            resp = await self._client.post(
                f"{self._base}/bot{self._token}/{method}", json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ChannelError(type(exc).__name__) from None
        if resp.status_code >= 300:
            raise http_status_error(resp.status_code)
        try:
            answer: dict[str, Any] = resp.json()
        except ValueError:
            answer = {}
        if not answer.get("ok"):
            raise ChannelError("telegram API answered ok=false", retryable=False)
        return answer

    async def send(self, message: Outgoing) -> None:
        if not message.address:
            raise ChannelError("contact has no telegram chat id", retryable=False)
        body: dict[str, Any] = {
            "chat_id": message.address,
            "text": telegram_text(message),
            "disable_web_page_preview": True,
        }
        markup = keyboard(message)
        if markup is not None:
            body["reply_markup"] = markup
        await self._call("sendMessage", body, {IDEMPOTENCY_HEADER: message.notification_id})

    async def answer_callback(self, callback_query_id: str, text: str) -> None:
        """Tell Telegram the button press was handled (the client stops its spinner and shows ``text``)."""
        await self._call("answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text[:200]})

    async def close(self) -> None:
        await self._client.aclose()
