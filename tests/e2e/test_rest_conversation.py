"""Whole conversations through the REST door (connectors/rest.py, with the Stack's token) against
the real servers (see conftest.py). A sender ``s`` speaks in the conversation ``rest:s``; buttons
go as payloads (``Stack.press``)."""

from __future__ import annotations

import uuid
from datetime import date

from actions.triage_form import today as paris_today
from permanence.firm import load_firm
from tests.dialogue import QUESTIONS, SUMMARY, URBANISME, URBANISME_ANSWERS


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


def joined(messages: list[dict]) -> str:
    return "\n".join(texts(messages))


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def rest(sender: str) -> str:
    """The conversation id of a REST sender."""
    return f"rest:{sender}"


def last_past(month: int, day: int, today: date) -> date:
    """The most recent date with this month and day, not after today."""
    candidate = date(today.year, month, day)
    return candidate if candidate <= today else candidate.replace(year=today.year - 1)


def start_triage(servers, sender: str, question: str = URBANISME) -> None:
    servers.say(sender, question)
    assert QUESTIONS in joined(servers.press(sender, "/affirm"))


def test_first_message_gets_the_disclosure_before_anything_else(servers):
    sender = new_sender()
    messages = servers.say(sender, URBANISME)
    firm = load_firm()
    # One message (issue #12, item 8): disclosure, terms, privacy, deadlines, consent question.
    [opening] = messages
    text = opening["text"]
    assert len(text) <= 600
    assert text.startswith("Assistant automatisé (IA)") and "pas avocat" in text
    assert "aucun conseil" in text and firm.lawyer_name in text
    assert "gratuite" in text and "sans mandat" in text
    assert firm.barreaux in text and firm.contact in text
    assert "CNIL" in text and firm.privacy_url in text
    assert "santé" in text and "ne les interrompt pas" in text
    assert text.endswith("Acceptez-vous ?")
    assert [b["payload"] for b in opening["buttons"]] == ["/affirm", "/deny"]
    # The question itself was kept for the lawyer.
    assert servers.stored_slots(rest(sender))["question_initiale"] == URBANISME


def test_asked_if_human_the_assistant_answers_no_first(servers):
    sender = new_sender()
    messages = servers.say(sender, "vous êtes un humain ?")
    answers = [m["text"] for m in messages if "Acceptez-vous" not in m["text"]]
    assert answers and answers[0].startswith("Non, je ne suis pas un humain")
    assert servers.stored_slots(rest(sender))["consent"] == "pending"


def test_another_language_gets_a_note_in_it_and_french_goes_on(servers):
    sender = new_sender()
    messages = servers.say(sender, "Hello, I received a letter from the prefecture and I don't "
                                   "speak French, can you help me?")
    assert "Acceptez-vous" in messages[0]["text"]
    assert messages[-1]["text"].startswith("This service is in French only.")
    assert load_firm().contact in messages[-1]["text"]
    # Not a dead end: the French consent answer is taken and the conversation goes on in French.
    after = servers.press(sender, "/affirm")
    assert after and not any("This service" in text for text in texts(after))
    assert servers.stored_slots(rest(sender))["consent"] == "given"


def test_full_triage_reaches_the_lawyer_with_a_fact_card(servers):
    sender = new_sender()
    start_triage(servers, sender)
    summary = joined(servers.say(sender, URBANISME_ANSWERS))
    received = last_past(10, 2, paris_today())
    assert SUMMARY in summary
    assert "• Domaine : Urbanisme" in summary
    assert "• Vous êtes : Demandeur (votre projet)" in summary
    assert "• Décision : refus de permis" in summary
    assert f"• Reçue / notifiée le {received:%d/%m/%Y}" in summary
    assert "• Recours gracieux : Non" in summary and "• Code postal : 62300" in summary

    handoff = joined(servers.say(sender, "c'est bien ça, merci"))
    assert load_firm().lawyer_name in handoff and "en personne" in handoff

    slots = servers.stored_slots(rest(sender))
    assert slots["domaine"] == "urbanisme"
    assert slots["date_decision"] == received.isoformat()
    assert slots["role"] == "demandeur" and slots["code_postal"] == "62300"
    assert slots["urgence"] in {"P0", "P1", "P2", "P3"}
    assert slots["echeance_estimee"] and slots["echeance_regle"]
    assert slots["echeance_estimee"] not in handoff

    # Paused: the assistant is silent, but the person's message is recorded for the lawyer.
    assert servers.say(sender, "vous êtes là ?") == []
    events = servers.stored_events(rest(sender))
    assert any(e["event"] == "pause" for e in events)
    assert events[-1]["event"] == "user" and events[-1]["text"] == "vous êtes là ?"


def test_a_correction_in_one_sentence_is_applied_and_shown_again(servers):
    sender = new_sender()
    start_triage(servers, sender)
    assert SUMMARY in joined(servers.say(sender, URBANISME_ANSWERS))
    again = joined(servers.say(sender, "non, la date c'est le 30 septembre"))
    corrected = last_past(9, 30, paris_today())
    assert SUMMARY in again and f"• Reçue / notifiée le {corrected:%d/%m/%Y}" in again
    assert "• Code postal : 62300" in again
    assert "transmets" in joined(servers.say(sender, "ok parfait"))
    assert servers.stored_slots(rest(sender))["date_decision"] == corrected.isoformat()


