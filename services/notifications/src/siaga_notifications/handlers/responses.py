"""What a recipient does from the message itself: a button of a Telegram or WhatsApp notification
(acknowledge, silence the group for an hour, acknowledge and mute until resolved). A button press is
bound to its recipient by the delivery it belongs to: the chat or number it came from must be the one the
notification was sent to. Every acknowledgement names that recipient in the alert's history."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.labels import short_hash
from ..domain.muting import LabelMatcher, Silence
from ..repository import Stores
from . import commands

__all__ = ["SILENCE_S", "press_button"]

SILENCE_S = 3600

_TEXT = {
    "id": {
        "unknown": "Tombol ini tidak dikenal atau bukan untuk Anda.",
        "acked": "Terima kasih, {who}: {n} peringatan dikonfirmasi, eskalasi dihentikan.",
        "muted": "Terima kasih, {who}: {n} peringatan dikonfirmasi dan dibisukan sampai selesai.",
        "nothing": "Tidak ada yang berubah: peringatan ini sudah dikonfirmasi atau sudah selesai.",
        "silenced": "Dibisukan 1 jam oleh {who}.",
        "silence_comment": "Dibisukan 1 jam lewat {channel} oleh {who}",
    },
    "en": {
        "unknown": "This button is unknown or not yours.",
        "acked": "Thank you, {who}: {n} alerts acknowledged, escalation stopped.",
        "muted": "Thank you, {who}: {n} alerts acknowledged and muted until resolved.",
        "nothing": "Nothing changed: these alerts were already acknowledged or resolved.",
        "silenced": "Silenced for 1 hour by {who}.",
        "silence_comment": "Silenced for 1 hour through {channel} by {who}",
    },
}


async def press_button(
    stores: Stores,
    *,
    data: str,
    channel: str,
    address: str,
    now: datetime,
    user: str | None = None,
) -> str:
    """Do what a button (``<action>:<notification id>``) asks; the answer to show the recipient."""
    action, _, nid = data.partition(":")
    delivery = await stores.deliveries.get(nid) if nid else None
    if (
        delivery is None
        or action not in ("ack", "mute", "sil")
        or delivery.get("channel") != channel
        or str(delivery.get("address")) != address
    ):
        return _TEXT["id"]["unknown"]
    t = _TEXT.get(delivery.get("language", "id"), _TEXT["id"])
    contact = await stores.contacts.get(delivery["contact_id"]) or {}
    who = str(contact.get("name") or delivery["contact_id"])
    by = f"{who} ({user})" if user else who
    if action == "sil":
        matchers = [
            LabelMatcher(name=k, value=v) for k, v in sorted(delivery.get("group_labels", {}).items()) if v
        ]
        if not matchers:
            return t["unknown"]  # a notification without group labels: nothing to silence by
        silence = Silence(
            silence_id=f"sil-{short_hash(nid, 'button')}",  # pressed again: the same silence, extended
            matchers=matchers,
            region_prefix=delivery.get("region"),
            starts_at=now,
            ends_at=now + timedelta(seconds=SILENCE_S),
            created_by=by[:120],
            comment=t["silence_comment"].format(channel=channel, who=by),
        )
        await commands.save_silence(stores, silence)
        return t["silenced"].format(who=who)
    changed = 0
    for item in delivery.get("actions", []):
        before = await stores.alerts.get(item["fingerprint"])
        if before is None or before.get("chain_run") != item["chain_run"]:
            continue
        after = await commands.acknowledge_alert(
            stores,
            item["fingerprint"],
            now,
            by,
            None,
            until_resolved=action == "mute",
            via=channel,
            contact_id=delivery["contact_id"],
        )
        if after is not None and after.get("history", [None])[-1] != before.get("history", [None])[-1]:
            changed += 1
    if not changed:
        return t["nothing"]
    return t["muted" if action == "mute" else "acked"].format(who=who, n=changed)
