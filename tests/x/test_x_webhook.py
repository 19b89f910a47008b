"""What the X webhook answers (connectors/x/webhook.py) and the channel's configuration."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.x.config import XConfigError, XSettings
from connectors.x.payloads import InboundDM
from connectors.x.webhook import CrcLimiter, check_crc, check_post

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "sandbox" / "x_emulator" / "fixtures" / "aaa_direct_message_events_docs.json"
SECRET = "consumer-secret-for-tests"
CREDENTIALS = {
    "consumer_key": "ck",
    "consumer_secret": SECRET,
    "access_token": "at",
    "access_token_secret": "ats",
}


def settings(**extra) -> XSettings:
    return XSettings.from_credentials({**CREDENTIALS, **extra})


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode()}


def fixture_body() -> tuple[bytes, str]:
    payload = json.loads(FIXTURE.read_text())
    return json.dumps(payload).encode(), str(payload["for_user_id"])


def fixture_time() -> datetime:
    """When the documentation's DM was sent (its created_timestamp): the fixture is from 2018,
    so the checks below run as if it were a minute later."""
    payload = json.loads(FIXTURE.read_text())
    millis = int(payload["direct_message_events"][0]["created_timestamp"])
    return datetime.fromtimestamp(millis / 1000, timezone.utc)


def test_a_signed_batch_is_accepted_with_its_events():
    body, account = fixture_body()
    verdict = check_post(settings(), body, signed(body), account,
                         now=fixture_time() + timedelta(minutes=1))
    assert verdict.status == 200 and verdict.stale == 0
    dms = [e for e in verdict.events if isinstance(e, InboundDM)]
    assert dms and all(dm.sender_id != account for dm in dms)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"x-twitter-webhooks-signature": ""}, 403),
        ({"x-twitter-webhooks-signature": "sha256=AAAA"}, 403),
        ("other-secret", 403),
    ],
)
def test_bad_signatures_are_refused_before_parsing(headers, status):
    body, account = fixture_body()
    if headers == "other-secret":
        headers = signed(body, "other-secret")
    verdict = check_post(settings(), body, headers, account)
    assert verdict.status == status and verdict.events == []


def test_malformed_too_large_and_not_ready():
    body = b'{"direct_message_events": "not a list"}'
    assert check_post(settings(), body, signed(body), "1").status == 400
    body = b"not json at all"
    assert check_post(settings(), body, signed(body), "1").status == 400
    big = b"{" + b" " * 1_000_001 + b"}"
    assert check_post(settings(), big, signed(big), "1").status == 413
    assert check_post(settings(), b"{}", {"content-length": "5000000"}, "1").status == 413
    body, account = fixture_body()
    assert check_post(settings(), body, signed(body), None).status == 503


def test_crc():
    token = "crc-token-1"
    expected = base64.b64encode(hmac.new(SECRET.encode(), token.encode(),
                                         hashlib.sha256).digest()).decode()
    limiter = CrcLimiter(1.0, 10)
    verdict = check_crc(settings(), token, limiter)
    assert verdict.status == 200 and verdict.body == {"response_token": f"sha256={expected}"}
    assert check_crc(settings(), None, limiter).status == 400
    assert check_crc(settings(), "", limiter).status == 400


@pytest.mark.parametrize("missing", sorted(CREDENTIALS))
def test_the_channel_refuses_to_start_without_a_secret(missing):
    credentials = {k: v for k, v in CREDENTIALS.items() if k != missing}
    with pytest.raises(XConfigError, match=missing):
        XSettings.from_credentials(credentials)


@pytest.mark.parametrize("port", ["0", "70000", "abc", "-1"])
def test_bad_ingress_port_is_refused(port):
    with pytest.raises(XConfigError, match="ingress_port"):
        settings(ingress_port=port)


@pytest.mark.parametrize(("given", "pace"), [(None, 3), ("5", 5), (0, 0), ("off", None),
                                             (False, None)])
def test_the_dm_pace_burst_setting(given, pace):
    assert settings(**({} if given is None else {"budget_pace_burst": given})
                    ).budget_pace_burst == pace


@pytest.mark.parametrize("given", ["-1", "vite", "1.5"])
def test_a_bad_dm_pace_burst_is_refused(given):
    with pytest.raises(XConfigError, match="budget_pace_burst"):
        settings(budget_pace_burst=given)


def test_ingress_port_and_defaults():
    assert settings().ingress_port is None
    configured = settings(ingress_port="5006", hashtags=["#DroitAuTweet", "autre"])
    assert configured.ingress_port == 5006 and configured.ingress_host == "127.0.0.1"
    assert configured.hashtags == ("DroitAuTweet", "autre")


def test_the_dm_link_in_invitations_is_off_unless_asked(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("X_INVITATION_DM_LINK", raising=False)
    assert settings().invitation_dm_link is False
    for on in (True, "true", "yes", "1", "ON"):
        assert settings(invitation_dm_link=on).invitation_dm_link is True
    for off in (False, "false", "no", "0", ""):
        assert settings(invitation_dm_link=off).invitation_dm_link is False
    with pytest.raises(XConfigError, match="invitation_dm_link"):
        settings(invitation_dm_link="peut-être")
    monkeypatch.setenv("X_INVITATION_DM_LINK", "true")  # README: the variable
    assert settings().invitation_dm_link is True
    assert settings(invitation_dm_link=False).invitation_dm_link is False  # the key wins


def test_the_prices_file_is_checked_at_start(tmp_path: Path):
    assert settings().cost_meter().prices["dm_sent"] == 15_000
    assert settings(prices_file="legacy-2022").cost_meter().prices["dm_sent"] == 15_000
    broken = tmp_path / "prices.yml"
    broken.write_text("prices_usd: {dm_sent: 0.015}\n", encoding="utf-8")
    with pytest.raises(XConfigError, match="prices_file"):
        settings(prices_file=str(broken))


def test_a_batch_says_what_x_delivered_the_stale_events_too():
    body, account = fixture_body()
    late = check_post(settings(), body, signed(body), account,
                      now=fixture_time() + timedelta(days=3))
    assert late.status == 200 and late.events == [] and late.stale == len(late.delivered) > 0


XAA_FIXTURES = ROOT / "tests" / "x" / "fixtures"


def test_an_encrypted_chat_is_acknowledged_with_nothing_to_answer():
    payload = json.loads((XAA_FIXTURES / "xaa_chat_received_docs.json").read_text())
    body, account = json.dumps(payload).encode(), payload["data"]["filter"]["user_id"]
    created = datetime.fromtimestamp(1784841183370 / 1000, timezone.utc)
    verdict = check_post(settings(), body, signed(body), account, now=created)
    assert verdict.status == 200 and verdict.events == []
    assert [chat.event_id for chat in verdict.chats] == ["e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6"]


@pytest.mark.parametrize(("fixture", "today", "warned"), [
    ("aaa", datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc), False),
    ("aaa", datetime(2027, 1, 1, tzinfo=timezone.utc), True),
    ("xaa", datetime(2027, 3, 1, tzinfo=timezone.utc), False),
])
def test_an_account_activity_body_is_a_warning_from_2027(fixture, today, warned, caplog):
    if fixture == "aaa":
        body, account = fixture_body()
    else:
        payload = json.loads((XAA_FIXTURES / "xaa_dm_received_docs.json").read_text())
        body, account = json.dumps(payload).encode(), payload["data"]["filter"]["user_id"]
    with caplog.at_level("WARNING", logger="connectors.x.webhook"):
        verdict = check_post(settings(), body, signed(body), account, today=lambda: today)
    assert verdict.status == 200  # still acknowledged: X delivered it
    assert ("x.aaa.after_end" in caplog.text) is warned


def test_stream_mode_needs_the_bearer_token():
    with pytest.raises(XConfigError, match="bearer_token"):
        settings(mode="stream")
    configured = settings(mode="stream", bearer_token="bt", stream_retry_seconds="0.5")
    assert configured.mode == "stream" and configured.stream_retry_seconds == 0.5
    assert configured.stream_idle_seconds == 30.0
    assert configured.send_retry_seconds == 5.0
    assert settings(send_retry_seconds="0.5").send_retry_seconds == 0.5
