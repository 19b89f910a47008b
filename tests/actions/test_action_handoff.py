"""action_handoff (urgency for the lawyer only, LEGAL.md N1, N6; the permanence schedule) and
action_forget (erasure).

The handoff's clock is fixed by tests/actions/conftest.py at Wednesday 20 May 2026, 10:00 in
Paris, and its schedule is always live unless a test gives one with the ``schedule`` fixture.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from actions.handoff import ActionForget, ActionHandoff, act_now_warning

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


# --- the permanence schedule ------------------------------------------------------------------

# The firm's default: the first Tuesday of the month, 12:00-13:00. On Wednesday 20 May 2026 the
# lawyer is off; the next session is Tuesday 2 June 2026 at noon.
MONTHLY = """
timezone: Europe/Paris
recurring:
  - {every: month, week: first, weekday: tuesday, start: "12:00", end: "13:00"}
"""
NEXT_MONTHLY = "mardi 2 juin 2026 à 12 h"
# Live now (10:00 on the 20th): an extra session in the middle of the morning.
LIVE_NOW = MONTHLY + """
extra:
  - {date: 2026-05-20, start: "09:30", end: "10:30"}
"""
# Off, and no session planned at all.
UNSCHEDULED = "timezone: Europe/Paris\n"
# Off, the next session tomorrow at 18:30 (weekly, on Thursdays).
WEEKLY = """
timezone: Europe/Paris
recurring:
  - {every: week, weekday: thursday, start: "18:30", end: "19:30"}
