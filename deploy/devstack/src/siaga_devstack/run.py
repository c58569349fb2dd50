"""``make run``: the real servers, every Siaga service, the local receivers, and demo traffic.

Services run as their own processes (``python -m siaga_<service>``) with pidfiles and logs under
``.devstack/``; Ctrl-C stops them (``make stop`` also stops Kafka and FerretDB).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import Stack
from .process import alive, pid_running, port_open, require_free_port, spawn, stop_pidfile, wait_for

__all__ = ["SERVICES", "run", "stop_services"]


@dataclass(frozen=True)
class Service:
    name: str
    port: int

    @property
    def module(self) -> str:
        return f"siaga_{self.name}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def installed(self) -> bool:
        return importlib.util.find_spec(f"{self.module}.app") is not None


SERVICES = (Service("meetings", 8101), Service("logistics", 8102), Service("notifications", 8103))
RECEIVERS = "siaga_devstack.receivers"
ADMIN_TOKEN = "dev:kpu:national:admin"  # noqa: S105 (a local-only dev token, accepted with AUTH_DEV_TOKENS)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as resp:  # noqa: S310 (loopback only)
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_services(stack: Stack) -> list[Service]:
    endpoints = stack.endpoints()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "MONGODB_URL": endpoints.mongodb_url,
        "AUTH_DEV_TOKENS": "true",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": os.environ.get("SIAGA_SMTP_PORT", "8025"),
        "WEBHOOK_URL": f"http://127.0.0.1:{os.environ.get('SIAGA_WEBHOOK_PORT', '8026')}/siaga",
        "WEBHOOK_SECRET": os.environ.get("SIAGA_WEBHOOK_SECRET", "siaga-local-webhook-secret"),
        "SIAGA_ROOT": str(stack.paths.root),
    }
    pidfile = stack.paths.pidfile("receivers")
    if not alive(pidfile, RECEIVERS):
        spawn([sys.executable, "-m", RECEIVERS], pidfile=pidfile, log=stack.paths.log("receivers"), env=env)
    started = []
    for svc in SERVICES:
        if not svc.installed():
            print(f"run: {svc.name} is not built yet; skipped", flush=True)
            continue
        pidfile = stack.paths.pidfile(svc.name)
        if not alive(pidfile, svc.module):
            require_free_port(svc.port, f"the {svc.name} service", f"{svc.name.upper()} port")
            pid = spawn(
                [sys.executable, "-m", svc.module],
                pidfile=pidfile,
                log=stack.paths.log(svc.name),
                env={**env, "HTTP_PORT": str(svc.port), "SERVICE_NAME": svc.name},
            )
            wait_for(
                partial(_ready, svc.url),
                timeout=90,
                what=f"the {svc.name} service",
                log=stack.paths.log(svc.name),
                pid_check=partial(pid_running, pid),
            )
        started.append(svc)
    return started


def stop_services(stack: Stack) -> list[str]:
    stopped = [svc.name for svc in SERVICES if stop_pidfile(stack.paths.pidfile(svc.name), svc.module)]
    if stop_pidfile(stack.paths.pidfile("receivers"), RECEIVERS):
        stopped.append("receivers")
    return stopped


def _call(method: str, url: str, body: Any = None, token: str = ADMIN_TOKEN) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(  # noqa: S310 (loopback only)
        url,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def demo_traffic(services: list[Service]) -> None:
    """Seed 000: Bawaslu Jawa Timur's vidcon rakor with all 38 kab/kota and its numbered recommendations."""
    if not any(s.name == "meetings" for s in services):
        return
    base = SERVICES[0].url
    organiser = "dev:bawaslu:35:organiser"
    meeting_id = f"mtg-bawaslu-jatim-{int(time.time())}"
    status, _ = _call(
        "POST",
        f"{base}/meetings",
        {
            "meeting_id": meeting_id,
            "title": "Rakoor Bawaslu Jatim dengan seluruh pimpinan Bawaslu kab/kota",
            "organiser": {"institution": "bawaslu", "region": "35"},
            "level": "province",
            "mode": "vidcon",
            "starts_at": "2026-12-01T14:00:00",
            "ends_at": "2026-12-01T17:30:00",
            "agenda": ["Kerja pengawasan", "Kesiapan logistik"],
            "invited": [{"institution": "bawaslu", "within": "35", "level": 2}],
        },
        organiser,
    )
    print(f"demo: scheduled {meeting_id} → HTTP {status}", flush=True)
    _call(
        "PUT",
        f"{base}/meetings/{meeting_id}/recommendations",
        {
            "recommendations": [
                {"number": 1, "text": "Meningkatkan pola hidup sehat di kantor dan di rumah"},
                {"number": 2, "text": "Berkoordinasi aktif dengan KPU Kabupaten/Kota tentang tahapan"},
                {
                    "number": 3,
                    "text": "Koordinasi jaringan pengawas",
                    "sub_items": [
                        {"letter": "a", "text": "Monitoring bersama jaringan pengawas desa"},
                        {"letter": "b", "text": "Informasi kepada Kepala Daerah"},
                    ],
                },
            ]
        },
        organiser,
    )
    status, _ = _call(
        "POST", f"{base}/meetings/{meeting_id}/held", {"held_at": "2026-12-01T14:00:00"}, organiser
    )
    print(f"demo: rakor held → HTTP {status}", flush=True)
    status, items = _call(
        "POST",
        f"{base}/meetings/{meeting_id}/action-items",
        {"recommendation_ref": "3.a", "due_at": "2026-12-05T17:00:00", "fan_out": True},
        organiser,
    )
    count = len(items) if isinstance(items, list) else 0
    print(f"demo: recommendation 3.a fanned out to {count} kab/kota → HTTP {status}", flush=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(stack: Stack) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    endpoints = stack.up()
    services = start_services(stack)
    print(f"run: servers and {len(services)} services ready in {time.monotonic() - started:.0f}s", flush=True)
    demo_traffic(services)
    print("\nSiaga is running:")
    print(f"  Kafka          {endpoints.kafka_bootstrap}")
    print(f"  MongoDB wire   {endpoints.mongodb_url}")
    for svc in services:
        print(
            f"  {svc.name:14} API docs {svc.url}/docs  AsyncAPI {svc.url}/asyncapi.json  metrics {svc.url}/metrics"
        )
    print(f"  e-mail inbox   {stack.paths.state / 'inbox' / 'mail'}")
    print(f"  webhook inbox  {stack.paths.state / 'inbox' / 'webhooks.jsonl'}")
    print(f"  logs           {stack.paths.logs}")
    print(f"  demo token     Authorization: Bearer {ADMIN_TOKEN}")
    print("Ctrl-C stops the services (make stop also stops Kafka and FerretDB).", flush=True)
    try:
        while all(port_open(s.port) for s in services):
            time.sleep(2)
        print("run: a service stopped; see its log under .devstack/logs", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print(f"run: stopped {', '.join(stop_services(stack)) or 'nothing'}", flush=True)
