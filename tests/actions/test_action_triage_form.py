"""validate_triage_form and validate_referral_form: each answer checked, clear re-asks.

The tracker is the one Rasa sends for a ``from_text`` answer: the text is the candidate of the
requested slot. Expected values come from the rules (domain.yml buttons, LEGAL.md), with
"today" fixed by the ``today`` fixture (conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from actions.triage_form import ValidateReferralForm, ValidateTriageForm

FORM = "triage_form"
NSP = "nsp"  # stored when the person does not know a fact the form asks
NOT_GIVEN = "non précisé"  # stored for a free-text fact the person does not know

# The re-ask sent for an answer that cannot be used, per slot.
REASK = {
    "domaine": "utter_invalid_domaine",
    "partie_adverse": "utter_invalid_partie_adverse",
    "role": "utter_invalid_choice",
    "type_decision": "utter_invalid_type_decision",
    "date_decision": "utter_invalid_date",
    "mention_voies_delais": "utter_invalid_yes_no",
    "recours_gracieux": "utter_invalid_yes_no",
    "recours_gracieux_date": "utter_invalid_date",
    "mesure_privative": "utter_invalid_choice",
    "code_postal": "utter_invalid_code_postal",
    "recit": "utter_invalid_recit",
}
# A complete case where every question applies (liberty domain, recours gracieux made).
ANSWERED = {
    "domaine": "etrangers",
    "partie_adverse": "préfecture du Nord",
    "role": "particulier",
    "type_decision": "refus de titre de séjour",
    "date_decision": "2026-05-04",
    "mention_voies_delais": "oui",
    "recours_gracieux": "oui",
    "recours_gracieux_date": "2026-05-10",
    "mesure_privative": "aucune",
    "code_postal": "59000",
    "recit": "La préfecture a refusé de renouveler mon titre de séjour.",
}
LIBERTY_DOMAINS = ("etrangers", "police_administrative")  # LEGAL.md 4.7.1, F1


def applicable(order: list[str], slots: dict) -> list[str]:
    """The questions that apply: the recours date only after 'oui', the liberty measure only in
    foreigners' and police cases."""
    return [
        slot for slot in order
        if not (slot == "recours_gracieux_date" and slots.get("recours_gracieux") != "oui")
        and not (slot == "mesure_privative" and slots.get("domaine") not in LIBERTY_DOMAINS)
    ]


def answered_before(order: list[str], slot: str) -> dict:
    return {s: ANSWERED[s] for s in order[: order.index(slot)]}


def next_question(order: list[str], slots: dict) -> str | None:
    return next((s for s in applicable(order, slots) if slots.get(s) is None), None)


def assert_next_question(events: list, order: list[str], before: dict, expected) -> None:
    """The form asks ``expected`` next.

    rasa-sdk only sets ``requested_slot`` when ``required_slots`` dropped a question; when every
    question applies it leaves the choice to Rasa's form, which asks the first empty one.
    """
    after = {**before}
    after.update({e["name"]: e["value"] for e in events if e["name"] != "requested_slot"})
    assert next_question(order, after) == expected
    requested = [e["value"] for e in events if e["name"] == "requested_slot"]
    assert requested == ([] if applicable(order, after) == order else [expected])


@pytest.fixture
def order(domain) -> list[str]:
    return list(domain["forms"][FORM]["required_slots"])


@pytest.fixture
def validate(make_form_tracker, dispatcher, domain, order):
    """Run validate_triage_form for ``answer`` to ``slot`` with the earlier questions answered."""

    async def _validate(slot: str, answer, before: dict | None = None):
        slots = answered_before(order, slot) if before is None else before
        tracker = make_form_tracker(FORM, slot, answer, slots=slots)
        events = await ValidateTriageForm().run(dispatcher, tracker, domain)
        return slots, events

    return _validate


# --- required_slots -------------------------------------------------------------------------


