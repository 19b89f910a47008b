"""Cases: opening from a tracker at handover, the queue, the lawyer's actions and their states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from desk_testlib import T0, case_slots, handoff_tracker
from rasa.shared.core.events import ActionExecuted, ConversationPaused, UserUttered
from rasa.shared.core.trackers import EventVerbosity
from sqlalchemy import select

from desk import auth, cases
from desk.models import OPEN_STATES, desk_audit

TIER_ORDER = ("P0", "P1", "P2", "P3", "OUT")


@pytest.fixture
def lawyers(factory) -> tuple[int, int]:
    with factory.begin() as session:
        first = auth.set_lawyer(session, "a@cabinet.example", "correct horse battery")
        second = auth.set_lawyer(session, "b@cabinet.example", "correct horse battery")
    return first, second


def open_from(factory, tracker, now=T0) -> tuple[int, bool]:
    with factory.begin() as session:
        return cases.open_case_from_tracker(session, tracker, now=now)


def read(factory, case_id: int) -> dict:
    with factory.begin() as session:
        return cases.get_case(session, case_id)


# ------------------------------------------------------------------ opening


def test_case_opens_with_the_fact_card_from_the_tracker(factory, domain) -> None:
    tracker = handoff_tracker(domain, "conv-1", channel="webchat")
    case_id, created = open_from(factory, tracker)
    assert created
    case = read(factory, case_id)
    slots = case_slots()
    assert case["facts"] == {slot: slots.get(slot) for slot in cases.CARD_SLOTS}
    assert (case["state"], case["kind"], case["flagged"]) == ("waiting", "lawyer", False)
    assert case["urgency"] == slots["urgence"]
    assert case["deadline"] == slots["echeance_estimee"]
    assert (case["conversation_id"], case["channel"], case["handle"]) == ("conv-1", "webchat", None)
    assert case["opened_at"] == T0.isoformat()
    person = [t["text"] for t in case["transcript"] if t["author"] == "person"]
    assert person == [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert case["messages"] == [] and case["notes"] == []


def test_handle_comes_from_the_x_metadata(factory, domain) -> None:
    tracker = handoff_tracker(domain, "x-42", channel="x", metadata={"screen_name": "jdupont"})
    case = read(factory, open_from(factory, tracker)[0])
    assert (case["channel"], case["handle"]) == ("x", "jdupont")


@pytest.mark.parametrize("conversation_id,recorded,channel", [
    ("x:42", "rest", "x"), ("web:abc", "x", "webchat"), ("rest:client-1", "x", "rest"),
    ("legacy-1", "webchat", "webchat")])
def test_the_channel_is_the_conversation_ids_namespace(factory, domain, conversation_id,
                                                       recorded, channel) -> None:
    """A message recorded with another input channel (as a REST client could once choose)
    never makes the desk answer through another channel than the conversation's own."""
    tracker = handoff_tracker(domain, conversation_id, channel=recorded)
    assert read(factory, open_from(factory, tracker)[0])["channel"] == channel


def test_tracker_state_dict_and_event_list_read_the_same(domain) -> None:
    tracker = handoff_tracker(domain, "conv-2")
    from_tracker = cases.source_from_tracker(tracker)
    from_state = cases.source_from_tracker(tracker.current_state(EventVerbosity.ALL))
    from_events = cases.source_from_tracker(list(tracker.events), sender_id="conv-2")
    assert from_tracker == from_state == from_events
    assert from_tracker.slots["partie_adverse"] == tracker.get_slot("partie_adverse")


def test_a_sender_id_is_required_for_a_bare_event_list(domain) -> None:
    with pytest.raises(cases.InvalidInput):
        cases.source_from_tracker(list(handoff_tracker(domain).events))


def test_opening_is_idempotent_per_conversation(factory, domain, lawyers) -> None:
    tracker = handoff_tracker(domain, "conv-3")
    first, created = open_from(factory, tracker)
    again, created_again = open_from(factory, tracker, now=T0 + timedelta(minutes=5))
    assert created and not created_again and again == first
    with factory.begin() as session:
        cases.close(session, first, lawyers[0], "nothing_to_answer")
    later, created_later = open_from(factory, tracker, now=T0 + timedelta(days=1))
    assert created_later and later != first


