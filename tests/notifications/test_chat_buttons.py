"""Telegram inline buttons and WhatsApp reply buttons, against the devstack's local receiver of both APIs'
shapes, and the acknowledgement that mutes an alert until it resolves, across a resolve and a re-fire; on
the real Kafka and FerretDB."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from siaga_devstack.receivers import Receivers
from siaga_notifications.settings import NotificationsSettings
from siaga_runtime import ManualClock

from ..helpers import wait_until
from .support import (
    CONTACTS,
    T0,
    TELEGRAM_SECRET,
    WHATSAPP_APP_SECRET,
    WHATSAPP_VERIFY,
    Inbox,
    Running,
    auth,
    deliveries,
    plain_text,
    put_contacts,
    running,
    wait_delivered,
)

pytestmark = pytest.mark.integration

DESK = "ct-national-desk"
WA_NUMBER = "6281234567890"
CHAT = "-1001"


def _contacts() -> list[dict[str, Any]]:
    out = []
    for c in CONTACTS:
        if c["contact_id"] == DESK:
            c = {**c, "channels": {**c["channels"], "whatsapp": WA_NUMBER}}
        out.append(c)
    return out


def _am(name: str, status: str, starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": status,
        "labels": {"alertname": name, "severity": "critical", "instance": f"{name.lower()}-1"},
        "annotations": {"summary": f"{name}: layanan tidak menjawab"},
        "startsAt": starts.isoformat(),
    }
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    return {"version": "4", "status": status, "receiver": "siaga", "alerts": [alert]}


async def _push(svc: Running, body: dict[str, Any]) -> str:
    resp = await svc.client.post("/alertmanager/webhook", json=body, headers=auth())
    assert resp.status_code == 200, resp.text
    fp: str = resp.json()["alerts"][0]["fingerprint"]
    return fp


async def _alert(svc: Running, fp: str) -> dict[str, Any]:
    resp = await svc.client.get(f"/alerts/{fp}", headers=auth())
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def _fire_one(svc: Running, clock: ManualClock, chat: Receivers) -> tuple[str, str, str]:
    """A Kafka-down alert for the national desk; its Telegram and WhatsApp notifications' ids."""
    await put_contacts(svc, _contacts())
    fp = await _push(svc, _am("KafkaDown", "firing", T0))
    clock.advance(timedelta(seconds=31))
    [tg] = await wait_delivered(svc, DESK, 1, channel="telegram")
    [wa] = await wait_delivered(svc, DESK, 1, channel="whatsapp")
    return fp, tg["notification_id"], wa["notification_id"]


def _callback(data: str, chat: str = CHAT, query_id: str = "cbq-1") -> dict[str, Any]:
    return {
        "update_id": 1000,
        "callback_query": {
            "id": query_id,
            "from": {"id": 42, "is_bot": False, "first_name": "Budi", "username": "budi_desk"},
            "message": {"message_id": 1, "chat": {"id": int(chat), "type": "group"}, "text": "..."},
            "chat_instance": "1",
            "data": data,
        },
    }


