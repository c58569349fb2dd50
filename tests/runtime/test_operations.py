"""Health, metrics, AsyncAPI, structured logs and secret hygiene of the runtime."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import httpx
import pytest
from faststream.security import SASLScram512
from siaga_runtime import (
    Decision,
    Projection,
    RuntimeSettings,
    ServiceRuntime,
    bind,
    configure_logging,
    make_http_app,
)
from siaga_schemas.topics import LOGISTICS_EVENTS, LOGISTICS_STATUS_UPDATES


def _app(settings: RuntimeSettings) -> tuple[ServiceRuntime, object]:
    runtime = ServiceRuntime(settings)
    store = runtime.store("things")
    runtime.publisher(LOGISTICS_EVENTS)
    runtime.subscribe(
        LOGISTICS_STATUS_UPDATES,
        [Projection("things", store, lambda e: None, lambda d, e: Decision(state=None))],
    )
    return runtime, make_http_app(runtime, title="test", description="ops test")


@pytest.mark.integration
async def test_health_metrics_and_asyncapi(settings_for: Callable[[str], RuntimeSettings]) -> None:
    _, app = _app(settings_for("ops"))
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as client:  # type: ignore[arg-type]
            instance = settings_for("ops").instance_id
            assert (await client.get("/health/live")).json() == {"status": "ok", "instance": instance}
            ready = await client.get("/health/ready")
            assert ready.status_code == 200 and ready.json() == {
                "status": "ok",
                "instance": instance,
                "mongodb": True,
                "kafka": True,
            }
            metrics = (await client.get("/metrics")).text
            for name in (
                "siaga_outbox_backlog_events",
                "siaga_outbox_oldest_age_seconds",
                "siaga_dependency_up",
                "siaga_handler_duration_seconds",
            ):
                assert name in metrics
            asyncapi = (await client.get("/asyncapi.json")).json()
            assert asyncapi["asyncapi"] == "3.0.0"
            assert any(c["address"].endswith(LOGISTICS_EVENTS.name) for c in asyncapi["channels"].values())


@pytest.mark.integration
async def test_readiness_reports_an_unreachable_mongodb(
    settings_for: Callable[[str], RuntimeSettings],
) -> None:
    base = settings_for("ops-down")
    settings = RuntimeSettings(
        **{
            **base.model_dump(),
            "mongodb_url": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300",
            "startup_wait_s": 1.0,
        }
    )
    _, app = _app(settings)
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as client:  # type: ignore[arg-type]
            ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["mongodb"] is False and ready.json()["kafka"] is True


def test_logs_are_json_with_event_context_and_no_secrets() -> None:
    stream = io.StringIO()
    configure_logging("meetings", "INFO", json_logs=True)
    handler = logging.getLogger().handlers[0]
    handler.stream = stream  # type: ignore[attr-defined]
    log = logging.getLogger("siaga.test")
    with bind(event_id="evt-1", correlation_id="corr-1", topic="t", partition=3, offset=42):
        log.info("connecting to %s", "mongodb://siaga:hunter2@db:27017/siaga")
        log.info("sasl password=hunter2 token: abc123")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["service"] == "meetings"
    assert (lines[0]["event_id"], lines[0]["correlation_id"]) == ("evt-1", "corr-1")
    assert (lines[0]["topic"], lines[0]["partition"], lines[0]["offset"]) == ("t", 3, 42)
    assert "hunter2" not in stream.getvalue() and "abc123" not in stream.getvalue()
    assert "mongodb://siaga:***@db:27017/siaga" in lines[0]["message"]


def test_kafka_security_settings_and_secret_hygiene() -> None:
    settings = RuntimeSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="siaga",
        kafka_sasl_password="s3cret",
        mongodb_url="mongodb://u:dbpass@mongo:27017",
    )
    security = settings.faststream_security()
    assert isinstance(security, SASLScram512) and security.use_ssl
    kwargs = settings.kafka_security_kwargs()
    assert kwargs["security_protocol"] == "SASL_SSL" and kwargs["sasl_plain_password"] == "s3cret"
    shown = json.dumps(settings.safe_summary(), default=str) + repr(settings) + str(settings)
    assert "s3cret" not in shown and "dbpass" not in shown
