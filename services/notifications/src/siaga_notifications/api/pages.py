"""The small HTML pages of the acknowledge links: plain HTML and a form, no script, Indonesian by
default (English for a recipient who reads English)."""

from __future__ import annotations

import html
from typing import Any

from fastapi.responses import HTMLResponse

from ..domain.labels import region_name
from ..domain.render import summary_of

__all__ = ["confirm_page", "done_page", "refusal_page"]

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never pass it on
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}

_TEXT: dict[str, dict[str, str]] = {
    "id": {
        "title": "Konfirmasi peringatan",
        "national": "Nasional",
        "hello": "Untuk {who}.",
        "region": "Wilayah",
        "status": "Status",
        "firing": "aktif, menunggu konfirmasi",
        "acknowledged": "sudah dikonfirmasi oleh {who}",
        "resolved": "selesai",
        "ask": "Tekan salah satu tombol untuk mengonfirmasi. Eskalasi ke tingkat berikutnya akan dihentikan.",
        "ack": "Konfirmasi",
        "mute": "Konfirmasi dan bisukan sampai selesai",
        "mute_note": "Bisukan sampai selesai: tidak ada pengingat lagi sampai peringatan ini selesai. "
        "Jika muncul lagi setelah selesai, Anda akan diberi tahu lagi.",
        "done_ack": "Terima kasih, {who}. Peringatan ini sudah Anda konfirmasi; eskalasinya dihentikan.",
        "done_mute": "Terima kasih, {who}. Peringatan ini sudah Anda konfirmasi dan dibisukan sampai selesai.",
        "forged": "Tautan tidak sah. Tautan ini tidak dibuat oleh Siaga atau sudah diubah. Tidak ada yang berubah.",
        "expired": "Tautan sudah kedaluwarsa. Tidak ada yang berubah. Konfirmasi lewat pesan yang lebih baru "
        "atau lewat konsol Siaga.",
        "used": "Tautan ini sudah dipakai dan hanya berlaku sekali. Tidak ada yang berubah lagi.",
        "stale": "Peringatan ini sudah selesai atau sudah berganti. Tidak ada yang berubah.",
        "nothing": "Peringatan ini sudah dikonfirmasi sebelumnya. Tidak ada yang berubah.",
    },
    "en": {
        "title": "Acknowledge an alert",
        "national": "National",
        "hello": "For {who}.",
        "region": "Region",
        "status": "Status",
        "firing": "firing, waiting for an acknowledgement",
        "acknowledged": "acknowledged by {who}",
        "resolved": "resolved",
        "ask": "Press one of the buttons to acknowledge. The escalation to the next level stops.",
        "ack": "Acknowledge",
        "mute": "Acknowledge and mute until resolved",
        "mute_note": "Mute until resolved: no more reminders until this alert resolves. If it fires again "
        "after that, you will be told again.",
        "done_ack": "Thank you, {who}. You acknowledged this alert; its escalation stopped.",
        "done_mute": "Thank you, {who}. You acknowledged this alert and muted it until it resolves.",
        "forged": "Invalid link. Siaga did not make it, or it was altered. Nothing changed.",
        "expired": "This link has expired. Nothing changed. Acknowledge from a newer message or the Siaga "
        "console.",
        "used": "This link was used already and works only once. Nothing changed.",
        "stale": "This alert has resolved or fired anew since. Nothing changed.",
        "nothing": "This alert was acknowledged before. Nothing changed.",
    },
}

BODY_STYLE = "font-family:sans-serif;max-width:36em;margin:1em auto;padding:0 1em;line-height:1.4"
BUTTON_STYLE = "font-size:1em;padding:.6em 1em;margin:.3em 0;width:100%"


def text(language: str) -> dict[str, str]:
    return _TEXT.get(language, _TEXT["id"])


def _page(language: str, body: str, status: int) -> HTMLResponse:
    t = text(language)
    doc = (
        f'<!doctype html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(t['title'])} · Siaga</title></head>"
        f'<body style="{BODY_STYLE}"><h1>{html.escape(t["title"])}</h1>{body}</body></html>'
    )
    return HTMLResponse(doc, status_code=status, headers=HEADERS)


def _alert_block(alert: dict[str, Any], language: str) -> str:
    t = text(language)
    status = alert.get("status", "firing")
    shown = t.get(status, status).format(who=alert.get("acknowledged_by") or "")
    place = region_name(alert.get("region"), national=t["national"])
    return (
        f"<p><strong>{html.escape(summary_of(alert, language))}</strong></p>"
        f"<p>{html.escape(t['region'])}: {html.escape(place)}<br>"
        f"{html.escape(t['status'])}: {html.escape(shown)}</p>"
    )


def confirm_page(alert: dict[str, Any], who: str, language: str) -> HTMLResponse:
    """The page a GET shows: what the alert is, and a form whose POST acknowledges (a link scanner that
    only fetches the page changes nothing)."""
    t = text(language)
    buttons = ""
    if alert.get("status") == "firing":
        buttons += f'<button style="{BUTTON_STYLE}" type="submit" name="mode" value="ack">{html.escape(t["ack"])}</button>'
    if not alert.get("ack_until_resolved"):
        buttons += f'<button style="{BUTTON_STYLE}" type="submit" name="mode" value="until_resolved">{html.escape(t["mute"])}</button>'
    body = (
        f"<p>{html.escape(t['hello'].format(who=who))}</p>{_alert_block(alert, language)}"
        f'<p>{html.escape(t["ask"])}</p><form method="post">{buttons}</form>'
        f"<p><small>{html.escape(t['mute_note'])}</small></p>"
    )
    return _page(language, body, 200)


def done_page(alert: dict[str, Any], who: str, language: str, *, until_resolved: bool) -> HTMLResponse:
    t = text(language)
    said = t["done_mute" if until_resolved else "done_ack"].format(who=who)
    return _page(language, f"<p>{html.escape(said)}</p>{_alert_block(alert, language)}", 200)


def refusal_page(reason: str, language: str = "id", alert: dict[str, Any] | None = None) -> HTMLResponse:
    """A clear page for a link that cannot be used (forged 403, expired or stale 410, used 409)."""
    status = {"forged": 403, "expired": 410, "stale": 410, "used": 409, "nothing": 409}[reason]
    block = _alert_block(alert, language) if alert is not None else ""
    return _page(language, f"<p>{html.escape(text(language)[reason])}</p>{block}", status)
