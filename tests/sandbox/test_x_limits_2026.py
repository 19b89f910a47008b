"""The X sandbox speaks X as it is at the end of 2026: limits, headers, time scale and costs.

Expected figures are X's documented ones (/work/shared/X-API-2026.md: 15 DM sends per 15
minutes and 1,440 per 24 hours, 15 DM reads per 15 minutes; DM sent $0.015, ...), written here
again so that a wrong limits file fails. Requests go through tweepy's AsyncClient as the
connector sends them.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import tweepy
import yaml

import sandbox.x_emulator
from sandbox.x_emulator.__main__ import parse_args
from sandbox.x_emulator.profiles import ProfileError, load_profile

FIXTURES = Path(sandbox.x_emulator.__file__).parent / "fixtures"
ROOT = Path(sandbox.x_emulator.__file__).parents[2]
MARIE = {"id": "4242424242", "screen_name": "marie_dupont", "name": "Marie Dupont"}
JEAN = {"id": "5151515151", "screen_name": "jean_martin", "name": "Jean Martin"}
PRICES = {"dm_sent": 0.015, "dm_event_read": 0.010, "dm_received": 0.010,
          "post_mention_received": 0.005, "post_created": 0.015,
          "post_created_with_url": 0.20, "post_created_summoned": 0.010, "post_read": 0.005,
          "owned_read": 0.001, "user_read": 0.010}


class FakeClock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def body_429() -> Any:
    return json.loads((FIXTURES / "error_429_too_many_requests.json").read_text())


async def writes(control, persona: dict[str, str], text: str = "Bonjour") -> None:
    await control.dm(persona["id"], text, screen_name=persona["screen_name"],
                     name=persona["name"])


async def send(client, text: str = "Bien reçu") -> Any:
    return await client.create_direct_message(participant_id=MARIE["id"], text=text)


# The limits file


def test_the_2026_file_has_x_documented_limits_and_prices():
    profile = load_profile()
    assert profile.name == "x-2026"

    def windows(key: str) -> set[tuple[str, int, int, str]]:
        return {(w.scope, w.limit, w.seconds, w.headers) for w in profile.limits[key]}

    assert windows("dm_send") == {("user", 15, 900, "x-rate-limit"),
                                  ("user", 1440, 86400, "x-user-limit-24hour"),
                                  ("any", 1440, 86400, "x-app-limit-24hour")}
    assert windows("dm_events") == {("user", 15, 900, "x-rate-limit")}
    assert windows("webhooks") == {("any", 450, 900, "x-rate-limit")}
    assert windows("tweets_create") == {("user", 100, 900, "x-rate-limit"),
                                        ("any", 10000, 86400, "x-app-limit-24hour")}
    assert profile.prices == PRICES
    assert load_profile("legacy-2022").prices == PRICES  # a benchmark's cost stays today's


@pytest.mark.parametrize(("change", "message"), [
    (lambda raw: raw["limits"].pop("dm_send"), "limits must list exactly"),
    (lambda raw: raw["limits"]["dm_send"][0].update(limit=0), "positive integer"),
    (lambda raw: raw["limits"]["dm_send"][0].update(scope="firm"), "scope must be"),
    (lambda raw: raw["limits"]["dm_send"][1].update(headers="x-rate-limit"), "same headers"),
    (lambda raw: raw["prices_usd"].pop("dm_sent"), "prices_usd must give exactly"),
    (lambda raw: raw["prices_usd"].update(dm_sent="cheap"), "non-negative number"),
])
def test_a_wrong_limits_file_is_refused_by_name(tmp_path, change, message):
    raw = yaml.safe_load((FIXTURES.parent / "limits" / "x-2026.yml").read_text())
    change(raw)
    path = tmp_path / "wrong.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ProfileError, match=message) as info:
        load_profile(str(path))
    assert str(path) in str(info.value)
    with pytest.raises(ProfileError, match="no limits file"):
        load_profile("x-1999")


def test_cli_options_and_their_environment_defaults(capsys):
    args = parse_args(["--limits", "legacy-2022", "--time-scale", "60"], environ={})
    assert (args.limits, args.time_scale) == ("legacy-2022", 60.0)
    args = parse_args([], environ={"X_SANDBOX_LIMITS": "legacy-2022",
                                   "X_SANDBOX_TIME_SCALE": "900"})
    assert (args.limits, args.time_scale) == ("legacy-2022", 900.0)
    for bad in (["--limits", "x-1999"], ["--time-scale", "0"], ["--time-scale", "vite"]):
        with pytest.raises(SystemExit):
            parse_args(bad, environ={})
    with pytest.raises(SystemExit):
        parse_args([], environ={"X_SANDBOX_TIME_SCALE": "-1"})
    assert "no limits file" in capsys.readouterr().err


# Headers and 429s


@pytest.mark.asyncio
async def test_the_16th_dm_in_a_window_gets_x_429(start_emulator, make_client, control_for):
    clock = FakeClock()
    async with start_emulator(clock=clock, timestamp_skew=None) as emu, \
            make_client(emu, return_type=aiohttp.ClientResponse) as client:
        control = control_for(emu)
        await writes(control, MARIE)
        opened = clock.now
        for sent in range(1, 16):
            response = await send(client, f"Message {sent}")
            assert response.status == 201
            assert response.headers["x-rate-limit-limit"] == "15"
            assert response.headers["x-rate-limit-remaining"] == str(15 - sent)
            assert response.headers["x-rate-limit-reset"] == str(math.ceil(opened + 900))
            assert response.headers["x-user-limit-24hour-limit"] == "1440"
            assert response.headers["x-user-limit-24hour-remaining"] == str(1440 - sent)
            assert response.headers["x-user-limit-24hour-reset"] == str(
                math.ceil(opened + 86400))
            clock.now += 10
        with pytest.raises(tweepy.TooManyRequests) as info:
            await send(client, "Message 16")
        response = info.value.response
        assert response.status == 429
        assert await response.json(content_type=None) == body_429()
        assert response.headers["x-rate-limit-remaining"] == "0"
        assert info.value.reset_time == math.ceil(opened + 900)
        assert response.headers["x-user-limit-24hour-remaining"] == "1425"  # not counted
        outbox = await control.get("/_control/outbox")
        assert [dm["text"] for dm in outbox["dms"]] == [f"Message {n}" for n in range(1, 16)]
        # Reads have their own window.
        assert (await client.get_direct_message_events()).status == 200


@pytest.mark.asyncio
async def test_dm_reads_are_15_per_15_minutes(start_emulator, make_client, control_for):
    clock = FakeClock()
    async with start_emulator(clock=clock, timestamp_skew=None) as emu, \
            make_client(emu) as client:
        await writes(control_for(emu), MARIE)
        for _ in range(15):
            page = await client.get_direct_message_events()
            assert len(page.data) == 1
        for read in (client.get_direct_message_events(),
                     client.get_direct_message_events(participant_id=MARIE["id"])):
            with pytest.raises(tweepy.TooManyRequests) as info:
                await read
            headers = info.value.response.headers
            assert (headers["x-rate-limit-limit"], headers["x-rate-limit-remaining"]) == (
                "15", "0")
            assert "x-user-limit-24hour-limit" not in headers
        clock.now += 900
        assert len((await client.get_direct_message_events()).data) == 1


@pytest.mark.asyncio
async def test_the_window_and_the_day_are_scaled(start_emulator, make_client, control_for):
    """--time-scale 60: 15 minutes last 15 s and 24 hours 24 min, on the real clock."""
    clock = FakeClock()
    async with start_emulator(clock=clock, timestamp_skew=None, time_scale=60) as emu, \
            make_client(emu, return_type=aiohttp.ClientResponse) as client:
        await writes(control_for(emu), MARIE)
        opened = clock.now
        for _ in range(15):
            last = await send(client)
        assert last.headers["x-rate-limit-reset"] == str(math.ceil(opened + 15))
        assert last.headers["x-user-limit-24hour-reset"] == str(math.ceil(opened + 24 * 60))
        clock.now = opened + 14.5
        with pytest.raises(tweepy.TooManyRequests) as info:
            await send(client)
        clock.now = info.value.reset_time  # a client waits until x-rate-limit-reset
        response = await send(client)
        assert response.status == 201
        assert response.headers["x-rate-limit-remaining"] == "14"
        assert response.headers["x-user-limit-24hour-remaining"] == str(1440 - 16)
        clock.now = opened + 24 * 60  # a (scaled) day later, the daily count starts again
        response = await send(client)
        assert response.headers["x-user-limit-24hour-remaining"] == "1439"


@pytest.mark.asyncio
async def test_waiting_until_the_scaled_reset_on_the_real_clock_succeeds(
        start_emulator, make_client, control_for):
    """Real clock, scale 300 (a 15-minute window lasts 3 s): a client that sleeps until
    x-rate-limit-reset is accepted. (tweepy 4.17's own wait_on_rate_limit cannot be used
    for this: its AsyncClient retry of a user-context request fails with AttributeError.)"""
    async with start_emulator(timestamp_skew=None, time_scale=300) as emu, \
            make_client(emu) as client:
        control = control_for(emu)
        await writes(control, MARIE)
        for sent in range(15):
            await send(client, f"Message {sent}")
        with pytest.raises(tweepy.TooManyRequests) as info:
            await send(client, "Message 15")
        assert 0 < info.value.reset_time - time.time() <= 3 + 1
        await asyncio.sleep(max(0.0, info.value.reset_time - time.time()))
        await send(client, "Message 15")
        sends = [r for r in await control.get("/_control/requests")
                 if r["path"].endswith("/messages")]
        assert [r["status"] for r in sends] == [201] * 15 + [429, 201]
        outbox = await control.get("/_control/outbox")
        assert [dm["text"] for dm in outbox["dms"]] == [f"Message {n}" for n in range(16)]


@pytest.mark.asyncio
async def test_the_daily_cap_has_its_own_headers(tmp_path, start_emulator, make_client,
                                                 control_for):
    """A limits file with a small 24-hour cap (the path option): when the day is used up,
    the 429 says so in x-user-limit-24hour-* while the 15-minute window still has room."""
    raw = yaml.safe_load((FIXTURES.parent / "limits" / "x-2026.yml").read_text())
    raw["limits"]["dm_send"] = [
        {"scope": "user", "limit": 15, "seconds": 900, "headers": "x-rate-limit"},
        {"scope": "user", "limit": 20, "seconds": 86400, "headers": "x-user-limit-24hour"}]
    path = tmp_path / "small-day.yml"
    path.write_text(yaml.safe_dump(raw))
    clock = FakeClock()
    async with start_emulator(clock=clock, timestamp_skew=None, limits=str(path)) as emu, \
            make_client(emu) as client:
        await writes(control_for(emu), MARIE)
        opened = clock.now
        for _ in range(15):
            await send(client)
        clock.now += 900
        for _ in range(5):
            await send(client)
        with pytest.raises(tweepy.TooManyRequests) as info:
            await send(client)
        headers = info.value.response.headers
        assert headers["x-user-limit-24hour-remaining"] == "0"
        assert headers["x-user-limit-24hour-reset"] == str(math.ceil(opened + 86400))
        assert headers["x-rate-limit-remaining"] == "10"
        assert "x-app-limit-24hour-limit" not in headers
        clock.now = opened + 86399
        with pytest.raises(tweepy.TooManyRequests):
            await send(client)
        clock.now = opened + 86400
        await send(client)


@pytest.mark.asyncio
async def test_legacy_limits_on_request(start_emulator, make_client, control_for):
    async with start_emulator(limits="legacy-2022") as emu, \
            make_client(emu, return_type=aiohttp.ClientResponse) as client:
        await writes(control_for(emu), MARIE)
        for _ in range(20):
            response = await send(client)
            assert response.status == 201
        assert response.headers["x-rate-limit-limit"] == "200"
        assert response.headers["x-rate-limit-remaining"] == "180"
        assert "x-user-limit-24hour-limit" not in response.headers
        for _ in range(20):
            assert (await client.get_direct_message_events()).status == 200
        info = await control_for(emu).get("/_control/info")
        assert info["limits_profile"] == "legacy-2022"
        assert info["rate_limits"]["dm_events"] == 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.asyncio
async def test_the_command_line_serves_the_chosen_limits(http):
    port = _free_port()
    env = {**os.environ, "X_SANDBOX_LIMITS": "legacy-2022"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.x_emulator", "--port", str(port), "--time-scale", "60",
         "--log-level", "WARNING"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        info = None
        for _ in range(100):
            try:
                async with http.get(f"http://127.0.0.1:{port}/_control/info") as response:
                    info = await response.json()
                    break
            except aiohttp.ClientConnectionError:
                assert process.poll() is None, process.stdout.read().decode()
                await asyncio.sleep(0.1)
        assert info is not None
        assert (info["limits_profile"], info["time_scale"]) == ("legacy-2022", 60)
        assert info["rate_limit_windows"]["dm_send"][0]["real_seconds"] == 15
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


# Costs


@pytest.mark.asyncio
async def test_billable_calls_are_counted_with_their_price(
        start_emulator, receiver, make_client, control_for, http):
    # Replies to any post allowed: the unsummoned reply's price ($0.015) is counted too.
    async with start_emulator(webhook_url=receiver.url, limits="legacy-2022",
                              summoned_replies_only=False) as emu:
        control = control_for(emu)
        username = emu.config.account_username
        async with make_client(emu) as client:
            await writes(control, MARIE)  # delivered: dm.received
            await writes(control, JEAN)
            await send(client, "Bonjour Marie")  # the echo to the webhook is not billed
            await send(client, "Encore")
            for _ in range(3):  # 4 events, read three times: charged once each today
                page = await client.get_direct_message_events()
                assert len(page.data) == 4
            mention = await control.tweet("jean_martin", f"@{username} une question")
            plain = await control.tweet("jean_martin", "rien à voir #droitautweet")
            await control.post("/_control/redeliver", {"event_id": mention["tweet_id"]})
            await client.create_tweet(text="Réponse", in_reply_to_tweet_id=mention["tweet_id"])
            await client.create_tweet(text="Voir", in_reply_to_tweet_id=plain["tweet_id"])
            await client.create_tweet(text="Lire https://example.org/guide")
            await client.get_me()
            await client.get_me()
            await client.get_users_mentions(emu.config.account_id)  # owned read: 1 post
            found = await client.search_recent_tweets("#droitautweet")  # 1 post
            assert len(found.data) == 1
        usage = await control.get("/_control/usage")
    expected = {"dm_sent": 2, "dm_event_read": 4, "dm_received": 2,
                "post_mention_received": 1, "post_created": 1, "post_created_with_url": 1,
                "post_created_summoned": 1, "post_read": 1, "owned_read": 1, "user_read": 1}
    assert usage["counts"] == expected
    assert usage["not_charged_again"]["dm_event_read"] == 8
    assert usage["not_charged_again"]["post_mention_received"] == 1  # the redelivery
    assert usage["prices_usd"] == PRICES
    cost = sum(count * PRICES[kind] for kind, count in expected.items())
    assert usage["cost_usd"] == pytest.approx(cost)
    assert usage["cost_usd"] == pytest.approx(0.03 + 0.04 + 0.02 + 0.005 + 0.015 + 0.2
                                              + 0.01 + 0.005 + 0.001 + 0.01)
    assert usage["cost_usd_by_kind"]["post_created_with_url"] == pytest.approx(0.2)


@pytest.mark.asyncio
async def test_usage_can_be_reset_and_refusals_cost_nothing(start_emulator, make_client,
                                                            control_for):
    async with start_emulator(timestamp_skew=None) as emu, make_client(emu) as client:
        control = control_for(emu)
        await writes(control, MARIE)
        with pytest.raises(tweepy.Forbidden):  # never wrote: refused, yet in the window
            await client.create_direct_message(participant_id=JEAN["id"], text="Bonjour")
        for _ in range(14):
            await send(client)
        with pytest.raises(tweepy.TooManyRequests):
            await send(client)
        with pytest.raises(tweepy.TooManyRequests):
            await send(client)
        await control.post("/_control/faults", {"status": 429, "path_prefix": "/2/users/me"})
        with pytest.raises(tweepy.TooManyRequests):  # injected: not X's limits
            await client.get_me()
        before = await control.call("DELETE", "/_control/usage")
        assert before["counts"]["dm_sent"] == 14
        assert before["cost_usd"] == pytest.approx(14 * 0.015)
        assert before["rate_limited_429"] == {"dm_send": 2}
        after = await control.get("/_control/usage")
        assert after["cost_usd"] == 0
        assert set(after["counts"].values()) == {0}
        assert after["rate_limited_429"] == {}
        # The day's deduplication starts again too: the same event is charged anew.
        await client.get_direct_message_events()
        assert (await control.get("/_control/usage"))["counts"]["dm_event_read"] == 15


# Summoned replies


@pytest.mark.asyncio
async def test_replies_only_when_summoned_by_default(start_emulator, make_client, control_for):
    async with start_emulator() as emu, \
            make_client(emu) as client:
        control = control_for(emu)
        username = emu.config.account_username
        hashtag = await control.tweet("jean_martin", "#droitautweet ma préfecture")
        mention = await control.tweet("jean_martin", f"@{username} #droitautweet bonjour")
        with pytest.raises(tweepy.Forbidden) as info:
            await client.create_tweet(text="Écrivez-nous", in_reply_to_tweet_id=hashtag["tweet_id"])
        assert await info.value.response.json(content_type=None) == {
            "detail": "Reply to this conversation is not allowed because you have not been "
                      "mentioned or otherwise engaged by the author of the post you are "
                      "replying to.",
            "type": "about:blank", "title": "Forbidden", "status": 403}
        ours = await client.create_tweet(text="Écrivez-nous en DM",
                                         in_reply_to_tweet_id=mention["tweet_id"])
        answer = await control.tweet("jean_martin", "merci", in_reply_to_tweet_id=ours.data["id"])
        await client.create_tweet(text="Avec plaisir", in_reply_to_tweet_id=answer["tweet_id"])
        await client.create_tweet(text="Précision", in_reply_to_tweet_id=ours.data["id"])
        # A quote of one of the account's posts summons it, without any @mention.
        quote = await control.tweet("jean_martin", "je cite ceci", quote_of=ours.data["id"])
        assert quote["delivered"] is True
        await client.create_tweet(text="Merci de la citation",
                                  in_reply_to_tweet_id=quote["tweet_id"])
        outbox = await control.get("/_control/outbox")
        assert [t["in_reply_to_tweet_id"] for t in outbox["tweets"]] == [
            mention["tweet_id"], answer["tweet_id"], ours.data["id"], quote["tweet_id"]]
        usage = await control.get("/_control/usage")
    # Replies to a summoning post cost $0.01; the thread's own post $0.015; the refusal nothing.
    assert usage["counts"]["post_created_summoned"] == 3
    assert usage["counts"]["post_created"] == 1
