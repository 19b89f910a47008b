"""Neutral referral to the local Ordre des avocats (LEGAL.md S7, N6).

A postal code, a département code, or the name of a court-seat town or préfecture is mapped to
its département, then to the Ordre(s) des avocats established there. Each barreau is
"établi auprès d'un tribunal judiciaire" (loi n° 71-1130, art. 15), so the key is the seat of the
tribunal judiciaire (former TGI, 164 seats since 1 Jan 2020, loi n° 2019-222) and, overseas, of
the tribunal de première instance.

Data: ``actions/data/barreaux/sieges_tgi_coj_tableau_iv_2015.csv`` (COJ annex, Tableau IV, version
of 10 April 2015, from etalab/codes-juridiques-francais; Licence Ouverte). Only seats in force are
used; chambres détachées (Marmande, Dole, Saint-Laurent-du-Maroni, Millau, Guingamp) are not
barreaux and lead to the Ordre of their tribunal. The CSV gives no barreau names: the tables
below (overrides for barreaux named after the département or with double names, corrected
spellings, seat postcodes, préfectures) come from general knowledge and a few public pages; see
``actions/data/barreaux/README.md`` for what was checked and what is still to verify.

Limits: commune names are recognised only for seat towns, former seats and préfectures (no
external commune list); where a département has several tribunaux judiciaires and the person's
commune is not one of their seat towns, every Ordre of the département is returned with its seat.
The lawyer validates every referral before it is sent (N6).

Command line (prints JSON; exit code 2 with a JSON error for bad input)::

    python -m actions.referral 62000
"""

from __future__ import annotations

import csv
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "AmbiguousLocation",
    "DEPARTEMENTS",
    "MalformedLocation",
    "Ordre",
    "Pointer",
    "Referral",
    "ReferralError",
    "UnknownLocation",
    "barreau_name",
    "departement_from_postcode",
    "main",
    "ordres_for_departement",
    "referral_for",
    "referral_pointers",
    "referral_with_pointers",
]

DATA_FILE = Path(__file__).parent / "data" / "barreaux" / "sieges_tgi_coj_tableau_iv_2015.csv"

DEPARTEMENTS: dict[str, str] = {
    "01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence",
    "05": "Hautes-Alpes", "06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes",
    "09": "Ariège", "10": "Aube", "11": "Aude", "12": "Aveyron", "13": "Bouches-du-Rhône",
    "14": "Calvados", "15": "Cantal", "16": "Charente", "17": "Charente-Maritime", "18": "Cher",
    "19": "Corrèze", "2A": "Corse-du-Sud", "2B": "Haute-Corse", "21": "Côte-d'Or",
    "22": "Côtes-d'Armor", "23": "Creuse", "24": "Dordogne", "25": "Doubs", "26": "Drôme",
    "27": "Eure", "28": "Eure-et-Loir", "29": "Finistère", "30": "Gard", "31": "Haute-Garonne",
    "32": "Gers", "33": "Gironde", "34": "Hérault", "35": "Ille-et-Vilaine", "36": "Indre",
    "37": "Indre-et-Loire", "38": "Isère", "39": "Jura", "40": "Landes", "41": "Loir-et-Cher",
    "42": "Loire", "43": "Haute-Loire", "44": "Loire-Atlantique", "45": "Loiret", "46": "Lot",
    "47": "Lot-et-Garonne", "48": "Lozère", "49": "Maine-et-Loire", "50": "Manche",
    "51": "Marne", "52": "Haute-Marne", "53": "Mayenne", "54": "Meurthe-et-Moselle",
    "55": "Meuse", "56": "Morbihan", "57": "Moselle", "58": "Nièvre", "59": "Nord", "60": "Oise",
    "61": "Orne", "62": "Pas-de-Calais", "63": "Puy-de-Dôme", "64": "Pyrénées-Atlantiques",
    "65": "Hautes-Pyrénées", "66": "Pyrénées-Orientales", "67": "Bas-Rhin", "68": "Haut-Rhin",
    "69": "Rhône", "70": "Haute-Saône", "71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie",
    "74": "Haute-Savoie", "75": "Paris", "76": "Seine-Maritime", "77": "Seine-et-Marne",
    "78": "Yvelines", "79": "Deux-Sèvres", "80": "Somme", "81": "Tarn", "82": "Tarn-et-Garonne",
    "83": "Var", "84": "Vaucluse", "85": "Vendée", "86": "Vienne", "87": "Haute-Vienne",
    "88": "Vosges", "89": "Yonne", "90": "Territoire de Belfort", "91": "Essonne",
    "92": "Hauts-de-Seine", "93": "Seine-Saint-Denis", "94": "Val-de-Marne", "95": "Val-d'Oise",
    "971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon", "976": "Mayotte",
    "987": "Polynésie française", "988": "Nouvelle-Calédonie",
}

