"""The pure parts of the search (desk/search.py) and of the person's export (desk/access.py)."""

from __future__ import annotations

from datetime import date

import pytest

from desk import access, cases, search


def test_the_criteria_are_checked_and_audited_without_their_text() -> None:
    query = search.parse({"q": "  Préfecture   NORD ", "handle": "@JeanneD", "tier": "P0",
                          "state": "closed", "from": "2026-11-01", "to": "2026-11-30",
                          "label": " famille  Martin ", "domain": "etrangers"})
    assert query.words == ("prefecture", "nord") and query.handle == "jeanned"
    assert (query.opened_from, query.opened_to) == (date(2026, 11, 1), date(2026, 11, 30))
    assert query.label == "famille Martin"
    assert query.criteria() == "domain=etrangers tier=P0 state=closed q handle from to label"
    assert search.parse({}).criteria() == ""
    for bad in ({"tier": "P5"}, {"state": "x"}, {"from": "hier"}, {"domain": "a;b"},
                {"from": "2026-11-02", "to": "2026-11-01"}, {"q": "x" * 201}, {"q": ["a"]}):
        with pytest.raises(cases.InvalidInput):
            search.parse(bad)


def test_every_word_must_be_in_some_value_of_the_card() -> None:
    card = {"partie_adverse": "Préfecture du Nord", "faits": ["OQTF le 2 décembre"],
            "domaine": "etrangers", "urgence": None}
    assert search.matches(search.parse({"q": "prefecture decembre"}), card, None)
    assert not search.matches(search.parse({"q": "prefecture lens"}), card, None)
    assert search.matches(search.parse({"handle": "jean"}), card, "JeanneD")
    assert not search.matches(search.parse({"handle": "jean"}), card, None)
    assert not search.matches(search.parse({"domain": "urbanisme"}), card, "x")


def test_the_text_export_is_in_french_and_names_what_it_leaves_out() -> None:
    report = {
        "title": "Données détenues par le cabinet : droit d'accès (RGPD, article 15)",
        "generated_at": "2026-12-07T18:00:00+00:00", "conversation_id": "x:42",
        "channel": "x", "handles": ["JeanneD"],
        "conversation": {"consent": [{"value": "given", "at": "2026-12-07T09:00:00+00:00"}],
                         "messages": [{"author": "person", "text": "/affirm",
                                       "at": "2026-12-07T09:01:00+00:00"}]},
        "cases": [{"id": 3, "state": "closed", "outcome": "referred", "kind": "referral",
                   "urgency": "OUT", "deadline": None, "channel": "x", "handle": "JeanneD",
                   "opened_at": "2026-12-07T09:02:00+00:00", "taken_at": None,
                   "closed_at": "2026-12-07T10:00:00+00:00", "erasure_requested_at": None,
                   "fact_card": {"domaine": "hors_champ", "code_postal": "59000"},
                   "transcript": [], "messages": [], "labels": [],
                   "history": [{"at": "2026-12-07T10:00:00+00:00", "action": "case.close",
                                "lawyer": "Maître Exemple"}]}],
        "not_included": list(access.NOT_INCLUDED),
    }
    text = access.to_text(report)
    for expected in ("Établi le 7 déc. 19:00 (heure de Paris).",
                     "Votre conversation : x:42 · canal : X (message privé) · @JeanneD",
                     "[7 déc. 10:00] consentement donné", "Vous : Oui (bouton)",
                     "== Dossier n° 3 ==", "état : Clos · Orienté ailleurs",
                     "Domaine : Hors champ", "Code postal : 59000",
                     "[7 déc. 11:00] dossier clos · Maître Exemple", "Aucun.",
                     "Les notes internes des avocats"):
        assert expected in text, expected
    assert "hors_champ" not in text and "/affirm" not in text
