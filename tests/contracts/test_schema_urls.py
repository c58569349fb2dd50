"""Each event's ``dataschema`` is a URL its owning service serves: the committed JSON Schema of that type and
version. Events from before carry ``urn:siaga:jsonschema:<type>:v<n>``, and consumers accept both."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import httpx
import pytest
from siaga_runtime.examples import example_of
from siaga_runtime.schema_routes import SCHEMA_MEDIA_TYPE, owned_models
from siaga_schemas import CONTENT_TYPE, TOPICS, Envelope, decode_event, registry
from siaga_schemas.envelope import data_schema_ref
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.export import schema_filename

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "jsonschema"
SERVICES = ("meetings", "logistics", "notifications")
CT = [("content-type", CONTENT_TYPE.encode())]


def test_every_event_type_is_owned_by_exactly_one_service() -> None:
    owned = [m for s in SERVICES for m in owned_models(s)]
    assert sorted(owned, key=str) == sorted(registry.models(), key=str)


@pytest.mark.parametrize("service", SERVICES)
async def test_the_owning_service_serves_each_schema_its_events_name(service: str) -> None:
    app = importlib.import_module(f"siaga_{service}.app").build_app()
    base = app.state.runtime.settings.schema_base_url()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base) as client:
        index = (await client.get("/schemas")).json()
        assert {(e["type"], e["schemaversion"]) for e in index} == {
            (m.event_type, m.schema_version) for m in owned_models(service)
        }
        for model in owned_models(service):
            url = Envelope.wrap(example_of(model), source="/t", schema_base=base).dataschema
            assert url == f"{base}/schemas/{model.event_type}/v{model.schema_version}"
            assert url in {e["url"] for e in index}
            response = await client.get(url)
            assert response.status_code == 200, url
            assert response.headers["content-type"].startswith(SCHEMA_MEDIA_TYPE)
            committed = json.loads((SCHEMA_DIR / schema_filename(model)).read_text())
            assert response.json() == committed
            assert committed["properties"]["schemaversion"]["const"] == model.schema_version
        foreign = next(m for m in registry.models() if TOPICS[m.topic].owner != service)
        assert (await client.get(foreign.data_schema_path())).status_code == 404
        for path in ("/schemas/siaga.nothing/v1", f"/schemas/{foreign.event_type}/1", "/schemas/x/v0"):
            assert (await client.get(path)).status_code == 404, path


def test_the_runtime_stamps_the_public_url_on_what_it_publishes() -> None:
    from siaga_logistics.app import build_app
    from siaga_logistics.settings import LogisticsSettings

    app = build_app(LogisticsSettings(public_url="https://siaga.example.go.id/logistics/"))
    store = app.state.stores.shipments
    assert store.schema_base == "https://siaga.example.go.id/logistics"
    default = build_app().state.runtime.settings
    assert default.schema_base_url() == f"http://localhost:{default.http_port}"


def test_consumers_accept_both_the_url_and_the_older_urn() -> None:
    payload = example_of(ShipmentStatusReported)
    new = Envelope.wrap(payload, source="/agency/silog", schema_base="https://siaga.example.go.id/logistics")
    old = Envelope.wrap(payload, source="/agency/silog")
    assert old.dataschema == "urn:siaga:jsonschema:siaga.logistics.shipment-status-reported:v1"
    expected = (ShipmentStatusReported.event_type, 1)
    for env in (new, old):
        decoded = decode_event(env.to_bytes(), CT)
        assert decoded.data == payload
        assert data_schema_ref(decoded.dataschema) == expected
    assert data_schema_ref("/schemas/siaga.logistics.shipment-status-reported/v1") == expected
    assert data_schema_ref("https://h/schemas/siaga.logistics.shipment-status-reported/v1?x=1") == expected
    assert data_schema_ref("https://example.com/other.json") is None
    assert data_schema_ref(None) is None
    # an unknown or odd dataschema is informative only: the event is still accepted
    odd = json.loads(new.to_bytes())
    odd["dataschema"] = "https://example.com/other.json"
    assert decode_event(json.dumps(odd).encode(), CT).data == payload
