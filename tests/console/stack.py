"""The real services and the console as their own processes on loopback, with a compact scenario played
against them: what the browser tests and the console benchmark look at.

Each stack gets its own databases, topic prefix and consumer groups on the shared Kafka and FerretDB, and a
loopback SMTP server for the notifications service; ``stop`` ends exactly the processes it started.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("scenario.yaml")
STATE = ROOT / ".devstack" / "console"

# Ports of the range this stack may use (18100-18199).
PORTS = {"meetings": 18101, "logistics": 18102, "notifications": 18103, "console": 18104, "smtp": 18125}
TIMERS = {"SWEEP_INTERVAL_S": "0.5", "DELAY_SWEEP_INTERVAL_S": "0.5", "RISK_SWEEP_INTERVAL_S": "1", "DELIVERY_POLL_S": "0.3"}  # fmt: skip

# Who signs in, in the tests and the benchmark (dev tokens: AUTH_DEV_TOKENS=true on this stack only).
OPERATOR_KEDIRI = "dev:kpu:35.71:operator"
ORGANISER_JATIM = "dev:kpu:35:organiser"
BAWASLU_KEDIRI = "dev:bawaslu:35.71:reader"
NATIONAL_DESK = "dev:kemendagri:national:admin"
OPERATOR_BULUNGAN = "dev:kpu:65.01:operator"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as r:  # noqa: S310 (loopback only)
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Stack:
    kafka: str
    mongodb: str
    prefix: str = field(default_factory=lambda: f"c{uuid.uuid4().hex[:8]}")
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    smtp: Any = None
    clock_env: dict[str, str] = field(default_factory=dict)
    progress: Any = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{PORTS[name]}"

    @property
    def console(self) -> str:
        return self.url("console")

    def _env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "MONGODB_", "CLOCK_"))}
        return {
            **env,
            **self.clock_env,
            **TIMERS,
            "SERVICE_NAME": name,
            "HTTP_PORT": str(PORTS[name]),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "MONGODB_URL": self.mongodb,
            "MONGODB_DATABASE": f"{self.prefix}_{name}",
            "KAFKA_TOPIC_PREFIX": f"{self.prefix}.",
            "KAFKA_GROUP_PREFIX": self.prefix,
            "AUTH_DEV_TOKENS": "true",
            "LOG_JSON": "false",
            "LOG_LEVEL": "WARNING",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(PORTS["smtp"]),
            "MEETINGS_URL": self.url("meetings"),
            "LOGISTICS_URL": self.url("logistics"),
            "NOTIFICATIONS_URL": self.url("notifications"),
            "LIVE_POLL_S": "1",
        }

    def start(self, *, lead_s: float = 60.0) -> None:
        """Start every process; scenario time begins ``lead_s`` from now (the services' clocks are set at
        start, so the lead must cover their start-up on a busy machine)."""
        from aiosmtpd.controller import Controller
        from siaga_simulator import load_scenario, scenario_clock_env

        from tests.notifications.support import Inbox

        STATE.mkdir(parents=True, exist_ok=True)
        scenario = load_scenario(SCENARIO)
        self.clock_env = scenario_clock_env(scenario, lead=timedelta(seconds=lead_s))
        self.smtp = Controller(Inbox(), hostname="127.0.0.1", port=PORTS["smtp"])
        self.smtp.start()
        for name in ("meetings", "logistics", "notifications", "console"):
            log = (STATE / f"{name}.log").open("wb")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", f"siaga_{name}"], env=self._env(name), stdout=log, stderr=log
            )
        deadline = time.monotonic() + 90
        for name, proc in self.procs.items():
            while not _ready(self.url(name)):
                if proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{name} did not start; see {STATE / (name + '.log')}")
                time.sleep(0.2)

    def clock(self) -> Any:
        """The services' shared accelerated clock (scenario time), as the simulator reads it."""
        from siaga_simulator import load_scenario
        from siaga_simulator.session import clock_from_env

        return clock_from_env(load_scenario(SCENARIO), self.clock_env)

    def play(self) -> Any:
        """Play the compact scenario on the services' shared accelerated clock; returns its progress."""
        from siaga_simulator import load_scenario
        from siaga_simulator.actions import Driver
        from siaga_simulator.runner import Progress, play
        from siaga_simulator.session import clock_from_env

        scenario = load_scenario(SCENARIO)
        clock = clock_from_env(scenario, self.clock_env)

        async def run() -> Any:
            driver = Driver(
                urls={n: self.url(n) for n in ("meetings", "logistics", "notifications")}, say=lambda _: None
            )
            try:
                return await play(scenario, driver, clock, Progress(scenario, clock))
            finally:
                await driver.close()

        self.progress = asyncio.run(run())
        return self.progress

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None
