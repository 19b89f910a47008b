"""actions.intake: answers read in the light of their question, what is asked next, the summary's
answer, and the case record (pure; ``now`` frozen on Tuesday 8 Dec 2026, 10:00 Paris)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from actions import domains, intake
from actions.intake import Turn

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


def turns(*pairs: tuple[str, tuple[str, ...]]) -> list[Turn]:
    return [Turn(text, NOW, asked) for text, asked in pairs]


def reading(*pairs: tuple[str, tuple[str, ...]]) -> intake.Reading:
    return intake.read(turns(*pairs))


# ---------------------------------------------------------------- answers in their context


def test_a_bare_day_answering_the_notification_question_is_the_notification_date() -> None:
    facts = reading(("la préfecture m'a refusé mon titre de séjour", ()),
                    ("le 3", ("date_notified",))).facts
    notified = facts.date_for("notified")
    assert notified is not None and notified.day == date(2026, 12, 3)


def test_two_dates_in_one_answer_keep_their_own_roles() -> None:
    facts = reading(("la mairie a refusé mon permis", ()),
                    ("datée du 8 octobre, reçue le 10", ("date_notified",))).facts
    assert facts.date_for("signed").day == date(2026, 10, 8)
    assert facts.date_for("notified").day == date(2026, 10, 10)


def test_the_hour_answer_goes_on_the_notification_date() -> None:
    facts = reading(("OQTF de la préfecture du Rhône remise hier", ()),
                    ("vers 19h", ("hour_notified",))).facts
    notified = facts.date_for("notified")
    assert notified.day == date(2026, 12, 7) and notified.hour == time(19, 0)


@pytest.mark.parametrize(("answer", "signed"), [("non", False), ("oui", True),
                                                ("non pas encore", False)])
def test_yes_or_no_answers_the_one_yes_no_question(answer: str, signed: bool) -> None:
    facts = reading(("notre offre a été rejetée par la région", ()),
                    (answer, ("contract_signed",))).facts
    assert facts.contract_signed is not None and facts.contract_signed.value is signed


def test_a_date_answering_the_recours_question_means_yes_with_its_date() -> None:
    facts = reading(("la commune m'a sanctionné", ()),
                    ("le 2 novembre", ("recours_gracieux",))).facts
    assert facts.recours_gracieux.value is True
    assert facts.date_for("recours_gracieux").day == date(2026, 11, 2)


@pytest.mark.parametrize(("answer", "role"), [("c'est le projet du voisin", "voisin"),
                                              ("le mien", "demandeur")])
def test_applicant_or_neighbour(answer: str, role: str) -> None:
    facts = reading(("permis de construire accordé par la mairie", ()),
                    (answer, ("role_applicant_or_neighbour",))).facts
    assert facts.role.value == role


def test_a_neighbour_gives_the_display_date_to_the_date_question() -> None:
    read = reading(("mon voisin a eu un permis de construire de la mairie de Lyon", ()),
                   ("le panneau est là depuis le 20 novembre", ("date_display",)))
    assert read.facts.date_for("display").day == date(2026, 11, 20)
    slots = intake.case_slots(read, "urbanisme", "story")
    assert slots["date_decision"] == "2026-11-20"


def test_je_ne_sais_pas_is_remembered_and_not_asked_again() -> None:
    history = turns(("la mairie m'a refusé un permis hier, 69003", ()),
                    ("je ne sais pas", ("recours_gracieux",)))
    read = intake.read(history)
    assert "recours_gracieux" in read.unknown
    step = intake.next_step(read, "urbanisme", history, "la mairie m'a refusé un permis")
    assert "recours_gracieux" not in step.keys


def test_the_consent_answer_is_not_a_fact() -> None:
    assert intake.read(turns(("oui", ("consent",)))).facts == intake.read([]).facts


# ---------------------------------------------------------------- what comes next


def test_a_thin_story_is_asked_for_once() -> None:
    history = turns(("bonjour j'ai un souci", ()))
    step = intake.next_step(intake.read(history), "collectivites", history, "bonjour j'ai un souci")
    assert step == intake.Step("ask", (intake.STORY,))
    history += turns(("euh", (intake.STORY,)))
    step = intake.next_step(intake.read(history), "collectivites", history, "bonjour j'ai un souci")
    assert step.kind == "ask" and intake.STORY not in step.keys


def test_a_field_named_in_a_word_is_still_a_thin_story() -> None:
    story = "Bonjour j'ai une question par rapport aux élections"
    history = turns((story, ()))
    step = intake.next_step(intake.read(history), "elections", history, story)
    assert step == intake.Step("ask", (intake.STORY,))


def test_only_what_the_domain_needs_is_asked_all_at_once() -> None:
    story = "Le préfet du Nord m'a notifié une OQTF hier vers 18h, je suis assigné à résidence."
    history = turns((story, ()))
    step = intake.next_step(intake.read(history), "etrangers", history, story)
    # Decision, measure, date and hour are in the story: only the place is missing.
    assert step == intake.Step("ask", ("place",))


def test_an_election_is_never_asked_about_a_letter_or_a_recours() -> None:
    story = "Je conteste le résultat des municipales, le maire a triché"
    history = turns((story, ()))
    step = intake.next_step(intake.read(history), "elections", history, story)
    assert set(step.keys) <= {"date_election", "place"}
    assert "recours_gracieux" not in step.keys


def test_questions_stop_after_two_rounds() -> None:
    story = "La région a rejeté notre offre pour le marché de nettoyage des lycées."
    history = turns((story, ()))
    for _ in range(intake.MAX_ASK_ROUNDS):
        step = intake.next_step(intake.read(history), "commande_publique", history, story)
        assert step.kind == "ask"
        history += turns(("bof", step.keys))
    assert intake.next_step(intake.read(history), "commande_publique", history,
                            story) == intake.Step("confirm")


def test_several_questions_go_in_one_numbered_message() -> None:
    text = intake.questions_text(("date_rejection", "contract_signed"))
    assert text.count("\n1. ") == 1 and "\n2. " in text and "un seul message" in text
    assert intake.questions_text(("place",)) == intake.QUESTION_TEXT["place"]


def test_every_question_the_domains_need_has_its_french_text() -> None:
    for domain in domains.IN_SCOPE:
        needed = intake.missing(intake.Reading(intake.F.Facts()), domain)
        assert needed and all(key in intake.QUESTION_TEXT for key in needed), domain


# ---------------------------------------------------------------- the summary's answer


@pytest.mark.parametrize("text", ["oui", "Oui !", "c'est bien ça, merci.", "ok parfait",
                                  "C'est bien ça", "exact", "👍", "/affirm"])
def test_natural_confirmations(text: str) -> None:
    assert intake.confirms(text) and not intake.denies(text)


@pytest.mark.parametrize("text", ["non, la date c'est le 8 octobre", "non", "c'est faux",
                                  "/deny"])
def test_natural_denials(text: str) -> None:
    assert intake.denies(text) and not intake.confirms(text)


@pytest.mark.parametrize("text", ["oui mais le code postal c'est 33800",
                                  "ok sauf la date, c'est le 8"])
def test_a_yes_with_a_correction_is_not_a_confirmation(text: str) -> None:
    assert not intake.confirms(text)


def test_a_free_text_correction_replaces_the_fact() -> None:
    before = reading(("la mairie de Bordeaux m'a refusé un permis, 33000", ()))
    after = reading(("la mairie de Bordeaux m'a refusé un permis, 33000", ()),
                    ("le code postal c'est 33800", (intake.CORRECTION,)))
    assert intake.brings_facts(before.facts, after.facts)
    assert after.facts.postcode.value == "33800"


# ---------------------------------------------------------------- the case record


def test_case_slots_say_which_date_the_deadline_uses() -> None:
    read = reading(("La mairie de Lens m'a refusé mon permis, lettre datée du 8 octobre "
                    "reçue le 10 octobre, 62300", ()))
    slots = intake.case_slots(read, "urbanisme", "story")
    assert slots["date_decision"] == "2026-10-10"
    assert slots["date_decision_source"] == "date de notification (réception)"
    assert slots["code_postal"] == "62300"
    assert any(line.startswith("Décision datée du 08/10/2026") for line in slots["faits"])
    assert any(line.startswith("Reçue / notifiée le 10/10/2026") for line in slots["faits"])


@pytest.mark.parametrize(
    ("text", "nlu", "ranked", "decided"),
    [
        ("la société Dupont SARL m'a licencié", "fonction_publique", None, domains.OUT_OF_SCOPE),
        ("mon propriétaire garde ma caution", "collectivites", None, domains.OUT_OF_SCOPE),
        ("le préfet a fermé mon bar jeudi après une bagarre, je fais comment",
         domains.OUT_OF_SCOPE, "police_administrative", intake.ASK_SCOPE),
        ("la métropole ne répare pas le nid-de-poule qui a cassé ma roue", domains.OUT_OF_SCOPE,
         "responsabilite_administrative", intake.ASK_SCOPE),
        # A decision only an administration takes, without naming it.
        ("mon voisin a obtenu un permis de construire pour un immeuble", domains.OUT_OF_SCOPE,
         "urbanisme", intake.ASK_SCOPE),
        ("mon ex refuse que je voie les enfants", domains.OUT_OF_SCOPE, None,
         domains.OUT_OF_SCOPE),
        ("la mairie m'a refusé un permis", "urbanisme", None, "urbanisme"),
    ],
)
def test_scope_follows_who_decided(text: str, nlu: str, ranked: str | None,
                                   decided: str) -> None:
    assert intake.scope(nlu, reading((text, ())).facts, ranked) == decided


def test_the_yes_or_no_may_come_after_another_answer() -> None:
    facts = reading(("le rectorat a refusé ma mutation", ()),
                    ("il y a 4 mois, non", ("date_notified", "recours_gracieux", "place"))).facts
    assert facts.recours_gracieux is not None and facts.recours_gracieux.value is False
    assert facts.date_for("notified").day == date(2026, 8, 8)


@pytest.mark.parametrize(("story", "label"), [
    ("la mairie a refusé mon permis de construire", "refus de permis"),
    ("j'ai reçu une OQTF hier", "OQTF (obligation de quitter le territoire)"),
])
def test_the_decision_reads_in_french_once(story: str, label: str) -> None:
    slots = intake.case_slots(reading((story, ())), "urbanisme", story)
    assert slots["type_decision"] == label


@pytest.mark.parametrize(("correction", "day"), [
    ("l'arrêté je l'ai reçu le 3 décembre, pas le 4", date(2026, 12, 3)),
    ("le 5 octobre, pas le 1er", date(2026, 10, 5)),
    ("non pas le 2 mais le 6 octobre", date(2026, 10, 6)),
])
def test_a_corrected_date_keeps_the_right_one_not_the_one_denied(correction: str,
                                                                 day: date) -> None:
    read = reading(("le préfet a saisi mon chien, arrêté reçu le 4 décembre", ()),
                   (correction, (intake.CORRECTION,)))
    days = {d.day for d in read.facts.dates}
    assert day in days and len(days) == 1, read.facts.dates


@pytest.mark.parametrize(("text", "kind"), [
    ("la préfecture m'oblige à quitter le territoire", "oqtf"),
    ("ils ont refusé de renouveler mon titre", "refus_titre_sejour"),
    ("la mairie a refusé ma demande de permis", "refus_permis"),
])
def test_decisions_in_everyday_words(text: str, kind: str) -> None:
    assert kind in reading((text, ())).facts.decision_kinds()


def test_a_denied_oqtf_is_no_decision() -> None:
    facts = reading(("refus de titre de séjour, il n'y a pas d'OQTF dedans", ())).facts
    assert "oqtf" not in facts.decision_kinds()


def test_en_mairie_depuis_is_no_town() -> None:
    facts = reading(("le dossier est en mairie depuis le 3 novembre", ())).facts
    assert facts.town is None or facts.town.value != "puis"


def test_the_hour_of_notification_is_on_the_record_and_counts_for_48_hours() -> None:
    from actions.urgency import compute_urgency

    read = reading(("OQTF notifiée hier à 19h30 par la préfecture du Nord, je suis au CRA", ()))
    slots = intake.case_slots(read, "etrangers", "OQTF au CRA")
    assert slots["heure_decision"] == "19:30" and slots["date_decision"] == "2026-12-07"
    result = compute_urgency({**slots, "domaine": "etrangers", "mesure_privative": "retention",
                              "recit": "OQTF au CRA"}, NOW.date())
    assert result.deadline.deadline == date(2026, 12, 9)
    assert result.deadline.time == "19:30"


def test_a_tax_question_asks_for_a_reclamation_not_an_indemnity() -> None:
    text = intake.questions_text(("claim_sent",), "fiscalite")
    assert "réclamation" in text and "indemnisation" not in text


def test_the_standstill_starts_from_the_letter_date_not_its_receipt() -> None:
    read = reading(("on a pas été retenus par la région, lettre de rejet datée du 27 novembre "
                    "reçue par courrier le 1er décembre", ()))
    slots = intake.case_slots(read, "commande_publique", "story")
    assert slots["date_decision"] == "2026-11-27"


def test_a_claim_rejected_counts_from_the_rejection() -> None:
    read = reading(("j'ai demandé une indemnisation à la métropole le 3 septembre, refus reçu le "
                    "5 novembre", ()))
    slots = intake.case_slots(read, "responsabilite_administrative", "story")
    assert slots["date_decision"] == "2026-11-05"


def test_an_administration_named_at_the_summary_replaces_the_one_shown() -> None:
    read = reading(("notre offre a été rejetée par la région Occitanie", ()),
                   ("non c'est le département de l'Hérault", (intake.CONFIRM,)))
    slots = intake.case_slots(read, "commande_publique", "story")
    assert "région" not in slots["partie_adverse"] and "département" in slots["partie_adverse"]


def test_the_precise_administration_replaces_the_vague_one() -> None:
    read = reading(("la mairie a refusé mon permis", ()),
                   ("la mairie de Lens", ("administration",)))
    slots = intake.case_slots(read, "urbanisme", "story")
    assert slots["partie_adverse"].casefold() == "mairie de lens"


@pytest.mark.parametrize(("story", "label"), [
    ("la DGFiP me réclame la taxe foncière de 2026", "impôt ou taxe (taxe foncière)"),
    ("le maire m'a infligé une exclusion temporaire de fonctions",
     "sanction disciplinaire (exclusion temporaire)"),
])
def test_a_family_of_decisions_keeps_the_persons_words(story: str, label: str) -> None:
    assert intake.case_slots(reading((story, ())), "fiscalite", story)["type_decision"] == label


@pytest.mark.parametrize(("story", "role"), [
    ("on a pas été retenus pour le marché d'entretien", "entreprise_candidate"),
    ("jai voté dimanche a la partielle, le depouillement etait bizare", "electeur"),
    ("la préfecture a refusé l'extension de notre carrière", "entreprise"),
    ("la DGFiP me réclame de la CFE pour ma micro-entreprise", "entreprise"),
    ("je suis adjoint technique territorial à la commune de Grenoble", "agent_public"),
    ("Bonjour, fonctionnaire de l'État en disponibilité", "agent_public"),
    ("la ville a refusé notre terasse pour le resto", "entreprise"),
    ("Habitante de Saint-Omer, je conteste la délibération", "particulier"),
])
def test_the_role_is_read_from_the_story(story: str, role: str) -> None:
    assert intake.case_slots(reading((story, ())), None, story)["role"] == role


def test_a_damage_date_is_named_as_the_urgency_rules_read_it() -> None:
    from actions.urgency import DAMAGE_DATE

    read = reading(("j'ai cassé ma jante dans un nid-de-poule le 3 novembre, la métropole de Lyon "
                    "n'entretient pas la route", ()))
    slots = intake.case_slots(read, "responsabilite_administrative", "story")
    assert slots["date_decision"] == "2026-11-03"
    assert slots["date_decision_source"].startswith(DAMAGE_DATE)


def test_two_problems_keep_the_public_law_one_and_note_the_other() -> None:
    story = ("la préfecture a refusé de renouveler mon titre de séjour et mon patron m'a licencié "
             "la semaine dernière")
    read = reading((story, ()))
    assert intake.scope("etrangers", read.facts, None) == "etrangers"
    assert intake.scope(domains.OUT_OF_SCOPE, read.facts, "etrangers") == intake.ASK_SCOPE
    lines = intake.case_slots(read, "etrangers", story)["faits"]
    assert any(line.startswith("Autre problème cité, hors droit public") and "patron" in line
               for line in lines)


@pytest.mark.parametrize(("text", "nlu", "decided"), [
    ("ma SARL a reçu un rappel de TVA, on a combien de temps ?", "fiscalite", "fiscalite"),
    ("la société Durand SARL m'a licencié", "fonction_publique", domains.OUT_OF_SCOPE),
    ("Mon mari est au centre de rétention depuis hier", domains.OUT_OF_SCOPE, intake.ASK_SCOPE),
    ("un démarcheur m'a fait signer un contrat de panneaux solaires", "urbanisme",
     domains.OUT_OF_SCOPE),
    ("mon contrat de travail dit 24 heures mais je fais 35", "fonction_publique",
     domains.OUT_OF_SCOPE),
])
def test_whose_company_and_whose_measure(text: str, nlu: str, decided: str) -> None:
    assert intake.scope(nlu, reading((text, ())).facts, "etrangers") == decided


@pytest.mark.parametrize("answer", ["non desolé", "je préfère pas", "jsp", "pas envie"])
def test_a_refused_postcode_is_no_town(answer: str) -> None:
    facts = reading(("la mairie m'a refusé un permis", ()), (answer, ("place",))).facts
    assert facts.town is None


def test_a_town_answered_alone_is_the_town() -> None:
    facts = reading(("la mairie m'a refusé un permis", ()), ("Plouvorn", ("place",))).facts
    assert facts.town is not None and facts.town.value == "Plouvorn"


# ---------------------------------------------------------------- issue #12 items 3 and 7


@pytest.mark.parametrize(("answer", "asked", "decision"), [
    ("c'est une exclusion de la cantine pour mon fils, reçue le 25 novembre, non, 69200",
     ("decision", "date_notified", "recours_gracieux", "place"),
     "exclusion de la cantine pour mon fils"),
    ("Délibération approuvant la vente d'un terrain communal., Publiée le 16 novembre 2026., "
     "Non., 62500", ("decision", "date_notified", "recours_gracieux", "place"),
     "Délibération approuvant la vente d'un terrain communal"),
    ("je suis riverain, une usine de méthanisation, le 2 novembre",
     ("role", "decision", "date_display"), "usine de méthanisation"),
])
def test_a_free_text_decision_inside_a_bundled_answer_is_kept(answer, asked, decision) -> None:
    facts = reading(("bonjour, j'ai un problème avec la mairie", ()), (answer, asked)).facts
    assert [d.text for d in facts.decisions] == [decision]
    # A kind read from the words keeps them (« service public local (exclusion de la cantine
    # pour mon fils) »); else the words are the decision (« autre »).
    assert facts.decisions[0].value in ("autre", "service_public_local")
    assert facts.dates  # the other answers are read too


def test_a_bundle_naming_a_known_decision_fills_every_fact() -> None:
    facts = reading(("bonjour, j'ai un problème avec la préfecture", ()),
                    ("c'est un refus de titre de séjour, notifié le 3, je suis en rétention",
                     ("decision", "mesure", "date_notified", "hour_notified"))).facts
    assert facts.decision_kinds() == ("refus_titre_sejour",)
    assert facts.date_for("notified").day == date(2026, 12, 3)
    assert facts.mesure is not None and facts.mesure.value == "retention"


def test_a_bundle_with_only_other_answers_has_no_decision() -> None:
    facts = reading(("bonjour", ()), ("non, 69200, je ne sais pas",
                                      ("decision", "recours_gracieux", "place"))).facts
    assert facts.decisions == ()


def test_a_duration_gives_a_start_date_not_the_notification() -> None:
    # « loué depuis 2 ans » is when the renting began, not when the tax notice was received.
    text = ("jai recu une taxe sur les logement vacant pour l'appart de ma grand mere alors "
            "quil est loué depuis 2 ans !! avis du 28 aout 2026")
    facts = reading((text, ())).facts
    assert facts.date_for("notified") is None
    assert facts.date_for("unspecified").day == date(2024, 12, 8)
    slots = intake.case_slots(intake.Reading(facts), "fiscalite", text)
    assert slots["date_decision"] == "2026-08-28"
    displayed = reading(("le panneau est affiché depuis 3 semaines", ())).facts
    assert displayed.date_for("display").day == date(2026, 11, 17)
    waiting = reading(("j'ai envoyé une réclamation à la mairie, sans réponse depuis 3 mois",
                       ())).facts
    assert waiting.date_for("claim").day == date(2026, 9, 8)


def test_a_signed_contract_takes_the_award_notice_and_asks_for_it() -> None:
    story = ("notre offre pour le marché du département du Nord a été rejetée par une lettre "
             "du 28 octobre, le marché a été signé depuis")
    read = reading((story, ()))
    assert "date_award_notice" in intake.missing(read, "commande_publique")
    slots = intake.case_slots(read, "commande_publique", story)
    assert slots["date_decision"] == "2026-10-28"
    assert slots["date_decision_source"].startswith("contrat signé, référé contractuel")
    assert slots["date_decision_source"].endswith("à vérifier")
    answered = reading((story, ()), ("paru le 20 novembre", ("date_award_notice",)))
    slots = intake.case_slots(answered, "commande_publique", story)
    assert slots["date_decision"] == "2026-11-20"
    assert not slots["date_decision_source"].endswith("à vérifier")


def test_no_award_notice_said_is_not_asked_again() -> None:
    story = ("notre offre a été rejetée par lettre du 20 octobre, le contrat a été signé le 10 "
             "novembre, aucun avis d'attribution n'a été publié")
    read = reading((story, ()))
    assert read.facts.award_notice is not None and read.facts.award_notice.value is False
    assert "date_award_notice" not in intake.missing(read, "commande_publique")
    slots = intake.case_slots(read, "commande_publique", story)
    assert slots["date_decision"] == "2026-11-10"  # the contract's: six months from it
    assert "Avis d'attribution publié : non" in slots["faits"]


def test_a_damage_with_no_decision_is_a_liability_claim_whatever_the_nlu_read() -> None:
    text = ("je suis tombé à vélo dans un énorme nid de poule à Bordeaux le 14 novembre, "
            "poignet cassé. la voirie c'est la métropole je crois")
    facts = reading((text, ())).facts
    assert intake.scope("environnement", facts, "environnement") == "responsabilite_administrative"
    # A decision to challenge keeps the NLU's domain.
    closure = reading(("le préfet a ordonné la fermeture de mon bar le 3 décembre après une "
                       "bagarre où un client est tombé", ())).facts
    assert intake.scope("police_administrative", closure, None) == "police_administrative"


# ------------------------------------------- the second held-back set's lessons (issue #12)


@pytest.mark.parametrize(("story", "domain", "expected"), [
    # A local authority's decision on a user of its services is no « fonction publique ».
    ("le département a supprimé l'aide à domicile de mon père, courrier reçu le 30 novembre",
     "fonction_publique", "collectivites"),
    ("la commune ne veut plus inscrire ma fille à la cantine depuis la rentrée",
     "fonction_publique", "collectivites"),
    # An agent of the same authorities stays in fonction publique.
    ("la région m'a refusé ma mise en disponibilité, je suis agente au lycée",
     "fonction_publique", "fonction_publique"),
    ("la mairie ne renouvelle pas mon contrat", "fonction_publique", "fonction_publique"),
    # A State administration (a rectorat) is not turned into a collectivité.
    ("le rectorat a refusé ma demande", "fonction_publique", "fonction_publique"),
    ("la métropole a refusé le raccordement de mon atelier", "collectivites", "collectivites"),
])
def test_a_user_of_a_local_public_service_is_no_public_agent(story: str, domain: str,
                                                             expected: str) -> None:
    assert intake.as_public_law_lawyer(domain, reading((story, ())).facts, story) == expected


@pytest.mark.parametrize(("pairs", "adverse"), [
    # The town named in the story completes a placeless « maire ».
    ([("j'ai une grange à Saint-Émilion et le maire a refusé ma déclaration préalable", ())],
     "maire de Saint-Émilion"),
    ([("notre club de foot s'entraîne à Villeneuve-sur-Lot", ()),
      ("la mairie nous a retiré le terrain", ("administration",))], "mairie de Villeneuve-sur-Lot"),
    # A commune already placed is not changed; two towns named: no guess.
    ([("la mairie de Agen a refusé, j'habite à Boé", ())], "mairie de Agen"),
    ([("je vis à Dax mais mon commerce est à Mont-de-Marsan, la mairie a refusé", ())],
     "mairie"),
])
def test_the_maire_is_of_the_town_the_story_named(pairs, adverse: str) -> None:
    slots = intake.case_slots(reading(*pairs), "urbanisme", "story")
    assert slots["partie_adverse"] == adverse


def test_a_refusal_keeps_the_persons_words() -> None:
    story = "ma demande de disponibilité pour élever mon fils a été refusée par la mairie"
    label = intake.case_slots(reading((story, ())), "fonction_publique", story)["type_decision"]
    assert "disponibilité" in label


def test_a_police_measure_on_an_animal_reads_as_such_with_the_day_it_applies() -> None:
    story = ("le maire a signé un arrêté pour emmener mes deux chiens à la fourrière, reçu "
             "samedi, ils passent les prendre vendredi 11 décembre")
    read = reading((story, ()))
    assert domains.consistent("environnement", list(read.facts.decision_kinds())) == (
        "police_administrative")
    slots = intake.case_slots(read, "police_administrative", story)
    assert slots["date_effet"] == "2026-12-11"
    assert slots["date_decision"] == "2026-12-05"
    assert "animal" in slots["type_decision"]


@pytest.mark.parametrize(("story", "adverse"), [
    # Written in lower case, a place is read where the words say it is one.
    ("je tiens un stand sur le marché de lunel le samedi, la mairie me l'a retiré", "Lunel"),
    ("habitant de saint-jean-de-luz, le conseil municipal a voté la vente du fronton",
     "Saint-Jean-de-Luz"),
    ("mon commerce à pézenas a reçu un courrier de la mairie", "Pézenas"),
    # … and nowhere else.
    ("j'habite a pied de l'école, la mairie refuse le bus", None),
])
def test_a_town_in_lower_case_is_read_where_the_words_name_a_place(story: str,
                                                                  adverse: str | None) -> None:
    slots = intake.case_slots(reading((story, ())), "collectivites", story)
    if adverse is None:
        assert slots["partie_adverse"] == "mairie"
    else:
        assert slots["partie_adverse"].endswith(f"de {adverse}")


@pytest.mark.parametrize(("story", "nlu", "expected"), [
    # A local public service withdrawn from its user: collectivités, whatever the NLU read.
    ("la mairie a exclu ma fille du périscolaire jusqu'aux vacances", "urbanisme",
     "collectivites"),
    ("on m'a retiré mon emplacement au marché de Noël", "environnement", "collectivites"),
    # A fall at the canteen is a damage: liability stays.
    ("ma fille s'est blessée en tombant à la cantine de l'école", "responsabilite_administrative",
     "responsabilite_administrative"),
])
def test_a_local_public_service_decision_belongs_to_collectivites(story: str, nlu: str,
                                                                  expected: str) -> None:
    kinds = list(reading((story, ())).facts.decision_kinds())
    assert domains.consistent(nlu, kinds) == expected


def test_a_canteen_catering_contract_is_procurement_not_a_local_service() -> None:
    story = ("notre offre pour le marché de restauration scolaire du département a été rejetée "
             "par une lettre du 28 octobre")
    assert "service_public_local" not in reading((story, ())).facts.decision_kinds()
    stall = "on m'a retiré mon emplacement sur le marché de Sète"
    assert "service_public_local" in reading((stall, ())).facts.decision_kinds()


def test_the_scope_question_is_no_round_of_the_intakes_questions() -> None:
    # A thin first message, the story, then « est-ce une administration ? »: the missing facts
    # (the postcode) are still asked once.
    steps = turns(("bonjour, besoin d'un conseil", ()), ("oui", ("consent",)),
                  ("la commune de Manosque a refusé d'inscrire ma fille à la crèche, courrier "
                   "reçu le 2 décembre", ("story",)),
                  ("oui, la mairie", ("scope",)))
    read = intake.read(steps)
    step = intake.next_step(read, "collectivites", steps, "story long enough to not be thin")
    assert step.kind == "ask" and "place" in step.keys


@pytest.mark.parametrize(("answer", "mesure"), [
    ("Seulement l'obligation de quitter le territoire.", "oqtf"),
    ("juste l'OQTF, je suis chez moi, je ne sais plus l'heure", "oqtf"),
    ("l'OQTF et je suis en rétention au CRA", "retention"),
])
def test_an_oqtf_alone_answers_the_measure_question(answer: str, mesure: str) -> None:
    facts = reading(("la préfecture m'a refusé mon titre avec une OQTF", ()),
                    (answer, ("mesure", "hour_notified"))).facts
    assert facts.mesure is not None and facts.mesure.value == mesure


def test_a_question_about_the_bot_does_not_thicken_a_thin_story() -> None:
    story = "Bonjour, c'est au sujet des municipales\nvous êtes une vraie personne ou un robot ?"
    read = reading(("Bonjour, c'est au sujet des municipales", ()),
                   ("vous êtes une vraie personne ou un robot ?", ()))
    assert intake.story_is_thin(read, story)


def test_a_neighbours_permit_names_the_mairie_not_the_neighbour() -> None:
    story = "mon voisin construit une extension à Gradignan, le panneau est affiché depuis le 5"
    slots = intake.case_slots(reading((story, ())), "urbanisme", story)
    assert slots["partie_adverse"].startswith("mairie de Gradignan")
    assert "à vérifier" in slots["partie_adverse"]


def test_a_withdrawal_keeps_what_was_withdrawn_and_a_denied_one_is_none() -> None:
    told = reading(("la métropole m'a retiré ma carte de stationnement résident", ())).facts
    assert "carte de stationnement" in intake.decision_label(told)
    denied = reading(("on ne m'a pas retiré ma carte, mais le maire menace", ())).facts
    assert "retrait" not in denied.decision_kinds()


def test_the_town_in_brackets_completes_the_maire() -> None:
    story = "le maire de notre commune (Saint-Jory) a refusé de raccorder notre terrain"
    slots = intake.case_slots(reading((story, ())), "collectivites", story)
    assert slots["partie_adverse"].startswith("maire de Saint-Jory")


@pytest.mark.parametrize(("story", "adverse"), [
    ("arrêté municipal interdisant l'alcool dans mon épicerie à Lens", "commune de Lens"),
    ("le syndicat des eaux rejette notre offre", "syndicat des eaux"),
    ("le CROUS m'a retiré ma chambre", "CROUS"),
])
def test_other_public_bodies_and_municipal_orders_are_on_the_card(story: str,
                                                                  adverse: str) -> None:
    read = reading((story, ()))
    assert read.facts.is_administration() is True
    assert intake.case_slots(read, "collectivites", story)["partie_adverse"] == adverse


def test_a_coming_day_answering_a_date_question_takes_its_role() -> None:
    # The election is to come: « dimanche 13 décembre » answers the election question.
    facts = reading(("on veut contester la liste du maire aux municipales partielles", ()),
                    ("dimanche 13 décembre", ("date_election",))).facts
    assert [(d.role, d.day) for d in facts.dates] == [("election", date(2026, 12, 13))]
    # In the story, with no cue, a coming day is when the measure applies.
    story = reading(("le maire fait enlever nos ruches vendredi 11 décembre", ())).facts
    assert [d.role for d in story.dates] == ["effect"]


def test_whose_project_answers_over_a_plain_owner() -> None:
    facts = reading(("je suis propriétaire à Cestas, la mairie a accordé un permis", ()),
                    ("c'est le projet du voisin", ("role_applicant_or_neighbour",))).facts
    assert facts.role.value == "voisin"


def test_an_environmental_authorisation_says_what_it_authorises() -> None:
    story = "le préfet a autorisé l'extension d'un élevage avicole, publié le 3 novembre"
    label = intake.case_slots(reading((story, ())), "environnement", story)["type_decision"]
    assert label == "autorisation environnementale (élevage avicole)"
