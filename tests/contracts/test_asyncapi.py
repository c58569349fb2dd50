"""The committed AsyncAPI documents are what the services generate, and they give an integrator everything
needed to build a valid record: one named message per event type with a valid example, the CloudEvents
envelope, the Kafka key and topic configuration, the dead-letter topics and the correlation id."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from siaga_runtime.asyncapi_export import SERVICES, render_service
from siaga_schemas import CONTENT_TYPE, TOPICS, DeadLetterReason, decode_event, registry
from siaga_schemas.envelope import data_schema_ref

from .published import DOCS, document, resolve

MODELS = {m.__name__: m for m in registry.models()}


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` whose ``#/components/...`` references resolve within the document."""
    return Draft202012Validator({**schema, "components": doc["components"]})


@pytest.mark.parametrize("service", SERVICES)
def test_committed_asyncapi_matches_the_service(service: str) -> None:
    path = DOCS / f"{service}.yaml"
    assert path.exists(), f"{path.name} is not committed: run `make docs`"
    assert path.read_text() == render_service(service), f"{path.name} drifted from the code: run `make docs`"


@pytest.mark.parametrize("service", SERVICES)
def test_one_named_message_per_event_type_with_a_valid_example(service: str) -> None:
    doc = document(service)
    assert doc["asyncapi"] == "3.0.0"
    messages = doc["components"]["messages"]
    for name, message in messages.items():
        assert message["name"] == name
        assert message["title"] and message["summary"], name
        examples = message["examples"]
        assert examples, f"{name} has no example"
        for example in examples:
            errors = list(_validator(doc, message["payload"]).iter_errors(example["payload"]))
            assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"
            headers = resolve(doc, message.get("headers") or {"$ref": "#/components/schemas/KafkaHeaders"})
            assert not list(_validator(doc, headers).iter_errors(example["headers"])), name
        if name == "DeadLetter":
            continue
        model = MODELS[name]
        payload = examples[0]["payload"]
        decoded = decode_event(json.dumps(payload).encode(), [("content-type", CONTENT_TYPE.encode())])
        assert type(decoded.data) is model
        assert decoded.type == model.event_type and decoded.schemaversion == model.schema_version
        assert message["payload"]["allOf"][0] == {"$ref": "#/components/schemas/CloudEvent"}
        assert message["traits"] == [{"$ref": "#/components/messageTraits/CloudEvent"}]
        assert "partitionkey" in message["bindings"]["kafka"]["key"]["description"]
        if payload.get("dataschema"):
            assert data_schema_ref(payload["dataschema"]) == (model.event_type, model.schema_version)


@pytest.mark.parametrize("service", SERVICES)
def test_the_envelope_is_described_once_with_content_type_and_correlation_id(service: str) -> None:
    doc = document(service)
    components = doc["components"]
    envelope = components["schemas"]["CloudEvent"]
    assert {"id", "source", "type", "time", "partitionkey", "correlationid", "dataschema"} <= set(
        envelope["properties"]
    )
    trait = components["messageTraits"]["CloudEvent"]
    assert trait["contentType"] == CONTENT_TYPE
    assert resolve(doc, trait["headers"])["properties"]["content-type"]["const"] == CONTENT_TYPE
    correlation = resolve(doc, trait["correlationId"])
    assert correlation["location"] == "$message.payload#/correlationid"
    assert "$message.payload#/id" in correlation["description"]


@pytest.mark.parametrize("service", SERVICES)
def test_channels_carry_the_topic_registry_and_every_consumed_topic_has_its_dead_letters(
    service: str,
) -> None:
    doc = document(service)
    channels = doc["channels"]
    received = {
        resolve(doc, op["channel"])["address"]
        for op in doc["operations"].values()
        if op["action"] == "receive"
    }
    assert received, "a service that consumes nothing"
    for address in received:
        dlt = channels[f"{address}.dlt"]
        assert list(dlt["messages"]) == ["DeadLetter"]
        headers = resolve(doc, resolve(doc, dlt["messages"]["DeadLetter"])["headers"])
        assert set(headers["properties"]["dlt.reason"]["enum"]) == {r.value for r in DeadLetterReason}
        for name in ("error.class", "error.message", "service", "time", "source.topic", "source.offset"):
            assert f"dlt.{name}" in headers["required"]
    for channel_id, channel in channels.items():
        kafka = channel["bindings"]["kafka"]
        assert kafka["topic"] == channel["address"]
        spec = TOPICS.get(channel["address"])
        if spec is not None:
            assert kafka["partitions"] == spec.partitions
            assert kafka["topicConfiguration"] == {
                "cleanup.policy": [spec.cleanup_policy],
                "retention.ms": spec.retention_ms,
            }
            for ref in channel["messages"].values():
                message = resolve(doc, ref)
                assert MODELS[message["name"]].topic == spec.name, channel_id
        else:
            assert channel["address"].removesuffix(".dlt") in TOPICS, channel_id
    for op_id, op in doc["operations"].items():
        channel = resolve(doc, op["channel"])
        for ref in op["messages"]:
            assert ref["$ref"].startswith(op["channel"]["$ref"] + "/messages/"), op_id
            assert ref["$ref"].rsplit("/", 1)[1] in channel["messages"], op_id
