"""Acknowledging from the message itself, on the real Kafka and FerretDB with the loopback SMTP server: the
link taken from the e-mail in the inbox, what it shows and does, and the links that must change nothing."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from siaga_notifications.settings import NotificationsSettings
from siaga_runtime import ManualClock

from ..helpers import wait_until
from .support import (
    PUBLIC_URL,
    T0,
    Inbox,
    Running,
    auth,
    deliveries,
    html_text,
    plain_text,
    publish,
    put_contacts,
    running,
    shipment_delayed,
    wait_delivered,
)

pytestmark = pytest.mark.integration

LINK = re.compile(re.escape(PUBLIC_URL) + r"/public/ack/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


async def _raise_and_mail(
    svc: Running, settings: NotificationsSettings, clock: ManualClock, inbox: Inbox
) -> tuple[str, Any]:
    """One shipment delay in Bulungan, its e-mail to the kab/kota logistics desk taken from the inbox."""
    await put_contacts(svc)
    await publish(settings, [shipment_delayed(1, "65.01.01")], "/siaga/logistics")

    async def grouped() -> bool:
        return len([d async for d in svc.stores.alerts.scan()]) == 1 and bool(
            [g async for g in svc.stores.groups.scan()]
        )

    await wait_until(grouped, timeout=60, what="the alert and its group")
    [fp] = [d["_id"] async for d in svc.stores.alerts.scan()]
    clock.advance(timedelta(seconds=31))
    await wait_delivered(svc, "ct-kpu-6501-log", 1)

    async def mailed() -> bool:
        return len(inbox.to("logistik@kpu-bulungan.test")) == 1

    await wait_until(mailed, timeout=30, what="the e-mail in the inbox")
    [mail] = inbox.to("logistik@kpu-bulungan.test")
    return fp, mail


def _path(url: str) -> str:
    return url.removeprefix(PUBLIC_URL)


async def _alert(svc: Running, fp: str) -> dict[str, Any]:
    resp = await svc.client.get(f"/alerts/{fp}", headers=auth())
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_acknowledge_from_the_email_link_stops_the_escalation_and_names_the_recipient(
    notif_settings: NotificationsSettings, chat_settings: NotificationsSettings, smtp: tuple[Inbox, int]
) -> None:
    clock = ManualClock(T0)
    async with running(chat_settings, clock) as svc:
        fp, mail = await _raise_and_mail(svc, chat_settings, clock, smtp[0])
        assert mail.get_content_type() == "multipart/alternative"
        plain, page_html = plain_text(mail), html_text(mail)
        [link] = LINK.findall(plain)
        assert f'href="{link}"' in page_html  # the same link in the HTML part
        for text in (plain, page_html, mail["Subject"]):
            assert "{" not in text and "}" not in text and fp[:12] not in text and "shp-" not in text
        assert "Pengiriman lewat sungai ke" in plain and "Tanjung Palas" in mail["Subject"]

        page = await svc.client.get(_path(link))  # what a link scanner does: it changes nothing
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<form method="post">' in page.text and "Logistik KPU Bulungan" in page.text
        assert (await _alert(svc, fp))["status"] == "firing"

        done = await svc.client.post(_path(link), data={"mode": "ack"})
        assert done.status_code == 200 and "Terima kasih, Logistik KPU Bulungan" in done.text
        alert = await _alert(svc, fp)
        assert alert["status"] == "acknowledged" and alert["acknowledged_by"] == "Logistik KPU Bulungan"
        entry = alert["history"][-1]
        assert entry["action"] == "acknowledged" and entry["via"] == "link"
        assert entry["by"] == "Logistik KPU Bulungan" and entry["contact_id"] == "ct-kpu-6501-log"
        assert alert["esc"]["next_due_at"] is None
        history = len(alert["history"])

        # the escalation stopped: the 10 minutes of step 0 pass, and the province hears nothing
        clock.advance(timedelta(minutes=11))
        await svc.engine.tick()
        clock.advance(timedelta(seconds=31))
        await svc.engine.tick()
        assert await deliveries(svc, contact_id="ct-kpu-65-log") == []
        assert [h["action"] for h in (await _alert(svc, fp))["history"]].count("escalated") == 0

        # used once: the page and the form say so, and nothing changes
        again = await svc.client.post(_path(link), data={"mode": "until_resolved"})
        assert again.status_code == 409 and "sudah dipakai" in again.text
        assert (await svc.client.get(_path(link))).status_code == 409
        after = await _alert(svc, fp)
        assert len(after["history"]) == history and after["ack_until_resolved"] is False
        used = await svc.stores.tokens.scan().__anext__()
        assert used["contact_id"] == "ct-kpu-6501-log" and used["fingerprint"] == fp


async def test_forged_and_expired_links_are_refused_with_a_clear_page_and_change_nothing(
    chat_settings: NotificationsSettings, smtp: tuple[Inbox, int]
) -> None:
    clock = ManualClock(T0)
    async with running(chat_settings, clock) as svc:
        fp, mail = await _raise_and_mail(svc, chat_settings, clock, smtp[0])
        [link] = LINK.findall(plain_text(mail))
        payload, signature = _path(link).rsplit("/", 1)[1].split(".")
        forged = [
            f"{payload}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}",
            f"{payload[:-4]}AAAA.{signature}",
            "not-a-token",
        ]
        for token in forged:
            for method in ("GET", "POST"):
                resp = await svc.client.request(method, f"/public/ack/{token}", data={"mode": "ack"})
                assert resp.status_code == 403 and "Tautan tidak sah" in resp.text, (method, token)
        assert (await _alert(svc, fp))["status"] == "firing"

        clock.advance(timedelta(seconds=chat_settings.ack_link_ttl_s))
        for method in ("GET", "POST"):
            resp = await svc.client.request(method, _path(link), data={"mode": "ack"})
            assert resp.status_code == 410 and "kedaluwarsa" in resp.text
        alert = await _alert(svc, fp)
        assert alert["status"] == "firing" and "acknowledged" not in [h["action"] for h in alert["history"]]
        assert [d async for d in svc.stores.tokens.scan()] == []


async def test_two_clicks_at_once_only_one_acknowledges(
    chat_settings: NotificationsSettings, smtp: tuple[Inbox, int]
) -> None:
    clock = ManualClock(T0)
    async with running(chat_settings, clock) as svc:
        fp, mail = await _raise_and_mail(svc, chat_settings, clock, smtp[0])
        [link] = LINK.findall(plain_text(mail))
        answers = await asyncio.gather(
            *(svc.client.post(_path(link), data={"mode": mode}) for mode in ("ack", "until_resolved") * 3)
        )
        assert sorted(r.status_code for r in answers) == [200, 409, 409, 409, 409, 409]
        alert = await _alert(svc, fp)
        assert [h["action"] for h in alert["history"]].count("acknowledged") == 1
        assert len([d async for d in svc.stores.tokens.scan()]) == 1
