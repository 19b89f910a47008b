"""The emulator's X Activity API (sandbox/x_emulator/activity.py, routes_activity.py) over
HTTP on 127.0.0.1, read with the channel's own parsers (connectors/x/activity.py, payloads.py):
subscriptions, signed XAA webhook deliveries, the persistent stream, its backfill and cuts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from oauthlib.oauth1 import Client as OAuthClient

from connectors.x.activity import (
    LineSplitter,
    parse_created,
    parse_stream_line,
    parse_subscriptions,
)
from connectors.x.payloads import InboundDM, InboundTweet, encrypted_chats, parse_webhook
from connectors.x.signatures import SIGNATURE_HEADER, verify_webhook_signature
from sandbox.x_emulator.config import EmulatorConfig

PERSON = {"sender_id": "4242424242", "screen_name": "marie_dupont", "name": "Marie Dupont"}


def oauth(cfg: EmulatorConfig, method: str, url: str) -> dict[str, str]:
    signer = OAuthClient(cfg.consumer_key, cfg.consumer_secret, cfg.access_token,
                         cfg.access_token_secret)
    return {"Authorization": signer.sign(url, method)[1]["Authorization"]}


def bearer(cfg: EmulatorConfig) -> dict[str, str]:
    return {"Authorization": f"Bearer {cfg.bearer_token}"}


async def call(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str],
               body: Any = None) -> tuple[int, Any]:
    async with http.request(method, url, headers=headers, json=body) as response:
        return response.status, await response.json(content_type=None)


class StreamReader:
    """``GET /2/activity/stream`` read line by line, as the channel reads it."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.splitter = LineSplitter(1_000_000)
        self.lines: list[bytes] = []

    async def line(self, timeout: float = 10.0) -> bytes | None:
        """The next line, or None when the stream ended."""
        while not self.lines:
            try:
                chunk = await asyncio.wait_for(self.response.content.readany(), timeout)
            except aiohttp.ClientPayloadError:
                return None
            if not chunk:
                return None
            self.lines += self.splitter.feed(chunk)
        return self.lines.pop(0)

    async def event(self, timeout: float = 10.0) -> dict:
        while True:
            raw = await self.line(timeout)
            assert raw is not None, "the stream ended"
            parsed = parse_stream_line(raw)
            if parsed.kind == "event":
                return parsed.body


async def test_subscriptions_are_created_listed_updated_and_deleted(
        start_emulator, receiver, http) -> None:
    async with start_emulator(webhook_url=receiver.url, subscribe="none") as emu:
        cfg = emu.config
        url = emu.base_url + "/2/activity/subscriptions"
        wanted = {"event_type": "dm.received", "filter": {"user_id": cfg.account_id},
                  "tag": "permanence"}
        # A private event needs the user's own context: not the app's, not another user.
        status, refused = await call(http, "POST", url, bearer(cfg), wanted)
        assert status == 403 and "private event" in refused["detail"]
        other = {**wanted, "filter": {"user_id": "99"}}
        status, _ = await call(http, "POST", url, oauth(cfg, "POST", url), other)
        assert status == 403
        status, body = await call(http, "POST", url, oauth(cfg, "POST", url),
                                  {**wanted, "event_type": "dm.nonsense"})
        assert status == 400

        status, created = await call(http, "POST", url, oauth(cfg, "POST", url), wanted)
        assert status == 200 and created["meta"] == {"total_subscriptions": 1}
        subscription = parse_created(created)
        assert (subscription.event_type, subscription.user_id, subscription.webhook_id,
                subscription.tag) == ("dm.received", cfg.account_id, None, "permanence")

        status, listed = await call(http, "GET", url, bearer(cfg))
        assert status == 200 and parse_subscriptions(listed) == ([subscription], None)
        assert listed["meta"] == {"total_subscriptions": 1}

        webhook_id = emu.state.webhooks and next(iter(emu.state.webhooks))
        one = f"{url}/{subscription.subscription_id}"
        status, _ = await call(http, "PUT", one, oauth(cfg, "PUT", one),
                               {"webhook_id": webhook_id})
        assert status == 403  # app-only endpoint
        status, updated = await call(http, "PUT", one, bearer(cfg), {"webhook_id": webhook_id})
        assert status == 200 and parse_created(updated).webhook_id == webhook_id
        status, _ = await call(http, "PUT", one, bearer(cfg), {"event_type": "dm.sent"})
        assert status == 400  # a new event type is a new subscription

        assert await call(http, "DELETE", one, bearer(cfg)) == (
            200, {"data": {"deleted": True}, "meta": {"total_subscriptions": 0}})
        status, missing = await call(http, "DELETE", one, bearer(cfg))
        assert status == 404 and missing["resource_type"] == "subscription"
        assert await call(http, "GET", url, bearer(cfg)) == (
            200, {"data": [], "meta": {"total_subscriptions": 0}})


