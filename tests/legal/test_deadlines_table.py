"""Deadline cases worked out by hand from the rules of LEGAL.md §4 (not from the code).

Method for délais francs in months (LEGAL.md §4.1): (a) take the day after the event and add the
months, clamping to the end of a short month; (b) take the event's date plus the months (clamped)
plus one day; keep the earlier of (a) and (b) (they differ only around month ends), then move
past Saturdays, Sundays and public holidays. Weekdays were read from a calendar; holidays: 1 Jan,
Easter Monday, 1 May, 8 May, Ascension, Whit Monday, 14 Jul, 15 Aug, 1 Nov, 11 Nov, 25 Dec;
Alsace-Moselle adds Good Friday and 26 Dec; overseas days as listed per case. 2026: Good Friday
3 Apr, Easter Monday 6 Apr, Ascension 14 May, Whit Monday 25 May. 2027: Easter Monday 29 Mar.
"""

from __future__ import annotations

from datetime import date, time

import pytest

from actions import deadlines as dl

D = date.fromisoformat

CASES = [
    # --- general rule, CJA R. 421-1, délai franc -------------------------------------------
    # LEGAL.md §4.1: notified Sun 3 Jan 2021; day after 4 Jan; +2 months = Thu 4 Mar 2021, a
    # working day, so 4 Mar 2021 (at 24:00).
    ("general", "2021-01-03", {}, "2021-03-04"),
    # LEGAL.md §4.1 (lex-publica): notified 3 Nov 2022; the two months run out on 3 Jan 2023 at
    # 24:00 and, the deadline being franc, filing is accepted the next day: day after 4 Nov,
    # +2 months = Wed 4 Jan 2023 (the "3 Jan" is the non-franc end).
    ("general", "2022-11-03", {}, "2023-01-04"),
    # LEGAL.md worked example: Fri 2 Oct 2026 -> 3 Oct + 2 months = Thu 3 Dec 2026.
    ("general", "2026-10-02", {}, "2026-12-03"),
    # LEGAL.md: Thu 10 Sep 2026 -> 11 Nov 2026 (Wed, Armistice) -> Thu 12 Nov 2026.
    ("general", "2026-09-10", {}, "2026-11-12"),
    # LEGAL.md: Mon 7 Sep 2026 -> 8 Nov 2026 (Sunday) -> Mon 9 Nov 2026.
    ("general", "2026-09-07", {}, "2026-11-09"),
    # LEGAL.md: Wed 30 Dec 2026 -> 31 Dec + 2 months = "31 Feb" -> Sun 28 Feb 2027 -> Mon 1 Mar.
    ("general", "2026-12-30", {}, "2027-03-01"),
    # LEGAL.md's divergence case: 30 Dec 2027: (a) 31 Dec + 2 = "31 Feb" -> Tue 29 Feb 2028
    # (leap year); (b) 30 Dec + 2 = "30 Feb" -> 29 Feb, + 1 day = 1 Mar 2028. Earlier: 29 Feb.
    ("general", "2027-12-30", {}, "2028-02-29"),
    # 29 Dec 2027 -> 30 Dec + 2 = "30 Feb" -> Tue 29 Feb 2028.
    ("general", "2027-12-29", {}, "2028-02-29"),
    # 29 Dec 2028 -> 30 Dec + 2 = "30 Feb 2029" -> Wed 28 Feb 2029 (not a leap year).
    ("general", "2028-12-29", {}, "2029-02-28"),
    # 24 Oct 2026 -> 25 Dec 2026 (Fri, Christmas), Sat 26, Sun 27 -> Mon 28 Dec 2026.
    ("general", "2026-10-24", {}, "2026-12-28"),
    # 2 Feb 2026 -> Fri 3 Apr 2026: Good Friday is a working day outside Alsace-Moselle.
    ("general", "2026-02-02", {}, "2026-04-03"),
    # Same in Alsace-Moselle (6AE): Good Friday 3, Sat 4, Sun 5, Easter Monday 6 -> Tue 7 Apr.
    ("general", "2026-02-02", {"subdiv": "6AE"}, "2026-04-07"),
    # Moselle (57) has the same extra days.
    ("general", "2026-02-02", {"subdiv": "57"}, "2026-04-07"),
    # 25 Oct 2025 -> Fri 26 Dec 2025: a working day outside Alsace-Moselle.
    ("general", "2025-10-25", {}, "2025-12-26"),
    # Same in Bas-Rhin (6AE): 26 Dec holiday, Sat 27, Sun 28 -> Mon 29 Dec 2025.
    ("general", "2025-10-25", {"subdiv": "6AE"}, "2025-12-29"),
    # 5 Feb 2026 -> 6 Apr 2026 (Easter Monday) -> Tue 7 Apr.
    ("general", "2026-02-05", {}, "2026-04-07"),
    # 13 Mar 2026 -> 14 May 2026 (Ascension, Thu) -> Fri 15 May.
    ("general", "2026-03-13", {}, "2026-05-15"),
    # 24 Mar 2026 -> 25 May 2026 (Whit Monday) -> Tue 26 May.
    ("general", "2026-03-24", {}, "2026-05-26"),
    # End of February: (a) 1 Mar + 2 = Fri 1 May 2026; (b) 28 Feb + 2 = 28 Apr, + 1 day =
    # Wed 29 Apr 2026. The earlier, 29 Apr, a working day, is kept.
    ("general", "2026-02-28", {}, "2026-04-29"),
    # 7 Mar 2026 -> Fri 8 May 2026 (holiday), weekend -> Mon 11 May.
    ("general", "2026-03-07", {}, "2026-05-11"),
    # 13 May 2026 -> Tue 14 Jul 2026 (holiday) -> Wed 15 Jul.
    ("general", "2026-05-13", {}, "2026-07-15"),
    # 14 Jun 2026 -> Sat 15 Aug 2026 (holiday and Saturday), Sun 16 -> Mon 17 Aug.
    ("general", "2026-06-14", {}, "2026-08-17"),
    # 31 Aug 2026 -> 1 Sep + 2 = Sun 1 Nov 2026 (holiday) -> Mon 2 Nov.
    ("general", "2026-08-31", {}, "2026-11-02"),
    # 31 Oct 2026 -> 1 Nov + 2 = Fri 1 Jan 2027 (holiday), weekend -> Mon 4 Jan 2027.
    ("general", "2026-10-31", {}, "2027-01-04"),
    # 31 Jan 2026 -> 1 Feb + 2 = Wed 1 Apr 2026 (the day after moves into February first).
    ("general", "2026-01-31", {}, "2026-04-01"),
    # 30 Jun 2026: (a) 1 Jul + 2 = Tue 1 Sep; (b) 30 Aug + 1 = Mon 31 Aug 2026 -> 31 Aug.
    ("general", "2026-06-30", {}, "2026-08-31"),
    # 30 Apr 2026: (a) 1 May + 2 = 1 Jul; (b) 30 Jun + 1 = 1 Jul -> Wed 1 Jul 2026.
    ("general", "2026-04-30", {}, "2026-07-01"),
    # 31 Dec 2025 -> 1 Jan 2026 + 2 = Sun 1 Mar 2026 -> Mon 2 Mar.
    ("general", "2025-12-31", {}, "2026-03-02"),
    # 6 Jan 2026 -> 7 Mar 2026 (Saturday) -> Mon 9 Mar.
    ("general", "2026-01-06", {}, "2026-03-09"),
    # Délai de distance outre-mer (R. 421-7): 2 Oct 2026 -> 3 Oct + 3 months = Sun 3 Jan 2027
    # -> Mon 4 Jan 2027.
    ("general", "2026-10-02", {"distance": "outre-mer"}, "2027-01-04"),
    # Délai de distance étranger: 3 Oct + 4 months = Wed 3 Feb 2027.
    ("general", "2026-10-02", {"distance": "etranger"}, "2027-02-03"),
    # Réunion (974) abolition day 20 Dec: 19 Oct 2027 -> Mon 20 Dec 2027 -> Tue 21 Dec.
    ("general", "2027-10-19", {"subdiv": "974"}, "2027-12-21"),
    # Same dates in metropolitan France: Mon 20 Dec 2027 is a working day.
    ("general", "2027-10-19", {}, "2027-12-20"),
    # Guadeloupe (971) abolition day 27 May: 26 Mar 2026 -> Wed 27 May 2026 -> Thu 28 May.
    ("general", "2026-03-26", {"subdiv": "971"}, "2026-05-28"),
    # --- prorogation by recours gracieux (CRPA L. 411-2) ----------------------------------
    # Notified 10 Sep 2026, recours 1 Oct 2026 (in time): implicit rejection born 1 Dec 2026;
    # 2 Dec + 2 months = Tue 2 Feb 2027.
    ("general", "2026-09-10", {"recours_gracieux": D("2026-10-01")}, "2027-02-02"),
    # Same, explicit rejection notified 20 Oct 2026: 21 Oct + 2 = Mon 21 Dec 2026 (earlier).
    ("general", "2026-09-10",
     {"recours_gracieux": D("2026-10-01"), "rejet_explicite": D("2026-10-20")}, "2026-12-21"),
    # Recours made on the last day (3 Dec 2026, deadline of 2 Oct 2026): born 3 Feb 2027;
    # 4 Feb + 2 = Sun 4 Apr 2027 -> Mon 5 Apr 2027 (Easter Monday 2027 is 29 Mar).
    ("general", "2026-10-02", {"recours_gracieux": D("2026-12-03")}, "2027-04-05"),
    # Recours after the deadline (Mon 9 Mar 2026 for 6 Jan 2026): no prorogation.
    ("general", "2026-01-06", {"recours_gracieux": D("2026-03-10")}, "2026-03-09"),
    # Urbanisme, recours from 27 Nov 2025 (L. 600-12-2): no prorogation; 6 Jan + 2 = Fri 6 Mar.
    ("general", "2026-01-05", {"urbanisme": True, "recours_gracieux": D("2026-01-20")},
     "2026-03-06"),
    # Urbanisme, recours before the loi 2025-1129: former rule; born 15 Nov 2025; 16 Nov + 2 =
    # Fri 16 Jan 2026.
    ("general", "2025-09-01", {"urbanisme": True, "recours_gracieux": D("2025-09-15")},
     "2026-01-16"),
    # --- implicit rejection (CRPA L. 231-4, CJA R. 421-2) ----------------------------------
    # Request received 15 Jan 2026: rejection born 15 Mar; 16 Mar + 2 = Sat 16 May -> Mon 18.
    ("implicit_rejection", "2026-01-15", {}, "2026-05-18"),
    # Received 31 Dec 2025: born "31 Feb" -> 28 Feb 2026 (earliest reading); then (a) 1 Mar +
    # 2 = 1 May, (b) 28 Apr + 1 = Wed 29 Apr 2026 -> 29 Apr.
    ("implicit_rejection", "2025-12-31", {}, "2026-04-29"),
    # Received 2 Mar 2026: born 2 May (a Saturday: a decision can be born any day); 3 May + 2
    # = Fri 3 Jul 2026.
    ("implicit_rejection", "2026-03-02", {}, "2026-07-03"),
    # --- Czabaj: one year from notification, not franc, not moved ---------------------------
    ("czabaj", "2025-03-10", {}, "2026-03-10"),
    # 29 Feb 2024 + 1 year: no 29 Feb 2025 -> 28 Feb 2025.
    ("czabaj", "2024-02-29", {}, "2025-02-28"),
    # --- OQTF since 15 Jul 2024 -------------------------------------------------------------
    # One month, counted prudently as not franc: 31 Jan 2026 -> "31 Feb" -> 28 Feb 2026.
    ("oqtf_month", "2026-01-31", {}, "2026-02-28"),
    # 5 Mar 2026 -> 5 Apr 2026, a Sunday, not moved (prudent estimate).
    ("oqtf_month", "2026-03-05", {}, "2026-04-05"),
    # Seven days, not franc (CAA Lyon 24LY03013): from the day after, midnight on the 7th day:
    # Mon 2 Mar 2026 -> Mon 9 Mar 2026.
    ("oqtf_7_days", "2026-03-02", {}, "2026-03-09"),
    # 30 Apr 2026 -> Thu 7 May 2026.
    ("oqtf_7_days", "2026-04-30", {}, "2026-05-07"),
    # 48 hours from Fri 6 Mar 2026 15:30 -> Sun 8 Mar 2026 15:30 (hours: no weekend extension).
    ("oqtf_48_hours", "2026-03-06", {"at_time": time(15, 30)}, "2026-03-08"),
    # 31 Dec 2026 23:10 -> Sat 2 Jan 2027 23:10 (1 Jan holiday ignored).
    ("oqtf_48_hours", "2026-12-31", {"at_time": time(23, 10)}, "2027-01-02"),
    # --- elections, C. électoral R. 119: 18:00 on the fifth day ----------------------------
    # LEGAL.md: rounds of 15 and 22 March 2026 -> Fri 20 and Fri 27 March 2026 at 18:00.
    ("election", "2026-03-15", {}, "2026-03-20"),
    ("election", "2026-03-22", {}, "2026-03-27"),
    # Round on Sun 3 May 2026 -> Fri 8 May 2026 (holiday; no extension assumed, prudent).
    ("election", "2026-05-03", {}, "2026-05-08"),
    # --- urbanisme, third parties, C. urb. R. 600-2 -------------------------------------------
    # First day of display 10 Jan 2026 -> 11 Jan + 2 = Wed 11 Mar 2026.
    ("urbanisme_display", "2026-01-10", {}, "2026-03-11"),
    # 13 May 2026 -> 14 Jul 2026 (holiday) -> Wed 15 Jul.
    ("urbanisme_display", "2026-05-13", {}, "2026-07-15"),
    # Recours gracieux on 1 Feb 2026 does not extend (L. 600-12-2): still 11 Mar 2026.
    ("urbanisme_display", "2026-01-10", {"recours_gracieux": D("2026-02-01")}, "2026-03-11"),
    # --- environmental authorisations, C. env. R. 181-50 -------------------------------------
    # Decision 1 Oct 2024 (after 1 Sep 2024): 2 months from publication 2 Oct -> Tue 3 Dec 2024.
    ("environment_third_party", "2024-10-02", {"decision_date": D("2024-10-01")}, "2024-12-03"),
    # Decision 3 Jun 2024 (before): 4 months from 5 Jun -> 6 Oct 2024 (Sunday) -> Mon 7 Oct.
    ("environment_third_party", "2024-06-05", {"decision_date": D("2024-06-03")}, "2024-10-07"),
    # --- public procurement -----------------------------------------------------------------
    # Standstill, CCP R. 2182-1: sent Mon 2 Mar 2026 electronically -> +11 days = 13 Mar 2026.
    ("procurement_standstill", "2026-03-02", {}, "2026-03-13"),
    # Sent by post -> +16 days = 18 Mar 2026.
    ("procurement_standstill", "2026-03-02", {"electronic": False}, "2026-03-18"),
    # Référé contractuel, CJA R. 551-7: 31 days from publication on 2 Mar 2026 -> 2 Apr 2026.
    ("procurement_contractual", "2026-03-02", {}, "2026-04-02"),
    # --- local taxes, LPF R. 196-2: 31 Dec of the year after collection ----------------------
    ("local_tax_claim", "2025-08-31", {}, "2026-12-31"),
]


