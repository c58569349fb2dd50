"""The devstack on the real servers: idempotent start, external overrides, clear port errors."""

from __future__ import annotations

import socket

import pytest
from siaga_devstack import DevstackError, Stack, ensure_up
from siaga_devstack.ferretdb import hello_ok
from siaga_devstack.kafka import api_versions_ok
from siaga_devstack.process import require_free_port

pytestmark = pytest.mark.integration


def test_ensure_up_is_idempotent_and_reuses_running_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("MONGODB_URL", raising=False)
    stack = Stack()
    first = ensure_up()
    pids = (stack.kafka.running(), stack.ferretdb.running())
    second = ensure_up()
    assert first == second
    assert pids == (stack.kafka.running(), stack.ferretdb.running())
    assert None not in pids
    host, port = first.kafka_bootstrap.split(":")
    assert api_versions_ok(host, int(port))
    assert hello_ok("127.0.0.1", stack.ferretdb.port)


def test_external_servers_are_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    monkeypatch.setenv("MONGODB_URL", "mongodb://mongo.example:27017")
    endpoints = Stack().endpoints()
    assert endpoints.kafka_bootstrap == "kafka.example:9092" and endpoints.kafka_external
    assert endpoints.mongodb_url == "mongodb://mongo.example:27017" and endpoints.mongodb_external


def test_a_port_in_use_gives_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(
            DevstackError, match=rf"port {port} for Kafka is already in use.*SIAGA_KAFKA_PORT"
        ):
            require_free_port(port, "Kafka", "SIAGA_KAFKA_PORT")