# Préfecture (chef-lieu) of each département; 975, 987, 988 are not départements.
PREFECTURES: dict[str, str] = {
    "01": "Bourg-en-Bresse", "02": "Laon", "03": "Moulins", "04": "Digne-les-Bains",
    "05": "Gap", "06": "Nice", "07": "Privas", "08": "Charleville-Mézières", "09": "Foix",
    "10": "Troyes", "11": "Carcassonne", "12": "Rodez", "13": "Marseille", "14": "Caen",
    "15": "Aurillac", "16": "Angoulême", "17": "La Rochelle", "18": "Bourges", "19": "Tulle",
    "2A": "Ajaccio", "2B": "Bastia", "21": "Dijon", "22": "Saint-Brieuc", "23": "Guéret",
    "24": "Périgueux", "25": "Besançon", "26": "Valence", "27": "Évreux", "28": "Chartres",
    "29": "Quimper", "30": "Nîmes", "31": "Toulouse", "32": "Auch", "33": "Bordeaux",
    "34": "Montpellier", "35": "Rennes", "36": "Châteauroux", "37": "Tours", "38": "Grenoble",
    "39": "Lons-le-Saunier", "40": "Mont-de-Marsan", "41": "Blois", "42": "Saint-Étienne",
    "43": "Le Puy-en-Velay", "44": "Nantes", "45": "Orléans", "46": "Cahors", "47": "Agen",
    "48": "Mende", "49": "Angers", "50": "Saint-Lô", "51": "Châlons-en-Champagne",
    "52": "Chaumont", "53": "Laval", "54": "Nancy", "55": "Bar-le-Duc", "56": "Vannes",
    "57": "Metz", "58": "Nevers", "59": "Lille", "60": "Beauvais", "61": "Alençon", "62": "Arras",
    "63": "Clermont-Ferrand", "64": "Pau", "65": "Tarbes", "66": "Perpignan", "67": "Strasbourg",
    "68": "Colmar", "69": "Lyon", "70": "Vesoul", "71": "Mâcon", "72": "Le Mans",
    "73": "Chambéry", "74": "Annecy", "75": "Paris", "76": "Rouen", "77": "Melun",
    "78": "Versailles", "79": "Niort", "80": "Amiens", "81": "Albi", "82": "Montauban",
    "83": "Toulon", "84": "Avignon", "85": "La Roche-sur-Yon", "86": "Poitiers",
    "87": "Limoges", "88": "Épinal", "89": "Auxerre", "90": "Belfort",
    "91": "Évry-Courcouronnes", "92": "Nanterre", "93": "Bobigny", "94": "Créteil",
    "95": "Cergy", "971": "Basse-Terre", "972": "Fort-de-France", "973": "Cayenne",
    "974": "Saint-Denis", "976": "Mamoudzou",
}

# Seat spellings in the 2015 source corrected to today's names.
SEAT_DISPLAY = {
    "Evry": "Évry-Courcouronnes",  # Évry merged into Évry-Courcouronnes (2019)
    "Epinal": "Épinal",
    "Evreux": "Évreux",
    "Saint-Etienne": "Saint-Étienne",
    "Cherbourb Octeville": "Cherbourg-en-Cotentin",  # source typo; commune merged in 2016
    "Briey": "Val de Briey",  # commune merged in 2017
}

