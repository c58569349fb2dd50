"""Deliveries: one document per notification (group decision × contact × channel), with a deterministic id.
The document is the durable work item of its channel's worker and the audit record of what was sent, to
whom, when, through which channel, and with what outcome (never the secrets used to send it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from siaga_schemas.common import Severity
from siaga_schemas.decision import Decision, Doc
from siaga_schemas.events import notifications as ev

from .labels import short_hash

__all__ = ["claim", "finish", "new_delivery", "notification_id"]

AUDIT = 30


def notification_id(group_id: str, seq: int, contact_id: str, channel: str) -> str:
    return f"ntf-{short_hash(group_id, str(seq), contact_id, channel)}"


def new_delivery(
    base: dict[str, Any],
    *,
    channel: str,
    contact_id: str,
    receiver: str,
    address: str | None,
    language: str,
    title: str,
    body: str,
    now: datetime,
) -> dict[str, Any]:
    nid = notification_id(base["group_id"], base["notify_seq"], contact_id, channel)
    return {
        **base,
        "notification_id": nid,
        "channel": channel,
        "contact_id": contact_id,
        "receiver": receiver,
        "address": address,
        "language": language,
        "title": title,
        "body": body,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "lease_owner": None,
        "created_at": now,
        "delivered_at": None,
        "audit": [],
    }


def claim(doc: Doc | None, owner: str, now: datetime, lease_s: float) -> Decision:
    """Take the delivery for one attempt (a lease, so a crashed worker's attempt is taken over later)."""
    if doc is None or doc["state"] != "pending" or doc["next_attempt_at"] > now:
        return Decision(state=None)
    if doc.get("lease_until") is not None and doc["lease_until"] > now:
        return Decision(state=None)
    return Decision(
        state={
            **doc,
            "attempts": doc["attempts"] + 1,
            "lease_owner": owner,
            "lease_until": now + timedelta(seconds=lease_s),
        }
    )


def finish(
    doc: Doc | None,
    attempt: int,
    now: datetime,
    *,
    error: str | None,
    retryable: bool,
    max_attempts: int,
    backoff_s: float,
    backoff_max_s: float,
) -> Decision:
    """Record an attempt's outcome: delivered, retry later (exponential backoff), or failed for good."""
    if doc is None or doc["state"] != "pending" or doc["attempts"] != attempt:
        return Decision(state=None)
    common = dict(
        alert_id=doc["alert_ids"][0],
        fingerprint=doc["fingerprints"][0],
        notification_id=doc["notification_id"],
        channel=doc["channel"],
        contact_id=doc["contact_id"],
        attempt=attempt,
    )
    entry = {
        "attempt": attempt,
        "at": now,
        "outcome": "delivered" if error is None else "error",
        "error": error,
    }
    audit = [*doc.get("audit", []), entry][-AUDIT:]
    released = {"lease_owner": None, "lease_until": None, "audit": audit}
    if error is None:
        emit: list[Any] = [ev.NotificationDelivered(**common, delivered_at=now)]
        if doc["channel"] == "topic":
            emit.insert(0, alert_notification(doc))
        return Decision(state={**doc, **released, "state": "delivered", "delivered_at": now}, emit=emit)
    again = retryable and attempt < max_attempts
    delay = min(backoff_s * (2 ** (attempt - 1)), backoff_max_s)
    state = {
        **doc,
        **released,
        "state": "pending" if again else "failed",
        "next_attempt_at": now + timedelta(seconds=delay) if again else doc["next_attempt_at"],
    }
    failed = ev.NotificationFailed(**common, failed_at=now, error=error[:500], will_retry=again)
    return Decision(state=state, emit=[failed])


def alert_notification(doc: Doc) -> ev.AlertNotification:
    return ev.AlertNotification(
        alert_ids=doc["alert_ids"][:500],
        group_key=doc["group_key"][:300],
        severity=Severity(doc["severity"]),
        region=doc.get("region"),
        title=doc["title"][:300],
        body=doc["body"][:8000],
        language=doc["language"],
        status=doc["status"],
    )