@pytest.mark.parametrize("recours", ["oui", "non", NSP, None])
@pytest.mark.parametrize("domaine", [
    "etrangers", "police_administrative", "urbanisme", "fonction_publique", "fiscalite",
    "collectivites", "responsabilite_administrative", "commande_publique", "environnement",
    "elections", None,
])
async def test_required_slots_drop_questions_that_do_not_apply(
    make_tracker, dispatcher, domain, order, domaine, recours
) -> None:
    tracker = make_tracker(slots={"domaine": domaine, "recours_gracieux": recours},
                           active_loop=FORM)
    required = await ValidateTriageForm().required_slots(order, dispatcher, tracker, domain)

    assert ("recours_gracieux_date" in required) is (recours == "oui")
    assert ("mesure_privative" in required) is (domaine in LIBERTY_DOMAINS)
    kept = [s for s in order if s not in ("recours_gracieux_date", "mesure_privative")]
    assert [s for s in required if s in kept] == kept
    assert required == [s for s in order if s in required]  # order unchanged


async def test_required_slots_do_not_mutate_the_domain(
    make_tracker, dispatcher, domain, order
) -> None:
    await ValidateTriageForm().required_slots(order, dispatcher, make_tracker(), domain)
    assert order == list(domain["forms"][FORM]["required_slots"])
    assert "mesure_privative" in order and "recours_gracieux_date" in order


# --- valid answers ---------------------------------------------------------------------------


def _domain_buttons(domain) -> list[tuple[str, str]]:
    return [(b["title"], b["payload"]) for b in domain["responses"]["utter_ask_domaine"][0][
        "buttons"]]