# Barreaux not named "Barreau de <seat>", keyed by (département, seat). Sources and confidence
# are listed in actions/data/barreaux/README.md.
BARREAU_OVERRIDES: dict[tuple[str, str], str] = {
    ("01", "Bourg-en-Bresse"): "Barreau de l'Ain",
    ("04", "Digne-les-Bains"): "Barreau des Alpes-de-Haute-Provence",
    ("05", "Gap"): "Barreau des Hautes-Alpes",
    ("07", "Privas"): "Barreau de l'Ardèche",
    ("08", "Charleville-Mézières"): "Barreau des Ardennes",
    ("09", "Foix"): "Barreau de l'Ariège",
    ("10", "Troyes"): "Barreau de l'Aube",
    ("12", "Rodez"): "Barreau de l'Aveyron",
    ("16", "Angoulême"): "Barreau de la Charente",
    ("17", "La Rochelle"): "Barreau de La Rochelle-Rochefort",
    ("19", "Brive-la-Gaillarde"): "Barreau de Brive",
    ("23", "Guéret"): "Barreau de la Creuse",
    ("24", "Bergerac"): "Barreau de Bergerac-Sarlat",
    ("26", "Valence"): "Barreau de la Drôme",
    ("27", "Évreux"): "Barreau de l'Eure",
    ("32", "Auch"): "Barreau du Gers",
    ("35", "Saint-Malo"): "Barreau de Saint-Malo-Dinan",
    ("39", "Lons-le-Saunier"): "Barreau du Jura",
    ("43", "Le Puy-en-Velay"): "Barreau de la Haute-Loire",
    ("46", "Cahors"): "Barreau du Lot",
    ("48", "Mende"): "Barreau de la Lozère",
    ("50", "Coutances"): "Barreau de Coutances-Avranches",
    ("50", "Cherbourg-en-Cotentin"): "Barreau de Cherbourg",
    ("52", "Chaumont"): "Barreau de la Haute-Marne",
    ("55", "Bar-le-Duc"): "Barreau de la Meuse",
    ("55", "Verdun"): "Barreau de la Meuse",
    ("54", "Val de Briey"): "Barreau de Val de Briey",
    ("66", "Perpignan"): "Barreau des Pyrénées-Orientales",
    ("70", "Vesoul"): "Barreau de la Haute-Saône",
    ("79", "Niort"): "Barreau des Deux-Sèvres",
    ("82", "Montauban"): "Barreau de Tarn-et-Garonne",
    ("03", "Cusset"): "Barreau de Cusset-Vichy",
    ("91", "Évry-Courcouronnes"): "Barreau de l'Essonne",
    ("92", "Nanterre"): "Barreau des Hauts-de-Seine",
    ("93", "Bobigny"): "Barreau de la Seine-Saint-Denis",
    ("94", "Créteil"): "Barreau du Val-de-Marne",
    ("95", "Pontoise"): "Barreau du Val-d'Oise",
    ("971", "Basse-Terre"): "Barreau de la Guadeloupe, Saint-Martin et Saint-Barthélemy",
    ("971", "Pointe-à-Pitre"): "Barreau de la Guadeloupe, Saint-Martin et Saint-Barthélemy",
    ("972", "Fort-de-France"): "Barreau de la Martinique",
    ("973", "Cayenne"): "Barreau de la Guyane",
    ("974", "Saint-Denis"): "Barreau de Saint-Denis de la Réunion",
    ("974", "Saint-Pierre"): "Barreau de Saint-Pierre de la Réunion",
    ("976", "Mamoudzou"): "Barreau de Mayotte",
    # No barreau in Saint-Pierre-et-Miquelon: "agréés" act before its courts.
    ("975", "Saint-Pierre"): "Agréés près les tribunaux de Saint-Pierre-et-Miquelon "
    "(pas de barreau local)",
}

