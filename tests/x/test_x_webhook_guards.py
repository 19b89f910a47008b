"""The X webhook's guards against forgery and replay, as pure pieces: the CRC token's shape
(the CRC answer is the HMAC X signs bodies with), the CRC route's token bucket, the events'
age window, and person ids in logs.

Signatures are computed here with hmac/hashlib/base64, never taken from the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.x.config import XConfigError, XSettings
from connectors.x.inbox import age_refusal, fresh_events, person_ref
from connectors.x.payloads import (
    SNOWFLAKE_EPOCH_MS,
    InboundDM,
    InboundTweet,
    decode_body,
    event_time,
    parse_webhook,
)
from connectors.x.signatures import CRC_TOKEN_MAX_LENGTH, crc_token_refusal
from connectors.x.webhook import CrcLimiter, check_crc, check_post
from permanence.logids import ref

SECRET = "consumer-secret-for-tests"
ACCOUNT = "1111111111111111111"
PERSON = "2222222222222222222"
CREDENTIALS = {"consumer_key": "ck", "consumer_secret": SECRET, "access_token": "at",
               "access_token_secret": "ats"}
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
# Every character a crc_token may hold (base64, standard and URL-safe, with padding).
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_=-"


def x_settings(**extra) -> XSettings:
    return XSettings.from_credentials({**CREDENTIALS, **extra})


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body,
                                                 hashlib.sha256).digest()).decode()


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def snowflake(moment: datetime) -> str:
    return str((millis(moment) - SNOWFLAKE_EPOCH_MS) << 22)


def dm_body(sent_at: datetime | None, text: str = "supprimez mes données",
            event_id: str | None = None) -> bytes:
    event = {"type": "message_create",
             "id": event_id or snowflake(sent_at or NOW),
             "message_create": {"target": {"recipient_id": ACCOUNT}, "sender_id": PERSON,
                                "message_data": {"text": text}}}
    if sent_at is not None:
        event["created_timestamp"] = str(millis(sent_at))
    return json.dumps({"for_user_id": ACCOUNT, "direct_message_events": [event]}).encode()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ----------------------------------------------------------------------- the CRC token's shape


@pytest.mark.parametrize("token", [
    secrets.token_urlsafe(24),  # what the sandbox's emulator sends
    base64.b64encode(secrets.token_bytes(32)).decode(),  # standard base64, padded
    "abc-123_T", "up", "A" * CRC_TOKEN_MAX_LENGTH,
])
def test_tokens_of_x_shape_are_accepted(token):
    assert crc_token_refusal(token) is None


@pytest.mark.parametrize(("token", "reason"), [
    (None, "missing"), ("", "missing"),
    ("A" * (CRC_TOKEN_MAX_LENGTH + 1), "too_long"),
    (dm_body(NOW).decode(), "too_long"),  # the attack: a forged body to be signed
    ('{"for_user_id":"1"}', "charset"), ("[1]", "charset"), ('"abc"', "charset"),
    ("test token", "charset"), ("abc\n", "charset"), ("abc%7B", "charset"),
    ("ab.cd", "charset"), ("jeton-é", "charset"), ("abc\x00", "charset"),
])
def test_other_tokens_are_refused_with_a_reason(token, reason):
    assert crc_token_refusal(token) == reason


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=CRC_TOKEN_MAX_LENGTH + 20))
def test_no_accepted_token_is_a_json_object(token):
    if crc_token_refusal(token) is not None:
        return
    try:
        value = json.loads(token)
    except ValueError:
        return
    assert not isinstance(value, dict)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=CRC_TOKEN_MAX_LENGTH))
def test_no_accepted_token_is_a_body_the_webhook_would_take(token):
    """Whatever a caller gets signed through the CRC route, posted as a webhook body with that
    signature, it is refused as malformed: nothing is stored."""
    assert crc_token_refusal(token) is None
    limiter = CrcLimiter(1.0, 1)
    answer = check_crc(x_settings(), token, limiter)
    assert answer.status == 200
    raw = token.encode()
    assert answer.body["response_token"] == sign(raw)
    verdict = check_post(x_settings(), raw, {"x-twitter-webhooks-signature": sign(raw)},
                         ACCOUNT, now=NOW)
    assert verdict.status == 400 and verdict.events == []


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3), max_leaves=10))
def test_every_json_object_or_array_is_refused_as_a_token(value):
    for text in (json.dumps(value), json.dumps(value, separators=(",", ":"))):
        if isinstance(value, (dict, list)) or isinstance(value, str):
            assert crc_token_refusal(text) is not None


@pytest.mark.parametrize(("body", "reason"), [
    (dm_body(NOW).decode(), "too_long"),
    (json.dumps({"for_user_id": ACCOUNT, "direct_message_events": []}), "charset"),
])
def test_the_crc_route_does_not_sign_a_forged_body(caplog, body, reason):
    with caplog.at_level(logging.INFO):
        verdict = check_crc(x_settings(), body, CrcLimiter(1.0, 5))
    assert verdict.status == 400
    assert "response_token" not in verdict.body
    assert sign(body.encode())[7:] not in json.dumps(verdict.body)
    assert f"x.crc.refused reason={reason}" in caplog.text
    assert PERSON not in caplog.text and "supprimez" not in caplog.text


# ------------------------------------------------------------------------ the CRC rate limit


def test_the_bucket_allows_a_burst_then_its_rate():
    clock = FakeClock()
    bucket = CrcLimiter(2.0, 3, clock=clock)
    assert [bucket.take() for _ in range(5)] == [True, True, True, False, False]
    clock.now += 0.4  # 0.8 of a token
    assert not bucket.take()
    clock.now += 0.1  # one token
    assert bucket.take() and not bucket.take()
    clock.now += 3600  # a long idle refills to the burst, not beyond
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_a_clock_going_back_adds_nothing():
    clock = FakeClock()
    bucket = CrcLimiter(1.0, 1, clock=clock)
    assert bucket.take()
    clock.now -= 100
    assert not bucket.take()


def test_bad_bucket_parameters_are_refused():
    with pytest.raises(ValueError):
        CrcLimiter(0, 1)
    with pytest.raises(ValueError):
        CrcLimiter(1.0, 0)


def test_refused_tokens_count_against_the_limit_and_429_comes_first():
    clock = FakeClock()
    limiter = CrcLimiter(1.0, 2, clock=clock)
    assert check_crc(x_settings(), "{}", limiter).status == 400
    assert check_crc(x_settings(), None, limiter).status == 400
    refused = check_crc(x_settings(), "good-token", limiter)
    assert refused.status == 429 and "response_token" not in refused.body
    clock.now += 1.0
    assert check_crc(x_settings(), "good-token", limiter).status == 200


def test_crc_settings():
    default = x_settings()
    assert default.crc_burst == 10 and default.crc_per_second == 1.0
    custom = x_settings(crc_burst="3", crc_per_second="0.5")
    assert custom.crc_burst == 3 and custom.crc_per_second == 0.5
    for bad in ({"crc_burst": 0}, {"crc_burst": "x"}, {"crc_per_second": 0},
                {"crc_per_second": "inf"}, {"crc_per_second": -1}):
        with pytest.raises(XConfigError, match="crc_"):
            x_settings(**bad)


# ------------------------------------------------------------------------ the age window


def test_age_refusal_bounds():
    day = 86_400.0
    assert age_refusal(NOW, NOW, day, 300) is None
    assert age_refusal(NOW - timedelta(seconds=day), NOW, day, 300) is None
    assert age_refusal(NOW - timedelta(seconds=day + 1), NOW, day, 300) == "stale"
    assert age_refusal(NOW + timedelta(seconds=300), NOW, day, 300) is None
    assert age_refusal(NOW + timedelta(seconds=301), NOW, day, 300) == "future"


def test_event_time_from_x_timestamps_or_the_snowflake():
    sent = NOW - timedelta(hours=3)
    [dm] = parse_webhook(decode_body(dm_body(sent)), ACCOUNT)
    assert event_time(dm) == sent.replace(microsecond=0) + timedelta(
        milliseconds=millis(sent) % 1000)
    # Without created_timestamp (never from X), the id's own time.
    [bare] = parse_webhook(decode_body(dm_body(None, event_id=snowflake(sent))), ACCOUNT)
    assert abs(event_time(bare) - sent) < timedelta(milliseconds=1)
    tweet = InboundTweet(snowflake(sent), PERSON, "p", "@acc", (), ("acc",), None, False,
                         None)
    assert abs(event_time(tweet) - sent) < timedelta(milliseconds=1)
    dated = InboundTweet("1", PERSON, "p", "@acc", (), ("acc",), None, False, sent)
    assert event_time(dated) == sent


def test_xaa_and_v1_mentions_are_dated_by_their_payload():
    sent = NOW - timedelta(days=3)
    xaa = {"data": {"event_type": "post.mention.create", "filter": {"user_id": ACCOUNT},
                    "payload": {"id": snowflake(NOW), "author_id": PERSON, "text": "@acc aide",
                                "created_at": sent.strftime("%Y-%m-%dT%H:%M:%S.000Z")}}}
    [mention] = parse_webhook(xaa, ACCOUNT)
    assert event_time(mention) == sent
    v1 = {"for_user_id": ACCOUNT, "tweet_create_events": [{
        "id_str": snowflake(NOW), "text": "@acc aide", "user": {"id_str": PERSON},
        "created_at": sent.strftime("%a %b %d %H:%M:%S +0000 %Y")}]}
    [tweet] = parse_webhook(v1, ACCOUNT)
    assert event_time(tweet) == sent


def test_a_stale_signed_body_gets_200_and_stores_nothing(caplog):
    body = dm_body(NOW - timedelta(days=2))
    with caplog.at_level(logging.INFO):
        verdict = check_post(x_settings(), body, {"x-twitter-webhooks-signature": sign(body)},
                             ACCOUNT, now=NOW)
    assert (verdict.status, verdict.events, verdict.stale) == (200, [], 1)
    assert "x.webhook.stale_events count=1 of=1" in caplog.text
    assert PERSON not in caplog.text


def test_a_future_event_is_refused_and_fresh_ones_kept_in_order():
    dms = [InboundDM(str(i), PERSON, ACCOUNT, f"m{i}", millis(at), None, None)
           for i, at in enumerate([NOW - timedelta(hours=1), NOW - timedelta(days=2),
                                   NOW + timedelta(hours=1), NOW, NOW + timedelta(seconds=60)])]
    fresh, left_out = fresh_events(dms, x_settings(), NOW)
    assert [dm.event_id for dm in fresh] == ["0", "3", "4"] and left_out == 2


def test_the_window_is_configurable():
    body = dm_body(NOW - timedelta(seconds=30))
    headers = {"x-twitter-webhooks-signature": sign(body)}
    assert len(check_post(x_settings(), body, headers, ACCOUNT, now=NOW).events) == 1
    short = x_settings(max_event_age_seconds=10)
    verdict = check_post(short, body, headers, ACCOUNT, now=NOW)
    assert verdict.events == [] and verdict.stale == 1


def test_age_settings():
    default = x_settings()
    assert default.max_event_age_seconds == 86_400 and default.max_event_skew_seconds == 300
    with pytest.raises(XConfigError, match="poll_backfill_seconds"):
        x_settings(mode="polling", max_event_age_seconds=60)  # below the backfill (600 s)
    assert x_settings(mode="polling", max_event_age_seconds=60,
                      poll_backfill_seconds=30).max_event_age_seconds == 60
    assert x_settings(max_event_age_seconds=60).poll_backfill_seconds == 600  # webhook mode
    with pytest.raises(XConfigError, match="max_event_age_seconds"):
        x_settings(max_event_age_seconds=0)
    with pytest.raises(XConfigError, match="max_event_skew_seconds"):
        x_settings(max_event_skew_seconds="soon")


# ------------------------------------------------------------------------ ids in logs


def test_person_ref_is_the_conversation_ref_and_hides_the_id():
    assert person_ref(PERSON) == ref(f"x:{PERSON}")
    assert PERSON not in person_ref(PERSON) and person_ref(PERSON).startswith("p-")
    assert person_ref(None) == ref(None)
