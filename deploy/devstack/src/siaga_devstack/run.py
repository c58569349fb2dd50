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

from . import Stack, receivers
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
CONSOLE = Service("console", 8104)  # the coordinators' web console: it owns no database and reads no topic
RECEIVERS = "siaga_devstack.receivers"
ADMIN_TOKEN = "dev:kpu:national:admin"  # noqa: S105 (a local-only dev token, accepted with AUTH_DEV_TOKENS)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as resp:  # noqa: S310 (loopback only)
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


# Timers fast enough for an accelerated scenario clock (wall seconds).
SCENARIO_TIMERS = {
    "SWEEP_INTERVAL_S": "1",  # meetings: overdue reports and actions; notifications: escalations, flushes
    "DELAY_SWEEP_INTERVAL_S": "1",
    "RISK_SWEEP_INTERVAL_S": "5",
    "DELIVERY_POLL_S": "0.5",
}


def start_services(stack: Stack, extra_env: dict[str, str] | None = None) -> list[Service]:
    endpoints = stack.endpoints()
    env = {
        **(extra_env or {}),
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "MONGODB_URL": endpoints.mongodb_url,
        "AUTH_DEV_TOKENS": "true",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": os.environ.get("SIAGA_SMTP_PORT", "8025"),
        "WEBHOOK_URL": f"http://127.0.0.1:{os.environ.get('SIAGA_WEBHOOK_PORT', '8026')}/siaga",
        "WEBHOOK_SECRET": os.environ.get("SIAGA_WEBHOOK_SECRET", "siaga-local-webhook-secret"),
        # Telegram and WhatsApp: the local receivers speak both APIs' shapes (siaga_devstack.receivers)
        "TELEGRAM_BASE_URL": f"http://127.0.0.1:{os.environ.get('SIAGA_WEBHOOK_PORT', '8026')}",
        "TELEGRAM_TOKEN": receivers.TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": "siaga-local-telegram-secret",
        "WHATSAPP_BASE_URL": f"http://127.0.0.1:{os.environ.get('SIAGA_WEBHOOK_PORT', '8026')}/v21.0",
        "WHATSAPP_PHONE_NUMBER_ID": receivers.WHATSAPP_PHONE_ID,
        "WHATSAPP_TOKEN": receivers.WHATSAPP_TOKEN,
        "WHATSAPP_APP_SECRET": "siaga-local-whatsapp-app-secret",
        "WHATSAPP_VERIFY_TOKEN": "siaga-local-whatsapp-verify",
        "PUBLIC_URL": "http://127.0.0.1:8103",
        "ACK_LINK_SECRET": "siaga-local-ack-link-secret",
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
    start_console(stack, started, env)
    return started


def start_console(stack: Stack, services: list[Service], env: dict[str, str]) -> bool:
    """The console, pointed at the services' HTTP APIs (it talks to nothing else)."""
    if not CONSOLE.installed() or len(services) < len(SERVICES):
        return False
    pidfile = stack.paths.pidfile(CONSOLE.name)
    if alive(pidfile, CONSOLE.module):
        return True
    require_free_port(CONSOLE.port, "the console", "CONSOLE port")
    urls = {f"{s.name.upper()}_URL": s.url for s in services}
    own = {  # the console needs no secret of the services: only where they are and which tokens to accept
        **urls,
        "AUTH_DEV_TOKENS": env["AUTH_DEV_TOKENS"],
        "HTTP_PORT": str(CONSOLE.port),
        "SERVICE_NAME": CONSOLE.name,
        "LIVE_POLL_S": "2",
    }
    pid = spawn(
        [sys.executable, "-m", CONSOLE.module], pidfile=pidfile, log=stack.paths.log(CONSOLE.name), env=own
    )
    wait_for(
        partial(_ready, CONSOLE.url),
        timeout=60,
        what="the console",
        log=stack.paths.log(CONSOLE.name),
        pid_check=partial(pid_running, pid),
    )
    return True


def stop_services(stack: Stack) -> list[str]:
    stopped = [
        svc.name for svc in (CONSOLE, *SERVICES) if stop_pidfile(stack.paths.pidfile(svc.name), svc.module)
    ]
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


def scenario_traffic(services: list[Service], stack: Stack, scenario: Any, clock_env: dict[str, str]) -> int:
    """Play the default scenario against the services (live view on a terminal); returns failed steps."""
    import asyncio

    from siaga_simulator import run_scenario
    from siaga_simulator.session import clock_from_env

    if len(services) < len(SERVICES):
        print("run: not every service is up; the scenario is skipped", flush=True)
        return 0
    progress = asyncio.run(
        run_scenario(
            scenario,
            clock=clock_from_env(scenario, clock_env),
            kafka_bootstrap=stack.endpoints().kafka_bootstrap,
            urls={s.name: s.url for s in services},
            live=sys.stdout.isatty(),
        )
    )
    print(
        f"\nrun: scenario {scenario.name!r}: {progress.done} steps done, {progress.failed} failed", flush=True
    )
    print(progress.summary, flush=True)
    return progress.failed


def reset_demo_state(mongodb_url: str) -> None:
    """Each ``make run`` plays the scenario from a clean slate: drop the services' own databases.

    Kafka keeps its topics; the services' consumer groups resume after what they had already processed.
    ``SIAGA_KEEP_STATE=1`` keeps everything.
    """
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url, serverSelectionTimeoutMS=5000)
    try:
        for svc in SERVICES:
            client.drop_database(f"siaga_{svc.name}")
    finally:
        client.close()
    print("run: demo databases reset (SIAGA_KEEP_STATE=1 keeps them)", flush=True)


