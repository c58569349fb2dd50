"""Per-instance operations: the instance id, the producer's acks, the group protocol and assignor, and the
metrics that tell instances apart (partitions, rebalances, lag, outbox age, leases), on the real servers."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uuid_utils
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from siaga_runtime import Decision, Projection, RuntimeSettings, ServiceRuntime, make_http_app
from siaga_runtime.metrics import RuntimeMetrics
from siaga_runtime.outbox import OutboxRelay
from siaga_schemas.topics import LOGISTICS_STATUS_UPDATES


def test_instance_id_acks_protocol_and_assignor_settings() -> None:
    default = RuntimeSettings()
    assert default.instance_id == f"{socket.gethostname()}-{os.getpid()}"
    assert default.producer_kwargs() == {"acks": "all", "enable_idempotence": True}
    assert default.kafka_group_protocol == "classic"
    assert default.partition_assignors() == (StickyPartitionAssignor,)
    assert RuntimeSettings(kafka_acks="1").producer_kwargs() == {"acks": 1, "enable_idempotence": False}
    assert RuntimeSettings(instance_id="meetings-a").instance_id == "meetings-a"
    several = RuntimeSettings(kafka_bootstrap_servers="127.0.0.1:19092, 127.0.0.1:19093")
    assert several.bootstrap_list() == ["127.0.0.1:19092", "127.0.0.1:19093"]
    with pytest.raises(ValidationError, match="kafka_group_protocol"):
        RuntimeSettings(kafka_group_protocol="consumer")
    with pytest.raises(ValidationError, match="kafka_acks"):
        RuntimeSettings(kafka_acks="2")


def _samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(s.labels.items()): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_the_outbox_age_is_read_at_scrape_time_and_revoked_lag_is_forgotten() -> None:
    registry = CollectorRegistry()
    metrics = RuntimeMetrics(registry, "svc", "host-1")

    async def enqueue(*_: Any) -> Any:
        raise AssertionError("not published in this test")

    relay = OutboxRelay(None, lambda _: None, enqueue, metrics)  # type: ignore[arg-type]
    metrics.outbox_oldest_age.set_function(relay.oldest_age)
    assert registry.get_sample_value("siaga_outbox_oldest_age_seconds") == 0.0
    saved = datetime.now(UTC) - timedelta(minutes=5)
    journal_id = str(uuid_utils.uuid7(nanoseconds=int(saved.timestamp() * 1e9)))
    relay.notify(journal_id, [{"topic": "t", "key": "k", "value": "{}", "j": journal_id}])  # type: ignore[typeddict-item]
    age = registry.get_sample_value("siaga_outbox_oldest_age_seconds")
    assert age is not None and age >= 300  # no publish happened: the age still grows at every scrape

    assert registry.get_sample_value("siaga_instance_info", {"service": "svc", "instance_id": "host-1"}) == 1
    metrics.set_lease("escalations", True)
    assert registry.get_sample_value("siaga_lease_owned", {"lease": "escalations"}) == 1
    metrics.set_lease("escalations", False)
    assert registry.get_sample_value("siaga_lease_owned", {"lease": "escalations"}) == 0

    metrics.partitions_assigned("t", 2)
    metrics.consumer_lag.labels("svc", "t", "0").set(7)
    metrics.consumer_lag.labels("svc", "t", "1").set(9)
    metrics.partitions_revoked("t", [0])
    assert (
        registry.get_sample_value(
            "siaga_consumer_lag_records", {"service": "svc", "topic": "t", "partition": "0"}
        )
        is None
    )
    assert (
        registry.get_sample_value(
            "siaga_consumer_lag_records", {"service": "svc", "topic": "t", "partition": "1"}
        )
        == 9
    )
    assert registry.get_sample_value("siaga_consumer_rebalances_total", {"service": "svc", "topic": "t"}) == 1


def _instance(settings: RuntimeSettings) -> tuple[ServiceRuntime, Any]:
    runtime = ServiceRuntime(settings)
    store = runtime.store("things")
    runtime.subscribe(
        LOGISTICS_STATUS_UPDATES,
        [Projection("things", store, lambda e: None, lambda d, e: Decision(state=None))],
    )
    return runtime, make_http_app(runtime, title="test", description="instances test")


async def _assigned(client: httpx.AsyncClient, topic: str) -> tuple[float, float]:
    text = (await client.get("/metrics")).text
    partitions = {
        dict(k)["topic"]: v for k, v in _samples(text, "siaga_consumer_assigned_partitions").items()
    }
    rebalances = {dict(k)["topic"]: v for k, v in _samples(text, "siaga_consumer_rebalances_total").items()}
    return partitions.get(topic, 0.0), rebalances.get(topic, 0.0)


@pytest.mark.integration
async def test_two_instances_share_the_partitions_and_each_reports_its_own(
    settings_for: Callable[[str], RuntimeSettings],
) -> None:
    base = settings_for("instances").model_dump()
    topic = f"{base['kafka_topic_prefix']}{LOGISTICS_STATUS_UPDATES.name}"
    first, first_app = _instance(RuntimeSettings(**{**base, "instance_id": "instances-a"}))
    second, second_app = _instance(RuntimeSettings(**{**base, "instance_id": "instances-b"}))
    transport_a = httpx.ASGITransport(app=first_app)
    transport_b = httpx.ASGITransport(app=second_app)
    async with (
        first_app.router.lifespan_context(first_app),
        httpx.AsyncClient(transport=transport_a, base_url="http://a") as a,
    ):
        async with asyncio.timeout(60):  # a cap on a hang: the first instance gets every partition
            while (await _assigned(a, topic))[0] != LOGISTICS_STATUS_UPDATES.partitions:
                await asyncio.sleep(0.2)
        async with (
            second_app.router.lifespan_context(second_app),
            httpx.AsyncClient(transport=transport_b, base_url="http://b") as b,
        ):
            async with asyncio.timeout(90):  # the group rebalances: both hold a share, together all
                while True:
                    (pa, ra), (pb, rb) = await _assigned(a, topic), await _assigned(b, topic)
                    if pa and pb and pa + pb == LOGISTICS_STATUS_UPDATES.partitions:
                        break
                    await asyncio.sleep(0.2)
            assert ra >= 2 and rb >= 1  # the first was assigned again when the second joined
            assert (await b.get("/health/live")).json() == {"status": "ok", "instance": "instances-b"}
            text = (await b.get("/metrics")).text
            assert _samples(text, "siaga_instance_info") == {
                frozenset({("service", "instances"), ("instance_id", "instances-b")}): 1.0
            }
        assert (await a.get("/health/ready")).json()["instance"] == "instances-a"
    assert not first.started and not second.started
