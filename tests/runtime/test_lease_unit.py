"""The lease rule, pure: who may write what, given the stored lease document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from siaga_runtime.lease import decide, release_write

T0 = datetime(2024, 11, 26, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)


def test_the_first_claim_inserts_epoch_one() -> None:
    w = decide(None, "sweep", "a", T0, TTL)
    assert w is not None and w.kind == "insert"
    assert w.doc == {"_id": "sweep", "holder": "a", "until": T0 + TTL, "epoch": 1, "_v": 1}


def test_a_valid_lease_of_another_holder_is_refused() -> None:
    stored = {"_id": "sweep", "holder": "a", "until": T0 + TTL, "epoch": 3, "_v": 7}
    assert decide(stored, "sweep", "b", T0 + timedelta(seconds=14), TTL) is None


def test_renewing_keeps_the_epoch_and_guards_on_the_version() -> None:
    stored = {"_id": "sweep", "holder": "a", "until": T0 + TTL, "epoch": 3, "_v": 7}
    later = T0 + timedelta(seconds=5)
    w = decide(stored, "sweep", "a", later, TTL)
    assert w is not None and w.kind == "update" and w.guard_v == 7
    assert (w.doc["epoch"], w.doc["until"], w.doc["_v"]) == (3, later + TTL, 8)


def test_an_expired_lease_is_taken_over_with_the_next_epoch() -> None:
    stored = {"_id": "sweep", "holder": "a", "until": T0 + TTL, "epoch": 3, "_v": 7}
    w = decide(stored, "sweep", "b", T0 + TTL, TTL)  # expiry is exclusive: at ``until`` it is over
    assert w is not None and (w.doc["holder"], w.doc["epoch"], w.guard_v) == ("b", 4, 7)


def test_a_holder_coming_back_after_its_expiry_gets_a_new_epoch() -> None:
    """It may have lost the lease in between: what it did under the old epoch is fenced off."""
    stored = {"_id": "sweep", "holder": "a", "until": T0 + TTL, "epoch": 3, "_v": 7}
    w = decide(stored, "sweep", "a", T0 + 2 * TTL, TTL)
    assert w is not None and w.doc["epoch"] == 4


def test_a_released_lease_is_free_at_once() -> None:
    stored = {"_id": "sweep", "holder": "a", "until": T0 + TTL, "epoch": 3, "_v": 7}
    r = release_write(stored, "a", 3)
    assert r is not None and r.doc["holder"] is None and r.doc["until"] is None and r.guard_v == 7
    w = decide(r.doc, "sweep", "b", T0 + timedelta(seconds=1), TTL)
    assert w is not None and (w.doc["holder"], w.doc["epoch"]) == ("b", 4)


def test_only_the_holder_of_that_epoch_may_release() -> None:
    stored = {"_id": "sweep", "holder": "b", "until": T0 + TTL, "epoch": 4, "_v": 8}
    assert release_write(stored, "a", 3) is None
    assert release_write(stored, "b", 3) is None
    assert release_write(None, "b", 4) is None


def test_naive_stored_times_are_read_as_utc() -> None:
    stored = {"_id": "sweep", "holder": "a", "until": (T0 + TTL).replace(tzinfo=None), "epoch": 1, "_v": 1}
    assert decide(stored, "sweep", "b", T0, TTL) is None
    assert decide(stored, "sweep", "b", T0 + TTL, TTL) is not None
