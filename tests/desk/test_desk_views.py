"""desk.views: the fact card reads in French, each fact once, never a raw code."""

from __future__ import annotations

from desk import views


def test_the_card_shows_labels_not_codes() -> None:
    facts = {"domaine": "urbanisme", "role": "demandeur", "mesure_privative": "retention",
             "recours_gracieux": "nsp", "date_decision": "2026-10-02",
             "date_decision_source": "date utilisée : notified",
             "faits": ["Reçue / notifiée le 02/10/2026 — « 2 octobre »", "Contrat signé : non"]}
    rows = dict(views.fact_rows(facts))
    assert rows["Domaine"] == views.DOMAIN_LABELS["urbanisme"]
    assert rows["Qualité"] == "Demandeur (votre projet)"
    assert rows["Mesure privative de liberté"] == "Rétention (CRA)"
    assert rows["Recours gracieux"] == "Ne sait pas"
    assert rows["Dates et faits cités"] == (
        "Reçue / notifiée le 02/10/2026 — « 2 octobre » ; Contrat signé : non")
    assert rows["Date retenue pour le délai"] != "2026-10-02"  # a French date
    labels = [label for label, _ in views.fact_rows(facts)]
    assert len(labels) == len(set(labels))


def test_an_unknown_code_is_shown_as_it_is_and_empty_as_a_dash() -> None:
    rows = dict(views.fact_rows({"role": "autre_chose", "faits": []}))
    assert rows["Qualité"] == "autre_chose" and rows["Dates et faits cités"] == "—"


def test_a_queue_row_names_the_channel_in_french() -> None:
    # The budget line's short names once replaced these (one dict name for both).
    from datetime import datetime, timezone

    now = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)
    case = {"id": 1, "state": "waiting", "kind": "triage", "opened_at": now.isoformat()}
    row = views.queue_row({**case, "channel": "webchat"}, 1, {}, now)
    assert row["channel"] == "Messagerie du site"
    assert views.queue_row({**case, "channel": "x"}, 1, {}, now)["channel"] == "X (message privé)"
    assert views.budget_line("x", None, now).startswith("X : ")


# ------------------------------------------------------------------ issue #14, item 3


def test_the_case_says_where_the_person_writes_now_when_they_moved() -> None:
    assert views.channel_line("x", None) == "X (message privé)"
    assert views.channel_line("x", "x") == "X (message privé)"
    assert views.channel_line("x", "webchat") == (
        "X (message privé) → Messagerie du site, où la personne écrit maintenant "
        "(votre réponse y part)")
    assert views.channel_line(None, None) == "—"


def test_a_deadline_reads_from_today() -> None:
    from datetime import date

    today = date(2026, 12, 5)
    line = views.deadline_line
    assert line("2026-12-03", today) == {"text": "dépassée (03/12)", "state": "overdue",
                                         "date": "03/12/2026"}
    assert line("2026-12-05", today)["text"] == "aujourd'hui (05/12)"
    assert line("2026-12-06", today)["text"] == "demain (06/12)"
    assert line("2026-12-07", today)["text"] == "dans 2 jours (07/12)"
    assert line("2026-12-12", today)["state"] == "soon"
    assert line("2026-12-13", today)["state"] == "later"
    assert line("2027-01-20", today)["text"] == "dans 46 jours (20/01/2027)"
    assert line(None, today) is None and line("bientôt", today) is None


def test_a_deadline_uses_the_desks_clock(monkeypatch) -> None:
    monkeypatch.setenv("PERMANENCE_FROZEN_NOW", "2026-12-04T23:30:00+01:00")
    assert views.deadline_line("2026-12-03")["text"] == "dépassée (03/12)"
    assert views.deadline_line("2026-12-04")["text"] == "aujourd'hui (04/12)"


def test_each_fact_once_the_deadline_above_the_card() -> None:
    facts = {"domaine": "etrangers", "echeance_estimee": "2026-12-07",
             "echeance_regle": "48 h", "partie_adverse": "préfecture"}
    shown = [label for label, _ in views.fact_rows(facts)]
    assert "Échéance estimée" not in shown and "Règle de l'échéance" not in shown
    key = dict(views.fact_rows(facts, slots=views.KEY_FACTS))
    rest = dict(views.fact_rows(facts, skip=views.KEY_FACTS))
    assert key["Domaine"] == "Étrangers, titre de séjour" and "Domaine" not in rest
    assert set(key) | set(rest) == set(shown) and not set(key) & set(rest)


