"""actions/places.py: the places a story names (pure)."""

from __future__ import annotations

import pytest

from actions.dates_fr import fold_keep
from actions.places import departement_end, named_places, town_case


def names(text: str) -> list[str]:
    return [name for name, _, _ in named_places(text, fold_keep(text))]


@pytest.mark.parametrize(("text", "expected"), [
    ("nous avons une grange à Saint-Émilion", ["Saint-Émilion"]),
    ("je tiens un stand sur le marché de sète le samedi", ["Sète"]),
    ("habitante de saint-jean-de-luz, je conteste", ["Saint-Jean-de-Luz"]),
    ("le maire de notre commune (Saint-Jory) a refusé", ["Saint-Jory"]),
    ("on habite a moins de 3 km du collège", []),
    ("ma maison a été déclarée en péril", []),
    ("Bonjour Madame, à Noël la mairie a fermé", []),
])
def test_named_places(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_a_town_in_lower_case_gets_its_capitals() -> None:
    assert town_case("saint-jean-de-luz") == "Saint-Jean-de-Luz"
    assert town_case("montreuil") == "Montreuil"


def test_a_departement_name_of_several_words_is_kept_whole() -> None:
    folded = fold_keep("préfecture de seine maritime, arrêté du 2")
    start = folded.index("seine")
    assert folded[start:departement_end(folded, start, start + len("seine"))] == "seine maritime"


def test_a_placeless_prefet_gets_the_one_departement_the_story_names() -> None:
    from actions.places import departement_named
    assert departement_named("une association dans le Doubs ; le préfet a signé") == "Doubs"
    assert departement_named("on habite en Gironde") == "Gironde"
    assert departement_named("notre offre pour le lot 3, dans le lot 3 du marché") is None
    assert departement_named("dans la Somme et dans le Nord") is None  # two: none shown