def print_endpoints(stack: Stack, services: list[Service]) -> None:
    endpoints = stack.endpoints()
    print("\nSiaga is running:")
    print(f"  Kafka          {endpoints.kafka_bootstrap}")
    print(f"  MongoDB wire   {endpoints.mongodb_url}")
    for svc in services:
        print(
            f"  {svc.name:14} API docs {svc.url}/docs   AsyncAPI {svc.url}/asyncapi.json   metrics {svc.url}/metrics"
        )
    if CONSOLE.installed() and port_open(CONSOLE.port):
        print(f"  console        {CONSOLE.url}/   (sign in with the demo token below)")
    print(
        f"  e-mail inbox   {stack.paths.state / 'inbox' / 'mail'}  (SMTP 127.0.0.1:{os.environ.get('SIAGA_SMTP_PORT', '8025')})"
    )
    print(f"  webhook inbox  {stack.paths.state / 'inbox' / 'webhooks.jsonl'}")
    print(f"  chat inboxes   {stack.paths.state / 'inbox'}/telegram.jsonl, whatsapp.jsonl")
    print(f"  logs           {stack.paths.logs}")
    print(f"  demo token     Authorization: Bearer {ADMIN_TOKEN}", flush=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(stack: Stack) -> int:
    from siaga_simulator import DEFAULT_SCENARIO, load_scenario, scenario_clock_env

    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    scenario = load_scenario(os.environ.get("SIAGA_SCENARIO", str(DEFAULT_SCENARIO)))
    endpoints = stack.up()
    if not os.environ.get("SIAGA_KEEP_STATE"):
        reset_demo_state(endpoints.mongodb_url)
    clock_env = scenario_clock_env(scenario)
    services = start_services(stack, {**clock_env, **SCENARIO_TIMERS})
    print(f"run: servers and {len(services)} services ready in {time.monotonic() - started:.0f}s", flush=True)
    print_endpoints(stack, services)
    print(
        f"\nrun: playing {scenario.name!r} ({len(scenario.steps)} steps, {scenario.factor:g}x time)\n",
        flush=True,
    )
    try:
        scenario_traffic(services, stack, scenario, clock_env)
        print_endpoints(stack, services)
        print(
            "The services keep running: try the APIs above. Ctrl-C stops them (make stop also stops Kafka and FerretDB).",
            flush=True,
        )
        del endpoints
        while all(port_open(s.port) for s in services):
            time.sleep(2)
        print("run: a service stopped; see its log under .devstack/logs", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print(f"run: stopped {', '.join(stop_services(stack)) or 'nothing'}", flush=True)
