"""action_route_question: triage (public law), referral (hors champ), handoff, or ask again."""

from __future__ import annotations

import pytest

from actions import domains
from actions.routing import ActionRouteQuestion

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
            "oui j'accepte", "affirm", "triage", [], {},
            id="in-scope-question-triage",
        ),
        pytest.param(
            {"question_initiale": "mon ex ne me laisse pas voir les enfants",
             "domaine": "hors_champ"},
            "oui", "affirm", "referral", [], {},
            id="out-of-scope-referral",  # the referral form's postcode question says it all
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
            {}, BAR, "question_police_administrative", "triage", [],
            {"question_initiale": BAR, "domaine": "police_administrative"},
            id="question-after-consent-routed",
        ),
        pytest.param(
            {"question_initiale": "ma voisine construit un mur sur mon terrain"},
            "/question_urbanisme", "question_urbanisme", "triage", [],
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


@pytest.mark.parametrize(
    ("question", "nlu", "ranking", "route", "decided"),
    [
        # A private employer: out of scope whatever the words (fonction publique by NLU).
        ("la société Dupont SARL où je travaillais m'a licencié la semaine dernière",
         "fonction_publique", [], "referral", "hors_champ"),
        # An administration named in a question read as out of scope: who decided is asked.
        ("la métropole de Lyon n'a pas rebouché un nid de poule, j'ai cassé ma jante",
         "hors_champ", ["question_hors_champ", "question_responsabilite_administrative"],
         "question", None),
        ("le préfet a fermé mon bar pour un mois", "police_administrative", [], "triage", None),
    ],
)
async def test_scope_is_decided_by_who_made_the_decision(
    dispatcher, make_tracker, domain, slot_events, question, nlu, ranking, route, decided
) -> None:
    parse = {"text": question, "intent": {"name": f"question_{nlu}", "confidence": 0.6},
             "intent_ranking": [{"name": name, "confidence": 0.5} for name in ranking],
             "entities": []}
    events = [{"event": "user", "timestamp": None, "text": question, "parse_data": parse},
              {"event": "user", "timestamp": None, "text": "oui", "parse_data": {}}]
    tracker = make_tracker(slots={"consent": "given", "question_initiale": question,
                                  "domaine": nlu}, text="oui", intent="affirm", events=events)
    got = slot_events(await ActionRouteQuestion().run(dispatcher, tracker, domain))
    assert got["route"] == route
    assert got.get("domaine") == decided


@pytest.mark.parametrize("domaine", domains.IN_SCOPE)
async def test_every_public_law_domain_is_triaged(
    dispatcher, make_tracker, domain, sent, slot_events, domaine
) -> None:
    tracker = make_tracker(slots={"consent": "given", "domaine": domaine}, text="oui",
                           intent="affirm")
    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"route": "triage"}
    assert sent() == []


def bot_said(response: str) -> dict:
    return {"event": "bot", "timestamp": None, "text": "…",
            "metadata": {"utter_action": response}}


@pytest.mark.parametrize(("asked_before", "response"), [
    (0, "utter_ask_question"), (1, "utter_ask_question"), (2, "utter_ask_question_or_lawyer"),
    (3, "utter_ask_question_or_lawyer")])
async def test_after_two_tries_the_lawyer_is_offered(
    make_tracker, dispatcher, domain, sent, asked_before, response
) -> None:
    events = [{"event": "session_started", "timestamp": None}]
    events += [bot_said("utter_ask_question")] * asked_before
    events += [{"event": "user", "timestamp": None, "text": "bof", "parse_data": {}}]
    tracker = make_tracker(slots={"consent": "given"}, text="bof", intent="greet",
                           events=events)
    await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert sent() == [response]
    if response == "utter_ask_question_or_lawyer":
        [button] = domain["responses"][response][0]["buttons"]
        assert button["payload"] == "/ask_lawyer"


