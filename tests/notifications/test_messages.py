"""Pure checks of what people read: every rendered template (notification texts, e-mail plain and HTML
parts, Telegram and WhatsApp messages, webhook actions, the link pages) has no leftover template braces
and no internal ids; and the acknowledge-link tokens refuse what they must."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from siaga_notifications.api.pages import confirm_page, done_page, refusal_page
from siaga_notifications.channels import ActionLinks, Outgoing
from siaga_notifications.channels.telegram import keyboard, telegram_text
from siaga_notifications.channels.text import actions_text, email_html
from siaga_notifications.channels.whatsapp import interactive
from siaga_notifications.domain import links
from siaga_notifications.domain.render import render
from siaga_notifications.domain.sources import RAISING, signal_for
from siaga_runtime.examples import example_of
from siaga_schemas import Envelope
from siaga_schemas.codec import registry

from .support import T0

SECRET = b"unit-test-ack-secret"
LANGUAGES = ("id", "en")


def _alerts() -> list[dict[str, Any]]:
    """One alert per raising event type, as the alert projection stores them (from the schemas' examples)."""
    out = []
    for event_type in sorted(RAISING):
        data = example_of(registry.model(event_type, 1))
        sig = signal_for(Envelope.wrap(data, source="/test", time=T0))
        assert sig is not None and sig.kind == "raise", event_type
        out.append(
            {
                "fingerprint": sig.fingerprint,
                "alert_id": f"alr-{sig.fingerprint[:20]}",
                "alertname": sig.alertname,
                "severity": sig.severity.value,
                "region": sig.region,
                "summary": sig.summary,
                "status": "firing",
                "chain_run": 0,
                "acknowledged_by": "Logistik KPU Bulungan",
                "ids": [v for k, v in sig.labels.items() if k.endswith("_id")],
            }
        )
    return out


def _no_braces_nor_ids(text: str, alerts: list[dict[str, Any]], where: str) -> None:
    assert "{" not in text and "}" not in text, f"{where}: leftover template braces in {text!r}"
    for a in alerts:
        assert a["fingerprint"] not in text and a["fingerprint"][:12] not in text, f"{where}: a fingerprint"
        for internal in a["ids"]:
            assert internal not in text, f"{where}: internal id {internal!r} in {text!r}"


def _message(alerts: list[dict[str, Any]], language: str, title: str, body: str) -> Outgoing:
    nid = "ntf-0123456789abcdef01234567"
    doc: dict[str, Any] = {
        "notification_id": nid,
        "status": "firing",
        "channel": "email",
        "contact_id": "ct-kpu-6501-log",
        "created_at": T0,
        "actions": [
            {"fingerprint": a["fingerprint"], "chain_run": 0, "label": a["summary"][language]} for a in alerts
        ],
    }
    actions = ActionLinks(SECRET, "http://siaga.test", 3600).for_delivery(doc)
    assert len(actions) == len(alerts)
    return Outgoing(nid, "x@y.test", title, body, language, {}, actions)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_rendered_template_has_no_braces_and_no_internal_ids(language: str) -> None:
    alerts = _alerts()
    assert {a["alertname"] for a in alerts} >= {"report-overdue", "shipment-delayed", "meeting-scheduled"}
    for a in alerts:
        for summary in a["summary"].values():
            _no_braces_nor_ids(summary, alerts, f"summary of {a['alertname']}")
    cases: dict[str, dict[str, list[dict[str, Any]]]] = {
        "firing": {"firing": alerts, "resolved": []},
        "resolved": {"firing": [], "resolved": alerts},
        "reminder": {"firing": [], "resolved": [], "acknowledged": alerts},
        "mixed": {"firing": alerts[:2], "resolved": alerts[2:4], "acknowledged": alerts[4:]},
    }
    for name, parts in cases.items():
        for step in (0, 2):
            for region in (None, "65.01"):
                title, body = render(language, region=region, step=step, **parts)
                where = f"{name} step {step} region {region}"
                _no_braces_nor_ids(title, alerts, where)
                _no_braces_nor_ids(body, alerts, where)
                message = _message(alerts, language, title, body)
                for channel_text in (actions_text(message), email_html(message), telegram_text(message)):
                    for act in message.actions:
                        channel_text = channel_text.replace(act.url, "<link>")
                    _no_braces_nor_ids(channel_text, alerts, where)
                wa = json.loads(json.dumps(interactive(message)))
                for value in _strings(wa):
                    _no_braces_nor_ids(re.sub(r"http://siaga\.test/\S+", "<link>", value), alerts, where)
                assert len(wa["action"]["buttons"]) == 3
                assert all(len(b["reply"]["title"]) <= 20 for b in wa["action"]["buttons"])
                markup = keyboard(message)
                assert markup is not None
                assert all(
                    len(b["callback_data"].encode()) <= 64 for row in markup["inline_keyboard"] for b in row
                )


def test_report_overdue_names_the_schedule_by_its_title_and_shipments_by_where_they_go() -> None:
    by_name = {a["alertname"]: a for a in _alerts()}
    report = by_name["report-overdue"]["summary"]["id"]
    assert "Laporan vidcon Selasa/Jumat" in report and "sch-" not in report
    delay = by_name["shipment-delayed"]["summary"]["id"]
    assert "shp-" not in delay and "ke " in delay


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_link_pages_have_no_braces_and_a_post_form(language: str) -> None:
    alert = _alerts()[0]
    pages = [
        confirm_page(alert, "Logistik KPU Bulungan", language),
        done_page(
            {**alert, "status": "acknowledged"}, "Logistik KPU Bulungan", language, until_resolved=True
        ),
        *(
            refusal_page(reason, language, alert)
            for reason in ("forged", "expired", "stale", "used", "nothing")
        ),
    ]
    for page in pages:
        text = bytes(page.body).decode()
        _no_braces_nor_ids(text, [alert], f"page {page.status_code}")
        assert (
            page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
        )
        assert "<script" not in text
    form = bytes(pages[0].body).decode()
    assert '<form method="post">' in form and 'value="until_resolved"' in form and 'value="ack"' in form
    assert [p.status_code for p in pages] == [200, 200, 403, 410, 410, 409, 409]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _claims(**kw: Any) -> links.LinkClaims:
    base = dict(
        token_id="tok-1",
        fingerprint="0123456789abcdef0123456789abcdef",
        chain_run=0,
        contact_id="ct-kpu-6501-log",
        expires_at=T0 + timedelta(hours=1),
    )
    return links.LinkClaims(**{**base, **kw})


def test_a_link_verifies_until_it_expires_and_binds_its_claims() -> None:
    token = links.issue(SECRET, _claims())
    assert links.verify(SECRET, token, T0) == _claims()
    with pytest.raises(links.LinkRefused) as refused:
        links.verify(SECRET, token, T0 + timedelta(hours=1))
    assert refused.value.reason is links.Refusal.EXPIRED


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature changed
        lambda t: links.issue(SECRET, _claims(contact_id="ct-other")).split(".")[0] + "." + t.split(".")[1],
        lambda t: links.issue(b"another-key", _claims()),
        lambda t: t.split(".")[0],
        lambda t: "garbage",
        lambda t: "a" * 2000 + "." + t.split(".")[1],
    ],
)
def test_a_forged_link_is_refused(forge: Any) -> None:
    token = links.issue(SECRET, _claims())
    with pytest.raises(links.LinkRefused) as refused:
        links.verify(SECRET, forge(token), T0)
    assert refused.value.reason is links.Refusal.FORGED


