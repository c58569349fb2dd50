"""``siaga_runtime.serve``: how every service's ``python -m`` entry point starts (uvicorn stubbed, no server)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from siaga_logistics.cli import main as logistics_main
from siaga_meetings.__main__ import main as meetings_main
from siaga_notifications.__main__ import main as notifications_main
from siaga_runtime import RuntimeSettings
from siaga_runtime.serve import serve


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield calls
    root.handlers[:], root.level = handlers, level  # configure_logging replaced them


def test_serve_builds_the_app_from_the_settings_and_leaves_logging_to_the_service(
    served: list[tuple[Any, dict[str, Any]]],
) -> None:
    settings = RuntimeSettings(
        service_name="probe", http_host="127.0.0.2", http_port=8199, log_level="WARNING"
    )
    built: list[RuntimeSettings] = []

    def build(s: RuntimeSettings) -> FastAPI:
        built.append(s)
        return FastAPI(title=s.service_name)

    serve(build, settings)
    assert built == [settings]
    [(app, kw)] = served
    assert isinstance(app, FastAPI) and app.title == "probe"
    assert kw == {"host": "127.0.0.2", "port": 8199, "log_config": None}
    assert logging.getLogger().level == logging.WARNING


@pytest.mark.parametrize(
    ("main", "port"),
    [(meetings_main, 8101), (lambda: logistics_main(["serve"]), 8102), (notifications_main, 8103)],
    ids=["meetings", "logistics", "notifications"],
)
def test_each_service_entry_point_serves_its_app_on_its_port(
    served: list[tuple[Any, dict[str, Any]]], main: Any, port: int
) -> None:
    main()
    [(app, kw)] = served
    assert isinstance(app, FastAPI)
    assert kw["port"] == port and kw["log_config"] is None