# Postal codes of seat towns, for départements with several tribunaux judiciaires. A code may
# also cover small neighbouring communes; they are usually in the same ressort (to verify).
SEAT_POSTCODES: dict[tuple[str, str], tuple[str, ...]] = {
    ("02", "Laon"): ("02000",),
    ("02", "Saint-Quentin"): ("02100",),
    ("02", "Soissons"): ("02200",),
    ("03", "Cusset"): ("03300",),
    ("03", "Montluçon"): ("03100",),
    ("03", "Moulins"): ("03000",),
    ("06", "Grasse"): ("06130", "06520"),
    ("06", "Nice"): ("06000", "06100", "06200", "06300"),
    ("11", "Carcassonne"): ("11000",),
    ("11", "Narbonne"): ("11100",),
    ("13", "Aix-en-Provence"): ("13080", "13090", "13100", "13290", "13540"),
    ("13", "Marseille"): tuple(f"130{n:02d}" for n in range(1, 17)),
    ("13", "Tarascon"): ("13150",),
    ("14", "Caen"): ("14000",),
    ("14", "Lisieux"): ("14100",),
    ("17", "La Rochelle"): ("17000",),
    ("17", "Saintes"): ("17100",),
    ("19", "Brive-la-Gaillarde"): ("19100",),
    ("19", "Tulle"): ("19000",),
    ("24", "Bergerac"): ("24100",),
    ("24", "Périgueux"): ("24000",),
    ("25", "Besançon"): ("25000",),
    ("25", "Montbéliard"): ("25200",),
    ("29", "Brest"): ("29200",),
    ("29", "Quimper"): ("29000",),
    ("30", "Alès"): ("30100",),
    ("30", "Nîmes"): ("30000", "30900"),
    ("31", "Saint-Gaudens"): ("31800",),
    ("31", "Toulouse"): ("31000", "31100", "31200", "31300", "31400", "31500"),
    ("33", "Bordeaux"): ("33000", "33100", "33200", "33300", "33800"),
    ("33", "Libourne"): ("33500",),
    ("34", "Béziers"): ("34500",),
    ("34", "Montpellier"): ("34000", "34070", "34080", "34090"),
    ("35", "Rennes"): ("35000", "35200", "35700"),
    ("35", "Saint-Malo"): ("35400",),
    ("38", "Bourgoin-Jallieu"): ("38300",),
    ("38", "Grenoble"): ("38000", "38100"),
    ("38", "Vienne"): ("38200",),
    ("40", "Dax"): ("40100",),
    ("40", "Mont-de-Marsan"): ("40000",),
    ("42", "Roanne"): ("42300",),
    ("42", "Saint-Étienne"): ("42000", "42100"),
    ("44", "Nantes"): ("44000", "44100", "44200", "44300"),
    ("44", "Saint-Nazaire"): ("44600",),
    ("45", "Montargis"): ("45200",),
    ("45", "Orléans"): ("45000", "45100"),
    ("49", "Angers"): ("49000", "49100"),
    ("49", "Saumur"): ("49400",),
    ("50", "Cherbourg-en-Cotentin"): ("50100",),
    ("50", "Coutances"): ("50200",),
    ("51", "Châlons-en-Champagne"): ("51000",),
    ("51", "Reims"): ("51100",),
    ("54", "Nancy"): ("54000", "54100"),
    ("54", "Val de Briey"): ("54150",),
    ("55", "Bar-le-Duc"): ("55000",),
    ("55", "Verdun"): ("55100",),
    ("56", "Lorient"): ("56100",),
    ("56", "Vannes"): ("56000",),
    ("57", "Metz"): ("57000", "57050", "57070"),
    ("57", "Sarreguemines"): ("57200",),
    ("57", "Thionville"): ("57100",),
    ("59", "Avesnes-sur-Helpe"): ("59440",),
    ("59", "Cambrai"): ("59400",),
    ("59", "Douai"): ("59500",),
    ("59", "Dunkerque"): ("59140", "59240", "59640"),
    ("59", "Lille"): ("59000", "59160", "59260", "59777", "59800"),
    ("59", "Valenciennes"): ("59300",),
    ("60", "Beauvais"): ("60000",),
    ("60", "Compiègne"): ("60200",),
    ("60", "Senlis"): ("60300",),
    ("61", "Alençon"): ("61000",),
    ("61", "Argentan"): ("61200",),
    ("62", "Arras"): ("62000",),
    ("62", "Béthune"): ("62400",),
    ("62", "Boulogne-sur-Mer"): ("62200",),
    ("62", "Saint-Omer"): ("62500",),
    ("64", "Bayonne"): ("64100",),
    ("64", "Pau"): ("64000",),
    ("67", "Saverne"): ("67700",),
    ("67", "Strasbourg"): ("67000", "67100", "67200"),
    ("68", "Colmar"): ("68000",),
    ("68", "Mulhouse"): ("68100", "68200"),
    ("69", "Lyon"): tuple(f"6900{n}" for n in range(1, 10)),
    ("69", "Villefranche-sur-Saône"): ("69400",),
    ("71", "Chalon-sur-Saône"): ("71100",),
    ("71", "Mâcon"): ("71000",),
    ("73", "Albertville"): ("73200",),
    ("73", "Chambéry"): ("73000",),
    ("74", "Annecy"): ("74000",),
    ("74", "Bonneville"): ("74130",),
    ("74", "Thonon-les-Bains"): ("74200",),
    ("76", "Dieppe"): ("76200",),
    ("76", "Le Havre"): ("76600", "76610", "76620"),
    ("76", "Rouen"): ("76000", "76100"),
    ("77", "Fontainebleau"): ("77300",),
    ("77", "Meaux"): ("77100",),
    ("77", "Melun"): ("77000",),
    ("81", "Albi"): ("81000",),
    ("81", "Castres"): ("81100",),
    ("83", "Draguignan"): ("83300",),
    ("83", "Toulon"): ("83000", "83100", "83200"),
    ("84", "Avignon"): ("84000",),
    ("84", "Carpentras"): ("84200",),
    ("85", "La Roche-sur-Yon"): ("85000",),
    ("85", "Les Sables-d'Olonne"): ("85100",),
    ("89", "Auxerre"): ("89000",),
    ("89", "Sens"): ("89100",),
    ("971", "Basse-Terre"): ("97100",),
    ("971", "Pointe-à-Pitre"): ("97110",),
    ("974", "Saint-Denis"): ("97400", "97490"),
    ("974", "Saint-Pierre"): ("97410",),
}

