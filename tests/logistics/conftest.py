"""Fixtures for the logistics tests: settings isolated per test (timers effectively off: tests sweep)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from siaga_logistics.settings import LogisticsSettings


@pytest.fixture
def logistics_settings(runtime_env: Callable[[str], dict[str, str]]) -> LogisticsSettings:
    env = {k.lower(): v for k, v in runtime_env("logistics").items()}
    return LogisticsSettings(**env, delay_sweep_interval_s=3600, risk_sweep_interval_s=3600)  # type: ignore[arg-type]
