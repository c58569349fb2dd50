"""Local notification receivers for ``make run``: an SMTP server and a webhook receiver on loopback.

E-mails land in ``.devstack/inbox/mail/*.eml``; webhook posts in ``.devstack/inbox/webhooks.jsonl`` with
whether their HMAC-SHA256 signature (header ``X-Siaga-Signature: sha256=<hex>``) checked out.
Run: ``python -m siaga_devstack.receivers`` (the devstack starts it for ``make run``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .paths import Paths

SMTP_PORT = int(os.environ.get("SIAGA_SMTP_PORT", "8025"))
WEBHOOK_PORT = int(os.environ.get("SIAGA_WEBHOOK_PORT", "8026"))
WEBHOOK_SECRET = os.environ.get("SIAGA_WEBHOOK_SECRET", "siaga-local-webhook-secret")


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


def _webhook_handler(log_file: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            given = self.headers.get("X-Siaga-Signature", "")
            timestamp = self.headers.get("X-Siaga-Timestamp", "")
            candidates = [body, f"{timestamp}.".encode() + body] if timestamp else [body]
            valid = any(
                hmac.compare_digest(
                    given, "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), c, hashlib.sha256).hexdigest()
                )
                for c in candidates
            )
            try:
                payload: Any = json.loads(body)
            except ValueError:
                payload = body.decode(errors="replace")
            entry = {
                "received_at": datetime.now(UTC).isoformat(),
                "path": self.path,
                "signature_valid": valid,
                "payload": payload,
            }
            with log_file.open("a") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.send_response(200 if valid else 401)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def main() -> None:
    from aiosmtpd.controller import Controller

    paths = Paths.discover()
    box = inbox(paths)
    box.mkdir(parents=True, exist_ok=True)
    smtp = Controller(_MailHandler(box / "mail"), hostname="127.0.0.1", port=SMTP_PORT)
    smtp.start()
    httpd = ThreadingHTTPServer(("127.0.0.1", WEBHOOK_PORT), _webhook_handler(box / "webhooks.jsonl"))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(
        f"receivers: smtp 127.0.0.1:{SMTP_PORT} → {box / 'mail'}; webhook http://127.0.0.1:{WEBHOOK_PORT}/ → {box / 'webhooks.jsonl'}",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.shutdown()
        smtp.stop()


if __name__ == "__main__":
    main()
