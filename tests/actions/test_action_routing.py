"""action_route_question: triage (public law), referral (hors champ), handoff, or ask again."""

from __future__ import annotations

import pytest

from actions import domains
from actions.routing import RECIT_FROM_QUESTION_CHARS, ActionRouteQuestion

BAR = "le préfet a fermé mon bar pour un mois"
LONG_OQTF = (
    "Bonjour, mon frère a reçu une OQTF hier soir et il a été placé en rétention au CRA de "
    "Lesquin, que peut-on faire maintenant ?"
)
LONG_PERMIS = (
    "La mairie de Lens a refusé mon permis de construire pour une extension de 20 m2 de ma "
    "maison, je ne comprends pas pourquoi et je voudrais contester."
)


@pytest.mark.parametrize(
    ("slots", "text", "intent", "route", "responses", "extra"),
    [
        pytest.param(
            {"question_initiale": "le maire a refusé mon permis", "domaine": "urbanisme"},
            "oui j'accepte", "affirm", "triage", ["utter_triage_intro"], {},
            id="in-scope-question-triage",
        ),
        pytest.param(
            {"question_initiale": "mon ex ne me laisse pas voir les enfants",
             "domaine": "hors_champ"},
            "oui", "affirm", "referral", ["utter_out_of_scope"], {},
            id="out-of-scope-referral",
        ),
        pytest.param(
            {"handoff_requested": True}, "oui", "affirm", "handoff", [], {},
            id="lawyer-asked-before-consent",
        ),
        pytest.param(
            {"handoff_requested": True, "domaine": "hors_champ"}, "oui", "affirm", "handoff",
            [], {}, id="lawyer-asked-wins-over-referral",
        ),
        pytest.param(
            {}, "oui j'accepte", "affirm", "question", ["utter_ask_question"], {},
            id="no-question-yet",
        ),
        pytest.param(
            {"question_initiale": "ma voisine construit un mur sur mon terrain"},
            "oui", "affirm", "question", ["utter_ask_domaine"], {},
            id="question-without-domain-asks-domain",
        ),
        pytest.param(
            {}, BAR, "question_police_administrative", "triage", ["utter_triage_intro"],
            {"question_initiale": BAR, "domaine": "police_administrative"},
            id="question-after-consent-routed",
        ),
        pytest.param(
            {"question_initiale": "ma voisine construit un mur sur mon terrain"},
            "/question_urbanisme", "question_urbanisme", "triage", ["utter_triage_intro"],
            {"domaine": "urbanisme"}, id="domain-button",
        ),
        pytest.param(
            {}, "hmm", "nlu_fallback", "question", ["utter_ask_question"], {},
            id="unclear-short-message",
        ),
        pytest.param(
            {}, "bonjour", "greet", "question", ["utter_ask_question"], {},
            id="greeting",
        ),
        pytest.param(
            {}, "euh alors voilà le truc en fait", "nlu_fallback", "question",
            ["utter_ask_domaine"], {"question_initiale": "euh alors voilà le truc en fait"},
            id="unclear-long-message-kept-then-domain-asked",
        ),
    ],
)
async def test_route(
    dispatcher, make_tracker, domain, sent, slot_events, slots, text, intent, route, responses,
    extra,
) -> None:
    tracker = make_tracker(slots={"consent": "given", **slots}, text=text, intent=intent)

    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)

    assert slot_events(events) == {**extra, "route": route}
    assert events[-1]["name"] == "route"
    assert sent() == responses


async def test_affirm_after_consent_is_not_taken_as_the_question(
    dispatcher, make_tracker, domain, slot_events
) -> None:
    tracker = make_tracker(slots={"consent": "given"}, text="oui j'accepte, allez-y",
                           intent="affirm")
    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert "question_initiale" not in slot_events(events)


@pytest.mark.parametrize("question", [LONG_PERMIS, LONG_OQTF])
async def test_long_question_prefills_the_account(
    dispatcher, make_tracker, domain, slot_events, question
) -> None:
    tracker = make_tracker(
        slots={"consent": "given", "question_initiale": question, "domaine": "urbanisme"},
        text="oui", intent="affirm",
    )
    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert slot_events(events)["recit"] == question


async def test_long_question_prefills_the_account_when_routed_on_arrival(
    dispatcher, make_tracker, domain, slot_events
) -> None:
    tracker = make_tracker(slots={"consent": "given"}, text=LONG_PERMIS,
                           intent="question_urbanisme")
    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert slot_events(events) == {
        "question_initiale": LONG_PERMIS, "domaine": "urbanisme", "recit": LONG_PERMIS,
        "route": "triage",
    }


@pytest.mark.parametrize(
    ("length", "prefilled"),
    [(RECIT_FROM_QUESTION_CHARS - 1, False), (RECIT_FROM_QUESTION_CHARS, True)],
)
async def test_account_prefill_threshold(
    dispatcher, make_tracker, domain, slot_events, length, prefilled
) -> None:
    question = ("la mairie a refusé mon permis de construire " * 5)[:length]
    tracker = make_tracker(
        slots={"consent": "given", "question_initiale": question, "domaine": "urbanisme"},
        text="oui", intent="affirm",
    )
    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert ("recit" in slot_events(events)) is prefilled


@pytest.mark.parametrize(
    ("question", "domaine", "mesure"),
    [
        (LONG_OQTF, "etrangers", "retention"),
        ("mon mari est au CRA depuis hier", "etrangers", "retention"),
        ("je suis assigné à résidence depuis lundi", "etrangers", "assignation"),
        ("je dois pointer au commissariat chaque jour", "etrangers", "assignation"),
        ("mon fils détenu a reçu une OQTF en prison", "etrangers", "detention"),
        ("je suis en rétention, le préfet a pris un arrêté", "police_administrative",
         "retention"),
        ("j'ai reçu une OQTF hier", "etrangers", None),  # OQTF alone: still asked
        ("on m'a refusé mon titre de séjour", "etrangers", None),
        ("le préfet a fermé mon bar pour un mois", "police_administrative", None),
    ],
)
async def test_liberty_measure_in_the_question_prefills_the_measure(
    dispatcher, make_tracker, domain, slot_events, question, domaine, mesure
) -> None:
    tracker = make_tracker(
        slots={"consent": "given", "question_initiale": question, "domaine": domaine},
        text="oui", intent="affirm",
    )
    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert slot_events(events).get("mesure_privative") == mesure
    assert slot_events(events)["route"] == "triage"


@pytest.mark.parametrize(
    ("question", "domaine"),
    [
        ("Mon employeur, la mairie, a fait une retenue sur salaire de 300 euros ce mois-ci "
         "sans explication, est-ce légal ?", "fonction_publique"),
        ("mon voisin a été retenu comme entreprise pour les travaux de la commune",
         "collectivites"),
    ],
)
async def test_no_liberty_measure_prefilled_outside_liberty_domains(
    dispatcher, make_tracker, domain, slot_events, question, domaine
) -> None:
    assert domaine not in domains.LIBERTY_DOMAINS
    tracker = make_tracker(
        slots={"consent": "given", "question_initiale": question, "domaine": domaine},
        text="oui", intent="affirm",
    )
    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert "mesure_privative" not in slot_events(events)


@pytest.mark.parametrize("domaine", domains.IN_SCOPE)
async def test_every_public_law_domain_is_triaged(
    dispatcher, make_tracker, domain, sent, slot_events, domaine
) -> None:
    tracker = make_tracker(slots={"consent": "given", "domaine": domaine}, text="oui",
                           intent="affirm")
    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"route": "triage"}
    assert sent() == ["utter_triage_intro"]