async def test_xaa_webhook_deliveries_are_signed_and_parsed(start_emulator, receiver,
                                                            control_for, make_client) -> None:
    async with start_emulator(webhook_url=receiver.url, subscribe="xaa") as emu:
        control, cfg = control_for(emu), emu.config
        answer = await control.dm(PERSON["sender_id"], "Bonjour, une question",
                                  screen_name=PERSON["screen_name"])
        assert answer["delivery_status"] == 200 and len(answer["activity_event_uuids"]) == 1
        raw, headers = receiver.posts[-1]
        assert len(receiver.posts) == 1  # XAA only: no Account Activity subscription
        assert verify_webhook_signature(cfg.consumer_secret, raw, headers[SIGNATURE_HEADER])
        body = json.loads(raw)
        assert body["data"]["event_type"] == "dm.received"
        assert body["data"]["event_uuid"] == answer["activity_event_uuids"][0]
        assert body["data"]["tag"] == "permanence"
        assert parse_webhook(body, cfg.account_id) == [InboundDM(
            event_id=answer["event_id"], sender_id=PERSON["sender_id"],
            recipient_id=cfg.account_id, text="Bonjour, une question",
            created_at_ms=int(body["data"]["payload"]["direct_message_events"][0][
                "created_timestamp"]),
            screen_name=PERSON["screen_name"], quick_reply_payload=None)]

        # The account's answer is a dm.sent: nobody subscribed to it.
        async with make_client(emu) as client:
            await client.create_direct_message(participant_id=PERSON["sender_id"], text="Oui ?",
                                               user_auth=True)
        mention = await control.tweet("temoin", f"@{cfg.account_username} bonjour")
        hashtag_only = await control.tweet("temoin", "#droitautweet bonjour")
        assert hashtag_only["deliveries"] == []
        assert len(receiver.posts) == 2
        tweet_body = json.loads(receiver.posts[-1][0])
        assert tweet_body["data"]["event_type"] == "post.mention.create"
        [tweet] = parse_webhook(tweet_body, cfg.account_id)
        assert isinstance(tweet, InboundTweet) and tweet.tweet_id == mention["tweet_id"]
        assert tweet.username == "temoin"

        # Redelivery of an XAA event: the same bytes, to the subscription's webhook.
        again = await control.post("/_control/redeliver",
                                   {"event_id": answer["activity_event_uuids"][0]})
        assert again["deliveries"][0]["status"] == 200 and receiver.posts[-1][0] == raw
        usage = await control.get("/_control/usage")
        assert usage["counts"]["dm_received"] == 1 and usage["not_charged_again"][
            "dm_received"] == 1


async def test_chat_received_is_delivered_encrypted(start_emulator, receiver,
                                                    control_for, http) -> None:
    async with start_emulator(webhook_url=receiver.url, subscribe="none") as emu:
        control, cfg = control_for(emu), emu.config
        url = emu.base_url + "/2/activity/subscriptions"
        webhook_id = next(iter(emu.state.webhooks))
        status, _ = await call(http, "POST", url, oauth(cfg, "POST", url), {
            "event_type": "chat.received", "filter": {"user_id": cfg.account_id},
            "webhook_id": webhook_id})
        assert status == 200
        chat = await control.post("/_control/chat", {"sender_id": PERSON["sender_id"]})
        assert chat["delivery_status"] == 200
        body = json.loads(receiver.posts[-1][0])
        assert body["data"]["event_type"] == "chat.received"
        assert body["data"]["payload"]["encoded_event"] == chat["encoded_event"]
        assert "text" not in json.dumps(body["data"]["payload"])
        assert parse_webhook(body, cfg.account_id) == []  # no DM to answer
        [found] = encrypted_chats(body, cfg.account_id)
        assert found.event_id == chat["message_id"]
        assert encrypted_chats(body, "1") == []  # another account's


async def test_the_stream_carries_events_keep_alives_backfill_and_cuts(
        start_emulator, control_for, http) -> None:
    async with start_emulator(subscribe="xaa", stream_keepalive_seconds=0.2) as emu:
        control, cfg = control_for(emu), emu.config
        url = emu.base_url + "/2/activity/stream"
        status, _ = await call(http, "GET", url, oauth(cfg, "GET", url))
        assert status == 403  # app-only

        async with http.get(url, headers=bearer(cfg)) as response:
            assert response.status == 200 and "x-rate-limit-remaining" in response.headers
            stream = StreamReader(response)
            assert parse_stream_line(await stream.line()).kind == "keep_alive"
            first = await control.dm(PERSON["sender_id"], "premier", wait=False)
            body = await stream.event()
            [dm] = parse_webhook(body, cfg.account_id)
            assert dm.event_id == first["event_id"] and dm.text == "premier"

            # A second connection asking for backfill gets the earlier event again; a
            # third one is refused (X: 2 connections).
            async with http.get(url, params={"backfill_minutes": "1"},
                                headers=bearer(cfg)) as second:
                again = await StreamReader(second).event()
                assert again == body
                async with http.get(url, headers=bearer(cfg)) as third:
                    assert third.status == 429
                    assert (await third.json())["connection_issue"] == "TooManyConnections"
                # Cut, and refuse new connections until told.
                state = await control.post("/_control/stream", {"drop": True, "refuse": True})
                assert state["dropped"] == 2 and state["refusing"]
            assert await stream.line() is None  # the stream ended

        async with http.get(url, headers=bearer(cfg)) as refused:
            assert refused.status == 503
        missed = await control.dm(PERSON["sender_id"], "pendant la coupure", wait=False)
        await control.post("/_control/stream", {"refuse": False})
        async with http.get(url, params={"backfill_minutes": "5"},
                            headers=bearer(cfg)) as resumed:
            stream = StreamReader(resumed)
            ids = [parse_webhook(await stream.event(), cfg.account_id)[0].event_id
                   for _ in range(2)]
            assert ids == [first["event_id"], missed["event_id"]]  # in order, none lost
        usage = await control.get("/_control/usage")
        assert usage["counts"]["dm_received"] == 2  # each DM billed once, however often sent
        status, bad = await call(http, "GET", url + "?backfill_minutes=6", bearer(cfg))
        assert status == 400
