"""What every channel must do, written once and run on each channel (``drivers.py``).

Text in reaches Rasa; text, buttons and long text come out the channel's own way; emoji,
right-to-left text, zero-width characters and the length limit; a duplicate delivery is
answered once; the bot's own echoes are ignored; the server's API reaches the person through
the channel's output. Everything runs on the session's servers (``tests/e2e/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.x.render import utf16_length
from sandbox.stack import wait_for
from tests.dialogue import QUESTIONS, URBANISME
from tests.e2e.conformance.drivers import (
    ChannelDriver,
    MastodonDriver,
    Person,
    Shown,
    WebChatDriver,
    XDriver,
)

CONSENT = ("J'accepte", "Je refuse")
ANSWER_SECONDS = 60.0
DRIVERS = {"x": XDriver, "webchat": WebChatDriver, "mastodon": MastodonDriver}


@pytest.fixture(scope="module", params=sorted(DRIVERS))
def driver(request, servers) -> Iterator[ChannelDriver]:
    channel = DRIVERS[request.param](servers)
    try:
        # A first conversation loads the model's components and, on X, waits until the
        # channel knows its account.
        person = channel.new_person()
        wait_for(lambda: _try_send(channel, person, URBANISME), 60, 0.5)
        wait_shown(channel, person, "Acceptez-vous", timeout=120)
        yield channel
    finally:
        channel.close()


def _try_send(channel: ChannelDriver, person: Person, text: str) -> bool:
    try:
        channel.send(person, text)
    except AssertionError:  # X answers 503 until the channel knows its account
        return False
    return True


def wait_shown(driver: ChannelDriver, person: Person, needle: str, after: int = 0,
               timeout: float = ANSWER_SECONDS) -> list[Shown]:
    """The messages after the first ``after``, once one of them contains ``needle``."""

    def probe() -> list[Shown]:
        new = driver.messages(person)[after:]
        return new if any(needle in m.text for m in new) else []

    found = wait_for(probe, timeout)
    assert found, f"nothing containing {needle!r}: {driver.messages(person)[after:]}"
    return found


def user_events(servers, conversation_id: str, at_least: int = 0) -> list[dict]:
    """The person's messages the tracker store kept; the store saves a turn after its messages
    went out, so wait for ``at_least`` of them."""

    def probe() -> list[dict]:
        events = [e for e in servers.stored_events(conversation_id) if e["event"] == "user"]
        return events if len(events) >= at_least else []

    return wait_for(probe, 10) if at_least else probe()


def start(driver: ChannelDriver) -> tuple[Person, str]:
    """A person who asked a question and was asked for consent."""
    person = driver.new_person()
    message_id = driver.send(person, URBANISME)
    wait_shown(driver, person, "Acceptez-vous")
    return person, message_id


def test_first_message_gets_the_disclosure_then_consent_with_options(driver, servers):
    person = driver.new_person()
    driver.send(person, URBANISME)
    shown = wait_shown(driver, person, "Acceptez-vous")
    assert "assistant automatisé" in shown[0].text.lower() and "pas avocat" in shown[0].text
    assert shown[-1].options == CONSENT and "Acceptez-vous" in shown[-1].text
    assert all(not m.options for m in shown[:-1])
    [event] = user_events(servers, person.conversation_id, 1)
    assert event["text"] == URBANISME and event["input_channel"] == driver.name


def test_accepting_with_an_option_moves_the_conversation_on(driver, servers):
    person, _ = start(driver)
    before = len(driver.messages(person))
    driver.choose(person, "J'accepte")
    wait_shown(driver, person, QUESTIONS, after=before)
    assert user_events(servers, person.conversation_id, 2)[-1]["text"] == "/affirm"
    assert servers.stored_slots(person.conversation_id).get("consent") == "given"


def test_refusing_by_the_option_title_erases_the_conversation(driver, servers):
    person, _ = start(driver)
    before = len(driver.messages(person))
    driver.choose(person, "Je refuse", by_title=True)
    wait_shown(driver, person, "effacée", after=before)
    assert wait_for(lambda: servers.stored_events(person.conversation_id) == [], 10)


@pytest.mark.parametrize("text", [
    "🙏🙏🙏 👨‍👩‍👧 🇫🇷 recours ?",
    "مرحبا، لدي سؤال عن الإقامة",
    "שלום, יש לי שאלה על אשרת שהייה",
    "bon\u200bjour\u200f la mai\u200drie\ufeff a refusé",
], ids=["emoji", "arabic", "hebrew", "zero-width"])
def test_unusual_text_reaches_the_assistant_unchanged(driver, servers, text):
    person = driver.new_person()
    driver.send(person, text)
    shown = wait_shown(driver, person, "Acceptez-vous")
    assert "assistant automatisé" in shown[0].text.lower()
    [event] = user_events(servers, person.conversation_id, 1)
    assert event["text"] == text


def test_messages_up_to_the_limit_are_taken_longer_ones_are_refused_clearly(driver, servers):
    limit = driver.max_message_chars
    story = ("Une très longue histoire, avec des détails 📄 et des dates. " * 400)[:limit - 1]
    at_limit, over = story + ".", story + "!?"
    assert len(at_limit) == limit and len(over) == limit + 1
    person = driver.new_person()
    driver.send(person, over)
    [answer] = wait_shown(driver, person, "trop long")
    assert f"{limit + 1} caractères" in answer.text and f"maximum {limit}" in answer.text
    assert servers.stored_events(person.conversation_id) == []  # not handed to Rasa
    # Nothing is stuck: the same person's next message, exactly at the limit, is taken whole.
    driver.send(person, at_limit)
    wait_shown(driver, person, "Acceptez-vous", after=1)
    [event] = user_events(servers, person.conversation_id, 1)
    assert event["text"] == at_limit


def test_server_api_reaches_the_person_through_the_channel(driver, servers):
    person, _ = start(driver)
    before = len(driver.messages(person))
    servers.rasa_api("POST", f"/conversations/{person.conversation_id}/execute"
                             f"?output_channel={driver.name}", {"name": "utter_iamabot"})
    [said] = wait_shown(driver, person, "Oui, je suis un assistant automatisé", after=before)
    assert "pas un avocat" in said.text


def long_text() -> list[str]:
    """About 25,000 characters in numbered paragraphs, with emoji and right-to-left words."""
    sentence = ("Le tribunal administratif 🏛️ examine la requête n° {p}-{s} contre l'arrêté "
                "(قرار إداري, החלטה) et la décision du maire. ")
    return [f"Paragraphe {p}. " + "".join(sentence.format(p=p, s=s) for s in range(7)).strip()
            for p in range(1, 29)]


def test_long_bot_text_with_options_through_the_server_api(driver, servers):
    """A long bot message pushed with the server's API arrives whole, cut between paragraphs
    where the channel has a limit (inside them where a paragraph is longer than the limit),
    with its options at the end; they work."""
    person, _ = start(driver)
    before = len(driver.messages(person))
    paragraphs = long_text()
    text = "\n\n".join(paragraphs)
    assert utf16_length(text) > 20_000
    # In the opposite order to the consent question, so that stale options would show.
    buttons = [{"title": "Je refuse", "payload": "/deny"},
               {"title": "J'accepte", "payload": "/affirm"}]
    servers.rasa_api(
        "POST", f"/conversations/{person.conversation_id}/tracker/events"
                f"?output_channel={driver.name}&execute_side_effects=true",
        [{"event": "bot", "text": text, "data": {"buttons": buttons}}])

    def arrived() -> list[Shown]:  # up to the message carrying the options (the last one)
        new = driver.messages(person)[before:]
        return new if any(m.options for m in new) else []

    shown = wait_for(arrived, ANSWER_SECONDS)
    assert shown, driver.messages(person)[before:]
    assert shown[-1].options == ("Je refuse", "J'accepte")
    limit = driver.bot_text_limit
    if limit is None or max(map(utf16_length, paragraphs)) < limit // 2:
        assert [p for m in shown for p in m.text.split("\n\n") if p] == paragraphs
    else:  # a paragraph longer than a message (Mastodon's 500): cut inside, nothing lost
        assert "".join("".join(m.text for m in shown).split()) == "".join(text.split())
    if driver.bot_text_limit is not None:
        assert all(utf16_length(m.carried) <= driver.bot_text_limit for m in shown)
        assert len(shown) >= -(-utf16_length(text) // driver.bot_text_limit)
    driver.choose(person, "J'accepte")
    wait_shown(driver, person, QUESTIONS, after=before + len(shown))


def test_a_duplicate_delivery_is_answered_once(driver, servers):
    person, message_id = start(driver)
    before = len(driver.messages(person))
    driver.redeliver(person, message_id)
    # The person's next message is handled after the duplicate would have been.
    driver.choose(person, "J'accepte")
    new = wait_shown(driver, person, QUESTIONS, after=before)
    assert not any("acceptez-vous" in m.text.casefold() for m in new), new
    assert [e.get("message_id") for e in user_events(servers, person.conversation_id, 2)
            ].count(message_id) == 1


def test_the_bots_own_echo_is_ignored(driver, servers):
    person, _ = start(driver)
    before = len(driver.messages(person))
    users = len(user_events(servers, person.conversation_id, 1))
    driver.send_own_echo(person)
    driver.choose(person, "J'accepte")  # handled after the echo would have been
    new = wait_shown(driver, person, QUESTIONS, after=before)
    assert not any("acceptez-vous" in m.text.casefold() for m in new), new
    assert len(user_events(servers, person.conversation_id, users + 1)) == users + 1
    for conversation_id in driver.echo_conversation_ids():
        assert servers.stored_events(conversation_id) == []
