"""« Vous êtes un humain ? » / « C'est un robot ? » (issue #12, item 8): the answer always says
it is an automated assistant, and its first word answers the question as asked (LEGAL.md S1)."""

from __future__ import annotations

import pytest

from actions.iamabot import ActionIAmABot
from actions.identity import HUMAN, MACHINE, NEUTRAL, answer_for

ASKS_HUMAN = [
    "vous êtes un humain ?",
    "Vous êtes humain ?",
    "êtes-vous un humain ?",
    "t'es un humain toi ?",
    "je parle à un humain ?",
    "c'est une vraie personne ?",
    "vous êtes réel ?",
    "y a quelqu'un de réel derrière ?",
    "c'est l'avocat qui répond ?",
    "c'est un vrai avocat qui répond ?",
    "vous êtes humain ou pas ?",
    "j'ai besoin de savoir si vous êtes humain",
    "VOUS ETES UN HUMAIN",
]
ASKS_MACHINE = [
    "c'est un robot ?",
    "vous êtes un bot",
    "je parle à une IA ?",
    "attendez, je parle à un robot là ?",
    "t'es chatgpt ?",
    "ces réponses sont générées par ordinateur ?",
    "c'est automatique ?",
    "c une ia ou pas",
]
NEITHER_OR_BOTH = [
    "c'est un humain ou un robot ?",
    "vous êtes une secrétaire ou un robot ?",
    "vous n'êtes pas un robot ?",
    "qui me répond là ?",
    "qui êtes-vous exactement ?",
    "",
    None,
]


@pytest.mark.parametrize("text", ASKS_HUMAN)
def test_asked_if_human_the_answer_is_no(text) -> None:
    assert answer_for(text) == HUMAN


@pytest.mark.parametrize("text", ASKS_MACHINE)
def test_asked_if_a_machine_the_answer_is_yes(text) -> None:
    assert answer_for(text) == MACHINE


@pytest.mark.parametrize("text", NEITHER_OR_BOTH)
def test_otherwise_neither_yes_nor_no(text) -> None:
    assert answer_for(text) == NEUTRAL


def test_each_answer_begins_as_it_should_and_says_what_it_is(domain) -> None:
    texts = {name: domain["responses"][name][0]["text"] for name in (HUMAN, MACHINE, NEUTRAL)}
    assert texts[HUMAN].startswith("Non,")
    assert texts[MACHINE].startswith("Oui,")
    assert not texts[NEUTRAL].lower().startswith(("oui", "non"))
    for text in texts.values():
        assert "assistant automatisé (une IA)" in text and "pas un avocat" in text.replace(
            "ni un avocat", "pas un avocat")
        assert "{lawyer_name}" in text


@pytest.mark.parametrize(("text", "first_word"), [
    ("vous êtes un humain ?", "Non,"),
    ("c'est un robot ?", "Oui,"),
])
async def test_the_action_sends_the_answer(
    dispatcher, make_tracker, domain, sent, render, firm_data, text, first_word
) -> None:
    tracker = make_tracker(text=text, intent="bot_challenge")

    events = await ActionIAmABot().run(dispatcher, tracker, domain)

    assert events == []
    assert len(sent()) == 1
    said = render(dispatcher.messages[0])
    assert said.startswith(first_word)
    assert firm_data["lawyer_name"] in said
