"""Alert groups, as in Alertmanager: group_wait before the first notification, group_interval between
updates, repeat_interval for reminders. A group also carries the deliveries its decision produced, in the
same document write (a local outbox), so a crash never loses nor doubles a notification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from siaga_schemas.decision import Decision, Doc

from .contacts import Contact, resolve_contacts
from .deliveries import new_delivery
from .labels import common_region, short_hash
from .render import MAX_LISTED, render, summary_of
from .routing import RoutingConfig

__all__ = ["FlushInput", "flush", "join", "member_key"]


def member_key(alert: dict[str, Any]) -> str:
    """Identity of one firing of an alert: a re-triggered alert (new chain run) counts as new."""
    return f"{alert['fingerprint']}:{alert['chain_run']}"


def join(doc: Doc | None, fp: str, spec: dict[str, Any], now: datetime, entry: str) -> Decision:
    """Add an alert to a group (creating the group); a group that was idle waits ``group_wait`` again."""
    members = dict(doc.get("members", {})) if doc else {}
    if fp in members and members[fp] == entry:
        return Decision(state=None)
    members[fp] = entry
    route = spec["route"]
    if doc is None:
        doc = {
            "group_id": spec["group_id"],
            "route_id": route["route_id"],
            "step": spec["step"],
            "receivers": spec["receivers"],
            "group_labels": spec["group_labels"],
            "group_key": ",".join(f"{k}={v}" for k, v in sorted(spec["group_labels"].items()))[:300]
            or route["route_id"],
            "settings": {k: route[k] for k in ("group_wait", "group_interval", "repeat_interval")},
            "created_at": now,
            "flush_seq": 0,
            "notify_seq": 0,
            "last_notified_at": None,
            "last_firing": [],
            "pending_deliveries": [],
            "next_flush_at": None,
        }
    state = {**doc, "members": members}
    if state.get("next_flush_at") is None:
        state["next_flush_at"] = now + timedelta(seconds=state["settings"]["group_wait"])
    return Decision(state=state)


@dataclass(frozen=True, slots=True)
class FlushInput:
    """What a flush decision reads besides the group: member alerts, muted ones, contacts, config."""

    alerts: dict[str, dict[str, Any]]
    muted: set[str]
    contacts: list[Contact]
    config: RoutingConfig
    default_language: str
    topic_language: str


def flush(doc: Doc | None, inp: FlushInput, now: datetime) -> Decision:
    """Decide whether the group notifies now, and whom; schedule its next evaluation."""
    if doc is None or doc.get("next_flush_at") is None or doc["next_flush_at"] > now:
        return Decision(state=None)
    members: dict[str, str] = doc.get("members", {})
    present = {fp: inp.alerts[fp] for fp in members if fp in inp.alerts}
    notified = set(doc.get("last_firing", []))
    firing = [a for a in present.values() if a["status"] == "firing" and a["fingerprint"] not in inp.muted]
    firing_keys = {member_key(a) for a in firing}
    # acknowledged plainly: no escalation, but still in the reminders (muted until resolved: not even there)
    acked = [
        a
        for a in present.values()
        if a["status"] == "acknowledged"
        and not a.get("ack_until_resolved")
        and a["fingerprint"] not in inp.muted
    ]
    newly_resolved = [a for a in present.values() if a["status"] == "resolved" and member_key(a) in notified]
    settings = doc["settings"]
    last = doc.get("last_notified_at")
    interval_over = last is None or last + timedelta(seconds=settings["repeat_interval"]) <= now
    repeat_due = interval_over and (bool(firing) or (bool(acked) and last is not None))
    notify = bool(firing_keys - notified) or bool(newly_resolved) or repeat_due
    keep = {fp: e for fp, e in members.items() if fp in present and present[fp]["status"] != "resolved"}
    state: Doc = {**doc, "members": keep, "flush_seq": doc.get("flush_seq", 0) + 1}
    if notify:
        seq = doc.get("notify_seq", 0) + 1
        reminded = acked if repeat_due else []
        deliveries = _deliveries(doc, seq, firing, newly_resolved, inp, now, reminded)
        still = {
            member_key(a)
            for a in present.values()
            if a["status"] == "acknowledged" and member_key(a) in notified
        }
        state.update(
            notify_seq=seq,
            last_notified_at=now,
            last_firing=sorted(firing_keys | still),
            pending_deliveries=[*doc.get("pending_deliveries", []), *deliveries],
        )
    else:
        state["last_firing"] = sorted(k for k in notified if k in {member_key(a) for a in present.values()})
    state["next_flush_at"] = now + timedelta(seconds=settings["group_interval"]) if keep else None
    if not keep:
        state["last_firing"] = []
    return Decision(state=state)


def _deliveries(
    doc: Doc,
    seq: int,
    firing: list[dict[str, Any]],
    resolved: list[dict[str, Any]],
    inp: FlushInput,
    now: datetime,
    acked: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    alerts = firing or acked or resolved
    region = common_region(a.get("region") for a in alerts)
    institutions = {a.get("institution") for a in alerts}
    institution = institutions.pop() if len(institutions) == 1 else None
    firing = sorted(firing, key=lambda a: a["fingerprint"])
    acked = sorted(acked, key=lambda a: a["fingerprint"])
    resolved = sorted(resolved, key=lambda a: a["fingerprint"])
    listed = firing + acked + resolved
    base = {
        "group_id": doc["group_id"],
        "group_key": doc["group_key"],
        "group_labels": doc.get("group_labels", {}),
        "notify_seq": seq,
        "step": doc["step"],
        "status": "firing" if firing or acked else "resolved",
        "severity": max((a["severity"] for a in alerts), key=_rank, default="info"),
        "region": region,
        "fingerprints": [a["fingerprint"] for a in listed],
        "alert_ids": [a["alert_id"] for a in listed],
        "firing_count": len(firing),
        "acknowledged_count": len(acked),
        "resolved_count": len(resolved),
    }
    rendered: dict[str, tuple[str, str]] = {}
    actionable = (firing + acked)[:MAX_LISTED]

    def text(lang: str) -> tuple[str, str]:
        if lang not in rendered:
            rendered[lang] = render(
                lang, firing=firing, resolved=resolved, region=region, step=doc["step"], acknowledged=acked
            )
        return rendered[lang]

    def actions(lang: str) -> list[dict[str, Any]]:
        """What a recipient can act on from the message (an acknowledge link each, signed when sent)."""
        return [
            {"fingerprint": a["fingerprint"], "chain_run": a["chain_run"], "label": summary_of(a, lang)[:160]}
            for a in actionable
        ]

    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for name in doc["receivers"]:
        try:
            receiver = inp.config.receiver(name)
        except KeyError:
            continue
        for contact in resolve_contacts(receiver, region, institution, inp.contacts):
            for channel in receiver.channels:
                address = _address(contact, channel)
                if address is None or (contact.contact_id, channel) in seen:
                    continue
                seen.add((contact.contact_id, channel))
                title, body = text(contact.language)
                out.append(
                    new_delivery(
                        {**base, "actions": actions(contact.language)},
                        channel=channel,
                        contact_id=contact.contact_id,
                        receiver=name,
                        address=address,
                        language=contact.language,
                        title=title,
                        body=body,
                        now=now,
                    )
                )
        if receiver.topic and ("topic", "agency-systems") not in seen:
            seen.add(("topic", "agency-systems"))
            title, body = text(inp.topic_language)
            out.append(
                new_delivery(
                    base,
                    channel="topic",
                    contact_id="agency-systems",
                    receiver=name,
                    address=None,
                    language=inp.topic_language,
                    title=title,
                    body=body,
                    now=now,
                )
            )
    return out


def _address(contact: Contact, channel: str) -> str | None:
    ch = contact.channels
    if channel == "email":
        return ch.email
    if channel == "telegram":
        return ch.telegram
    if channel == "whatsapp":
        return ch.whatsapp
    if channel == "webhook":
        if ch.webhook is not None:
            return str(ch.webhook)
        return "default" if ch.webhook_default else None
    return None


def _rank(severity: str) -> int:
    return {"info": 0, "warning": 1, "critical": 2}.get(severity, 1)


def group_hash(*parts: str) -> str:
    return short_hash(*parts)
