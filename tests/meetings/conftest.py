"""Fixtures for the meetings tests: settings isolated per test, and the app running in-process."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from siaga_meetings.settings import MeetingsSettings


@pytest.fixture(scope="session")
def servers() -> Any:
    """Real Kafka and FerretDB: the ones named by the environment, else the devstack's."""
    kafka, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    if kafka and mongo:
        return SimpleNamespace(kafka_bootstrap=kafka, mongodb_url=mongo)
    from siaga_devstack import ensure_up

    endpoints = ensure_up()
    os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", endpoints.kafka_bootstrap)
    os.environ.setdefault("MONGODB_URL", endpoints.mongodb_url)
    return SimpleNamespace(kafka_bootstrap=endpoints.kafka_bootstrap, mongodb_url=endpoints.mongodb_url)


@pytest.fixture
def meetings_settings(runtime_env: Callable[[str], dict[str, str]]) -> MeetingsSettings:
    env = runtime_env("meetings")
    return MeetingsSettings(**{k.lower(): v for k, v in env.items()}, sweep_interval_s=3600)  # type: ignore[arg-type]
