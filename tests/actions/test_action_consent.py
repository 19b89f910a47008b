"""action_remember_question, action_give_consent, action_refuse_consent (LEGAL.md S5, GDPR)."""

from __future__ import annotations

import pytest

from actions.consent import ActionGiveConsent, ActionRefuseConsent, ActionRememberQuestion


@pytest.fixture
def make_tracker(make_tracker, session_start_events):
    """Trackers of a session whose disclosure was delivered (the usual case): the session
    start's events come first. Without them: tests/actions/test_action_disclosure.py."""

    def _make(**kwargs):
        tracker = make_tracker(**kwargs)
        tracker.events[:0] = session_start_events
        return tracker

    return _make


PERMIS = "la mairie a refusé mon permis de construire pour une extension"
TAXE = "ma taxe foncière a doublé cette année, c'est normal ?"


@pytest.mark.parametrize(
    ("text", "intent", "before", "expected"),
    [
        pytest.param(
            PERMIS, "question_urbanisme", {},
            {"question_initiale": PERMIS, "domaine": "urbanisme"},
            id="question-kept-with-its-domain",
        ),
        pytest.param("bonjour", "greet", {}, {}, id="greeting-not-kept"),
        pytest.param("merci", "thanks", {}, {}, id="thanks-not-kept"),
        pytest.param("es-tu un robot ?", "bot_challenge", {}, {}, id="bot-challenge-not-kept"),
        pytest.param("c'est gratuit ?", "ask_fees", {}, {}, id="fees-not-kept"),
        pytest.param("ok", "inform", {}, {}, id="short-inform-not-kept"),
        pytest.param(
            "ma voisine construit un mur sur mon terrain", "inform", {},
            {"question_initiale": "ma voisine construit un mur sur mon terrain"},
            id="long-inform-kept-without-domain",
        ),
        pytest.param(
            "euh alors voilà le truc en fait", "nlu_fallback", {},
            {"question_initiale": "euh alors voilà le truc en fait"},
            id="long-fallback-kept",
        ),
        pytest.param(
            "/question_etrangers", "question_etrangers", {}, {"domaine": "etrangers"},
            id="button-payload-sets-domain-only",
        ),
        pytest.param(
            f"  {PERMIS}  \n", "question_urbanisme", {},
            {"question_initiale": PERMIS, "domaine": "urbanisme"},
            id="question-stripped",
        ),
        pytest.param(
            TAXE, "question_fiscalite", {"question_initiale": "bonjour, j'ai un souci"},
            {"question_initiale": f"bonjour, j'ai un souci\n{TAXE}", "domaine": "fiscalite"},
            id="second-question-appended",
        ),
        pytest.param(
            TAXE, "question_fiscalite",
            {"question_initiale": PERMIS, "domaine": "urbanisme"},
            {"question_initiale": f"{PERMIS}\n{TAXE}"},
            id="first-domain-kept",
        ),
        pytest.param(
            "mon ex refuse que je voie mes enfants", "question_hors_champ", {},
            {"question_initiale": "mon ex refuse que je voie mes enfants",
             "domaine": "hors_champ"},
            id="out-of-scope-kept",
        ),
    ],
)
@pytest.mark.parametrize("consent", [None, "pending"], ids=["first-message", "consent-pending"])
async def test_remember_question(
    dispatcher, make_tracker, domain, sent, slot_events, text, intent, before, expected, consent
) -> None:
    tracker = make_tracker(slots={**before, "consent": consent}, text=text, intent=intent)

    events = await ActionRememberQuestion().run(dispatcher, tracker, domain)

    assert slot_events(events) == {**expected, "consent": "pending"}
    assert events[-1] == {"event": "slot", "timestamp": None, "name": "consent",
                          "value": "pending"}
    # First message: the disclosure and the consent question came from session start.
    # Consent pending: anything but an answer asks for consent again (the question is kept).
    assert sent() == ([] if consent is None else ["utter_ask_consent_again"])


