"""The X channel end to end: the X emulator posts signed webhooks to the real Rasa server, whose
X channel feeds the assistant and sends its replies back through the emulator's API.

The emulator, the action server and Rasa are started once for the session (conftest.py); Rasa's
X channel points at the emulator with the sandbox credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from sandbox.stack import wait_for
from tests.dialogue import QUESTIONS, URBANISME

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
FIRST_REPLY_SECONDS = 2.0



def new_user_id() -> str:
    return str(random.randrange(10**15, 10**18))


def sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def post_webhook(servers, body: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-twitter-webhooks-signature"] = signature
    request = urllib.request.Request(f"{servers.base_url}/webhooks/x/webhook", data=body,
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def dms_to(servers, user_id: str) -> list[dict]:
    return [dm for dm in servers.x_control("GET", "/_control/outbox")["dms"]
            if dm["recipient_id"] == user_id]


def replies_to(servers, tweet_ids: set[str]) -> list[dict]:
    return [tweet for tweet in servers.x_control("GET", "/_control/outbox")["tweets"]
            if tweet["in_reply_to_tweet_id"] in tweet_ids]


def db_rows(servers, query: str, *params: Any) -> list[tuple]:
    """A query on the X channel's store (its own SQLite file)."""
    with sqlite3.connect(servers.x_db_path) as db:
        return db.execute(query, params).fetchall()


def user_events(servers, user_id: str) -> list[dict]:
    """The person's messages kept in the conversation ``x:<X user id>``."""
    return [event for event in servers.stored_events(f"x:{user_id}")
            if event.get("event") == "user"]


def send_dm(servers, user_id: str, text: str) -> dict:
    answer = servers.x_control("POST", "/_control/dm", {
        "sender_id": user_id, "screen_name": f"citoyen{user_id[-8:]}", "text": text})
    assert answer["delivery_status"] == 200, answer
    return answer


def wait_dm_containing(servers, user_id: str, needle: str, timeout: float = 30.0) -> list[dict]:
    dms = wait_for(lambda: [dm for dm in dms_to(servers, user_id) if needle in dm["text"]],
                   timeout)
    assert dms, f"no DM containing {needle!r} to {user_id}: {dms_to(servers, user_id)}"
    return dms


def consent_buttons() -> list[dict]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"]["utter_opening"][0]["buttons"]


@pytest.fixture(scope="module")
def x(servers):
    """The servers, once the X channel knows its account, after a warm-up conversation (the
    first message loads the model's components)."""

    def ready() -> bool:
        with urllib.request.urlopen(f"{servers.base_url}/webhooks/x/", timeout=10) as response:
            return json.loads(response.read())["ready"]

    assert wait_for(ready, 60, 0.5), "the X channel did not become ready"
    warm_up = new_user_id()
    send_dm(servers, warm_up, URBANISME)
    wait_dm_containing(servers, warm_up, "Acceptez-vous", timeout=90)
    return servers


def test_dm_gets_the_disclosure_first_and_fast(x):
    user = new_user_id()
    started = time.monotonic()
    send_dm(x, user, URBANISME)
    first = wait_for(lambda: dms_to(x, user), 10, 0.02)
    elapsed = time.monotonic() - started
    assert first, "no reply"
    assert elapsed < FIRST_REPLY_SECONDS, f"first reply after {elapsed:.2f} s"
    text = first[0]["text"]
    assert "assistant automatisé" in text.lower() and "pas avocat" in text
    # The turn ends with the consent question, its buttons as numbered options.
    [consent] = wait_dm_containing(x, user, "Acceptez-vous")
    expected = "\n".join(f"{n}. {b['title']}" for n, b in enumerate(consent_buttons(), 1))
    assert consent["text"].endswith(expected)
    assert dms_to(x, user)[-1]["text"] == consent["text"]


def test_typing_an_option_number_gives_consent(x):
    user = new_user_id()
    send_dm(x, user, URBANISME)
    wait_dm_containing(x, user, "Acceptez-vous")
    answer = send_dm(x, user, "1")
    wait_dm_containing(x, user, QUESTIONS)
    [event] = [e for e in user_events(x, user) if e.get("message_id") == answer["event_id"]]
    assert event["text"] == consent_buttons()[0]["payload"]
    assert event["parse_data"]["intent"]["name"] == "affirm"
    assert x.stored_slots(f"x:{user}").get("consent") == "given"


def test_a_redelivered_event_is_answered_once(x):
    user = new_user_id()
    answer = send_dm(x, user, URBANISME)
    wait_dm_containing(x, user, "Acceptez-vous")
    replies = len(dms_to(x, user))
    again = x.x_control("POST", "/_control/redeliver", {"event_id": answer["event_id"]})
    assert [d["status"] for d in again["deliveries"]] == [200]
    time.sleep(2.0)
    assert len(dms_to(x, user)) == replies
    assert len([e for e in user_events(x, user)
                if e.get("message_id") == answer["event_id"]]) == 1
    assert db_rows(x, "SELECT COUNT(*) FROM x_inbox WHERE event_id = ?",
                   f"dm:{answer['event_id']}") == [(1,)]


