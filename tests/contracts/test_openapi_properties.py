"""Property-based tests from each service's published OpenAPI document (schemathesis), on the real servers.

Every operation of meetings, logistics and notifications gets requests generated from its document alone,
valid ones and invalid ones, sent over HTTP by callers of every kind (national admin, a kab/kota operator
and organiser, a reader, an unknown token, no token) to the service running with its lifespan against the
shared devstack's Kafka and FerretDB. Each response must:

- never be a 5xx;
- have a status, content type, headers and body that the document declares for the operation;
- reject invalid input with a 4xx;
- for every 4xx, be an RFC 9457 problem (``application/problem+json``) whose ``status`` is the response's,
  and for a 422 list the failing fields in ``errors`` and name each of them in ``detail``.

The number of examples per operation is bounded (``EXAMPLES``), and generation is derandomized, so a run is
repeatable and each service's operations take well under a minute together."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.generation import GenerationMode

from ..served import SERVICES, build_service, served

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES = 12  # per operation, generation mode and run: bounded, so each service runs well under a minute
PROBLEM = "application/problem+json"
# None: the Authorization header as schemathesis generates it from the bearer scheme (unknown tokens).
TOKENS = ["dev:kpu:national:admin", "dev:kpu:65.01:operator", "dev:kpu:35:organiser", "dev:bawaslu:65:reader"]
# Operations that are not JSON APIs for a fuzzer: the Prometheus text, and an upload of whole plan files
# (tested with real CSV and XLSX files in tests/logistics/test_import_files.py).
SKIPPED = {("GET", "/metrics"), ("POST", "/plans/import")}


def _operations(service: str) -> list[tuple[str, str, dict[str, Any]]]:
    doc = build_service(service).openapi()
    return sorted(
        (
            (method.upper(), path, operation)
            for path, item in doc["paths"].items()
            for method, operation in item.items()
            if (method.upper(), path) not in SKIPPED
        ),
        key=lambda t: t[:2],
    )


def _modes(operation: dict[str, Any]) -> list[GenerationMode]:
    """Invalid requests only where there is something to make invalid: a body or a query parameter."""
    negatable = operation.get("requestBody") or any(
        p["in"] == "query" for p in operation.get("parameters", ())
    )
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if negatable else [GenerationMode.POSITIVE]


CASES = [
    (service, method, path, mode)
    for service in SERVICES
    for method, path, operation in _operations(service)
    for mode in _modes(operation)
]


@schemathesis.check
def problem_details(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx is a problem naming what failed; a 422 lists every failing field and names them in detail."""
    if not 400 <= response.status_code < 500:
        return None
    media = response.headers.get("content-type", [""])[0]
    if not media.startswith(PROBLEM):
        raise AssertionError(f"{response.status_code} is {media!r}, not {PROBLEM}")
    body = json.loads(response.content)
    for key in ("type", "title", "status", "detail"):
        if not body.get(key):
            raise AssertionError(f"the problem has no {key}: {body}")
    if body["status"] != response.status_code:
        raise AssertionError(f"the problem says {body['status']}, the response {response.status_code}")
    if response.status_code == 422:
        errors = body.get("errors") or []
        if not errors:
            raise AssertionError(f"a 422 without the failing fields: {body}")
        for error in errors:
            field = error.get("field", "")
            if not field or field not in body["detail"]:
                raise AssertionError(f"detail {body['detail']!r} does not name the failing field {field!r}")
            if (
                error.get("loc", [None])[0] not in ("body", "query", "path", "header", "cookie")
                and "." in field
            ):
                raise AssertionError(f"{field!r} does not say where the field is")
    return True


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    problem_details,
]


@pytest.fixture(scope="module")
def running() -> Iterator[Callable[[str], tuple[str, Any]]]:
    """Each service, started once for all its operations: its base URL and its schema as schemathesis has
    it (loaded from the running service's /openapi.json)."""
    stack: dict[str, tuple[str, Any]] = {}
    exits: list[Any] = []

    def get(service: str) -> tuple[str, Any]:
        if service not in stack:
            context = served(build_service(service))
            base_url = context.__enter__()
            exits.append(context)
            stack[service] = (base_url, schemathesis.openapi.from_url(f"{base_url}/openapi.json"))
        return stack[service]

    try:
        yield get
    finally:
        for context in reversed(exits):
            context.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("service", "method", "path", "mode"), CASES, ids=[f"{s}:{m} {p}:{g}" for s, m, p, g in CASES]
)
def test_every_response_is_what_the_document_says(
    running: Callable[[str], tuple[str, Any]], service: str, method: str, path: str, mode: GenerationMode
) -> None:
    base_url, schema = running(service)
    operation = schema[path][method]

    def cases(token: str | None) -> Any:
        fixed = {"Authorization": f"Bearer {token}"} if token else None
        return operation.as_strategy(generation_mode=mode, headers=fixed)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.sampled_from([*TOKENS, None]).flatmap(cases))
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base_url, checks=CHECKS)

    check()
