"""A Python client generated from each service's published OpenAPI document, as an agency would make it
(``openapi-python-client``, see docs/integration.md), built into a temporary directory, imported, and used
for real authenticated calls against the running service (HTTP on loopback, the devstack's Kafka and
FerretDB). The calls return the generated classes: typed data, and typed problems for errors.

Generation needs no network: the generator is a dev dependency, the document comes from the service."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from ..served import build_service, served

pytestmark = pytest.mark.integration

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


def generate(service: str, base_url: str, where: Path) -> str:
    """Generate the client of the service's /openapi.json under ``where``; returns its package name."""
    package = f"siaga_{service}_client"
    document = where / f"{service}-openapi.json"
    document.write_bytes(httpx.get(f"{base_url}/openapi.json").raise_for_status().content)
    config = where / "config.yaml"
    config.write_text(f"package_name_override: {package}\npost_hooks: []\n")
    done = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(where / package),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return package


@pytest.fixture
def client_of(tmp_path: Path) -> Iterator[Any]:
    """``client_of(service)``: the running service's base URL and its generated client package."""
    contexts: list[Any] = []
    packages: list[str] = []
    sys.path.insert(0, str(tmp_path))

    def make(service: str) -> tuple[str, ModuleType]:
        context = served(build_service(service))
        base_url = context.__enter__()
        contexts.append(context)
        package = generate(service, base_url, tmp_path)
        packages.append(package)
        return base_url, importlib.import_module(package)

    try:
        yield make
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] in packages]:
            del sys.modules[name]
        for context in reversed(contexts):
            context.__exit__(None, None, None)


def _module(package: ModuleType, path: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{path}")


def test_meetings_client_lists_the_report_templates(client_of: Any) -> None:
    base_url, package = client_of("meetings")
    client = package.AuthenticatedClient(base_url=base_url, token="dev:bawaslu:35:reader")
    templates = _module(package, "api.reports.templates_templates_get").sync(client=client)
    report_template = _module(package, "models").ReportTemplate
    assert templates and all(isinstance(t, report_template) for t in templates)
    covid = next(t for t in templates if t.template_id == "tpl-kpu-covid-2020")
    assert covid.institution.value == "kpu" and covid.items and covid.items[0].key
    unauthenticated = package.Client(base_url=base_url)
    problem = _module(package, "api.reports.templates_templates_get").sync(client=unauthenticated)
    assert isinstance(problem, _module(package, "models").Problem) and problem.status == 401


def test_logistics_client_creates_a_plan_from_the_documented_example(client_of: Any) -> None:
    base_url, package = client_of("logistics")
    models = _module(package, "models")
    document = httpx.get(f"{base_url}/openapi.json").json()
    example = document["paths"]["/plans"]["post"]["requestBody"]["content"]["application/json"]["example"]
    body = models.PlanSpec.from_dict(example)
    operator = package.AuthenticatedClient(base_url=base_url, token=f"dev:kpu:{body.region}:operator")
    create = _module(package, "api.plans.create_plan_plans_post")
    created = create.sync_detailed(client=operator, body=body)
    assert created.status_code == 201, created.content
    created_plan = created.parsed  # a typed PlanView, not a bag of properties
    assert isinstance(created_plan, models.PlanView) and created_plan.plan_id == body.plan_id
    assert created_plan.region == body.region and created_plan.legs_total == len(created_plan.legs) > 0
    assert {leg.mode.value for leg in created_plan.legs} <= {"land", "river", "sea", "air", "on_foot"}
    reader = package.AuthenticatedClient(base_url=base_url, token=f"dev:bawaslu:{body.region}:reader")
    refused = create.sync(client=reader, body=body)  # a reader may not plan: a typed problem
    assert isinstance(refused, models.Problem) and refused.status == 403
    assert refused.type_ == "/problems/forbidden" and refused.title == "Akses ditolak"
    plan = _module(package, "api.plans.get_plan_plans_plan_id_get").sync(
        plan_id=body.plan_id, client=operator
    )
    assert isinstance(plan, models.PlanView) and plan.plan_id == body.plan_id
    assert plan.legs_total == created_plan.legs_total and plan.legs_listed == "all"
    assert sum(k.tps_total for k in plan.kecamatan) == plan.tps_total == created_plan.tps_total


def test_notifications_client_puts_and_lists_a_contact(client_of: Any) -> None:
    base_url, package = client_of("notifications")
    models = _module(package, "models")
    document = httpx.get(f"{base_url}/openapi.json").json()
    put = document["paths"]["/contacts/{contact_id}"]["put"]
    contact = models.Contact.from_dict(put["requestBody"]["content"]["application/json"]["example"])
    organiser = package.AuthenticatedClient(base_url=base_url, token="dev:kpu:national:organiser")
    stored = _module(package, "api.contacts.put_contact_contacts_contact_id_put").sync(
        contact_id=contact.contact_id, client=organiser, body=contact
    )
    assert isinstance(stored, models.Contact), stored
    listed = _module(package, "api.contacts.list_contacts_contacts_get").sync(client=organiser)
    assert [c.contact_id for c in listed if isinstance(c, models.Contact)] == [stored.contact_id]
