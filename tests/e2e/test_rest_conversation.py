"""Whole conversations through the REST door (connectors/rest.py, with the Stack's token) against
the real servers (see conftest.py). A sender ``s`` speaks in the conversation ``rest:s``; buttons
go as payloads (``Stack.press``)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from actions.triage_form import today as paris_today
from permanence.firm import load_firm

URBANISME = "bonjour, la mairie a refusé mon permis de construire pour une extension"


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
    assert "Quelle administration" in joined(servers.press(sender, "/affirm"))


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
    assert "Vous êtes" in joined(servers.say(sender, "la mairie de Lens"))
    assert "De quelle décision" in joined(servers.say(sender, "particulier"))
    assert "À quelle date" in joined(servers.say(sender, "refus de permis de construire"))
    assert "voies et délais" in joined(servers.say(sender, "le 2 octobre"))
    assert "déjà contesté" in joined(servers.say(sender, "oui"))
    assert "code postal" in joined(servers.say(sender, "non"))
    assert "que s'est-il passé" in joined(servers.say(sender, "62300"))
    summary = joined(servers.say(sender, "Refus reçu début octobre pour une extension de 20 m2."))
    expected_date = last_past(10, 2, paris_today())
    assert "Voici ce que je transmets" in summary
    assert "• Domaine : Urbanisme" in summary
    assert "• Administration / partie : la mairie de Lens" in summary
    assert f"• Date de la décision : {expected_date:%d/%m/%Y}" in summary
    assert "• Code postal : 62300" in summary

    handoff = joined(servers.press(sender, "/affirm"))
    assert load_firm().lawyer_name in handoff and "en personne" in handoff

    slots = servers.stored_slots(rest(sender))
    assert slots["domaine"] == "urbanisme"
    assert slots["date_decision"] == expected_date.isoformat()
    assert slots["role"] == "particulier" and slots["code_postal"] == "62300"
    assert slots["urgence"] in {"P0", "P1", "P2", "P3"}
    assert slots["echeance_estimee"] and slots["echeance_regle"]
    assert slots["echeance_estimee"] not in handoff

    # Paused: the assistant is silent, but the person's message is recorded for the lawyer.
    assert servers.say(sender, "vous êtes là ?") == []
    events = servers.stored_events(rest(sender))
    assert any(e["event"] == "pause" for e in events)
    assert events[-1]["event"] == "user" and events[-1]["text"] == "vous êtes là ?"


def test_correction_at_the_summary_changes_only_that_field(servers):
    sender = new_sender()
    start_triage(servers, sender)
    for answer in ("mairie de Lens", "particulier", "refus de permis", "le 2 octobre", "oui",
                   "non", "62300"):
        servers.say(sender, answer)
    assert "Est-ce exact" in joined(servers.say(sender, "Extension refusée par la mairie."))
    assert "Que faut-il corriger" in joined(servers.press(sender, "/deny"))
    assert "À quelle date" in joined(servers.say(sender, "Date"))
    summary = joined(servers.say(sender, "il y a 3 jours"))
    # "il y a 3 jours" in the firm's time zone: between midnight in Paris and midnight UTC,
    # the machine's date is a day behind.
    assert f"• Date de la décision : {paris_today() - timedelta(days=3):%d/%m/%Y}" in summary
    assert "• Administration / partie : mairie de Lens" in summary


def test_consent_refused_erases_the_whole_conversation(servers):
    sender = new_sender()
    servers.say(sender, "j'ai reçu une OQTF hier, je fais quoi ?")
    assert servers.stored_events(rest(sender))
    assert "effacée" in joined(servers.press(sender, "/deny"))
    assert servers.stored_events(rest(sender)) == []
    # Writing again starts a new conversation, disclosure first.
    again = servers.say(sender, "bonjour")
    assert "assistant automatisé" in again[0]["text"].lower()


def test_delete_my_data_in_the_middle_of_the_form_erases_it(servers):
    sender = new_sender()
    start_triage(servers, sender)
    servers.say(sender, "la mairie de Lens")
    reply = joined(servers.say(sender, "supprimez mes données svp"))
    assert "effacés" in reply
    assert servers.stored_events(rest(sender)) == []


def test_are_you_a_bot_in_the_middle_of_the_form_then_it_goes_on(servers):
    sender = new_sender()
    start_triage(servers, sender)
    servers.say(sender, "la mairie de Lens")
    reply = servers.say(sender, "attendez, je parle à un robot là ?")
    assert "assistant automatisé" in reply[0]["text"].lower()
    assert "Vous êtes" in reply[-1]["text"]
    assert "De quelle décision" in joined(servers.say(sender, "particulier"))


def test_unparseable_date_is_asked_again(servers):
    sender = new_sender()
    start_triage(servers, sender)
    for answer in ("mairie de Lens", "particulier", "refus de permis"):
        servers.say(sender, answer)
    reply = joined(servers.say(sender, "bof aucune idée de quand exactement, genre un truc"))
    assert "voies et délais" in reply  # "aucune idée" means unknown: accepted, next question
    sender = new_sender()
    start_triage(servers, sender)
    for answer in ("mairie de Lens", "particulier", "refus de permis"):
        servers.say(sender, answer)
    reply = joined(servers.say(sender, "zzz"))
    assert "Je n'ai pas reconnu de date" in reply and "À quelle date" in reply


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
    answers = ("préfecture du Nord", "particulier", "OQTF sans délai de départ", "hier",
               "je ne sais pas", "non", "59000")
    seen = []
    for answer in answers:
        seen += servers.say(sender, answer)
    seen += servers.say(sender, "J'ai été interpellé hier matin et placé au centre de rétention.")
    seen += servers.press(sender, "/affirm")
    assert "prioritaire" in joined(seen)
    slots = servers.stored_slots(rest(sender))
    assert slots["urgence"] == "P0"
    assert slots["mesure_privative"] == "retention"
    deadline = date.fromisoformat(slots["echeance_estimee"])
    for text in texts(seen):
        assert deadline.isoformat() not in text and f"{deadline:%d/%m/%Y}" not in text


def test_decision_four_months_old_without_appeal_routes_gets_the_one_year_rule(servers):
    sender = new_sender()
    start_triage(servers, sender, "le rectorat a refusé ma mutation, je suis prof titulaire")
    for answer in ("le rectorat de Lille", "agent public", "refus de mutation", "il y a 4 mois",
                   "non", "non", "59000", "Refus de mutation sans explication."):
        servers.say(sender, answer)
    servers.press(sender, "/affirm")
    slots = servers.stored_slots(rest(sender))
    assert "Czabaj" in slots["echeance_regle"]


def test_odd_and_huge_messages_get_an_answer(servers):
    for text in ("🙏🙏🙏", "مرحبا، لدي سؤال عن الإقامة", "bon\u200bjour\u200f", "x" * 10_000):
        messages = servers.say(new_sender(), text)
        assert messages and "assistant automatisé" in messages[0]["text"].lower()
    sender = new_sender()
    start_triage(servers, sender)
    for answer in ("mairie de Lens", "particulier", "refus de permis", "hier", "oui", "non",
                   "62300"):
        servers.say(sender, answer)
    story = ("Une très longue histoire. " * 400)[:10_000]
    assert "Est-ce exact" in joined(servers.say(sender, story))
    assert servers.stored_slots(rest(sender))["recit"] == story.strip()