def _case_id(case: tuple) -> str:
    kind, start, options, _ = case
    suffix = ",".join(f"{key}={value}" for key, value in options.items())
    return f"{kind}:{start}" + (f"[{suffix}]" if suffix else "")


def test_table_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_hand_computed_deadline(case: tuple) -> None:
    kind, start, options, expected = case
    result = dl.compute(kind, D(start), **options)
    assert result.deadline == D(expected)
    assert result.kind == kind
    assert result.start == D(start)
    assert result.rule and result.source


# Expected hours: whole days end at 24:00, elections at 18:00, hour deadlines at the hour.
TIME_CASES = [
    ("general", "2026-10-02", {}, "24:00"),
    ("election", "2026-03-15", {}, "18:00"),
    ("oqtf_48_hours", "2026-03-06", {"at_time": time(15, 30)}, "15:30"),
    # Unknown hour: counted from 00:00 on 19 Mar -> 21 Mar 00:00, shown as 20 Mar at 24:00.
    ("oqtf_48_hours", "2026-03-19", {}, "24:00"),
    ("oqtf_7_days", "2026-03-02", {}, "24:00"),
    ("procurement_standstill", "2026-03-02", {}, None),
]


@pytest.mark.parametrize("kind,start,options,expected_time", TIME_CASES)
def test_deadline_time(kind: str, start: str, options: dict, expected_time: str | None) -> None:
    assert dl.compute(kind, D(start), **options).time == expected_time


