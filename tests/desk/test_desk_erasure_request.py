"""desk.erasure_request: which messages written during a handover ask for erasure."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import UserUttered

from desk.erasure_request import asks_erasure


@pytest.mark.parametrize("text", [
    "supprimez mes données", "Supprimez mes données svp", "effacez toutes mes données",
    "je veux que vous effaciez mes messages", "merci de supprimer cette conversation",
    "/delete_data",
])
def test_an_erasure_request_by_its_words(text: str) -> None:
    assert asks_erasure({"event": "user", "text": text, "parse_data": {}})
    assert asks_erasure(UserUttered(text, intent={"name": "inform", "confidence": 0.5}))


@pytest.mark.parametrize("text", [
    "j'ai reçu l'arrêté le 18 novembre", "la mairie a supprimé mon permis", "merci beaucoup",
    "ils ont effacé la date sur le courrier",
    "la préfecture a retiré toutes les informations du dossier",
    "la mairie a supprimé les données du cadastre",
])
def test_other_messages_are_not(text: str) -> None:
    assert not asks_erasure({"event": "user", "text": text, "parse_data": {}})


def test_the_nlu_intent_counts_whatever_the_words() -> None:
    event = UserUttered("oubliez-moi", intent={"name": "delete_data", "confidence": 0.8})
    assert asks_erasure(event)
    assert asks_erasure(event.as_dict())