async def test_domain_buttons_titles_and_numbers(validate, domain, dispatcher) -> None:
    for number, (title, payload) in enumerate(_domain_buttons(domain), start=1):
        expected = payload.removeprefix("/question_")
        for answer in (payload, title, str(number)):
            dispatcher.messages.clear()
            _, events = await validate("domaine", answer)
            assert events[0] == {"event": "slot", "timestamp": None, "name": "domaine",
                                 "value": expected}, answer
            assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("slot", "answer", "expected"),
    [
        ("domaine", "un problème de permis de construire", "urbanisme"),
        ("domaine", "c'est pour ma taxe foncière", "fiscalite"),
        ("partie_adverse", "la mairie de Lens", "la mairie de Lens"),
        ("partie_adverse", "  Préfecture du Nord  ", "Préfecture du Nord"),
        ("partie_adverse", "CAF", "CAF"),
        ("partie_adverse", "je ne sais pas", NOT_GIVEN),
        ("role", "Particulier", "particulier"),
        ("role", "Agent public", "agent_public"),
        ("role", "Élu", "elu"),
        ("role", "Entreprise", "entreprise"),
        ("role", "Association", "association"),
        ("role", "je suis fonctionnaire territoriale", "agent_public"),
        ("role", "je suis le maire", "elu"),
        ("role", "gérant d'une SARL", "entreprise"),
        ("type_decision", "refus de permis de construire", "refus de permis de construire"),
        ("type_decision", "aucune idée", NOT_GIVEN),
        ("date_decision", "je ne sais pas", NSP),
        ("date_decision", "je me souviens plus", NSP),
        ("mention_voies_delais", "Oui", "oui"),
        ("mention_voies_delais", "Non", "non"),
        ("mention_voies_delais", "Je ne sais pas", NSP),
        ("mention_voies_delais", "ouais", "oui"),
        ("mention_voies_delais", "nan", "non"),
        ("mention_voies_delais", "1", "oui"),
        ("mention_voies_delais", "2", "non"),
        ("mention_voies_delais", "3", NSP),
        ("mention_voies_delais", "👍", "oui"),
        ("recours_gracieux", "je sais pas", NSP),
        ("recours_gracieux_date", "je ne sais pas", NSP),
        ("mesure_privative", "Rétention", "retention"),
        ("mesure_privative", "Assignation à résidence", "assignation"),
        ("mesure_privative", "Détention", "detention"),
        ("mesure_privative", "OQTF", "oqtf"),
        ("mesure_privative", "Aucune", "aucune"),
        ("mesure_privative", "je ne sais pas", NSP),
        ("code_postal", "je ne sais pas", NSP),
        ("mesure_privative", "il est au CRA de Vincennes", "retention"),
        ("code_postal", "62300", "62300"),
        ("code_postal", "75 011", "75011"),
        ("code_postal", "c'est le 59000, Lille", "59000"),
        ("code_postal", "20000", "20000"),
        ("code_postal", "20200", "20200"),
        ("code_postal", "97400", "97400"),
        ("recit", "Refus reçu en octobre pour une extension de 20 m2.",
         "Refus reçu en octobre pour une extension de 20 m2."),
        ("recit", "je ne sais pas", "je ne sais pas"),
    ],
)
async def test_valid_answer_is_stored_and_the_next_question_asked(
    validate, dispatcher, order, slot, answer, expected
) -> None:
    slots, events = await validate(slot, answer)

    assert events[0] == {"event": "slot", "timestamp": None, "name": slot, "value": expected}
    assert_next_question(events, order, slots, next_question(order, {**slots, slot: expected}))
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("answer", "days_ago"),
    [
        ("hier", 1),
        ("avant-hier", 2),
        ("aujourd'hui", 0),
        ("il y a 3 jours", 3),
        ("il y a 2 semaines", 14),
        ("je l'ai reçue hier", 1),
    ],
)
@pytest.mark.parametrize("slot", ["date_decision", "recours_gracieux_date"])
async def test_relative_dates_are_counted_from_today(
    validate, dispatcher, today, slot, answer, days_ago
) -> None:
    _, events = await validate(slot, answer)
    assert events[0]["name"] == slot
    assert events[0]["value"] == (today - timedelta(days=days_ago)).isoformat()
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("le 3 mars", "2026-03-03"),
        ("reçu le 5 mai", "2026-05-05"),
        ("le 1er avril", "2026-04-01"),
        ("12/03/2025", "2025-03-12"),
        ("05/05/2026", "2026-05-05"),
        ("2026-05-05", "2026-05-05"),
        # No year and later in the year than today: last year (a decision already received).
        ("le 25 décembre", "2025-12-25"),
    ],
)
async def test_absolute_dates(validate, dispatcher, today, answer, expected) -> None:
    assert today.isoformat() == "2026-05-20"  # the expectations above assume it
    _, events = await validate("date_decision", answer)
    assert events[0]["value"] == expected
    assert dispatcher.messages == []


