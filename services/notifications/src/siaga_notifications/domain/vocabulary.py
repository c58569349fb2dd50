"""Words for the codes events carry (items, transport modes, discrepancy kinds), for messages to people."""

from __future__ import annotations

__all__ = ["word"]

_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "id": {
        "item": {
            "ballot_box": "kotak suara",
            "voting_booth": "bilik suara",
            "ballot": "surat suara",
            "ink": "tinta",
            "seal": "segel",
            "marking_tool": "alat coblos",
            "forms_envelopes": "formulir dan sampul",
            "tps_kit": "perlengkapan TPS",
        },
        "mode": {
            "land": "darat",
            "river": "sungai",
            "sea": "laut",
            "air": "udara",
            "on_foot": "jalan kaki",
        },
        "category": {
            "short": "kurang",
            "damaged": "rusak",
            "wrong_type": "salah jenis",
            "wrong_destination": "salah tujuan",
        },
    },
    "en": {
        "item": {
            "ballot_box": "ballot boxes",
            "voting_booth": "voting booths",
            "ballot": "ballots",
            "ink": "ink",
            "seal": "seals",
            "marking_tool": "marking tools",
            "forms_envelopes": "forms and envelopes",
            "tps_kit": "polling station kits",
        },
        "mode": {"land": "road", "river": "river", "sea": "sea", "air": "air", "on_foot": "on foot"},
        "category": {
            "short": "short",
            "damaged": "damaged",
            "wrong_type": "wrong type",
            "wrong_destination": "wrong destination",
        },
    },
}


def word(language: str, kind: str, code: str | None) -> str:
    """The word for ``code`` (of ``kind``: item, mode, category) in ``language``; the code itself if unknown."""
    if code is None:
        return ""
    return _WORDS.get(language, _WORDS["id"]).get(kind, {}).get(code, code.replace("_", " "))
