"""The devstack on the real servers: idempotent start, external overrides, clear port errors, own pids only.

The shared servers on the default ports are started (if needed) and reused, never stopped here: other test
sessions may be using them concurrently. Tests that need a server of their own use a throw-away root.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from siaga_devstack import DevstackError, Stack, ensure_up, local_servers, status, stop
from siaga_devstack.cluster import configured_brokers
from siaga_devstack.paths import Paths
from siaga_devstack.probes import hello_ok, kafka_ready, metadata_broker_count
from siaga_devstack.process import require_free_port

from ..conftest import Servers

ENV_VARS = ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL", "SIAGA_KAFKA_PORT", "SIAGA_KAFKA_CONTROLLER_PORT")


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default, local servers: no external endpoints, default ports."""
    for var in (*ENV_VARS, "SIAGA_MONGO_PORT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    """A throw-away checkout root (nothing installed, nothing running)."""
    (tmp_path / "pyproject.toml").write_text("[tool.uv.workspace]\nmembers = []\n")
    return tmp_path


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


@pytest.mark.integration
@pytest.mark.usefixtures("local_env")
def test_ensure_up_is_idempotent_and_reuses_running_servers() -> None:
    stack = Stack()
    first = ensure_up()
    pids = (stack.kafka.running(), stack.ferretdb.running())
    assert None not in pids
    second = ensure_up()
    assert first == second
    assert not first.kafka_external and not first.mongodb_external
    assert pids == (stack.kafka.running(), stack.ferretdb.running())
    host, port = first.kafka_bootstrap.split(",")[0].split(":")
    assert kafka_ready(host, int(port))
    assert metadata_broker_count(host, int(port)) == configured_brokers()  # SIAGA_KAFKA_BROKERS, default 1
    assert hello_ok("127.0.0.1", stack.ferretdb.port)


@pytest.mark.integration
@pytest.mark.usefixtures("local_env")
def test_status_reports_both_servers_running_and_ready() -> None:
    ensure_up()
    by_name = {s.name: s for s in status()}
    assert set(by_name) == {"kafka", "ferretdb"}
    for s in by_name.values():
        assert s.pid is not None and s.ready and not s.external
    cli = subprocess.run(
        [sys.executable, "-m", "siaga_devstack", "status"], capture_output=True, text=True, check=False
    )
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.count("running (pid") == 2


def test_a_port_in_use_gives_a_clear_error(busy_port: int) -> None:
    with pytest.raises(
        DevstackError, match=rf"port {busy_port} for Kafka is already in use.*SIAGA_KAFKA_PORT"
    ):
        require_free_port(busy_port, "Kafka", "SIAGA_KAFKA_PORT")


def test_up_on_a_busy_port_exits_non_zero_naming_port_and_variable(
    scratch_root: Path, busy_port: int
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env |= {"SIAGA_ROOT": str(scratch_root), "SIAGA_MONGO_PORT": str(busy_port)}
    env["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1"  # external: only FerretDB would be started
    cli = subprocess.run(
        [sys.executable, "-m", "siaga_devstack", "up"], capture_output=True, text=True, env=env, check=False
    )
    assert cli.returncode == 1
    assert f"port {busy_port}" in cli.stderr and "SIAGA_MONGO_PORT" in cli.stderr
    assert not (scratch_root / ".cache").exists()  # failed before installing anything


def test_external_servers_mean_nothing_local_is_started(
    monkeypatch: pytest.MonkeyPatch, scratch_root: Path
) -> None:
    assert local_servers({}) == ("kafka", "ferretdb")
    assert local_servers({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"}) == ("ferretdb",)
    assert local_servers({"MONGODB_URL": "mongodb://m"}) == ("kafka",)
    assert local_servers({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "MONGODB_URL": "mongodb://m"}) == ()
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    monkeypatch.setenv("MONGODB_URL", "mongodb://mongo.example:27017")
    endpoints = Stack(Paths(scratch_root)).up()
    assert endpoints.kafka_bootstrap == "kafka.example:9092" and endpoints.kafka_external
    assert endpoints.mongodb_url == "mongodb://mongo.example:27017" and endpoints.mongodb_external
    assert not (scratch_root / ".devstack" / "pids").exists()
    assert not (scratch_root / ".cache").exists()


def test_env_command_prints_shell_assignments(scratch_root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in (*ENV_VARS, "SIAGA_KAFKA_BROKERS")}
    env |= {"SIAGA_ROOT": str(scratch_root), "SIAGA_KAFKA_PORT": "19999", "SIAGA_MONGO_PORT": "29999"}
    cli = subprocess.run(
        [sys.executable, "-m", "siaga_devstack", "env"], capture_output=True, text=True, env=env, check=True
    )
    assert cli.stdout.splitlines() == [
        "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19999",
        "MONGODB_URL=mongodb://127.0.0.1:29999",
    ]


def test_down_leaves_processes_it_did_not_start_alone(
    monkeypatch: pytest.MonkeyPatch, scratch_root: Path
) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pids = scratch_root / ".devstack" / "pids"
        pids.mkdir(parents=True)
        for name in ("kafka", "ferretdb"):  # stale or foreign pidfiles: the command line is not ours
            (pids / f"{name}.pid").write_text(str(stranger.pid))
        monkeypatch.setenv("SIAGA_ROOT", str(scratch_root))
        assert stop() == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


async def test_the_kafka_probe_works_inside_a_running_event_loop(servers: Servers, busy_port: int) -> None:
    """A benchmark calls ``ensure_up`` from its event loop: the probe must not need a loop of its own."""
    host, port = servers.kafka_bootstrap.split(",")[0].split(":")
    assert kafka_ready(host, int(port))
    assert not kafka_ready("127.0.0.1", busy_port, timeout=0.5)


def test_readiness_probes_say_no_to_a_port_that_is_not_a_server(busy_port: int) -> None:
    assert not kafka_ready("127.0.0.1", busy_port, timeout=0.5)
    assert not hello_ok("127.0.0.1", busy_port, timeout=0.5)


def test_a_kraft_cluster_id_never_starts_with_a_dash() -> None:
    """The storage tool reads an id that starts with '-' as an option (1 in 64 random ids did)."""
    from siaga_devstack.kafka import new_cluster_id

    ids = [new_cluster_id() for _ in range(5000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)
