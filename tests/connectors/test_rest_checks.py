"""The REST door's checks (connectors.rest.check_request), without a server."""

from __future__ import annotations

import json
import logging

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from connectors.limits import MAX_MESSAGE_CHARS, too_long_text
from connectors.rest import MAX_BODY_BYTES, check_request, shown_payloads

TOKEN = "s3cret-token-for-tests"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def check(raw: bytes, headers: dict[str, str] | None = None, token: str | None = TOKEN):
    return check_request(token, raw, AUTH if headers is None else headers)


def test_a_valid_request_becomes_a_rest_conversation_turn() -> None:
    verdict = check(body(sender="client-7", message="Bonjour"))
    assert verdict.status == 200
    assert verdict.conversation_id == "rest:client-7"
    assert verdict.text == "Bonjour"


@pytest.mark.parametrize("headers", [
    {},
    {"authorization": ""},
    {"authorization": TOKEN},
    {"authorization": f"Basic {TOKEN}"},
    {"authorization": f"Bearer {TOKEN}x"},
    {"authorization": f"Bearer {TOKEN[:-1]}"},
    {"authorization": "Bearer "},
    {"authorization": "Bearer é"},
])
def test_a_missing_or_wrong_token_is_refused(headers: dict[str, str]) -> None:
    verdict = check(body(sender="a", message="b"), headers)
    assert verdict.status == 403
    assert verdict.conversation_id is None and verdict.text is None


def test_the_scheme_is_case_insensitive() -> None:
    assert check(body(sender="a", message="b"), {"authorization": f"bearer {TOKEN}"}).status == 200


@pytest.mark.parametrize("token", [None, ""])
def test_without_a_configured_token_the_door_is_closed(token: str | None) -> None:
    verdict = check(body(sender="a", message="b"), {"authorization": "Bearer "}, token=token)
    assert verdict.status == 403
    assert "disabled" in verdict.body["error"]
    assert "PERMANENCE_REST_TOKEN" in verdict.body["error"]


def test_the_token_is_checked_before_anything_in_the_body() -> None:
    assert check(b"x" * (MAX_BODY_BYTES + 1), {}).status == 403
    assert check(b"{not json", {}).status == 403


@pytest.mark.parametrize("sender", [None, "", 42, ["a"], {"a": 1}, "x:12345", "web:abc",
                                    "a b", "a/b", "é", "a" * 129, "12\n"])
def test_a_sender_outside_the_local_id_charset_is_refused(sender: object) -> None:
    verdict = check(body(sender=sender, message="Bonjour"))
    assert verdict.status == 400
    assert "sender" in verdict.body["error"]


def test_an_x_id_as_sender_stays_in_the_rest_namespace() -> None:
    assert check(body(sender="1234567890", message="59000")).conversation_id == "rest:1234567890"


def test_client_input_channel_and_metadata_are_not_carried() -> None:
    verdict = check(body(sender="a", message="b", input_channel="x",
                         metadata={"screen_name": "victim"}))
    assert verdict.status == 200
    assert set(vars(verdict)) == {"status", "body", "conversation_id", "text", "payload"}
    assert verdict.conversation_id == "rest:a"


@pytest.mark.parametrize("message", [None, 42, 4.2, True, ["secret words"],
                                     {"text": "secret words"}])