# Former seats (abolished 2009-2011) and chambres détachées -> the seat whose Ordre now serves
# them (carte judiciaire reform; general knowledge, to verify).
SUCCESSOR_SEATS: dict[tuple[str, str], str] = {
    ("01", "Belley"): "Bourg-en-Bresse",
    ("12", "Millau"): "Rodez",
    ("17", "Rochefort"): "La Rochelle",
    ("22", "Guingamp"): "Saint-Brieuc",
    ("27", "Bernay"): "Évreux",
    ("29", "Morlaix"): "Brest",
    ("39", "Dole"): "Lons-le-Saunier",
    ("42", "Montbrison"): "Saint-Étienne",
    ("47", "Marmande"): "Agen",
    ("50", "Avranches"): "Coutances",
    ("59", "Hazebrouck"): "Dunkerque",
    ("63", "Riom"): "Clermont-Ferrand",
    ("70", "Lure"): "Vesoul",
    ("79", "Bressuire"): "Niort",
    ("80", "Abbeville"): "Amiens",
    ("80", "Péronne"): "Amiens",
    ("88", "Saint-Dié-des-Vosges"): "Épinal",
    ("973", "Saint-Laurent-du-Maroni"): "Cayenne",
}

# Other spellings of seat towns: alias -> (département, seat).
COMMUNE_ALIASES: dict[str, tuple[str, str]] = {
    "Évry": ("91", "Évry-Courcouronnes"),
    "Cherbourg": ("50", "Cherbourg-en-Cotentin"),
    "Cherbourg-Octeville": ("50", "Cherbourg-en-Cotentin"),
    "Briey": ("54", "Val de Briey"),
    "Brive": ("19", "Brive-la-Gaillarde"),
    "Saint-Denis de la Réunion": ("974", "Saint-Denis"),
    "Saint-Pierre de la Réunion": ("974", "Saint-Pierre"),
}

