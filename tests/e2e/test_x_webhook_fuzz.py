"""Hundreds of generated forged, unsigned, truncated, mistyped and oversized webhook requests
against the real server: every one gets a 4xx, the server stays up, and nothing reaches Rasa."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "sandbox" / "x_emulator" / "fixtures" / "aaa_direct_message_events_docs.json"
SENDER = "987650000000000001"  # every generated DM claims to come from this user


def sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def dm_payload(account_id: str) -> dict:
    payload = json.loads(FIXTURE.read_text())
    payload["for_user_id"] = account_id
    for event in payload["direct_message_events"]:
        event["message_create"]["sender_id"] = SENDER
        event["message_create"]["target"]["recipient_id"] = account_id
    return payload


def mistyped(payload: dict, rng: random.Random) -> dict:
    """The payload with one field replaced by a value of the wrong type."""
    bad = json.loads(json.dumps(payload))
    event = bad["direct_message_events"][0]
    target = rng.choice([
        ("direct_message_events", None), ("direct_message_events", "x"),
        ("direct_message_events", {"a": 1}), ("message_create", None),
        ("message_create", []), ("sender_id", {"id": 1}), ("sender_id", 1.5),
        ("text", 42), ("text", ["a"]), ("message_data", "text"), ("for_user_id", []),
        ("id", None), ("id", True), ("type", 7),
    ])
    key, value = target
    if key in ("direct_message_events", "for_user_id"):
        bad[key] = value
    elif key in ("message_create", "id", "type"):
        event[key] = value
    elif key == "sender_id":
        event["message_create"]["sender_id"] = value
    elif key == "message_data":
        event["message_create"]["message_data"] = value
    else:
        event["message_create"]["message_data"]["text"] = value
    return bad


def generated_requests(secret: str, account_id: str, count: int = 300):
    rng = random.Random(20261128)
    good = json.dumps(dm_payload(account_id)).encode()
    for i in range(count):
        kind = i % 8
        headers = {"Content-Type": "application/json"}
        if kind == 0:  # forged: signed with another secret
            body, headers["x-twitter-webhooks-signature"] = good, sign(good, f"forged-{i}")
        elif kind == 1:  # unsigned
            body = good
        elif kind == 2:  # signature of another body
            body = good
            headers["x-twitter-webhooks-signature"] = sign(good + b" ", secret)
        elif kind == 3:  # truncated, correctly signed
            body = good[: rng.randrange(1, len(good) - 1)]
            headers["x-twitter-webhooks-signature"] = sign(body, secret)
        elif kind == 4:  # mistyped fields, correctly signed
            body = json.dumps(mistyped(dm_payload(account_id), rng)).encode()
            headers["x-twitter-webhooks-signature"] = sign(body, secret)
        elif kind == 5:  # random bytes, correctly signed
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
            headers["x-twitter-webhooks-signature"] = sign(body, secret)
        elif kind == 6:  # garbage signature headers
            body = good
            headers["x-twitter-webhooks-signature"] = rng.choice([
                "", "sha256=", "sha256=!!!", "sha1=" + base64.b64encode(b"x" * 20).decode(),
                "SHA256=" + sign(good, secret)[7:], sign(good, secret)[:-4], "null",
            ])
        else:  # oversized, correctly signed
            body = b'{"for_user_id": "1", "pad": "' + b"a" * (2 * 1024 * 1024) + b'"}'
            headers["x-twitter-webhooks-signature"] = sign(body, secret)
        yield kind, body, headers


@pytest.mark.parametrize("where", ["rasa", "ingress"])
def test_generated_bad_webhooks_get_4xx_and_reach_nothing(servers, where):
    """Both doors: Rasa's own route and the ingress thread."""
    account_id = servers.x_control("GET", "/_control/info")["account"]["id"]
    origin = servers.base_url if where == "rasa" else servers.x_ingress_url
    url = f"{origin}/webhooks/x/webhook"
    statuses: dict[int, set[int]] = {}
    for kind, body, headers in generated_requests(servers.x_consumer_secret, account_id):
        status = post(url, body, headers)
        statuses.setdefault(kind, set()).add(status)
        assert 400 <= status < 500, (kind, status)
    # Signature problems are 403; well-signed but malformed bodies are 400 (or 413 when huge).
    assert statuses[0] == statuses[1] == statuses[2] == statuses[6] == {403}
    assert statuses[3] <= {400} and statuses[4] <= {400} and statuses[5] <= {400}
    assert statuses[7] == {413}
    # The server is still up, and nothing of all that reached Rasa or the inbox.
    with urllib.request.urlopen(f"{servers.base_url}/", timeout=10) as response:
        assert response.status == 200
    assert servers.stored_events(f"x:{SENDER}") == [] and servers.stored_events(SENDER) == []
    with sqlite3.connect(servers.x_db_path) as db:
        rows = db.execute("SELECT count(*) FROM x_inbox WHERE sender_id = ?", (SENDER,)).fetchone()
    assert rows[0] == 0
