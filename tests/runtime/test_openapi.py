"""Every service's OpenAPI document says what its operations really return (problem details, roles, examples),
and the calls that need no database answer with problem details as documented.

The apps are built without running their lifespan: nothing here connects to Kafka or MongoDB."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field
from siaga_logistics.app import build_app as build_logistics
from siaga_logistics.settings import LogisticsSettings
from siaga_meetings.app import build_app as build_meetings
from siaga_meetings.settings import MeetingsSettings
from siaga_notifications.app import build_app as build_notifications
from siaga_notifications.settings import NotificationsSettings
from siaga_runtime.examples import example_json

PROBLEM = "application/problem+json"
WRITES = {"post", "put", "patch", "delete"}
CREATE_OR_REPLACE = {("put", "/contacts/{contact_id}")}  # neither 404 nor 409 can happen
NO_CONFLICT = {  # writes on a stored thing that cannot conflict with its state
    ("post", "/alerts/{fingerprint}/resolve"),
    ("post", "/silences/{silence_id}/expire"),
    ("delete", "/contacts/{contact_id}"),
}

BUILDERS: dict[str, Callable[[], FastAPI]] = {
    "meetings": lambda: build_meetings(MeetingsSettings(service_name="meetings", auth_dev_tokens=True)),
    "logistics": lambda: build_logistics(LogisticsSettings(service_name="logistics", auth_dev_tokens=True)),
    "notifications": lambda: build_notifications(
        NotificationsSettings(service_name="notifications", auth_dev_tokens=True)
    ),
}


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    return {name: build() for name, build in BUILDERS.items()}


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _problem_documented(operation: dict[str, Any], status: int) -> bool:
    response = operation["responses"].get(str(status), {})
    schema = response.get("content", {}).get(PROBLEM, {}).get("schema", {})
    return schema.get("$ref") == "#/components/schemas/Problem" and set(response["content"]) == {PROBLEM}


@pytest.mark.parametrize("service", list(BUILDERS))
def test_no_operation_references_fastapis_validation_error(apps: dict[str, FastAPI], service: str) -> None:
    text = json.dumps(apps[service].openapi())
    assert "HTTPValidationError" not in text
    assert '"#/components/schemas/ValidationError"' not in text


@pytest.mark.parametrize("service", list(BUILDERS))
def test_every_error_status_is_a_documented_problem(apps: dict[str, FastAPI], service: str) -> None:
    doc = apps[service].openapi()
    secured = 0
    for path, method, operation in _operations(doc):
        where = f"{method.upper()} {path}"
        if operation.get("security"):
            secured += 1
            for status in (401, 403):
                assert _problem_documented(operation, status), f"{where}: {status} not documented"
            if method in WRITES and "{" in path and (method, path) not in CREATE_OR_REPLACE:
                for status in (404,) if (method, path) in NO_CONFLICT else (404, 409):
                    assert _problem_documented(operation, status), f"{where}: {status} not documented"
        if operation.get("parameters") or operation.get("requestBody"):
            assert _problem_documented(operation, 422), f"{where}: 422 not documented as a problem"
        if (
            any(p["in"] == "path" for p in operation.get("parameters", ()))
            and (method, path) not in CREATE_OR_REPLACE
        ):
            assert _problem_documented(operation, 404), f"{where}: 404 not documented"
        for status in operation["responses"]:
            if int(status) >= 400 and (path, status) != ("/health/ready", "503"):
                assert _problem_documented(operation, int(status)), f"{where}: {status} is not a problem"
    assert secured >= 5
    schemas = doc["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["required"])
    assert {"instance", "errors"} <= set(schemas["Problem"]["properties"])
    assert {"field", "loc", "message", "type"} <= set(schemas["FieldError"]["required"])


@pytest.mark.parametrize("service", list(BUILDERS))
def test_bearer_scheme_and_the_roles_of_each_operation(apps: dict[str, FastAPI], service: str) -> None:
    doc = apps[service].openapi()
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert set(doc["components"]["securitySchemes"]) == {"bearer"}
    roles = {"admin", "operator", "organiser", "reader"}
    for path, method, operation in _operations(doc):
        if path.startswith(("/health", "/metrics", "/asyncapi", "/problems", "/schemas")):  # public contracts
            assert not operation.get("security"), path
            continue
        assert operation.get("security"), f"{method} {path} is not secured"
        [requirement] = operation["security"]
        assert set(requirement) == {"bearer"}
        assert requirement["bearer"] and set(requirement["bearer"]) <= roles
        if method in WRITES:
            assert "reader" not in requirement["bearer"], f"{method} {path} admits readers"


def test_roles_are_narrowed_by_the_routes_dependencies(apps: dict[str, FastAPI]) -> None:
    meetings = apps["meetings"].openapi()["paths"]
    assert meetings["/operations/sweep"]["post"]["security"] == [{"bearer": ["admin"]}]
    assert meetings["/meetings"]["post"]["security"] == [{"bearer": ["admin", "organiser"]}]
    assert meetings["/templates"]["get"]["security"] == [
        {"bearer": ["admin", "operator", "organiser", "reader"]}
    ]
    logistics = apps["logistics"].openapi()["paths"]
    assert logistics["/plans"]["post"]["security"] == [{"bearer": ["admin", "operator", "organiser"]}]
    assert logistics["/plans/import"]["post"]["security"] == [{"bearer": ["admin", "operator", "organiser"]}]
    contacts = apps["notifications"].openapi()["paths"]["/contacts/{contact_id}"]
    assert contacts["put"]["security"] == [{"bearer": ["admin", "organiser"]}]


@pytest.mark.parametrize("service", list(BUILDERS))
def test_every_json_request_body_has_an_example_valid_against_its_schema(
    apps: dict[str, FastAPI], service: str
) -> None:
    doc = apps[service].openapi()
    bodies = 0
    for path, method, operation in _operations(doc):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        bodies += 1
        media = content["application/json"]
        assert "example" in media, f"{method.upper()} {path} has no example"
        schema = {**media["schema"], "components": doc["components"]}
        errors = list(Draft202012Validator(schema).iter_errors(media["example"]))
        assert not errors, f"{method.upper()} {path}: {errors[0].message}"
    assert bodies >= 3


def test_readiness_documents_503_as_json(apps: dict[str, FastAPI]) -> None:
    for app in apps.values():
        ready = app.openapi()["paths"]["/health/ready"]["get"]["responses"]
        assert (
            ready["503"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Readiness"
        )
        assert set(app.openapi()["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}


@pytest.fixture
async def client(apps: dict[str, FastAPI]) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(service: str) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[service]), base_url="http://test")
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _is_problem(r: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["type"] == f"/problems/{kind}" and body["status"] == status and body["title"]
    return body


async def test_401_without_a_token_is_a_problem(client: Callable[[str], httpx.AsyncClient]) -> None:
    r = await client("logistics").post("/plans", json={"region": "65.01"})
    body = _is_problem(r, 401, "unauthenticated")
    assert body["detail"] == "missing bearer token" and body["instance"] == "/plans"
    assert r.headers["www-authenticate"] == "Bearer"
    r = await client("meetings").get("/templates", headers=_auth("not-a-token"))
    assert _is_problem(r, 401, "unauthenticated")["detail"] == "invalid token"


async def test_422_names_every_failing_field(client: Callable[[str], httpx.AsyncClient]) -> None:
    r = await client("logistics").post(
        "/plans", json={"region": "65.01", "tps": [{"dpt": "many"}]}, headers=_auth("dev:kpu:65.01:operator")
    )
    body = _is_problem(r, 422, "validation")
    fields = {e["field"] for e in body["errors"]}
    assert "body.tps.0.dpt" in fields and "body.plan_id" in fields
    assert body["detail"].startswith("invalid request: ") and "body.tps.0.dpt" in body["detail"]
    [dpt] = [e for e in body["errors"] if e["field"] == "body.tps.0.dpt"]
    assert dpt["loc"] == ["body", "tps", 0, "dpt"] and dpt["message"] and dpt["type"]


async def test_403_before_validation_learns_nothing_about_the_body(
    client: Callable[[str], httpx.AsyncClient],
) -> None:
    other_region = _auth("dev:kpu:35.26:operator")
    r = await client("logistics").post("/plans", json={"region": "65.01", "tps": "?"}, headers=other_region)
    body = _is_problem(r, 403, "forbidden")
    assert "errors" not in body and "tps" not in r.text
    reader = _auth("dev:bawaslu:65.01:reader")
    r = await client("logistics").post("/plans", json={"region": "65.01"}, headers=reader)
    _is_problem(r, 403, "forbidden")
    r = await client("meetings").post("/meetings", json={"organiser": {"region": "35"}}, headers=other_region)
    _is_problem(r, 403, "forbidden")  # an operator does not organise
    r = await client("meetings").post("/operations/sweep", headers=other_region)
    assert _is_problem(r, 403, "forbidden")["detail"].endswith("is not an admin")
    r = await client("notifications").post("/silences", json={"comment": 5}, headers=other_region)
    _is_problem(r, 403, "forbidden")  # no region_prefix: a national silence


async def test_malformed_json_is_refused_after_authorization(
    client: Callable[[str], httpx.AsyncClient],
) -> None:
    logistics = client("logistics")
    json_type = {"Content-Type": "application/json"}
    r = await logistics.post("/plans", content=b'{"region": ', headers=json_type)
    _is_problem(r, 401, "unauthenticated")
    r = await logistics.post(
        "/plans", content=b'{"region": ', headers={**json_type, **_auth("dev:bawaslu:65:reader")}
    )
    _is_problem(r, 403, "forbidden")
    r = await logistics.post(
        "/plans", content=b'{"region": ', headers={**json_type, **_auth("dev:kpu:65.01:operator")}
    )
    body = _is_problem(r, 422, "validation")
    assert body["errors"][0]["type"] == "json_invalid" and body["errors"][0]["field"].startswith("body")


async def test_routing_errors_and_problem_descriptions(client: Callable[[str], httpx.AsyncClient]) -> None:
    meetings = client("meetings")
    _is_problem(await meetings.get("/no/such/path"), 404, "not-found")
    _is_problem(await meetings.delete("/templates"), 405, "method-not-allowed")
    r = await meetings.get("/problems/forbidden")
    assert r.status_code == 200
    described = r.json()
    assert (
        described["type"] == "/problems/forbidden"
        and described["status"] == 403
        and described["lang"] == "id"
    )
    assert described["title"] == "Akses ditolak" and described["description"]
    english = (await meetings.get("/problems/forbidden", params={"lang": "en"})).json()
    assert english["title"] == "Forbidden"
    _is_problem(await meetings.get("/problems/no-such-kind"), 404, "not-found")
    every = (await meetings.get("/problems")).json()
    assert {p["type"] for p in every} >= {
        f"/problems/{k}" for k in ("validation", "unauthenticated", "forbidden", "not-found", "conflict")
    }
    for p in every:
        assert len(p["title"]) <= 40


class _Body(BaseModel):
    version: Literal["4", "5"]
    name: str
    note: str | None = None
    count: int = Field(3, examples=[7])
    region: str | None = Field(None, examples=["65.01"])


def test_example_of_skips_optional_fields_without_examples_and_takes_literals() -> None:
    assert example_json(_Body) == {"version": "4", "name": "contoh", "count": 7, "region": "65.01"}


def _free_form(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """A schema that says nothing of its fields: empty, or an object (or a list of them) with none named."""
    if "$ref" in schema:
        return _free_form(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if schema.get("type") == "array":
        return _free_form(schema.get("items", {}), components)
    if "anyOf" in schema:
        return any(_free_form(s, components) for s in schema["anyOf"] if s.get("type") != "null")
    if schema.get("type") in {"string", "integer", "number", "boolean"}:
        return False
    if isinstance(schema.get("additionalProperties"), dict):  # a map whose values are typed
        return _free_form(schema["additionalProperties"], components)
    return not schema.get("properties")


# Bodies that are free-form by nature, each for a reason of its own.
FREE_FORM_BODIES = {
    ("get", "/asyncapi.json"),  # the AsyncAPI document itself
    ("get", "/schemas/{event_type}/{version}"),  # a JSON Schema document
}


@pytest.mark.parametrize("service", list(BUILDERS))
def test_every_successful_json_answer_has_a_schema_that_names_its_fields(
    apps: dict[str, FastAPI], service: str
) -> None:
    doc = apps[service].openapi()
    components = doc["components"]["schemas"]
    answers = 0
    vague = []
    for path, method, operation in _operations(doc):
        for status_code, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if not status_code.startswith("2") or schema is None or (method, path) in FREE_FORM_BODIES:
                continue
            answers += 1
            if _free_form(schema, components):
                vague.append(f"{method} {path} {status_code}")
    assert answers >= 8
    assert vague == []