def test_48_hours_unknown_time_is_counted_from_midnight() -> None:
    result = dl.oqtf_48_hours(D("2026-03-19"))
    assert result.deadline == D("2026-03-20")
    assert result.expires_at is not None
    assert result.expires_at.isoformat() == "2026-03-21T00:00:00"
    assert any("heure de notification inconnue" in note for note in result.notes)


def test_notes_explain_holiday_move_and_prorogation() -> None:
    moved = dl.general(D("2026-09-10"))
    assert any("reportée au premier jour ouvrable" in note for note in moved.notes)
    assert any("11/11/2026" in note for note in moved.notes)
    prorogated = dl.general(D("2026-09-10"), recours_gracieux=D("2026-10-01"))
    assert any("prorogé par recours gracieux" in note and "01/10/2026" in note
               for note in prorogated.notes)
    urbanisme = dl.general(D("2026-01-05"), urbanisme=True, recours_gracieux=D("2026-01-20"))
    assert any("L. 600-12-2" in note for note in urbanisme.notes)
    late = dl.general(D("2026-01-06"), recours_gracieux=D("2026-03-10"))
    assert any("pas de prorogation" in note for note in late.notes)


def test_month_end_divergence_is_noted() -> None:
    result = dl.general(D("2026-06-30"))
    assert any("fin de mois" in note and "01/09/2026" in note and "31/08/2026" in note
               for note in result.notes)
    assert not any("fin de mois" in note for note in dl.general(D("2026-06-29")).notes)


def test_czabaj_note_and_rule() -> None:
    result = dl.czabaj(D("2025-03-10"))
    assert "délai raisonnable d'un an (Czabaj)" in result.notes
    assert "387763" in result.source


def test_old_oqtf_regime_is_flagged() -> None:
    result = dl.oqtf_month(D("2024-07-01"))
    assert any("ancien régime" in note for note in result.notes)


def test_invalid_inputs_raise_value_error() -> None:
    with pytest.raises(ValueError):
        dl.general(D("2026-03-01"), recours_gracieux=D("2026-02-01"))
    with pytest.raises(ValueError):
        dl.general(D("2026-03-01"), distance="lune")
    with pytest.raises(ValueError):
        dl.compute("no_such_kind", D("2026-03-01"))
    with pytest.raises(ValueError):
        dl.compute("czabaj", D("2026-03-01"), electronic=False)
