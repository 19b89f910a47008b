"""Forging X webhooks, as an outsider would, against the real servers on 127.0.0.1.

The attack (issue #11): the CRC route answers HMAC-SHA256(consumer_secret, crc_token), the very
HMAC X signs webhook bodies with; asking it to "answer" a token that is a JSON body gave a valid
signature for that body, and the forged DM erased a person's conversation and made the firm's
account DM her; a forged mention made the firm reply in public. Here, through every door that
serves the webhook (Rasa's own route, the ingress thread X posts to, and the ingress as a
process of its own), the CRC route refuses to sign a body, the forged POST is refused whatever
its signature, and nothing is stored, sent or changed. The CRC route is rate-limited and still
answers X's own CRC afterwards. A body X really signed, replayed once retention has pruned its
dedupe row, is outside the age window: acknowledged, neither stored nor answered.

The security tests' shared stack (``security_stack``, tests/security/conftest.py: webhook mode,
the ingress thread), with a short age window and a small CRC bucket so that the test need not
wait a day nor send hundreds of requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.x.config import XSettings
from connectors.x.webhook import check_post
from permanence.x_store import Store, utcnow
from sandbox.stack import ROOT, X_SANDBOX_CREDENTIALS, Stack, free_port, wait_for, wait_http
from tests.dialogue import QUESTIONS, URBANISME
from tests.security.stack_settings import CRC_BURST, CRC_PER_SECOND, MAX_AGE_SECONDS, X_EXTRA

LOG_KEY = "log-key-of-the-forgery-tests"
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
PATH = "/webhooks/x/webhook"
_next_person = iter(range(10**6))


# ------------------------------------------------------------------------------ helpers


def new_person() -> str:
    return f"77{int(time.time() * 1000) % 10**10:010d}{next(_next_person):06d}"


def now_ms() -> int:
    return int(time.time() * 1000)


def snowflake() -> str:
    time.sleep(0.002)  # distinct ids
    return str((now_ms() - SNOWFLAKE_EPOCH_MS) << 22)


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body,
                                                 hashlib.sha256).digest()).decode()


def get(url: str) -> tuple[int, dict]:
    """The status and the JSON answer (``{"raw": text}`` for an answer that is not JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"raw": raw.decode(errors="replace")}


