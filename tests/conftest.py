"""Shared fixtures. Integration tests use the REAL servers: the devstack's local Kafka and FerretDB, or the
external ones named by KAFKA_BOOTSTRAP_SERVERS / MONGODB_URL. Each test gets its own topic prefix and
database, so tests never see each other's data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Servers:
    kafka_bootstrap: str
    mongodb_url: str


@pytest.fixture(scope="session")
def servers() -> Servers:
    """Real Kafka and MongoDB-wire endpoints (started by the devstack when not given by the environment)."""
    kafka, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    if kafka and mongo:
        return Servers(kafka, mongo)
    from siaga_devstack import ensure_up

    endpoints = ensure_up()
    os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", endpoints.kafka_bootstrap)
    os.environ.setdefault("MONGODB_URL", endpoints.mongodb_url)
    return Servers(endpoints.kafka_bootstrap, endpoints.mongodb_url)


@pytest.fixture
def isolation() -> str:
    """A unique prefix for this test's topics, consumer groups and database."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def runtime_env(servers: Servers, isolation: str) -> Callable[[str], dict[str, str]]:
    """Environment variables for a service under test, isolated by topic prefix and database."""

    def make(service: str) -> dict[str, str]:
        return {
            "SERVICE_NAME": service,
            "KAFKA_BOOTSTRAP_SERVERS": servers.kafka_bootstrap,
            "MONGODB_URL": servers.mongodb_url,
            "MONGODB_DATABASE": f"{isolation}_{service}",
            "KAFKA_TOPIC_PREFIX": f"{isolation}.",
            "KAFKA_GROUP_PREFIX": isolation,
            "AUTH_DEV_TOKENS": "true",
            "LOG_JSON": "false",
            "BATCH_TIMEOUT_MS": "50",
            "SHUTDOWN_TIMEOUT_S": "10",
        }

    return make
