"""action_handoff (urgency for the lawyer only, LEGAL.md N1, N6) and action_forget (erasure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from actions.handoff import ActionForget, ActionHandoff

URGENCY_SLOTS = ("urgence", "urgence_motifs", "echeance_estimee", "echeance_regle",
                 "echeance_source")


def yesterday(today: date) -> str:
    return (today - timedelta(days=1)).isoformat()


def complete_case(today: date, **changes) -> dict:
    case = {
        "consent": "given",
        "route": "triage",
        "domaine": "urbanisme",
        "question_initiale": "la mairie a refusé mon permis de construire",
        "partie_adverse": "mairie de Lens",
        "role": "particulier",
        "type_decision": "refus de permis de construire",
        "date_decision": (today - timedelta(days=10)).isoformat(),
        "mention_voies_delais": "oui",
        "recours_gracieux": "non",
        "code_postal": "62300",
        "recit": "Refus reçu il y a dix jours pour une extension de 20 m2.",
    }
    case.update(changes)
    return case


def assert_handoff_tail(events: list) -> None:
    """The form (if any) ends, the route is 'handoff' and the assistant falls silent."""
    tail = events[-4:]
    assert tail[0] == {"event": "active_loop", "name": None, "timestamp": None}
    assert (tail[1]["name"], tail[1]["value"]) == ("requested_slot", None)
    assert (tail[2]["name"], tail[2]["value"]) == ("route", "handoff")
    assert tail[3]["event"] == "pause"
    assert sum(e["event"] == "pause" for e in events) == 1


def assert_deadline_not_told(messages: list, render, deadline: str | None) -> None:
    """LEGAL.md N1: the estimated deadline is for the lawyer only, never sent to the person."""
    if deadline is None:
        return
    french = date.fromisoformat(deadline).strftime("%d/%m/%Y")
    for message in messages:
        values = " ".join(str(v) for v in message.values())
        shown = render(message)
        for text in (values, shown):
            assert deadline not in text and french not in text
        assert not set(message) & {"echeance_estimee", "echeance_regle", "urgence", "deadline"}


async def test_complete_case_is_handed_over(
    dispatcher, make_tracker, domain, sent, slot_events, render, firm_data, today
) -> None:
    tracker = make_tracker(slots=complete_case(today))

    events = await ActionHandoff().run(dispatcher, tracker, domain)

    slots = slot_events(events)
    assert set(URGENCY_SLOTS) <= set(slots)
    # Refusal of one's own permit notified 10 days ago: two months, not urgent (P2).
    assert slots["urgence"] == "P2"
    assert slots["echeance_estimee"] > today.isoformat()
    assert slots["echeance_regle"] and slots["echeance_source"]
    assert isinstance(slots["urgence_motifs"], list)
    assert sent() == ["utter_handoff"]
    assert dispatcher.messages[0]["lawyer_name"] == firm_data["lawyer_name"]
    assert firm_data["lawyer_name"] in render(dispatcher.messages[0])
    assert_handoff_tail(events)
    assert_deadline_not_told(dispatcher.messages, render, slots["echeance_estimee"])


@pytest.mark.parametrize(
    ("changes", "deadline"),
    [
        pytest.param(
            {"domaine": "etrangers", "type_decision": "OQTF", "mesure_privative": "retention",
             "partie_adverse": "préfecture du Nord", "code_postal": "59000",
             "recit": "J'ai reçu une OQTF hier et je suis au CRA de Lesquin."},
            # CESEDA L. 921-2: 48 hours; hour unknown, counted from 00:00 on the day of
            # notification, so it ends at the end of the next day.
            lambda today: today.isoformat(),
            id="retention-notified-yesterday",
        ),
        pytest.param(
            {"domaine": "etrangers", "type_decision": "OQTF", "mesure_privative": "oqtf",
             "partie_adverse": "préfecture du Nord", "code_postal": "59000",
             "recit": "J'ai reçu une obligation de quitter le territoire hier."},
            None,
            id="oqtf-notified-yesterday",
        ),
        pytest.param(
            {"domaine": "etrangers", "type_decision": "assignation à résidence",
             "mesure_privative": "assignation", "code_postal": "59000",
             "recit": "Je dois pointer au commissariat tous les jours depuis hier."},
            None,
            id="assignation-notified-yesterday",
        ),
    ],
)
async def test_liberty_case_is_flagged_priority_without_the_deadline(
    dispatcher, make_tracker, domain, sent, slot_events, render, today, changes, deadline
) -> None:
    tracker = make_tracker(slots=complete_case(today, date_decision=yesterday(today), **changes))

    events = await ActionHandoff().run(dispatcher, tracker, domain)

    slots = slot_events(events)
    assert slots["urgence"] == "P0"
    assert slots["echeance_estimee"] is not None
    if deadline is not None:
        assert slots["echeance_estimee"] == deadline(today)
    assert sent() == ["utter_handoff", "utter_handoff_priority"]
    assert_handoff_tail(events)
    assert_deadline_not_told(dispatcher.messages, render, slots["echeance_estimee"])


async def test_lawyer_asked_with_an_oqtf_question_only(
    dispatcher, make_tracker, domain, sent, slot_events, render
) -> None:
    # ask_lawyer before any triage: no date, no account, but the question says OQTF.
    tracker = make_tracker(
        slots={"consent": "given", "handoff_requested": True, "domaine": "etrangers",
               "question_initiale": "j'ai reçu une OQTF hier, je fais quoi ?"},
        text="je veux parler à un avocat", intent="ask_lawyer",
    )

    events = await ActionHandoff().run(dispatcher, tracker, domain)

    slots = slot_events(events)
    assert slots["urgence"] == "P0"
    assert slots["echeance_estimee"] is None  # no date: no deadline computed
    assert sent() == ["utter_handoff_early", "utter_handoff_priority"]
    assert_handoff_tail(events)


@pytest.mark.parametrize(
    "missing",
    [("recit",), ("code_postal",), ("recit", "code_postal")],
)
async def test_incomplete_triage_gets_the_early_wording(
    dispatcher, make_tracker, domain, sent, slot_events, render, today, missing
) -> None:
    case = complete_case(today, **{slot: None for slot in missing})
    tracker = make_tracker(slots=case, active_loop="triage_form", requested_slot=missing[0],
                           text="avocat", intent="ask_lawyer")

    events = await ActionHandoff().run(dispatcher, tracker, domain)

    assert sent() == ["utter_handoff_early"]
    assert slot_events(events)["urgence"] == "P2"
    assert_handoff_tail(events)  # the triage form is ended
    assert_deadline_not_told(dispatcher.messages, render, slot_events(events)["echeance_estimee"])


async def test_nothing_known_is_p3_with_the_early_wording(
    dispatcher, make_tracker, domain, sent, slot_events
) -> None:
    tracker = make_tracker(slots={"consent": "given", "handoff_requested": True},
                           text="avocat", intent="ask_lawyer")

    events = await ActionHandoff().run(dispatcher, tracker, domain)

    slots = slot_events(events)
    assert slots["urgence"] == "P3"
    assert [slots[s] for s in ("echeance_estimee", "echeance_regle", "echeance_source")] == [
        None, None, None]
    assert sent() == ["utter_handoff_early"]
    assert_handoff_tail(events)


@pytest.mark.parametrize(
    "question",
    [
        "mon ex refuse que je voie mes enfants",
        # Urgent words outside public law: still a referral, the lawyer sees the warning (N6).
        "mon propriétaire veut m'expulser demain",
    ],
)
async def test_out_of_scope_referral_is_left_to_the_lawyer(
    dispatcher, make_tracker, domain, sent, slot_events, render, firm_data, question
) -> None:
    tracker = make_tracker(
        slots={"consent": "given", "route": "referral", "domaine": "hors_champ",
               "question_initiale": question, "code_postal": "92100",
               "ordres": ["Barreau des Hauts-de-Seine"]},
        latest_action_name="action_referral",
    )

    events = await ActionHandoff().run(dispatcher, tracker, domain)

    slots = slot_events(events)
    assert slots["urgence"] == "OUT"
    assert slots["echeance_estimee"] is None
    assert sent() == ["utter_handoff_referral"]
    assert firm_data["lawyer_name"] in render(dispatcher.messages[0])
    assert_handoff_tail(events)


# --- forget ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "response"),
    [
        ("delete_data", "utter_forget_delete"),
        ("stop", "utter_forget_stop"),
        (None, "utter_forget_stop"),
    ],
)
async def test_forget_acknowledges_and_requests_erasure(
    dispatcher, make_tracker, domain, sent, intent, response
) -> None:
    tracker = make_tracker(slots=complete_case(date(2026, 5, 20)), text="stop", intent=intent,
                           active_loop="triage_form")

    events = await ActionForget().run(dispatcher, tracker, domain)

    assert events == [{"event": "slot", "timestamp": None, "name": "purge_requested",
                       "value": True}]
    assert sent() == [response]
