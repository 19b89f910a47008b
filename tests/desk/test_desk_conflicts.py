"""Conflict check: folding of names and matching against the firm's clients (pure)."""

from __future__ import annotations

import pytest

from desk.conflicts import Client, conflict_check, fold_name


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mairie de Lens", "commune de lens"),
        ("Mairie d'Arras", "Ville d’Arras"),
        ("VILLE DE SAINT-ÉTIENNE", "commune de Saint Etienne"),
        ("Préfecture du Pas-de-Calais", "prefecture du pas de calais"),
        ("  Société   Générale ", "societe generale"),
        ("Commune du Touquet-Paris-Plage", "Mairie du Touquet Paris Plage"),
    ],
)
def test_fold_name_equates(a: str, b: str) -> None:
    assert fold_name(a) == fold_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mairie de Lens", "Mairie de Liévin"),
        ("Villeneuve-d'Ascq", "Ville d'Ascq"),  # "ville" inside a word is not the prefix
        ("Région Hauts-de-France", "Département du Nord"),
    ],
)
def test_fold_name_distinguishes(a: str, b: str) -> None:
    assert fold_name(a) != fold_name(b)


CLIENTS = [
    Client(1, "Commune d'Arras"),
    Client(2, "SCI Les Tilleuls"),
    Client(3, "Ville de Béthune"),
    Client(4, "X"),  # too short to match anything
]


@pytest.mark.parametrize(
    ("other_party", "expected"),
    [
        ("la mairie d'Arras", 1),
        ("MAIRIE DE ARRAS", 1),
        ("ville d'arras (service urbanisme)", 1),
        ("sci les tilleuls", 2),
        ("Commune de Bethune", 3),
        ("la préfecture du Pas-de-Calais", None),
        ("Mairie d'Arras-en-Lavedan", 1),  # over-flagging is the safe side: the lawyer checks
        ("Arrasville", None),
        ("x", None),
        ("", None),
        (None, None),
    ],
)
def test_conflict_check(other_party: str | None, expected: int | None) -> None:
    found = conflict_check(other_party, CLIENTS)
    assert (found.id if found else None) == expected
