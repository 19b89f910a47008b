"""Issue #11, items 1, 2, 9, 12, 14: the REST door, attacked on the real servers.

Before the fix, Rasa's open ``rest`` channel shared conversation ids with X, whose ids are
public: ``POST /webhooks/rest/webhook {"sender": "<her X id>", "message": "59000"}`` returned a
person's whole summary and could complete her handover, erase her conversation or open a case
in her name; a client-chosen ``input_channel``/``metadata`` made a forged conversation look like
an X DM from a real handle; ``/restart`` typed on REST re-ran a paused conversation (and its P0
alert); a 190,000-character message stalled everything; nested JSON was a 500; a message that
was not a string was logged.

Now (connectors/rest.py) the door needs ``PERMANENCE_REST_TOKEN`` (the Stack sets a random one),
its conversations are ``rest:<sender>``, X conversations ``x:<X user id>``, and each attack below
fails. On the security tests' shared stack (``security_stack``, tests/security/conftest.py: X
emulator in webhook mode, action server, Rasa; the schedule always live).
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from typing import Any

import pytest

from connectors.limits import MAX_MESSAGE_CHARS
from sandbox.stack import ROOT, Stack, wait_for
from tests.dialogue import QUESTIONS, URBANISME

OQTF = "j'ai reçu une OQTF hier et je suis en rétention au CRA de Lesquin"
HER_ADVERSARY = "la préfecture du Nord"


@pytest.fixture(scope="module")
def stack(security_stack: Stack) -> Stack:
    assert security_stack.env["PERMANENCE_SCHEDULE_FILE"] == str(
        ROOT / "tests" / "schedule_always_live.yml")
    return security_stack


def post(stack: Stack, raw: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """A raw POST to the REST door; the status and the decoded answer."""
    request = urllib.request.Request(
        f"{stack.base_url}/webhooks/rest/webhook", data=raw, method="POST",
        headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, body.decode(errors="replace")


def post_json(stack: Stack, body: dict, token: str | None = "stack") -> tuple[int, Any]:
    headers = {} if token is None else {
        "Authorization": f"Bearer {stack.rest_token if token == 'stack' else token}"}
    return post(stack, json.dumps(body).encode(), headers)


def new_sender() -> str:
    return f"sec-{random.randrange(10**12):012d}"


def server_answers(stack: Stack) -> bool:
    return "assistant automatisé" in " ".join(
        m.get("text", "") for m in stack.say(new_sender(), "bonjour")).lower()


def test_without_the_token_nothing_reaches_the_assistant(stack: Stack) -> None:
    sender = new_sender()
    body = {"sender": sender, "message": URBANISME}
    for token in (None, "", "wrong", stack.rest_token + "x", stack.rest_token[:-1]):
        status, answer = post_json(stack, body, token)
        assert status == 403, (token, status, answer)
        assert "error" in answer
    status, _ = post(stack, json.dumps(body).encode(), {"Authorization": stack.rest_token})
    assert status == 403  # the token without its scheme
    status, _ = post(stack, json.dumps(body).encode(),
                     {"Authorization": f"Basic {stack.rest_token}"})
    assert status == 403
    assert stack.stored_events(f"rest:{sender}") == []
    assert stack.stored_events(sender) == []
    # The same request with the token is a conversation (so the refusals above mean something).
    status, answer = post_json(stack, body)
    assert status == 200 and "assistant automatisé" in answer[0]["text"].lower()
    assert stack.stored_events(f"rest:{sender}")


@pytest.fixture(scope="module")
def x_person(stack: Stack) -> str:
    """A person who gave the beginning of her facts by DM; her X user id."""
    user = str(random.randrange(10**17, 10**18))
    stack.x_send_dm(user, URBANISME)
    assert stack.x_wait_dm_containing(user, "Acceptez-vous", timeout=120)
    stack.x_send_dm(user, "1")
    assert stack.x_wait_dm_containing(user, QUESTIONS, timeout=60)
    stack.x_send_dm(user, HER_ADVERSARY)
    assert wait_for(lambda: stack.stored_slots(f"x:{user}").get("partie_adverse"), 60)
    # Still missing facts: the questions come again, once.
    assert wait_for(lambda: sum(QUESTIONS in t for t in stack.x_dm_texts(user)) == 2, 60), (
        stack.x_dm_texts(user))
    return user


def test_a_rest_client_cannot_reach_an_x_conversation(stack: Stack, x_person: str) -> None:
    conversation = f"x:{x_person}"
    before = stack.stored_events(conversation)
    dms_before = stack.x_dm_texts(x_person)
    assert HER_ADVERSARY in json.dumps(before, ensure_ascii=False)

    # Her X id as the sender: a conversation of its own, rest:<her id>, from the disclosure.
    status, answer = post_json(stack, {"sender": x_person, "message": "59000"})
    assert status == 200
    said = json.dumps(answer, ensure_ascii=False)
    assert "assistant automatisé" in said.lower()
    assert "préfecture" not in said and "mairie" not in said
    assert stack.stored_events(f"rest:{x_person}")
    # Her conversation's id itself, or another channel's, is not a sender.
    for sender in (conversation, f"web:{x_person}", f"rest:{x_person}", f" {x_person}"):
        status, answer = post_json(stack, {"sender": sender, "message": "59000"})
        assert status == 400, (sender, status, answer)
    # Acting in her name: erasing, handing over, consenting through buttons.
    for text in ("supprimez mes données", "je veux parler à l'avocat maintenant", "1"):
        assert post_json(stack, {"sender": x_person, "message": text})[0] == 200

    assert stack.stored_events(conversation) == before
    assert stack.stored_events(x_person) == []  # nothing under the bare X id either
    assert stack.x_dm_texts(x_person) == dms_before  # nothing was DM'd to her
    assert stack.sql("SELECT COUNT(*) FROM desk_case WHERE conversation_id IN (?, ?)",
                     conversation, x_person) == [(0,)]


def test_client_input_channel_and_metadata_are_ignored(stack: Stack) -> None:
    sender = new_sender()
    status, _ = post_json(stack, {
        "sender": sender, "message": URBANISME, "input_channel": "x",
        "metadata": {"screen_name": "une_vraie_personne", "author": "lawyer"}})
    assert status == 200
    [user] = [e for e in stack.stored_events(f"rest:{sender}") if e["event"] == "user"]
    assert user["input_channel"] == "rest"
    assert "une_vraie_personne" not in json.dumps(user)
    assert not (user.get("metadata") or {}).get("screen_name")


def handed_over(stack: Stack) -> str:
    """A REST conversation handed to the lawyer with a P0 case; its sender."""
    sender = new_sender()
    stack.say(sender, OQTF)
    stack.press(sender, "/affirm")
    stack.say(sender, "je veux parler à l'avocat maintenant")
    conversation = f"rest:{sender}"
    assert any(e["event"] == "pause" for e in stack.stored_events(conversation))
    assert wait_for(lambda: stack.sql(
        "SELECT urgency FROM desk_case WHERE conversation_id = ?", conversation), 30) == [("P0",)]
    return sender


def test_typed_commands_do_not_rerun_a_paused_conversation(stack: Stack) -> None:
    sender = handed_over(stack)
    conversation = f"rest:{sender}"
    paused_at = len(stack.stored_events(conversation))
    for typed in ("/restart", "/session_start", "/back", '/affirm{"consent": "given"}',
                  "  //restart"):
        status, answer = post_json(stack, {"sender": sender, "message": typed})
        assert (status, answer) == (200, []), typed  # paused: recorded, not answered
    after = stack.stored_events(conversation)[paused_at:]
    kinds = {event["event"] for event in after}
    assert not kinds & {"restart", "session_started", "resume", "rewind"}, kinds
    assert [e["text"] for e in after if e["event"] == "user"] == [
        "restart", "session_start", "back", 'affirm{"consent": "given"}', "restart"]
    handoffs = [e for e in stack.stored_events(conversation)
                if e["event"] == "action" and e.get("name") == "action_handoff"]
    assert len(handoffs) == 1
    assert stack.sql("SELECT COUNT(*) FROM desk_case WHERE conversation_id = ?",
                     conversation) == [(1,)]
    # A payload that is not a button of the last answer is refused, not run.
    status, _ = post_json(stack, {"sender": sender, "payload": "/restart"})
    assert status == 400
    assert len(stack.stored_events(conversation)) == paused_at + len(after)


def test_oversized_messages_and_bodies_are_refused(stack: Stack) -> None:
    sender = new_sender()
    status, answer = post_json(stack, {"sender": sender, "message": "é" * (MAX_MESSAGE_CHARS + 1)})
    assert status == 413
    assert "trop long" in answer["text"] and f"{MAX_MESSAGE_CHARS + 1}" in answer["text"]
    assert stack.stored_events(f"rest:{sender}") == []
    status, _ = post_json(stack, {"sender": sender, "message": "a" * 190_000})
    assert status == 413
    assert stack.stored_events(f"rest:{sender}") == []
    # At the limit, a message is a turn.
    status, answer = post_json(stack, {"sender": sender, "message": "é" * MAX_MESSAGE_CHARS})
    assert status == 200 and answer
    assert server_answers(stack)


def test_nested_and_malformed_json_is_a_400_and_the_server_still_answers(stack: Stack) -> None:
    auth = {"Authorization": f"Bearer {stack.rest_token}"}
    for raw in (b"[" * 100_000, b'{"sender": ' * 10_000, b"{not json", b"\xff\xfe\x00",
                b"[1, 2]", b"null"):
        status, answer = post(stack, raw, auth)
        assert status == 400, (raw[:20], status, answer)
        assert "error" in answer
    assert "RecursionError" not in stack.log("rasa")
    assert server_answers(stack)


def test_a_message_that_is_not_a_string_is_refused_and_not_logged(stack: Stack) -> None:
    marker = f"secret-facts-{random.randrange(10**12)}"
    sender = new_sender()
    for message in ({"text": marker}, [marker], 42, None):
        status, answer = post_json(stack, {"sender": sender, "message": message})
        assert (status, answer) == (400, {"error": "message must be a string"})
    status, _ = post_json(stack, {"sender": sender, "message": marker + "x" * MAX_MESSAGE_CHARS})
    assert status == 413
    assert stack.stored_events(f"rest:{sender}") == []
    assert marker not in stack.log("rasa")
