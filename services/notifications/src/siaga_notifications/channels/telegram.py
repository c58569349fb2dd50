"""A Telegram-bot-compatible HTTP channel: ``POST {base}/bot{token}/sendMessage``. The token is part of the
URL, so errors report only the exception class and status, never the URL."""

from __future__ import annotations

import httpx

from .base import ChannelError, Outgoing, http_status_error

__all__ = ["TelegramSender"]


class TelegramSender:
    name = "telegram"

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str | None) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token

    async def send(self, message: Outgoing) -> None:
        if not self._token:
            raise ChannelError("telegram is not configured (no bot token)", retryable=False)
        if not message.address:
            raise ChannelError("contact has no telegram chat id", retryable=False)
        text = f"{message.title}\n\n{message.body}"[:4096]
        try:
            resp = await self._client.post(
                f"{self._base}/bot{self._token}/sendMessage",
                json={"chat_id": message.address, "text": text, "disable_web_page_preview": True},
            )
        except httpx.HTTPError as exc:
            raise ChannelError(type(exc).__name__) from None
        if resp.status_code >= 300:
            raise http_status_error(resp.status_code)
        try:
            ok = bool(resp.json().get("ok"))
        except ValueError:
            ok = False
        if not ok:
            raise ChannelError("telegram API answered ok=false", retryable=False)

    async def close(self) -> None:
        await self._client.aclose()
