"""What each consumed event means for alerting: raise an alert (with labels and summaries) or clear one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from siaga_schemas import AnyEnvelope
from siaga_schemas.common import Severity
from siaga_schemas.events import logistics as lg
from siaga_schemas.events import meetings as mt

from .labels import fingerprint, region_labels, region_name
from .vocabulary import word

__all__ = ["RAISING", "RESOLVING", "AlertSignal", "signal_for"]


@dataclass(frozen=True, slots=True)
class AlertSignal:
    """``kind`` is ``raise`` or ``resolve``; ``fingerprint`` names the alert either way."""

    kind: str
    fingerprint: str
    alertname: str
    at: datetime
    severity: Severity = Severity.WARNING
    region: str | None = None
    institution: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def _labels(
    alertname: str,
    event_type: str,
    severity: Severity,
    region: str | None,
    institution: str | None,
    **extra: str,
) -> dict[str, str]:
    out = {
        "alertname": alertname,
        "event_type": event_type,
        "severity": severity.value,
        **region_labels(region),
    }
    if institution:
        out["institution"] = institution
    out.update(extra)
    return out


def _raise(
    alertname: str,
    env: AnyEnvelope,
    identity: dict[str, str],
    severity: Severity,
    region: str | None,
    institution: str | None,
    summary_id: str,
    summary_en: str,
    **extra: str,
) -> AlertSignal:
    return AlertSignal(
        kind="raise",
        fingerprint=fingerprint({"alertname": alertname, **identity}),
        alertname=alertname,
        at=env.time,
        severity=severity,
        region=region,
        institution=institution,
        labels=_labels(alertname, env.type, severity, region, institution, **identity, **extra),
        summary={"id": summary_id, "en": summary_en},
    )


def _resolve(alertname: str, env: AnyEnvelope, identity: dict[str, str], reason: str) -> AlertSignal:
    return AlertSignal(
        kind="resolve",
        fingerprint=fingerprint({"alertname": alertname, **identity}),
        alertname=alertname,
        at=env.time,
        reason=reason,
    )


def _name(code: str | None) -> str:
    return region_name(code, national="nasional")


def signal_for(env: AnyEnvelope) -> AlertSignal | None:  # noqa: C901 - one branch per source event type
    """The alerting meaning of an event, or ``None`` for events that mean nothing here."""
    d = env.data
    if isinstance(d, lg.ShipmentDelayed):
        sev = Severity.WARNING if d.severity == lg.DelaySeverity.WARNING else Severity.CRITICAL
        hours = d.slack_seconds // 3600
        mode = d.transport_mode.value if d.transport_mode else None
        via_id, via_en = (
            (f" lewat {word('id', 'mode', mode)}", f" by {word('en', 'mode', mode)}") if mode else ("", "")
        )
        return _raise(
            "shipment-delayed",
            env,
            {"shipment_id": d.shipment_id},
            sev,
            d.destination_region,
            "kpu",
            f"Pengiriman{via_id} ke {_name(d.destination_region)} terlambat (sisa {hours} jam ke H-1)",
            f"Shipment{via_en} to {_name(d.destination_region)} is late ({hours} h left to H-1)",
            delay_severity=d.severity.value,
        )
    if isinstance(d, lg.ShipmentDelivered):
        if not d.was_delayed:
            return None  # never delayed, so no delay alert to clear: not even a read (the event says so)
        return _resolve(
            "shipment-delayed", env, {"shipment_id": d.shipment_id}, "cause cleared: shipment delivered"
        )
    if isinstance(d, lg.ShipmentDiscrepancyFound):
        sev = (
            Severity.CRITICAL
            if d.category in (lg.DiscrepancyCategory.SHORT, lg.DiscrepancyCategory.WRONG_DESTINATION)
            else Severity.WARNING
        )
        return _raise(
            "shipment-discrepancy",
            env,
            {"shipment_id": d.shipment_id, "category": d.category.value, "item": d.item.value},
            sev,
            d.destination_region,
            "kpu",
            f"Selisih logistik: {d.quantity} {word('id', 'item', d.item.value)} "
            f"{word('id', 'category', d.category.value)} pada pengiriman ke {_name(d.destination_region)}",
            f"Logistics discrepancy: {d.quantity} {word('en', 'item', d.item.value)} "
            f"{word('en', 'category', d.category.value)} on the shipment to {_name(d.destination_region)}",
        )
    if isinstance(d, lg.RegionAtRisk):
        pct, plan = round(d.readiness * 100), round(d.planned * 100)
        return _raise(
            "region-at-risk",
            env,
            {"at_risk_region": d.region},
            Severity.CRITICAL,
            d.region,
            "kpu",
            f"{_name(d.region)} berisiko: {d.tps_ready}/{d.tps_total} TPS siap ({pct}%, rencana {plan}%)",
            f"{_name(d.region)} at risk: {d.tps_ready}/{d.tps_total} TPS ready ({pct}%, planned {plan}%)",
        )
    if isinstance(d, mt.ReportOverdue):
        return _raise(
            "report-overdue",
            env,
            {"obligation_id": d.obligation_id},
            Severity.WARNING,
            d.region,
            None,
            f'Laporan "{d.schedule_title or "berkala"}" periode {d.period_id} dari {_name(d.region)} '
            "belum masuk",
            f'Report "{d.schedule_title or "periodic report"}" for {d.period_id} from {_name(d.region)} '
            "is overdue",
        )
    if isinstance(d, mt.ReportSubmitted):
        if not d.late:
            return None  # on time, so never overdue: nothing to clear, and no read to find that out
        return _resolve(
            "report-overdue", env, {"obligation_id": d.obligation_id}, "cause cleared: report submitted"
        )
    if isinstance(d, mt.ActionItemOverdue):
        who = f"{d.assignee.institution.value.upper()} {_name(d.assignee.region)}"
        return _raise(
            "action-item-overdue",
            env,
            {"action_item_id": d.action_item_id},
            Severity.WARNING,
            d.assignee.region,
            d.assignee.institution.value,
            f"Tindak lanjut {d.recommendation_ref} oleh {who} lewat tenggat: {d.title}",
            f"Action {d.recommendation_ref} by {who} is overdue: {d.title}",
            meeting_id=d.meeting_id,
        )
    if isinstance(d, mt.ActionItemAssigned):
        who = f"{d.assignee.institution.value.upper()} {_name(d.assignee.region)}"
        return _raise(
            "action-item-assigned",
            env,
            {"action_item_id": d.action_item_id},
            Severity.INFO,
            d.assignee.region,
            d.assignee.institution.value,
            f"Tugas baru untuk {who}: {d.title} (tenggat {d.due_at:%d-%m-%Y %H:%M})",
            f"New action for {who}: {d.title} (due {d.due_at:%Y-%m-%d %H:%M})",
            meeting_id=d.meeting_id,
        )
    if isinstance(d, mt.ActionItemCompleted | mt.ActionItemCancelled):
        reason = "completed" if isinstance(d, mt.ActionItemCompleted) else "cancelled"
        return _resolve(
            "action-item-overdue",
            env,
            {"action_item_id": d.action_item_id},
            f"cause cleared: action item {reason}",
        )
    if isinstance(d, mt.MeetingScheduled):
        return _raise(
            "meeting-scheduled",
            env,
            {"meeting_id": d.meeting_id},
            Severity.INFO,
            d.organiser.region,
            d.organiser.institution.value,
            f"Undangan rakor: {d.title}, {d.starts_at:%d-%m-%Y %H:%M} ({d.mode.value})",
            f"Invitation: {d.title}, {d.starts_at:%Y-%m-%d %H:%M} ({d.mode.value})",
        )
    return None


RAISING = {
    lg.ShipmentDelayed.event_type,
    lg.ShipmentDiscrepancyFound.event_type,
    lg.RegionAtRisk.event_type,
    mt.ReportOverdue.event_type,
    mt.ActionItemOverdue.event_type,
    mt.ActionItemAssigned.event_type,
    mt.MeetingScheduled.event_type,
}


def notice_cleared(env: AnyEnvelope) -> AlertSignal | None:
    """The resolve of an informational notice that an event makes moot (a second alert per event).

    Notices (an invitation, a new action item) have no condition of their own to clear: the invitation
    resolves once the rakor is held, the assignment once the item is completed, cancelled or overdue (the
    overdue alert takes over from there).
    """
    d = env.data
    if isinstance(d, mt.ActionItemCompleted | mt.ActionItemCancelled | mt.ActionItemOverdue):
        return _resolve(
            "action-item-assigned",
            env,
            {"action_item_id": d.action_item_id},
            f"notice superseded: {env.type.rsplit('.', 1)[-1]}",
        )
    if isinstance(d, mt.MeetingHeld):
        return _resolve(
            "meeting-scheduled", env, {"meeting_id": d.meeting_id}, "notice superseded: rakor held"
        )
    return None


RESOLVING = {
    lg.ShipmentDelivered.event_type,
    mt.ReportSubmitted.event_type,
    mt.ActionItemCompleted.event_type,
    mt.ActionItemCancelled.event_type,
    mt.MeetingHeld.event_type,
}
