"""Rendering of group notifications, in Indonesian (default) or English. Region names from the official list."""

from __future__ import annotations

from typing import Any

from .labels import region_name

__all__ = ["render"]

MAX_LISTED = 20

_TEXT = {
    "id": {
        "severity": {"critical": "KRITIS", "warning": "PERINGATAN", "info": "INFO"},
        "national": "Nasional",
        "firing": "{n} peringatan aktif",
        "resolved": "{n} peringatan selesai",
        "more": "... dan {n} lainnya",
        "acked": "{n} peringatan sudah dikonfirmasi, belum selesai",
        "head_firing": "Aktif",
        "head_resolved": "Selesai",
        "head_acked": "Pengingat",
        "reminder": "PENGINGAT",
        "step": "Eskalasi tingkat {n}",
        "acked_by": "dikonfirmasi oleh {who}",
        "names": {
            "shipment-delayed": "pengiriman terlambat",
            "shipment-discrepancy": "selisih logistik",
            "region-at-risk": "wilayah berisiko",
            "report-overdue": "laporan terlambat",
            "action-item-overdue": "tindak lanjut lewat tenggat",
            "action-item-assigned": "tugas baru",
            "meeting-scheduled": "undangan rakor",
        },
    },
    "en": {
        "severity": {"critical": "CRITICAL", "warning": "WARNING", "info": "INFO"},
        "national": "National",
        "firing": "{n} alerts firing",
        "resolved": "{n} alerts resolved",
        "more": "... and {n} more",
        "acked": "{n} alerts acknowledged, not yet resolved",
        "head_firing": "Firing",
        "head_resolved": "Resolved",
        "head_acked": "Reminder",
        "reminder": "REMINDER",
        "step": "Escalation level {n}",
        "acked_by": "acknowledged by {who}",
        "names": {
            "shipment-delayed": "shipments delayed",
            "shipment-discrepancy": "logistics discrepancies",
            "region-at-risk": "regions at risk",
            "report-overdue": "reports overdue",
            "action-item-overdue": "actions overdue",
            "action-item-assigned": "new actions",
            "meeting-scheduled": "meeting invitations",
        },
    },
}


def summary_of(alert: dict[str, Any], language: str) -> str:
    """An alert's one-line summary in ``language`` (Indonesian when there is none in it)."""
    summary = alert.get("summary") or {}
    return str(summary.get(language) or summary.get("id") or alert["alertname"])


def render(
    language: str,
    *,
    firing: list[dict[str, Any]],
    resolved: list[dict[str, Any]],
    region: str | None,
    step: int,
    acknowledged: list[dict[str, Any]] | None = None,
) -> tuple[str, str]:
    """``(title, body)`` of one notification about a group's firing, newly resolved and (in a reminder)
    acknowledged alerts. Alerts are named by their summaries (titles and region names, never ids)."""
    t = _TEXT.get(language, _TEXT["id"])
    acked = acknowledged or []
    alerts = firing or acked or resolved
    top = max(
        (a["severity"] for a in alerts),
        key=lambda s: {"info": 0, "warning": 1, "critical": 2}.get(s, 1),
        default="info",
    )
    names = sorted({a["alertname"] for a in alerts})
    what = ", ".join(t["names"].get(n, n) for n in names)  # type: ignore[attr-defined]
    place = region_name(region, national=str(t["national"]))
    if firing:
        status = f"[{t['severity'][top]}]"  # type: ignore[index]
    elif acked:
        status = f"[{t['reminder']}]"
    else:
        status = "[OK]"
    count = len(alerts)
    title = f"{status} {count} {what} — {place}"
    lines: list[str] = []
    if step:
        lines += [str(t["step"]).format(n=step), ""]
    for head, items, key in (
        (t["head_firing"], firing, "firing"),
        (t["head_acked"], acked, "acked"),
        (t["head_resolved"], resolved, "resolved"),
    ):
        if not items:
            continue
        lines.append(f"{head}: {str(t[key]).format(n=len(items))}")
        for a in items[:MAX_LISTED]:
            line = f"- {summary_of(a, language)}"
            if key == "acked" and a.get("acknowledged_by"):
                line += f" ({str(t['acked_by']).format(who=a['acknowledged_by'])})"
            lines.append(line)
        if len(items) > MAX_LISTED:
            lines.append(str(t["more"]).format(n=len(items) - MAX_LISTED))
        lines.append("")
    return title[:300], "\n".join(lines).rstrip("\n")[:8000]