def test_links_of_a_delivery_are_per_alert_and_recipient_and_stable_across_retries() -> None:
    doc = {
        "notification_id": "ntf-1",
        "status": "firing",
        "channel": "email",
        "contact_id": "ct-a",
        "created_at": T0,
        "actions": [{"fingerprint": "f" * 32, "chain_run": 2, "label": "x"}],
    }
    signer = ActionLinks(SECRET, "http://siaga.test/", 60)
    [first] = signer.for_delivery(doc)
    assert signer.for_delivery(doc)[0].url == first.url  # a retried send carries the same link
    [other] = signer.for_delivery({**doc, "contact_id": "ct-b"})
    assert other.url != first.url
    claims = links.verify(SECRET, first.url.rsplit("/", 1)[1], T0)
    assert (claims.fingerprint, claims.chain_run, claims.contact_id) == ("f" * 32, 2, "ct-a")
    assert first.url.startswith("http://siaga.test/public/ack/")
    assert signer.for_delivery({**doc, "status": "resolved"}) == []


def test_the_access_log_shows_link_paths_without_their_token() -> None:
    import logging

    from siaga_notifications.redact import RedactTokens

    token = links.issue(SECRET, _claims())
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", f"/public/ack/{token}?x=1", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record)
    assert token not in record.getMessage() and "/public/ack/<token>?x=1" in record.getMessage()
