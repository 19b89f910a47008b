"""The real Mastodon.py client and the channel's adapter against the Mastodon emulator on
127.0.0.1: direct messages out and in, polling with a cursor, the stream, and Mastodon's
answers (429, 5xx, a block, a deleted account, no token) as send outcomes."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
import requests
from mastodon import Mastodon, MastodonUnauthorizedError

from channels.adapter import ChannelAdapter
from channels.outcomes import GiveUp, PauseChannel, RetryAfter, Sent
from connectors.mastodon import stream
from connectors.mastodon.adapter import PAGE, MastodonAdapter
from connectors.mastodon.payloads import parse_status

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def adapter(settings) -> MastodonAdapter:
    return await MastodonAdapter.connect(settings)


def test_without_a_token_the_api_answers_401(emulator):
    assert requests.get(f"{emulator.base_url}/api/v1/notifications", timeout=5).status_code == 401
    wrong = Mastodon(access_token="wrong", api_base_url=emulator.base_url)
    with pytest.raises(MastodonUnauthorizedError):
        wrong.account_verify_credentials()
    assert requests.get(f"{emulator.base_url}/api/v1/streaming/user",
                        timeout=5).status_code == 401


async def test_connect_lets_strangers_private_messages_through(emulator, settings):
    before = emulator.dm("alice", "Bonjour")
    assert before["filtered"]  # Mastodon >= 4.3's default policy
    adapter = await MastodonAdapter.connect(settings)
    assert isinstance(adapter, ChannelAdapter)
    assert (adapter.account_acct, adapter.max_characters) == ("permanence", 500)
    assert adapter.streaming_url == emulator.base_url
    after = emulator.dm("bob", "Bonjour")
    assert not after["filtered"]
    rows, _ = await adapter.poll(None, None)
    assert [row.payload["status_id"] for row in rows] == [after["status_id"]]


async def test_a_direct_message_goes_to_the_person_in_reply_to_their_last_status(
        emulator, adapter):
    emulator.dm("alice", "Premier message")
    last = emulator.dm("alice", "J'ai une question")
    rows, _ = await adapter.poll(None, None)
    person = rows[-1].sender_id
    assert rows[-1].payload["text"] == "J'ai une question"
    delivery = await adapter.send(person, "Je suis un assistant automatisé.\n\n1. Oui\n2. Non")
    assert isinstance(delivery.outcome, Sent) and delivery.status == 200
    assert int(delivery.headers["X-RateLimit-Remaining"]) < 300
    [sent] = emulator.sent()
    assert sent["id"] == delivery.outcome.platform_id
    assert sent["text"] == ("@alice@avocats.social Je suis un assistant automatisé.\n\n"
                            "1. Oui\n2. Non")
    assert (sent["visibility"], sent["in_reply_to_id"]) == ("direct", last["status_id"])
    assert sent["mentions"] == ["alice@avocats.social"]
    # The account's own status, read back as Mastodon serves it, is an echo.
    assert adapter.is_own_echo(parse_status(sent["status"]))


async def test_long_turns_are_accepted_by_the_instance_for_the_longest_handle(
        emulator, adapter):
    emulator.dm("a" * 30, "Bonjour", domain="un-tres-long-nom-d-instance.example")
    rows, _ = await adapter.poll(None, None)
    texts = adapter.render([{"text": "Une phrase du récit de la personne. " * 60}])
    assert len(texts) > 3
    for text in texts:
        delivery = await adapter.send(rows[0].sender_id, text)
        assert isinstance(delivery.outcome, Sent), delivery


async def test_polling_with_a_cursor_reads_each_message_once_in_order(emulator, adapter):
    _, cursor = await adapter.poll(None, None)  # nothing yet: the cursor is pinned all the same
    written = [emulator.dm(f"p{i % 3}", f"message {i}")["status_id"] for i in range(PAGE + 5)]
    seen, rounds = [], 0
    while True:
        rows, cursor = await adapter.poll(None, cursor)
        rounds += 1
        if not rows:
            break
        seen.extend(row.payload["status_id"] for row in rows)
    assert seen == written and rounds == 3
    emulator.dm("p1", "encore un")
    rows, cursor = await adapter.poll(None, cursor)
    assert [row.payload["text"] for row in rows] == ["encore un"]
    assert (await adapter.poll(None, cursor))[0] == []


async def test_polling_reads_mentions_and_the_watched_hashtag(emulator, adapter):
    _, cursor = await adapter.poll(None, None)
    mention = emulator.control("post", {"username": "carla", "visibility": "public",
                                        "text": "@permanence une question publique"})
    tagged = emulator.control("post", {"username": "dan", "visibility": "public",
                                       "text": "Qui peut m'aider ? #PermanenceJuridique"})
    emulator.control("post", {"username": "eve", "visibility": "public", "text": "rien"})
    rows, cursor = await adapter.poll(None, cursor)
    assert [(r.payload["status_id"], r.payload["kind"]) for r in rows] == [
        (mention["status_id"], "mention"), (tagged["status_id"], "hashtag")]
    assert json.loads(cursor)["t"]["permanencejuridique"] == tagged["status_id"]
    assert (await adapter.poll(None, cursor))[0] == []


async def test_the_invitation_answers_a_mention_unlisted(emulator, adapter):
    emulator.control("post", {"username": "carla", "visibility": "public",
                              "text": "@permanence mon voisin me menace"})
    rows, _ = await adapter.poll(None, None)
    statuses = [parse_status(n["status"]) for n in
                Mastodon(access_token=adapter.settings.access_token,
                         api_base_url=emulator.base_url).notifications()]
    delivery = await adapter.invite(statuses[0], "unlisted")
    assert isinstance(delivery.outcome, Sent)
    [sent] = emulator.sent()
    assert sent["visibility"] == "unlisted" and sent["in_reply_to_id"] == rows[0].payload[
        "status_id"]
    assert "voisin" not in sent["text"] and sent["text"].startswith("@carla ")


async def test_the_stream_delivers_notifications_and_reconnects(emulator, adapter):
    events = stream.notifications(adapter.streaming_url, adapter.settings.access_token,
                                  backoff_seconds=0.05)
    try:
        assert await anext(events) == ("connected", None)
        written = emulator.dm("alice", "Par le flux")
        event, payload = await asyncio.wait_for(anext(events), 10)
        assert event == "notification"
        [row] = adapter.parse_webhook(json.dumps(payload).encode())
        assert (row.event_id, row.payload["text"]) == (f"dm:{written['status_id']}",
                                                       "Par le flux")
        assert emulator.control("stream", {"drop": True})["dropped"] == 1
        assert await asyncio.wait_for(anext(events), 10) == ("connected", None)
    finally:
        await events.aclose()


async def test_a_stream_that_keeps_failing_sends_the_caller_to_polling(emulator, adapter):
    emulator.control("stream", {"refuse": True})
    events = stream.notifications(adapter.streaming_url, adapter.settings.access_token,
                                  backoff_seconds=0.01, max_failures=3)
    with pytest.raises(stream.StreamUnavailable):
        await anext(events)
    refused = [r for r in emulator.control("requests")["requests"]
               if r["path"] == "/api/v1/streaming/user/notification"]
    assert [r["status"] for r in refused] == [503, 503, 503]
    wrong = stream.notifications(adapter.streaming_url, "wrong", max_failures=5)
    with pytest.raises(stream.StreamUnavailable, match="401"):
        await anext(wrong)


async def _person(emulator, adapter, username="alice"):
    emulator.dm(username, "Bonjour")
    rows, _ = await adapter.poll(None, None)
    return rows[-1].sender_id


async def test_the_statuses_limit_pauses_the_channel_until_mastodons_reset(emulator, adapter):
    person = await _person(emulator, adapter)
    emulator.control("rate_limits", {"limits": {"statuses": 1}, "reset": True})
    first = await adapter.send(person, "un")
    assert isinstance(first.outcome, Sent)
    second = await adapter.send(person, "deux")
    assert isinstance(second.outcome, PauseChannel) and second.status == 429
    reset = datetime.fromisoformat(second.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert second.headers["X-RateLimit-Remaining"] == "0"
    # Mastodon.py moves the reset by the gap between the server's Date and the local clock
    # (whole seconds in the Date header).
    assert abs((second.outcome.until - reset).total_seconds()) <= 1.5
    assert second.outcome.until > datetime.now(timezone.utc)
    assert len(emulator.sent()) == 1


async def test_an_injected_429_pauses_until_its_reset(emulator, adapter):
    person = await _person(emulator, adapter)
    emulator.control("fail", {"status": 429, "acct": "alice@avocats.social", "reset_in": 600})
    delivery = await adapter.send(person, "un")
    assert isinstance(delivery.outcome, PauseChannel)
    assert 590 < (delivery.outcome.until - datetime.now(timezone.utc)).total_seconds() <= 602


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retried(emulator, adapter, status):
    person = await _person(emulator, adapter)
    emulator.control("fail", {"status": status, "acct": "alice@avocats.social"})
    delivery = await adapter.send(person, "un")
    assert delivery.outcome == RetryAfter(None, str(status)) and delivery.status == status
    assert isinstance((await adapter.send(person, "un")).outcome, Sent)


async def test_a_person_who_blocked_the_account_is_given_up(emulator, adapter):
    person = await _person(emulator, adapter)
    emulator.control("block", {"acct": "alice@avocats.social"})
    delivery = await adapter.send(person, "un")
    assert isinstance(delivery.outcome, GiveUp) and delivery.outcome.reason_code == "404"
    assert "bloqué" in delivery.outcome.french_reason
    assert emulator.sent() == []


async def test_a_deleted_account_unknown_to_this_process_is_given_up(emulator, settings):
    first = await MastodonAdapter.connect(settings)
    written = emulator.dm("alice", "Bonjour")
    rows, _ = await first.poll(None, None)
    assert rows[-1].sender_id == written["account_id"]
    emulator.control("block", {"acct": "alice@avocats.social", "blocked": False, "gone": True})
    restarted = await MastodonAdapter.connect(settings)  # knows nobody: looks the person up
    delivery = await restarted.send(written["account_id"], "un")
    assert isinstance(delivery.outcome, GiveUp) and delivery.outcome.reason_code == "410"
    assert "n'existe plus" in delivery.outcome.french_reason
    assert emulator.sent() == []


async def test_a_restarted_process_still_reaches_a_known_account(emulator, settings):
    adapter = await MastodonAdapter.connect(settings)
    emulator.dm("alice", "Bonjour")
    rows, _ = await adapter.poll(None, None)
    restarted = await MastodonAdapter.connect(settings)
    delivery = await restarted.send(rows[-1].sender_id, "Suite")
    assert isinstance(delivery.outcome, Sent)
    [sent] = emulator.sent()
    assert sent["text"] == "@alice@avocats.social Suite" and sent["in_reply_to_id"] is None
