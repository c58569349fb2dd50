"""The console in a real browser (Debian's chromium, driven by Playwright) against the real services.

Four people sign in: a KPU kab/kota operator (Kota Kediri), a KPU province organiser (Jawa Timur), Bawaslu
Kota Kediri (read only) and the national desk. Each sees their own region's data, and is offered only the
actions the APIs would let them take. The national desk acknowledges an alert from the page; its escalation
stops and its history names who acknowledged it. A screenshot of every view goes to .devstack/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from ..helpers import auth
from .stack import BAWASLU_KEDIRI, NATIONAL_DESK, OPERATOR_KEDIRI, ORGANISER_JATIM, Stack

pytestmark = pytest.mark.integration

VIEWS = {"kesiapan": "Kesiapan logistik", "laporan": "Laporan", "rakor": "Rakor", "peringatan": "Peringatan"}


def sign_in(page: Any, stack: Stack, token: str) -> None:
    page.goto(f"{stack.console}/kesiapan")
    assert page.url.endswith("/masuk"), page.url  # not signed in: sent to the sign-in form
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/kesiapan$"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "siaga_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert token not in cookie["value"] and token not in page.url and token not in page.content()
    assert page.evaluate("() => window.localStorage.length + window.sessionStorage.length") == 0


def tour(page: Any, stack: Stack, who: str, save: Callable[[Any, str], Any]) -> dict[str, str]:
    """Every view, as text (and a screenshot each)."""
    seen = {}
    for slug, title in VIEWS.items():
        page.goto(f"{stack.console}/{slug}")
        assert page.locator("nav a[aria-current=page]").inner_text() == title
        seen[slug] = page.locator("main").inner_text()
        save(page, f"{who}-{slug}")
    return seen


def api_alerts(stack: Stack, token: str, **params: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{stack.url('notifications')}/alerts", params=params, headers=auth(token), timeout=10)
    r.raise_for_status()
    result: list[dict[str, Any]] = r.json()
    return result


def test_kabkota_operator_sees_and_acts_for_kota_kediri_only(
    stack: Stack, browser: Callable[..., Any], screenshots: Callable[[Any, str], Any]
) -> None:
    page = browser()
    sign_in(page, stack, OPERATOR_KEDIRI)
    seen = tour(page, stack, "operator-kota-kediri", screenshots)
    assert "Kota Kediri" in seen["kesiapan"] and "Mojoroto" in seen["kesiapan"]
    assert "Peta petak provinsi" not in seen["kesiapan"] and "Bulungan" not in seen["kesiapan"]
    assert "35.71" not in seen["kesiapan"]  # names, not codes
    # another kab/kota is not reachable by editing the address: the page stays at home
    page.goto(f"{stack.console}/kesiapan?region=65.01")
    assert "Bulungan" not in page.locator("main").inner_text()
    # reports: only its own row, in its local time
    assert "Kota Kediri" in seen["laporan"] and "Kabupaten Bangkalan" not in seen["laporan"]
    # alerts of Kota Kediri, with the actions an operator may take
    page.goto(f"{stack.console}/peringatan")
    cards = page.locator("article.alert:visible")  # the recently resolved ones are folded away
    assert cards.count() >= 1
    assert all("Kota Kediri" in t or "Kediri" in t for t in cards.all_inner_texts())
    assert page.locator("article.alert form[action$='/acknowledge']").count() >= 1
    # acknowledge one of them and mute it until it resolves: no reminders either
    card = page.locator("article.alert:visible:has(button[value=mute])").first
    fp = card.get_attribute("data-fingerprint")
    card.locator("button[value=mute]").click()
    page.wait_for_url(re.compile(r".*ok=mute"))
    assert "sampai selesai" in page.locator("p.msg.ok").inner_text()
    muted = next(a for a in api_alerts(stack, OPERATOR_KEDIRI) if a["fingerprint"] == fp)
    assert muted["status"] == "acknowledged" and muted["ack_until_resolved"] is True


def test_province_organiser_sees_every_kabkota_of_jawa_timur(
    stack: Stack, browser: Callable[..., Any], screenshots: Callable[[Any, str], Any]
) -> None:
    page = browser()
    sign_in(page, stack, ORGANISER_JATIM)
    seen = tour(page, stack, "organiser-jawa-timur", screenshots)
    assert "Jawa Timur" in seen["kesiapan"] and "Kota Kediri" in seen["kesiapan"]
    assert "Kalimantan Utara" not in seen["kesiapan"]
    page.goto(f"{stack.console}/laporan")
    for state in ("reported", "late", "overdue"):  # on time, late, never: each has kab/kota in it
        assert not page.locator(f".badge.c-{state}").inner_text().endswith(": 0"), state
    assert "Kabupaten Bangkalan" in seen["laporan"] and "WIB" in seen["laporan"]
    assert "Rekap (Anev) dibanding periode sebelumnya" in seen["laporan"]
    assert "Rakoor Bawaslu Jatim" in seen["rakor"] and "3.a" in seen["rakor"]
    # overdue items first: the first owner listed has overdue items
    page.goto(f"{stack.console}/rakor")
    assert "lewat tenggat" in page.locator("details.group").first.inner_text()
    # English on request, remembered
    page.goto(f"{stack.console}/laporan?lang=en")
    assert "Periodic reports" in page.locator("main").inner_text()
    page.goto(f"{stack.console}/peringatan")
    assert "Open alerts" in page.locator("main").inner_text()
    screenshots(page, "organiser-jawa-timur-peringatan-en")


def test_bawaslu_reads_but_is_offered_no_action_and_the_api_refuses_one(
    stack: Stack, browser: Callable[..., Any], screenshots: Callable[[Any, str], Any]
) -> None:
    page = browser()
    sign_in(page, stack, BAWASLU_KEDIRI)
    seen = tour(page, stack, "bawaslu-kota-kediri", screenshots)
    assert "hanya baca" in page.locator("header.top").inner_text()
    page.goto(f"{stack.console}/peringatan")
    cards = page.locator("article.alert")
    assert cards.count() >= 1, seen["peringatan"]
    assert page.locator("article.alert form").count() == 0  # nothing offered
    # a hand-made POST (with a valid CSRF field) is refused by the notifications API all the same
    fp = cards.first.get_attribute("data-fingerprint")
    csrf = page.locator("header.top input[name=csrf]").get_attribute("value")
    before = {a["fingerprint"]: a["status"] for a in api_alerts(stack, NATIONAL_DESK)}
    r = page.request.post(
        f"{stack.console}/peringatan/{fp}/acknowledge",
        form={"csrf": csrf, "comment": "coba"},
        max_redirects=0,
    )
    assert r.status == 303 and "err=forbidden" in r.headers["location"]
    assert {a["fingerprint"]: a["status"] for a in api_alerts(stack, NATIONAL_DESK)}[fp] == before[fp]
    # without the CSRF field nothing is even tried
    r = page.request.post(f"{stack.console}/peringatan/{fp}/acknowledge", form={"csrf": "x"}, max_redirects=0)
    assert "err=csrf" in r.headers["location"]


def test_national_desk_drills_down_and_acknowledges_an_alert(
    stack: Stack, browser: Callable[..., Any], screenshots: Callable[[Any, str], Any]
) -> None:
    page = browser()
    sign_in(page, stack, NATIONAL_DESK)
    seen = tour(page, stack, "desk-nasional", screenshots)
    # the tile map: every province, the ones with plans coloured
    assert page.locator("svg.tiles rect").count() == 0  # (tour ended on peringatan)
    page.goto(f"{stack.console}/kesiapan")
    assert page.locator("svg.tiles rect").count() == 38
    assert page.locator("svg.tiles rect.t-none").count() == 36
    assert "sungai" in seen["kesiapan"] and "Peso" in seen["kesiapan"] and " jam" in seen["kesiapan"]
    # national → province → kab/kota → kecamatan
    page.click("table.rows a:text('Kalimantan Utara')")
    page.click("table.rows a:text('Kabupaten Bulungan')")
    assert "Peso" in page.locator("table.rows").first.inner_text()
    page.click("table.rows a:text('Tanjung Selor')")
    assert "TPS" in page.locator("main").inner_text()
    screenshots(page, "desk-nasional-kesiapan-kecamatan")
    assert [a.inner_text() for a in page.locator("nav.trail a").all()] == [
        "Indonesia",
        "Kalimantan Utara",
        "Kabupaten Bulungan",
    ]

    # acknowledge, from the page, the firing alert whose next escalation is due soonest
    firing = [a for a in api_alerts(stack, NATIONAL_DESK, status="firing") if a["esc"].get("next_due_at")]
    target = min(firing, key=lambda a: str(a["esc"]["next_due_at"]))
    fp, step = target["fingerprint"], target["esc"]["step"]
    due = datetime.fromisoformat(target["esc"]["next_due_at"])
    page.goto(f"{stack.console}/peringatan")
    page.locator("details.more").evaluate_all("els => els.forEach(e => { e.open = true; })")
    card = page.locator(f"article.alert[data-fingerprint='{fp}']")
    card.locator("input[name=comment]").fill("Ditangani; perahu lewat jalur darat")
    card.locator("button[value=acknowledge]").click()
    page.wait_for_url(re.compile(r".*ok=acknowledge"))
    assert "Peringatan dikonfirmasi; eskalasi berhenti." in page.locator("main").inner_text()
    page.locator("details.more").evaluate_all("els => els.forEach(e => { e.open = true; })")
    acked = page.locator(f"article.alert[data-fingerprint='{fp}']")
    assert acked.locator("[data-testid=status]").inner_text() == "dikonfirmasi"
    assert acked.locator("[data-testid=stopped]").count() == 1
    assert acked.locator("form[action$='/acknowledge']").count() == 0  # no second acknowledgement offered
    acked.locator("details.history summary").click()
    assert "dikonfirmasi oleh kemendagri-national-admin" in acked.locator("ol.hist").inner_text()
    screenshots(page, "desk-nasional-peringatan-acknowledged")

    # the escalation stops: once the services' clock is well past the step that was due, none happened
    clock = stack.clock()
    guard = time.monotonic() + 60
    while clock.now() < due + timedelta(minutes=30) and time.monotonic() < guard:
        time.sleep(0.2)
    alert = next(a for a in api_alerts(stack, NATIONAL_DESK) if a["fingerprint"] == fp)
    assert alert["status"] == "acknowledged" and alert["acknowledged_by"] == "kemendagri-national-admin"
    assert alert["ack_comment"] == "Ditangani; perahu lewat jalur darat"
    assert alert["esc"]["next_due_at"] is None and alert["esc"]["step"] == step
    actions = [h["action"] for h in alert["history"]]
    assert "escalated" not in actions[actions.index("acknowledged") :], actions


def test_phone_width_every_view_fits_390_px(
    stack: Stack, browser: Callable[..., Any], screenshots: Callable[[Any, str], Any]
) -> None:
    page = browser(width=390, height=844)
    sign_in(page, stack, ORGANISER_JATIM)
    for slug in VIEWS:
        page.goto(f"{stack.console}/{slug}")
        screenshots(page, f"phone-390-{slug}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 390, (slug, overflow)
    # the first screen of Peringatan already shows an action
    page.goto(f"{stack.console}/peringatan")
    assert page.locator("article.alert button").first.is_visible()


def test_live_update_without_a_reload(stack: Stack, browser: Callable[..., Any]) -> None:
    page = browser()
    sign_in(page, stack, ORGANISER_JATIM)
    page.goto(f"{stack.console}/peringatan")
    page.wait_for_selector("#live-state.on")
    firing = [a for a in api_alerts(stack, ORGANISER_JATIM, status="firing") if a.get("region")]
    target = firing[0]["fingerprint"]
    page.evaluate("() => { window.__notReloaded = true; }")
    r = httpx.post(
        f"{stack.url('notifications')}/alerts/{target}/acknowledge",
        json={"comment": "dari API"},
        headers=auth(ORGANISER_JATIM),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    selector = f"article.alert[data-fingerprint='{target}'] [data-testid=status]"
    page.wait_for_function(
        "s => document.querySelector(s) && document.querySelector(s).textContent === 'dikonfirmasi'",
        arg=selector,
        timeout=30_000,
    )
    assert page.evaluate("() => window.__notReloaded") is True
