"""The X sandbox, driven by tweepy 4.17's AsyncClient as the connector will drive it.

Expectations come from the recorded fixtures (shapes, error bodies), from published
signature vectors (X docs, fixtures README) and from HMACs computed here with hashlib.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import tweepy
from oauthlib.oauth1 import Client as OAuthClient
from yarl import URL

import sandbox.x_emulator
from sandbox.x_emulator.__main__ import parse_args
from sandbox.x_emulator.config import EmulatorConfig
from sandbox.x_emulator.entities import weighted_length
from sandbox.x_emulator.oauth import (
    OAuthCredentials,
    OAuthRequest,
    crc_response_token,
    signature_base_string,
    verify_oauth1,
    webhook_signature,
)
from sandbox.x_emulator.query import QueryError, parse_query
from sandbox.x_emulator.tweepy_redirect import RedirectingSession

FIXTURES = Path(sandbox.x_emulator.__file__).parent / "fixtures"
MARIE = {"id": "4242424242", "screen_name": "marie_dupont", "name": "Marie Dupont"}
JEAN = {"id": "5151515151", "screen_name": "jean_martin", "name": "Jean Martin"}
UNAUTHORIZED_BODY = {"title": "Unauthorized", "type": "about:blank", "status": 401,
                     "detail": "Unauthorized"}


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def hmac_sha256_b64(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def conversation_id(first: str, second: str) -> str:
    low, high = sorted((first, second), key=int)
    return f"{low}-{high}"


def oauth_header(cfg: EmulatorConfig, method: str, url: str, *, timestamp: int | None = None,
                 nonce: str | None = None) -> str:
    """Authorization header signed by oauthlib, for endpoints tweepy has no method for."""
    signer = OAuthClient(cfg.consumer_key, cfg.consumer_secret, cfg.access_token,
                         cfg.access_token_secret,
                         timestamp=None if timestamp is None else str(timestamp), nonce=nonce)
    return signer.sign(url, method)[1]["Authorization"]


async def body_of(response: aiohttp.ClientResponse) -> Any:
    """JSON of a response tweepy already read (and released)."""
    return await response.json(content_type=None)


async def persona_writes(control, persona: dict[str, str], text: str = "Bonjour", **extra):
    return await control.dm(persona["id"], text, screen_name=persona["screen_name"],
                            name=persona["name"], **extra)


# Signatures: published vectors


# X docs, "Creating a signature" (xdevplatform/docs,
# fundamentals/authentication/oauth-1-0a/creating-a-signature.mdx, base URL api.x.com).
DOCS_BASE_STRING = (
    "POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26"
    "oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2"
    "pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26"
    "oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0"
    "%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth"
    "%2520request%2521")
DOCS_PARAMS = {
    "oauth_consumer_key": "xvz1evFS4wEEPTGEFPHBog",
    "oauth_nonce": "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
    "oauth_signature": "Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D",
    "oauth_signature_method": "HMAC-SHA1",
    "oauth_timestamp": "1318622958",
    "oauth_token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "oauth_version": "1.0",
}
DOCS_CREDENTIALS = OAuthCredentials(
    "xvz1evFS4wEEPTGEFPHBog", "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE")


def docs_request(host: str = "api.x.com", **params: str) -> OAuthRequest:
    header = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in {**DOCS_PARAMS, **params}.items())
    return OAuthRequest(
        method="POST", scheme="https", host=host, path="/1.1/statuses/update.json",
        raw_query="include_entities=true", authorization=header,
        form_body=b"status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21")


def test_oauth_verifier_matches_the_x_docs_example():
    params = [(k, v) for k, v in DOCS_PARAMS.items() if k != "oauth_signature"]
    params += [("include_entities", "true"),
               ("status", "Hello Ladies + Gentlemen, a signed OAuth request!")]
    assert signature_base_string(
        "POST", "https://api.x.com/1.1/statuses/update.json", params) == DOCS_BASE_STRING
    assert verify_oauth1(docs_request(), DOCS_CREDENTIALS, now=1318622958) is None


@pytest.mark.parametrize(("request_", "now", "reason"), [
    (docs_request(host="api.twitter.com"), 1318622958, "bad_signature"),
    (docs_request(host="api.x.com:8443"), 1318622958, "bad_signature"),
    (docs_request(oauth_nonce="another-nonce"), 1318622958, "bad_signature"),
    (docs_request(oauth_consumer_key="someone-else"), 1318622958, "unknown_consumer_key"),
    (docs_request(), 1318622958 + 301, "stale_timestamp"),
    (docs_request(oauth_signature_method="PLAINTEXT"), 1318622958,
     "unsupported_signature_method"),
])
def test_oauth_verifier_rejects(request_, now, reason):
    assert verify_oauth1(request_, DOCS_CREDENTIALS, now=now) == reason


def test_oauth_verifier_rejects_a_replayed_nonce():
    used: set[str] = set()

    def remember(nonce: str, timestamp: int) -> bool:
        replay = nonce in used
        used.add(nonce)
        return replay

    assert verify_oauth1(docs_request(), DOCS_CREDENTIALS, now=1318622958,
                         nonce_seen=remember) is None
    assert verify_oauth1(docs_request(), DOCS_CREDENTIALS, now=1318622958,
                         nonce_seen=remember) == "replayed_nonce"


# Fixtures README, "Signature test vectors".
@pytest.mark.parametrize(("secret", "body", "expected"), [
    ("test", b'{"test_number":1,"test_string":"two"}',
     "sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI="),
    ("test", b"test=1&other_test=2", "sha256=25Cu3iwbbiqBTwQRzcKJZwisjf736V2Q8UaTlkfLSoc="),
])
def test_webhook_signature_vectors(secret, body, expected):
    assert webhook_signature(secret, body) == expected


def test_crc_response_token_vector():
    assert crc_response_token("apiSecret", "test token") == (
        "sha256=O5hJl2njQRIa4vsumZ+3oom9ECR5m3aQLRZkPoYelp0=")


# Pure helpers


def _tweet(text: str, author: str = "marie", **flags: Any) -> SimpleNamespace:
    return SimpleNamespace(
        text=text, author_username=author,
        hashtags=frozenset(t.lower() for t in re.findall(r"#(\w+)", text)),
        mentions=frozenset(m.lower() for m in re.findall(r"@(\w+)", text)),
        in_reply_to_username=flags.get("reply_to"), is_retweet=flags.get("retweet", False),
        is_quote=False, has_links="https://" in text, lang="fr", conversation_id="1")


QUERY_TWEETS = {
    "mention": _tweet("@Cabinet #DroitAuTweet permis de construire refusé"),
    "hashtag": _tweet("#droitautweet marché public annulé", author="jean"),
    "retweet": _tweet("RT @marie: @Cabinet #droitautweet permis", author="paul", retweet=True),
    "reply": _tweet("@jean merci pour la réponse", reply_to="jean"),
    "other": _tweet("Rien à voir avec le droit", author="jean"),
}


@pytest.mark.parametrize(("query", "expected"), [
    ("#droitautweet", {"mention", "hashtag", "retweet"}),
    ("#droitautweet -is:retweet", {"mention", "hashtag"}),
    ("#DROITAUTWEET -is:retweet", {"mention", "hashtag"}),
    ("@cabinet OR #droitautweet -is:retweet", {"mention", "hashtag", "retweet"}),
    ("(@cabinet OR #droitautweet) -is:retweet", {"mention", "hashtag"}),
    ("from:jean", {"hashtag", "other"}),
    ("from:jean -#droitautweet", {"other"}),
    ('"marché public"', {"hashtag"}),
    ("permis -from:paul", {"mention"}),
    ("to:jean", {"reply"}),
    ("droit", {"other"}),  # a keyword is a whole word, not a prefix of "droitautweet"
])
def test_search_query_language(query, expected):
    tree = parse_query(query)
    assert {name for name, t in QUERY_TWEETS.items() if tree.matches(t)} == expected


@pytest.mark.parametrize("query", [
    "", "-is:retweet", "is:retweet", "#a OR", "(#a OR #b", 'say "hello', "place:paris",
    "is:hot #a", "x" * 513,
])
def test_search_query_errors(query):
    with pytest.raises(QueryError):
        parse_query(query)


@pytest.mark.parametrize(("text", "length"), [
    ("a" * 280, 280),
    ("é" * 280, 280),  # Latin-1 letters weigh 1
    ("🙂", 2),  # outside the light ranges: weighs 2
    ("voir https://example.com/" + "x" * 100, 5 + 23),  # any URL weighs 23
])
def test_weighted_length(text, length):
    assert weighted_length(text) == length


def test_config_from_env_and_defaults():
    users_me = fixture_json("users_me.json")["data"]
    cfg = EmulatorConfig.from_env({"X_CONSUMER_SECRET": "from-env"}, webhook_url=None)
    assert cfg.consumer_secret == "from-env"
    assert cfg.consumer_key == "sandbox-consumer-key"
    assert cfg.bearer_token == "sandbox-bearer-token"
    assert (cfg.account_id, cfg.account_username) == (users_me["id"], users_me["username"])
    # X as it is today unless a test asks for the old limits.
    assert (cfg.limits, cfg.profile.name, cfg.time_scale) == ("x-2026", "x-2026", 1.0)
    assert cfg.rate_limits == {}
    with pytest.raises(ValueError):
        EmulatorConfig(rate_limits={"nope": 1})


def test_cli_arguments():
    args = parse_args(["--port", "9000", "--webhook-url", "http://127.0.0.1:5005/webhooks/x"])
    assert (args.host, args.port) == ("127.0.0.1", 9000)
    assert args.webhook_url == "http://127.0.0.1:5005/webhooks/x"
    assert (args.limits, args.time_scale) == ("x-2026", 1.0)


@pytest.mark.asyncio
async def test_redirecting_session_refuses_other_origins(emulator):
    client = tweepy.asynchronous.AsyncClient()
    session = RedirectingSession(emulator.base_url, client)
    try:
        # tweepy hands over signed URLs as encoded yarl URLs: kept byte for byte.
        signed = URL("https://api.twitter.com/2/tweets/search/recent?q=%23a%3A", encoded=True)
        assert str(session.redirect(signed)) == (
            emulator.base_url + "/2/tweets/search/recent?q=%23a%3A")
        assert str(session.redirect("https://api.twitter.com/2/users/me")) == (
            emulator.base_url + "/2/users/me")
        with pytest.raises(ValueError):
            session.redirect("https://example.com/2/users/me")
    finally:
        await session.close()


# API through tweepy


@pytest.mark.asyncio
async def test_get_me_is_the_fixture_account(emulator, make_client):
    async with make_client(emulator, return_type=dict) as raw_client:
        assert await raw_client.get_me() == fixture_json("users_me.json")
    async with make_client(emulator) as client:
        me = (await client.get_me(user_fields=["created_at"])).data
        assert isinstance(me, tweepy.User) and me.created_at is not None


@pytest.mark.asyncio
async def test_dm_to_someone_who_wrote_first(emulator, control, make_client):
    inbound = await persona_writes(control, MARIE)
    account_id = emulator.config.account_id
    async with make_client(emulator, return_type=dict) as client:
        first = await client.create_direct_message(participant_id=MARIE["id"], text="Bonjour !")
        second = await client.create_direct_message(
            dm_conversation_id=conversation_id(MARIE["id"], account_id), text="Suite")
    template = fixture_json("dm_send_with_participant_response.json")
    for sent in (first, second):
        assert sent.keys() == template.keys()
        assert sent["data"].keys() == template["data"].keys()
        assert sent["data"]["dm_conversation_id"] == conversation_id(MARIE["id"], account_id)
    ids = [int(inbound["event_id"]), int(first["data"]["dm_event_id"]),
           int(second["data"]["dm_event_id"])]
    assert ids == sorted(ids) and len(set(ids)) == 3
    outbox = await control.get("/_control/outbox")
    assert [(dm["recipient_id"], dm["text"], dm["id"]) for dm in outbox["dms"]] == [
        (MARIE["id"], "Bonjour !", first["data"]["dm_event_id"]),
        (MARIE["id"], "Suite", second["data"]["dm_event_id"]),
    ]
    newer = await control.get(f"/_control/outbox?since_id={first['data']['dm_event_id']}")
    assert [dm["text"] for dm in newer["dms"]] == ["Suite"]
    latest = await control.get(f"/_control/outbox?since_id={second['data']['dm_event_id']}")
    assert latest == {"dms": [], "tweets": []}
    await control.call("GET", "/_control/outbox?since_id=abc", expect=400)


@pytest.mark.asyncio
async def test_dm_status_and_location_header(emulator, control, make_client):
    await persona_writes(control, MARIE)
    async with make_client(emulator, return_type=aiohttp.ClientResponse) as client:
        response = await client.create_direct_message(participant_id=MARIE["id"], text="Oui")
    assert response.status == 201
    event_id = (await body_of(response))["data"]["dm_event_id"]
    assert response.headers["location"].endswith(f'/2/dm_events/"{event_id}"')


@pytest.mark.asyncio
async def test_the_firm_never_starts_a_dm(client, control):
    with pytest.raises(tweepy.Forbidden) as info:
        await client.create_direct_message(participant_id=JEAN["id"], text="Bonjour")
    assert await body_of(info.value.response) == fixture_json("error_403_forbidden_dm_send.json")
    assert (await control.get("/_control/outbox"))["dms"] == []


@pytest.mark.asyncio
async def test_closed_dms_are_forbidden(client, control):
    await persona_writes(control, MARIE)
    await control.post("/_control/dm_closed", {"user_id": MARIE["id"], "closed": True})
    with pytest.raises(tweepy.Forbidden):
        await client.create_direct_message(participant_id=MARIE["id"], text="Bonjour")
    await control.post("/_control/dm_closed", {"user_id": MARIE["id"], "closed": False})
    assert (await client.create_direct_message(participant_id=MARIE["id"], text="Bonjour")).data


@pytest.mark.asyncio
async def test_dm_text_limit_is_10000_characters(client, control):
    await persona_writes(control, MARIE)
    await client.create_direct_message(participant_id=MARIE["id"], text="x" * 10_000)
    with pytest.raises(tweepy.BadRequest):
        await client.create_direct_message(participant_id=MARIE["id"], text="x" * 10_001)


@pytest.mark.asyncio
async def test_dm_events_newest_first_with_fixture_shapes(emulator, control, make_client):
    async with make_client(emulator, return_type=dict) as client:
        assert await client.get_direct_message_events() == fixture_json("dm_events_empty.json")
        created = [(await persona_writes(control, MARIE, "Question 1"))["event_id"],
                   (await persona_writes(control, JEAN, "Question 2"))["event_id"]]
        reply = await client.create_direct_message(participant_id=MARIE["id"], text="Réponse")
        created.append(reply["data"]["dm_event_id"])

        page = await client.get_direct_message_events()
        default_keys = {k for ev in fixture_json("dm_events_conversation_page.json")["data"]
                        for k in ev}
        assert all(ev.keys() == default_keys for ev in page["data"])
        assert [ev["id"] for ev in page["data"]] == sorted(created, key=int, reverse=True)
        assert page["meta"] == {"result_count": 3}

        all_fields = sorted(fixture_json("dm_event_messagecreate_docs.json"))
        full = await client.get_direct_message_events(dm_event_fields=all_fields)
        assert all(ev.keys() == set(all_fields) for ev in full["data"])
        assert {ev["sender_id"] for ev in full["data"]} == {
            MARIE["id"], JEAN["id"], emulator.config.account_id}

        first = await client.get_direct_message_events(max_results=2)
        assert first["meta"]["result_count"] == 2 and "next_token" in first["meta"]
        rest = await client.get_direct_message_events(
            max_results=2, pagination_token=first["meta"]["next_token"])
        assert "next_token" not in rest["meta"]
        assert [ev["id"] for ev in first["data"] + rest["data"]] == [
            ev["id"] for ev in page["data"]]

        marie = await client.get_direct_message_events(participant_id=MARIE["id"])
        assert [ev["text"] for ev in marie["data"]] == ["Réponse", "Question 1"]
        by_id = await client.get_direct_message_events(
            dm_conversation_id=conversation_id(MARIE["id"], emulator.config.account_id))
        assert by_id == marie
        assert await client.get_direct_message_events(event_types=["ParticipantsJoin"]) == {
            "meta": {"result_count": 0}}
        with pytest.raises(tweepy.BadRequest):
            await client.get_direct_message_events(max_results=101)


@pytest.mark.asyncio
async def test_reply_tweet(emulator, control, make_client):
    account = emulator.config.account_username
    mention = await control.tweet(MARIE["screen_name"], f"@{account} #droitautweet question")
    async with make_client(emulator, return_type=dict) as client:
        created = await client.create_tweet(
            text="Merci, écrivez-nous en message privé.",
            in_reply_to_tweet_id=mention["tweet_id"])
        template = fixture_json("create_tweet_response.json")
        assert created.keys() == template.keys()
        assert created["data"].keys() == template["data"].keys()
        assert int(created["data"]["id"]) > int(mention["tweet_id"])

        with pytest.raises(tweepy.Forbidden):  # same text again
            await client.create_tweet(text="Merci, écrivez-nous en message privé.",
                                      in_reply_to_tweet_id=mention["tweet_id"])
        with pytest.raises(tweepy.Forbidden):  # reply to a tweet that does not exist
            await client.create_tweet(text="Bonjour", in_reply_to_tweet_id="123")
        await client.create_tweet(text="é" * 280)
        with pytest.raises(tweepy.BadRequest):
            await client.create_tweet(text="é" * 281)
    outbox = await control.get("/_control/outbox")
    assert outbox["tweets"][0]["in_reply_to_tweet_id"] == mention["tweet_id"]
    assert outbox["tweets"][0]["in_reply_to_user_id"] == (
        await control.post("/_control/users", {"screen_name": MARIE["screen_name"]}))["id"]


@pytest.mark.asyncio
async def test_mentions_and_search(emulator, control, make_client):
    account = emulator.config.account_username
    t1 = (await control.tweet("marie_dupont", f"@{account} #droitautweet permis refusé"))
    t2 = (await control.tweet("jean_martin", "#droitautweet marché public annulé"))
    t3 = (await control.tweet("paul_durand", "", retweet=True, retweet_of=t1["tweet_id"]))
    t4 = (await control.tweet("jean_martin", "Rien à voir"))
    ids = {name: t["tweet_id"] for name, t in
           {"t1": t1, "t2": t2, "t3": t3, "t4": t4}.items()}
    async with make_client(emulator, return_type=dict) as client:
        mentions = await client.get_users_mentions(
            emulator.config.account_id, tweet_fields=["author_id"], expansions=["author_id"])
        # The retweet repeats the mention, but a retweet is not a mention.
        assert [t["id"] for t in mentions["data"]] == [ids["t1"]]
        fixture_meta = set(fixture_json("users_mentions.json")["meta"]) - {"next_token"}
        assert set(mentions["meta"]) == fixture_meta
        assert mentions["meta"]["newest_id"] == mentions["meta"]["oldest_id"] == ids["t1"]
        assert mentions["includes"]["users"][0]["username"] == "marie_dupont"
        assert mentions["data"][0]["edit_history_tweet_ids"] == [ids["t1"]]

        assert await client.get_users_mentions(
            emulator.config.account_id, since_id=ids["t1"]) == {"meta": {"result_count": 0}}
        t5 = await control.tweet("jean_martin", f"@{account} autre question")
        newer = await client.get_users_mentions(emulator.config.account_id, since_id=ids["t1"])
        assert [t["id"] for t in newer["data"]] == [t5["tweet_id"]]

        search = await client.search_recent_tweets("#droitautweet -is:retweet")
        assert [t["id"] for t in search["data"]] == [ids["t2"], ids["t1"]]
        assert set(search["meta"]) == set(fixture_json("search_recent_tweets.json")["meta"]) - {
            "next_token"}
        with_retweets = await client.search_recent_tweets("#DroitAuTweet", user_auth=True)
        assert [t["id"] for t in with_retweets["data"]] == [ids["t3"], ids["t2"], ids["t1"]]
        others = await client.search_recent_tweets("from:jean_martin -#droitautweet")
        assert [t["id"] for t in others["data"]] == [t5["tweet_id"], ids["t4"]]
        since = await client.search_recent_tweets("#droitautweet", since_id=ids["t2"])
        assert [t["id"] for t in since["data"]] == [ids["t3"]]

        for bad in ({"query": "-is:retweet"}, {"query": "lieu:paris"},
                    {"query": "#droitautweet", "max_results": 9}):
            with pytest.raises(tweepy.BadRequest):
                await client.search_recent_tweets(**bad)
        with pytest.raises(tweepy.BadRequest):
            await client.get_users_mentions(emulator.config.account_id, max_results=4)
        with pytest.raises(tweepy.BadRequest):
            await client.get_users_mentions(emulator.config.account_id,
                                            tweet_fields=["no_such_field"])


@pytest.mark.asyncio
async def test_search_pagination(emulator, control, make_client):
    posted = [(await control.tweet(f"user_{n}", f"#droitautweet n°{n}"))["tweet_id"]
              for n in range(12)]
    async with make_client(emulator, return_type=dict) as client:
        first = await client.search_recent_tweets("#droitautweet")
        second = await client.search_recent_tweets(
            "#droitautweet", next_token=first["meta"]["next_token"])
    assert first["meta"]["result_count"] == 10  # the default max_results
    assert "next_token" not in second["meta"]
    assert [t["id"] for t in first["data"] + second["data"]] == posted[::-1]


# Authentication


@pytest.mark.asyncio
async def test_bad_oauth_signature_is_401(emulator, make_client):
    for wrong in ({"consumer_secret": "wrong"}, {"access_token_secret": "wrong"},
                  {"access_token": "someone-else"}):
        async with make_client(emulator, **wrong) as client:
            with pytest.raises(tweepy.Unauthorized) as info:
                await client.get_me()
            assert await body_of(info.value.response) == UNAUTHORIZED_BODY
    async with make_client(emulator, bearer_token="wrong") as client:
        with pytest.raises(tweepy.Unauthorized):
            await client.search_recent_tweets("#droitautweet")


@pytest.mark.asyncio
async def test_signature_covers_url_timestamp_and_nonce(emulator, http):
    cfg = emulator.config
    url = emulator.base_url + "/2/users/me"

    async def status(target: str, header: str) -> int:
        async with http.get(target, headers={"Authorization": header}) as response:
            return response.status

    signed = oauth_header(cfg, "GET", url + "?user.fields=created_at")
    assert await status(url + "?user.fields=description", signed) == 401  # query changed
    twitter = oauth_header(cfg, "GET", "https://api.twitter.com/2/users/me")
    assert await status(url, twitter) == 401  # signed for another URL
    assert await status(url, oauth_header(cfg, "GET", url,
                                          timestamp=int(time.time()) - 301)) == 401
    assert await status(url, oauth_header(cfg, "GET", url,
                                          timestamp=int(time.time()) - 200)) == 200
    once = oauth_header(cfg, "GET", url, nonce="nonce-used-once")
    assert [await status(url, once), await status(url, once)] == [200, 401]
    async with http.get(url) as response:
        assert response.status == 401
        assert await response.json() == UNAUTHORIZED_BODY


@pytest.mark.asyncio
async def test_wrong_kind_of_authentication_is_403(emulator, http):
    cfg = emulator.config
    bearer = {"Authorization": f"Bearer {cfg.bearer_token}"}
    async with http.post(emulator.base_url + "/2/dm_conversations/with/1/messages",
                         json={"text": "x"}, headers=bearer) as response:
        assert response.status == 403
        problem = await response.json()
        assert problem["type"].endswith("/unsupported-authentication")
    webhooks = emulator.base_url + "/2/webhooks"
    async with http.get(webhooks, headers={
            "Authorization": oauth_header(cfg, "GET", webhooks)}) as response:
        assert response.status == 403


# Rate limits and faults

# x-rate-limit-limit per 15 minutes in X's documentation (X-API-2026.md, rate-limits.mdx): the
# user context for the account's calls; tweepy reads mentions and search with the app's Bearer.
X_2026_LIMITS = {"users_me": 75, "dm_send": 15, "dm_events": 15, "tweets_create": 100,
                 "mentions": 450, "search_recent": 450}


@pytest.mark.asyncio
async def test_rate_limit_headers_on_every_response(emulator, control, make_client):
    await persona_writes(control, MARIE)
    tweet = await control.tweet("jean_martin", f"@{emulator.config.account_username} bonjour")
    started = time.time()
    async with make_client(emulator, return_type=aiohttp.ClientResponse) as client:
        calls = [
            ("users_me", client.get_me()),
            ("users_me", client.get_me()),
            ("dm_send", client.create_direct_message(participant_id=MARIE["id"], text="Oui")),
            ("dm_events", client.get_direct_message_events()),
            ("tweets_create", client.create_tweet(text="Réponse",
                                                  in_reply_to_tweet_id=tweet["tweet_id"])),
            ("mentions", client.get_users_mentions(emulator.config.account_id)),
            ("search_recent", client.search_recent_tweets("bonjour")),
        ]
        used: dict[str, int] = {}
        for key, call in calls:
            response = await call
            used[key] = used.get(key, 0) + 1
            assert response.status in (200, 201)
            assert int(response.headers["x-rate-limit-limit"]) == X_2026_LIMITS[key]
            assert int(response.headers["x-rate-limit-remaining"]) == (
                X_2026_LIMITS[key] - used[key])
            assert started <= int(response.headers["x-rate-limit-reset"]) <= time.time() + 901
            if key == "dm_send":  # and its 24-hour caps
                assert response.headers["x-user-limit-24hour-limit"] == "1440"
                assert response.headers["x-user-limit-24hour-remaining"] == "1439"
                assert response.headers["x-app-limit-24hour-remaining"] == "1439"
                assert int(response.headers["x-user-limit-24hour-reset"]) <= (
                    time.time() + 86_401)
            elif key == "tweets_create":  # 10,000 posts a day per app
                assert response.headers["x-app-limit-24hour-limit"] == "10000"
                assert "x-user-limit-24hour-limit" not in response.headers
            else:
                assert "x-user-limit-24hour-limit" not in response.headers
    async with make_client(emulator, consumer_secret="wrong") as bad_client:
        with pytest.raises(tweepy.Unauthorized) as info:
            await bad_client.get_me()
    headers = info.value.response.headers
    assert int(headers["x-rate-limit-remaining"]) == X_2026_LIMITS["users_me"] - 2


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.mark.asyncio
async def test_429_after_the_limit_then_a_new_window(start_emulator, make_client):
    clock = FakeClock()
    limit = X_2026_LIMITS["users_me"]
    async with start_emulator(clock=clock, timestamp_skew=None) as emu, make_client(emu) as client:
        for _ in range(limit):
            await client.get_me()
        with pytest.raises(tweepy.TooManyRequests) as info:
            await client.get_me()
        assert await body_of(info.value.response) == fixture_json(
            "error_429_too_many_requests.json")
        assert info.value.response.headers["x-rate-limit-remaining"] == "0"
        window_end = math.ceil(clock.now + 15 * 60)
        assert info.value.reset_time == window_end
        clock.now = window_end
        await client.get_me()


@pytest.mark.asyncio
async def test_rate_limits_can_be_lowered(emulator, control, client):
    await control.post("/_control/rate_limits", {"limits": {"search_recent": 2}})
    await client.search_recent_tweets("#a")
    await client.search_recent_tweets("#a")
    with pytest.raises(tweepy.TooManyRequests):
        await client.search_recent_tweets("#a")
    await control.post("/_control/rate_limits", {"reset": True})
    await client.search_recent_tweets("#a")


@pytest.mark.asyncio
async def test_injected_429_on_dm_send(emulator, control, make_client):
    await persona_writes(control, MARIE)
    await control.post("/_control/faults", {"status": 429, "path_prefix": "/2/dm_conversations",
                                            "count": 2, "reset_in": 5})
    async with make_client(emulator, return_type=aiohttp.ClientResponse) as client:
        for _ in range(2):
            before = time.time()
            with pytest.raises(tweepy.TooManyRequests) as info:
                await client.create_direct_message(participant_id=MARIE["id"], text="Oui")
            assert before + 5 <= info.value.reset_time <= time.time() + 6
            assert info.value.response.headers["x-rate-limit-remaining"] == "0"
            assert (await client.get_me()).status == 200  # other paths unaffected
        sent = await client.create_direct_message(participant_id=MARIE["id"], text="Oui")
    assert sent.status == 201
    # Injected faults do not eat the real quota.
    assert int(sent.headers["x-rate-limit-remaining"]) == X_2026_LIMITS["dm_send"] - 1


@pytest.mark.asyncio
async def test_injected_server_errors(emulator, control, client, http):
    await control.post("/_control/faults", {"status": 503, "path_prefix": "/2/tweets/search",
                                            "seconds": 30})
    for _ in range(2):
        with pytest.raises(tweepy.TwitterServerError) as info:
            await client.search_recent_tweets("#droitautweet")
        assert info.value.response.status == 503
        assert (await body_of(info.value.response))["status"] == 503
    assert len(await control.get("/_control/faults")) == 1
    async with http.delete(emulator.base_url + "/_control/faults") as response:
        assert response.status == 200
    await client.search_recent_tweets("#droitautweet")
    await control.post("/_control/faults", {"status": 500, "path_prefix": "/2/users/me"})
    with pytest.raises(tweepy.TwitterServerError):
        await client.get_me()
    await client.get_me()  # count defaults to 1


# Webhook deliveries


@pytest.mark.asyncio
async def test_dm_delivery_is_signed_and_shaped_like_aaa(webhook_emulator, webhook_control,
                                                         receiver):
    cfg = webhook_emulator.config
    text = "Bonjour, ma mairie a refusé mon permis de construire #urbanisme"
    result = await persona_writes(webhook_control, MARIE, text, quick_reply_payload="choice_2")
    assert result["delivery_status"] == 200
    body, headers = await receiver.next_post()
    assert headers["x-twitter-webhooks-signature"] == hmac_sha256_b64(cfg.consumer_secret, body)

    payload = json.loads(body)
    template = fixture_json("aaa_direct_message_events_docs.json")
    t_event = template["direct_message_events"][0]
    # Sent from X's own apps, so no `apps` map and no `source_app_id` (see the echo test).
    assert set(payload) == set(template) - {"apps"}
    assert payload["for_user_id"] == cfg.account_id
    event = payload["direct_message_events"][0]
    assert set(event) == set(t_event)
    assert event["id"] == result["event_id"] and event["type"] == "message_create"
    message = event["message_create"]
    assert set(message) == set(t_event["message_create"]) - {"source_app_id"}
    assert message["sender_id"] == MARIE["id"]
    assert message["target"] == {"recipient_id": cfg.account_id}
    data = message["message_data"]
    assert set(data) == set(t_event["message_create"]["message_data"]) | {
        "quick_reply_response"}
    assert data["text"] == text
    assert data["quick_reply_response"] == {"type": "options", "metadata": "choice_2"}
    start = text.index("#urbanisme")
    assert data["entities"]["hashtags"] == [
        {"text": "urbanisme", "indices": [start, start + len("#urbanisme")]}]
    assert set(payload["users"]) == {MARIE["id"], cfg.account_id}
    fixture_users = [set(u) for u in template["users"].values()]
    # Profile fields X leaves out when empty (the fixture's two users differ on them).
    optional = {"location", "description", "url"}
    for user in payload["users"].values():
        assert set.intersection(*fixture_users) - optional <= set(user)
        assert set(user) <= set.union(*fixture_users)
    assert payload["users"][MARIE["id"]]["screen_name"] == MARIE["screen_name"]

    deliveries = await webhook_control.get("/_control/deliveries")
    assert [(d["event_id"], d["status"], d["url"]) for d in deliveries] == [
        (result["event_id"], 200, receiver.url)]
    assert deliveries[0]["latency_ms"] >= 0


@pytest.mark.asyncio
async def test_outgoing_dm_is_echoed_with_the_app(webhook_emulator, webhook_control,
                                                  webhook_client, receiver):
    await persona_writes(webhook_control, MARIE)
    await receiver.next_post()
    sent = await webhook_client.create_direct_message(participant_id=MARIE["id"], text="Oui")
    body, _ = await receiver.next_post()
    payload = json.loads(body)
    template = fixture_json("aaa_direct_message_events_docs.json")
    assert set(payload) == set(template)
    message = payload["direct_message_events"][0]["message_create"]
    assert set(message) == set(template["direct_message_events"][0]["message_create"])
    assert message["sender_id"] == webhook_emulator.config.account_id
    assert payload["direct_message_events"][0]["id"] == sent.data["dm_event_id"]
    app = payload["apps"][message["source_app_id"]]
    assert set(app) == set(next(iter(template["apps"].values())))


@pytest.mark.asyncio
async def test_tweet_create_events_for_mentions_only(webhook_emulator, webhook_control,
                                                    webhook_client, receiver):
    cfg = webhook_emulator.config
    text = f"@{cfg.account_username} #droitautweet mon permis est refusé, que faire ?"
    result = await webhook_control.tweet(MARIE["screen_name"], text, author_id=MARIE["id"])
    assert result["delivered"] is True and result["delivery_status"] == 200
    body, headers = await receiver.next_post()
    assert headers["x-twitter-webhooks-signature"] == hmac_sha256_b64(cfg.consumer_secret, body)
    payload = json.loads(body)
    template = fixture_json("aaa_tweet_create_events_mention.json")
    assert set(payload) == set(template)
    tweet, t_tweet = payload["tweet_create_events"][0], template["tweet_create_events"][0]
    assert set(tweet) == set(t_tweet)
    # X omits profile_banner_url for accounts without a banner.
    assert set(tweet["user"]) == set(t_tweet["user"]) - {"profile_banner_url"}
    assert tweet["id_str"] == result["tweet_id"] and tweet["id"] == int(result["tweet_id"])
    assert tweet["user"]["id_str"] == MARIE["id"] and tweet["text"] == text
    mention = tweet["entities"]["user_mentions"][0]
    assert set(mention) == set(t_tweet["entities"]["user_mentions"][0])
    assert (mention["id_str"], mention["indices"]) == (
        cfg.account_id, [0, 1 + len(cfg.account_username)])
    assert tweet["entities"]["hashtags"][0]["text"] == "droitautweet"

    hashtag_only = await webhook_control.tweet(JEAN["screen_name"], "#droitautweet bonjour")
    assert hashtag_only["delivered"] is False and hashtag_only["deliveries"] == []

    reply = await webhook_client.create_tweet(text="Écrivez-nous en message privé.",
                                              in_reply_to_tweet_id=result["tweet_id"])
    echo = json.loads((await receiver.next_post())[0])["tweet_create_events"][0]
    assert echo["id_str"] == reply.data["id"]
    assert echo["in_reply_to_status_id_str"] == result["tweet_id"]
    assert echo["user"]["id_str"] == cfg.account_id
    assert len(receiver.posts) == 2


@pytest.mark.asyncio
async def test_redelivery_is_byte_identical(webhook_emulator, webhook_control, receiver):
    result = await persona_writes(webhook_control, MARIE, "Première question")
    again = await webhook_control.post("/_control/redeliver", {"event_id": result["event_id"]})
    assert again["deliveries"][0]["redelivery"] is True
    assert again["deliveries"][0]["status"] == 200
    (first, first_headers), (second, second_headers) = receiver.posts
    assert first == second
    assert (first_headers["x-twitter-webhooks-signature"]
            == second_headers["x-twitter-webhooks-signature"])
    await webhook_control.post("/_control/redeliver", {"event_id": "1"}, expect=404)


@pytest.mark.asyncio
async def test_crc_check(webhook_emulator, webhook_control, receiver, serve_receiver):
    result = await webhook_control.post("/_control/crc")
    assert result["valid"] is True
    assert len(receiver.crc_tokens) == 1
    async with serve_receiver("not-the-consumer-secret") as impostor:
        bad = await webhook_control.post("/_control/crc", {"url": impostor.url})
    assert bad["valid"] is False
    assert bad["results"][0]["error"] == "wrong_response_token"


@pytest.mark.asyncio
async def test_failed_crc_disables_delivery(start_emulator, serve_receiver, http):
    async with (serve_receiver("not-the-consumer-secret") as impostor,
                start_emulator(webhook_url=impostor.url) as emu):
        async with http.post(emu.base_url + "/_control/crc", json={}) as response:
            assert (await response.json())["valid"] is False
        async with http.post(emu.base_url + "/_control/dm", json={
                "sender_id": MARIE["id"], "text": "Bonjour"}) as response:
            assert (await response.json())["deliveries"] == []
    assert impostor.posts == []


@pytest.mark.asyncio
async def test_webhook_registration_is_idempotent_friendly(emulator, receiver, serve_receiver,
                                                           http, control):
    cfg = emulator.config
    bearer = {"Authorization": f"Bearer {cfg.bearer_token}"}
    webhooks = emulator.base_url + "/2/webhooks"

    async def call(method: str, url: str, *, oauth: bool = False, **kwargs):
        headers = {"Authorization": oauth_header(cfg, method, url)} if oauth else bearer
        async with http.request(method, url, headers=headers, **kwargs) as response:
            assert "x-rate-limit-remaining" in response.headers
            return response.status, await response.json()

    assert await call("GET", webhooks) == (200, {"data": [], "meta": {"result_count": 0}})
    status, created = await call("POST", webhooks, json={"url": receiver.url})
    assert status == 200 and created["data"]["valid"] is True
    assert set(created["data"]) == {"created_at", "id", "url", "valid"}
    assert len(receiver.crc_tokens) == 1  # X checks the URL before accepting it
    webhook_id = created["data"]["id"]
    status, duplicate = await call("POST", webhooks, json={"url": receiver.url})
    assert status == 400 and "DuplicateUrlFailed" in duplicate["errors"][0]["message"]

    subscription = f"{emulator.base_url}/2/account_activity/webhooks/{webhook_id}/subscriptions"
    assert await call("GET", subscription + "/all", oauth=True) == (
        200, {"data": {"subscribed": False}})
    assert await call("POST", subscription + "/all", oauth=True, json={}) == (
        200, {"data": {"subscribed": True}})
    status, _ = await call("POST", subscription + "/all", oauth=True, json={})
    assert status == 409
    status, listing = await call("GET", subscription + "/all/list")
    assert listing["data"]["subscriptions"] == [{"user_id": cfg.account_id}]
    assert listing["data"]["webhook_url"] == receiver.url

    result = await persona_writes(control, MARIE)
    assert result["delivery_status"] == 200 and len(receiver.posts) == 1

    assert await call("PUT", f"{webhooks}/{webhook_id}") == (200, {"data": {"valid": True}})
    assert len(receiver.crc_tokens) == 2

    async with serve_receiver("not-the-consumer-secret") as impostor:
        status, refused = await call("POST", webhooks, json={"url": impostor.url})
    assert status == 400 and "CrcValidationFailed" in refused["errors"][0]["message"]
    assert await call("DELETE", f"{subscription}/{cfg.account_id}/all") == (
        200, {"data": {"subscribed": False}})
    assert (await persona_writes(control, MARIE))["deliveries"] == []
    assert await call("DELETE", f"{webhooks}/{webhook_id}") == (200, {"data": {"deleted": True}})
    assert await call("GET", webhooks) == (200, {"data": [], "meta": {"result_count": 0}})


# Control API and page


@pytest.mark.asyncio
async def test_request_log_has_no_bodies(emulator, control, client):
    await persona_writes(control, MARIE, "Texte confidentiel")
    await client.create_direct_message(participant_id=MARIE["id"], text="Réponse confidentielle")
    with pytest.raises(tweepy.Forbidden):
        await client.create_direct_message(participant_id=JEAN["id"], text="Non")
    log = await control.get("/_control/requests")
    assert [(r["method"], r["path"], r["status"], r["auth"]) for r in log] == [
        ("POST", f"/2/dm_conversations/with/{MARIE['id']}/messages", 201, "oauth1"),
        ("POST", f"/2/dm_conversations/with/{JEAN['id']}/messages", 403, "oauth1"),
    ]
    assert "confidenti" not in json.dumps(log)


@pytest.mark.asyncio
async def test_reset_forgets_the_conversation(emulator, control, client):
    await persona_writes(control, MARIE)
    await client.create_direct_message(participant_id=MARIE["id"], text="Oui")
    await control.post("/_control/reset")
    assert await control.get("/_control/outbox") == {"dms": [], "tweets": []}
    with pytest.raises(tweepy.Forbidden):  # Marie's first message is forgotten too
        await client.create_direct_message(participant_id=MARIE["id"], text="Oui")


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "body", "status"), [
    ("/_control/dm", {"sender_id": MARIE["id"]}, 400),
    ("/_control/dm", {"text": "sans expéditeur"}, 400),
    ("/_control/faults", {"status": 418}, 400),
    ("/_control/faults", {"status": 503, "path_prefix": "/_control"}, 400),
    ("/_control/tweet", {"username": "x", "text": "a", "in_reply_to_tweet_id": "9"}, 404),
    ("/_control/rate_limits", {"limits": {"nope": 1}}, 400),
])
async def test_control_validation(control, path, body, status):
    assert "error" in await control.post(path, body, expect=status)


@pytest.mark.asyncio
async def test_dm_log_and_tweets_for_the_page(emulator, control, client):
    await persona_writes(control, MARIE, "Question")
    await client.create_direct_message(participant_id=MARIE["id"], text="Réponse")
    log = await control.get(f"/_control/dm_log?user_id={MARIE['id']}")
    assert [(m["from"], m["text"]) for m in log] == [("user", "Question"),
                                                     ("account", "Réponse")]
    tweet = await control.tweet(MARIE["screen_name"], "@TweepyDev #droitautweet bonjour")
    await client.create_tweet(text="Réponse publique", in_reply_to_tweet_id=tweet["tweet_id"])
    tweets = await control.get("/_control/tweets")
    assert [(t["by_account"], t["in_reply_to_tweet_id"]) for t in tweets] == [
        (False, None), (True, tweet["tweet_id"])]


@pytest.mark.asyncio
async def test_page_is_french_and_self_contained(emulator, http):
    async with http.get(emulator.base_url + "/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        html = await response.text()
    assert '<html lang="fr">' in html and 'name="viewport"' in html
    assert "Envoyer le message privé" in html and "#droitautweet" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
