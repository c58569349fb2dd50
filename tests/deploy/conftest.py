"""A live monitoring stack for the deploy tests: real service instances (two of meetings, one each of
logistics and notifications, as subprocesses on loopback) scraped by Debian's Prometheus server, configured
from the shipped ``deploy/prometheus/prometheus.yml`` and rules with only the targets and the timings
changed (1 s scrapes and evaluations, ``for:`` at most 5 s)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..conftest import Servers
from .test_compose import compose, docker_compose  # noqa: F401 (its fixtures, for the other deploy tests)

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
PORT_BASE = int(os.environ.get("SIAGA_TEST_MONITORING_PORT", "29200"))  # Prometheus; instances follow
SHORT_FOR = "5s"
# job (the compose service name) -> instance ids; each instance gets the next port
INSTANCES = {
    "meetings": ["meetings-a", "meetings-b"],
    "logistics": ["logistics-a"],
    "notifications": ["notifications-a"],
}


@dataclass
class Instance:
    job: str
    instance_id: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"http://{self.target}/metrics", timeout=5) as resp:
            return str(resp.read().decode())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Monitoring:
    url: str
    instances: list[Instance]
    prefix: str
    kafka_bootstrap: str
    exported: dict[str, str] = field(default_factory=dict)  # metric family -> type, from real /metrics

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as resp:  # noqa: S310
                body = yaml.safe_load(resp.read())
        except urllib.error.HTTPError as exc:
            body = yaml.safe_load(exc.read())
        return body

    def instance(self, instance_id: str) -> Instance:
        return next(i for i in self.instances if i.instance_id == instance_id)


def wait_until(what: str, check: Any, cap_s: float = 120.0, every_s: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after a generous cap."""
    deadline = time.monotonic() + cap_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    pytest.fail(f"{what}: not reached within {cap_s:.0f}s (last answer: {last!r})")


def local_config(tmp: Path, targets: dict[str, list[str]]) -> Path:
    """The shipped prometheus.yml with local targets and fast timings, and its rules with short ``for:``."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    rule_files = []
    for name in config["rule_files"]:
        rules = yaml.safe_load((PROMETHEUS_DIR / name).read_text())
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = SHORT_FOR
        out = tmp / Path(name).name
        out.write_text(yaml.safe_dump(rules, sort_keys=False))
        rule_files.append(str(out))
    config["rule_files"] = rule_files
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            static["targets"] = targets[job["job_name"]]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _exported_families(text: str) -> dict[str, str]:
    families = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            families[name] = kind
    return families


def _ready(instance: Instance) -> bool:
    try:
        with urllib.request.urlopen(f"http://{instance.target}/health/ready", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        if instance.proc is not None and instance.proc.poll() is not None:
            pytest.fail(f"{instance.instance_id} exited during start-up; see {instance.log}")
        return False


@pytest.fixture(scope="session")
def monitoring(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("the Prometheus server binary is missing: run deploy/setup/apt-packages.sh")
    tmp = tmp_path_factory.mktemp("monitoring")
    prefix = f"t{uuid.uuid4().hex[:10]}"
    instances, port = [], PORT_BASE + 1
    for job, ids in INSTANCES.items():
        for instance_id in ids:
            instances.append(Instance(job, instance_id, port, tmp / f"{instance_id}.log"))
            port += 1
    prometheus: subprocess.Popen[bytes] | None = None
    try:
        for inst in instances:
            env = {
                **os.environ,
                "SERVICE_NAME": inst.job,
                "INSTANCE_ID": inst.instance_id,
                "HTTP_PORT": str(inst.port),
                "KAFKA_BOOTSTRAP_SERVERS": servers.kafka_bootstrap,
                "MONGODB_URL": servers.mongodb_url,
                "MONGODB_DATABASE": f"{prefix}_{inst.job}",
                "KAFKA_TOPIC_PREFIX": f"{prefix}.",
                "KAFKA_GROUP_PREFIX": prefix,
                "AUTH_DEV_TOKENS": "true",
                "LOG_JSON": "false",
                "SHUTDOWN_TIMEOUT_S": "10",
            }
            with inst.log.open("wb") as log:
                inst.proc = subprocess.Popen(
                    [sys.executable, "-m", f"siaga_{inst.job}"], env=env, stdout=log, stderr=subprocess.STDOUT
                )
        for inst in instances:
            wait_until(f"{inst.instance_id} ready on {inst.target}", lambda i=inst: _ready(i), cap_s=120)
        targets: dict[str, list[str]] = {}
        for inst in instances:
            targets.setdefault(inst.job, []).append(inst.target)
        config = local_config(tmp, targets)
        check = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        address = f"127.0.0.1:{PORT_BASE}"
        with (tmp / "prometheus.log").open("wb") as log:
            prometheus = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp / 'data'}",
                    f"--web.listen-address={address}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        stack = Monitoring(f"http://{address}", instances, prefix, servers.kafka_bootstrap)

        def prometheus_ready() -> bool:
            if prometheus is not None and prometheus.poll() is not None:
                pytest.fail(f"Prometheus exited; see {tmp / 'prometheus.log'}")
            try:
                with urllib.request.urlopen(f"{stack.url}/-/ready", timeout=2) as resp:  # noqa: S310
                    return bool(resp.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        wait_until("Prometheus ready", prometheus_ready, cap_s=60)
        for inst in instances:
            stack.exported |= _exported_families(inst.metrics_text())
        yield stack
    finally:
        for inst in instances:
            inst.stop()
        if prometheus is not None:
            prometheus.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                prometheus.wait(20)
            if prometheus.poll() is None:
                prometheus.kill()
                prometheus.wait()