"""
P0_CASE = {"domaine": "etrangers", "type_decision": "OQTF", "mesure_privative": "retention",
           "partie_adverse": "préfecture du Nord", "code_postal": "59000",
           "recit": "J'ai reçu une OQTF hier et je suis au CRA de Lesquin."}


def offline_texts(dispatcher, render) -> list[str]:
    return [render(m) for m in dispatcher.messages if m["response"].startswith("utter_handoff_off")]


@pytest.mark.parametrize("text", [LIVE_NOW, MONTHLY.replace("tuesday", "wednesday")
                                  .replace("first", "third").replace("12:00", "08:00")],
                         ids=["extra-session", "third-wednesday-8-to-13"])
@pytest.mark.parametrize(
    ("changes", "expected"),
    [({}, ["utter_handoff"]), (P0_CASE, ["utter_handoff", "utter_handoff_priority"])],
    ids=["P2", "P0"],
)
async def test_during_a_session_the_handover_is_unchanged(
    dispatcher, make_tracker, domain, sent, schedule, today, text, changes, expected
) -> None:
    schedule(text)
    case = complete_case(today, **changes)
    if changes:
        case["date_decision"] = yesterday(today)

    events = await ActionHandoff().run(dispatcher, make_tracker(slots=case), domain)

    assert sent() == expected
    assert_handoff_tail(events)


async def test_outside_a_session_the_question_is_recorded_for_the_next_one(
    dispatcher, make_tracker, domain, sent, slot_events, render, schedule, firm_data, today
) -> None:
    schedule(MONTHLY)

    events = await ActionHandoff().run(dispatcher, make_tracker(slots=complete_case(today)),
                                       domain)

    assert slot_events(events)["urgence"] == "P2"
    assert sent() == ["utter_handoff", "utter_handoff_offline"]
    [text] = offline_texts(dispatcher, render)
    assert f"lors de la prochaine permanence, le {NEXT_MONTHLY}." in text
    assert firm_data["lawyer_name"] in text
    assert_handoff_tail(events)
    assert_deadline_not_told(dispatcher.messages, render, slot_events(events)["echeance_estimee"])


async def test_outside_a_session_a_p0_case_is_told_not_to_wait(
    dispatcher, make_tracker, domain, sent, slot_events, render, schedule, today
) -> None:
    schedule(MONTHLY)
    case = complete_case(today, date_decision=yesterday(today), **P0_CASE)

    events = await ActionHandoff().run(dispatcher, make_tracker(slots=case), domain)

    slots = slot_events(events)
    assert slots["urgence"] == "P0"
    assert sent() == ["utter_handoff", "utter_handoff_priority", "utter_handoff_offline",
                      "utter_offline_urgent"]
    assert NEXT_MONTHLY in offline_texts(dispatcher, render)[0]
    assert "n'attendez pas" in render(dispatcher.messages[-1])
    assert_handoff_tail(events)
    assert_deadline_not_told(dispatcher.messages, render, slots["echeance_estimee"])


@pytest.mark.parametrize(
    ("text", "decided_days_ago", "urgent"),
    [
        # Deadline ends 28 May at 00:00: the session of 2 June comes too late.
        pytest.param(MONTHLY, 55, True, id="next-session-after-the-deadline"),
        # Deadline ends 17 June: the session of 2 June leaves the lawyer time.
        pytest.param(MONTHLY, 35, False, id="next-session-well-before-the-deadline"),
        # Deadline 28 May, session tomorrow evening: in time.
        pytest.param(WEEKLY, 55, False, id="weekly-session-tomorrow"),
        # Deadline probably passed already: no session can be in time.
        pytest.param(WEEKLY, 100, True, id="deadline-probably-passed"),
    ],
)
async def test_outside_a_session_a_p1_case_is_told_not_to_wait_when_the_session_is_late(
    dispatcher, make_tracker, domain, sent, slot_events, render, schedule, today,
    text, decided_days_ago, urgent
) -> None:
    schedule(text)
    case = complete_case(today, date_decision=(today - timedelta(days=decided_days_ago))
                         .isoformat())

    events = await ActionHandoff().run(dispatcher, make_tracker(slots=case), domain)

    slots = slot_events(events)
    assert slots["urgence"] == "P1"
    expected = ["utter_handoff", "utter_handoff_offline"]
    assert sent() == expected + (["utter_offline_urgent"] if urgent else [])
    assert_deadline_not_told(dispatcher.messages, render, slots["echeance_estimee"])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ["utter_handoff", "utter_handoff_offline_unscheduled"]),
        (P0_CASE, ["utter_handoff", "utter_handoff_priority", "utter_handoff_offline_unscheduled",
                   "utter_offline_urgent"]),
    ],
    ids=["P2", "P0"],
)
async def test_without_any_session_planned_no_date_is_given(
    dispatcher, make_tracker, domain, sent, render, schedule, today, changes, expected
) -> None:
    schedule(UNSCHEDULED)
    case = complete_case(today, **changes)
    if changes:
        case["date_decision"] = yesterday(today)

    await ActionHandoff().run(dispatcher, make_tracker(slots=case), domain)

    assert sent() == expected
    [text] = offline_texts(dispatcher, render)
    assert text.endswith("lors de la prochaine permanence.")


async def test_outside_a_session_a_referral_also_waits_for_the_next_session(
    dispatcher, make_tracker, domain, sent, render, schedule
) -> None:
    schedule(WEEKLY)
    tracker = make_tracker(
        slots={"consent": "given", "route": "referral", "domaine": "hors_champ",
               "question_initiale": "mon ex refuse que je voie mes enfants",
               "code_postal": "92100", "ordres": ["Barreau des Hauts-de-Seine"]},
        latest_action_name="action_referral",
    )

    await ActionHandoff().run(dispatcher, tracker, domain)

    assert sent() == ["utter_handoff_referral", "utter_handoff_offline"]
    assert "le jeudi 21 mai 2026 à 18 h 30." in offline_texts(dispatcher, render)[0]


@pytest.mark.parametrize("text", ["timezone: Mars/Olympus\n", "recurring: [\n", "[]"])
async def test_an_unreadable_schedule_does_not_stop_the_handover(
    dispatcher, make_tracker, domain, sent, schedule, today, caplog, text
) -> None:
    schedule(text)

    with caplog.at_level(logging.ERROR, logger="actions.handoff"):
        events = await ActionHandoff().run(dispatcher, make_tracker(slots=complete_case(today)),
                                           domain)

    assert sent() == ["utter_handoff"]
    assert_handoff_tail(events)
    assert [r.getMessage().split()[0] for r in caplog.records] == ["handoff.schedule.invalid"]


PARIS = ZoneInfo("Europe/Paris")
SESSION = datetime(2026, 6, 2, 12, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("tier", "next_start", "deadline", "urgent"),
    [
        ("P0", SESSION, SESSION + timedelta(days=30), True),
        ("P0", None, None, True),
        ("P1", None, SESSION + timedelta(days=30), True),
        ("P1", SESSION, None, True),
        # The margin is three days: 2 June 12:00 against a deadline at 5 June 12:00 and later.
        ("P1", SESSION, SESSION + timedelta(days=3), False),
        ("P1", SESSION, SESSION + timedelta(days=3, seconds=-1), True),
        ("P2", SESSION, SESSION - timedelta(days=1), False),
        ("P3", None, None, False),
        ("OUT", None, None, False),
    ],
)
def test_when_the_person_is_told_not_to_wait(tier, next_start, deadline, urgent) -> None:
    assert act_now_warning(tier, next_start, deadline) is urgent


# --- forget ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "text", "response"),
    [
        ("delete_data", "supprimez mes données", "utter_forget_delete"),
        ("delete_data", "droit à l'oubli svp", "utter_forget_delete"),
        ("stop", "stop", "utter_forget_stop"),
        ("stop", "bon j'arrête là", "utter_forget_stop"),
        (None, "stop", "utter_forget_stop"),
    ],
)
async def test_forget_acknowledges_and_requests_erasure(
    dispatcher, make_tracker, domain, sent, intent, text, response
) -> None:
    tracker = make_tracker(slots=complete_case(date(2026, 5, 20)), text=text, intent=intent)

    events = await ActionForget().run(dispatcher, tracker, domain)

    assert events == [{"event": "slot", "timestamp": None, "name": "purge_requested",
                       "value": True}]
    assert sent() == [response]


@pytest.mark.parametrize(
    ("intent", "text", "slots", "followup"),
    [
        ("delete_data", "suppression de ma prime REP+", {"consent": "given", "route": "triage"},
         "action_intake"),
        ("stop", "non, personne n'est arrêté", {"consent": "given", "route": "triage"},
         "action_intake"),
        ("delete_data", "Sorry, my French is not good. Can we speak English?",
         {"consent": "pending"}, "action_remember_question"),
        ("stop", "le préfet a arrêté la fermeture", {"consent": "given", "route": "question"},
         "action_route_question"),
        ("delete_data", "Arras, effacement de la dette", {"consent": "given",
                                                         "route": "referral"}, "referral_form"),
    ],
)
async def test_words_that_do_not_ask_to_erase_are_taken_as_an_answer(
    dispatcher, make_tracker, domain, sent, intent, text, slots, followup
) -> None:
    tracker = make_tracker(slots=slots, text=text, intent=intent)
    events = await ActionForget().run(dispatcher, tracker, domain)
    assert events == [{"event": "followup", "timestamp": None, "name": followup}]
    assert sent() == []
