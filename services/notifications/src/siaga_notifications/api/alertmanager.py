"""Prometheus Alertmanager webhook receiver (payload version 4): operations alerts get acknowledgement,
escalation, durable state and the audit log too."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from siaga_runtime import Clock, Writer, omit_problems
from siaga_schemas import region_info
from siaga_schemas.common import Institution, Severity, Timestamp

from ..domain.labels import check_labels, fingerprint, region_labels
from ..domain.routing import RoutingConfig
from ..domain.sources import AlertSignal
from ..handlers import commands
from ..repository import Stores
from ..workers import Engine
from .common import require_write_scope

__all__ = ["AlertmanagerPayload", "make_alertmanager_router"]

EVENT_TYPE = "prometheus.alertmanager"


class AmAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(description="Alert labels (names are identifiers).")
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: Timestamp
    endsAt: Timestamp | None = None
    generatorURL: str | None = None
    fingerprint: str | None = Field(None, max_length=64)


class AlertmanagerPayload(BaseModel):
    """Alertmanager's webhook body, version 4."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str | None = None
    status: Literal["firing", "resolved"]
    receiver: str | None = None
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    alerts: list[AmAlert] = Field(max_length=1000)


def _severity(value: str | None) -> Severity:
    v = (value or "").lower()
    if v in ("critical", "page", "error", "high"):
        return Severity.CRITICAL
    if v in ("info", "none", "low"):
        return Severity.INFO
    return Severity.WARNING


def signal_of(alert: AmAlert, index: int = 0) -> AlertSignal:
    try:
        raw = check_labels(alert.labels)
    except ValueError as exc:
        raise HTTPException(422, f"body.alerts.{index}.labels: {exc}") from None
    region = raw.get("region") if raw.get("region") and region_info(raw["region"]) else None
    inst = raw.get("institution") if raw.get("institution") in {i.value for i in Institution} else None
    severity = _severity(raw.get("severity"))
    name = raw.get("alertname", "alertmanager")
    identity = {f"am_{k}": v for k, v in raw.items()}
    fp = fingerprint({"alertname": "alertmanager", **identity})
    labels = {
        **{k: v for k, v in raw.items() if k not in ("region", "province", "kab_kota")},
        **region_labels(region),
        "alertname": name,
        "event_type": EVENT_TYPE,
        "severity": severity.value,
    }
    if inst:
        labels["institution"] = inst
    text = alert.annotations.get("summary") or alert.annotations.get("description") or name
    when = alert.endsAt if alert.status == "resolved" and alert.endsAt else alert.startsAt
    return AlertSignal(
        kind="raise" if alert.status == "firing" else "resolve",
        fingerprint=fp,
        alertname=name,
        at=when,
        severity=severity,
        region=region,
        institution=inst,
        labels=labels,
        summary={"id": text[:500], "en": text[:500]},
        reason="cause cleared: Alertmanager resolved",
    )


class ReceivedAlert(BaseModel):
    fingerprint: str = Field(description="Siaga's key of the alert (hex).")
    status: str = Field(description="Its state now: firing, acknowledged, resolved (unknown: not kept).")


class WebhookReceived(BaseModel):
    received: int = Field(description="Alerts in the payload.")
    alerts: list[ReceivedAlert]


def make_alertmanager_router(
    stores: Stores, engine: Engine, config: RoutingConfig, clock: Clock
) -> APIRouter:
    router = APIRouter(tags=["alertmanager"])

    @router.post(
        "/alertmanager/webhook",
        response_model=WebhookReceived,
        summary="Receive an Alertmanager webhook (version 4)",
        openapi_extra=omit_problems(404, 409),
    )
    async def receive(principal: Writer, body: AlertmanagerPayload) -> dict[str, Any]:
        signals = [signal_of(a, i) for i, a in enumerate(body.alerts)]
        for sig in signals:
            require_write_scope(principal, sig.region)
        out = []
        for sig, alert in zip(signals, body.alerts, strict=True):
            now = clock.now()
            key = f"am:{sig.kind}:{alert.startsAt.isoformat()}:{alert.endsAt.isoformat() if alert.endsAt else ''}"
            doc = await commands.receive_alert(stores, sig, config, now, key)
            if doc is not None and doc.get("pending_joins"):
                await engine.join_pending(sig.fingerprint)
            out.append({"fingerprint": sig.fingerprint, "status": doc["status"] if doc else "unknown"})
        return {"received": len(out), "alerts": out}

    return router
