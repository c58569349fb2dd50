"""In-process notifications service, loopback SMTP and webhook receivers, and event producers for tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from fastapi import FastAPI
from siaga_notifications.app import build_app
from siaga_notifications.config import parse_routing
from siaga_notifications.repository import Stores
from siaga_notifications.settings import NotificationsSettings
from siaga_notifications.workers import Engine
from siaga_runtime import ManualClock
from siaga_schemas import Envelope, EventData

from ..helpers import produce, wait_until

ADMIN = "dev:kemendagri:national:admin"
T0 = datetime.fromisoformat("2024-11-20T01:00:00+00:00")
WEBHOOK_SECRET = "test-webhook-secret"
TELEGRAM_TOKEN = "123456:test-token"
TELEGRAM_SECRET = "test-telegram-secret-token"
WHATSAPP_APP_SECRET = "test-whatsapp-app-secret"
WHATSAPP_VERIFY = "test-whatsapp-verify"
ACK_SECRET = "test-ack-link-secret"
PUBLIC_URL = "http://notifications"  # the in-process app's base URL, so a link is followed as it reads

ROUTING = """
route:
  receiver: national
  group_by: [alertname, kab_kota]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - id: delays
      match:
        event_types: [siaga.logistics.shipment-delayed]
      receiver: kabkota
      escalation: chain
    - id: ops
      match:
        event_types: [prometheus.alertmanager]
      receiver: national
      group_by: [alertname]
receivers:
  - name: kabkota
    targets: [{institution: kpu, role: logistics, level: kab_kota}]
    channels: [email]
    topic: true
  - name: province
    targets:
      - {institution: kpu, role: logistics, level: province}
      - {institution: bawaslu, level: province}
    channels: [email]
  - name: national
    targets: [{level: national}]
escalation_policies:
  chain:
    steps:
      - {notify: [kabkota], wait: 10m}
      - {notify: [province], wait: 10m}
      - {notify: [national]}
inhibit_rules:
  - source: {alertnames: [region-at-risk]}
    target: {alertnames: [shipment-delayed]}
    region_within: true
"""

CONTACTS: list[dict[str, Any]] = [
    {
        "contact_id": "ct-kpu-6501-log",
        "name": "Logistik KPU Bulungan",
        "institution": "kpu",
        "region": "65.01",
        "roles": ["logistics"],
        "channels": {"email": "logistik@kpu-bulungan.test"},
    },
    {
        "contact_id": "ct-kpu-65-log",
        "name": "Logistik KPU Kaltara",
        "institution": "kpu",
        "region": "65",
        "roles": ["logistics"],
        "channels": {"email": "logistik@kpu-kaltara.test"},
    },
    {
        "contact_id": "ct-bawaslu-65",
        "name": "Bawaslu Kaltara",
        "institution": "bawaslu",
        "region": "65",
        "roles": ["chair"],
        "language": "en",
        "channels": {"email": "ketua@bawaslu-kaltara.test"},
    },
    {
        "contact_id": "ct-national-desk",
        "name": "Desk Nasional",
        "institution": "kemendagri",
        "region": None,
        "roles": ["desk"],
        "channels": {"email": "desk@kemendagri.test", "webhook_default": True, "telegram": "-1001"},
    },
]


def auth(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain_text(mail: Any) -> str:
    """The text/plain part of a received e-mail (they are multipart/alternative: plain text and HTML)."""
    return str(mail.get_body(preferencelist=("plain",)).get_content())


def html_text(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("html",)).get_content())


class Inbox:
    """Mail received by the loopback SMTP server (aiosmtpd)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def by_id(self) -> dict[str, int]:
        with self.lock:
            out: dict[str, int] = {}
            for m in self.messages:
                out[m["X-Siaga-Notification-Id"]] = out.get(m["X-Siaga-Notification-Id"], 0) + 1
            return out

    def to(self, address: str) -> list[Any]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@dataclass
class HttpReceiver:
    """Loopback webhook and Telegram-compatible endpoint; fails the first ``fail_first`` webhook posts."""

    fail_first: int = 0
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    telegram: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    def start(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == f"/bot{TELEGRAM_TOKEN}/sendMessage":
                    receiver.telegram.append(json.loads(body))
                    self._answer(200, b'{"ok": true, "result": {}}')
                    return
                ts = self.headers.get("X-Siaga-Timestamp", "")
                expected = (
                    "sha256="
                    + hmac.new(WEBHOOK_SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                )
                valid = hmac.compare_digest(expected, self.headers.get("X-Siaga-Signature", ""))
                receiver.webhooks.append(
                    {
                        "valid": valid,
                        "payload": json.loads(body),
                        "id": self.headers.get("X-Siaga-Notification-Id"),
                    }
                )
                failing = len(receiver.webhooks) <= receiver.fail_first
                self._answer(503 if failing else (200 if valid else 401), b"{}")

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def stores(self) -> Stores:
        stores: Stores = self.app.state.stores
        return stores

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.state.engine
        return engine


@asynccontextmanager
async def running(
    settings: NotificationsSettings, clock: ManualClock, routing: str = ROUTING
) -> AsyncIterator[Running]:
    app = build_app(settings, clock=clock, routing_config=parse_routing(routing, "test-routing.yaml"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as client:
            yield Running(app, client)


async def put_contacts(svc: Running, contacts: list[dict[str, Any]] = CONTACTS) -> None:
    for c in contacts:
        resp = await svc.client.put(f"/contacts/{c['contact_id']}", json=c, headers=auth())
        assert resp.status_code == 200, resp.text


async def publish(
    settings: NotificationsSettings, payloads: list[EventData], source: str
) -> list[Envelope[Any]]:
    envs = [Envelope.wrap(p, source=source, time=T0) for p in payloads]
    await produce(
        settings.kafka_bootstrap_servers,
        [
            (settings.topic_name(p.topic), e.partitionkey.encode(), e.to_bytes(), e.kafka_headers())
            for p, e in zip(payloads, envs, strict=True)
        ],
    )
    return envs


async def deliveries(svc: Running, **flt: Any) -> list[dict[str, Any]]:
    return [d async for d in svc.stores.deliveries.scan(lambda d: all(d.get(k) == v for k, v in flt.items()))]


async def wait_delivered(
    svc: Running, contact_id: str, count: int, *, channel: str = "email", timeout: float = 60
) -> list[dict[str, Any]]:
    """Tick the engine (the periodic sweep runs too) until ``count`` deliveries to a contact went out."""
    found: list[dict[str, Any]] = []

    async def done() -> bool:
        nonlocal found
        await svc.engine.tick()
        found = await deliveries(svc, contact_id=contact_id, channel=channel, state="delivered")
        return len(found) >= count

    await wait_until(done, timeout=timeout, what=f"{count} {channel} deliveries to {contact_id}")
    return found


def shipment_delayed(n: int, region: str, *, severity: str = "critical") -> Any:
    from siaga_schemas.events.logistics import ShipmentDelayed

    return ShipmentDelayed(
        shipment_id=f"shp-{region}-{n:05d}",
        destination_region=region,
        severity=severity,
        eta=T0 - timedelta(hours=2),
        deadline_at=T0 + timedelta(days=5),
        slack_seconds=5 * 86400,
        detected_at=T0,
        transport_mode="river",
    )