# --- invalid answers: re-asked -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "answer", "response"),
    [
        ("domaine", "bof", "utter_invalid_domaine"),
        ("domaine", "12", "utter_invalid_domaine"),
        ("domaine", "0", "utter_invalid_domaine"),
        ("domaine", "je ne sais pas", "utter_invalid_domaine"),
        ("domaine", "/affirm", "utter_invalid_domaine"),
        ("partie_adverse", "ok", "utter_invalid_partie_adverse"),
        ("partie_adverse", "merci", "utter_invalid_partie_adverse"),
        ("partie_adverse", "oui", "utter_invalid_partie_adverse"),
        ("partie_adverse", "X", "utter_invalid_partie_adverse"),
        ("role", "bof", "utter_invalid_choice"),
        ("role", "6", "utter_invalid_choice"),
        ("role", "je ne sais pas", "utter_invalid_choice"),
        ("type_decision", "oui", "utter_invalid_type_decision"),
        ("type_decision", "d'accord", "utter_invalid_type_decision"),
        ("date_decision", "blabla", "utter_invalid_date"),
        ("date_decision", "32/13/2025", "utter_invalid_date"),
        ("date_decision", "2026-02-30", "utter_invalid_date"),
        ("date_decision", "le 3 mars 1990", "utter_invalid_date"),  # more than 30 years ago
        ("date_decision", "le 25 décembre 2026", "utter_future_date"),
        ("date_decision", "dans 3 jours", "utter_future_date"),
        ("date_decision", "21/05/2026", "utter_future_date"),  # tomorrow
        ("date_decision", "2026-05-21", "utter_future_date"),
        ("mention_voies_delais", "peut-être", "utter_invalid_yes_no"),
        ("mention_voies_delais", "4", "utter_invalid_yes_no"),
        ("recours_gracieux", "bof", "utter_invalid_yes_no"),
        ("recours_gracieux_date", "blabla", "utter_invalid_date"),
        ("recours_gracieux_date", "le 1er juin 2026", "utter_future_date"),
        ("mesure_privative", "bof", "utter_invalid_choice"),
        ("mesure_privative", "6", "utter_invalid_choice"),
        ("code_postal", "00000", "utter_invalid_code_postal"),
        ("code_postal", "96000", "utter_invalid_code_postal"),
        ("code_postal", "99999", "utter_invalid_code_postal"),
        ("code_postal", "1234", "utter_invalid_code_postal"),
        ("code_postal", "123456", "utter_invalid_code_postal"),
        ("code_postal", "Lille", "utter_invalid_code_postal"),
        ("recit", "ok", "utter_invalid_recit"),
        ("recit", "merci beaucoup", "utter_invalid_recit"),
        ("recit", "un bar", "utter_invalid_recit"),  # too short to be an account
    ],
)
async def test_invalid_answer_is_reasked(
    validate, dispatcher, sent, order, slot, answer, response
) -> None:
    slots, events = await validate(slot, answer)

    assert events[0] == {"event": "slot", "timestamp": None, "name": slot, "value": None}
    assert_next_question(events, order, slots, slot)  # the same question again
    assert sent() == [response]


@pytest.mark.parametrize("answer", ["ce matin", "reçue ce matin"])
async def test_this_morning_is_today(validate, dispatcher, today, answer) -> None:
    _, events = await validate("date_decision", answer)
    assert events[0]["value"] == today.isoformat()


@pytest.mark.parametrize("answer", ["demain", "après-demain"])
async def test_tomorrow_is_a_future_date(validate, sent, answer) -> None:
    await validate("date_decision", answer)
    assert sent() == ["utter_future_date"]


# --- recours gracieux and its date ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "domaine", "expected_date", "next_slot"),
    [
        ("oui le 5 mai", "etrangers", "2026-05-05", "mesure_privative"),
        ("oui le 5 mai", "urbanisme", "2026-05-05", "code_postal"),
        ("Oui, le 12/04/2026", "fiscalite", "2026-04-12", "code_postal"),
        ("oui, il y a 3 semaines", "etrangers", "2026-04-29", "mesure_privative"),
        ("oui", "etrangers", None, "recours_gracieux_date"),
        ("oui", "urbanisme", None, "recours_gracieux_date"),
        # A future date cannot be the recours: the date is asked on its own.
        ("oui le 25 mai 2026", "urbanisme", None, "recours_gracieux_date"),
    ],
)
async def test_recours_yes_with_or_without_its_date(
    validate, dispatcher, slot_events, order, answer, domaine, expected_date, next_slot
) -> None:
    before = {**answered_before(order, "recours_gracieux"), "domaine": domaine}
    _, events = await validate("recours_gracieux", answer, before=before)

    slots = slot_events(events)
    assert slots["recours_gracieux"] == "oui"
    assert slots.get("recours_gracieux_date") == expected_date
    assert_next_question(events, order, before, next_slot)
    assert dispatcher.messages == []


