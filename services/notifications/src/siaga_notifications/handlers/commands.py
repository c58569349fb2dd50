"""Commands from the API: silences, the contact directory, acknowledging and resolving alerts, and alerts
pushed by Prometheus Alertmanager. Each is one guarded write of one document; the API checks the caller's
scope before it calls them."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from siaga_runtime import Decision, Doc

from ..domain import alerts as rules
from ..domain.contacts import Contact
from ..domain.muting import Silence
from ..domain.routing import RoutingConfig
from ..domain.sources import AlertSignal
from ..repository import Stores

__all__ = [
    "acknowledge_alert",
    "claim_token",
    "deactivate_contact",
    "expire_silence",
    "put_contact",
    "receive_alert",
    "resolve_alert",
    "save_silence",
]


async def save_silence(stores: Stores, silence: Silence) -> Doc:
    state = {**silence.model_dump(mode="python"), "region": silence.region_prefix}
    stored, _ = await stores.silences.mutate(silence.silence_id, lambda d: Decision(state=state))
    assert stored is not None
    return stored


async def expire_silence(stores: Stores, silence_id: str, now: datetime) -> Doc | None:
    """Expire a silence now (a no-op for one already expired); None when it does not exist."""

    def expire(d: Doc | None) -> Decision:
        if d is None or d.get("expired_at") is not None:
            return Decision(state=None)
        return Decision(state={**d, "expired_at": now})

    stored, _ = await stores.silences.mutate(silence_id, expire)
    return stored


async def put_contact(stores: Stores, contact: Contact) -> Doc:
    state = contact.model_dump(mode="json")
    stored, _ = await stores.contacts.mutate(contact.contact_id, lambda d: Decision(state=state))
    assert stored is not None
    return stored


async def deactivate_contact(stores: Stores, contact_id: str) -> Doc | None:
    """Deactivate a contact (kept for the audit log); None when it does not exist."""

    def deactivate(d: Doc | None) -> Decision:
        return Decision(state=None) if d is None else Decision(state={**d, "active": False})

    stored, _ = await stores.contacts.mutate(contact_id, deactivate)
    return stored


async def acknowledge_alert(
    stores: Stores,
    fingerprint: str,
    now: datetime,
    by: str,
    comment: str | None,
    *,
    until_resolved: bool = False,
    via: str = "api",
    contact_id: str | None = None,
) -> Doc | None:
    """Acknowledge: stops the escalation chain (``until_resolved``: and mutes the reminders until it
    resolves)."""

    def ack(d: Doc | None) -> Decision:
        if d is None:
            return Decision(state=None)
        return rules.acknowledge(
            d, now, by, comment, until_resolved=until_resolved, via=via, contact_id=contact_id
        )

    stored, _ = await stores.alerts.mutate(fingerprint, ack)
    return stored


async def claim_token(stores: Stores, token_id: str, claim: dict[str, Any]) -> Doc | None:
    """Use a single-use token: the first write of its id wins (a guarded insert, so of two clicks at the
    same moment exactly one gets ``claim`` back as stored); None when someone used it before."""

    def take(d: Doc | None) -> Decision:
        return Decision(state=claim) if d is None else Decision(state=None)

    stored, _ = await stores.tokens.mutate(token_id, take)
    return stored if stored is not None and stored.get("nonce") == claim["nonce"] else None


async def resolve_alert(
    stores: Stores, fingerprint: str, now: datetime, by: str, comment: str | None
) -> Doc | None:
    stored, _ = await stores.alerts.mutate(
        fingerprint,
        lambda d: rules.resolve(d, now, by, "resolved by hand", comment) if d else Decision(state=None),
    )
    return stored


def _apply(doc: Doc | None, *, sig: AlertSignal, config: RoutingConfig, now: datetime) -> Decision:
    return rules.apply_signal(doc, sig, config, now, None, queue_joins=True)


async def receive_alert(
    stores: Stores, sig: AlertSignal, config: RoutingConfig, now: datetime, idempotency_key: str
) -> Doc | None:
    """An alert pushed from outside (Alertmanager): raised, updated or resolved once per push."""
    doc, _ = await stores.alerts.mutate(
        sig.fingerprint, partial(_apply, sig=sig, config=config, now=now), idempotency_key=idempotency_key
    )
    return doc
