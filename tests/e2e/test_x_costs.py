"""What X costs, end to end: the real Rasa server's X channel (webhook mode, the DM link in
invitations turned on) against the X emulator. The cost counters the channel records, read
from the desk's API, match what the emulator billed and the calls in its logs, per kind; a
triage and a mention are measured.

One stack of its own: the counters are compared since the channel started.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest

from sandbox.stack import MODEL, ROOT, Stack, http_json, wait_for
from tests.dialogue import QUESTIONS, SUMMARY, URBANISME, URBANISME_ANSWERS

# (what the person writes, what the assistant says next): a whole triage to the handover.
TRIAGE = (
    (URBANISME, "Acceptez-vous"),
    ("1", QUESTIONS),
    (URBANISME_ANSWERS, SUMMARY),
    # The handover itself: the one-message opening says « en personne » too.
    ("c'est bien ça, merci", "La suite de l'échange se fera ici même"),
)
DM_SEND = "/2/dm_conversations/"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    servers = Stack(tmp_path_factory.mktemp("x_costs"), x_mode="webhook",
                    x_extra={"invitation_dm_link": True},
                    env={"PERMANENCE_SCHEDULE_FILE": str(ROOT / "tests" /
                                                         "schedule_always_live.yml")})
    with servers:
        def ready() -> bool:
            with urllib.request.urlopen(f"{servers.base_url}/webhooks/x/", timeout=10) as reply:
                return json.loads(reply.read())["ready"]

        assert wait_for(ready, 60, 0.5), "the X channel did not become ready"
        yield servers
    if "Traceback" in servers.log("rasa"):
        print(servers.log("rasa")[-5000:])


@pytest.fixture(scope="module")
def token(stack: Stack) -> str:
    email = "avocat-couts@cabinet.example"
    env = {**os.environ, "PERMANENCE_DATABASE_URL": str(stack.database_url)}
    for args, stdin in ((["user", email, "--password-stdin"], "un mot de passe assez long\n"),
                        (["token", email], None)):
        done = subprocess.run([sys.executable, "-m", "desk.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True, timeout=60,
                              input=stdin)
    return done.stdout.strip().splitlines()[-1]


def counted(stack: Stack, token: str) -> dict[str, int]:
    """The channel's counters this month, per price kind, as the desk's API gives them."""
    report = http_json("GET", f"{stack.base_url}/desk/api/costs",
                       headers={"Authorization": f"Bearer {token}"})
    [x] = report["channels"]
    return {kind: entry["count"] for kind, entry in x["month"]["by_kind"].items()}


def billed(stack: Stack) -> dict[str, int]:
    usage = stack.x_control("GET", "/_control/usage")
    return {kind: count for kind, count in usage["counts"].items() if count}


def settled(stack: Stack, token: str) -> dict[str, int]:
    """Once the channel's counters and the emulator's agree (sends in flight have landed)."""
    assert wait_for(lambda: counted(stack, token) == billed(stack), 30, 0.2), (
        counted(stack, token), billed(stack))
    return counted(stack, token)


def dms_to(stack: Stack, person: str) -> list[str]:
    return stack.x_dm_texts(person)


def test_one_triage_and_one_mention_cost_what_x_bills(stack: Stack, token: str) -> None:
    before = settled(stack, token)
    assert before == {"user_read": 1}  # the channel read its account at start
    person = str(random.randrange(10**15, 10**18))
    for text, next_step in TRIAGE:
        stack.x_send_dm(person, text)
        assert wait_for(lambda n=next_step: any(n in dm for dm in dms_to(stack, person)), 90,
                        0.2), (next_step, dms_to(stack, person))
    triage = settled(stack, token)
    dms = len(dms_to(stack, person))
    assert triage == {"user_read": 1, "dm_received": len(TRIAGE), "dm_sent": dms}
    usage = stack.x_control("GET", "/_control/usage")
    cost = (usage["cost_usd"] - usage["cost_usd_by_kind"]["user_read"])
    print(f"one triage on X: {len(TRIAGE)} DMs received, {dms} DMs sent, ${cost:.3f}")

    account = stack.x_control("GET", "/_control/info")["account"]
    mention = stack.x_control("POST", "/_control/tweet", {
        "author_id": str(random.randrange(10**15, 10**18)), "username": "temoin_couts",
        "text": f"@{account['screen_name']} une question sur mon permis"})
    assert mention["delivery_status"] == 200

    def invitations() -> list[dict]:
        return [t for t in stack.x_control("GET", "/_control/outbox")["tweets"]
                if t["in_reply_to_tweet_id"] == mention["tweet_id"]]

    assert wait_for(invitations, 30, 0.2), "no invitation"
    [invitation] = invitations()
    assert f"recipient_id={account['id']}" in invitation["text"]  # the setting is on
    after = settled(stack, token)
    assert after == {**triage, "post_mention_received": 1, "post_created_with_url": 1}

    # The emulator's logs say the same, call by call.
    requests = stack.x_control("GET", "/_control/requests")
    assert len(requests) < 2000, "the request log wrapped around"
    sends = [r for r in requests if r["method"] == "POST" and r["path"].startswith(DM_SEND)]
    assert sum(r["status"] == 201 for r in sends) == after["dm_sent"]
    posts = [r for r in requests if r["method"] == "POST" and r["path"] == "/2/tweets"]
    assert sum(r["status"] == 201 for r in posts) == after["post_created_with_url"]
    assert sum(r["path"] == "/2/users/me" and r["status"] == 200
               for r in requests) >= after["user_read"]
    delivered = {d["event_id"] for d in stack.x_control("GET", "/_control/deliveries")
                 if d.get("status") == 200}
    own = {dm["id"] for dm in stack.x_control("GET", "/_control/outbox")["dms"]} | {
        invitation["id"]}
    assert len(delivered - own) == after["dm_received"] + after["post_mention_received"]
