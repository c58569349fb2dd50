"""The committed AsyncAPI documents are what the services generate, and they are well-formed 3.0."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from siaga_runtime.asyncapi_export import SERVICES, render_service

DOCS = Path(__file__).resolve().parents[2] / "schemas" / "asyncapi"


@pytest.mark.parametrize("service", SERVICES)
def test_committed_asyncapi_matches_the_service(service: str) -> None:
    path = DOCS / f"{service}.yaml"
    assert path.exists(), f"{path.name} is not committed: run `make docs`"
    assert path.read_text() == render_service(service), f"{path.name} drifted from the code: run `make docs`"


@pytest.mark.parametrize("service", SERVICES)
def test_asyncapi_is_3_0_and_every_message_has_a_resolvable_payload(service: str) -> None:
    doc = yaml.safe_load(render_service(service))
    assert doc["asyncapi"] == "3.0.0"
    schemas = doc["components"]["schemas"]
    assert doc["channels"], "a service with no channels"
    for name, message in doc["components"]["messages"].items():
        ref = message["payload"]["$ref"]
        target = ref.removeprefix("#/components/schemas/")
        assert target in schemas, f"{name}: payload {ref} does not resolve"
        assert target != "EmptyPayload", f"{name}: payload is undocumented"
    for channel in doc["channels"].values():
        assert channel["address"].startswith("siaga.")