async def _telegram(svc: Running, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    resp = await svc.client.post("/public/telegram/webhook", json=update, headers=headers)
    return resp.status_code


def _answers(chat: Receivers) -> list[dict[str, Any]]:
    return [r["body"] for r in chat.telegram if r["method"] == "answerCallbackQuery"]


async def test_telegram_buttons_acknowledge_and_silence_through_the_verified_callback(
    chat_settings: NotificationsSettings, chat: Receivers
) -> None:
    clock = ManualClock(T0)
    async with running(chat_settings, clock) as svc:
        fp, nid, _ = await _fire_one(svc, clock, chat)
        [sent] = [r["body"] for r in chat.telegram if r["method"] == "sendMessage"]
        assert sent["chat_id"] == CHAT and "/public/ack/" in sent["text"] and "{" not in sent["text"]
        buttons = [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]
        assert [b["callback_data"] for b in buttons] == [f"ack:{nid}", f"sil:{nid}", f"mute:{nid}"]
        assert [b["text"] for b in buttons] == ["Konfirmasi", "Bisukan 1 jam", "Bisukan s/d selesai"]
        [hook] = await wait_delivered(svc, DESK, 1, channel="webhook")  # the webhook carries the link too
        [posted] = [w for w in chat.webhooks if w["id"] == hook["notification_id"]]
        [action] = posted["payload"]["actions"]
        assert posted["signature_valid"] and action["fingerprint"] == fp
        assert action["acknowledge_url"].startswith(f"{chat_settings.public_url}/public/ack/")
        page = await svc.client.get(action["acknowledge_url"].removeprefix(chat_settings.public_url))
        assert page.status_code == 200 and "Desk Nasional" in page.text

        # without Telegram's secret token, or with another one: refused, nothing answered or changed
        assert await _telegram(svc, _callback(f"ack:{nid}"), None) == 401
        assert await _telegram(svc, _callback(f"ack:{nid}"), "wrong") == 401
        # from another chat: answered, but nothing changes
        assert await _telegram(svc, _callback(f"ack:{nid}", chat="-999", query_id="cbq-0")) == 200
        assert _answers(chat) == [
            {"callback_query_id": "cbq-0", "text": "Tombol ini tidak dikenal atau bukan untuk Anda."}
        ]
        assert (await _alert(svc, fp))["status"] == "firing"

        assert await _telegram(svc, _callback(f"sil:{nid}", query_id="cbq-1")) == 200
        silences = (await svc.client.get("/silences", params={"active": "true"}, headers=auth())).json()
        [silence] = silences
        assert {(m["name"], m["value"]) for m in silence["matchers"]} == {("alertname", "KafkaDown")}
        assert silence["created_by"] == "Desk Nasional (Telegram budi_desk)"
        assert datetime.fromisoformat(silence["ends_at"]) == T0 + timedelta(seconds=31, hours=1)

        assert await _telegram(svc, _callback(f"ack:{nid}", query_id="cbq-2")) == 200
        alert = await _alert(svc, fp)
        assert alert["status"] == "acknowledged" and alert["ack_until_resolved"] is False
        entry = alert["history"][-1]
        assert (entry["by"], entry["via"], entry["contact_id"]) == (
            "Desk Nasional (Telegram budi_desk)",
            "telegram",
            DESK,
        )
        answers = {a["callback_query_id"]: a["text"] for a in _answers(chat)}
        assert answers["cbq-1"].startswith("Dibisukan 1 jam oleh Desk Nasional")
        assert answers["cbq-2"].startswith("Terima kasih, Desk Nasional: 1 peringatan dikonfirmasi")


def _signed(body: dict[str, Any], secret: str = WHATSAPP_APP_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": sig, "Content-Type": "application/json"}


def _button_reply(reply_id: str, sender: str = WA_NUMBER) -> dict[str, Any]:
    message = {
        "from": sender,
        "id": "wamid.REPLY1",
        "timestamp": "1732064400",
        "type": "interactive",
        "context": {"from": "15550000000", "id": "wamid.SIAGA000000000001"},
        "interactive": {
            "type": "button_reply",
            "button_reply": {"id": reply_id, "title": "Bisukan s/d selesai"},
        },
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "100000000000001"},
        "contacts": [{"profile": {"name": "Budi"}, "wa_id": sender}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


async def test_whatsapp_reply_buttons_and_the_verified_incoming_webhook(
    chat_settings: NotificationsSettings, chat: Receivers
) -> None:
    clock = ManualClock(T0)
    async with running(chat_settings, clock) as svc:
        hello = {"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY, "hub.challenge": "1158201444"}
        resp = await svc.client.get("/public/whatsapp/webhook", params=hello)
        assert resp.status_code == 200 and resp.text == "1158201444"
        wrong = await svc.client.get("/public/whatsapp/webhook", params={**hello, "hub.verify_token": "x"})
        assert wrong.status_code == 403

        fp, _, nid = await _fire_one(svc, clock, chat)
        [sent] = [r["body"] for r in chat.whatsapp]  # accepted by the receiver: within the API's limits
        assert sent["to"] == WA_NUMBER and sent["type"] == "interactive"
        buttons = sent["interactive"]["action"]["buttons"]
        assert [b["reply"]["id"] for b in buttons] == [f"ack:{nid}", f"sil:{nid}", f"mute:{nid}"]
        assert "/public/ack/" in sent["interactive"]["body"]["text"]

        raw, headers = _signed(_button_reply(f"mute:{nid}"), secret="not-the-app-secret")
        assert (
            await svc.client.post("/public/whatsapp/webhook", content=raw, headers=headers)
        ).status_code == 401
        raw, headers = _signed(_button_reply(f"mute:{nid}", sender="6289999999999"))
        assert (
            await svc.client.post("/public/whatsapp/webhook", content=raw, headers=headers)
        ).status_code == 200
        assert (await _alert(svc, fp))["status"] == "firing"  # another number's reply changes nothing

        raw, headers = _signed(_button_reply(f"mute:{nid}"))
        assert (
            await svc.client.post("/public/whatsapp/webhook", content=raw, headers=headers)
        ).status_code == 200
        alert = await _alert(svc, fp)
        assert alert["status"] == "acknowledged" and alert["ack_until_resolved"] is True
        assert (alert["history"][-1]["via"], alert["history"][-1]["contact_id"]) == ("whatsapp", DESK)
        replies = [r["body"] for r in chat.whatsapp if r["body"]["type"] == "text"]
        assert replies[-1]["to"] == WA_NUMBER and "dibisukan sampai selesai" in replies[-1]["text"]["body"]
        assert replies[-1]["context"] == {"message_id": "wamid.REPLY1"}


async def test_mute_until_resolved_suppresses_reminders_until_it_resolves_and_a_re_fire_notifies_again(
    chat_settings: NotificationsSettings, smtp: tuple[Inbox, int], chat: Receivers
) -> None:
    clock = ManualClock(T0)
    async with running(chat_settings, clock) as svc:
        await put_contacts(svc, _contacts())
        plain = await _push(svc, _am("KafkaDown", "firing", T0))
        muted = await _push(svc, _am("FerretDown", "firing", T0))
        clock.advance(timedelta(seconds=31))
        await wait_delivered(svc, DESK, 2)

        async def mailed(n: int) -> bool:
            return len(smtp[0].to("desk@kemendagri.test")) >= n

        await wait_until(lambda: mailed(2), timeout=30, what="both e-mails")
        [mail] = [m for m in smtp[0].to("desk@kemendagri.test") if "FerretDown" in plain_text(m)]
        [link] = [w for w in plain_text(mail).split() if "/public/ack/" in w]

        # the plain one through the API, the other one muted from its e-mail link's page
        resp = await svc.client.post(
            f"/alerts/{plain}/acknowledge", json={"comment": "ditangani"}, headers=auth()
        )
        assert resp.status_code == 200 and resp.json()["ack_until_resolved"] is False
        done = await svc.client.post(
            link.removeprefix(chat_settings.public_url), data={"mode": "until_resolved"}
        )
        assert done.status_code == 200 and "dibisukan sampai selesai" in done.text
        assert (await _alert(svc, muted))["ack_until_resolved"] is True

        def about(fp: str, ds: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [d for d in ds if fp in d["fingerprints"]]

        # the repeat interval (4 h) passes: a reminder of the plain one only
        clock.advance(timedelta(hours=4, minutes=1))
        await wait_delivered(svc, DESK, 3)
        sent = await deliveries(svc, contact_id=DESK, channel="email")
        [reminder] = [d for d in about(plain, sent) if d["notify_seq"] == 2]
        assert reminder["title"].startswith("[PENGINGAT]") and reminder["acknowledged_count"] == 1
        assert len(about(muted, sent)) == 1

        # both resolve: each group says so; then both fire again and notify again, acknowledgements gone
        await _push(svc, _am("KafkaDown", "resolved", T0, T0 + timedelta(hours=4)))
        await _push(svc, _am("FerretDown", "resolved", T0, T0 + timedelta(hours=4)))
        clock.advance(timedelta(minutes=6))
        await wait_delivered(svc, DESK, 5)
        later = T0 + timedelta(hours=5)
        assert await _push(svc, _am("KafkaDown", "firing", later)) == plain
        assert await _push(svc, _am("FerretDown", "firing", later)) == muted
        again = await _alert(svc, muted)
        assert (
            again["status"] == "firing" and again["ack_until_resolved"] is False and again["chain_run"] == 1
        )
        clock.advance(timedelta(seconds=31))
        await wait_delivered(svc, DESK, 7)
        sent = await deliveries(svc, contact_id=DESK, channel="email")
        for fp in (plain, muted):
            statuses = [d["status"] for d in sorted(about(fp, sent), key=lambda d: d["notify_seq"])]
            assert statuses[-2:] == ["resolved", "firing"], (fp, statuses)
