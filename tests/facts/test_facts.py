"""actions.facts: the table of realistic messages, merging over messages, what a domain needs,
and properties of the date resolution (``now`` frozen on Tuesday 20 Oct 2026, 10:30 Paris)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.dates_fr import PARIS, WEEKDAYS, find_dates, fold_keep
from actions.facts import DATE_RULES, QUESTIONS, Facts, extract, merge, missing, needed_date
from tests.facts.cases import CASES, NOW
from tests.facts.scoring import score

THRESHOLD = 0.95  # share of the table's expected facts the extractor must get right


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_every_expected_fact_of_the_table(text: str, expected: dict) -> None:
    wrong = [(key, want, got) for key, want, got, right in score(extract(text, NOW), expected)
             if not right]
    assert not wrong, wrong


def test_the_table_is_large_and_scored_above_the_threshold() -> None:
    rows = [r for text, expected in CASES for r in score(extract(text, NOW), expected)]
    assert len(CASES) >= 80
    assert sum(r[3] for r in rows) / len(rows) >= THRESHOLD


def test_spans_point_at_the_words_in_the_original_message() -> None:
    text = "La Préfecture du Nord m'a notifié l'OQTF hier à 18h, j'habite à Lille (59000)"
    facts = extract(text, NOW)
    adm = facts.administrations[0]
    assert text[adm.span[0]:adm.span[1]] == "Préfecture du Nord" == adm.text
    assert facts.dates[0].text == "hier"
    assert facts.postcode.text == "59000" and facts.town.text == "Lille"
    assert facts.decisions[0].text == "OQTF"


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        extract("hier", datetime(2026, 10, 20, 10, 30))  # noqa: DTZ001


def test_late_evening_utc_is_already_the_next_day_in_paris() -> None:
    # 23:30 UTC on Monday 19 Oct is 01:30 on Tuesday in Paris: « hier » is Monday 19.
    now = datetime(2026, 10, 19, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert extract("reçue hier", now).dates[0].day == date(2026, 10, 19)


def test_sunday_written_on_a_sunday_keeps_both_candidates_and_the_earlier_one() -> None:
    sunday = datetime(2026, 10, 25, 20, 0, tzinfo=PARIS)
    found = extract("élection de dimanche", sunday).dates[0]
    assert found.uncertain and found.candidates == (date(2026, 10, 18), date(2026, 10, 25))
    assert found.day == date(2026, 10, 18)


def test_vague_dates_are_uncertain() -> None:
    for text in ("reçue en septembre", "la semaine dernière", "il y a 2 mois"):
        assert extract(text, NOW).dates[0].uncertain, text


def test_election_sunday_evening_is_the_last_sunday_not_monday() -> None:
    facts = extract("Je conteste l'élection de dimanche soir vers 21 h", NOW)
    assert needed_date(facts, "elections").date.day == date(2026, 10, 18)
    assert facts.dates[0].hour == time(21, 0)


# --- merge ---------------------------------------------------------------------------------------

def _conversation(*messages: str) -> Facts:
    facts = Facts()
    for message in messages:
        facts = merge(facts, extract(message, NOW))
    return facts


def test_facts_accumulate_over_messages() -> None:
    facts = _conversation("la mairie de Bordeaux a refusé mon permis de construire",
                          "décision reçue le 2 octobre", "j'habite à Bordeaux 33000")
    assert [a.kind for a in facts.administrations] == ["commune"]
    assert facts.decision_kinds()[0] == "refus_permis"
    assert facts.date_for("notified").day == date(2026, 10, 2)
    assert facts.postcode.value == "33000"


def test_an_explicit_postcode_correction_wins() -> None:
    facts = _conversation("j'habite à Libourne 33500", "le code postal c'est 33800")
    assert facts.postcode.value == "33800"


def test_a_restatement_without_correction_does_not_replace_a_known_fact() -> None:
    facts = _conversation("code postal 33500", "ma soeur habite au 75011")
    assert facts.postcode.value == "33500"


def test_a_date_correction_keeps_the_role_of_the_date_it_corrects() -> None:
    facts = _conversation("OQTF reçue le 18 octobre", "non, la date c'est le 8 octobre")
    assert [(d.role, d.day) for d in facts.dates] == [("notified", date(2026, 10, 8))]


def test_a_correction_of_a_role_date_replaces_only_that_role() -> None:
    facts = _conversation("datée du 8 octobre, reçue le 10", "non, reçue le 12")
    assert facts.date_for("signed").day == date(2026, 10, 8)
    assert facts.date_for("notified").day == date(2026, 10, 12)


def test_two_dates_in_two_messages_are_both_kept() -> None:
    facts = _conversation("le panneau a été posé le 8 octobre", "le permis est du 25 septembre")
    assert facts.date_for("display").day == date(2026, 10, 8)
    assert facts.date_for("signed").day == date(2026, 9, 25)


def test_administration_or_private() -> None:
    assert extract("mon propriétaire garde ma caution", NOW).is_administration() is False
    assert extract("la métropole de Lyon n'a pas rebouché le trou",
                   NOW).is_administration() is True
    assert extract("bonjour", NOW).is_administration() is None


# --- needed date and missing facts ---------------------------------------------------------------

def test_a_neighbour_in_urbanisme_gets_the_display_date_not_the_permit_date() -> None:
    facts = _conversation("je suis voisin",
                          "le panneau a été posé le 8 octobre, le permis est du 25 septembre")
    need = needed_date(facts, "urbanisme")
    assert need.role == "display" and need.date.day == date(2026, 10, 8)
    assert not need.uncertain


def test_an_applicant_in_urbanisme_gets_the_notification() -> None:
    facts = extract("la mairie a refusé mon permis, datée du 8 octobre, reçue le 10", NOW)
    need = needed_date(facts, "urbanisme")
    assert need.role == "notified" and need.date.day == date(2026, 10, 10)


def test_a_fallback_date_is_marked_uncertain_and_says_which_one_was_used() -> None:
    facts = extract("OQTF datée du 2 octobre", NOW)
    need = needed_date(facts, "etrangers")
    assert need.role == "signed" and need.uncertain
    assert "faute de la date de notification" in need.note


def test_an_oqtf_without_the_hour_is_uncertain_and_the_hour_is_asked() -> None:
    facts = extract("OQTF reçue hier, je suis au CRA", NOW)
    assert needed_date(facts, "etrangers").uncertain
    assert "hour_notified" in missing(facts, "etrangers")
    with_hour = extract("OQTF reçue hier à 18h, je suis au CRA", NOW)
    assert not needed_date(with_hour, "etrangers").uncertain
    assert missing(with_hour, "etrangers") == ("administration", "place")
    # The préfecture is the OQTF's author; the police who handed it over is not.
    assert missing(extract("OQTF de la préfecture du Nord remise hier à 18h par la police, je "
                           "suis au CRA", NOW), "etrangers") == ("place",)
    assert "administration" in missing(extract("la police m'a remis une OQTF hier à 18h, je "
                                               "suis au CRA", NOW), "etrangers")


def test_an_imprecise_date_later_than_a_precise_one_gives_the_earlier_to_verify() -> None:
    facts = extract("avis daté du 28 août, reçu début septembre", NOW)
    needed = needed_date(facts, "fiscalite")
    assert needed.date.day == date(2026, 8, 28) and needed.uncertain
    assert "imprécise" in needed.note
    # A precise notification stays the date of the rule.
    assert needed_date(extract("avis daté du 28 août, reçu le 2 septembre", NOW),
                       "fiscalite").date.day == date(2026, 9, 2)


def test_elections_never_ask_for_a_courrier_or_a_recours_gracieux() -> None:
    facts = extract("élection municipale de dimanche à Pau, j'habite à Pau", NOW)
    assert missing(facts, "elections") == ()
    assert "recours_gracieux" not in QUESTIONS["elections"]


def test_procurement_asks_rejection_date_and_contract() -> None:
    assert missing(Facts(), "commande_publique") == (
        "administration", "date_rejection", "contract_signed", "place")
    facts = extract("lettre de rejet de la région Bretagne reçue hier, contrat pas encore signé",
                    NOW)
    assert missing(facts, "commande_publique") == ("place",)


def test_claim_date_is_asked_only_when_a_claim_was_sent() -> None:
    no_claim = extract("tombée sur un trottoir de la ville de Caen hier, pas encore fait de "
                       "demande", NOW)
    assert "claim_date" not in missing(no_claim, "responsabilite_administrative")
    claim = extract("tombée sur un trottoir de la ville de Caen hier, j'ai envoyé une lettre "
                    "à la mairie", NOW)
    assert "claim_date" in missing(claim, "responsabilite_administrative")


def test_every_domain_has_a_question_list_and_known_keys() -> None:
    for domain in DATE_RULES:
        assert domain in QUESTIONS
        for key in QUESTIONS[domain]:
            missing(Facts(), domain)  # raises KeyError on an unknown key
            assert isinstance(key, str)


# --- properties ----------------------------------------------------------------------------------

nows = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                    timezones=st.just(ZoneInfo("Europe/Paris")))
PAST_EXPRESSIONS = ["hier", "avant-hier", "ce matin", "il y a 3 jours", "il y a 2 semaines",
                    "reçue le 10", "reçue le 31", "le 8 octobre", "le 29 février", "lundi",
                    "dimanche soir", "vendredi dernier", "la semaine dernière", "en mars",
                    "le 12 du mois dernier", "le 2 de ce mois", "la semaine passée le mardi",
                    "jeudi de la semaine dernière"]


@settings(max_examples=150, deadline=None)
@given(now=nows, expression=st.sampled_from(PAST_EXPRESSIONS))
def test_a_resolved_past_date_is_never_after_now(now: datetime, expression: str) -> None:
    for found in find_dates(f"courrier {expression}", now):
        assert found.day is not None and found.day <= now.date(), (expression, found)
        assert all(c <= now.date() for c in found.candidates)


@settings(max_examples=150, deadline=None)
@given(now=nows, weekday=st.sampled_from(WEEKDAYS))
def test_a_weekday_is_that_weekday_within_the_last_seven_days(now: datetime,
                                                               weekday: str) -> None:
    found = find_dates(f"c'était {weekday} soir", now)[0]
    for day in found.candidates:
        assert WEEKDAYS[day.weekday()] == weekday
        assert now.date() - timedelta(days=7) <= day <= now.date()


@settings(max_examples=100, deadline=None)
@given(now=nows, weekday=st.sampled_from(WEEKDAYS))
def test_an_effect_weekday_is_in_the_coming_week(now: datetime, weekday: str) -> None:
    found = find_dates(f"la fermeture prend effet {weekday}", now)[0]
    assert WEEKDAYS[found.day.weekday()] == weekday
    assert now.date() < found.day <= now.date() + timedelta(days=7) and found.future


@settings(max_examples=100, deadline=None)
@given(now=nows, weekday=st.sampled_from(WEEKDAYS),
       said=st.sampled_from(["la semaine dernière {}", "{} de la semaine passée"]))
def test_a_weekday_of_last_week_is_one_day_of_last_week(now: datetime, weekday: str,
                                                        said: str) -> None:
    [found] = find_dates(f"reçu {said.format(weekday)}", now)
    this_monday = now.astimezone(PARIS).date() - timedelta(days=now.astimezone(PARIS).weekday())
    assert found.candidates == (found.day,) and WEEKDAYS[found.day.weekday()] == weekday
    assert this_monday - timedelta(days=7) <= found.day < this_monday


@settings(max_examples=100, deadline=None)
@given(now=nows, day=st.integers(1, 28))
def test_a_day_of_last_month_is_in_last_month_whatever_else_the_message_says(
        now: datetime, day: int) -> None:
    today = now.astimezone(PARIS).date()
    found = find_dates(f"à finir pour fin mars, la lettre est arrivée le {day} du mois dernier",
                       now)
    last_month = today.replace(day=1) - timedelta(days=1)
    assert found[-1].day == last_month.replace(day=day) and not found[-1].uncertain
    coming_march = today.replace(day=1) if today.month == 3 else found[0].day
    assert found[0].day == coming_march and found[0].day.month == 3
    assert found[0].future or today.month == 3
    assert today.replace(day=1) <= found[0].day <= today + timedelta(days=366)  # the coming one


@settings(max_examples=100, deadline=None)
@given(now=nows, weekday=st.sampled_from(WEEKDAYS),
       verb=st.sampled_from(["commence", "débute", "démarrera"]))
def test_a_measure_that_starts_on_a_weekday_starts_in_the_coming_week(
        now: datetime, weekday: str, verb: str) -> None:
    found = find_dates(f"la suspension {verb} {weekday}", now)[0]
    assert now.astimezone(PARIS).date() < found.day and found.future
    past = find_dates(f"les travaux ont commencé {weekday}", now)[0]
    assert past.day <= now.astimezone(PARIS).date() and not past.future


@settings(max_examples=150, deadline=None)
@given(now=nows, hour=st.integers(0, 23), minute=st.integers(0, 59),
       expression=st.sampled_from(["hier vers", "dimanche à", "le 3 mars à", "ce matin à"]))
def test_a_date_with_an_hour_keeps_the_hour(now: datetime, hour: int, minute: int,
                                            expression: str) -> None:
    found = find_dates(f"notifiée {expression} {hour}h{minute:02d}", now)
    assert len(found) == 1 and found[0].hour == time(hour, minute)
    assert found[0].at().tzinfo is PARIS


@given(st.text(max_size=200))
def test_fold_keep_never_moves_a_position(text: str) -> None:
    assert len(fold_keep(text)) == len(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_extract_never_raises_and_spans_stay_inside(text: str) -> None:
    facts = extract(text, NOW)
    for item in (*facts.administrations, *facts.dates, *facts.decisions):
        start, end = item.span
        assert 0 <= start <= end <= len(text)


def test_a_car_in_the_pound_is_no_police_measure_on_an_animal() -> None:
    # « fourrière » alone is no measure on an animal: a vehicle's impounding is another matter.
    assert "mesure_animal" not in extract("ma voiture a été mise en fourrière hier soir",
                                          NOW).decision_kinds()


@pytest.mark.parametrize("text", ["c'est ma chienne, je suis sa maîtresse",
                                  "je suis le propriétaire du chien qu'ils veulent saisir",
                                  "nous sommes les propriétaires des chevaux"])
def test_the_owner_of_what_is_concerned_is_no_adverse_party(text: str) -> None:
    facts = extract(text, NOW)
    assert facts.private_parties == ()
    assert facts.role is not None and facts.role.value == "particulier"


def test_a_date_given_again_with_its_role_gives_it_to_the_same_day() -> None:
    story = extract("le 2 octobre ils ont tout laissé en plan dans le couloir", NOW)
    answer = extract("le 2 octobre", NOW)
    answer = replace(answer, dates=tuple(replace(d, role="damage") for d in answer.dates))
    merged = merge(story, answer)
    assert [(d.role, d.day.isoformat()) for d in merged.dates] == [("damage", "2026-10-02")]


def test_where_an_order_was_displayed_and_one_day_said_twice_add_nothing() -> None:
    facts = extract("le préfet a autorisé la carrière, arrêté affiché en mairie de Cléder le 5 "
                    "octobre", NOW)
    assert [a.kind for a in facts.administrations] == ["prefecture"]
    facts = extract("le vote c'était dimanche 18 octobre, résultats proclamés lundi matin le 19",
                    NOW)
    assert len(facts.dates) == 2
    assert "dommage_travaux_publics" not in extract(
        "notre offre pour le marché de travaux de voirie n'a pas été retenue", NOW
    ).decision_kinds()
    # A mairie that displays its own permit stays the adverse party.
    assert [a.kind for a in extract("le permis du voisin est affiché en mairie depuis le 2 "
                                    "octobre", NOW).administrations] == ["commune"]


@pytest.mark.parametrize("text", ["la mairie a fait enlever ma caravane",
                                  "ma maison a été déclarée en péril par la mairie",
                                  "mon garage a fermé, la mairie refuse"])
def test_a_verb_after_a_is_no_town(text: str) -> None:
    assert extract(text, NOW).places == ()


def test_a_hunting_permit_is_no_building_permit() -> None:
    assert "permis_construire" not in extract("le préfet a suspendu mon permis de chasser",
                                              NOW).decision_kinds()


def test_an_imprecise_notification_is_never_before_the_act() -> None:
    # « mi-octobre » reads as the 1st (the earliest); the act is dated the 2nd: the 2nd counts.
    facts = extract("l'arrêté est daté du 2 octobre, je l'ai reçu mi-octobre", NOW)
    needed = needed_date(facts, "fonction_publique")
    assert needed.date.day == date(2026, 10, 2) and needed.uncertain


def test_an_owner_in_urbanisme_is_still_asked_whose_project_it_is() -> None:
    facts = extract("je suis propriétaire de la maison d'à côté, la mairie a accordé un permis",
                    NOW)
    assert "role_applicant_or_neighbour" in missing(facts, "urbanisme")


def test_an_hour_of_notification_alone_is_today_to_verify() -> None:
    found = extract("OQTF remise à 9h15 au commissariat", NOW).dates
    assert [(d.role, d.day, d.hour, d.uncertain) for d in found] == [
        ("notified", NOW.date(), time(9, 15), True)]
    assert extract("j'ai reçu un appel à 9h", NOW).dates == ()


def test_an_answer_that_is_not_clear_is_no_silence() -> None:
    kinds = extract("on m'a refusé sans réponse claire", NOW).decision_kinds()
    assert "silence" not in kinds and "refus_demande" in kinds
