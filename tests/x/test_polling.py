"""Polling mode's pure pieces: v2 list pages and requests (connectors/x/payloads.py), and the
poller's cursor, paging and pacing rules (connectors/x/polling.py).

Expectations come from the recorded fixtures (ids, ``meta`` of real mentions and search pages,
the documented DM event whose ``created_at`` dates its snowflake id) or are computed here.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.x.config import XConfigError, XSettings
from connectors.x.payloads import (
    InboundDM,
    InboundTweet,
    MalformedPayload,
    Page,
    SentDM,
    conversation_events_request,
    dm_events_request,
    hashtag_query,
    mentions_request,
    parse_dm_events_page,
    parse_tweets_page,
    search_request,
    snowflake_at,
    snowflake_time,
)
from connectors.x.polling import (
    MAX_BACKOFF_SECONDS,
    MAX_PAGES,
    RateWindow,
    backoff_seconds,
    collect,
    lower_bound,
    more_pages,
    next_delay,
    rate_limited_seconds,
    sources,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "sandbox" / "x_emulator" / "fixtures"
LOCAL_FIXTURES = Path(__file__).resolve().parent / "fixtures"
UTC = timezone.utc
ACCOUNT = "1072250532645998596"  # the tweepy test account of the cassettes
PERSON = "750362064426721281"  # the other participant of the recorded conversation
CONVERSATION = f"{PERSON}-{ACCOUNT}"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def with_authors(page: dict, author: str = "42", username: str = "someone") -> dict:
    page = copy.deepcopy(page)
    for item in page["data"]:
        item["author_id"] = author
    page["includes"] = {"users": [{"id": author, "name": "Someone", "username": username}]}
    return page


def dm(event_id: str, sender: str, text: str, **extra: Any) -> dict:
    """A v2 DM event shaped as the documented one, in the recorded conversation."""
    event = {**load("dm_event_messagecreate_docs.json"), "id": event_id, "sender_id": sender,
             "text": text, "dm_conversation_id": CONVERSATION}
    return {**event, **extra}


def settings(**extra: Any) -> XSettings:
    return XSettings.from_credentials({
        "consumer_key": "k", "consumer_secret": "s", "access_token": "t",
        "access_token_secret": "ts", "mode": "polling", **extra})


# ------------------------------------------------------------------------------ DM pages


def test_dm_page_splits_received_and_sent_and_bounds_every_item() -> None:
    recorded = load("dm_events_conversation_page.json")
    join = json.loads((LOCAL_FIXTURES / "dm_event_participantsjoin_docs.json").read_text())
    body = {
        "data": [
            dm("1585800613752881156", ACCOUNT, "Testing 2"),
            dm("1585800613253812228", PERSON, "Testing 1"),
            {**load("dm_event_messagecreate_docs.json")},  # a group conversation: skipped
            {**join, "id": "1500000000000000000"},
        ],
        "includes": {"users": [{"id": PERSON, "name": "P", "username": "person"}]},
        "meta": recorded["meta"],
    }
    page = parse_dm_events_page(body, ACCOUNT)
    created = int(datetime(2022, 10, 19, 20, 58, tzinfo=UTC).timestamp() * 1000)
    assert page == Page(
        inbound=(InboundDM("1585800613253812228", PERSON, ACCOUNT, "Testing 1", created,
                           "person", None),),
        sent=(SentDM("1585800613752881156", PERSON, "Testing 2", created),),
        newest_id="1585800613752881156",
        oldest_id="1500000000000000000",
        next_token=recorded["meta"]["next_token"],
        # Every item, the skipped ones too: X bills each one a read returns.
        item_ids=("1585800613752881156", "1585800613253812228",
                  body["data"][2]["id"], "1500000000000000000"),
    )


def test_empty_and_last_dm_pages() -> None:
    assert parse_dm_events_page(load("dm_events_empty.json"), ACCOUNT) == Page(
        (), (), None, None, None)
    last = parse_dm_events_page({"data": [dm("5", PERSON, "x")], "meta": {"result_count": 1}},
                                ACCOUNT)
    assert (last.newest_id, last.oldest_id, last.next_token) == ("5", "5", None)


@pytest.mark.parametrize("body", [
    {"data": [dm("1", PERSON, "x")], "meta": "x"},
    {"data": [dm("1", PERSON, "x")], "meta": {"next_token": 3}},
    {"data": [{"event_type": "ParticipantsJoin", "id": "abc"}]},
    {"data": [{"event_type": "ParticipantsJoin"}]},
    {"data": "x"},
])
def test_malformed_dm_pages_raise(body: Any) -> None:
    with pytest.raises(MalformedPayload):
        parse_dm_events_page(body, ACCOUNT)


# --------------------------------------------------------------------------- tweet pages


@pytest.mark.parametrize("name", ["users_mentions.json", "search_recent_tweets.json"])
def test_tweet_page_matches_the_recorded_meta(name: str) -> None:
    recorded = load(name)
    page = parse_tweets_page(with_authors(recorded), "1")
    assert page.newest_id == recorded["meta"]["newest_id"]
    assert page.oldest_id == recorded["meta"]["oldest_id"]
    assert page.next_token == recorded["meta"]["next_token"]
    assert [t.tweet_id for t in page.inbound] == [t["id"] for t in recorded["data"]]
    assert all(isinstance(t, InboundTweet) and t.username == "someone" for t in page.inbound)
    assert page.sent == ()


def test_the_accounts_own_tweets_bound_the_page_but_are_skipped() -> None:
    page = parse_tweets_page(with_authors(load("users_mentions.json"), author="1"), "1")
    assert page.inbound == ()
    assert page.newest_id == load("users_mentions.json")["meta"]["newest_id"]


# ------------------------------------------------------------------------------ requests


def test_dm_events_request_asks_for_what_the_parser_needs() -> None:
    request = dm_events_request()
    assert request.route == "/2/dm_events"
    assert dict(request.params) == {
        "dm_event.fields": "id,text,event_type,sender_id,dm_conversation_id,created_at",
        "event_types": "MessageCreate", "expansions": "sender_id", "user.fields": "username",
        "max_results": "100"}
    assert dm_events_request("TOKEN").params["pagination_token"] == "TOKEN"
    one = conversation_events_request(PERSON)
    assert one.route == f"/2/dm_conversations/with/{PERSON}/dm_events"
    assert one.params == request.params


def test_tweet_list_requests() -> None:
    mentions = mentions_request(ACCOUNT, since_id=123, pagination_token="P")
    assert mentions.route == f"/2/users/{ACCOUNT}/mentions"
    assert mentions.params["since_id"] == "123" and mentions.params["pagination_token"] == "P"
    # The quoted post and its author come with the page (a quote of ours summons us).
    assert mentions.params["expansions"] == "author_id,referenced_tweets.id"
    assert "entities" in mentions.params["tweet.fields"].split(",")
    search = search_request(["droitautweet", "#Permanence"], since_id="9", next_token="N")
    assert search.route == "/2/tweets/search/recent"
    assert search.params["query"] == "(#Permanence OR #droitautweet) -is:retweet"
    assert search.params["next_token"] == "N" and search.params["since_id"] == "9"
    assert "since_id" not in search_request(["a"]).params
    with pytest.raises(MalformedPayload):
        mentions_request("../1")
    with pytest.raises(MalformedPayload):
        search_request(["a"], since_id="1; drop")


@pytest.mark.parametrize("tags", [[], ["#"], ["two words"], ["a)OR(b"]])
def test_hashtag_query_refuses_what_is_not_a_hashtag(tags: list[str]) -> None:
    with pytest.raises(ValueError):
        hashtag_query(tags)


# ------------------------------------------------------------------------------ snowflakes


def test_snowflake_of_the_documented_dm_event_dates_it() -> None:
    event = load("dm_event_messagecreate_docs.json")
    made = snowflake_time(event["id"])
    documented = datetime(2022, 10, 19, 20, 58, tzinfo=UTC)
    assert abs(made - documented) < timedelta(seconds=1)


@given(st.datetimes(min_value=datetime(2011, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)))
def test_snowflake_round_trip(moment: datetime) -> None:
    floor = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert snowflake_time(snowflake_at(moment)) == floor
    assert snowflake_at(moment + timedelta(milliseconds=1)) > snowflake_at(moment)


# ---------------------------------------------------------------------- cursor and paging


def tweet_page(ids: list[int], next_token: str | None = None) -> Page:
    tweets = tuple(InboundTweet(str(i), "42", "u", "", ("droitautweet",), (), None, False, None)
                   for i in ids)
    return Page(tweets, (), str(max(ids)) if ids else None, str(min(ids)) if ids else None,
                next_token)


def test_lower_bound_reads_a_little_before_the_cursor() -> None:
    cursor = snowflake_at(datetime(2026, 1, 1, tzinfo=UTC))
    assert lower_bound(cursor, timedelta(seconds=5)) == snowflake_at(
        datetime(2025, 12, 31, 23, 59, 55, tzinfo=UTC))
    assert lower_bound(3, timedelta(seconds=5)) == 0


def test_collect_keeps_what_is_above_the_bound_oldest_first() -> None:
    pages = [tweet_page([90, 80, 70], "t1"), tweet_page([60, 50, 40])]
    found = collect(pages, bound=55)
    assert [e.tweet_id for e in found.events] == ["60", "70", "80", "90"]
    assert found.newest_id == 90 and not found.truncated
    assert collect([tweet_page([])], bound=0).newest_id is None


def test_paging_stops_at_the_bound_the_last_page_or_the_cap() -> None:
    assert more_pages(tweet_page([90, 80], "next"), bound=10, pages_read=1)
    assert not more_pages(tweet_page([90, 80], "next"), bound=80, pages_read=1)
    assert not more_pages(tweet_page([90, 80]), bound=10, pages_read=1)
    assert not more_pages(tweet_page([90, 80], "next"), bound=10, pages_read=MAX_PAGES)
    capped = collect([tweet_page([90, 80], "next")], bound=10)
    assert capped.truncated


def test_sources_follow_the_settings() -> None:
    dms, mentions, search = sources(settings(poll_interval_seconds=0.5,
                                             poll_tweets_interval_seconds=7,
                                             hashtags=["droitautweet"]), ACCOUNT)
    assert (dms.name, dms.interval, dms.user_auth, dms.since_id) == ("dm_events", 0.5, True,
                                                                     False)
    assert dms.cursor == "x.poll.dm_events"
    assert mentions.request(5, None).route == f"/2/users/{ACCOUNT}/mentions"
    assert mentions.user_auth  # no bearer token: user context
    assert search.request(5, "n").params["query"] == "(#droitautweet) -is:retweet"
    assert search.interval == 7 and search.horizon is not None
    with_bearer = sources(settings(bearer_token="b"), ACCOUNT)
    assert [s.user_auth for s in with_bearer] == [True, False, False]


# ---------------------------------------------------------------------------------- pacing


def test_pace_is_the_interval_while_requests_remain() -> None:
    window = RateWindow(limit=300, remaining=200, reset=1000.0)
    assert next_delay(5.0, window, now=100.0) == 5.0
    assert next_delay(5.0, None, now=100.0) == 5.0


def test_pace_spreads_the_last_requests_until_the_reset() -> None:
    # 30 left (a tenth of 300), 900 s to go: one every 30 s.
    assert next_delay(0.5, RateWindow(300, 30, 1000.0), now=100.0) == pytest.approx(30.0)
    assert next_delay(60.0, RateWindow(300, 30, 1000.0), now=100.0) == 60.0
    assert next_delay(0.5, RateWindow(300, 0, 1000.0), now=100.0) == pytest.approx(901.0)


def test_rate_limited_waits_for_the_reset() -> None:
    assert rate_limited_seconds(110.0, now=100.0) == pytest.approx(11.0)
    assert rate_limited_seconds(90.0, now=100.0) == 1.0
    assert rate_limited_seconds(None, now=100.0) == 60.0


@given(st.floats(min_value=0.01, max_value=100), st.integers(min_value=1, max_value=200))
def test_backoff_doubles_up_to_the_cap(interval: float, failures: int) -> None:
    delay = backoff_seconds(interval, failures)
    assert 1.0 <= delay <= MAX_BACKOFF_SECONDS
    assert backoff_seconds(interval, failures + 1) >= delay
    if delay < MAX_BACKOFF_SECONDS / 2:
        assert backoff_seconds(interval, failures + 1) == pytest.approx(2 * delay)


def test_rate_window_from_headers() -> None:
    headers = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "298",
               "x-rate-limit-reset": "1666920203"}
    assert RateWindow.from_headers(headers) == RateWindow(300, 298, 1666920203.0)
    assert RateWindow.from_headers({}) is None
    assert RateWindow.from_headers({**headers, "x-rate-limit-reset": "soon"}) is None


# ---------------------------------------------------------------------------------- config


def test_polling_settings_and_their_checks() -> None:
    polled = settings(poll_interval_seconds="0.5", poll_lease_seconds=4, liveness_seconds=3)
    assert polled.mode == "polling"
    assert (polled.poll_interval_seconds, polled.poll_lease_seconds,
            polled.liveness_seconds) == (0.5, 4.0, 3.0)
    defaults = settings()
    # X's 2026 limit on DM reads: 15 per 15 minutes, one a minute.
    assert (defaults.poll_interval_seconds, defaults.poll_tweets_interval_seconds) == (60.0, 10.0)
    for bad in (0, -1, "soon", True, float("inf")):
        with pytest.raises(XConfigError):
            settings(poll_interval_seconds=bad)