def test_a_bare_no_asks_what_is_wrong_then_the_answer_is_applied(servers):
    sender = new_sender()
    start_triage(servers, sender)
    servers.say(sender, URBANISME_ANSWERS)
    assert "n'est pas juste" in joined(servers.press(sender, "/deny"))
    again = joined(servers.say(sender, "le code postal c'est 62000"))
    assert SUMMARY in again and "• Code postal : 62000" in again


def test_delete_my_data_in_the_middle_of_the_triage_erases_it(servers):
    sender = new_sender()
    start_triage(servers, sender)
    servers.say(sender, "la mairie de Lens")
    reply = joined(servers.say(sender, "supprimez mes données svp"))
    assert "effacés" in reply
    assert servers.stored_events(rest(sender)) == []


def test_are_you_a_bot_in_the_middle_of_the_triage_then_it_goes_on(servers):
    sender = new_sender()
    start_triage(servers, sender)
    reply = servers.say(sender, "attendez, je parle à un robot là ?")
    assert "assistant automatisé" in reply[0]["text"]
    assert SUMMARY in joined(servers.say(sender, URBANISME_ANSWERS))


def test_answers_that_say_nothing_never_hold_the_person(servers):
    sender = new_sender()
    start_triage(servers, sender)
    # Not understood: the questions once more, then the summary with what is known.
    assert QUESTIONS in joined(servers.say(sender, "zzz"))
    assert SUMMARY in joined(servers.say(sender, "zzz"))
    sender = new_sender()
    start_triage(servers, sender)
    summary = joined(servers.say(sender, "je ne sais pas"))  # not asked again
    assert SUMMARY in summary


def test_consent_refused_erases_the_whole_conversation(servers):
    sender = new_sender()
    servers.say(sender, "j'ai reçu une OQTF hier, je fais quoi ?")
    assert servers.stored_events(rest(sender))
    assert "effacée" in joined(servers.press(sender, "/deny"))
    assert servers.stored_events(rest(sender)) == []
    # Writing again starts a new conversation, disclosure first.
    again = servers.say(sender, "bonjour")
    assert "assistant automatisé" in again[0]["text"].lower()


def test_out_of_scope_question_from_92100_points_to_the_hauts_de_seine_bar(servers):
    sender = new_sender()
    servers.say(sender, "mon ex refuse de me laisser voir mes enfants le week-end")
    assert "code postal" in joined(servers.press(sender, "/affirm"))
    reply = joined(servers.say(sender, "92100"))
    assert "Barreau des Hauts-de-Seine" in reply and "consultations gratuites" in reply
    assert "vérifiera cette orientation" in reply
    assert servers.stored_slots(rest(sender))["urgence"] == "OUT"


def test_oqtf_received_yesterday_is_p0_and_the_deadline_is_never_told(servers):
    sender = new_sender()
    start_triage(servers, sender, "j'ai reçu une OQTF hier et je suis en rétention au CRA")
    seen = servers.say(sender, "la préfecture du Nord, vers 18h, 59000")
    assert SUMMARY in joined(seen)
    seen += servers.say(sender, "oui")
    assert "prioritaire" in joined(seen)
    slots = servers.stored_slots(rest(sender))
    assert slots["urgence"] == "P0"
    assert slots["mesure_privative"] == "retention"
    deadline = date.fromisoformat(slots["echeance_estimee"])
    for text in texts(seen):
        assert deadline.isoformat() not in text and f"{deadline:%d/%m/%Y}" not in text


def test_a_decision_four_months_old_is_flagged_expired_for_the_lawyer(servers):
    sender = new_sender()
    start_triage(servers, sender, "le rectorat a refusé ma mutation, je suis prof titulaire")
    assert SUMMARY in joined(servers.say(sender, "il y a 4 mois, non, 59000"))
    servers.say(sender, "oui")
    slots = servers.stored_slots(rest(sender))
    assert slots["role"] == "agent_public" and slots["recours_gracieux"] == "non"
    assert slots["urgence"] == "P1"
    assert any("expiré" in reason for reason in slots["urgence_motifs"])
    assert date.fromisoformat(slots["echeance_estimee"]) < paris_today()


def test_odd_and_huge_messages_get_an_answer(servers):
    for text in ("🙏🙏🙏", "مرحبا، لدي سؤال عن الإقامة", "bon\u200bjour\u200f", "x" * 10_000):
        messages = servers.say(new_sender(), text)
        assert messages and "assistant automatisé" in messages[0]["text"].lower()
    sender = new_sender()
    start_triage(servers, sender)
    story = ("Une très longue histoire. " * 400)[:10_000]
    assert servers.say(sender, story)
    assert story.strip() in servers.stored_slots(rest(sender))["recit"]
