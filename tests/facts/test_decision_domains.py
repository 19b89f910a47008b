"""The decision or the administration decides the domain, whatever the everyday words around it
(issue #12 item 6): decisions that belong to one domain only, read from what people write, and
the date a weekday with its number names. Sentences written for this file, in the way people
write (no accents, abbreviations)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from actions import domains, intake
from actions.dates_fr import PARIS, find_dates
from actions.facts import extract

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=PARIS)  # a Tuesday


@pytest.mark.parametrize(("text", "kind", "domain"), [
    ("mon frere est retenu a l'aeroport en zone d'attente depuis hier", "refus_entree",
     "etrangers"),
    ("la police aux frontieres lui a notifie un refus d'entree ce matin", "refus_entree",
     "etrangers"),
    ("l'ofpra a rejete ma demande d'asile en octobre", "asile", "etrangers"),
    ("la prefecture a ajourne ma naturalisation de 2 ans", "naturalisation", "etrangers"),
    ("le consulat a refuse le visa de ma femme", "visa", "etrangers"),
    ("la commune veut exproprier notre jardin pour un parking", "expropriation", "urbanisme"),
    ("j'ai recu l'arrete de cessibilite de la prefecture", "expropriation", "urbanisme"),
    ("la mairie a preempte la maison que j'achetais", "preemption", "urbanisme"),
    ("lettre 48SI recue, plus de points", "retrait_points", "police_administrative"),
    ("mon permis est invalide pour solde de points nul", "retrait_points",
     "police_administrative"),
    ("le crous m'a supprime ma bourse en plein semestre", "bourse", "collectivites"),
    ("refus de la commission de mediation dalo, pas prioritaire", "dalo", "collectivites"),
    ("l'agence regionale de sante refuse le transfert de mon officine", "autorisation_sante",
     "police_administrative"),
])
def test_a_decision_of_one_domain_overrides_a_wrong_reading(text: str, kind: str,
                                                            domain: str) -> None:
    facts = extract(text, NOW)
    kinds = [d.value for d in facts.decisions]
    assert kind in kinds
    assert facts.is_administration() is True
    for wrong in ("environnement", "elections", "fonction_publique"):
        if wrong != domain:
            assert domains.consistent(wrong, kinds) == domain


def test_a_driving_licence_is_no_building_permit() -> None:
    facts = extract("mon permis est invalide, j'ai perdu tous mes points", NOW)
    kinds = [d.value for d in facts.decisions]
    assert "permis_construire" not in kinds and "retrait_points" in kinds
    assert [d.value for d in extract("le permis de mon voisin est affiche", NOW).decisions] == [
        "permis_construire"]


def test_the_ars_is_the_adverse_party_and_the_label_keeps_the_words() -> None:
    facts = extract("l'ARS Occitanie m'a refuse le transfert de ma pharmacie", NOW)
    assert [a.kind for a in facts.administrations] == ["ars"]
    assert "Occitanie" in facts.administrations[0].text
    assert intake.decision_label(facts).startswith("autorisation sanitaire (transfert")


def test_a_refusal_with_a_precise_kind_says_the_kind_not_refus_d_une_demande() -> None:
    facts = extract("le crous de lille m'a refuse ma bourse sur criteres sociaux", NOW)
    assert intake.decision_label(facts).startswith("bourse")
    assert "refus d'une demande" not in intake.decision_label(facts)


@pytest.mark.parametrize(("text", "expected", "uncertain"), [
    ("recu lundi dernier (le 30) la lettre", date(2026, 11, 30), False),
    ("c'etait mardi le 1er", date(2026, 12, 1), False),
    ("jeudi 3 on a recu le courrier", date(2026, 12, 3), False),
    # the 29th is no Monday: both readings, the earlier one first (a deadline never late)
    ("lundi dernier (le 29) la lettre", date(2026, 11, 29), True),
])
def test_a_weekday_with_its_number_names_one_day(text: str, expected: date,
                                                 uncertain: bool) -> None:
    [mention] = find_dates(text, NOW)
    assert mention.day == expected and mention.uncertain is uncertain


def test_the_day_of_this_month_said_on_the_first_is_a_past_day() -> None:
    first = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
    [mention] = find_dates("courrier du 2 de ce mois", first)
    assert mention.day == date(2026, 11, 2)
    [coming] = find_dates("audience prevue le 2 de ce mois", first)
    assert coming.day == date(2026, 12, 2)


@pytest.mark.parametrize("answer", [
    "c'est mon permis a moi, non, 87100",
    "je suis la pharmacienne titulaire qui demande le transfert",
    "c'est moi directement",
])
def test_a_first_person_answer_to_the_role_question_is_the_person_concerned(answer: str) -> None:
    reading = intake.read([intake.Turn("mon permis est invalide", NOW, ()),
                           intake.Turn(answer, NOW, ("role", "recours_gracieux", "place"))])
    assert reading.facts.role is not None and reading.facts.role.value == "particulier"


def test_a_neighbour_answer_is_not_taken_for_the_person_concerned() -> None:
    reading = intake.read([intake.Turn("un permis de construire a cote", NOW, ()),
                           intake.Turn("je suis le voisin d'en face", NOW, ("role",))])
    assert reading.facts.role is not None and reading.facts.role.value == "voisin"


def test_an_environment_reading_without_a_word_of_nature_is_the_local_authority_s() -> None:
    story = "la ville de paris a refuse le renouvellement de notre terrasse pour le resto"
    facts = extract(story, NOW)
    assert intake.as_public_law_lawyer("environnement", facts, story) == "collectivites"
    polluted = "la mairie laisse une decharge sauvage polluer le ruisseau derriere chez nous"
    assert intake.as_public_law_lawyer("environnement", extract(polluted, NOW),
                                       polluted) == "environnement"
    # a préfet's order: not a local authority, the reading stands
    prefet = "le prefet a autorise un projet sur ma commune"
    assert intake.as_public_law_lawyer("environnement", extract(prefet, NOW),
                                       prefet) == "environnement"


def test_an_offer_retained_is_no_person_held() -> None:
    assert extract("la boite retenue est 20% moins chere que nous", NOW).mesure is None
    held = extract("mon mari est retenu au centre depuis hier", NOW).mesure
    assert held is not None and held.value == "retention"


def test_the_start_of_this_month_and_its_day_number() -> None:
    facts = extract("arrete notifie debut du mois, le 1er ou le 2 je sais plus", NOW)
    assert facts.date_for("notified").day == date(2026, 12, 1)


def test_a_correction_with_a_new_date_replaces_it_and_the_old_one_explained_stays_out() -> None:
    turns = [intake.Turn("la mairie a preempte la maison, la lettre on l'a eue y a 10 jours",
                         NOW, ()),
             intake.Turn("non, le recommande on l'a eu le 17 novembre, y a 10 jours c'etait le "
                         "notaire", NOW, (intake.CONFIRM,))]
    facts = intake.read(turns).facts
    assert facts.date_for("notified").day == date(2026, 11, 17)


def test_pre_emption_asks_no_applicant_or_neighbour_and_counts_from_notification() -> None:
    from actions.facts import missing
    from actions.urgency import compute_urgency
    story = "la mairie a exerce son droit de preemption sur la maison, recu le 17 novembre"
    facts = extract(story, NOW)
    assert "role_applicant_or_neighbour" not in missing(facts, "urbanisme")
    slots = intake.case_slots(intake.Reading(facts), "urbanisme", story)
    urgency = compute_urgency({**slots, "domaine": "urbanisme", "question_initiale": story},
                              NOW.date())
    assert "tiers" not in (urgency.deadline.rule if urgency.deadline else "")


def test_a_published_decision_answers_the_third_party_date_question() -> None:
    from actions.facts import missing
    facts = extract("notre association conteste l'arrete du prefet publie le 16 octobre", NOW)
    assert "date_display_or_notified" not in missing(facts, "environnement")


def test_an_order_to_leave_a_field_is_a_police_measure_applying_on_its_last_day() -> None:
    story = ("hier soir vers 22h les gendarmes nous ont donne un papier du prefet, 48h pour "
             "partir sinon ils nous font evacuer, on a jusqu'a mercredi soir")
    facts = extract(story, NOW)
    assert "evacuation" in facts.decision_kinds()
    assert domains.consistent("environnement", list(facts.decision_kinds())) == (
        "police_administrative")


@pytest.mark.parametrize(("text", "thin"), [
    ("bonjour, c'est au sujet de l'ecole de notre village", True),
    ("j'ai une question concernant mon frere", True),
    ("mon ex ne me laisse pas voir les enfants", False),
    ("c'est au sujet du permis de construire de mon voisin", False),  # a decision: a story
])
def test_a_topic_named_is_a_thin_story(text: str, thin: bool) -> None:
    assert intake.thin_story(text, extract(text, NOW)) is thin


@pytest.mark.parametrize(("text", "kind", "domain"), [
    ("arrete du prefet qui m'interdit de detenir des armes, je dois remettre mes fusils",
     "armes", "police_administrative"),
    ("le maire a signe un marche de nettoyage sans consulter personne, avis d'attribution au "
     "boamp", "attribution_marche", "commande_publique"),
    ("dimanche referendum local, le bureau de vote a ferme avant l'heure", "resultats_election",
     "elections"),
])
def test_more_decisions_of_one_domain(text: str, kind: str, domain: str) -> None:
    kinds = list(extract(text, NOW).decision_kinds())
    assert kind in kinds
    assert domains.consistent("environnement" if domain != "environnement" else "elections",
                              kinds) == domain


def test_an_inheritance_quarrel_names_no_administration() -> None:
    facts = extract("mes parents sont decedes, on est 3 heritiers et personne ne peut rien "
                    "faire contre mon frere", NOW)
    assert facts.is_administration() is False


def test_an_administration_that_said_it_is_not_its_business_is_no_party() -> None:
    story = ("ma voisine a une haie de 5 m, les racines abiment ma terrasse, la mairie m'a dit "
             "que c'etait pas leur probleme")
    facts = extract(story, NOW)
    assert facts.is_administration() is False
    assert intake.scope("responsabilite_administrative", facts, None) == "hors_champ"
    refused = extract("la mairie a refuse mon permis, c'est pas leur probleme qu'ils disent", NOW)
    assert refused.is_administration() is True  # no private party: still the mairie's decision


@pytest.mark.parametrize(("text", "expected"), [
    ("publie au boamp le lendemain de l'armistice", date(2026, 11, 12)),
    ("envoye la veille de la toussaint", date(2026, 10, 31)),
    ("on doit partir avant noel", date(2026, 12, 25)),
    ("les gendarmes passent jeudi matin", date(2026, 12, 10)),
    ("il est passe jeudi dernier", date(2026, 12, 3)),
])
def test_days_said_by_holidays_and_visits_to_come(text: str, expected: date) -> None:
    assert find_dates(text, NOW)[0].day == expected


def test_a_long_duration_is_no_date_and_a_signed_receipt_is_the_notification() -> None:
    assert find_dates("chasseur depuis 30 ans", NOW) == []
    facts = extract("j'ai signe l'accuse de reception le lundi 30 novembre", NOW)
    assert facts.date_for("notified").day == date(2026, 11, 30)


def test_nothing_sent_yet_and_a_town_said_with_its_postcode() -> None:
    facts = extract("je suis le voisin, jai rien envoye a la mairie pour l'instant, on est a "
                    "muret 31600", NOW)
    assert facts.recours_gracieux is not None and facts.recours_gracieux.value is False
    assert facts.town is not None and facts.town.value == "muret"
    assert extract("je suis a bout, aidez moi", NOW).town is None


def test_a_question_about_the_bot_asks_the_pending_questions_again() -> None:
    from actions.iamabot import pending_questions
    assert pending_questions(["date_notified", "place"]) == ("date_notified", "place")
    assert pending_questions(["consent"]) == ()
    assert pending_questions([intake.CONFIRM]) == ()
    assert pending_questions(None) == ()
