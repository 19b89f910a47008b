"""Tables for the pure parsers of actions/parsing.py and actions/domains.py."""

from __future__ import annotations

import pytest

from actions import domains
from actions.parsing import (
    asks_erasure,
    asks_to_stop,
    fold,
    is_unknown,
    parse_postcode,
    parse_yes_no,
)

NSP = "nsp"


def buttons(domain, response: str) -> list[dict]:
    return domain["responses"][response][0]["buttons"]


# --- fold / is_unknown -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Élu(e)  Préfecture", "elu(e) prefecture"),
        ("  ÇA   VA  ", "ca va"),
        ("\tA\nB ", "a b"),
        ("l’administration", "l'administration"),
        ("Crème brûlée", "creme brulee"),
        ("ﬁscalité", "fiscalite"),  # ligature decomposed
        ("oui\u200b", "oui"),  # zero-width space
        ("\u200fnon", "non"),  # right-to-left mark
        ("", ""),
        (None, ""),
    ],
)
def test_fold(text, folded) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    "text",
    ["je ne sais pas", "Je sais pas", "je sais plus", "j'sais pas", "J’sais pas", "jsp",
     "chais pas", "je c pas", "Aucune idée", "aucune idee", "j'ai oublié", "J’ai oublié",
     "pas sûr", "nsp", "idk", "Je ne sais pas trop", "euh… je ne sais plus",
     "je me souviens plus", "il ne sait pas"],
)
def test_is_unknown(text) -> None:
    assert is_unknown(text)


@pytest.mark.parametrize(
    "text",
    ["oui", "non", "je sais", "je sais parfaitement", "pas de problème", "la préfecture",
     "", "12/03/2025", "😡"],
)
def test_is_not_unknown(text) -> None:
    assert not is_unknown(text)


@pytest.mark.parametrize("text", ["je ne me souviens plus", "Je ne m'en souviens pas"])
def test_formal_dont_remember_is_unknown(text) -> None:
    assert is_unknown(text)


# --- parse_yes_no -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oui", "oui"), ("Oui", "oui"), ("OUI !", "oui"), ("ouais", "oui"), ("yes", "oui"),
        ("oui bien sûr", "oui"), ("bien sûr", "oui"), ("c'est exact", "oui"),
        ("je crois que oui", "oui"), ("👍", "oui"), ("✅", "oui"),
        ("non", "non"), ("Non merci", "non"), ("nan", "non"), ("non, jamais", "non"),
        ("pas encore", "non"), ("pas du tout", "non"), ("je pense pas", "non"),
        ("je crois que non", "non"), ("👎", "non"), ("❌", "non"), ("nn", "non"),
        ("je ne sais pas", NSP), ("Je ne sais pas", NSP), ("aucune idée", NSP),
        ("pas sûr", NSP), ("jsp", NSP),
        # The buttons are rendered as a numbered list: Oui / Non / Je ne sais pas.
        ("1", "oui"), ("2", "non"), ("3", NSP),
        ("\u200boui\u200b", "oui"), ("\ufeffnon", "non"),
        ("4", None), ("peut-être", None), ("bof", None), ("", None), ("   ", None),
        ("😡", None), ("\u200b", None), ("لا أعرف", None), ("absolument pas", None),
    ],
)
def test_parse_yes_no(text, expected) -> None:
    assert parse_yes_no(text) == expected


# --- parse_role -----------------------------------------------------------------------------------


# --- parse_mesure ---------------------------------------------------------------------------------


# --- parse_postcode -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("75011", "75011"), ("75 011", "75011"), ("01000", "01000"), ("95000", "95000"),
        ("mon code postal est 62300", "62300"), ("62300 Lens", "62300"),
        ("tél 06 12 34 56 78, code 75011", "75011"),
        # Corsica: 2A (20000-20199) and 2B (20200-20699) use 20xxx postcodes.
        ("20000", "20000"), ("20090", "20090"), ("20200", "20200"), ("20600", "20600"),
        # Overseas: 971 Guadeloupe (incl. Saint-Barthélemy 97133, Saint-Martin 97150),
        # 972 Martinique, 973 Guyane, 974 La Réunion, 975 Saint-Pierre, 976 Mayotte.
        ("97100", "97100"), ("97133", "97133"), ("97150", "97150"), ("97200", "97200"),
        ("97300", "97300"), ("97400", "97400"), ("97500", "97500"), ("97600", "97600"),
        ("\u200b62000", "62000"),
    ],
)
def test_parse_postcode_valid(text, expected) -> None:
    assert parse_postcode(text) == expected


@pytest.mark.parametrize(
    "text",
    ["00000", "00100", "96000", "99999", "97000", "97700", "1234", "123456", "0612345678",
     "2A004", "2B200", "Paris", "", "😡", "\u200b"],
)
def test_parse_postcode_invalid(text) -> None:
    assert parse_postcode(text) is None