# Names that designate places in several départements: the person must give the postal code.
AMBIGUOUS_NAMES: dict[str, tuple[str, ...]] = {
    "saint denis": ("93", "974"),  # Saint-Denis (Seine-Saint-Denis) / Saint-Denis (La Réunion)
    "saint pierre": ("974", "975"),
    "vienne": ("38", "86"),  # commune in Isère / département of Vienne
}

NATIONAL_DIRECTORY_URL = "https://www.cnb.avocat.fr/fr/annuaire-des-avocats-de-france"
POINT_JUSTICE_URL = "https://www.justice.fr/recherche/annuaires"


class ReferralError(ValueError):
    """The location cannot be turned into a referral."""

    error_type = "referral_error"
    candidates: tuple[str, ...] = ()


class MalformedLocation(ReferralError):
    error_type = "malformed"


class UnknownLocation(ReferralError):
    error_type = "unknown"


class AmbiguousLocation(ReferralError):
    error_type = "ambiguous"

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)


@dataclass(frozen=True)
class Ordre:
    """An Ordre des avocats; ``seat`` is its tribunal's seat town (several joined by " / ")."""

    name: str
    seat: str
    kind: str = "barreau"  # or "agrees" (Saint-Pierre-et-Miquelon)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "seat": self.seat, "kind": self.kind}


@dataclass(frozen=True)
class Pointer:
    name: str
    url: str
    description: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "description": self.description}


@dataclass(frozen=True)
class Referral:
    departement_code: str
    departement_name: str
    ordres: tuple[Ordre, ...]
    matched_by: str  # "postcode" | "departement" | "commune"
    query: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "departement": {"code": self.departement_code, "name": self.departement_name},
            "ordres": [ordre.to_dict() for ordre in self.ordres],
            "matched_by": self.matched_by,
            "query": self.query,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- text helpers


def normalise(text: str) -> str:
    """'Saint-Étienne' -> 'saint etienne'; 'St Malo' -> 'saint malo'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    stripped = re.sub(r"[-'’_.,/]", " ", stripped)
    stripped = re.sub(r"\s+", " ", stripped).strip()
    stripped = re.sub(r"^st ", "saint ", stripped)
    stripped = re.sub(r"^ste ", "sainte ", stripped)
    stripped = re.sub(r" st ", " saint ", stripped)
    return re.sub(r" ste ", " sainte ", stripped)


def _de(name: str) -> str:
    """French 'de' + name with elision and contraction: d'Arras, du Mans, des Sables..."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name.startswith("La ") or name.startswith("L'"):
        return "de " + name
    first = normalise(name[:1]) if name else ""
    if first in ("a", "e", "i", "o", "u", "y"):
        return "d'" + name
    return "de " + name


def barreau_name(departement: str, seat: str) -> str:
    """Name of the Ordre at ``seat``: the override table, else 'Barreau de <seat>'."""
    override = BARREAU_OVERRIDES.get((departement, seat))
    if override is not None:
        return override
    return "Barreau " + _de(seat)


# --------------------------------------------------------------------------- data loading


def _departement_code_for_name(name: str) -> str:
    by_name = {normalise(v): k for k, v in DEPARTEMENTS.items()}
    for candidate in (name, name.split("/")[-1]):
        code = by_name.get(normalise(candidate))
        if code is not None:
            return code
    raise ValueError(f"unknown département name in data file: {name!r}")


@dataclass(frozen=True)
class _Seat:
    departement: str
    seat: str
    type: str
    in_force: bool


@lru_cache(maxsize=1)
def _seats() -> tuple[_Seat, ...]:
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    seats = []
    for row in rows:
        seat = row["siege"].strip()
        seats.append(
            _Seat(
                departement=_departement_code_for_name(row["departement"]),
                seat=SEAT_DISPLAY.get(seat, seat),
                type=row["type"].strip(),
                in_force=row["in_force_at_2015_version"].strip() == "yes",
            )
        )
    return tuple(seats)


@cache
def _court_seats(departement: str) -> tuple[str, ...]:
    """Seats in force (TGI/TJ and TPI) of a département, in data-file order."""
    return tuple(
        s.seat
        for s in _seats()
        if s.departement == departement and s.in_force and s.type in ("TGI", "TPI")
    )


