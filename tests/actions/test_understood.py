"""What was understood of an out-of-scope question, and the corrections that change the route
(issue #12, item 6: actions/understood.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions import facts as F
from actions import understood as U

NOW = datetime(2026, 12, 8, 10, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(("text", "topic"), [
    ("j'ai été licencié par mon employeur, une entreprise de transport privée",
     "un litige avec votre employeur privé"),
    ("je veux divorcer et avoir la garde de mes enfants", "une question de famille"),
    ("mon frère bloque la succession de notre mère chez le notaire", "une succession"),
    ("le juge des tutelles a mis mon père sous curatelle", "une mesure de protection"),
    ("mon proprio me rend pas ma caution", "un litige de location"),
    ("le procureur a classé ma plainte sans suite", "une affaire pénale"),
    ("une boite de crédit me harcèle pour une dette", "une question de dette ou de crédit"),
    ("bonjour j'ai une question", U.GENERIC),
])
def test_the_dispute_is_worded_from_the_parties_and_words(text: str, topic: str) -> None:
    line = U.understood(F.extract(text, NOW), text)
    assert line.startswith(f"J'ai compris : {topic}")
    assert line.endswith("sans administration en cause.")


@pytest.mark.parametrize(("text", "public"), [
    ("non, c'est la mairie qui m'a licencié", True),
    ("en fait c'est la préfecture du Nord, j'ai une OQTF", True),
    ("non ce n'est pas la mairie, c'est mon patron", False),
    ("33800", False),
    ("non, c'est pour un divorce", False),
    ("oui", False),
])
def test_a_correction_naming_an_administration_goes_to_public_law(text: str,
                                                                   public: bool) -> None:
    assert U.corrects_to_public_law(text, NOW) is public


@pytest.mark.parametrize(("text", "private"), [
    ("non c'est mon employeur privé, pas la mairie", True),
    ("non, mon propriétaire est un particulier, pas la mairie", True),
    ("non, c'est pour un divorce", True),
    # « mon employeur » alone may be the commune: not enough to send the person away.
    ("non, c'est mon employeur qui m'a sanctionné", False),
    ("non la date c'est le 8 octobre", False),
    ("non, c'est la mairie de Talence, pas la métropole", False),
    ("c'est mon employeur privé", False),  # not a correction
])
def test_a_correction_saying_no_administration_goes_to_the_referral(text: str,
                                                                    private: bool) -> None:
    assert U.corrects_to_private(text, NOW) is private