@pytest.mark.parametrize(("answer", "expected"), [("non", "non"), ("je ne sais pas", NSP)])
async def test_recours_no_clears_an_earlier_date(
    validate, slot_events, order, answer, expected
) -> None:
    # Correction: it was 'oui' with a date, the person now says otherwise.
    before = {**answered_before(order, "recours_gracieux"),
              "recours_gracieux_date": "2026-05-10"}
    _, events = await validate("recours_gracieux", answer, before=before)

    slots = slot_events(events)
    assert slots["recours_gracieux"] == expected
    assert "recours_gracieux_date" in slots and slots["recours_gracieux_date"] is None
    assert_next_question(events, order, before, "mesure_privative")  # the date is not asked


async def test_recours_date_not_validated_when_no_recours(
    make_form_tracker, dispatcher, domain, order, slot_events
) -> None:
    before = {**answered_before(order, "recours_gracieux_date"), "recours_gracieux": "non"}
    tracker = make_form_tracker(FORM, "recours_gracieux_date", "hier", slots=before)
    events = await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert "recours_gracieux_date" not in slot_events(events)


@pytest.mark.parametrize(
    "changes",
    [{}, {"domaine": "urbanisme", "recours_gracieux": "non", "recours_gracieux_date": None,
          "mesure_privative": None}],
    ids=["every-question", "questions-dropped"],
)
async def test_full_triage_reaches_the_end(validate, order, slot_events, changes) -> None:
    before = {**{s: ANSWERED[s] for s in order if s != "recit"}, **changes}
    _, events = await validate("recit", ANSWERED["recit"], before=before)
    assert slot_events(events)["recit"] == ANSWERED["recit"]
    assert_next_question(events, order, before, None)  # nothing left: the form ends


@pytest.mark.parametrize("domaine", ["urbanisme", "fiscalite", "elections"])
async def test_liberty_measure_not_asked_outside_liberty_domains(
    validate, slot_events, order, domaine
) -> None:
    before = {**answered_before(order, "recours_gracieux_date"), "domaine": domaine}
    _, events = await validate("recours_gracieux_date", "le 10 mai", before=before)
    assert slot_events(events) == {"recours_gracieux_date": "2026-05-10",
                                   "requested_slot": "code_postal"}


# --- hostile inputs: never crash, clear re-ask, the account kept whole ---------------------------