def ordres_for_departement(departement: str) -> tuple[Ordre, ...]:
    """Every Ordre of a département, one per barreau (merged barreaux listed once)."""
    code = departement.strip().upper()
    if code not in DEPARTEMENTS:
        raise UnknownLocation(f"unknown département code {departement!r}")
    return _ordres_for_seats(code, _court_seats(code))


def _ordres_for_seats(departement: str, seats: Sequence[str]) -> tuple[Ordre, ...]:
    grouped: dict[str, list[str]] = {}
    for seat in seats:
        grouped.setdefault(barreau_name(departement, seat), []).append(seat)
    return tuple(
        Ordre(
            name=name,
            seat=" / ".join(group),
            kind="agrees" if departement == "975" else "barreau",
        )
        for name, group in grouped.items()
    )


@lru_cache(maxsize=1)
def _commune_index() -> dict[str, tuple[tuple[str, str], ...]]:
    """normalised commune name -> ((département, seat-or-commune), ...)."""
    index: dict[str, set[tuple[str, str]]] = {}

    def add(name: str, dep: str, place: str) -> None:
        index.setdefault(normalise(name), set()).add((dep, place))

    for seat in _seats():
        add(seat.seat, seat.departement, seat.seat)
    for raw, display in SEAT_DISPLAY.items():
        for seat in _seats():
            if seat.seat == display:
                add(raw, seat.departement, display)
    for dep, prefecture in PREFECTURES.items():
        add(prefecture, dep, prefecture)
    for alias, (dep, seat) in COMMUNE_ALIASES.items():
        add(alias, dep, seat)
    return {key: tuple(sorted(value)) for key, value in index.items()}


# --------------------------------------------------------------------------- lookups


def departement_from_postcode(postcode: str) -> str:
    """Five-digit French postal code -> département code (2A/2B for Corsica, 971-976 overseas).

    Corsica: 20000-20199 -> 2A, 20200-20699 -> 2B. Saint-Martin (97150) and Saint-Barthélemy
    (97133) fall under 971. 987 (Polynésie) and 988 (Nouvelle-Calédonie) are accepted.
    """
    code = (postcode or "").strip()
    if not re.fullmatch(r"\d{5}", code):
        raise MalformedLocation(f"{postcode!r} is not a 5-digit postal code")
    prefix = code[:2]
    if prefix == "20":
        number = int(code)
        if 20000 <= number <= 20199:
            return "2A"
        if 20200 <= number <= 20699:
            return "2B"
        raise UnknownLocation(f"{code} is not a Corsican postal code")
    if prefix == "97":
        dep = code[:3]
        if dep in DEPARTEMENTS:
            return dep
        raise UnknownLocation(f"{code}: unknown overseas postal code")
    if prefix == "98":
        dep = code[:3]
        if dep in DEPARTEMENTS:
            return dep
        if dep == "980":
            raise UnknownLocation(f"{code} is a Monaco postal code (not a French court)")
        raise UnknownLocation(f"{code}: no court data for this territory")
    if prefix in DEPARTEMENTS:
        return prefix
    raise MalformedLocation(f"{code}: no département {prefix}")


def _seat_for_postcode(departement: str, postcode: str) -> str | None:
    for (dep, seat), codes in SEAT_POSTCODES.items():
        if dep == departement and postcode in codes:
            return seat
    return None


def _referral(
    departement: str,
    query: str,
    matched_by: str,
    seat: str | None = None,
    notes: Sequence[str] = (),
) -> Referral:
    all_ordres = ordres_for_departement(departement)
    notes = list(notes)
    ordres = all_ordres
    if seat is not None and seat not in _court_seats(departement):
        successor = SUCCESSOR_SEATS.get((departement, seat))
        if successor is not None:
            notes.append(
                f"{seat} n'est pas (ou plus) le siège d'un tribunal judiciaire : tribunal de "
                f"{successor}"
            )
        seat = successor
    if seat is not None and len(all_ordres) > 1:
        ordres = _ordres_for_seats(departement, [seat])
    elif len(all_ordres) > 1:
        notes.append(
            "plusieurs tribunaux judiciaires dans le département : l'Ordre compétent dépend de "
            "la commune (à vérifier par l'avocat)"
        )
    if departement == "975":
        notes.append("pas de barreau à Saint-Pierre-et-Miquelon : des agréés y exercent")
    return Referral(
        departement_code=departement,
        departement_name=DEPARTEMENTS[departement],
        ordres=ordres,
        matched_by=matched_by,
        query=query,
        notes=tuple(notes),
    )


