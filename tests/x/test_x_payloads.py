"""Parsing X's webhook and v2 payloads (connectors/x/payloads.py).

Expectations are read from the recorded fixtures (sandbox/x_emulator/fixtures, and four more
copied in tests/x/fixtures) or built here; the robustness properties feed hundreds of
generated bodies (random JSON, truncated bytes, mutated and mistyped fixtures, oversized
strings) and require a list of events or MalformedPayload, never another exception.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.x.payloads import (
    InboundDM,
    InboundTweet,
    MalformedPayload,
    decode_body,
    is_for_us,
    parse_dm_events,
    parse_tweets,
    parse_webhook,
    summons,
)

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_FIXTURES = ROOT / "sandbox" / "x_emulator" / "fixtures"
LOCAL_FIXTURES = Path(__file__).resolve().parent / "fixtures"
UTC = timezone.utc


def load(name: str) -> Any:
    for folder in (SANDBOX_FIXTURES, LOCAL_FIXTURES):
        path = folder / name
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(name)


def ms(stamp: datetime) -> int:
    return (stamp - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


AAA_DM = load("aaa_direct_message_events_docs.json")
AAA_DM_ACCOUNT = AAA_DM["for_user_id"]
AAA_TWEET = load("aaa_tweet_create_events_mention.json")
AAA_TWEET_ACCOUNT = AAA_TWEET["for_user_id"]
XAA_DM = load("xaa_dm_received_docs.json")
XAA_ACCOUNT = XAA_DM["data"]["filter"]["user_id"]
MENTIONS = load("users_mentions.json")
MENTIONS_ACCOUNT = "783214"  # GET /2/users/783214/mentions (fixtures README)
SEARCH = load("search_recent_tweets.json")
DM_DOCS = load("dm_event_messagecreate_docs.json")
V1_EVENT = load("v1_1_direct_messages_events_new_response.json")["event"]


def dm_event(event_id: str, sender: str, recipient: str, text: str, **data: Any) -> dict:
    """An AAA ``message_create`` event in the shape of the v1.1 fixtures."""
    event = copy.deepcopy(V1_EVENT)
    event["id"] = event_id
    event["message_create"]["sender_id"] = sender
    event["message_create"]["target"]["recipient_id"] = recipient
    event["message_create"]["message_data"]["text"] = text
    event["message_create"]["message_data"].update(data)
    return event


def with_authors(page: dict, author: str = "42", username: str = "someone") -> dict:
    """A v2 page as requested with tweet.fields=author_id and expansions=author_id."""
    page = copy.deepcopy(page)
    for item in page["data"]:
        item["author_id"] = author
    page["includes"] = {"users": [{"id": author, "name": "Someone", "username": username}]}
    return page


def mention_xaa(author: str = "2222222222222222222", text: str = "hey @ExampleUser") -> dict:
    """A ``post.mention.create`` envelope, shaped after the X docs example (event-payloads)."""
    return {"data": {
        "event_uuid": "2080765813578191303",
        "filter": {"user_id": XAA_ACCOUNT},
        "event_type": "post.mention.create",
        "tag": "mentions",
        "payload": {
            "created_at": "2026-07-24T21:23:23.000Z",
            "edit_history_tweet_ids": ["2080765813578191303"],
            "conversation_id": "2080765813578191303",
            "text": text,
            "entities": {"mentions": [{"start": 4, "end": 16, "username": "ExampleUser",
                                       "id": XAA_ACCOUNT}]},
            "author_id": author,
            "id": "2080765813578191303",
            "lang": "und",
        },
        "includes": {"users": [
            {"username": "OtherUser", "name": "OtherUser", "id": "2222222222222222222"},
            {"data": {"username": "ExampleUser", "name": "Example User", "id": XAA_ACCOUNT}},
        ]},
    }}


# Account Activity: direct messages


def test_aaa_dm_fixture() -> None:
    event = AAA_DM["direct_message_events"][0]
    sender = event["message_create"]["sender_id"]
    assert parse_webhook(AAA_DM, AAA_DM_ACCOUNT) == [InboundDM(
        event_id=event["id"],
        sender_id=sender,
        recipient_id=AAA_DM_ACCOUNT,
        text=event["message_create"]["message_data"]["text"],
        created_at_ms=int(event["created_timestamp"]),
        screen_name=AAA_DM["users"][sender]["screen_name"],
        quick_reply_payload=None,
    )]
    # The docs sample carries source_app_id; a DM from someone else is still inbound.
    assert "source_app_id" in event["message_create"]


def test_aaa_dm_for_another_account_is_ignored() -> None:
    assert parse_webhook(AAA_DM, "999") == []


def test_aaa_echo_of_the_account_is_skipped() -> None:
    body = {"for_user_id": "100", "direct_message_events": [dm_event("1", "100", "200", "Bonjour")]}
    assert parse_webhook(body, "100") == []


def test_aaa_batch_keeps_every_event_in_order() -> None:
    body = {
        "for_user_id": "100",
        "direct_message_events": [
            dm_event("11", "201", "100", "Bonjour"),
            dm_event("12", "100", "201", "Réponse du compte"),  # echo
            dm_event("13", "202", "100", "2", quick_reply_response={
                "type": "options", "metadata": "/deny"}),
            {"type": "message_create_unknown_kind", "id": "14"},  # other event kinds: ignored
        ],
        "users": {"201": {"id": "201", "screen_name": "alice"}},
        "favorite_events": [{"id": "x"}],
        "follow_events": "anything",
        "direct_message_indicate_typing_events": [{"sender_id": "201"}],
        "tweet_create_events": [],
    }
    result = parse_webhook(body, "100")
    assert [dm.event_id for dm in result] == ["11", "13"]
    assert result[0].screen_name == "alice"
    assert result[1].screen_name is None
    assert result[1].quick_reply_payload == "/deny"
    assert all(isinstance(dm, InboundDM) and dm.recipient_id == "100" for dm in result)


def test_aaa_dm_without_timestamp_and_with_integer_ids() -> None:
    event = dm_event("15", "201", "100", "Bonjour")
    del event["created_timestamp"]
    event["id"] = 15
    event["message_create"]["sender_id"] = 201
    (dm,) = parse_webhook({"direct_message_events": [event]}, "100")
    assert (dm.event_id, dm.sender_id, dm.created_at_ms) == ("15", "201", None)


def test_oversized_dm_text_is_kept_whole() -> None:
    text = "é" * 200_000
    (dm,) = parse_webhook({"direct_message_events": [dm_event("1", "2", "3", text)]}, "3")
    assert dm.text == text


# X Activity API envelope


def test_xaa_dm_received_fixture() -> None:
    event = XAA_DM["data"]["payload"]["direct_message_events"][0]
    sender = event["message_create"]["sender_id"]
    assert parse_webhook(XAA_DM, XAA_ACCOUNT) == [InboundDM(
        event_id=event["id"],
        sender_id=sender,
        recipient_id=XAA_ACCOUNT,
        text=event["message_create"]["message_data"]["text"],
        created_at_ms=int(event["created_timestamp"]),
        screen_name=XAA_DM["data"]["payload"]["users"][sender]["data"]["username"],
        quick_reply_payload=None,
    )]


def test_xaa_dm_sent_is_an_echo() -> None:
    body = copy.deepcopy(XAA_DM)
    body["data"]["event_type"] = "dm.sent"
    create = body["data"]["payload"]["direct_message_events"][0]["message_create"]
    create["sender_id"], create["target"]["recipient_id"] = XAA_ACCOUNT, create["sender_id"]
    assert parse_webhook(body, XAA_ACCOUNT) == []


def test_xaa_for_another_user_and_other_events_are_ignored() -> None:
    assert parse_webhook(XAA_DM, "1234") == []
    other = {"data": {"event_uuid": "1", "filter": {"user_id": XAA_ACCOUNT},
                      "event_type": "profile.update.bio",
                      "payload": {"before": "a", "after": "b"}}}
    assert parse_webhook(other, XAA_ACCOUNT) == []


def test_xaa_mention() -> None:
    body = mention_xaa()
    payload = body["data"]["payload"]
    assert parse_webhook(body, XAA_ACCOUNT) == [InboundTweet(
        tweet_id=payload["id"],
        author_id=payload["author_id"],
        username="OtherUser",
        text=payload["text"],
        hashtags=(),
        mentions=("ExampleUser",),
        in_reply_to_status_id=None,
        is_retweet=False,
        created_at=datetime(2026, 7, 24, 21, 23, 23, tzinfo=UTC),
    )]
    assert parse_webhook(mention_xaa(author=XAA_ACCOUNT), XAA_ACCOUNT) == []


# Account Activity: tweets


def test_aaa_tweet_fixture() -> None:
    raw = AAA_TWEET["tweet_create_events"][0]
    (tweet,) = parse_webhook(AAA_TWEET, AAA_TWEET_ACCOUNT)
    assert tweet == InboundTweet(
        tweet_id=raw["id_str"],
        author_id=raw["user"]["id_str"],
        username=raw["user"]["screen_name"],
        text=raw["text"],
        hashtags=(),
        mentions=tuple(m["screen_name"] for m in raw["entities"]["user_mentions"]),
        in_reply_to_status_id=raw["in_reply_to_status_id_str"],
        is_retweet=False,
        created_at=datetime(1970, 1, 1, tzinfo=UTC)
        + timedelta(milliseconds=int(raw["timestamp_ms"])),
    )
    # "Sat Nov 28 05:30:03 +0000 2020", to the second
    assert tweet.created_at.replace(microsecond=0) == datetime(2020, 11, 28, 5, 30, 3, tzinfo=UTC)


def test_aaa_tweet_date_from_created_at_and_offset() -> None:
    body = copy.deepcopy(AAA_TWEET)
    raw = body["tweet_create_events"][0]
    del raw["timestamp_ms"]
    (tweet,) = parse_webhook(body, AAA_TWEET_ACCOUNT)
    assert tweet.created_at == datetime(2020, 11, 28, 5, 30, 3, tzinfo=UTC)
    raw["created_at"] = "Sat Nov 28 07:30:03 +0200 2020"
    (tweet,) = parse_webhook(body, AAA_TWEET_ACCOUNT)
    assert tweet.created_at == datetime(2020, 11, 28, 5, 30, 3, tzinfo=UTC)


def test_aaa_extended_tweet_retweet_and_own_tweet() -> None:
    body = copy.deepcopy(AAA_TWEET)
    base = body["tweet_create_events"][0]
    long_tweet = copy.deepcopy(base)
    long_tweet["truncated"] = True
    long_tweet["extended_tweet"] = {
        "full_text": "@Learn_Awesome question longue #DroitAuTweet",
        "entities": {"hashtags": [{"text": "DroitAuTweet", "indices": [31, 44]}],
                     "user_mentions": [{"screen_name": "Learn_Awesome"}]}}
    retweet = copy.deepcopy(base)
    retweet["id_str"] = retweet["id"] = "1332557345071644673"
    retweet["retweeted_status"] = copy.deepcopy(base)
    own = copy.deepcopy(base)
    own["user"]["id_str"] = AAA_TWEET_ACCOUNT
    body["tweet_create_events"] = [long_tweet, retweet, own]
    first, second = parse_webhook(body, AAA_TWEET_ACCOUNT)
    assert first.text == long_tweet["extended_tweet"]["full_text"]
    assert first.hashtags == ("DroitAuTweet",)
    assert (first.is_retweet, second.is_retweet) == (False, True)
    assert second.tweet_id == "1332557345071644673"


# v2 pages


def test_v2_pages_need_author_id() -> None:
    with pytest.raises(MalformedPayload, match="author_id"):
        parse_tweets(MENTIONS, MENTIONS_ACCOUNT)
    with pytest.raises(MalformedPayload, match="author_id"):
        parse_tweets(SEARCH, MENTIONS_ACCOUNT)


def test_v2_mentions_page() -> None:
    page = with_authors(MENTIONS)
    tweets = parse_tweets(page, MENTIONS_ACCOUNT)
    assert [t.tweet_id for t in tweets] == [item["id"] for item in MENTIONS["data"]]
    assert [t.text for t in tweets] == [item["text"] for item in MENTIONS["data"]]
    assert {t.username for t in tweets} == {"someone"}
    assert tweets[0].mentions == ("Twitter", "TwitterSupport")
    for tweet in tweets:
        expected = re.search(r"(?<!\w)@twitter(?!\w)", tweet.text, re.IGNORECASE) is not None
        assert is_for_us(tweet, MENTIONS_ACCOUNT, "Twitter", []) is expected
        assert not tweet.is_retweet and tweet.created_at is None
        assert "W5GxALkkZd" not in "".join(tweet.hashtags)


def test_v2_search_page_and_own_tweets() -> None:
    tweets = parse_tweets(with_authors(SEARCH), "1")
    assert len(tweets) == len(SEARCH["data"])
    for tweet in tweets:
        assert is_for_us(tweet, "1", "droitautweet", ["tweepy"]) is ("#tweepy" in tweet.text)
    assert parse_tweets(with_authors(SEARCH, author="1"), "1") == []


def test_v2_tweet_fields() -> None:
    page = {"data": [
        {"id": "10", "author_id": "42", "text": "RT @firm: question #DroitAuTweet",
         "referenced_tweets": [{"type": "retweeted", "id": "9"}],
         "entities": {"hashtags": [{"start": 20, "end": 33, "tag": "DroitAuTweet"}]}},
        {"id": "11", "author_id": "42", "text": "@firm une question",
         "created_at": "2026-03-05T18:30:00.000Z",
         "referenced_tweets": [{"type": "replied_to", "id": "8"}, {"type": "quoted", "id": "7"}],
         "entities": {"mentions": [{"start": 0, "end": 5, "username": "firm", "id": "1"}]}},
        {"id": "12", "author_id": "43", "text": "début…",
         "note_tweet": {"text": "début… et la suite #droitautweet"}},
    ], "includes": {"users": [{"id": "42", "username": "alice"}]}}
    retweet, reply, long_post = parse_tweets(page, "1")
    assert retweet.is_retweet and retweet.hashtags == ("DroitAuTweet",)
    assert not is_for_us(retweet, "1", "firm", ["droitautweet"])
    assert (reply.in_reply_to_status_id, reply.is_retweet, reply.username) == ("8", False, "alice")
    assert reply.created_at == datetime(2026, 3, 5, 18, 30, tzinfo=UTC)
    assert is_for_us(reply, "1", "@FIRM", [])
    assert long_post.text == "début… et la suite #droitautweet"
    assert long_post.hashtags == ("droitautweet",) and long_post.username is None


def test_v2_single_tweet_body() -> None:
    body = {"data": {"id": "5", "author_id": "6", "text": "x"}}
    assert [t.tweet_id for t in parse_tweets(body, "1")] == ["5"]


def test_v2_dm_events() -> None:
    account, person = "1072250532645998596", DM_DOCS["sender_id"]
    one_to_one = dict(DM_DOCS, dm_conversation_id=f"{person}-{account}")
    page = {"data": [
        one_to_one,
        load("dm_event_participantsjoin_docs.json"),
        load("dm_event_participantsleave_docs.json"),
        DM_DOCS,  # its conversation id names a group: skipped
        dict(DM_DOCS, id="1582838499983564807", sender_id=account,
             dm_conversation_id=f"{person}-{account}"),  # the account's own: skipped
    ], "includes": {"users": [{"id": person, "name": "P", "username": "person"}]}}
    assert parse_dm_events(page, account) == [InboundDM(
        event_id=DM_DOCS["id"],
        sender_id=person,
        recipient_id=account,
        text=DM_DOCS["text"],
        created_at_ms=ms(datetime(2022, 10, 19, 20, 58, tzinfo=UTC)),
        screen_name="person",
        quick_reply_payload=None,
    )]


def test_v2_dm_event_pages_from_the_cassettes() -> None:
    assert parse_dm_events(load("dm_events_empty.json"), "1") == []
    # Recorded without dm_event.fields: no sender, so the page cannot be used.
    with pytest.raises(MalformedPayload, match="sender_id"):
        parse_dm_events(load("dm_events_conversation_page.json"), "1072250532645998596")


def test_v2_dm_sender_outside_the_conversation() -> None:
    item = dict(DM_DOCS, dm_conversation_id="5-6")
    with pytest.raises(MalformedPayload):
        parse_dm_events({"data": [item]}, "6")


# is_for_us


def tweet(**fields: Any) -> InboundTweet:
    base = dict(tweet_id="1", author_id="2", username="u", text="t", hashtags=(), mentions=(),
                in_reply_to_status_id=None, is_retweet=False, created_at=None)
    base.update(fields)
    return InboundTweet(**base)


@pytest.mark.parametrize(
    ("fields", "configured", "expected"),
    [
        ({"hashtags": ("DroitAuTweet",)}, ["droitautweet"], True),
        ({"hashtags": ("droitautweet",)}, ["#DroitAuTweet"], True),
        ({"hashtags": ("DROITAUTWEET",)}, ["\uff03droitautweet"], True),
        ({"hashtags": ("droitautweet",)}, "#DroitAuTweet", True),  # a lone string, not chars
        ({"hashtags": ("droit",)}, ["droitautweet"], False),
        ({"hashtags": ("droitautweet",), "is_retweet": True}, ["droitautweet"], False),
        ({"hashtags": ("droitautweet",), "author_id": "100"}, ["droitautweet"], False),
        ({"mentions": ("Cabinet_Exemple",)}, [], True),
        ({"mentions": ("cabinet_exemple2",)}, [], False),
        ({"mentions": ("Cabinet_Exemple",), "author_id": "100"}, [], False),
        ({}, ["", "#"], False),
    ],
)
def test_is_for_us(fields: dict, configured: Any, expected: bool) -> None:
    assert is_for_us(tweet(**fields), "100", "@cabinet_exemple", configured) is expected


def test_is_for_us_on_the_recorded_mention() -> None:
    (mention,) = parse_webhook(AAA_TWEET, AAA_TWEET_ACCOUNT)
    assert is_for_us(mention, AAA_TWEET_ACCOUNT, "learn_awesome", [])
    assert not is_for_us(mention, AAA_TWEET_ACCOUNT, "someone_else", ["droitautweet"])


# summons: X allows an automated reply only to a post that @mentions or quotes the account


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"mentions": ("Cabinet_Exemple",)}, True),
        ({"mentions": ("CABINET_EXEMPLE",), "hashtags": ("droitautweet",)}, True),
        ({"quoted_author_id": "100"}, True),  # a quote of one of the account's posts
        ({"quoted_author_id": "555", "hashtags": ("droitautweet",)}, False),  # someone else's
        ({"hashtags": ("droitautweet",)}, False),  # the hashtag alone
        ({"mentions": ("cabinet_exemple2",)}, False),
        ({"mentions": ("Cabinet_Exemple",), "is_retweet": True}, False),
        ({"quoted_author_id": "100", "author_id": "100"}, False),  # the account's own
    ],
)
def test_summons(fields: dict, expected: bool) -> None:
    assert summons(tweet(**fields), "100", "@cabinet_exemple") is expected
    # A post that summons is for us whatever the hashtags; the hashtag alone is for us too.
    if expected:
        assert is_for_us(tweet(**fields), "100", "cabinet_exemple", [])


def test_the_quoted_author_is_read_in_every_format() -> None:
    # v1.1 (Account Activity): quoted_status carries the quoted post and its author.
    raw = copy.deepcopy(AAA_TWEET)
    event = raw["tweet_create_events"][0]
    event["entities"]["user_mentions"] = []
    event["is_quote_status"] = True
    event["quoted_status_id_str"] = "777"
    event["quoted_status"] = {"id_str": "777", "text": "notre permanence",
                              "user": {"id_str": AAA_TWEET_ACCOUNT, "screen_name": "firm"}}
    (quote,) = parse_webhook(raw, AAA_TWEET_ACCOUNT)
    assert quote.quoted_author_id == AAA_TWEET_ACCOUNT and quote.mentions == ()
    assert summons(quote, AAA_TWEET_ACCOUNT, "learn_awesome")
    event["quoted_status"]["user"]["id_str"] = "31337"
    assert not summons(parse_webhook(raw, AAA_TWEET_ACCOUNT)[0], AAA_TWEET_ACCOUNT, "x")
    event["quoted_status"]["user"] = {"screen_name": "no id"}
    with pytest.raises(MalformedPayload, match="quoted_status.user.id_str"):
        parse_webhook(raw, AAA_TWEET_ACCOUNT)
    # v2 (mentions, search, XAA): referenced_tweets "quoted" and includes.tweets.
    page = {"data": [
        {"id": "20", "author_id": "42", "text": "je relaie #droitautweet",
         "referenced_tweets": [{"type": "quoted", "id": "19"}]},
        {"id": "21", "author_id": "42", "text": "sans citation"},
        {"id": "22", "author_id": "42", "text": "cite un inconnu",
         "referenced_tweets": [{"type": "quoted", "id": "18"}]},
    ], "includes": {"users": [{"id": "42", "username": "alice"}],
                    "tweets": [{"id": "19", "author_id": "1", "text": "Permanence mardi"}]}}
    quoted, plain, unknown = parse_tweets(page, "1")
    assert quoted.quoted_author_id == "1" and summons(quoted, "1", "firm")
    assert plain.quoted_author_id is None and unknown.quoted_author_id is None
    assert not summons(unknown, "1", "firm")  # the author is not known: not summoned
    envelope = mention_xaa(text="je cite")
    envelope["data"]["payload"]["entities"] = {}
    envelope["data"]["payload"]["referenced_tweets"] = [{"type": "quoted", "id": "5"}]
    envelope["data"]["includes"]["tweets"] = [{"id": "5", "author_id": XAA_ACCOUNT}]
    (from_xaa,) = parse_webhook(envelope, XAA_ACCOUNT)
    assert from_xaa.quoted_author_id == XAA_ACCOUNT


# Malformed bodies


def aaa(event: Any) -> dict:
    return {"for_user_id": "100", "direct_message_events": [event]}


def good_event() -> dict:
    return dm_event("1", "201", "100", "Mon secret administratif")


def mutate(path: list[Any], value: Any) -> dict:
    body = aaa(good_event())
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return body


EVENT = ["direct_message_events", 0]
CREATE = [*EVENT, "message_create"]


@pytest.mark.parametrize(
    "body",
    [
        [], "text", None, 5, 1.5, True,
        {"direct_message_events": {}},
        {"direct_message_events": "x"},
        {"tweet_create_events": {"0": {}}},
        {"for_user_id": "me"},
        {"for_user_id": ["100"]},
        {"users": [], "direct_message_events": []},
        {"users": {"201": "alice"}, "direct_message_events": []},
        mutate([*EVENT, "message_create"], KeyError),
        mutate([*EVENT, "message_create"], None),
        mutate([*EVENT, "type"], 3),
        mutate([*EVENT, "id"], "abc"),
        mutate([*EVENT, "id"], 1.0),
        mutate([*EVENT, "id"], True),
        mutate([*EVENT, "id"], -1),
        mutate([*EVENT, "id"], 2**64),
        mutate([*EVENT, "id"], "1" * 21),
        mutate([*EVENT, "created_timestamp"], "yesterday"),
        mutate([*EVENT, "created_timestamp"], 10**20),
        mutate([*CREATE, "sender_id"], "../../2/users/me"),
        mutate([*CREATE, "sender_id"], KeyError),
        mutate([*CREATE, "target"], KeyError),
        mutate([*CREATE, "target", "recipient_id"], {"id": "100"}),
        mutate([*CREATE, "message_data"], "Mon secret"),
        mutate([*CREATE, "message_data", "text"], 12),
        mutate([*CREATE, "message_data", "text"], ["Mon secret"]),
        mutate([*CREATE, "message_data", "text"], "Mon secret \ud800"),
        mutate([*CREATE, "message_data", "quick_reply_response"], "/affirm"),
        mutate([*CREATE, "message_data", "quick_reply_response"], {"metadata": 1}),
        {"tweet_create_events": [{"id_str": "1", "text": "x"}]},
        {"tweet_create_events": [{"id_str": "1", "text": "x", "user": {"id_str": "x"}}]},
        {"tweet_create_events": [{"id_str": "1", "text": 5, "user": {"id_str": "2"}}]},
        {"tweet_create_events": [{"id_str": "1", "text": "x", "user": {"id_str": "2"},
                                  "entities": {"hashtags": "x"}}]},
        {"tweet_create_events": [{"id_str": "1", "text": "x", "user": {"id_str": "2"},
                                  "created_at": "Sat Foo 28 05:30:03 +0000 2020"}]},
        {"tweet_create_events": [{"id_str": "1", "text": "x", "user": {"id_str": "2"},
                                  "created_at": "Sat Feb 30 05:30:03 +0000 2020"}]},
        {"tweet_create_events": [{"id_str": "1", "text": "x", "user": {"id_str": "2"},
                                  "retweeted_status": "yes"}]},
        {"data": {"event_type": 1}},
        {"data": {"event_type": "dm.received", "payload": {}}},
        {"data": {"event_type": "dm.received", "payload": []}},
        {"data": {"event_type": "dm.received", "filter": "100", "payload": {}}},
        {"data": {"event_type": "post.mention.create", "payload": {"id": "1", "text": "x"}}},
        {"data": {"event_type": "post.mention.create", "includes": {"users": {}},
                  "payload": {"id": "1", "text": "x", "author_id": "2"}}},
    ],
)
def test_malformed_bodies_raise(body: Any) -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_webhook(body, "100")
    assert isinstance(caught.value, ValueError)
    assert "secret" not in str(caught.value)  # messages name paths and types, not content


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"data": {}},
        {"data": [{"event_type": "MessageCreate", "id": "1", "sender_id": "2", "text": "x"}]},
        {"data": [{"event_type": "MessageCreate", "id": "1", "sender_id": "2",
                   "dm_conversation_id": "2-3", "text": "x", "created_at": "hier"}]},
        {"data": [{"event_type": "MessageCreate", "id": "1", "sender_id": "2",
                   "dm_conversation_id": "abc", "text": "x"}]},
        {"data": [], "includes": {"users": [{"username": "x"}]}},
    ],
)
def test_malformed_v2_dm_pages_raise(body: Any) -> None:
    with pytest.raises(MalformedPayload):
        parse_dm_events(body, "3")


def test_decode_body() -> None:
    raw = json.dumps(AAA_DM, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert decode_body(raw) == AAA_DM
    for bad in (b"\xff\xfe{}", b"{", b"", b'{"a": NaN}', b"[Infinity]", b"[" * 100_000,
                b"1" * 5000, "\ufeff{}".encode()):
        with pytest.raises(MalformedPayload):
            decode_body(bad)


# Robustness properties

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                | st.text(max_size=20) | st.sampled_from(["100", "201", "1", "", "message_create"]))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=15,
)

BATCH = {
    "for_user_id": "100",
    "direct_message_events": [good_event(), dm_event("2", "100", "201", "écho"),
                              dm_event("3", "202", "100", "ok", quick_reply_response={
                                  "type": "options", "metadata": "/affirm"})],
    "users": {"201": {"id": "201", "screen_name": "alice"}},
    "tweet_create_events": copy.deepcopy(AAA_TWEET["tweet_create_events"]),
    "favorite_events": [{"id": "1"}],
}
CORPUS: list[tuple[str, Any, str]] = [
    ("webhook", AAA_DM, AAA_DM_ACCOUNT),
    ("webhook", AAA_TWEET, AAA_TWEET_ACCOUNT),
    ("webhook", XAA_DM, XAA_ACCOUNT),
    ("webhook", mention_xaa(), XAA_ACCOUNT),
    ("webhook", BATCH, "100"),
    ("tweets", with_authors(MENTIONS), MENTIONS_ACCOUNT),
    ("dm_events", {"data": [dict(DM_DOCS, dm_conversation_id="944480690-1"), DM_DOCS],
                   "includes": {"users": [{"id": "944480690", "username": "p"}]}}, "1"),
]
PARSERS = {"webhook": parse_webhook, "tweets": parse_tweets, "dm_events": parse_dm_events}


def parse_or_refuse(kind: str, body: Any, account: str) -> list | None:
    """The parse result, or None for MalformedPayload; any other exception fails the test."""
    try:
        result = PARSERS[kind](body, account)
    except MalformedPayload:
        return None
    assert isinstance(result, list)
    for item in result:
        assert isinstance(item, (InboundDM, InboundTweet))
        if isinstance(item, InboundDM):
            assert item.sender_id != account and item.recipient_id == account
            assert isinstance(item.text, str) and item.sender_id.isdigit()
        else:
            assert item.author_id != account and item.tweet_id.isdigit()
    return result


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(paths(value, (*prefix, index)))
    return found


def get_parent(body: Any, path: tuple) -> Any:
    for key in path[:-1]:
        body = body[key]
    return body


def test_corpus_parses() -> None:
    for kind, body, account in CORPUS:
        assert parse_or_refuse(kind, body, account), kind


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values, kind=st.sampled_from(sorted(PARSERS)))
def test_random_json(body: Any, kind: str) -> None:
    parse_or_refuse(kind, body, "100")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), case=st.integers(min_value=0, max_value=len(CORPUS) - 1))
def test_mutated_and_mistyped_fixtures(data: st.DataObject, case: int) -> None:
    kind, original, account = CORPUS[case]
    body = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(paths(body)))
        if not path:
            body = data.draw(json_values)
            break
        parent = get_parent(body, path)
        action = data.draw(st.sampled_from(["replace", "delete", "stringify", "numberify"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = data.draw(json_values)
        elif action == "stringify":
            parent[path[-1]] = json.dumps(parent[path[-1]])
        else:
            parent[path[-1]] = data.draw(st.integers() | st.floats(allow_nan=False))
    parse_or_refuse(kind, body, account)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.integers(min_value=0, max_value=len(CORPUS) - 1), cut=st.floats(0, 1))
def test_truncated_fixture_bytes(case: int, cut: float) -> None:
    kind, original, account = CORPUS[case]
    raw = json.dumps(original, ensure_ascii=False).encode("utf-8")
    truncated = raw[: int(len(raw) * cut)]
    try:
        body = decode_body(truncated)
    except MalformedPayload:
        return
    parse_or_refuse(kind, body, account)


def truncate_tree(node: Any, budget: list[int]) -> Any:
    """``node`` as far as a JSON text cut after ``budget[0]`` values would hold it, closed."""
    budget[0] -= 1
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if budget[0] <= 0:
                break
            out[key] = truncate_tree(value, budget)
        return out
    if isinstance(node, list):
        items = []
        for value in node:
            if budget[0] <= 0:
                break
            items.append(truncate_tree(value, budget))
        return items
    if isinstance(node, str) and budget[0] <= 0:
        return node[: len(node) // 2]
    return node


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.integers(min_value=0, max_value=len(CORPUS) - 1), keep=st.integers(1, 400))
def test_truncated_fixture_trees(case: int, keep: int) -> None:
    kind, original, account = CORPUS[case]
    parse_or_refuse(kind, truncate_tree(original, [keep]), account)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.integers(min_value=0, max_value=len(CORPUS) - 1),
       filler=st.text(min_size=1, max_size=5), size=st.integers(10_000, 300_000))
def test_oversized_strings(case: int, filler: str, size: int) -> None:
    kind, original, account = CORPUS[case]
    big = (filler * (size // len(filler) + 1))[:size]

    def inflate(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: inflate(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inflate(value) for value in node]
        return big if isinstance(node, str) else node

    parse_or_refuse(kind, inflate(original), account)
    texts_only = copy.deepcopy(original)
    for path in paths(texts_only):
        if path and path[-1] in ("text", "full_text"):
            parent = get_parent(texts_only, path)
            if isinstance(parent[path[-1]], str):
                parent[path[-1]] = big
    result = parse_or_refuse(kind, texts_only, account)
    assert result is not None and all(item.text == big for item in result)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_random_bytes(raw: bytes) -> None:
    try:
        body = decode_body(raw)
    except MalformedPayload:
        return
    parse_or_refuse("webhook", body, "100")
