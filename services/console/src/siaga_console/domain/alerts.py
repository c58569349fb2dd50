"""The Peringatan page: open alerts grouped as the notifications service routed them, with their escalation
step, history and deliveries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from siaga_schemas import region_info

from .i18n import translator
from .places import local_time, region_name
from .viewer import Viewer

__all__ = ["AlertCard", "AlertGroup", "HistoryRow", "group_alerts", "readable"]

_SEVERITY = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class HistoryRow:
    at: str
    action: str
    by: str | None
    note: str | None


@dataclass(frozen=True)
class DeliveryRow:
    at: str
    channel: str
    receiver: str
    step: int
    state: str


@dataclass
class AlertCard:
    fingerprint: str
    group: str
    alertname: str
    summary: str
    severity: str
    status: str
    region: str | None
    region_label: str
    since: str
    step: int
    steps: int
    next_due: str | None
    acknowledged_by: str | None
    history: list[HistoryRow]
    deliveries: list[DeliveryRow]
    may_respond: bool


@dataclass
class AlertGroup:
    receiver: str
    labels: str
    alerts: list[AlertCard] = field(default_factory=list)


def _history(alert: dict[str, Any]) -> list[HistoryRow]:
    region = alert.get("region")
    rows = []
    for h in alert.get("history", []):
        note = h.get("comment") or h.get("reason")
        if h.get("step") is not None and not note:
            note = f"#{int(h['step']) + 1}"
        rows.append(HistoryRow(local_time(h.get("at"), region), str(h.get("action")), h.get("by"), note))
    return rows


def _deliveries(alert: dict[str, Any], deliveries: list[dict[str, Any]]) -> list[DeliveryRow]:
    mine = [d for d in deliveries if alert["fingerprint"] in d.get("fingerprints", [])] or [
        d for d in deliveries if alert.get("alert_id") in d.get("alert_ids", [])
    ]
    return [
        DeliveryRow(
            local_time(d.get("delivered_at") or d.get("created_at"), alert.get("region")),
            str(d.get("channel")),
            str(d.get("receiver")),
            int(d.get("step", 0)),
            str(d.get("state")),
        )
        for d in sorted(mine, key=lambda d: str(d.get("created_at")))
    ]


def _card(
    alert: dict[str, Any], deliveries: list[dict[str, Any]], viewer: Viewer, lang: str, titles: dict[str, str]
) -> AlertCard:
    esc = alert.get("esc") or {}
    route = alert.get("primary_route") or {}
    keys = [k for k in route.get("group_by", []) if k not in ("...", "alertname")]
    labels = alert.get("labels", {})
    region = alert.get("region")
    summary = alert.get("summary") or {}
    return AlertCard(
        fingerprint=alert["fingerprint"],
        group=", ".join(_label(k, str(labels[k]), lang, titles) for k in keys if labels.get(k)),
        alertname=alert["alertname"],
        summary=readable(summary.get(lang) or summary.get("id") or alert["alertname"], titles),
        severity=str(alert.get("severity")),
        status=str(alert.get("status")),
        region=region,
        region_label=region_name(region, lang),
        since=local_time(alert.get("raised_at") or alert.get("starts_at"), region),
        step=int(esc.get("step", 0)) + 1,
        steps=len((esc.get("policy") or {}).get("steps", [])) or 1,
        next_due=local_time(esc["next_due_at"], region) if esc.get("next_due_at") else None,
        acknowledged_by=alert.get("acknowledged_by"),
        history=_history(alert),
        deliveries=_deliveries(alert, deliveries),
        may_respond=viewer.may_respond(region) and alert.get("status") != "resolved",
    )


def _label(key: str, value: str, lang: str, titles: dict[str, str]) -> str:
    """A group-by label as people read it: a region's name, a meeting's title; other values as they are."""
    if key == "alertname":
        return translator(lang)(f"an.{value}")
    if region_info(value) is not None:
        return region_name(value, lang)
    return titles.get(value, value)


_SHIPMENT = re.compile(r"\bplan-[A-Za-z0-9_.-]+?:(warehouse|ppk|pps|tps)-([0-9.]+[0-9])(?:-(\d+))?\b")
_ID = re.compile(r"\b(?:sch|mtg|tpl)-[A-Za-z0-9_.-]*[A-Za-z0-9]")


def readable(text: str, titles: dict[str, str]) -> str:
    """Internal ids in a message replaced by what people know: shipments by their destination, schedules
    and meetings by their titles (``titles``)."""

    def shipment(m: re.Match[str]) -> str:
        kind, region, number = m.group(1), m.group(2), m.group(3)
        return " ".join(p for p in (kind.upper(), number, region_name(region)) if p)

    text = _SHIPMENT.sub(shipment, text)
    return _ID.sub(lambda m: f"«{titles[m.group(0)]}»" if m.group(0) in titles else m.group(0), text)


def group_alerts(
    alerts: list[dict[str, Any]],
    deliveries: list[dict[str, Any]],
    viewer: Viewer,
    lang: str = "id",
    titles: dict[str, str] | None = None,
) -> list[AlertGroup]:
    """Alerts by the receiver they were routed to and their kind (each card names its routed group), the
    most severe and oldest first."""
    groups: dict[tuple[str, str], AlertGroup] = {}
    for a in alerts:
        route = a.get("primary_route") or {}
        receiver = str(route.get("receiver") or a.get("alertname"))
        kind = translator(lang)(f"an.{a.get('alertname')}")
        group = groups.setdefault((receiver, kind), AlertGroup(receiver, kind))
        group.alerts.append(_card(a, deliveries, viewer, lang, titles or {}))
    for g in groups.values():
        g.alerts.sort(key=lambda c: (_SEVERITY.get(c.severity, 3), c.status != "firing", c.since))
    return sorted(
        groups.values(),
        key=lambda g: (min(_SEVERITY.get(c.severity, 3) for c in g.alerts), g.receiver, g.labels),
    )