def test_buttons_read_in_french_never_as_payloads() -> None:
    assert views.person_text("/affirm") == "Oui (bouton)"
    assert views.person_text("/deny") == "Non (bouton)"
    assert views.person_text("/question_etrangers") == "Étrangers, titre de séjour (bouton)"
    assert views.person_text('/inform{"x": 1}') == "Un bouton"
    assert views.person_text("j'habite à Lens / Arras") == "j'habite à Lens / Arras"
    case = {"transcript": [{"author": "person", "text": "/affirm", "at": None},
                           {"author": "assistant", "text": "/pas un bouton", "at": None}],
            "messages": [{"id": 1, "author": "person", "text": "/deny", "at": None,
                          "lawyer_id": None, "delivery": "received"}]}
    assert [i["text"] for i in views.before_handover(case)] == ["Oui (bouton)", "/pas un bouton"]
    assert [i["text"] for i in views.after_handover(case, {})] == ["Non (bouton)"]


def test_every_code_of_the_card_has_a_french_label() -> None:
    # Every value the assistant can store in a coded slot reads in French.
    from actions.parsing import MESURE_LABELS, ROLE_LABELS, UNKNOWN, YES_NO_LABELS

    for slot, labels in (("role", ROLE_LABELS), ("mesure_privative", MESURE_LABELS),
                         ("mention_voies_delais", YES_NO_LABELS),
                         ("recours_gracieux", YES_NO_LABELS)):
        for code in labels:
            assert views.fact_value(slot, code) != code, (slot, code)
    assert views.fact_value("recours_gracieux", UNKNOWN) == "Ne sait pas"
    assert views.fact_value("role", "agent_public") == "Agent public"
    for code in views.DOMAIN_LABELS:
        assert views.fact_value("domaine", code) != code


def test_lawyers_are_named() -> None:
    from datetime import datetime, timezone

    now = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)
    names = {2: "Maître Exemple"}
    case = {"id": 1, "state": "taken", "kind": "triage", "taken_by": 2,
            "opened_at": now.isoformat(), "channel": "x", "erasure_requested_at": None}
    assert views.state_label(case, 1, names) == "Pris en charge par Maître Exemple"
    assert views.queue_row(case, 1, names, now)["state_label"].endswith("Maître Exemple")
    message = {"id": 3, "author": "lawyer", "lawyer_id": 2, "text": "Bonjour", "at": None,
               "delivery": "sent"}
    assert views.after_handover({"messages": [message]}, names)[0]["who"] == "Maître Exemple"


def test_a_replys_delivery_is_the_channels_word_when_it_has_one() -> None:
    reply = {"id": 3, "author": "lawyer", "lawyer_id": 2, "text": "Bonjour", "at": None,
             "delivery": "sent"}
    # The web chat (no channel word): handed to the room, never « remis ».
    assert views.delivery_view(reply)["label"] == "envoyé"
    assert views.delivery_view({**reply, "delivery": "failed"})["label"] == (
        "non remis (gardé au dossier)")
    queued = {**reply, "channel_delivery": {"state": "queued", "at": None, "reason": None}}
    assert views.delivery_view(queued)["label"] == "en file d'attente"
    sent = {**reply, "channel_delivery": {"state": "sent", "at": "2026-12-07T13:05:00+00:00",
                                          "reason": None}}
    assert views.delivery_view(sent)["label"] == "envoyé le 7 déc. 14:05"
    failed = {**reply, "channel_delivery": {
        "state": "failed", "at": None, "reason": "la personne n'accepte plus vos messages privés"}}
    assert views.delivery_view(failed) == {
        "state": "failed", "label": "non remis : la personne n'accepte plus vos messages privés",
        "at": None, "reason": "la personne n'accepte plus vos messages privés"}
    case = {"messages": [failed]}
    assert views.deliveries(case) == {"m3": {
        "state": "failed", "label": "non remis : la personne n'accepte plus vos messages privés"}}
    [item] = views.after_handover(case, {})
    assert (item["delivery"], item["delivery_label"]) == (
        "failed", "non remis : la personne n'accepte plus vos messages privés")
