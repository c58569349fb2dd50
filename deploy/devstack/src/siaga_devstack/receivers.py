"""Local notification receivers for ``make run`` and the tests: an SMTP server, and one HTTP server that
speaks three shapes on loopback:

- signed webhooks (any other path): whether the HMAC-SHA256 signature (``X-Siaga-Signature: sha256=<hex>``
  of ``<X-Siaga-Timestamp>.<body>``) checked out, the post's ``Idempotency-Key`` and whether that key was
  acted on before (``repeat``: an at-least-once redelivery, which a real receiver drops; this one answers
  200 and acts on the first only);
- the Telegram Bot API: ``POST /bot<token>/sendMessage`` and ``/answerCallbackQuery``, answered as Telegram
  does (``{"ok": true, "result": ...}``; 401 for another token, 400 for a body Telegram would refuse);
- the WhatsApp Business Cloud API: ``POST /<version>/<phone-number-id>/messages`` with a bearer token,
  ``text`` or ``interactive`` reply-button messages checked against the API's limits (3 buttons, titles of
  20 characters, ids of 256, body of 1024), answered with a ``wamid`` message id.

E-mails land in ``.devstack/inbox/mail/*.eml``; the HTTP posts in ``.devstack/inbox/{webhooks,telegram,
whatsapp}.jsonl``. Run: ``python -m siaga_devstack.receivers`` (the devstack starts it for ``make run``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .paths import Paths

SMTP_PORT = int(os.environ.get("SIAGA_SMTP_PORT", "8025"))
WEBHOOK_PORT = int(os.environ.get("SIAGA_WEBHOOK_PORT", "8026"))
WEBHOOK_SECRET = os.environ.get("SIAGA_WEBHOOK_SECRET", "siaga-local-webhook-secret")
TELEGRAM_TOKEN = os.environ.get("SIAGA_TELEGRAM_TOKEN", "100000:siaga-local-telegram-token")
WHATSAPP_TOKEN = os.environ.get("SIAGA_WHATSAPP_TOKEN", "siaga-local-whatsapp-token")
WHATSAPP_PHONE_ID = os.environ.get("SIAGA_WHATSAPP_PHONE_ID", "100000000000001")

TELEGRAM_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
WHATSAPP_PATH = re.compile(r"^/(?P<version>v[0-9.]+)/(?P<phone>[0-9]+)/messages$")


def inbox(paths: Paths) -> Path:
    return paths.state / "inbox"


class _MailHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        (self.folder / f"{stamp}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def whatsapp_problem(body: dict[str, Any]) -> str | None:
    """Why the Cloud API would refuse a message body (None: it would accept it)."""
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not re.fullmatch(r"[0-9]{8,15}", str(body.get("to", ""))):
        return "to: not a phone number"
    kind = body.get("type")
    if kind == "text":
        text = (body.get("text") or {}).get("body")
        return None if isinstance(text, str) and 0 < len(text) <= 4096 else "text.body: 1 to 4096 characters"
    if kind != "interactive":
        return f"type {kind!r} is not supported here"
    return _interactive_problem(body.get("interactive") or {})


def _interactive_problem(inter: dict[str, Any]) -> str | None:
    if inter.get("type") != "button":
        return "interactive.type: only button"
    text = (inter.get("body") or {}).get("text")
    if not isinstance(text, str) or not 0 < len(text) <= 1024:
        return "interactive.body.text: 1 to 1024 characters"
    header = inter.get("header")
    if header is not None and len(str(header.get("text", ""))) > 60:
        return "interactive.header.text: at most 60 characters"
    buttons = (inter.get("action") or {}).get("buttons") or []
    if not 1 <= len(buttons) <= 3:
        return "interactive.action.buttons: 1 to 3"
    for b in buttons:
        reply = b.get("reply") or {}
        if b.get("type") != "reply" or not 0 < len(str(reply.get("title", ""))) <= 20:
            return "button title: 1 to 20 characters"
        if not 0 < len(str(reply.get("id", ""))) <= 256:
            return "button id: 1 to 256 characters"
    if len({b["reply"]["id"] for b in buttons}) != len(buttons):
        return "button ids must be unique"
    return None


@dataclass
class Receivers:
    """The HTTP receiver: what it got, by shape (``webhooks``, ``telegram``, ``whatsapp``), in memory and,
    with ``folder``, appended to ``<folder>/<shape>.jsonl``. ``fail_webhooks`` first webhook posts get 503."""

    folder: Path | None = None
    webhook_secret: str = WEBHOOK_SECRET
    telegram_token: str = TELEGRAM_TOKEN
    whatsapp_token: str = WHATSAPP_TOKEN
    whatsapp_phone_id: str = WHATSAPP_PHONE_ID
    fail_webhooks: int = 0
    # seconds between recording a webhook post and answering it (a slow receiver: a sender killed meanwhile
    # has delivered without knowing it, and sends again)
    webhook_delay_s: float = 0.0
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    telegram: list[dict[str, Any]] = field(default_factory=list)
    whatsapp: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _acted: set[str] = field(default_factory=set)  # Idempotency-Keys of webhook posts answered 2xx
    _server: ThreadingHTTPServer | None = None

    def _record(self, shape: str, entry: dict[str, Any]) -> None:
        entry = {"received_at": datetime.now(UTC).isoformat(), **entry}
        with self._lock:
            getattr(self, shape).append(entry)
            if self.folder is not None:
                with (self.folder / f"{shape}.jsonl").open("a") as out:
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def telegram_call(self, token: str, method: str, body: Any) -> tuple[int, dict[str, Any]]:
        if not hmac.compare_digest(token, self.telegram_token):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if not isinstance(body, dict):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: no JSON object"}
        if method == "sendMessage":
            if not body.get("chat_id") or not str(body.get("text", "")).strip():
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id and text"}
            if len(str(body["text"])) > 4096:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message is too long",
                }
            for row in (body.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if len(str(button.get("callback_data", "")).encode()) > 64:
                        return 400, {"ok": False, "error_code": 400, "description": "BUTTON_DATA_INVALID"}
            message_id = next(self._ids)
            self._record("telegram", {"method": method, "body": body, "message_id": message_id})
            result = {"message_id": message_id, "chat": {"id": body["chat_id"]}, "text": body["text"]}
            return 200, {"ok": True, "result": result}
        if method == "answerCallbackQuery":
            if not body.get("callback_query_id"):
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: callback_query_id"}
            self._record("telegram", {"method": method, "body": body})
            return 200, {"ok": True, "result": True}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def whatsapp_call(self, phone: str, auth: str, body: Any) -> tuple[int, dict[str, Any]]:
        if not hmac.compare_digest(auth, f"Bearer {self.whatsapp_token}") or phone != self.whatsapp_phone_id:
            return 401, {
                "error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
            }
        problem = whatsapp_problem(body) if isinstance(body, dict) else "no JSON object"
        if problem is not None:
            return 400, {"error": {"message": f"(#100) {problem}", "type": "OAuthException", "code": 100}}
        wamid = f"wamid.SIAGA{next(self._ids):012d}"
        self._record("whatsapp", {"phone_number_id": phone, "body": body, "id": wamid})
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": wamid}],
        }

    def webhook_call(self, path: str, headers: Any, raw: bytes) -> int:
        given = headers.get("X-Siaga-Signature", "")
        timestamp = headers.get("X-Siaga-Timestamp", "")
        candidates = [raw, f"{timestamp}.".encode() + raw] if timestamp else [raw]
        valid = any(
            hmac.compare_digest(
                given, "sha256=" + hmac.new(self.webhook_secret.encode(), c, hashlib.sha256).hexdigest()
            )
            for c in candidates
        )
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = raw.decode(errors="replace")
        key = headers.get("Idempotency-Key")
        with self._lock:
            failing = len(self.webhooks) < self.fail_webhooks
            repeat = key is not None and key in self._acted
            if key is not None and valid and not failing:
                self._acted.add(key)
        self._record(
            "webhooks",
            {
                "path": path,
                "signature_valid": valid,
                "id": headers.get("X-Siaga-Notification-Id"),
                "idempotency_key": key,
                "repeat": repeat,
                "payload": payload,
            },
        )
        if self.webhook_delay_s:
            time.sleep(self.webhook_delay_s)  # this request's own thread (a ThreadingHTTPServer)
        if failing:
            return 503
        return 200 if valid else 401

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        receivers = self
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                if m := TELEGRAM_PATH.match(self.path):
                    self._json(*receivers.telegram_call(m["token"], m["method"], body))
                elif m := WHATSAPP_PATH.match(self.path):
                    self._json(
                        *receivers.whatsapp_call(m["phone"], self.headers.get("Authorization", ""), body)
                    )
                else:
                    self._json(receivers.webhook_call(self.path, self.headers, raw), {})

            def _json(self, code: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def main() -> None:
    from aiosmtpd.controller import Controller

    paths = Paths.discover()
    box = inbox(paths)
    box.mkdir(parents=True, exist_ok=True)
    smtp = Controller(_MailHandler(box / "mail"), hostname="127.0.0.1", port=SMTP_PORT)
    smtp.start()
    http = Receivers(folder=box)
    http.start(port=WEBHOOK_PORT)
    base = f"http://127.0.0.1:{WEBHOOK_PORT}"
    print(
        f"receivers: smtp 127.0.0.1:{SMTP_PORT} → {box / 'mail'}; webhook {base}/ → {box / 'webhooks.jsonl'}; "
        f"telegram {base}/bot<token>/ → {box / 'telegram.jsonl'}; "
        f"whatsapp {base}/v21.0/{WHATSAPP_PHONE_ID}/messages → {box / 'whatsapp.jsonl'}",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        http.stop()
        smtp.stop()


if __name__ == "__main__":
    main()