def test_a_message_that_is_not_a_string_is_refused_without_logging_it(
        message: object, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    verdict = check(body(sender="a", message=message))
    assert verdict.status == 400
    assert verdict.body == {"error": "message must be a string"}
    assert "secret words" not in caplog.text


def test_a_typed_intent_is_text() -> None:
    assert check(body(sender="a", message="/restart")).text == "restart"
    assert check(body(sender="a", message="  //session_start")).text == "session_start"
    assert check(body(sender="a", message='/affirm{"consent": "given"}')).text == \
        'affirm{"consent": "given"}'


def test_the_longest_message_passes_and_one_more_character_is_refused_in_french() -> None:
    assert check(body(sender="a", message="é" * MAX_MESSAGE_CHARS)).status == 200
    text = "é" * (MAX_MESSAGE_CHARS + 1)
    verdict = check(body(sender="a", message=text))
    assert verdict.status == 413
    assert verdict.body["text"] == too_long_text(text)
    assert "trop long" in verdict.body["text"]
    assert verdict.conversation_id is None


def test_the_longest_message_fits_the_body_cap_in_any_json_escaping() -> None:
    raw = json.dumps({"sender": "a" * 128, "message": "😀" * MAX_MESSAGE_CHARS},
                     ensure_ascii=True).encode()
    assert len(raw) <= MAX_BODY_BYTES
    assert check(raw).status == 200


def test_a_body_over_the_cap_is_refused_before_parsing() -> None:
    assert check(b"{" * (MAX_BODY_BYTES + 1)).status == 413  # never parsed: not a 400
    raw = body(sender="a", message="a" * 190_000)
    assert check(raw).status == 413
    declared = {**AUTH, "content-length": str(MAX_BODY_BYTES + 1)}
    assert check(body(sender="a", message="b"), declared).status == 413


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"null", b"[]", b'"text"', b"42",
                                 b"[" * 100_000, b'{"a":' * 20_000])
def test_malformed_or_deeply_nested_json_is_a_400(raw: bytes) -> None:
    verdict = check(raw)
    assert verdict.status == 400
    assert "error" in verdict.body


def test_a_button_goes_as_a_payload_checked_later_against_the_conversation() -> None:
    verdict = check(body(sender="a", payload="/affirm"))
    assert (verdict.status, verdict.payload, verdict.text) == (200, "/affirm", None)
    assert verdict.conversation_id == "rest:a"


@pytest.mark.parametrize("fields", [
    {"payload": "/affirm", "message": "oui"}, {"payload": 1}, {"payload": ["/affirm"]},
    {"payload": "affirm"}, {"payload": "/" + "a" * 1000}])
def test_a_payload_that_cannot_be_a_button_is_refused(fields: dict) -> None:
    assert check(body(sender="a", **fields)).status == 400


def buttons(*payloads: str) -> dict:
    return {"buttons": [{"title": p.strip("/"), "payload": p} for p in payloads]}


def test_shown_payloads_are_those_of_the_last_answer_only() -> None:
    events = [
        UserUttered("bonjour"),
        BotUttered("Acceptez-vous ?", data=buttons("/affirm", "/deny")),
        UserUttered("oui"),
        BotUttered("Quel domaine ?", data=buttons("/question_urbanisme")),
        BotUttered("Ou bien :", data=buttons("/question_fiscalite")),
        SlotSet("consent", "given"),
        ActionExecuted("action_listen"),
    ]
    assert shown_payloads(events) == {"/question_urbanisme", "/question_fiscalite"}
    assert shown_payloads([*events, UserUttered("autre chose"), BotUttered("Merci.")]) == set()
    assert shown_payloads(events[:2]) == {"/affirm", "/deny"}
    assert shown_payloads([]) == set()
    assert shown_payloads([*events, BotUttered("La réponse de l'avocate",
                                               metadata={"author": "lawyer"})]) == set()


def test_a_message_without_an_answer_leaves_the_last_answer_shown() -> None:
    """A session's first message: Rasa logs the disclosure and the consent question before
    it. A paused conversation: the person's messages get no answer."""
    first = [ActionExecuted("action_session_start"),
             BotUttered("Acceptez-vous ?", data=buttons("/affirm", "/deny")),
             ActionExecuted("action_listen"), UserUttered("bonjour"),
             ActionExecuted("action_remember_question"), ActionExecuted("action_listen")]
    assert shown_payloads(first) == {"/affirm", "/deny"}
    assert shown_payloads([*first, UserUttered("vous êtes là ?")]) == {"/affirm", "/deny"}
    earlier = [UserUttered("avant"), BotUttered("Autre ?", data=buttons("/other")), *first]
    assert shown_payloads(earlier) == {"/affirm", "/deny"}
