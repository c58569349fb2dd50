"""The alert aggregate: one document per fingerprint, with lifecycle firing → acknowledged → resolved
and its escalation state. Pure decide functions; the emitted events are the alert's public history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from siaga_schemas.decision import Decision, Doc
from siaga_schemas.events import notifications as ev

from . import escalation
from .labels import alert_id_for
from .routing import ResolvedRoute, RoutingConfig, group_id_for
from .sources import AlertSignal

__all__ = ["AlertStatus", "acknowledge", "apply_signal", "escalate", "join_for", "resolve"]

HISTORY = 50


class AlertStatus(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


def _history(doc: Doc, entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [*doc.get("history", []), entry][-HISTORY:]


def join_for(
    route: dict[str, Any], step: int, receivers: list[str], labels: dict[str, str]
) -> dict[str, Any]:
    """Where an alert joins at one escalation step: the group id and what the group needs to know."""
    group_labels = (
        {k: labels.get(k, "") for k in route["group_by"]} if "..." not in route["group_by"] else labels
    )
    return {
        "group_id": group_id_for(route["route_id"], step, receivers, group_labels),
        "route": route,
        "step": step,
        "receivers": receivers,
        "group_labels": group_labels,
    }


def primary_route(routes: list[ResolvedRoute]) -> ResolvedRoute:
    return next((r for r in routes if r.escalation), routes[0])


def step0_receivers(route: ResolvedRoute, config: RoutingConfig) -> list[str]:
    policy = config.escalation_policies.get(route.escalation or "")
    return list(policy.steps[0].notify) if policy else [route.receiver]


def apply_signal(
    doc: Doc | None,
    sig: AlertSignal,
    config: RoutingConfig,
    now: datetime,
    cause_id: str | None,
    *,
    queue_joins: bool = False,
) -> Decision:
    """Raise (or re-trigger) or clear the alert named by a signal.

    Consumed events join their step-0 groups through the groups projection (in batches); an alert raised by
    a command (``queue_joins``) carries its joins in ``pending_joins`` for the sweep to apply.
    """
    if doc is not None and "status" not in doc:
        doc = None  # only a dedup record (an earlier store version kept one per no-op event): no alert yet
    if sig.kind == "resolve":
        if doc is None:
            # nothing raised, nothing to clear: and no document either, or the alert raised later would
            # find one without an alert in it
            return Decision(state=None)
        if doc["status"] == AlertStatus.RESOLVED:
            return Decision(state=None)
        return resolve(doc, now, by=None, reason=sig.reason)
    if doc is not None and doc["status"] != AlertStatus.RESOLVED:
        # Still active: refresh what we know; a worse severity is kept, never lowered silently.
        state = {**doc, "last_seen_at": now, "summary": sig.summary}
        if _rank(sig.severity) > _rank(doc["severity"]):
            state["severity"] = sig.severity.value
            state["labels"] = {**doc["labels"], "severity": sig.severity.value}
        return Decision(state=state)
    routes = config.routes_for(sig.labels)
    primary = primary_route(routes)
    policy = escalation.snapshot(primary, config.escalation_policies.get(primary.escalation or ""))
    chain_run = (doc["chain_run"] + 1) if doc else 0
    esc = escalation.start_chain(policy, now)
    state = {
        "fingerprint": sig.fingerprint,
        "alert_id": alert_id_for(sig.fingerprint),
        "alertname": sig.alertname,
        "severity": sig.severity.value,
        "region": sig.region,
        "institution": sig.institution,
        "labels": sig.labels,
        "summary": sig.summary,
        "status": AlertStatus.FIRING.value,
        "starts_at": sig.at,
        "raised_at": now,
        "last_seen_at": now,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "ack_comment": None,
        "ack_until_resolved": False,
        "resolved_at": None,
        "resolved_by": None,
        "resolve_reason": None,
        "chain_run": chain_run,
        "routes": [r.as_doc() for r in routes],
        "primary_route": primary.as_doc(),
        "esc": esc,
        "pending_joins": [
            {**join_for(r.as_doc(), 0, step0_receivers(r, config), sig.labels), "seq": 0} for r in routes
        ]
        if queue_joins
        else [],
        "history": _history(doc or {}, {"at": now, "action": "raised", "by": None, "chain_run": chain_run}),
    }
    raised = ev.AlertRaised(
        alert_id=state["alert_id"],
        fingerprint=sig.fingerprint,
        severity=sig.severity,
        region=sig.region,
        labels=sig.labels,
        summary=sig.summary.get("id", "")[:1000],
        cause_event_id=cause_id,
        starts_at=sig.at,
    )
    return Decision(state=state, emit=[raised])


def _rank(severity: str) -> int:
    return {"info": 0, "warning": 1, "critical": 2}.get(str(severity), 1)


def acknowledge(
    doc: Doc,
    now: datetime,
    by: str,
    comment: str | None,
    *,
    until_resolved: bool = False,
    via: str = "api",
    contact_id: str | None = None,
) -> Decision:
    """Stop the escalation. ``until_resolved`` also mutes the reminders until the alert resolves; an alert
    acknowledged plainly can still be muted that way (a second acknowledgement, recorded as such)."""
    status = doc["status"]
    if status == AlertStatus.RESOLVED:
        return Decision(state=None)
    if status == AlertStatus.ACKNOWLEDGED and (not until_resolved or doc.get("ack_until_resolved")):
        return Decision(state=None)
    entry = {
        "at": now,
        "action": "acknowledged" if status == AlertStatus.FIRING else "muted-until-resolved",
        "by": by,
        "comment": comment,
        "until_resolved": until_resolved,
        "via": via,
    }
    if contact_id is not None:
        entry["contact_id"] = contact_id  # the recipient whose link or button it was
    state = {
        **doc,
        "status": AlertStatus.ACKNOWLEDGED.value,
        "ack_until_resolved": until_resolved,
        "esc": {**doc["esc"], "next_due_at": None},
        "history": _history(doc, entry),
    }
    if status == AlertStatus.FIRING:
        state.update(acknowledged_at=now, acknowledged_by=by, ack_comment=comment)
    event = ev.AlertAcknowledged(
        alert_id=doc["alert_id"],
        fingerprint=doc["fingerprint"],
        acknowledged_by=by[:120],
        comment=comment,
        acknowledged_at=now,
        until_resolved=until_resolved,
    )
    return Decision(state=state, emit=[event])


def resolve(doc: Doc, now: datetime, by: str | None, reason: str, comment: str | None = None) -> Decision:
    if doc["status"] == AlertStatus.RESOLVED:
        return Decision(state=None)
    state = {
        **doc,
        "status": AlertStatus.RESOLVED.value,
        "resolved_at": now,
        "resolved_by": by,
        "resolve_reason": reason,
        "esc": {**doc["esc"], "next_due_at": None},
        "history": _history(doc, {"at": now, "action": "resolved", "by": by, "comment": comment or reason}),
    }
    event = ev.AlertResolved(
        alert_id=doc["alert_id"],
        fingerprint=doc["fingerprint"],
        resolved_at=now,
        resolved_by=by[:120] if by else None,
        reason=reason[:200],
    )
    return Decision(state=state, emit=[event])


def escalate(doc: Doc | None, now: datetime) -> Decision:
    """Fire the due escalation step: move to the next one and queue the alert's join of its group."""
    if doc is None or doc["status"] != AlertStatus.FIRING:
        return Decision(state=None)
    esc = doc["esc"]
    due = esc.get("next_due_at")
    if due is None or due > now:
        return Decision(state=None)
    nxt = escalation.advance(esc, now)
    if nxt is None:
        return Decision(state={**doc, "esc": {**esc, "next_due_at": None}})
    receivers = list(nxt["policy"]["steps"][nxt["step"]]["notify"])
    join = join_for(doc["primary_route"], nxt["step"], receivers, doc["labels"])
    join["seq"] = nxt["seq"]
    state = {
        **doc,
        "esc": nxt,
        "pending_joins": [*doc.get("pending_joins", []), join],
        "history": _history(
            doc,
            {
                "at": now,
                "action": "escalated",
                "by": None,
                "step": nxt["step"],
                "round": nxt["round"],
                "receivers": receivers,
            },
        ),
    }
    event = ev.AlertEscalated(
        alert_id=doc["alert_id"],
        fingerprint=doc["fingerprint"],
        step=nxt["seq"],
        receiver=",".join(receivers)[:120],
        escalated_at=now,
    )
    return Decision(state=state, emit=[event])