def test_forged_unsigned_and_malformed_posts_never_reach_the_assistant(x):
    secret = x.x_consumer_secret
    account_id = x.x_control("GET", "/_control/info")["account"]["id"]
    sender = new_user_id()
    event_id = new_user_id()
    body = json.dumps({
        "for_user_id": account_id,
        "direct_message_events": [{
            "type": "message_create", "id": event_id,
            "created_timestamp": str(int(time.time() * 1000)),
            "message_create": {"target": {"recipient_id": account_id}, "sender_id": sender,
                               "message_data": {"text": URBANISME, "entities": {}}},
        }],
        "users": {sender: {"id": sender, "screen_name": "faussaire", "name": "F"}},
    }).encode()
    assert post_webhook(x, body, None) == 403
    assert post_webhook(x, body, "") == 403
    assert post_webhook(x, body, sign(body, "not-the-secret")) == 403
    assert post_webhook(x, body, sign(body + b" ", secret)) == 403
    sha1 = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha1).digest()).decode()
    assert post_webhook(x, body, f"sha1={sha1}") == 403
    bad_id = body.replace(f'"id": "{event_id}"'.encode(), b'"id": "abc"')
    assert bad_id != body
    for malformed in (b"{not json", json.dumps({"direct_message_events": "x"}).encode(),
                      json.dumps([1, 2]).encode(), bad_id):
        assert post_webhook(x, malformed, sign(malformed, secret)) == 400
    big = b"{" + b" " * 1_100_000 + b"}"
    assert post_webhook(x, big, sign(big, secret)) == 413
    time.sleep(1.5)
    assert x.stored_events(f"x:{sender}") == []
    assert x.stored_events(sender) == []  # nor under the bare X id
    assert db_rows(x, "SELECT COUNT(*) FROM x_inbox WHERE sender_id = ?", sender) == [(0,)]
    assert dms_to(x, sender) == []

    # The same body correctly signed does reach the assistant (so the checks above mean
    # something). The emulator never saw this person write: X refuses the replies (403).
    assert post_webhook(x, body, sign(body, secret)) == 200
    assert wait_for(lambda: user_events(x, sender), 30), "the signed DM did not reach Rasa"
    states = wait_for(lambda: {state for (state,) in db_rows(
        x, "SELECT state FROM x_outbox WHERE recipient_id = ?", sender)} == {"failed_permanent"},
        30)
    assert states, db_rows(x, "SELECT state, last_error_code FROM x_outbox "
                              "WHERE recipient_id = ?", sender)
    assert dms_to(x, sender) == []


def test_a_public_tweet_gets_one_neutral_invitation_per_period(x):
    account = x.x_control("GET", "/_control/info")["account"]
    author = new_user_id()
    username = f"temoin{author[-8:]}"
    words = "voisine Zéphyrine conteste pergola municipale Quimperlé"
    text = f"@{account['screen_name']} #droitautweet {words}"
    first = x.x_control("POST", "/_control/tweet",
                        {"author_id": author, "username": username, "text": text})
    assert first["delivered"] and first["delivery_status"] == 200
    replies = wait_for(lambda: replies_to(x, {first["tweet_id"]}), 10)
    assert replies and len(replies) == 1
    reply = replies[0]["text"]
    reply_words = set(re.findall(r"\w+", reply.casefold()))
    tweet_words = set(re.findall(r"\w+", f"{words} #droitautweet {username}".casefold()))
    assert not reply_words & tweet_words
    # No DM link by default (invitation_dm_link: a post with a URL costs $0.20, not $0.01).
    assert "http" not in reply and account["id"] not in reply
    assert f"@{account['screen_name']}" in reply

    second = x.x_control("POST", "/_control/tweet", {
        "author_id": author, "username": username,
        "text": f"@{account['screen_name']} #droitautweet encore une question"})
    assert second["delivery_status"] == 200
    done = wait_for(lambda: db_rows(x, "SELECT state FROM x_inbox WHERE event_id = ?",
                                    f"tweet:{second['tweet_id']}") == [("done",)], 10)
    assert done
    time.sleep(0.5)
    assert len(replies_to(x, {first["tweet_id"], second["tweet_id"]})) == 1


def test_crc_check(x):
    url = f"{x.base_url}/webhooks/x/webhook"
    answer = x.x_control("POST", "/_control/crc", {"url": url})
    assert answer["valid"], answer
    token = "abc-123_T"
    with urllib.request.urlopen(f"{url}?crc_token={token}", timeout=10) as response:
        got = json.loads(response.read())["response_token"]
    expected = base64.b64encode(hmac.new(x.x_consumer_secret.encode(), token.encode(),
                                         hashlib.sha256).digest()).decode()
    assert got == f"sha256={expected}"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(url, timeout=10)
    assert error.value.code == 400


def test_replies_survive_a_server_error_and_a_rate_limit_in_order(x):
    """503 then 429 on the first DM: it is retried (backoff, then the rate-limit reset) and
    every reply of the turn still arrives once, in order."""
    user = new_user_id()
    fault = {"path_prefix": "/2/dm_conversations", "method": "POST", "count": 1}
    x.x_control("POST", "/_control/faults", {**fault, "status": 503})
    x.x_control("POST", "/_control/faults", {**fault, "status": 429, "reset_in": 1})
    try:
        send_dm(x, user, URBANISME)
        wait_dm_containing(x, user, "Acceptez-vous", timeout=30)
    finally:
        x.x_control("DELETE", "/_control/faults")
    texts = [dm["text"] for dm in dms_to(x, user)]
    assert "assistant automatisé" in texts[0].lower() and "Acceptez-vous" in texts[-1]
    # X has the DM; the sender records it as sent just after (the opening is one DM now, so
    # the first row is also the last one sent).
    query = ("SELECT state, attempts, last_error_code FROM x_outbox "
             "WHERE recipient_id = ? ORDER BY seq")
    def settled() -> list[tuple]:
        rows = db_rows(x, query, user)
        return rows if rows and all(row[0] != "pending" for row in rows) else []

    rows = wait_for(settled, timeout=10) or db_rows(x, query, user)
    assert len(rows) == len(texts)
    assert rows[0] == ("sent", 3, "429")
    assert all(row[:2] == ("sent", 1) for row in rows[1:])
