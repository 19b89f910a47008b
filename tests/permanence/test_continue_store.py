"""Tokens and web sessions of the link to continue on the web chat (permanence/continue_store.py),
on SQLite and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from permanence import continue_link, erasure
from permanence.continue_link import Refused, Settings
from permanence.continue_store import ContinueStore, secret_hash

T0 = datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc)
SETTINGS = Settings(b"k" * 32, "https://chat.cabinet.fr", ttl_seconds=7200)
CONV = "x:4242"


@pytest.fixture
def store(fresh_database_url: str):
    opened = ContinueStore.create(fresh_database_url)
    yield opened
    opened.close()


def reason(store: ContinueStore, token: object, secret: str = "s1",
           now: datetime = T0, settings: Settings = SETTINGS) -> str:
    with pytest.raises(Refused) as refused:
        store.redeem(settings, token, secret, now)
    return refused.value.reason


def test_a_token_opens_its_conversation_once(store: ContinueStore) -> None:
    assert not store.offered(CONV)
    token = store.issue(SETTINGS, CONV, T0)
    assert token is not None and store.offered(CONV)
    assert store.issue(SETTINGS, CONV, T0) is None  # once per conversation
    assert store.redeem(SETTINGS, token.token, "secret-a", T0) == CONV
    assert store.session_conversation("secret-a") == CONV
    assert store.session_conversation("secret-b") is None
    # Reused: nothing, and no second session.
    assert reason(store, token.token, "secret-b") == continue_link.USED
    assert store.session_conversation("secret-b") is None


def test_every_refusal_opens_nothing(store: ContinueStore) -> None:
    token = store.issue(SETTINGS, CONV, T0)
    other = store.issue(SETTINGS, "x:4243", T0)
    assert token is not None and other is not None
    token_id, expires, signature = token.token.split(".")
    _, _, other_signature = other.token.split(".")
    assert reason(store, "not a token") == continue_link.MALFORMED
    assert reason(store, None) == continue_link.MALFORMED
    forged = continue_link.mint(b"z" * 32, CONV, T0)  # signed with another key, never issued
    assert reason(store, forged.token) == continue_link.UNKNOWN
    assert reason(store, f"{token_id}.{expires}.{other_signature}") == continue_link.SIGNATURE
    other_key = Settings(b"z" * 32, SETTINGS.base_url)
    assert reason(store, token.token, settings=other_key) == continue_link.SIGNATURE
    assert reason(store, token.token, now=T0 + timedelta(hours=2)) == continue_link.EXPIRED
    assert store.session_conversation("s1") is None
    # None of these consumed it.
    assert store.redeem(SETTINGS, token.token, "s2", T0 + timedelta(minutes=5)) == CONV


def test_two_concurrent_redeemers_one_wins(fresh_database_url: str) -> None:
    stores = [ContinueStore.create(fresh_database_url) for _ in range(4)]
    try:
        token = stores[0].issue(SETTINGS, CONV, T0)
        assert token is not None
        results: list[str] = []
        start = threading.Barrier(len(stores))

        def redeem(index: int) -> None:
            start.wait()
            try:
                results.append(stores[index].redeem(SETTINGS, token.token, f"s{index}", T0))
            except Refused as refused:
                results.append(refused.reason)

        threads = [threading.Thread(target=redeem, args=(i,)) for i in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(results) == sorted([CONV] + [continue_link.USED] * (len(stores) - 1))
        assert sum(stores[0].session_conversation(f"s{i}") == CONV
                   for i in range(len(stores))) == 1
    finally:
        for opened in stores:
            opened.close()


def test_erasure_leaves_no_trace(store: ContinueStore) -> None:
    erasure.register("continue_store", store.erase_conversation, prune=store.prune)
    token = store.issue(SETTINGS, CONV, T0)
    keep = store.issue(SETTINGS, "x:1", T0)
    assert token is not None and keep is not None
    store.redeem(SETTINGS, token.token, "secret-a", T0)
    done = erasure.erase_everywhere(CONV)
    assert done["continue_store"] == 2
    assert store.session_conversation("secret-a") is None
    assert not store.offered(CONV) and store.offered("x:1")
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT conversation_id FROM continue_token UNION ALL "
            "SELECT conversation_id FROM continue_session").scalars().all()
        hashes = connection.exec_driver_sql(
            "SELECT secret_hash FROM continue_session").scalars().all()
    assert rows == ["x:1"] and secret_hash("secret-a") not in hashes
    assert store.prune(T0 + timedelta(days=1)) == 1
    assert not store.offered("x:1")