async def test_a_previous_session_does_not_count(make_tracker, dispatcher, domain, sent) -> None:
    events = [bot_said("utter_ask_question")] * 3
    events += [{"event": "session_started", "timestamp": None},
               {"event": "user", "timestamp": None, "text": "bof", "parse_data": {}}]
    tracker = make_tracker(slots={"consent": "given"}, text="bof", intent="greet",
                           events=events)
    await ActionRouteQuestion().run(dispatcher, tracker, domain)
    assert sent() == ["utter_ask_question"]


def first_question(question: str, ranking: list[str]) -> dict:
    parse = {"text": question, "intent": {"name": "question_hors_champ", "confidence": 0.9},
             "intent_ranking": [{"name": name, "confidence": 0.1} for name in ranking],
             "entities": []}
    return {"event": "user", "timestamp": None, "text": question, "parse_data": parse}


POTHOLE = "la métropole de Lyon n'a pas rebouché un nid de poule, j'ai cassé ma jante"


async def test_an_administration_in_an_out_of_scope_question_asks_who_decided(
    dispatcher, make_tracker, domain, sent, slot_events
) -> None:
    events = [first_question(POTHOLE, ["question_hors_champ",
                                       "question_responsabilite_administrative"]),
              {"event": "user", "timestamp": None, "text": "oui", "parse_data": {}}]
    tracker = make_tracker(slots={"consent": "given", "question_initiale": POTHOLE,
                                  "domaine": "hors_champ"}, text="oui", intent="affirm",
                           events=events)
    got = slot_events(await ActionRouteQuestion().run(dispatcher, tracker, domain))
    assert sent() == ["utter_ask_scope"]
    assert got == {"asked": ["scope"], "route": "question"}


@pytest.mark.parametrize(("answer", "intent", "route", "decided"), [
    ("/affirm", "affirm", "triage", "responsabilite_administrative"),
    ("oui c'est la métropole", "affirm", "triage", "responsabilite_administrative"),
    ("c'est la mairie", "inform", "triage", "responsabilite_administrative"),
    ("/deny", "deny", "referral", "hors_champ"),
    ("non c'est un particulier", "deny", "referral", "hors_champ"),
    ("euh je sais pas", "inform", "triage", "responsabilite_administrative"),
])
async def test_the_answer_to_who_decided_routes_the_question(
    dispatcher, make_tracker, domain, slot_events, answer, intent, route, decided
) -> None:
    events = [first_question(POTHOLE, ["question_hors_champ",
                                       "question_responsabilite_administrative"]),
              {"event": "user", "timestamp": None, "text": answer, "parse_data": {}}]
    tracker = make_tracker(slots={"consent": "given", "question_initiale": POTHOLE,
                                  "domaine": "hors_champ", "asked": ["scope"],
                                  "route": "question"}, text=answer, intent=intent,
                           events=events)
    got = slot_events(await ActionRouteQuestion().run(dispatcher, tracker, domain))
    assert got["route"] == route and got["domaine"] == decided and got["asked"] is None


def _story_then_consent(text: str, intent: str) -> list[dict]:
    return [
        {"event": "user", "timestamp": None, "text": text,
         "parse_data": {"intent": {"name": intent}, "intent_ranking": [
             {"name": intent, "confidence": 0.8},
             {"name": "question_fonction_publique", "confidence": 0.1}]}},
        {"event": "user", "timestamp": None, "text": "oui", "parse_data": {}},
        {"event": "slot", "timestamp": None, "name": "consent", "value": "given"},
    ]


async def test_plain_scope_with_the_postcode_known_refers_without_an_extra_turn(
    dispatcher, make_tracker, domain, sent, slot_events, render
) -> None:
    story = "je divorce et mon ex refuse la garde alternée, j'habite au 75011"
    tracker = make_tracker(slots={"consent": "given", "domaine": "hors_champ",
                                  "question_initiale": story}, text="oui", intent="affirm",
                           events=_story_then_consent(story, "question_hors_champ"))

    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)

    assert slot_events(events) == {"code_postal": "75011", "route": "referral"}
    assert sent() == ["utter_out_of_scope"]
    assert render(dispatcher.messages[0]).startswith(
        "J'ai compris : une question de famille")


