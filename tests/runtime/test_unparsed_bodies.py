"""A body that FastAPI will not parse as JSON (another media type, no media type, bytes that are not UTF-8,
no body where one is required) is a 422 naming ``body`` for any caller who may write, also on the routes
whose scope comes from a stored thing (``/shipments/{id}/…``, ``/meetings/{id}/…``, ``/alerts/{fp}/…``)
and for a writer of another region: no scope is derived from an unparsed body, and validation is not
skipped by a scope check. Callers without a token or a writing role still get 401 and 403.

The apps are built without their lifespan: all of this is decided before anything is read from a store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ..helpers import auth, problem
from .test_openapi import BUILDERS

OTHER_REGION = auth("dev:kpu:35.26:operator")  # may write, but not for Bulungan (65.01)
ORGANISER_ELSEWHERE = auth("dev:kpu:36:organiser")
ITEM_ROUTES = [  # (service, path, caller): each route decides its scope on a stored thing
    ("logistics", "/shipments/plan-pilkada2024-65.01:ppk-65.01.05/deliver", OTHER_REGION),
    ("logistics", "/shipments/plan-pilkada2024-65.01:ppk-65.01.05/dispatch", OTHER_REGION),
    ("meetings", "/meetings/mtg-0192f5c4/held", ORGANISER_ELSEWHERE),
    ("notifications", "/alerts/0123456789abcdef/acknowledge", OTHER_REGION),
]
UNPARSED = {
    "text/plain JSON": ({"Content-Type": "text/plain"}, b'{"region": "65.01"}', "json_type"),
    "no content type": ({}, b'{"region": "65.01"}', "json_type"),
    "not UTF-8": ({"Content-Type": "application/json"}, b'{"place": "\xff\xfe"}', "json_invalid"),
    "malformed JSON": ({"Content-Type": "application/json"}, b'{"place": ', "json_invalid"),
}


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    return {name: build() for name, build in BUILDERS.items()}


@pytest.fixture
async def clients(apps: dict[str, FastAPI]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    made = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        for name, app in apps.items()
    }
    yield made
    for client in made.values():
        await client.aclose()


def _names_the_body(body: dict[str, Any], kind: str) -> None:
    [error] = body["errors"]
    assert error["field"] == "body" and error["loc"] == ["body"] and error["type"] == kind, error
    assert "body" in body["detail"]


@pytest.mark.parametrize(("service", "path", "caller"), ITEM_ROUTES)
@pytest.mark.parametrize("how", list(UNPARSED))
async def test_an_unparsed_body_on_an_item_route_is_a_422_naming_the_body(
    clients: dict[str, httpx.AsyncClient], service: str, path: str, caller: dict[str, str], how: str
) -> None:
    headers, content, kind = UNPARSED[how]
    r = await clients[service].post(path, content=content, headers={**headers, **caller})
    _names_the_body(problem(r, 422), kind)


async def test_no_scope_is_derived_from_a_body_that_is_not_json(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    """The text/plain body names a region the caller may not write for; it is refused as not JSON."""
    r = await clients["logistics"].post(
        "/plans", content=b'{"region": "65.01"}', headers={"Content-Type": "text/plain", **OTHER_REGION}
    )
    _names_the_body(problem(r, 422), "json_type")
    r = await clients["logistics"].post("/plans", json={"region": "65.01"}, headers=OTHER_REGION)
    assert "errors" not in problem(r, 403)  # the same body as JSON: the scope check answers


async def test_a_missing_body_is_a_422_and_callers_who_may_not_write_learn_nothing(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    deliver = "/shipments/plan-pilkada2024-65.01:ppk-65.01.05/deliver"
    _names_the_body(problem(await clients["logistics"].post(deliver, headers=OTHER_REGION), 422), "missing")
    text = {"Content-Type": "text/plain"}
    problem(await clients["logistics"].post(deliver, content=b"x", headers=text), 401)
    reader = auth("dev:bawaslu:65:reader")
    assert "errors" not in problem(
        await clients["logistics"].post(deliver, content=b"x", headers={**text, **reader}), 403
    )