def referral_for(location: object) -> Referral:
    """Postal code, département code, or seat-town / préfecture / département name -> Referral.

    Raises MalformedLocation, UnknownLocation or AmbiguousLocation (all ReferralError).
    """
    if not isinstance(location, str):
        raise MalformedLocation("expected a postal code or a commune name")
    query = location.strip()
    if not query:
        raise MalformedLocation("empty location")
    compact = re.sub(r"\s+", "", query)
    if compact.isdigit():
        if len(compact) == 5:
            dep = departement_from_postcode(compact)
            seat = _seat_for_postcode(dep, compact)
            return _referral(dep, query, "postcode", seat=seat)
        if len(compact) in (2, 3) and compact in DEPARTEMENTS:
            return _referral(compact, query, "departement")
        raise MalformedLocation(f"{query!r} is neither a 5-digit postal code nor a département")
    if compact.upper() in ("2A", "2B"):
        return _referral(compact.upper(), query, "departement")
    if any(ch.isdigit() for ch in query):
        raise MalformedLocation(f"{query!r} mixes digits and letters")
    key = normalise(query)
    if not re.search(r"[a-z]", key):
        raise MalformedLocation(f"{query!r} is not a place name")
    if key in AMBIGUOUS_NAMES:
        candidates = [f"{code} ({DEPARTEMENTS[code]})" for code in AMBIGUOUS_NAMES[key]]
        raise AmbiguousLocation(
            f"{query!r} is ambiguous ({', '.join(candidates)}): give the postal code",
            candidates,
        )
    matches = _commune_index().get(key, ())
    if len({dep for dep, _ in matches}) == 1:
        dep, place = matches[0]
        return _referral(dep, query, "commune", seat=place)
    if len(matches) > 1:
        candidates = sorted({f"{dep} ({DEPARTEMENTS[dep]})" for dep, _ in matches})
        raise AmbiguousLocation(f"{query!r} is ambiguous: give the postal code", candidates)
    dep_by_name = {normalise(name): code for code, name in DEPARTEMENTS.items()}
    if key in dep_by_name:
        return _referral(dep_by_name[key], query, "departement")
    raise UnknownLocation(
        f"{query!r} is not in the built-in list (court-seat towns and préfectures only): "
        "give the postal code"
    )


def referral_pointers() -> tuple[Pointer, ...]:
    """National pointers given with every referral (S7)."""
    return (
        Pointer(
            name="Annuaire des avocats de France (Conseil national des barreaux)",
            url=NATIONAL_DIRECTORY_URL,
            description="annuaire national des avocats",
        ),
        Pointer(
            name="Annuaires de justice.fr : points-justice et juridictions",
            url=POINT_JUSTICE_URL,
            description="point-justice le plus proche : information juridique gratuite",
        ),
    )


def referral_with_pointers(location: object) -> dict[str, Any]:
    """The referral as a dict, with the national pointers under ``pointers``."""
    data = referral_for(location).to_dict()
    data["pointers"] = [pointer.to_dict() for pointer in referral_pointers()]
    return data


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(
            "usage: python -m actions.referral POSTCODE|DEPARTEMENT|COMMUNE\n"
            "Prints the Ordre(s) des avocats for a place as JSON; exit code 2 on bad input."
        )
        return 0
    if not args:
        print(json.dumps({"error": "missing location", "error_type": "malformed"}))
        return 2
    try:
        result = referral_with_pointers(" ".join(args))
    except ReferralError as exc:
        error: dict[str, Any] = {"error": str(exc), "error_type": exc.error_type}
        if exc.candidates:
            error["candidates"] = list(exc.candidates)
        print(json.dumps(error, ensure_ascii=False))
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
