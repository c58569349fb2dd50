"""The Rakor page: meetings with attendance and numbered recommendations, action items by owner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .places import local_time, region_name

__all__ = ["ItemRow", "MeetingCard", "OwnerItems", "items_by_owner", "meeting_cards"]

INSTITUTIONS = {
    "kpu": "KPU",
    "bawaslu": "Bawaslu",
    "desk_pilkada": "Desk Pilkada",
    "forkopimda": "Forkopimda",
    "kemendagri": "Kemendagri",
    "ppk": "PPK",
    "pps": "PPS",
    "kpps": "KPPS",
}


def party_name(party: dict[str, Any]) -> str:
    """``{'institution': 'bawaslu', 'region': '35.71'}`` → ``Bawaslu Kota Kediri``."""
    inst = INSTITUTIONS.get(str(party.get("institution")), str(party.get("institution", "")))
    return f"{inst} {region_name(party.get('region'))}".strip()


@dataclass(frozen=True)
class Recommendation:
    ref: str
    text: str
    depth: int


@dataclass
class MeetingCard:
    meeting_id: str
    title: str
    organiser: str
    when: str
    mode: str
    status: str
    invited: int
    attendance: dict[str, list[str]]
    recommendations: list[Recommendation]


def meeting_cards(meetings: list[dict[str, Any]]) -> list[MeetingCard]:
    cards = []
    for m in meetings:
        region = m["organiser"]["region"]
        att: dict[str, list[str]] = {"present": [], "late": [], "absent": []}
        for e in m.get("attendance", []):
            att.setdefault(e["status"], []).append(party_name(e["party"]))
        recs = []
        for r in m.get("recommendations", []):
            recs.append(Recommendation(str(r["number"]), r["text"], 0))
            for sub in r.get("sub_items", []):
                recs.append(Recommendation(f"{r['number']}.{sub['letter']}", sub["text"], 1))
        cards.append(
            MeetingCard(
                meeting_id=m["meeting_id"],
                title=m["title"],
                organiser=party_name(m["organiser"]),
                when=local_time(m.get("starts_at"), region),
                mode=str(m.get("mode", "")),
                status=str(m.get("status", "scheduled")),
                invited=len(m.get("invited_parties", [])),
                attendance=att,
                recommendations=recs,
            )
        )
    return cards


@dataclass(frozen=True)
class ItemRow:
    title: str
    meeting: str
    ref: str
    due: str
    due_at: str
    status: str  # overdue, open, done, cancelled


@dataclass
class OwnerItems:
    owner: str
    overdue: int
    items: list[ItemRow] = field(default_factory=list)


_ORDER = {"overdue": 0, "open": 1, "done": 2, "cancelled": 3}


def _state(item: dict[str, Any]) -> str:
    """The item's status as the meetings service keeps it (its sweeps mark what is overdue)."""
    status = str(item.get("status", "open"))
    if status == "open" and item.get("overdue_at"):
        return "overdue"
    return status if status in _ORDER else "open"


def items_by_owner(items: list[dict[str, Any]], meeting_titles: dict[str, str]) -> list[OwnerItems]:
    """Action items per assignee; owners with overdue items first, and overdue items first within each."""
    owners: dict[str, OwnerItems] = {}
    for it in items:
        owner = party_name(it["assignee"])
        state = _state(it)
        group = owners.setdefault(owner, OwnerItems(owner, 0))
        group.overdue += state == "overdue"
        group.items.append(
            ItemRow(
                title=it["title"],
                meeting=meeting_titles.get(it["meeting_id"], it["meeting_id"]),
                ref=it["recommendation_ref"],
                due=local_time(it["due_at"], it["assignee"]["region"]),
                due_at=str(it["due_at"]),
                status=state,
            )
        )
    for g in owners.values():
        g.items.sort(key=lambda i: (_ORDER[i.status], i.due_at))
    return sorted(owners.values(), key=lambda g: (-g.overdue, g.owner))
