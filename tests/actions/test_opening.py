"""The opening (issue #12, item 8): the disclosure, the terms, the privacy notice, the deadline
warning and the consent question in one message of at most 600 characters, one DM on X, with the
legal content of LEGAL.md §0 (S1-S6).

The text is the one the bot sends: ``action_session_start``'s message, filled by Rasa's own
interpolation with the values it carries (firm.yml), and, for X, rendered with the buttons as the
X channel renders them.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.nlg.interpolator import interpolate_text
from rasa_sdk.executor import CollectingDispatcher

from actions.session import DISCLOSURE, ActionSessionStart
from connectors.x.render import pack, render_buttons, utf16_length
from desk.retention import DEFAULT_DAYS

MAX_CHARS = 600


async def opening(make_tracker, domain: dict[str, Any]) -> tuple[str, list[dict]]:
    """The opening's text as the person reads it, and its buttons."""
    dispatcher = CollectingDispatcher()
    await ActionSessionStart().run(dispatcher, make_tracker(), domain)
    [message] = dispatcher.messages
    response = domain["responses"][message["response"]]
    assert len(response) == 1, "one variant: the length and content checks cover it"
    values = {key: value for key, value in message.items() if isinstance(value, str)}
    return interpolate_text(response[0]["text"], values), response[0].get("buttons") or []


def test_the_opening_is_one_message() -> None:
    assert DISCLOSURE == ("utter_opening",)


async def test_the_opening_fits_in_600_characters_on_every_channel(make_tracker, domain) -> None:
    text, buttons = await opening(make_tracker, domain)
    assert "{" not in text and "}" not in text  # every placeholder filled
    # Web chat and REST: the text, the buttons beside it.
    assert len(text) <= MAX_CHARS
    # X: the buttons become numbered lines of the same DM, counted in UTF-16 code units.
    on_x, mapping = render_buttons(text, buttons)
    assert mapping == {"1": "/affirm", "2": "/deny"}
    assert pack([on_x]) == [on_x]
    assert utf16_length(on_x) <= MAX_CHARS, f"{utf16_length(on_x)} characters:\n{on_x}"


@pytest.mark.parametrize(("requirement", "words"), [
    # S1: an automated assistant, an AI, not the lawyer.
    ("S1", ["Assistant automatisé (IA)", "pas avocat"]),
    # S3: no advice; it collects the facts, the lawyer answers personally.
    ("S3", ["aucun conseil", "je note les faits", "répond en personne"]),
    # S4: general, free, one-off, no mandate; a follow-up needs a written fee agreement.
    ("S4", ["générale", "gratuite", "ponctuelle", "sans mandat",
            "convention d'honoraires écrite"]),
    # S5: who processes, why, how long, rights and the CNIL behind the full notice, no
    # sensitive data in messages.
    ("S5", ["traités par le cabinet", "pour répondre", f"effacés {DEFAULT_DAYS} j après",
            "Droits, CNIL", "santé", "casier", "pièce d'identité"]),
    # S6: deadlines are short, sometimes 48 hours, and writing here stops none.
    ("S6", ["Délais parfois de 48 h", "écrire ici ne les interrompt pas"]),
])
async def test_the_opening_says_what_legal_md_requires(
    make_tracker, domain, requirement, words
) -> None:
    text, _ = await opening(make_tracker, domain)
    missing = [word for word in words if word not in text]
    assert not missing, f"{requirement}: {missing} not in the opening"


async def test_the_opening_names_the_firm_and_the_lawyer(make_tracker, domain, firm_data) -> None:
    # S2 (RIN art. 10): who, the structure, the barreaux, how to reach them; the lawyer by
    # name; the full notice (with the address) behind the privacy link.
    text, _ = await opening(make_tracker, domain)
    for key in ("firm_name", "structure", "barreaux", "contact", "lawyer_name", "privacy_url"):
        assert firm_data[key] in text, key
    assert text.startswith("Assistant automatisé (IA) de " + firm_data["firm_name"])


async def test_the_opening_ends_with_the_consent_question(make_tracker, domain) -> None:
    text, buttons = await opening(make_tracker, domain)
    assert text.endswith("Acceptez-vous ?")
    assert [(b["title"], b["payload"]) for b in buttons] == [
        ("J'accepte", "/affirm"), ("Je refuse", "/deny")]


async def test_a_longer_firm_name_is_caught(make_tracker, domain, tmp_path, monkeypatch) -> None:
    # The check is not vacuous: firm.yml values 100 characters longer break the limit.
    firm_file = tmp_path / "firm.yml"
    firm_file.write_text(
        'firm_name: "Cabinet Exemple Avocats Associés Conseil Contentieux Public et Privé"\n'
        'lawyer_name: "Maître Camille-Alexandra Exemple-Longuenom"\n'
        'structure: "Société d\'exercice libéral à responsabilité limitée"\n'
        'barreaux: "barreaux d\'Arras et de Paris"\ncontact: "contact@cabinet-exemple.fr"\n'
        'address: "1 place de l\'Exemple, 62000 Arras"\n'
        'privacy_url: "https://www.cabinet-exemple.fr/confidentialite"\n', encoding="utf-8")
    monkeypatch.setenv("PERMANENCE_FIRM_FILE", str(firm_file))
    text, _ = await opening(make_tracker, domain)
    assert len(text) > MAX_CHARS
