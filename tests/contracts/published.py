"""What an outside integrator works from, shared by the contract tests: the committed AsyncAPI documents
(their channels, messages and examples), Kafka records built from them and published with librdkafka
(confluent-kafka, not the services' aiokafka), and the one precondition the logistics tests need (a plan
with a shipment on its way), made through the HTTP API as an agency would."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml
from confluent_kafka import Producer
from siaga_runtime import RuntimeSettings

from ..helpers import read_to_end

DOCS = Path(__file__).resolve().parents[2] / "schemas" / "asyncapi"
Record = tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]
STATUS_UPDATES = "siaga.logistics.status-updates.v1"


def document(service: str) -> dict[str, Any]:
    """The service's committed AsyncAPI document."""
    doc: dict[str, Any] = yaml.safe_load((DOCS / f"{service}.yaml").read_text())
    return doc


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref``s within the document until a node that is not one."""
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def receive_channels(service: str) -> dict[str, list[str]]:
    """Address -> names of the messages the service's receive operations take there."""
    doc = document(service)
    out: dict[str, list[str]] = {}
    for op in doc["operations"].values():
        if op["action"] == "receive":
            address = resolve(doc, op["channel"])["address"]
            out[address] = [resolve(doc, ref)["name"] for ref in op["messages"]]
    return out


def example(service: str, address: str, name: str) -> dict[str, Any]:
    """The example of message ``name`` on ``address``: its headers and its CloudEvent."""
    doc = document(service)
    channel = next(c for c in doc["channels"].values() if c["address"] == address)
    chosen: dict[str, Any] = resolve(doc, channel["messages"][name])["examples"][0]
    return chosen


def checkpoint_scan(scan: dict[str, Any], place: str = "Dermaga Kayan") -> dict[str, Any]:
    """The documented scan as a checkpoint: the same shipment and time, without the proof of delivery."""
    out = copy.deepcopy(scan)
    for proof in ("lines", "handover"):
        out["data"].pop(proof, None)
    out["data"].update(status="checkpoint", place=place)
    return out


def record(topic: str, ex: dict[str, Any]) -> Record:
    """The Kafka record: key = the partitionkey (the documented key binding), value = the CloudEvent."""
    payload = ex["payload"]
    headers = [(k, str(v).encode()) for k, v in ex.get("headers", {}).items()]
    return (topic, payload["partitionkey"].encode(), json.dumps(payload).encode(), headers)


def publish(bootstrap: str, records: Sequence[Record]) -> None:
    """Publish with librdkafka (confluent-kafka), not aiokafka, and wait until the broker has them all."""
    errors: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    for topic, key, value, headers in records:
        wire: list[tuple[str, str | bytes | None]] = list(headers)
        producer.produce(topic, key=key, value=value, headers=wire, on_delivery=delivered)
    assert producer.flush(30) == 0, "records still queued after 30 s"
    assert errors == []


async def assert_nothing_dead_lettered(settings: RuntimeSettings, addresses: Sequence[str]) -> None:
    for address in addresses:
        letters = await read_to_end(settings.kafka_bootstrap_servers, settings.topic_name(address) + ".dlt")
        reasons = [dict(r.headers).get("dlt.reason", b"").decode() for r in letters]
        assert reasons == [], f"{address}: dead-lettered {reasons}"


def settings_env(runtime_env: Callable[[str], dict[str, str]], service: str) -> dict[str, Any]:
    return {k.lower(): v for k, v in runtime_env(service).items()}


async def shipment_on_its_way(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    plan_id: str,
    shipment_id: str,
    lines: list[dict[str, Any]] | None = None,
) -> None:
    """A Bulungan plan with one TPS, the shipment ``shipment_id`` on its leg (with ``lines``, or the leg's),
    dispatched on 2024-11-25 08:00 WITA."""
    plan = {
        "plan_id": plan_id,
        "election_id": "pilkada2024",
        "region": "65.01",
        "voting_day": "2024-11-27",
        "contests": ["gubernur"],
        "distribution_starts_at": "2024-11-18T08:00:00",
        "warehouse_name": "Gudang KPU Bulungan",
        "ppk": [{"region": "65.01.05", "mode": "land"}],
        "pps": [{"region": "65.01.05.1001", "mode": "land"}],
        "tps": [{"tps_id": "tps-65.01.05.1001-001", "region": "65.01.05.1001", "dpt": 300}],
    }
    r = await client.post("/plans", json=plan, headers=headers)
    assert r.status_code == 201, r.text
    leg: dict[str, Any] = {"shipment_id": shipment_id, "plan_id": plan_id, "leg_id": "tps-65.01.05.1001-001"}
    if lines is not None:
        leg["lines"] = lines
    r = await client.post("/shipments", json=leg, headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/shipments/{shipment_id}/dispatch",
        json={"dispatched_at": "2024-11-25T08:00:00+08:00"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
