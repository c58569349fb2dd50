"""The words channels add around a rendered notification: the acknowledge links and the buttons."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from .base import Outgoing

__all__ = ["BUTTONS", "actions_html", "actions_text", "button_label", "email_html", "expiry_text"]

WIB = ZoneInfo("Asia/Jakarta")

_TEXT = {
    "id": {
        "intro": "Konfirmasi (acknowledge) dengan satu klik, lalu tekan tombol di halaman yang terbuka:",
        "link": "Konfirmasi",
        "expires": "Tautan hanya untuk Anda, sekali pakai, berlaku sampai {at} WIB.",
        "ack": "Konfirmasi",
        "mute": "Bisukan s/d selesai",
        "sil": "Bisukan 1 jam",
    },
    "en": {
        "intro": "Acknowledge with one click, then press the button on the page that opens:",
        "link": "Acknowledge",
        "expires": "The links are yours alone, single use, valid until {at} WIB.",
        "ack": "Acknowledge",
        "mute": "Mute until resolved",
        "sil": "Silence 1 h",
    },
}

BUTTONS = ("ack", "sil", "mute")
"""Button actions: acknowledge, silence the group for an hour, acknowledge and mute until resolved."""


def _t(language: str) -> dict[str, str]:
    return _TEXT.get(language, _TEXT["id"])


def button_label(language: str, action: str) -> str:
    return _t(language)[action]


def expiry_text(language: str, at: datetime) -> str:
    return _t(language)["expires"].format(at=at.astimezone(WIB).strftime("%d-%m-%Y %H:%M"))


def actions_text(message: Outgoing) -> str:
    """The plain-text block of acknowledge links (empty when there is nothing to acknowledge)."""
    if not message.actions:
        return ""
    t = _t(message.language)
    lines = [t["intro"]]
    for a in message.actions:
        lines += [f"- {a.label}", f"  {a.url}"]
    lines.append(expiry_text(message.language, message.actions[0].expires_at))
    return "\n".join(lines)


def actions_html(message: Outgoing) -> str:
    if not message.actions:
        return ""
    t = _t(message.language)
    items = "".join(
        f'<li>{html.escape(a.label)}<br><a href="{html.escape(a.url, quote=True)}">{html.escape(t["link"])}</a></li>'
        for a in message.actions
    )
    expires = html.escape(expiry_text(message.language, message.actions[0].expires_at))
    return f"<p>{html.escape(t['intro'])}</p><ul>{items}</ul><p><small>{expires}</small></p>"


def email_html(message: Outgoing) -> str:
    """The HTML part of an e-mail: the same text as the plain part, with the links as links."""
    paragraphs = "".join(
        f"<p>{'<br>'.join(html.escape(line) for line in block.splitlines())}</p>"
        for block in message.body.split("\n\n")
        if block.strip()
    )
    return (
        f'<!doctype html><html lang="{html.escape(message.language)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(message.title)}</title></head><body>"
        f'<h1 style="font-size:1.2em">{html.escape(message.title)}</h1>{paragraphs}{actions_html(message)}'
        "</body></html>"
    )
