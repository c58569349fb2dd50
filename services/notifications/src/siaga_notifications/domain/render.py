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
        "head_firing": "Aktif",
        "head_resolved": "Selesai",
        "step": "Eskalasi tingkat {n}",
        "footer": "Konfirmasi (acknowledge) lewat API Siaga: POST /alerts/{{fingerprint}}/acknowledge",
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
        "head_firing": "Firing",
        "head_resolved": "Resolved",
        "step": "Escalation level {n}",
        "footer": "Acknowledge through the Siaga API: POST /alerts/{{fingerprint}}/acknowledge",
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


def render(
    language: str,
    *,
    firing: list[dict[str, Any]],
    resolved: list[dict[str, Any]],
    region: str | None,
    step: int,
) -> tuple[str, str]:
    """``(title, body)`` of one notification about a group's firing and newly resolved alerts."""
    t = _TEXT.get(language, _TEXT["id"])
    alerts = firing or resolved
    top = max(
        (a["severity"] for a in alerts),
        key=lambda s: {"info": 0, "warning": 1, "critical": 2}.get(s, 1),
        default="info",
    )
    names = sorted({a["alertname"] for a in alerts})
    what = ", ".join(t["names"].get(n, n) for n in names)  # type: ignore[attr-defined]
    place = region_name(region, national=str(t["national"]))
    status = "[OK]" if not firing else f"[{t['severity'][top]}]"  # type: ignore[index]
    count = len(firing) if firing else len(resolved)
    title = f"{status} {count} {what} — {place}"
    lines: list[str] = []
    if step:
        lines += [str(t["step"]).format(n=step), ""]
    for head, items, key in (
        (t["head_firing"], firing, "firing"),
        (t["head_resolved"], resolved, "resolved"),
    ):
        if not items:
            continue
        lines.append(f"{head}: {str(t[key]).format(n=len(items))}")
        for a in items[:MAX_LISTED]:
            summary = a.get("summary", {}).get(language) or a.get("summary", {}).get("id", a["alertname"])
            lines.append(f"- {summary} [{a['fingerprint'][:12]}]")
        if len(items) > MAX_LISTED:
            lines.append(str(t["more"]).format(n=len(items) - MAX_LISTED))
        lines.append("")
    lines.append(str(t["footer"]))
    return title[:300], "\n".join(lines)[:8000]