def post(url: str, body: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-twitter-webhooks-signature"] = signature
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def crc(door: str, token: str) -> tuple[int, dict]:
    return get(f"{door}?{urllib.parse.urlencode({'crc_token': token})}")


def dm_body(account_id: str, sender: str, text: str, event_id: str | None = None,
            created_ms: int | None = None) -> bytes:
    return json.dumps({"for_user_id": account_id, "direct_message_events": [{
        "type": "message_create", "id": event_id or snowflake(),
        "created_timestamp": str(created_ms or now_ms()),
        "message_create": {"target": {"recipient_id": account_id}, "sender_id": sender,
                           "message_data": {"text": text}}}]},
        separators=(",", ":")).encode()


def mention_body(account: dict, author: str, tweet_id: str) -> bytes:
    text = f"@{account['screen_name']} #droitautweet besoin d'aide"
    return json.dumps({"for_user_id": account["id"], "tweet_create_events": [{
        "id_str": tweet_id, "text": text, "timestamp_ms": str(now_ms()),
        "user": {"id_str": author, "screen_name": "quelquun"},
        "entities": {"hashtags": [{"text": "droitautweet"}],
                     "user_mentions": [{"screen_name": account["screen_name"]}]}}]},
        separators=(",", ":")).encode()


def drain_bucket_wait() -> None:
    """Long enough for a server's CRC bucket to be full again."""
    time.sleep(CRC_BURST / CRC_PER_SECOND + 0.5)


# ------------------------------------------------------------------------------ servers


@pytest.fixture(scope="module")
def stack(security_stack: Stack) -> Stack:
    assert security_stack.x_extra == X_EXTRA
    status, body = get(f"{security_stack.base_url}/webhooks/x/")
    assert status == 200 and body.get("ready"), body
    return security_stack


@pytest.fixture(scope="module")
def ingress_process(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """``python -m connectors.x.ingress`` on the same database, with the same CRC bucket."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("ingress-process") / "ingress.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    env = {**os.environ, **X_SANDBOX_CREDENTIALS,
           "PERMANENCE_DATABASE_URL": f"sqlite:///{stack.db_path}",
           "X_CRC_BURST": str(CRC_BURST), "X_CRC_PER_SECOND": str(CRC_PER_SECOND),
           "X_MAX_EVENT_AGE_SECONDS": str(MAX_AGE_SECONDS), "PERMANENCE_LOG_KEY": LOG_KEY}
    process = subprocess.Popen([sys.executable, "-m", "connectors.x.ingress", "--port",
                                str(port)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}{PATH}"
    try:
        wait_http(f"{url}?crc_token=up", process, timeout=60)
        drain_bucket_wait()
        yield {"url": url, "log": log_path}
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def account(stack: Stack) -> dict:
    return stack.x_control("GET", "/_control/info")["account"]


@pytest.fixture(params=["rasa", "ingress_thread", "ingress_process"])
def door(request, stack: Stack) -> str:
    if request.param == "rasa":
        return f"{stack.base_url}{PATH}"
    if request.param == "ingress_thread":
        return f"{stack.x_ingress_url}{PATH}"
    return request.getfixturevalue("ingress_process")["url"]


def dms_to(stack: Stack, person: str) -> list[dict]:
    return [dm for dm in stack.x_control("GET", "/_control/outbox")["dms"]
            if dm["recipient_id"] == person]


def inbox_rows(stack: Stack, event_id: str) -> list[tuple]:
    return stack.x_sql("SELECT state FROM x_inbox WHERE event_id = ?", event_id)


def x_settings() -> XSettings:
    return XSettings.from_credentials({
        key[2:].lower(): value for key, value in X_SANDBOX_CREDENTIALS.items()})


# ------------------------------------------------------------------------------ the attacks


def test_a_forged_dm_cannot_be_signed_through_the_crc_route(stack, account, door):
    victim = new_person()
    stack.x_send_dm(victim, URBANISME)
    assert stack.x_wait_dm_containing(victim, "Acceptez-vous", timeout=120)
    time.sleep(1.0)
    events_before = stack.stored_events(f"x:{victim}")
    dms_before = dms_to(stack, victim)
    assert events_before and dms_before

    forged_id = snowflake()
    forged = dm_body(account["id"], victim, "supprimez mes données", event_id=forged_id)
    # Had it been signed with the secret, this body would have been taken (so the refusals
    # below are the guards at work, not a malformed body).
    assert check_post(x_settings(), forged, {"x-twitter-webhooks-signature": sign(
        forged, stack.x_consumer_secret)}, account["id"]).events

    # 1. Ask the CRC route to sign the body, as is and in a short form: refused, no HMAC.
    short = json.dumps({"for_user_id": account["id"]}, separators=(",", ":"))
    for token in (forged.decode(), short):
        status, answer = crc(door, token)
        assert status == 400, (status, answer)
        assert "response_token" not in answer
    # 2. Post it with every signature an outsider has: none, made up, the HMAC of something
    #    else the CRC route does sign, another secret's: 403.
    status, signed_other = crc(door, "abcDEF123")
    assert status == 200, signed_other
    for signature in (None, "", "sha256=AAAA", signed_other["response_token"],
                      sign(forged, "guessed-secret")):
        assert post(door, forged, signature) == 403

    # Nothing stored, nothing sent, the victim's conversation as it was.
    time.sleep(3.0)
    assert inbox_rows(stack, f"dm:{forged_id}") == []
    assert dms_to(stack, victim) == dms_before
    assert stack.stored_events(f"x:{victim}") == events_before


def test_a_forged_mention_gets_no_public_reply(stack, account, door):
    author = new_person()
    tweet_id = snowflake()
    forged = mention_body(account, author, tweet_id)
    assert check_post(x_settings(), forged, {"x-twitter-webhooks-signature": sign(
        forged, stack.x_consumer_secret)}, account["id"]).events

    status, answer = crc(door, forged.decode())
    assert status == 400 and "response_token" not in answer
    for signature in (None, "sha256=AAAA", sign(forged, "guessed-secret")):
        assert post(door, forged, signature) == 403

    time.sleep(3.0)
    assert inbox_rows(stack, f"tweet:{tweet_id}") == []
    tweets = stack.x_control("GET", "/_control/outbox")["tweets"]
    assert [t for t in tweets if t.get("in_reply_to_tweet_id") == tweet_id] == []
    assert dms_to(stack, author) == []


def test_the_crc_route_is_rate_limited_and_still_answers_x(stack, door):
    drain_bucket_wait()
    started = time.monotonic()
    statuses = [crc(door, f"token{i}")[0] for i in range(CRC_BURST * 3)]
    elapsed = time.monotonic() - started
    assert statuses[0] == 200 and 429 in statuses, statuses
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) <= CRC_BURST + 1 + int(elapsed * CRC_PER_SECOND), statuses
    # The server is up, and X's own CRC check passes once the bucket has refilled.
    time.sleep(1.0 / CRC_PER_SECOND + 0.5)
    result = stack.x_control("POST", "/_control/crc", {"url": door})
    assert result["valid"], result
    status, _ = get(f"{stack.base_url}/")
    assert status == 200


def test_a_signed_event_replayed_after_pruning_is_neither_stored_nor_answered(stack):
    """X signed and delivered this DM; retention pruned its dedupe row; the same signed body
    comes again (X's redelivery, or someone who captured it): 200, so that X does not retry,
    but nothing stored and no second answer."""
    person = new_person()
    event_id = stack.x_send_dm(person, URBANISME)
    delivered_at = time.monotonic()
    assert stack.x_wait_dm_containing(person, "Acceptez-vous", timeout=120)
    assert wait_for(lambda: inbox_rows(stack, f"dm:{event_id}") == [("done",)], 30)
    time.sleep(1.0)
    answered = dms_to(stack, person)
    events = stack.stored_events(f"x:{person}")

    # A redelivery while the row is there is dropped by the dedupe table, as before.
    # Once the event is older than the window, retention (as `python -m desk.cli purge` runs
    # it) deletes the row; the redelivery of the very same signed body is then refused by age.
    time.sleep(max(0.0, MAX_AGE_SECONDS + 2.0 - (time.monotonic() - delivered_at)))
    with Store.create(f"sqlite:///{stack.x_db_path}") as store:
        assert store.prune(utcnow()) >= 1
    assert inbox_rows(stack, f"dm:{event_id}") == []

    answer = stack.x_control("POST", "/_control/redeliver", {"event_id": event_id})
    assert [d["status"] for d in answer["deliveries"]] == [200], answer
    time.sleep(4.0)
    assert inbox_rows(stack, f"dm:{event_id}") == []
    assert dms_to(stack, person) == answered
    assert stack.stored_events(f"x:{person}") == events
    assert "x.webhook.stale_events count=1 of=1" in stack.log("rasa")


def test_the_ingress_process_logs_no_raw_person_id(stack, account, ingress_process):
    """A person's answer through the separate ingress: stored, answered, and its log names the
    person by reference only; a stale one is acknowledged, not stored."""
    person = new_person()
    stack.x_send_dm(person, URBANISME)
    assert stack.x_wait_dm_containing(person, "Acceptez-vous", timeout=120)
    event_id = snowflake()
    body = dm_body(account["id"], person, "1", event_id=event_id)
    assert post(ingress_process["url"], body, sign(body, stack.x_consumer_secret)) == 200
    assert stack.x_wait_dm_containing(person, QUESTIONS, timeout=120)
    log = Path(ingress_process["log"]).read_text(errors="replace")
    assert f"event_id=dm:{event_id}" in log
    assert person not in log
    # The keyed reference of the conversation x:<id> (permanence.logids), with the process's key.
    reference = "p-" + hmac.new(LOG_KEY.encode(), f"x:{person}".encode(),
                                hashlib.sha256).hexdigest()[:12]
    assert f"sender={reference}" in log

    stale_id = snowflake()
    stale = dm_body(account["id"], person, "supprimez mes données", event_id=stale_id,
                    created_ms=now_ms() - 3_600_000)
    assert post(ingress_process["url"], stale, sign(stale, stack.x_consumer_secret)) == 200
    assert wait_for(lambda: "x.webhook.stale_events count=1 of=1" in Path(
        ingress_process["log"]).read_text(errors="replace"), 10)
    assert inbox_rows(stack, f"dm:{stale_id}") == []
