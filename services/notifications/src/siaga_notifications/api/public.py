"""The public endpoints a recipient reaches from a message, without a bearer token: the acknowledge link's
page and form (``/public/ack/{token}``), Telegram's callback webhook and WhatsApp's incoming webhook.
Each is authenticated by what it carries: a signed single-use token bound to an alert and a recipient,
Telegram's secret token header, or the X-Hub-Signature-256 HMAC of WhatsApp's body. They are left out of
the OpenAPI document (it describes the bearer API); the README describes them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from siaga_runtime import Clock

from ..channels import ChannelError, ChannelSender, TelegramSender, WhatsAppSender
from ..domain import links
from ..handlers import commands
from ..handlers.responses import press_button
from ..repository import Stores
from ..settings import NotificationsSettings
from .pages import confirm_page, done_page, refusal_page

__all__ = ["make_public_router"]

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def _same(given: str | None, secret: str | None) -> bool:
    return bool(secret) and given is not None and hmac.compare_digest(given.encode(), str(secret).encode())


def make_public_router(
    stores: Stores,
    clock: Clock,
    settings: NotificationsSettings,
    sender: Callable[[str], ChannelSender | None],
    key: bytes,
) -> APIRouter:
    router = APIRouter(prefix="/public", include_in_schema=False)

    async def check(token: str) -> tuple[links.LinkClaims, dict[str, Any], dict[str, Any]] | HTMLResponse:
        """The claims, alert and contact of a usable link, or the page saying why it is not usable."""
        try:
            claims = links.verify(key, token, clock.now())
        except links.LinkRefused as exc:
            return refusal_page(exc.reason.value)
        contact = await stores.contacts.get(claims.contact_id)
        alert = await stores.alerts.get(claims.fingerprint)
        if contact is None or alert is None or "status" not in alert:
            return refusal_page("forged")
        language = str(contact.get("language", "id"))
        if not contact.get("active", True):
            return refusal_page("forged", language)
        used = await stores.tokens.get(claims.token_id)
        if used is not None:
            return refusal_page("used", language, alert)
        if alert.get("chain_run") != claims.chain_run or alert.get("status") == "resolved":
            return refusal_page("stale", language, alert)
        return claims, alert, contact

    @router.get("/ack/{token}", response_class=HTMLResponse)
    async def ack_page(token: str) -> HTMLResponse:
        found = await check(token)
        if isinstance(found, HTMLResponse):
            return found
        _, alert, contact = found
        return confirm_page(alert, str(contact["name"]), str(contact.get("language", "id")))

    @router.post("/ack/{token}", response_class=HTMLResponse)
    async def ack(token: str, request: Request) -> HTMLResponse:
        found = await check(token)
        if isinstance(found, HTMLResponse):
            return found
        claims, alert, contact = found
        language = str(contact.get("language", "id"))
        form = parse_qs((await request.body())[:MAX_BODY].decode(errors="replace"))
        until_resolved = form.get("mode", ["ack"])[0] == "until_resolved"
        if alert["status"] == "acknowledged" and (not until_resolved or alert.get("ack_until_resolved")):
            return refusal_page("nothing", language, alert)
        now = clock.now()
        claim = {
            "nonce": uuid.uuid4().hex,
            "fingerprint": claims.fingerprint,
            "contact_id": claims.contact_id,
            "used_at": now,
            "until_resolved": until_resolved,
        }
        if await commands.claim_token(stores, claims.token_id, claim) is None:
            return refusal_page("used", language, alert)  # the other click won
        who = str(contact["name"])
        stored = await commands.acknowledge_alert(
            stores,
            claims.fingerprint,
            now,
            who,
            None,
            until_resolved=until_resolved,
            via="link",
            contact_id=claims.contact_id,
        )
        assert stored is not None
        return done_page(stored, who, language, until_resolved=until_resolved)

    # -- Telegram -------------------------------------------------------------------------------------------

    @router.post("/telegram/webhook")
    async def telegram_update(request: Request) -> dict[str, Any]:
        secret = settings.telegram_webhook_secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        if not _same(given, secret.get_secret_value() if secret else None):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong secret token")
        update = _json(await request.body())
        query = update.get("callback_query")
        if not isinstance(query, dict):
            return {}  # other updates (messages to the bot): nothing to do
        chat = ((query.get("message") or {}).get("chat") or {}).get("id")
        user = query.get("from") or {}
        name = user.get("username") or user.get("first_name")
        answer = await press_button(
            stores,
            data=str(query.get("data", "")),
            channel="telegram",
            address=str(chat),
            now=clock.now(),
            user=f"Telegram {name}" if name else None,
        )
        telegram = sender("telegram")
        if isinstance(telegram, TelegramSender) and query.get("id"):
            try:
                await telegram.answer_callback(str(query["id"]), answer)
            except ChannelError as exc:
                log.warning("answering a Telegram callback failed: %s", exc)
        return {}

    # -- WhatsApp -------------------------------------------------------------------------------------------

    @router.get("/whatsapp/webhook", response_class=PlainTextResponse)
    async def whatsapp_handshake(request: Request) -> PlainTextResponse:
        q = request.query_params
        secret = settings.whatsapp_verify_token
        if q.get("hub.mode") != "subscribe" or not _same(
            q.get("hub.verify_token"), secret.get_secret_value() if secret else None
        ):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong hub.verify_token")
        return PlainTextResponse(q.get("hub.challenge", ""))

    @router.post("/whatsapp/webhook")
    async def whatsapp_update(request: Request) -> dict[str, Any]:
        body = await request.body()
        secret = settings.whatsapp_app_secret
        given = request.headers.get("X-Hub-Signature-256")
        expected = (
            "sha256=" + hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
            if secret
            else None
        )
        if not _same(given, expected):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong X-Hub-Signature-256")
        whatsapp = sender("whatsapp")
        for message in _button_replies(_json(body)):
            reply = (message.get("interactive") or {}).get("button_reply") or {}
            answer = await press_button(
                stores,
                data=str(reply.get("id", "")),
                channel="whatsapp",
                address=str(message.get("from", "")),
                now=clock.now(),
                user=f"WhatsApp {message.get('from')}",
            )
            if isinstance(whatsapp, WhatsAppSender):
                try:
                    await whatsapp.reply(str(message["from"]), answer, str(message.get("id") or "") or None)
                except ChannelError as exc:
                    log.warning("answering a WhatsApp reply failed: %s", exc)
        return {}

    return router


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body[:MAX_BODY])
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "body: not JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "body: not a JSON object")
    return data


def _button_replies(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The button replies of a Cloud API webhook (``entry[].changes[].value.messages[]``)."""
    out = []
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            for message in ((change or {}).get("value") or {}).get("messages") or []:
                if (
                    isinstance(message, dict)
                    and message.get("type") == "interactive"
                    and (message.get("interactive") or {}).get("type") == "button_reply"
                    and message.get("from")
                ):
                    out.append(message)
    return out
