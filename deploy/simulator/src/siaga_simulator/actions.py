"""What each kind of step does, through the services' HTTP APIs only (never their databases)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from siaga_schemas.regions import children, region_info

from .scenario import Acknowledge, Contacts, Deliver, ForEach, HttpCall, Logistics, Step

__all__ = ["DEFAULT_URLS", "Driver", "StepFailed", "regions_for"]

DEFAULT_URLS = {
    "meetings": "http://127.0.0.1:8101",
    "logistics": "http://127.0.0.1:8102",
    "notifications": "http://127.0.0.1:8103",
}


class StepFailed(RuntimeError):
    """A call answered with a status the step did not expect."""


def regions_for(each: ForEach) -> list[str]:
    """The regions at ``each.level`` within ``each.within``, sorted, sliced by the shares [start, stop)."""
    level = len(each.within.split("."))
    frontier = [each.within]
    while level < each.level:
        frontier = [c for code in frontier for c in children(code)]
        level += 1
    regions = sorted(frontier)
    n = len(regions)
    return regions[round(each.start * n) : round(each.stop * n)]


def _fill(value: Any, values: dict[str, str]) -> Any:
    """Replace ``{region}`` and ``{region_name}`` in every string of a request."""
    if isinstance(value, str):
        for key, text in values.items():
            value = value.replace("{" + key + "}", text)
        return value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Driver:
    """Runs steps against the services; ``say`` receives one line per thing done."""

    urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))
    say: Callable[[str], None] = print
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30.0))
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    # per service, e.g. in-process ASGI clients (tests); otherwise ``client`` with ``urls``
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(
        self, service: str, method: str, path: str, token: str, body: Any = None
    ) -> httpx.Response:
        client = self.clients.get(service)
        url = path if client is not None else self.urls[service] + path
        return await (client or self.client).request(
            method, url, headers=_auth(token), json=body if body is not None else None
        )

    async def run(self, step: Step) -> str:
        action = getattr(self, f"_{step.kind}")
        summary: str = await action(getattr(step, step.kind))
        return summary

    def _check(self, r: httpx.Response, expect: list[int], what: str) -> None:
        if r.status_code not in expect:
            raise StepFailed(f"{what}: HTTP {r.status_code}: {r.text[:300]}")

    async def _http(self, call: HttpCall) -> str:
        targets = regions_for(call.for_each) if call.for_each else [None]
        codes: dict[int, int] = {}
        for region in targets:
            values = {"region": region, "region_name": _name(region)} if region else {}
            path, body, token = _fill(call.path, values), _fill(call.body, values), _fill(call.token, values)
            r = await self.call(call.service, call.method, path, token, body)
            self._check(r, call.expect, f"{call.method} {path}")
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
        done = ", ".join(f"{n}× HTTP {code}" for code, n in sorted(codes.items()))
        return f"{call.method} {call.service}{call.path}: {done}"

    async def _contacts(self, contacts: Contacts) -> str:
        for entry in contacts.entries:
            r = await self.call(
                "notifications", "PUT", f"/contacts/{entry['contact_id']}", contacts.token, entry
            )
            self._check(r, [200, 201], f"contact {entry['contact_id']}")
        return f"{len(contacts.entries)} contacts in the directory"

    async def _logistics(self, step: Logistics) -> str:
        plan_id = step.plan["plan_id"]
        r = await self.call("logistics", "POST", "/plans", step.token, step.plan)
        self._check(r, [201], f"plan {plan_id}")
        plan = r.json()
        self.plans[plan_id] = plan
        for leg in plan["legs"]:  # every leg of the plan is a shipment already, named by the plan
            body = {"dispatched_at": step.dispatch_at}
            eta = step.eta_overrides.get(leg["leg_id"], step.eta)
            if eta is not None:
                body["eta"] = eta
            r = await self.call(
                "logistics", "POST", f"/shipments/{leg['shipment_id']}/dispatch", step.token, body
            )
            self._check(r, [200], f"dispatch {leg['leg_id']}")
        return f"plan {plan_id}: {len(plan['legs'])} legs dispatched ({plan['region']})"

    async def _deliver(self, step: Deliver) -> str:
        plan = self.plans.get(step.plan_id)
        if plan is None:
            r = await self.call("logistics", "GET", f"/plans/{step.plan_id}", step.token)
            self._check(r, [200], f"plan {step.plan_id}")
            plan = self.plans[step.plan_id] = r.json()
        legs = [
            lg for lg in plan["legs"] if (lg["leg_id"] in step.legs if step.legs else _level(lg, step.level))
        ]
        rejected = 0
        for leg in legs:
            lines = _pod(leg["lines"], step.changes.get(leg["leg_id"], {}))
            rejected += sum(ln["rejected"] for ln in lines)
            body = {
                "delivered_at": step.at,
                "lines": lines,
                "handover": {
                    "number": f"BA-{leg['leg_id']}",
                    "handed_over_by": "Petugas pengiriman",
                    "received_by": "Ketua penerima",
                    "at": step.at + _offset_of(plan),
                },
            }
            r = await self.call(
                "logistics", "POST", f"/shipments/{leg['shipment_id']}/deliver", step.token, body
            )
            self._check(r, [200], f"deliver {leg['leg_id']}")
        return f"{len(legs)} shipments of {step.plan_id} delivered, {rejected} items rejected"

    async def _acknowledge(self, step: Acknowledge) -> str:
        r = await self.call(
            "notifications", "GET", f"/alerts?status=firing&alertname={step.alertname}", step.token
        )
        self._check(r, [200], "list alerts")
        alerts = sorted(r.json(), key=lambda a: a["starts_at"])
        if not alerts:
            return f"no open {step.alertname} alert to acknowledge"
        first = alerts[0]
        r = await self.call(
            "notifications",
            "POST",
            f"/alerts/{first['fingerprint']}/acknowledge",
            step.token,
            {"comment": step.comment},
        )
        self._check(r, [200], "acknowledge")
        return f"acknowledged {step.alertname} in {_name(first.get('region'))} at escalation step {first['esc'].get('step')}"


def _name(region: str | None) -> str:
    info = region_info(region) if region else None
    return info.name if info else (region or "Nasional")


def _level(leg: dict[str, Any], level: str) -> bool:
    return level == "any" or str(leg["leg_id"]).startswith(level + "-")


def _offset_of(plan: dict[str, Any]) -> str:
    """The plan's local UTC offset, from its H-1 deadline (e.g. '+08:00')."""
    text = str(plan["legal_deadline_at"])
    return text[-6:] if text[-6] in "+-" else "+00:00"


def _pod(lines: list[dict[str, Any]], changes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for ln in lines:
        pod: dict[str, Any] = {
            "item": ln["item"],
            "variant": ln.get("variant"),
            "shipped": ln["quantity"],
            "accepted": ln["quantity"],
            "rejected": 0,
            "rejection_reasons": {},
        }
        change = changes.get(f"{ln['item']}/{ln.get('variant') or ''}") or changes.get(ln["item"])
        if change:
            pod.update(json.loads(json.dumps(change)))
            if "rejected" in change and "accepted" not in change:  # damage: the rest is accepted
                pod["accepted"] = pod["shipped"] - pod["rejected"]
        out.append(pod)
    return out