SENTENCE = "La préfecture a refusé mon titre de séjour sans me donner de raison. "
HUGE = (SENTENCE * (10_000 // len(SENTENCE) + 1))[:10_000]
EMOJI = "😡🙏🔥"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
ARABIC = "\u200fرفضت المحافظة تجديد بطاقة إقامتي ولم تذكر أي سبب"
HEBREW = "\u200fהמשטרה סגרה את המסעדה שלי לחודש בלי הסבר"
STRUCTURED = ("role", "date_decision", "mention_voies_delais", "recours_gracieux",
              "recours_gracieux_date", "mesure_privative", "code_postal")


@pytest.mark.parametrize("text", [EMOJI, ZERO_WIDTH, " ", "", "\n\t"],
                         ids=["emoji", "zero-width", "space", "empty", "blank"])
@pytest.mark.parametrize("slot", list(REASK))
async def test_meaningless_input_is_reasked(validate, sent, slot, text) -> None:
    _, events = await validate(slot, text)
    assert events[0]["name"] == slot and events[0]["value"] is None
    assert sent() == [REASK[slot]]


@pytest.mark.parametrize("text", [ARABIC, HEBREW], ids=["arabic", "hebrew"])
@pytest.mark.parametrize("slot", [*STRUCTURED, "domaine"])
async def test_rtl_input_for_a_structured_question_is_reasked(validate, sent, slot, text) -> None:
    _, events = await validate(slot, text)
    assert events[0]["value"] is None
    assert sent() == [REASK[slot]]


@pytest.mark.parametrize("text", [ARABIC, HEBREW], ids=["arabic", "hebrew"])
@pytest.mark.parametrize("slot", ["partie_adverse", "type_decision"])
async def test_rtl_free_text_is_kept_or_clearly_reasked(validate, sent, slot, text) -> None:
    _, events = await validate(slot, text)
    value = events[0]["value"]
    if value is None:
        assert sent() == [REASK[slot]]
    else:
        assert value == text.strip() and sent() == []


@pytest.mark.parametrize("text", [ARABIC, HEBREW], ids=["arabic", "hebrew"])
async def test_rtl_account_is_kept_whole(validate, sent, text) -> None:
    _, events = await validate("recit", text)
    assert events[0]["value"] == text.strip()
    assert sent() == []


async def test_huge_account_is_kept_whole(validate, sent) -> None:
    _, events = await validate("recit", HUGE)
    assert events[0]["value"] == HUGE.strip()
    assert len(events[0]["value"]) > 9_900
    assert sent() == []


@pytest.mark.parametrize("text", [
    "Le préfet\u200b a refusé\u200d mon titre\ufeff de séjour",
    "\u200fLa mairie a refusé mon permis \u200e(extension)",
])
async def test_account_with_invisible_characters_is_kept_whole(validate, sent, text) -> None:
    _, events = await validate("recit", text)
    assert events[0]["value"] == text.strip()
    assert sent() == []


@pytest.mark.parametrize("slot", ["partie_adverse", "type_decision"])
async def test_huge_short_answer_is_cut_not_rejected(validate, sent, slot) -> None:
    _, events = await validate(slot, HUGE)
    value = events[0]["value"]
    assert 0 < len(value) <= 500 and value.endswith("…")
    assert HUGE.startswith(value[:-1])
    assert sent() == []


@pytest.mark.parametrize("slot", STRUCTURED)
async def test_huge_answer_to_a_structured_question_is_reasked(validate, sent, slot) -> None:
    _, events = await validate(slot, HUGE)
    assert events[0]["value"] is None
    assert sent() == [REASK[slot]]


@pytest.mark.parametrize(
    ("slot", "answer", "expected"),
    [
        ("mention_voies_delais", "oui\u200b", "oui"),
        ("mention_voies_delais", "\ufeffnon", "non"),
        ("role", "\u200bparticulier\u200b", "particulier"),
        ("mesure_privative", "\u200eAucune", "aucune"),
        ("code_postal", "\u200b62000", "62000"),
        ("date_decision", "hier\u200b", "2026-05-19"),
    ],
)
async def test_invisible_characters_around_a_valid_answer(
    validate, sent, slot, answer, expected
) -> None:
    _, events = await validate(slot, answer)
    assert events[0]["value"] == expected
    assert sent() == []


@pytest.mark.parametrize("value", [42, ["oui"], {"text": "oui"}])
@pytest.mark.parametrize("slot", ["role", "date_decision", "code_postal", "recit"])
async def test_non_text_candidate_is_reasked(validate, sent, slot, value) -> None:
    _, events = await validate(slot, value)
    assert events[0]["value"] is None
    assert sent() == [REASK[slot]]


# --- referral form -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected", "responses"),
    [
        ("92100", "92100", []),
        ("mon code postal est le 62 000", "62000", []),
        ("20200", "20200", []),
        ("97600", "97600", []),
        ("00000", None, ["utter_invalid_code_postal"]),
        ("99999", None, ["utter_invalid_code_postal"]),
        ("Arras", None, ["utter_invalid_code_postal"]),
    ],
)
async def test_referral_form_postcode(
    make_form_tracker, dispatcher, domain, sent, answer, expected, responses
) -> None:
    tracker = make_form_tracker("referral_form", "code_postal", answer,
                                slots={"domaine": "hors_champ"})
    events = await ValidateReferralForm().run(dispatcher, tracker, domain)

    # required_slots is not overridden: Rasa's form asks the next slot itself.
    assert events == [{"event": "slot", "timestamp": None, "name": "code_postal",
                       "value": expected}]
    assert sent() == responses
