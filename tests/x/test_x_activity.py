"""The X Activity API on the wire (connectors/x/activity.py) and the chat parser
(payloads.encrypted_chats): pure, expectations computed by hand or from X's samples."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.x.activity import (
    AAA_END,
    BACKFILL_MAX_MINUTES,
    LineSplitter,
    LineTooLong,
    Resume,
    StreamLine,
    Subscription,
    Wanted,
    aaa_warning,
    create_body,
    parse_created,
    parse_stream_line,
    parse_subscriptions,
    plan_subscriptions,
    reconnect_delay,
    resume,
    stream_params,
    update_body,
    wanted_subscriptions,
)
from connectors.x.payloads import (
    EncryptedChat,
    MalformedPayload,
    encrypted_chats,
    is_xaa_envelope,
    parse_webhook,
)

FIXTURES = Path(__file__).parent / "fixtures"
CHAT = json.loads((FIXTURES / "xaa_chat_received_docs.json").read_text())
XAA_DM = json.loads((FIXTURES / "xaa_dm_received_docs.json").read_text())
ACCOUNT = CHAT["data"]["filter"]["user_id"]
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


# Subscriptions


def sub(subscription_id: str, event_type: str, user_id: str | None = "1",
        webhook_id: str | None = None) -> Subscription:
    return Subscription(subscription_id, event_type, user_id, webhook_id, None)


def test_wanted_and_bodies() -> None:
    wanted = wanted_subscriptions("1", "77")
    assert wanted == [Wanted("dm.received", "1", "77"), Wanted("post.mention.create", "1", "77")]
    assert create_body(wanted[0]) == {"event_type": "dm.received", "filter": {"user_id": "1"},
                                      "tag": "permanence", "webhook_id": "77"}
    assert "webhook_id" not in create_body(Wanted("dm.received", "1"))
    assert update_body("77") == {"webhook_id": "77"}
    with pytest.raises(MalformedPayload):
        wanted_subscriptions("../1", None)  # ids go into URL paths


@pytest.mark.parametrize(("wanted_webhook", "existing", "create", "update", "keep"), [
    (None, [], 2, [], []),
    # The stream: any subscription of the event and user serves it, webhook or not.
    (None, [sub("10", "dm.received", webhook_id="77"), sub("11", "post.mention.create")],
     0, [], ["10", "11"]),
    # Another user's subscription or another event type does not count.
    (None, [sub("10", "dm.received", user_id="2"), sub("11", "dm.sent")], 2, [], []),
    # A webhook: the same webhook is kept, another (or none) is updated to it.
    ("77", [sub("10", "dm.received", webhook_id="77"), sub("11", "post.mention.create")],
     0, [("11", "77")], ["10"]),
    ("77", [sub("10", "dm.received", webhook_id="66")], 1, [("10", "77")], []),
    # Duplicates on X are left alone, one is enough.
    ("77", [sub("10", "dm.received", webhook_id="77"), sub("12", "dm.received",
                                                             webhook_id="77")],
     1, [], ["10"]),
])
def test_plan(wanted_webhook, existing, create, update, keep) -> None:
    plan = plan_subscriptions(wanted_subscriptions("1", wanted_webhook), existing)
    assert len(plan.create) == create
    assert list(plan.update) == update
    assert [s.subscription_id for s in plan.keep] == keep
    assert plan.changes == create + len(update)


def test_parse_subscriptions_and_created_in_both_documented_shapes() -> None:
    item = {"subscription_id": "1976325569252868096", "event_type": "profile.update.bio",
            "filter": {"user_id": "2244994945"}, "tag": "t",
            "created_at": "2025-10-09T16:35:08.000Z", "webhook_id": "1976325569252868099"}
    expected = Subscription("1976325569252868096", "profile.update.bio", "2244994945",
                            "1976325569252868099", "t")
    assert parse_created({"data": item}) == expected  # quickstart.mdx
    assert parse_created({"data": {"subscription": item}}) == expected  # openapi.json
    listed = {"data": [item], "meta": {"total_subscriptions": 1, "next_token": "ABCDEFGH"}}
    assert parse_subscriptions(listed) == ([expected], "ABCDEFGH")
    assert parse_subscriptions({"meta": {"total_subscriptions": 0}}) == ([], None)
    for bad in ({"data": {}}, {"data": [{"event_type": "x"}]}, {"data": [{**item,
                "subscription_id": "1/2"}]}, [], {"data": [item], "meta": {"next_token": 3}}):
        with pytest.raises(MalformedPayload):
            parse_subscriptions(bad)


# The stream


def test_line_splitter_reassembles_lines_across_chunks() -> None:
    splitter = LineSplitter(64)
    assert splitter.feed(b'{"data":') == []
    assert splitter.feed(b'{}}\r\n\r\n{"da') == [b'{"data":{}}', b""]
    assert splitter.feed(b'ta":{}}\n') == [b'{"data":{}}']
    with pytest.raises(LineTooLong):
        splitter.feed(b"x" * 65)
    assert splitter.feed(b"\r\n") == [b""]  # the long line was dropped, the next one reads


def test_parse_stream_line() -> None:
    assert parse_stream_line(b"") == StreamLine("keep_alive")
    assert parse_stream_line(b"  ") == StreamLine("keep_alive")
    raw = json.dumps(XAA_DM).encode()
    assert parse_stream_line(raw) == StreamLine("event", XAA_DM)
    problem = {"errors": [{"title": "operational-disconnect",
                           "disconnect_type": "UpstreamOperationalDisconnect",
                           "detail": "This stream has been disconnected upstream.",
                           "type": "https://api.x.com/2/problems/operational-disconnect"}]}
    assert parse_stream_line(json.dumps(problem).encode()) == StreamLine(
        "error", problem="operational-disconnect")
    for bad in (b"{", b"[]", b'{"data": []}', b'{"meta": {}}', b"\xff"):
        with pytest.raises(MalformedPayload):
            parse_stream_line(bad)


def test_stream_params() -> None:
    assert stream_params(0) == {}
    assert stream_params(5) == {"backfill_minutes": "5"}
    with pytest.raises(ValueError):
        stream_params(BACKFILL_MAX_MINUTES + 1)


@pytest.mark.parametrize(("seen", "expected"), [
    (None, Resume(5, None)),  # first start: all X keeps (the first_start_seconds is 600)
    (NOW - timedelta(seconds=20), Resume(1, None)),
    (NOW - timedelta(seconds=50), Resume(1, None)),
    (NOW - timedelta(seconds=51), Resume(2, None)),  # 51 s + the 10 s margin
    (NOW - timedelta(minutes=4, seconds=50), Resume(5, None)),
    (NOW - timedelta(minutes=20), Resume(5, NOW - timedelta(minutes=20, seconds=10))),
    (NOW + timedelta(seconds=30), Resume(1, None)),  # a clock behind the stored moment
])
def test_resume(seen, expected) -> None:
    assert resume(seen, NOW, 600.0) == expected


def test_resume_first_start_asks_no_more_than_configured() -> None:
    assert resume(None, NOW, 90.0) == Resume(2, None)
    assert resume(None, NOW, 0.0) == Resume(0, None)


@pytest.mark.parametrize(("failure", "attempt", "kwargs", "delay"), [
    ("network", 0, {}, 0.0),  # a connection that had worked: at once
    ("network", 1, {}, 0.25),
    ("network", 4, {}, 1.0),
    ("network", 1000, {}, 16.0),
    ("http", 1, {}, 5.0),
    ("http", 3, {}, 20.0),
    ("http", 10, {}, 320.0),
    ("http", 2, {"http_first_seconds": 0.1}, 0.2),
    ("rate_limited", 1, {}, 60.0),
    ("rate_limited", 2, {}, 120.0),
    ("rate_limited", 1, {"reset_in": 400.0}, 400.0),  # never before X's reset
    ("rate_limited", 50, {}, 900.0),
])
def test_reconnect_delay(failure, attempt, kwargs, delay) -> None:
    assert reconnect_delay(failure, attempt, **kwargs) == delay


def test_aaa_warning_from_its_end_of_life() -> None:
    assert aaa_warning(AAA_END - timedelta(seconds=1)) is None
    assert "2027-01-01" in aaa_warning(AAA_END)
    paris_new_year = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert aaa_warning(paris_new_year) is None  # still 2026 in UTC, X's date


# Encrypted X Chat


def test_chat_received_from_the_docs_is_counted_not_read() -> None:
    assert is_xaa_envelope(CHAT) and not is_xaa_envelope({"for_user_id": "1"})
    assert encrypted_chats(CHAT, ACCOUNT) == [EncryptedChat(
        "e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6", 1784841183370)]
    assert parse_webhook(CHAT, ACCOUNT) == []  # nothing to answer
    assert encrypted_chats(CHAT, "42") == []  # another account's
    assert encrypted_chats(XAA_DM, ACCOUNT) == []
    sent = copy.deepcopy(CHAT)
    sent["data"]["payload"]["sender_id"] = ACCOUNT
    assert encrypted_chats(sent, ACCOUNT) == []
    without_id = copy.deepcopy(CHAT)
    del without_id["data"]["payload"]["id"]
    assert encrypted_chats(without_id, ACCOUNT) == [EncryptedChat("8511582263942905822",
                                                                  1784841183370)]
    for path, value in (("id", "a b"), ("id", 5), ("created_at_msec", "soon")):
        bad = copy.deepcopy(CHAT)
        bad["data"]["payload"][path] = value
        with pytest.raises(MalformedPayload):
            encrypted_chats(bad, ACCOUNT)