def test_out_of_scope_is_a_referral(factory, domain) -> None:
    tracker = handoff_tracker(domain, "conv-4", domaine="hors_champ", urgence="OUT")
    case = read(factory, open_from(factory, tracker)[0])
    assert (case["kind"], case["urgency"]) == ("referral", "OUT")


def test_conflict_flags_the_case_and_sets_it_apart(factory, domain) -> None:
    with factory.begin() as session:
        client_id = cases.add_client(session, "Commune de Lens")
    flagged = handoff_tracker(domain, "c-f", partie_adverse="Mairie de LENS")
    flagged_id = open_from(factory, flagged)[0]
    clean_id = open_from(factory, handoff_tracker(domain, "c-c", partie_adverse="Préfecture"))[0]
    case = read(factory, flagged_id)
    assert case["flagged"] and case["conflict_client_id"] == client_id
    with factory.begin() as session:
        assert [c["id"] for c in cases.list_queue(session)] == [clean_id]
        assert [c["id"] for c in cases.list_flagged(session)] == [flagged_id]


def test_handed_off_needs_the_handoff_action_before_the_pause() -> None:
    assert cases.handed_off([ActionExecuted("action_handoff"), ConversationPaused()])
    assert not cases.handed_off([ConversationPaused()])
    assert not cases.handed_off([ConversationPaused(), ActionExecuted("action_handoff")])
    assert not cases.handed_off([ActionExecuted("action_listen")])


# ------------------------------------------------------------------ queue


def test_queue_is_ordered_by_urgency_then_age(factory, domain) -> None:
    # (tier, minutes after T0): several tiers, each with an older and a newer case, shuffled.
    plan = [("P2", 5), ("OUT", 0), ("P0", 30), ("P3", 1), ("P1", 20), ("P0", 10), ("P2", 2),
            ("P1", 3), (None, 4)]
    opened = {}
    for index, (tier, minutes) in enumerate(plan):
        domaine = "hors_champ" if tier == "OUT" else "urbanisme"
        tracker = handoff_tracker(domain, f"q-{index}", urgence=tier, domaine=domaine)
        case_id = open_from(factory, tracker, now=T0 + timedelta(minutes=minutes))[0]
        opened[case_id] = (tier, minutes)
    rank = {**{tier: i for i, tier in enumerate(TIER_ORDER)}, None: 3.5}  # unknown before OUT
    expected = sorted(opened, key=lambda cid: (rank[opened[cid][0]], opened[cid][1]))
    with factory.begin() as session:
        queue = cases.list_queue(session)
    assert [c["id"] for c in queue] == expected
    assert [c["kind"] for c in queue][-1] == "referral"


def test_closed_cases_leave_the_queue(factory, domain, lawyers) -> None:
    kept = open_from(factory, handoff_tracker(domain, "k"))[0]
    gone = open_from(factory, handoff_tracker(domain, "g"))[0]
    with factory.begin() as session:
        cases.handback(session, gone, lawyers[0])
        assert [c["id"] for c in cases.list_queue(session)] == [kept]


# ------------------------------------------------------------------ transitions

ACTIONS = {
    "take": lambda s, cid, lid: cases.take(s, cid, lid),
    "reply": lambda s, cid, lid: cases.reply(s, cid, lid, "Bonjour, je regarde votre dossier."),
    "handback": lambda s, cid, lid: cases.handback(s, cid, lid),
    "answered": lambda s, cid, lid: cases.close(s, cid, lid, "answered"),
    "referred": lambda s, cid, lid: cases.close(s, cid, lid, "referred"),
    "nothing": lambda s, cid, lid: cases.close(s, cid, lid, "nothing_to_answer"),
}
# The state each action leads to from each state (None: refused), from the module's rules.
RESULT = {
    "waiting": {"take": "taken", "reply": None, "handback": "handed_back",
                "answered": "answered", "referred": "closed", "nothing": "closed"},
    "taken": {"take": "taken", "reply": "taken", "handback": "handed_back",
              "answered": "answered", "referred": "closed", "nothing": "closed"},
}
for terminal in ("answered", "closed", "handed_back"):
    RESULT[terminal] = dict.fromkeys(ACTIONS)
PATH_TO = {"waiting": [], "taken": ["take"], "answered": ["take", "answered"],
           "closed": ["referred"], "handed_back": ["handback"]}


