"""Urgency tiers (LEGAL.md §4.8) from triage slots; expected deadlines worked out by hand."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest

from actions.urgency import EXPIRED_REASON, TIERS, Urgency, compute_urgency, detect_triggers

D = date.fromisoformat
TODAY = D("2026-03-20")  # a Friday


def urgency(today: date = TODAY, **slots: str) -> Urgency:
    return compute_urgency(slots, today)


def has_reason(result: Urgency, fragment: str) -> bool:
    return any(fragment in reason for reason in result.reasons)


# --- P3 / OUT ---------------------------------------------------------------------------------


def test_no_facts_is_p3() -> None:
    result = urgency()
    assert result.tier == "P3" and result.deadline is None
    assert urgency(recit="Je suis étudiant, simple curiosité.").tier == "P3"


def test_out_of_scope_is_out_and_left_to_the_lawyer() -> None:
    result = urgency(domaine="hors_champ", recit="divorce", date_decision="2026-03-01")
    assert result.tier == "OUT" and result.deadline is None
    assert has_reason(result, "hors champ") and has_reason(result, "valider par l'avocat")
    flagged = urgency(domaine="hors_champ", recit="Mon propriétaire parle d'expulsion demain")
    assert flagged.tier == "OUT" and has_reason(flagged, "mots-clés d'urgence")


# --- foreigners: 48 h / 7 days / 1 month ----------------------------------------------------


def test_retention_is_p0_with_48_hours() -> None:
    # Notified 19 Mar 2026, hour unknown: 19 Mar 00:00 + 48 h = 21 Mar 00:00 (20 Mar at 24:00).
    result = urgency(domaine="etrangers", mesure_privative="retention",
                     date_decision="2026-03-19")
    assert result.tier == "P0"
    assert result.deadline is not None and result.deadline.kind == "oqtf_48_hours"
    assert (result.deadline.deadline, result.deadline.time) == (D("2026-03-20"), "24:00")


@pytest.mark.parametrize("text", ["placé en RÉTENTION au CRA", "retention", "Rétention",
                                  "je suis au cra de Lesquin"])
def test_retention_keywords_ignore_accents_and_case(text: str) -> None:
    result = urgency(domaine="etrangers", mesure_privative="nsp", recit=text,
                     date_decision="2026-03-18")
    assert result.tier == "P0"
    assert result.deadline is not None and result.deadline.kind == "oqtf_48_hours"


def test_assignation_is_seven_days() -> None:
    # Notified Mon 16 Mar 2026: seven days, not franc -> Mon 23 Mar 2026 at 24:00.
    result = urgency(domaine="etrangers", mesure_privative="assignation",
                     type_decision="OQTF", date_decision="2026-03-16")
    assert result.tier == "P0"
    assert result.deadline is not None and result.deadline.kind == "oqtf_7_days"
    assert result.deadline.deadline == D("2026-03-23")


def test_oqtf_without_measure_is_one_month_and_p0() -> None:
    # Notified 1 Mar 2026: one month, prudent (not franc) -> 1 Apr 2026, 12 days away.
    result = urgency(domaine="etrangers", mesure_privative="aucune",
                     type_decision="Obligation de quitter le territoire français",
                     date_decision="2026-03-01")
    assert result.tier == "P0"
    assert result.deadline is not None and result.deadline.kind == "oqtf_month"
    assert result.deadline.deadline == D("2026-04-01")
    assert has_reason(result, "15 jours")


def test_oqtf_without_departure_period_takes_seven_days() -> None:
    # 16 Mar 2026 + 7 days = 23 Mar 2026.
    result = urgency(domaine="etrangers", mesure_privative="aucune",
                     type_decision="OQTF sans délai de départ", date_decision="2026-03-16")
    assert result.deadline is not None and result.deadline.kind == "oqtf_7_days"
    assert result.deadline.deadline == D("2026-03-23")
    assert any("sans délai de départ" in note for note in result.deadline.notes)


# --- urbanisme ---------------------------------------------------------------------------------


def test_neighbour_display_recent_is_p2() -> None:
    # Display from 10 Mar 2026: 11 Mar + 2 months = Mon 11 May 2026 (8 May is the Friday before).
    result = urgency(domaine="urbanisme", role="particulier",
                     recit="Le panneau du permis du voisin est affiché", date_decision="2026-03-10")
    assert result.deadline is not None and result.deadline.kind == "urbanisme_display"
    assert result.deadline.deadline == D("2026-05-11")
    assert result.tier == "P2"


def test_neighbour_display_old_and_expired_is_p1() -> None:
    # Display from 10 Jan 2026 -> 11 Mar 2026, passed on 20 Mar; recours gracieux of 1 Feb 2026
    # does not extend it (L. 600-12-2).
    result = urgency(domaine="urbanisme", recit="permis de construire du voisin",
                     date_decision="2026-01-10", recours_gracieux="oui",
                     recours_gracieux_date="2026-02-01")
    assert result.tier == "P1"
    assert result.deadline is not None and result.deadline.deadline == D("2026-03-11")
    assert EXPIRED_REASON in result.reasons
    assert has_reason(result, "quatre semaines") and has_reason(result, "L. 600-12-2")


def test_applicant_refusal_uses_general_rule() -> None:
    # Refusal notified 10 Mar 2026 -> 11 May 2026, general two-month rule.
    result = urgency(domaine="urbanisme", type_decision="Refus de mon permis de construire",
                     date_decision="2026-03-10")
    assert result.deadline is not None and result.deadline.kind == "general"
    assert result.deadline.deadline == D("2026-05-11")


# --- appeal routes not mentioned: Czabaj -------------------------------------------------------


def test_no_mention_and_old_decision_uses_czabaj() -> None:
    # 10 Jan 2025 + 1 year = 10 Jan 2026: passed on 20 Mar 2026.
    result = urgency(domaine="fonction_publique", type_decision="refus de disponibilité",
                     date_decision="2025-01-10", mention_voies_delais="non")
    assert result.deadline is not None and result.deadline.kind == "czabaj"
    assert result.deadline.deadline == D("2026-01-10")
    assert "délai raisonnable d'un an (Czabaj)" in result.deadline.notes
    assert result.tier == "P1" and EXPIRED_REASON in result.reasons


def test_czabaj_limit_near_is_p1() -> None:
    # 10 May 2025 + 1 year = 10 May 2026, 51 days after 20 Mar 2026.
    result = urgency(domaine="collectivites", date_decision="2025-05-10",
                     mention_voies_delais="non")
    assert result.deadline is not None and result.deadline.kind == "czabaj"
    assert result.tier == "P1" and has_reason(result, "Czabaj")


def test_no_mention_recent_decision_keeps_two_months_prudently() -> None:
    # 1 Mar 2026 -> 2 Mar + 2 = Sat 2 May -> Mon 4 May 2026 (45 days away).
    result = urgency(domaine="fonction_publique", date_decision="2026-03-01",
                     mention_voies_delais="non")
    assert result.deadline is not None and result.deadline.kind == "general"
    assert result.deadline.deadline == D("2026-05-04")
    assert any("inopposable" in note for note in result.deadline.notes)
    assert result.tier == "P2"


def test_expired_with_mention_is_still_flagged_p1() -> None:
    result = urgency(domaine="collectivites", date_decision="2025-01-10",
                     mention_voies_delais="oui")
    assert result.tier == "P1" and EXPIRED_REASON in result.reasons
    assert result.deadline is not None and result.deadline.kind == "general"


# --- procurement, elections -------------------------------------------------------------------


def test_procurement_rejection_before_signature_is_p0() -> None:
    # Rejection letter sent 15 Mar 2026: +11 days = 26 Mar 2026.
    result = urgency(domaine="commande_publique", role="entreprise",
                     recit="Nous avons reçu une lettre de rejet de notre offre",
                     date_decision="2026-03-15")
    assert result.tier == "P0"
    assert result.deadline is not None and result.deadline.kind == "procurement_standstill"
    assert result.deadline.deadline == D("2026-03-26")


def test_procurement_rejection_in_type_decision() -> None:
    # "Rejet" in type_decision, sent 18 Mar 2026; means of sending unknown, so the shorter
    # electronic standstill (11 days, prudent) applies -> 29 Mar 2026.
    result = urgency(domaine="commande_publique", type_decision="Rejet",
                     date_decision="2026-03-18")
    assert result.deadline is not None and result.deadline.kind == "procurement_standstill"
    assert result.deadline.deadline == D("2026-03-29") and result.tier == "P0"


def test_signed_contract_with_the_award_notice_gives_the_refere_contractuel() -> None:
    # LEGAL.md §4.7.4: 31 days from the award notice published on 1 Mar 2026: 1 Apr (12 days
    # left from Fri 20 Mar: P1). Not the standstill from the rejection letter, long over.
    result = urgency(domaine="commande_publique", recit="Notre offre a été rejetée, le marché "
                     "est signé", date_decision="2026-03-01",
                     date_decision_source="contrat signé, référé contractuel : date de "
                     "publication")
    assert result.deadline is not None and result.deadline.kind == "procurement_contractual"
    assert result.deadline.deadline == D("2026-04-01") and result.tier == "P1"
    assert not any("à vérifier" in note for note in result.deadline.notes)


def test_signed_contract_without_the_notice_date_counts_31_days_from_an_earlier_date() -> None:
    # The rejection letter (1 Mar) is earlier than any award notice: 1 Apr, earlier than the
    # law's deadline, marked to verify.
    result = urgency(domaine="commande_publique", recit="Notre offre a été rejetée, le marché "
                     "est signé", date_decision="2026-03-01",
                     date_decision_source="contrat signé, référé contractuel : date de "
                     "signature (faute de la date de publication) — à vérifier")
    assert result.deadline is not None and result.deadline.deadline == D("2026-04-01")
    assert "à vérifier" in result.deadline.notes[0]


def test_signed_contract_with_no_award_notice_gives_six_months() -> None:
    # CJA R. 551-7: six months from the contract (signed 1 Mar): 1 Sep, the earlier reading.
    result = urgency(domaine="commande_publique", recit="Le marché a été signé le 1er mars, "
                     "pas d'avis d'attribution", date_decision="2026-03-01",
                     date_decision_source="contrat signé, référé contractuel : date de "
                     "signature du contrat (faute de la date de publication) — à vérifier")
    assert result.deadline is not None and result.deadline.deadline == D("2026-09-01")
    assert result.tier == "P2"


def test_procurement_standstill_over_is_p1_with_contract_remedies() -> None:
    # Sent 1 Mar 2026: standstill over on 12 Mar.
    result = urgency(domaine="commande_publique", recit="Notre offre n'a pas été retenue",
                     date_decision="2026-03-01")
    assert result.tier == "P1" and EXPIRED_REASON in result.reasons
    assert has_reason(result, "référé contractuel")


def test_election_in_last_ten_days_is_p0() -> None:
    # Round of Sun 15 Mar 2026 -> Fri 20 Mar 2026 at 18:00.
    result = urgency(today=D("2026-03-18"), domaine="elections", date_decision="2026-03-15")
    assert result.tier == "P0"
    assert result.deadline is not None and result.deadline.kind == "election"
    assert (result.deadline.deadline, result.deadline.time) == (D("2026-03-20"), "18:00")


def test_election_protest_after_deadline_is_p1_not_p0() -> None:
    result = urgency(today=D("2026-03-30"), domaine="elections", date_decision="2026-03-15")
    assert result.tier == "P1" and EXPIRED_REASON in result.reasons


def test_council_vote_is_not_an_election() -> None:
    # Délibération of 15 Mar 2026: 16 Mar + 2 = Sat 16 May -> Mon 18 May 2026.
    result = urgency(domaine="collectivites", recit="le vote du conseil municipal",
                     date_decision="2026-03-15")
    assert result.tier == "P2"
    assert result.deadline is not None and result.deadline.deadline == D("2026-05-18")


# --- thresholds --------------------------------------------------------------------------------

# General rule: notified 2 Oct 2026 -> Thu 3 Dec 2026 at 24:00 (LEGAL.md worked example).
THRESHOLDS = [
    ("2026-11-17", "P2"),  # 16 days left
    ("2026-11-18", "P1"),  # 15 days left
    ("2026-11-29", "P1"),  # 4 days left
    ("2026-11-30", "P0"),  # 3 days: ends within 72 h of the end of today
    ("2026-12-03", "P0"),  # last day
    ("2026-12-04", "P1"),  # passed: probably expired, to verify
]


@pytest.mark.parametrize("today,tier", THRESHOLDS)
def test_deadline_thresholds(today: str, tier: str) -> None:
    # commande_publique without a rejection letter: general rule, no six-week flag.
    result = urgency(today=D(today), domaine="commande_publique", date_decision="2026-10-02")
    assert result.deadline is not None and result.deadline.deadline == D("2026-12-03")
    assert result.tier == tier


def test_decision_older_than_six_weeks_is_p1() -> None:
    # 1 Feb 2026 -> 2 Apr 2026; 47 days old on 20 Mar.
    result = urgency(domaine="collectivites", date_decision="2026-02-01")
    assert result.tier == "P1" and has_reason(result, "six semaines")
    assert result.deadline is not None and result.deadline.deadline == D("2026-04-02")


# --- other triggers ----------------------------------------------------------------------------


def test_imminent_execution_without_date_is_p0() -> None:
    result = urgency(domaine="police_administrative",
                     recit="La préfecture ordonne la FERMETURE de mon bar demain")
    assert result.tier == "P0" and result.deadline is None
    assert has_reason(result, "date de la décision inconnue")


def test_execution_measure_alone_is_p1() -> None:
    result = urgency(domaine="collectivites", recit="arrêté de démolition de mon abri")
    assert result.tier == "P1"


def test_implicit_rejection_nearing_is_p1() -> None:
    # Claim received 25 Jan 2026: rejection born 25 Mar; 26 Mar + 2 = Tue 26 May 2026.
    result = urgency(domaine="responsabilite_administrative",
                     recit="Aucune réponse à ma demande d'indemnisation",
                     date_decision="2026-01-25")
    assert result.deadline is not None and result.deadline.kind == "implicit_rejection"
    assert result.deadline.deadline == D("2026-05-26")
    assert result.tier == "P1" and has_reason(result, "rejet implicite")
    assert not has_reason(result, "six semaines")


def test_recours_gracieux_extends_general_rule() -> None:
    # Notified 10 Feb 2026, recours 1 Mar 2026: born 1 May; 2 May + 2 = Thu 2 Jul 2026.
    result = urgency(domaine="fonction_publique", date_decision="2026-02-10",
                     recours_gracieux="oui", recours_gracieux_date="2026-03-01")
    assert result.deadline is not None and result.deadline.deadline == D("2026-07-02")
    assert result.tier == "P2"


def test_recours_gracieux_without_date_is_not_applied() -> None:
    # Notified 10 Mar 2026 -> 11 May 2026 without prorogation.
    result = urgency(domaine="fonction_publique", date_decision="2026-03-10",
                     recours_gracieux="oui")
    assert result.deadline is not None and result.deadline.deadline == D("2026-05-11")
    assert has_reason(result, "date inconnue")


def test_alsace_moselle_holidays_from_postcode() -> None:
    # 2 Feb 2026 -> Fri 3 Apr 2026 (Good Friday): working day in Paris, holiday in Strasbourg,
    # where the weekend and Easter Monday follow -> Tue 7 Apr 2026.
    paris = urgency(today=D("2026-02-10"), domaine="collectivites",
                    date_decision="2026-02-02", code_postal="75011")
    strasbourg = urgency(today=D("2026-02-10"), domaine="collectivites",
                         date_decision="2026-02-02", code_postal="67000")
    assert paris.deadline is not None and paris.deadline.deadline == D("2026-04-03")
    assert strasbourg.deadline is not None and strasbourg.deadline.deadline == D("2026-04-07")


def test_environment_published_over_five_weeks_is_p1() -> None:
    # Published 1 Feb 2026 (after 1 Sep 2024: two months) -> Thu 2 Apr 2026.
    result = urgency(domaine="environnement", date_decision="2026-02-01")
    assert result.deadline is not None and result.deadline.kind == "environment_third_party"
    assert result.deadline.deadline == D("2026-04-02")
    assert result.tier == "P1" and has_reason(result, "cinq semaines")


def test_local_tax_claim_and_december() -> None:
    # Taxe foncière notice of 1 Sep 2025 -> complaint by 31 Dec 2026.
    result = urgency(domaine="fiscalite", type_decision="taxe foncière 2025",
                     date_decision="2025-09-01")
    assert result.deadline is not None and result.deadline.kind == "local_tax_claim"
    assert result.deadline.deadline == D("2026-12-31")
    december = urgency(today=D("2026-12-02"), domaine="fiscalite",
                       type_decision="taxe foncière", date_decision="2025-09-01")
    assert december.tier == "P1" and has_reason(december, "décembre")


def test_unreadable_or_inconsistent_dates_do_not_crash() -> None:
    unreadable = urgency(domaine="collectivites", date_decision="hier")
    assert unreadable.deadline is None and has_reason(unreadable, "illisible")
    assert unreadable.tier == "P2"
    inconsistent = urgency(domaine="collectivites", date_decision="2026-03-10",
                           recours_gracieux="oui", recours_gracieux_date="2026-01-01")
    assert inconsistent.deadline is None and has_reason(inconsistent, "incohérentes")


# --- contract -----------------------------------------------------------------------------------


def test_pure_and_lawyer_only_record() -> None:
    case = {"domaine": "etrangers", "mesure_privative": "retention",
            "date_decision": "2026-03-19", "recit": "CRA"}
    before = copy.deepcopy(case)
    result = compute_urgency(case, TODAY)
    assert case == before
    assert compute_urgency(case, TODAY) == result
    record = result.to_record()
    assert record["visibility"] == "lawyer_only"
    assert record["tier"] == "P0" and record["deadline"]["deadline"] == "2026-03-20"
    json.dumps(record)
    with pytest.raises(AttributeError):
        result.tier = "P3"  # type: ignore[misc]


@pytest.mark.parametrize("domaine", ["fonction_publique", "urbanisme", "commande_publique",
                                     "collectivites", "responsabilite_administrative",
                                     "etrangers", "police_administrative", "fiscalite",
                                     "environnement", "elections", "hors_champ", ""])
def test_every_domain_gives_a_valid_tier(domaine: str) -> None:
    result = urgency(domaine=domaine, date_decision="2026-02-15", recit="question")
    assert result.tier in TIERS
    assert all(isinstance(reason, str) and reason for reason in result.reasons)


def test_detect_triggers() -> None:
    assert {"oqtf", "imminent"} <= detect_triggers("O.Q.T.F. notifiée, audience DEMAIN")
    assert "procurement_rejection" in detect_triggers(None, "Lettre de rejet reçue")
    assert "election" in detect_triggers("résultats du second tour")
    assert detect_triggers("Bonjour") == frozenset()


@pytest.mark.parametrize(("text", "absent"), [
    ("je n'ai pas d'OQTF, juste un refus de titre", "oqtf"),
    ("je ne suis pas en rétention", "retention"),
    ("pas d'assignation à résidence pour l'instant", "assignation"),
    ("il n'est jamais allé en détention", "detention"),
])
def test_a_negated_liberty_measure_is_not_a_trigger(text: str, absent: str) -> None:
    assert absent not in detect_triggers(text)


@pytest.mark.parametrize(("text", "present"), [
    ("OQTF notifiée hier, je ne sais pas quoi faire", "oqtf"),
    ("je ne sais pas si c'est une OQTF", "oqtf"),
    ("pas de réponse, et je suis en rétention depuis hier", "retention"),
    ("OQTF sans délai de départ", "no_departure_period"),
    ("ils disent que jai pas de délai de départ", "no_departure_period"),
    ("je dois quitter la France immédiatement d'après le papier", "no_departure_period"),
])
def test_a_measure_stated_near_a_negation_still_counts(text: str, present: str) -> None:
    assert present in detect_triggers(text)


def test_a_negated_oqtf_is_not_p0() -> None:
    case = {"domaine": "etrangers", "type_decision": "refus de titre de séjour",
            "recit": "je n'ai pas d'OQTF, seulement un refus de titre reçu il y a un mois",
            "date_decision": (TODAY - timedelta(days=30)).isoformat()}
    assert compute_urgency(case, TODAY).tier != "P0"


@pytest.mark.parametrize(("how", "days"), [
    ("reçue par courrier recommandé", 16), ("reçue par mail", 11), ("reçue", 11),
    ("reçue par la poste, et aussi par mail", 11)])
def test_the_standstill_follows_how_the_rejection_letter_was_sent(how: str, days: int) -> None:
    sent = TODAY - timedelta(days=12)
    case = {"domaine": "commande_publique", "type_decision": "rejet d'une offre",
            "recit": f"notre offre a été rejetée, lettre de rejet {how}",
            "date_decision": sent.isoformat()}
    result = compute_urgency(case, TODAY)
    assert result.deadline.deadline == sent + timedelta(days=days)
    # Twelve days after a paper letter, the contract cannot be signed yet: référé possible.
    assert result.tier == ("P0" if days == 16 else "P1")


def test_a_damage_without_a_claim_gets_the_prescription_quadriennale() -> None:
    damage = TODAY - timedelta(days=20)
    case = {"domaine": "responsabilite_administrative", "type_decision": "nid-de-poule",
            "recit": "la métropole n'a pas rebouché le trou, jante cassée",
            "date_decision": damage.isoformat(), "date_decision_source": "date du dommage"}
    result = compute_urgency(case, TODAY)
    assert result.deadline.kind == "prescription_quadriennale"
    assert result.deadline.deadline == date(damage.year + 4, 12, 31)
    assert result.tier in ("P2", "P3")


@pytest.mark.parametrize("weeks", [7, 30, 100])
def test_a_damage_some_weeks_old_is_no_decision_notified_six_weeks_ago(weeks: int) -> None:
    # A damage's date is not a notification: the six-week flag (LEGAL.md §4.8, MPO) does not
    # apply; the claim's deadline is years away (heldback2: belongings lost by a hospital).
    damage = TODAY - timedelta(weeks=weeks)
    case = {"domaine": "responsabilite_administrative", "type_decision": None,
            "recit": "le centre hospitalier a perdu le fauteuil de mon père, rien envoyé",
            "date_decision": damage.isoformat(),
            "date_decision_source": "date du dommage (faute de la date de notification)"}
    result = compute_urgency(case, TODAY)
    assert result.deadline.kind == "prescription_quadriennale"
    assert result.tier == "P2"


def test_an_old_damage_is_flagged_before_the_prescription() -> None:
    damage = date(TODAY.year - 4, 2, 1)
    case = {"domaine": "responsabilite_administrative", "date_decision": damage.isoformat(),
            "date_decision_source": "date du dommage", "recit": "chute sur un trottoir"}
    result = compute_urgency(case, TODAY)
    assert result.tier in ("P0", "P1")


def test_a_measure_taking_effect_before_the_annulment_deadline_is_the_deadline() -> None:
    # A ban on a demonstration notified yesterday for the day after tomorrow.
    case = {"domaine": "police_administrative", "type_decision": "interdiction de manifester",
            "date_decision": (TODAY - timedelta(days=1)).isoformat(),
            "date_effet": (TODAY + timedelta(days=2)).isoformat()}
    result = compute_urgency(case, TODAY)
    assert result.deadline.kind == "before_effect"
    assert result.deadline.deadline == TODAY + timedelta(days=2)
    assert any("recours en annulation" in note for note in result.deadline.notes)
    assert result.tier == "P0"
    # Already in effect, or out of the domains of measures: the annulment deadline stays.
    past = {**case, "date_effet": (TODAY - timedelta(days=1)).isoformat()}
    assert compute_urgency(past, TODAY).deadline.kind != "before_effect"
    oqtf = {**case, "domaine": "etrangers", "type_decision": "OQTF"}
    assert compute_urgency(oqtf, TODAY).deadline.kind != "before_effect"


def test_an_effect_date_alone_gives_a_deadline() -> None:
    case = {"domaine": "police_administrative", "type_decision": "fermeture administrative",
            "date_effet": (TODAY + timedelta(days=10)).isoformat()}
    result = compute_urgency(case, TODAY)
    assert result.deadline is not None and result.deadline.kind == "before_effect"
    assert not any("date de la décision inconnue" in r for r in result.reasons)


def test_an_animal_in_the_pound_under_a_police_measure_is_executed_now() -> None:
    # A dog taken to the pound on a mayor's order, euthanasia threatened, no date given: the
    # measure is being executed (LEGAL.md §4.8: execution within 72 h), P0.
    case = {"domaine": "police_administrative",
            "type_decision": "mesure de police visant un animal",
            "recit": "le maire a fait mettre mon chien à la fourrière, ils parlent de "
                     "l'euthanasier",
            "date_decision": (TODAY - timedelta(days=2)).isoformat()}
    assert compute_urgency(case, TODAY).tier == "P0"
