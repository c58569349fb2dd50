"""Every example Siaga ships is valid against its own model, with the model's domain rules: each message
example of the committed AsyncAPI documents decodes as the event it names (the consumers' own decoder),
and each request body example of the OpenAPI documents is accepted by the route's body model. A scan's
example is what a real one is: a delivered scan carries lines and a handover, and only a delivered one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from siaga_logistics.domain.plan_spec import PlanSpec, rows_of
from siaga_runtime.asyncapi_export import SERVICES
from siaga_runtime.openapi import api_routes
from siaga_schemas import InvalidEvent, decode_event
from siaga_schemas.codec import DeadLetterReason
from siaga_schemas.events.logistics import ShipmentStatusReported

from ..runtime.test_openapi import BUILDERS
from .published import document

# The domain rules a body must also pass beyond its model (the service runs them before it writes).
DOMAIN_RULES: dict[type[BaseModel], Callable[[Any], object]] = {PlanSpec: rows_of}


def _message_examples() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for service in SERVICES:
        doc = document(service)
        for name, message in doc["components"]["messages"].items():
            if name == "DeadLetter":  # its example is a record that must not decode
                continue
            for example in message["examples"]:
                yield service, name, example


MESSAGE_EXAMPLES = list(_message_examples())


@pytest.mark.parametrize(
    ("service", "name", "example"), MESSAGE_EXAMPLES, ids=[f"{s}:{n}" for s, n, _ in MESSAGE_EXAMPLES]
)
def test_every_message_example_decodes_as_its_event(service: str, name: str, example: dict[str, Any]) -> None:
    headers = [(k, str(v).encode()) for k, v in example["headers"].items()]
    envelope = decode_event(json.dumps(example["payload"]).encode(), headers)
    assert type(envelope.data).__name__ == name
    assert envelope.data.model_dump(mode="json", exclude_none=True) == example["payload"]["data"]


def _request_examples() -> Iterator[tuple[str, str, type[BaseModel], Any]]:
    for service, build in BUILDERS.items():
        app: FastAPI = build()
        paths = app.openapi()["paths"]
        for route in api_routes(app.routes):
            if route.body_field is None:
                continue
            model = route.body_field.field_info.annotation
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            for method in sorted(route.methods):
                content = paths[route.path_format][method.lower()]["requestBody"]["content"]
                yield service, f"{method} {route.path_format}", model, content["application/json"]["example"]


REQUEST_EXAMPLES = list(_request_examples())


@pytest.mark.parametrize(
    ("service", "operation", "model", "example"),
    REQUEST_EXAMPLES,
    ids=[f"{s}:{o}" for s, o, _, _ in REQUEST_EXAMPLES],
)
def test_every_request_example_is_accepted_by_its_body_model(
    service: str, operation: str, model: type[BaseModel], example: Any
) -> None:
    body = model.model_validate(example)
    if (rules := DOMAIN_RULES.get(model)) is not None:
        rules(body)  # raises the DomainError the service would answer with


def test_request_examples_cover_every_service() -> None:
    assert {s for s, *_ in REQUEST_EXAMPLES} == set(BUILDERS)
    assert {s for s, *_ in MESSAGE_EXAMPLES} == set(SERVICES)


def _scan_example() -> dict[str, Any]:
    [example] = [e for _, n, e in MESSAGE_EXAMPLES if n == "ShipmentStatusReported"]
    return example


def test_the_scan_example_is_a_delivery_with_its_proof() -> None:
    data = _scan_example()["payload"]["data"]
    assert data["status"] == "delivered"
    assert data["lines"] and data["handover"]["number"]


@pytest.mark.parametrize("status", ["dispatched", "checkpoint"])
@pytest.mark.parametrize("proof", ["lines", "handover"])
def test_only_a_delivered_scan_carries_lines_or_a_handover(status: str, proof: str) -> None:
    payload = _scan_example()["payload"]
    data = {k: v for k, v in payload["data"].items() if k not in {"lines", "handover"} or k == proof}
    record = json.dumps({**payload, "data": {**data, "status": status}}).encode()
    with pytest.raises(InvalidEvent) as refused:
        decode_event(record)
    assert refused.value.reason is DeadLetterReason.SCHEMA_VIOLATION
    assert f"{proof}: only a delivered scan" in str(refused.value)
    ShipmentStatusReported.model_validate({**data, "status": status} | {proof: None})  # without it: valid