@pytest.mark.parametrize("start", list(PATH_TO))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_transitions(factory, domain, lawyers, start: str, action: str) -> None:
    case_id = open_from(factory, handoff_tracker(domain, f"t-{start}-{action}"))[0]
    lawyer = lawyers[0]
    with factory.begin() as session:
        for step in PATH_TO[start]:
            ACTIONS[step](session, case_id, lawyer)
    assert read(factory, case_id)["state"] == start
    expected = RESULT[start][action]
    if expected is None:
        with pytest.raises(cases.InvalidTransition):
            with factory.begin() as session:
                ACTIONS[action](session, case_id, lawyer)
        assert read(factory, case_id)["state"] == start
    else:
        with factory.begin() as session:
            ACTIONS[action](session, case_id, lawyer)
        case = read(factory, case_id)
        assert case["state"] == expected
        assert (case["closed_at"] is None) == (expected in OPEN_STATES)


def test_another_lawyer_can_neither_take_nor_reply(factory, domain, lawyers) -> None:
    first, second = lawyers
    case_id = open_from(factory, handoff_tracker(domain, "two"))[0]
    with factory.begin() as session:
        cases.take(session, case_id, first)
    for attempt in (cases.take, lambda s, c, lid: cases.reply(s, c, lid, "texte")):
        with pytest.raises(cases.InvalidTransition):
            with factory.begin() as session:
                attempt(session, case_id, second)
    assert read(factory, case_id)["taken_by"] == first


@pytest.mark.parametrize("text", ["", "   ", None, 12, ["a"], "x" * (cases.MAX_TEXT_CHARS + 1)])
def test_bad_text_is_refused(factory, domain, lawyers, text) -> None:
    case_id = open_from(factory, handoff_tracker(domain, "bad"))[0]
    with factory.begin() as session:
        cases.take(session, case_id, lawyers[0])
    for action in (cases.reply, cases.note):
        with pytest.raises(cases.InvalidInput):
            with factory.begin() as session:
                action(session, case_id, lawyers[0], text)


@pytest.mark.parametrize("outcome", ["", "won", None, 3, "ANSWERED"])
def test_bad_outcome_is_refused(factory, domain, lawyers, outcome) -> None:
    case_id = open_from(factory, handoff_tracker(domain, "bad-outcome"))[0]
    with pytest.raises(cases.InvalidInput):
        with factory.begin() as session:
            cases.close(session, case_id, lawyers[0], outcome)


def test_unknown_case_is_not_found(factory, lawyers) -> None:
    with pytest.raises(cases.NotFound):
        with factory.begin() as session:
            cases.take(session, 999, lawyers[0])


# ------------------------------------------------------------------ messages, notes, audit


def test_messages_notes_and_audit(factory, domain, lawyers) -> None:
    lawyer = lawyers[0]
    case_id = open_from(factory, handoff_tracker(domain, "m"))[0]
    with factory.begin() as session:
        assert cases.record_person_message(session, "m", "J'ai reçu un courrier", T0) is not None
        assert cases.record_person_message(session, "nobody", "hello") is None
        cases.take(session, case_id, lawyer)
        cases.reply(session, case_id, lawyer, "Pouvez-vous m'envoyer la décision ?")
        cases.note(session, case_id, lawyer, "voir délai R421-1")
        cases.close(session, case_id, lawyer, "answered")
    case = read(factory, case_id)
    assert [(m["author"], m["delivery"]) for m in case["messages"]] == [
        ("person", "received"), ("lawyer", "pending")]
    assert [n["text"] for n in case["notes"]] == ["voir délai R421-1"]
    assert case["outcome"] == "answered"
    with factory.begin() as session:
        trail = session.execute(
            select(desk_audit.c.action, desk_audit.c.lawyer_id)
            .where(desk_audit.c.case_id == case_id).order_by(desk_audit.c.id)
        ).all()
    assert [tuple(row) for row in trail] == [
        ("case.opened", None), ("case.take", lawyer), ("case.reply", lawyer),
        ("case.note", lawyer), ("case.close", lawyer)]
    with factory.begin() as session:
        # Once the case is closed, later messages have no open case to go to.
        assert cases.record_person_message(session, "m", "merci") is None


def test_concurrent_handovers_open_one_case(factory, domain) -> None:
    """Two processes (here threads, each with its own connection) saving the same handover."""
    from concurrent.futures import ThreadPoolExecutor

    tracker = handoff_tracker(domain, "race")
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: open_from(factory, tracker), range(12)))
    assert len({case_id for case_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