async def test_scope_overruled_by_the_facts_leaves_the_postcode_to_be_confirmed(
    dispatcher, make_tracker, domain, sent, slot_events
) -> None:
    # The NLU read public law; the facts name only a private employer: the referral form then
    # shows what was understood and asks to confirm (utter_referral_check).
    story = "licencié par mon employeur, une entreprise privée de transport, j'habite au 33800"
    tracker = make_tracker(slots={"consent": "given", "domaine": "fonction_publique",
                                  "question_initiale": story}, text="oui", intent="affirm",
                           events=_story_then_consent(story, "question_fonction_publique"))

    events = await ActionRouteQuestion().run(dispatcher, tracker, domain)

    assert slot_events(events) == {"domaine": "hors_champ", "route": "referral"}
    assert sent() == []


@pytest.mark.parametrize(
    ("question", "nlu"),
    [
        ("Bonsoir, j'aurais besoin d'aide s'il vous plaît", "hors_champ"),
        ("salut jai une petite question juridique", "hors_champ"),
        ("Bonjour Maître, pourriez-vous me renseigner ?", "fonction_publique"),
    ],
)
async def test_a_message_with_nothing_of_the_situation_gets_the_story_question(
    dispatcher, make_tracker, domain, sent, slot_events, render, question, nlu
) -> None:
    # Issue #12, story first: a greeting or a request for help is no out-of-scope question,
    # whatever the NLU read from it; the story is asked, the NLU's domain dropped.
    tracker = make_tracker(slots={"consent": "given", "question_initiale": question,
                                  "domaine": nlu}, text="oui", intent="affirm")
    got = slot_events(await ActionRouteQuestion().run(dispatcher, tracker, domain))
    assert got == {"domaine": None, "asked": ["story"], "route": "question"}
    assert sent() == ["utter_intake_questions"]
    assert render(dispatcher.messages[0]).startswith("Racontez-moi en un message")


async def test_the_story_after_a_message_with_nothing_in_it_is_routed_on_its_own_words(
    dispatcher, make_tracker, domain, slot_events
) -> None:
    # The first message said nothing; the story names a mairie and its decision: triage, on
    # the NLU ranking of the story (not of « bonjour »), never a referral.
    story = ("je vends des fleurs sur le marché couvert, la mairie de Lunel m'a retiré ma place "
             "le 2 décembre")
    hello = {"text": "bonjour j'ai besoin d'un conseil",
             "intent": {"name": "question_hors_champ", "confidence": 0.7},
             "intent_ranking": [{"name": "question_hors_champ", "confidence": 0.7}],
             "entities": []}
    parse = {"text": story, "intent": {"name": "question_collectivites", "confidence": 0.8},
             "intent_ranking": [{"name": "question_collectivites", "confidence": 0.8}],
             "entities": []}
    events = [{"event": "user", "timestamp": None, "text": hello["text"], "parse_data": hello},
              {"event": "user", "timestamp": None, "text": "oui", "parse_data": {}},
              bot_said("utter_intake_questions"),
              {"event": "slot", "timestamp": None, "name": "asked", "value": ["story"]},
              {"event": "user", "timestamp": None, "text": story, "parse_data": parse}]
    tracker = make_tracker(slots={"consent": "given", "question_initiale": hello["text"],
                                  "asked": ["story"], "route": "question"},
                           text=story, intent="question_collectivites", events=events)
    tracker.latest_message = parse
    got = slot_events(await ActionRouteQuestion().run(dispatcher, tracker, domain))
    assert got["route"] == "triage"
    assert got["domaine"] == "collectivites"
    assert got["asked"] is None
    assert story in got["question_initiale"]


@pytest.mark.parametrize("question", ["j'ai reçu une lettre, je comprends pas",
                                      "bonjour, j'ai eu un courrier, je dois faire quoi ?"])
async def test_a_letter_without_its_content_is_no_referral_either(
    dispatcher, make_tracker, domain, sent, slot_events, question
) -> None:
    tracker = make_tracker(slots={"consent": "given", "question_initiale": question,
                                  "domaine": "hors_champ"}, text="oui", intent="affirm")
    got = slot_events(await ActionRouteQuestion().run(dispatcher, tracker, domain))
    assert got["route"] == "question" and got["asked"] == ["story"]