@pytest.mark.parametrize("consent", [None, "pending"])
async def test_ask_lawyer_before_consent_requests_the_handoff(
    dispatcher, make_tracker, domain, sent, slot_events, consent
) -> None:
    tracker = make_tracker(
        slots={"consent": consent}, text="je veux parler à un avocat", intent="ask_lawyer"
    )

    events = await ActionRememberQuestion().run(dispatcher, tracker, domain)

    assert slot_events(events) == {"handoff_requested": True, "consent": "pending"}
    assert sent() == ([] if consent is None else ["utter_ask_consent_again"])


@pytest.mark.parametrize(("text", "tier"), [
    ("OQTF reçue hier soir, je suis au CRA, aidez moi", "P0"),
    ("ils vont fermer mon bar demain par arrêté du préfet", "P0"),
    (PERMIS, None),
    ("je n'ai pas d'OQTF, juste un refus de titre", None),
])
async def test_a_first_message_naming_a_liberty_measure_is_sent_first(
    dispatcher, make_tracker, domain, slot_events, text, tier
) -> None:
    tracker = make_tracker(slots={"consent": None}, text=text, intent="inform")

    events = await ActionRememberQuestion().run(dispatcher, tracker, domain)

    # Only the order of sending (permanence/priority.py): the tier the lawyer sees comes later.
    assert slot_events(events).get("urgence") == tier


@pytest.mark.parametrize(("text", "intent", "tier"), [
    ("je conteste l'élection municipale de dimanche dernier, il y a eu des fraudes",
     "question_elections", "P0"),
    ("notre offre pour le marché de la commune n'a pas été retenue, lettre reçue hier",
     "question_commande_publique", "P0"),
    ("la mairie m'a refusé un permis de construire en mars dernier", "question_urbanisme", None),
])
async def test_a_first_message_the_intake_reads_as_p0_is_sent_first(
    dispatcher, make_tracker, domain, slot_events, text, intent, tier
) -> None:
    tracker = make_tracker(slots={"consent": None}, text=text, intent=intent)

    events = await ActionRememberQuestion().run(dispatcher, tracker, domain)

    assert slot_events(events).get("urgence") == tier


async def test_consent_reasked_with_the_lawyer_name(
    dispatcher, make_tracker, domain, render, firm_data
) -> None:
    tracker = make_tracker(slots={"consent": "pending"}, text=TAXE, intent="question_fiscalite")
    await ActionRememberQuestion().run(dispatcher, tracker, domain)

    (message,) = dispatcher.messages
    assert message["lawyer_name"] == firm_data["lawyer_name"]
    assert firm_data["lawyer_name"] in render(message)
    buttons = domain["responses"]["utter_ask_consent_again"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/affirm", "/deny"]


@pytest.mark.parametrize("text", ["", "   ", "\u200b"])
async def test_empty_message_keeps_nothing(
    dispatcher, make_tracker, domain, slot_events, text
) -> None:
    tracker = make_tracker(text=text, intent="nlu_fallback")
    events = await ActionRememberQuestion().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"consent": "pending"}


async def test_give_consent(dispatcher, make_tracker, domain, sent) -> None:
    tracker = make_tracker(slots={"consent": "pending"}, text="oui j'accepte", intent="affirm")

    events = await ActionGiveConsent().run(dispatcher, tracker, domain)

    assert events == [{"event": "slot", "timestamp": None, "name": "consent", "value": "given"}]
    assert sent() == []


async def test_refuse_consent_closes_and_requests_erasure(
    dispatcher, make_tracker, domain, sent, slot_events, render, firm_data
) -> None:
    tracker = make_tracker(
        slots={"consent": "pending", "question_initiale": PERMIS, "domaine": "urbanisme"},
        text="non je refuse",
        intent="deny",
    )

    events = await ActionRefuseConsent().run(dispatcher, tracker, domain)

    assert slot_events(events) == {"consent": "refused", "purge_requested": True}
    assert sent() == ["utter_consent_refused"]
    (message,) = dispatcher.messages
    assert message["firm_contact"] == firm_data["contact"]
    assert firm_data["contact"] in render(message)
