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
