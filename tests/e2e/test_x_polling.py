"""The X channel in polling mode, end to end: the real Rasa server reads the X emulator's
``GET /2/dm_events``, mentions and hashtag search (no webhook reaches it), answers through the
emulator's API, and survives a ``kill -9`` mid-conversation without losing or repeating a DM.

One stack of its own for the module (sandbox/stack.py), since the last test kills its Rasa.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import TypeVar

import pytest

from sandbox.stack import MODEL, ROOT, Stack, http_json, wait_for
from tests.dialogue import QUESTIONS, URBANISME

T = TypeVar("T")

# Fast polling for the test (the defaults follow X's rate limits: 5 s and 10 s), and short
# leases so that the restarted server takes over at once.
POLLING = {
    "poll_interval_seconds": 0.5,
    "poll_tweets_interval_seconds": 0.5,
    "poll_lease_seconds": 4,
    "liveness_seconds": 3,
}
PEOPLE = ["880000000000000011", "880000000000000012", "880000000000000013"]



@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    servers = Stack(tmp_path_factory.mktemp("x_polling"), x_mode="polling", x_extra=POLLING)
    with servers:
        assert wait_for(lambda: health(servers)["ready"], 60, 0.3), "X channel not ready"
        assert health(servers)["mode"] == "polling"
        yield servers
    for name in ("rasa", "rasa.restarted"):
        if "Traceback" in servers.log(name):
            print(servers.log(name)[-5000:])


def health(stack: Stack) -> dict:
    with urllib.request.urlopen(f"{stack.base_url}/webhooks/x/", timeout=10) as response:
        return json.loads(response.read())


def test_a_dm_is_read_by_polling_and_answered(stack: Stack) -> None:
    user = "870000000000000001"
    started = time.monotonic()
    event_id = stack.x_send_dm(user, URBANISME, wait=False)
    first = wait_for(lambda: stack.x_dm_texts(user), 30, 0.02)
    elapsed = time.monotonic() - started
    print(f"first reply {elapsed:.2f} s after the DM (polling every "
          f"{POLLING['poll_interval_seconds']} s)")
    assert first, "no reply"
    assert "assistant automatisé" in first[0].lower() and "pas avocat" in first[0]
    assert stack.x_wait_dm_containing(user, "Acceptez-vous", interval=0.2), stack.x_dm_texts(user)
    # It came through GET /2/dm_events: no webhook delivery of this DM reached the server.
    deliveries = [d for d in stack.x_control("GET", "/_control/deliveries")
                  if d["event_id"] == event_id]
    assert all(d["status"] != 200 for d in deliveries)
    polls = [r for r in stack.x_control("GET", "/_control/requests")
             if r["path"] == "/2/dm_events"]
    assert polls and polls[-1]["status"] == 200 and polls[-1]["auth"] == "oauth1"
    assert stack.x_sql("SELECT state FROM x_inbox WHERE event_id = ?", f"dm:{event_id}") == [
        ("done",)]
    assert stack.user_message_ids(stack.x_conversation(user)) == [event_id]


def test_a_mention_with_the_hashtag_gets_one_neutral_invitation(stack: Stack) -> None:
    account = stack.x_control("GET", "/_control/info")["account"]
    author = "870000000000000002"
    username = f"temoin{author[-6:]}"
    words = "voisine Zéphyrine conteste pergola municipale Quimperlé"
    tweet = stack.x_control("POST", "/_control/tweet", {
        "author_id": author, "username": username,
        "text": f"@{account['screen_name']} #droitautweet {words}", "wait": False})

    def invitations(tweet_ids: set[str]) -> list[dict]:
        return [t for t in stack.x_control("GET", "/_control/outbox")["tweets"]
                if t["in_reply_to_tweet_id"] in tweet_ids]

    assert wait_for(lambda: invitations({tweet["tweet_id"]}), 30, 0.2), "no invitation"
    again = stack.x_control("POST", "/_control/tweet", {
        "author_id": author, "username": username,
        "text": f"#droitautweet @{account['screen_name']} encore une question", "wait": False})
    assert wait_for(lambda: stack.x_sql("SELECT state FROM x_inbox WHERE event_id = ?",
                               f"tweet:{again['tweet_id']}") == [("done",)], 30, 0.2)
    time.sleep(1.5)  # several polling rounds of mentions and search
    [reply] = invitations({tweet["tweet_id"], again["tweet_id"]})
    reply_words = set(re.findall(r"\w+", reply["text"].casefold()))
    tweet_words = set(re.findall(r"\w+", f"{words} droitautweet {username}".casefold()))
    assert not reply_words & tweet_words, reply["text"]
    # No link to DM the account unless the firm asks (invitation_dm_link): $0.01, not $0.20.
    assert "http" not in reply["text"] and account["id"] not in reply["text"]
    # Found both as a mention and by the hashtag search: stored once.
    assert stack.x_sql("SELECT COUNT(*) FROM x_inbox WHERE event_id = ?",
              f"tweet:{tweet['tweet_id']}") == [(1,)]


def test_a_hashtag_only_post_gets_no_reply_and_is_listed_on_the_desk(stack: Stack) -> None:
    """X allows no automated reply to a post that does not summon the account: found by the
    hashtag search, it gets none, and the desk lists its author's handle and link (never its
    words) for the lawyer to answer by hand."""
    author = "870000000000000004"
    username = f"tagueur{author[-6:]}"
    words = "préfecture Morlaix titre séjour bloqué"
    tweet = stack.x_control("POST", "/_control/tweet", {
        "author_id": author, "username": username, "text": f"#droitautweet {words}",
        "wait": False})
    assert tweet["delivered"] is False  # not a mention: only the search finds it
    token = desk_token(stack)
    link = f"https://x.com/{username}/status/{tweet['tweet_id']}"

    def listed() -> list[dict]:
        [x] = desk_api(stack, "/public-posts", token)["channels"]
        return [post for post in x["posts"] if post["link"] == link]

    [post] = wait_for(listed, 30, 0.2) or [None]
    assert post is not None, "not listed on the desk"
    assert post["handle"] == username
    assert stack.x_sql("SELECT state FROM x_inbox WHERE event_id = ?",
                       f"tweet:{tweet['tweet_id']}") == [("done",)]
    time.sleep(1.5)  # several polling rounds of search
    replies = [t for t in stack.x_control("GET", "/_control/outbox")["tweets"]
               if t["in_reply_to_tweet_id"] == tweet["tweet_id"]]
    assert replies == []
    # Stored for the desk: ids, handle, dates; not a word of the post.
    stored = repr(stack.x_sql("SELECT * FROM x_public_post"))
    assert username in stored and not any(word in stored for word in words.split())
    page = desk_page(stack, token)
    assert link in page and "Publications à traiter à la main" in page


def desk_token(stack: Stack) -> str:
    email = f"avocat-{time.monotonic_ns()}@cabinet.example"
    env = {**os.environ, "PERMANENCE_DATABASE_URL": str(stack.database_url)}
    for args, stdin in ((["user", email, "--password-stdin"], "un mot de passe assez long\n"),
                        (["token", email], None)):
        done = subprocess.run([sys.executable, "-m", "desk.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True, timeout=60,
                              input=stdin)
    return done.stdout.strip().splitlines()[-1]


def desk_api(stack: Stack, path: str, token: str) -> dict:
    return http_json("GET", f"{stack.base_url}/desk/api{path}",
                     headers={"Authorization": f"Bearer {token}"})


def desk_page(stack: Stack, token: str) -> str:
    request = urllib.request.Request(f"{stack.base_url}/desk/",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def test_kill_9_mid_conversation_loses_and_repeats_nothing(stack: Stack) -> None:
    # What every person must get: the same conversation, once, run without a crash.
    control = "870000000000000003"
    stack.x_send_dm(control, URBANISME, wait=False)
    assert stack.x_wait_dm_containing(control, "Acceptez-vous", interval=0.2), (
        stack.x_dm_texts(control))
    stack.x_send_dm(control, "1", wait=False)
    assert stack.x_wait_dm_containing(control, QUESTIONS, interval=0.2), (
        stack.x_dm_texts(control))
    time.sleep(1.5)
    expected = stack.x_dm_texts(control)

    first_ids = {user: stack.x_send_dm(user, URBANISME, wait=False) for user in PEOPLE}
    placeholders = ",".join("?" * len(PEOPLE))

    def states() -> list[str]:
        return [state for (state,) in stack.x_sql(
            f"SELECT state FROM x_inbox WHERE event_id IN ({placeholders})",
            *(f"dm:{event_id}" for event_id in first_ids.values()))]

    # Kill once every first DM is polled and one of them is being handled.
    def polled_and_handled() -> bool:
        now = states()
        return len(now) == len(PEOPLE) and any(state != "pending" for state in now)

    polled = wait_for(polled_and_handled, 30, 0.01)
    stack.kill_rasa()
    assert polled, f"the first DMs were not polled and handled: {states()}"
    at_kill = {user: len(stack.x_dm_texts(user)) for user in PEOPLE}
    print(f"inbox at the kill: {sorted(states())}; replies per person: {at_kill}; "
          f"a whole conversation: {len(expected)}")
    # while the server is down
    second_ids = {user: stack.x_send_dm(user, "1", wait=False) for user in PEOPLE}
    stack.start_rasa()

    def complete() -> bool:
        return all(len(stack.x_dm_texts(user)) >= len(expected) for user in PEOPLE)

    assert wait_for(complete, 90, 0.5), {user: stack.x_dm_texts(user) for user in PEOPLE}
    time.sleep(2.0)  # a few polling and sending rounds: a duplicate would show up
    for user in PEOPLE:
        assert stack.x_dm_texts(user) == expected, user
        assert stack.user_message_ids(stack.x_conversation(user)) == [first_ids[user],
                                                                      second_ids[user]]