def test_parse_postcode_none() -> None:
    assert parse_postcode(None) is None


@pytest.mark.parametrize("text", ["٧٥٠١١", "۷۵۰۱۱", "７５０１１"])
def test_parse_postcode_non_ascii_digits(text) -> None:
    assert parse_postcode(text) in ("75011", None)


# --- parse_field ----------------------------------------------------------------------------------


# --- domains --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        ("question_urbanisme", "urbanisme"), ("question_hors_champ", "hors_champ"),
        ("question_etrangers", "etrangers"), ("question_inconnu", None), ("greet", None),
        ("ask_lawyer", None), ("", None), (None, None),
        ("question_hors_champ__famille", "hors_champ"), ("question_urbanisme__x", "urbanisme"),
        ("greet__x", None),
    ],
)
def test_domain_from_intent(intent, expected) -> None:
    assert domains.from_intent(intent) == expected


def test_every_question_intent_is_a_domain(domain) -> None:
    question_intents = [i for i in domain["intents"] if str(i).startswith("question_")]
    topics = [i for i in question_intents if "__" in i]  # out-of-scope topics (intent_merge)
    assert topics and {domains.from_intent(i) for i in topics} == {"hors_champ"}
    assert sorted(domains.from_intent(i) for i in question_intents if i not in topics) == sorted(
        domains.ALL)


def test_domain_buttons_numbers_and_titles_agree(domain) -> None:
    for number, button in enumerate(buttons(domain, "utter_ask_domaine"), start=1):
        expected = domains.from_intent(button["payload"].lstrip("/"))
        assert expected is not None
        assert domains.parse_domain(button["payload"]) == expected
        assert domains.parse_domain(str(number)) == expected
        assert domains.parse_domain(button["title"]) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/question_fiscalite", "fiscalite"),
        ('/question_etrangers{"x": 1}', "etrangers"),
        ("un refus de titre de séjour", "etrangers"),
        ("mon permis de construire", "urbanisme"),
        ("je suis fonctionnaire", "fonction_publique"),
        ("ma taxe foncière", "fiscalite"),
        ("le conseil municipal", "collectivites"),
        ("un accident sur la voirie", "responsabilite_administrative"),
        ("fermeture administrative", "police_administrative"),
        ("un appel d'offres", "commande_publique"),
        ("un projet éolien", "environnement"),
        ("les élections municipales", "elections"),
        ("un problème de famille", "hors_champ"),
        ("/affirm", None), ("/question_", None), ("12", None), ("0", None), ("bof", None),
        ("", None), ("😡", None),
    ],
)
def test_parse_domain(text, expected) -> None:
    assert domains.parse_domain(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("plutôt la fiscalité", "fiscalite"), ("je ne sais plus", None),
     ("plusieurs amendes de la police", "police_administrative")],
)
def test_parse_domain_whole_words(text, expected) -> None:
    assert domains.parse_domain(text) == expected


# --- looks_like_chitchat --------------------------------------------------------------------------




def test_every_domain_has_a_french_label(domain) -> None:
    for button in buttons(domain, "utter_ask_domaine"):
        key = button["payload"].removeprefix("/question_")
        label = domains.LABELS.get(key)
        assert label and label != key and "_" not in label



@pytest.mark.parametrize("text", [
    "supprimez mes données", "effacez mes messages", "je veux que vous effaciez tout",
    "droit à l'oubli", "rgpd supprimer mes infos", "supprime cette conversation",
    "je ne veux pas que vous gardiez mes messages", "ne conservez rien de ce que j'ai envoyé",
    "détruisez mes messages svp", "suppr mes données stp", "delete my data",
    "jveux que vous supprimiez mes donnees", "article 17 rgpd, effacement"])
def test_asks_erasure(text: str) -> None:
    assert asks_erasure(text)


@pytest.mark.parametrize("text", [
    "suppression de ma prime REP+", "ils ont supprimé mon allocation", "stop",
    "Sorry, my French is not good. Can we speak English?", "la mairie a retiré mon permis"])
def test_words_near_erasure_are_not_erasure(text: str) -> None:
    assert not asks_erasure(text)


@pytest.mark.parametrize("text", [
    "stop", "arrête", "je veux arrêter", "laisse tomber", "annuler", "fin", "on arrête là",
    "je ne veux plus continuer", "arrêtez", "ça suffit", "j'arrête", "bon j'arrête là",
    "j'abandonne", "annule tout", "terminer", "quitter", "exit", "cancel", "oubliez ça",
    "on s'arrete la stp", "arrêtez de m'écrire"])
def test_asks_to_stop(text: str) -> None:
    assert asks_to_stop(text)


@pytest.mark.parametrize("text", [
    "non, personne n'est arrêté", "le préfet a arrêté la fermeture", "mon fils a été arrêté",
    "la fin de mon contrat"])
def test_words_near_stop_are_not_stop(text: str) -> None:
    assert not asks_to_stop(text)
