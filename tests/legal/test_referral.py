"""Referral to the local Ordre des avocats (LEGAL.md S7) from postcodes, codes and names."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from actions import referral as rf

ROOT = Path(__file__).resolve().parents[2]
CSV_PATH = ROOT / "actions" / "data" / "barreaux" / "sieges_tgi_coj_tableau_iv_2015.csv"

METRO_CODES = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
OVERSEAS_CODES = ["971", "972", "973", "974", "975", "976"]


def _csv_rows() -> list[dict[str, str]]:
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("code", METRO_CODES + OVERSEAS_CODES)
def test_every_departement_has_an_ordre(code: str) -> None:
    ordres = rf.ordres_for_departement(code)
    assert ordres, code
    assert all(o.name and o.seat for o in ordres)
    by_code = rf.referral_for(code)
    assert by_code.departement_code == code and by_code.matched_by == "departement"
    assert by_code.ordres == ordres


@pytest.mark.parametrize("code", METRO_CODES + OVERSEAS_CODES)
def test_a_postcode_of_every_departement_resolves(code: str) -> None:
    # A typical postcode of each département: 20000 / 20200 for Corsica, 97x00 overseas.
    postcode = {"2A": "20000", "2B": "20200"}.get(code, code.ljust(5, "0"))
    result = rf.referral_for(postcode)
    assert result.departement_code == code
    assert result.departement_name == rf.DEPARTEMENTS[code]
    assert result.ordres


KNOWN = [
    ("92100", "92", "Hauts-de-Seine", "Barreau des Hauts-de-Seine", "Nanterre"),
    ("93000", "93", "Seine-Saint-Denis", "Barreau de la Seine-Saint-Denis", "Bobigny"),
    ("94000", "94", "Val-de-Marne", "Barreau du Val-de-Marne", "Créteil"),
    ("95000", "95", "Val-d'Oise", "Barreau du Val-d'Oise", "Pontoise"),
    ("91000", "91", "Essonne", "Barreau de l'Essonne", "Évry-Courcouronnes"),
    ("01000", "01", "Ain", "Barreau de l'Ain", "Bourg-en-Bresse"),
    ("62000", "62", "Pas-de-Calais", "Barreau d'Arras", "Arras"),
    ("75011", "75", "Paris", "Barreau de Paris", "Paris"),
    ("13001", "13", "Bouches-du-Rhône", "Barreau de Marseille", "Marseille"),
    ("59000", "59", "Nord", "Barreau de Lille", "Lille"),
    ("72000", "72", "Sarthe", "Barreau du Mans", "Le Mans"),
    ("76600", "76", "Seine-Maritime", "Barreau du Havre", "Le Havre"),
    ("20000", "2A", "Corse-du-Sud", "Barreau d'Ajaccio", "Ajaccio"),
    ("20200", "2B", "Haute-Corse", "Barreau de Bastia", "Bastia"),
    ("97300", "973", "Guyane", "Barreau de la Guyane", "Cayenne"),
    ("97200", "972", "Martinique", "Barreau de la Martinique", "Fort-de-France"),
    ("97600", "976", "Mayotte", "Barreau de Mayotte", "Mamoudzou"),
    ("97410", "974", "La Réunion", "Barreau de Saint-Pierre de la Réunion", "Saint-Pierre"),
    ("66000", "66", "Pyrénées-Orientales", "Barreau des Pyrénées-Orientales", "Perpignan"),
    ("12000", "12", "Aveyron", "Barreau de l'Aveyron", "Rodez"),
]


@pytest.mark.parametrize("postcode,code,dep_name,ordre,seat", KNOWN)
def test_known_pairs(postcode: str, code: str, dep_name: str, ordre: str, seat: str) -> None:
    result = rf.referral_for(postcode)
    assert (result.departement_code, result.departement_name) == (code, dep_name)
    assert [(o.name, o.seat) for o in result.ordres] == [(ordre, seat)]
    assert result.matched_by == "postcode"


def test_postcode_outside_seat_towns_lists_every_ordre() -> None:
    # 62100 (Calais) is no seat town: the four Ordres of the Pas-de-Calais with their seats.
    result = rf.referral_for("62100")
    assert {o.seat for o in result.ordres} == {"Arras", "Béthune", "Boulogne-sur-Mer",
                                               "Saint-Omer"}
    assert any("plusieurs tribunaux" in note for note in result.notes)


def test_merged_barreaux_are_listed_once() -> None:
    meuse = rf.ordres_for_departement("55")
    assert [o.name for o in meuse] == ["Barreau de la Meuse"]
    assert set(meuse[0].seat.split(" / ")) == {"Bar-le-Duc", "Verdun"}
    guadeloupe = rf.referral_for("97150")  # Saint-Martin
    assert guadeloupe.departement_code == "971"
    assert [o.name for o in guadeloupe.ordres] == [
        "Barreau de la Guadeloupe, Saint-Martin et Saint-Barthélemy"]


def test_saint_pierre_et_miquelon_has_agrees_not_a_barreau() -> None:
    result = rf.referral_for("97500")
    assert [o.kind for o in result.ordres] == ["agrees"]
    assert any("pas de barreau" in note for note in result.notes)


@pytest.mark.parametrize("name,code,ordre", [
    ("Arras", "62", "Barreau d'Arras"),
    ("Béthune", "62", "Barreau de Béthune"),
    ("saint-etienne", "42", "Barreau de Saint-Étienne"),
    ("ST MALO", "35", "Barreau de Saint-Malo-Dinan"),
    ("Le Mans", "72", "Barreau du Mans"),
    ("Nanterre", "92", "Barreau des Hauts-de-Seine"),
    ("Bobigny", "93", "Barreau de la Seine-Saint-Denis"),
    ("Évry", "91", "Barreau de l'Essonne"),
    ("Cergy", "95", "Barreau du Val-d'Oise"),
    ("Morlaix", "29", "Barreau de Brest"),  # former seat, now tribunal de Brest
    ("Millau", "12", "Barreau de l'Aveyron"),  # chambre détachée, not a barreau
    ("Dole", "39", "Barreau du Jura"),  # chambre détachée
    ("Cherbourg", "50", "Barreau de Cherbourg"),
    ("Pas-de-Calais", "62", None),  # département name: all four Ordres
])
def test_commune_names(name: str, code: str, ordre: str | None) -> None:
    result = rf.referral_for(name)
    assert result.departement_code == code
    if ordre is not None:
        assert [o.name for o in result.ordres] == [ordre]


def test_prefecture_that_is_not_a_seat_gives_all_ordres_of_the_departement() -> None:
    result = rf.referral_for("Saint-Lô")
    assert result.departement_code == "50"
    assert {o.seat for o in result.ordres} == {"Cherbourg-en-Cotentin", "Coutances"}


@pytest.mark.parametrize("bad", ["", "   ", "abc", "999999", "00000", "96000", "1234", "75O11",
                                 "20900", "98000", "98600", "97700", "---", "20", "99"])
def test_malformed_or_unknown_input(bad: str) -> None:
    with pytest.raises(rf.ReferralError):
        rf.referral_for(bad)


@pytest.mark.parametrize("bad", [None, 62000, 3.5, ["62000"], b"62000"])
def test_none_like_input(bad: object) -> None:
    with pytest.raises(rf.MalformedLocation):
        rf.referral_for(bad)


@pytest.mark.parametrize("name", ["Saint-Denis", "saint pierre", "Vienne"])
def test_ambiguous_names_ask_for_the_postcode(name: str) -> None:
    with pytest.raises(rf.AmbiguousLocation) as info:
        rf.referral_for(name)
    assert len(info.value.candidates) == 2


@pytest.mark.parametrize("postcode,code", [
    ("20000", "2A"), ("20090", "2A"), ("20199", "2A"), ("20200", "2B"), ("20600", "2B"),
    ("20690", "2B"), ("97100", "971"), ("97133", "971"), ("97400", "974"), ("97500", "975"),
    ("01000", "01"), ("95000", "95"), ("98800", "988"), ("98714", "987"),
])
def test_departement_from_postcode(postcode: str, code: str) -> None:
    assert rf.departement_from_postcode(postcode) == code


@pytest.mark.parametrize("seat,expected", [
    ("Arras", "Barreau d'Arras"), ("Le Mans", "Barreau du Mans"), ("Le Havre", "Barreau du Havre"),
    ("Les Sables-d'Olonne", "Barreau des Sables-d'Olonne"), ("Évreux", "Barreau d'Évreux"),
    ("La Roche-sur-Yon", "Barreau de La Roche-sur-Yon"), ("Orléans", "Barreau d'Orléans"),
    ("Paris", "Barreau de Paris"), ("Ajaccio", "Barreau d'Ajaccio"),
])
def test_default_name_elision(seat: str, expected: str) -> None:
    # "99" is no département, so no override can apply: the default rule is tested alone.
    assert rf.barreau_name("99", seat) == expected


def test_only_seats_in_force_are_barreaux() -> None:
    rows = _csv_rows()
    in_force = {r["siege"] for r in rows if r["in_force_at_2015_version"] == "yes"
                and r["type"] in ("TGI", "TPI")}
    not_barreaux = {r["siege"] for r in rows if r["in_force_at_2015_version"] == "no"
                    or r["type"] == "TGI_chambre_detachee"} - in_force
    seats = set()
    for code in rf.DEPARTEMENTS:
        for ordre in rf.ordres_for_departement(code):
            seats.update(ordre.seat.split(" / "))
    assert not seats & not_barreaux
    assert {"Marmande", "Millau", "Guingamp", "Dole", "Saint-Laurent-du-Maroni",
            "Hazebrouck", "Morlaix"} <= not_barreaux
    # Every seat in force (167 = 164 TGI + 3 TPI) is the seat of an Ordre, spelling corrected.
    expected = {rf.SEAT_DISPLAY.get(seat, seat) for seat in in_force}
    assert expected <= seats
    assert sum(1 for r in rows if r["in_force_at_2015_version"] == "yes"
               and r["type"] in ("TGI", "TPI")) == 167


def test_tables_are_consistent_with_the_data() -> None:
    seats = {(code, seat) for code in rf.DEPARTEMENTS
             for ordre in rf.ordres_for_departement(code) for seat in ordre.seat.split(" / ")}
    assert set(rf.BARREAU_OVERRIDES) <= seats
    assert set(rf.SEAT_POSTCODES) <= seats
    for (code, _seat), postcodes in rf.SEAT_POSTCODES.items():
        assert all(rf.departement_from_postcode(p) == code for p in postcodes)
    for (code, _former), successor in rf.SUCCESSOR_SEATS.items():
        assert (code, successor) in seats
    # In every département with several Ordres, each seat town has its postcodes.
    for code in rf.DEPARTEMENTS:
        ordres = rf.ordres_for_departement(code)
        if len(ordres) > 1:
            for ordre in ordres:
                for seat in ordre.seat.split(" / "):
                    assert (code, seat) in rf.SEAT_POSTCODES, (code, seat)


def test_pointers_and_dict_output() -> None:
    urls = {p.url for p in rf.referral_pointers()}
    assert urls == {"https://www.cnb.avocat.fr/fr/annuaire-des-avocats-de-france",
                    "https://www.justice.fr/recherche/annuaires"}
    data = rf.referral_with_pointers("62000")
    assert data["departement"] == {"code": "62", "name": "Pas-de-Calais"}
    assert data["ordres"] == [{"name": "Barreau d'Arras", "seat": "Arras", "kind": "barreau"}]
    assert len(data["pointers"]) == 2
