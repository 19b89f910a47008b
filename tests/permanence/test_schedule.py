"""The permanence schedule (permanence/schedule.py): rules, extra and cancelled days, live / off
at and around a session, summer / winter time, the file's mistakes, French dates, the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from permanence.schedule import (
    DEFAULT_PATH,
    ScheduleError,
    SessionStatus,
    format_session_fr,
    load_schedule,
    main,
)

ROOT = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc

FIRST_TUESDAY = """
timezone: Europe/Paris
recurring:
  - every: month
    week: first
    weekday: tuesday
    start: "12:00"
    end: "13:00"
"""


@pytest.fixture
def write(tmp_path: Path):
    """Write a schedule file and load it."""
    counter = iter(range(1000))

    def _write(text: str):
        path = tmp_path / f"schedule-{next(counter)}.yml"
        path.write_text(text, encoding="utf-8")
        return load_schedule(path)

    return _write


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def starts(sessions) -> list[datetime]:
    return [s.start for s in sessions]


# --- rules -------------------------------------------------------------------------------------


def test_the_first_tuesday_of_each_month(write) -> None:
    schedule = write(FIRST_TUESDAY)
    sessions = schedule.sessions_between(paris(2026, 1, 1), paris(2027, 1, 1))
    days = [6, 3, 3, 7, 5, 2, 7, 4, 1, 6, 3, 1]  # from a 2026 calendar
    assert starts(sessions) == [paris(2026, month, day, 12) for month, day in
                                zip(range(1, 13), days, strict=True)]
    assert all(s.end - s.start == timedelta(hours=1) for s in sessions)
    assert all(s.start.tzinfo == PARIS and s.end.tzinfo == PARIS for s in sessions)


@pytest.mark.parametrize(
    ("week", "weekday", "expected"),
    [
        ("last", "friday", [30, 27, 27, 24, 29, 26]),  # March has 4 Fridays, May 5
        ("second", "monday", [12, 9, 9, 13, 11, 8]),
        ("third", "sunday", [18, 15, 15, 19, 17, 21]),
        ("fourth", "saturday", [24, 28, 28, 25, 23, 27]),
    ],
)
def test_which_weekday_of_the_month(write, week, weekday, expected) -> None:
    schedule = write(FIRST_TUESDAY.replace("first", week).replace("tuesday", weekday)
                     .replace('"12:00"', '"18:30"').replace('"13:00"', '"19:30"'))
    sessions = schedule.sessions_between(paris(2026, 1, 1), paris(2026, 7, 1))
    assert starts(sessions) == [paris(2026, month, day, 18, 30)
                                for month, day in zip(range(1, 7), expected, strict=True)]


def test_a_weekly_rule_between_its_first_and_last_day(write) -> None:
    schedule = write("""
timezone: Europe/Paris
recurring:
  - {every: week, weekday: thursday, start: "18:00", end: "19:30",
     from: 2026-05-10, until: 2026-06-04}
""")
    sessions = schedule.sessions_between(paris(2026, 5, 1), paris(2026, 7, 1))
    assert starts(sessions) == [paris(2026, 5, d, 18) for d in (14, 21, 28)] + [
        paris(2026, 6, 4, 18)]
    assert sessions[0].end == paris(2026, 5, 14, 19, 30)


def test_a_daily_rule_until_midnight(write) -> None:
    schedule = write('timezone: Europe/Paris\nrecurring: [{every: day, start: "20:00", '
                     'end: "24:00"}]\n')
    sessions = schedule.sessions_between(paris(2026, 5, 30), paris(2026, 6, 2))
    assert [(s.start, s.end) for s in sessions] == [
        (paris(2026, 5, 30, 20), paris(2026, 5, 31, 0)),
        (paris(2026, 5, 31, 20), paris(2026, 6, 1, 0)),
        (paris(2026, 6, 1, 20), paris(2026, 6, 2, 0)),
    ]


def test_unquoted_times_are_read_as_times(write) -> None:
    # YAML 1.1 would read 12:00 as 720 (base 60).
    quoted = write(FIRST_TUESDAY)
    unquoted = write(FIRST_TUESDAY.replace('"12:00"', "12:00").replace('"13:00"', "13:00"))
    window = (paris(2026, 1, 1), paris(2026, 3, 1))
    assert unquoted.sessions_between(*window) == quoted.sessions_between(*window)


def test_cancelled_days_and_extra_sessions(write) -> None:
    schedule = write(FIRST_TUESDAY + """
cancelled: [2026-08-04, 2026-09-01]
extra:
  - {date: 2026-08-11, start: "12:00", end: "13:00"}    # postponed a week
  - {date: 2026-09-01, start: "17:00", end: "18:00"}    # moved within the day
  - date: 2026-09-01
    start: "18:30"
    end: "19:00"
""")
    sessions = schedule.sessions_between(paris(2026, 7, 15), paris(2026, 10, 1))
    assert [(s.start, s.end) for s in sessions] == [
        (paris(2026, 8, 11, 12), paris(2026, 8, 11, 13)),
        (paris(2026, 9, 1, 17), paris(2026, 9, 1, 18)),
        (paris(2026, 9, 1, 18, 30), paris(2026, 9, 1, 19)),
    ]


def test_sessions_between_includes_the_one_already_running(write) -> None:
    schedule = write(FIRST_TUESDAY)
    sessions = schedule.sessions_between(paris(2026, 12, 1, 12, 59), paris(2026, 12, 1, 14))
    assert starts(sessions) == [paris(2026, 12, 1, 12)]
    assert schedule.sessions_between(paris(2026, 12, 1, 13), paris(2026, 12, 31)) == []


# --- live or off -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "live", "current_end", "next_start"),
    [
        pytest.param(paris(2026, 11, 28, 19), False, None, paris(2026, 12, 1, 12), id="before"),
        pytest.param(paris(2026, 12, 1, 11, 59, 59), False, None, paris(2026, 12, 1, 12),
                     id="one-second-before"),
        pytest.param(paris(2026, 12, 1, 12), True, paris(2026, 12, 1, 13),
                     paris(2027, 1, 5, 12), id="at-the-start"),
        pytest.param(paris(2026, 12, 1, 12, 30), True, paris(2026, 12, 1, 13),
                     paris(2027, 1, 5, 12), id="inside"),
        pytest.param(datetime(2026, 12, 1, 12, 59, 59, 999999, tzinfo=PARIS), True,
                     paris(2026, 12, 1, 13), paris(2027, 1, 5, 12), id="last-microsecond"),
        # The end is excluded; the next session is in the next year.
        pytest.param(paris(2026, 12, 1, 13), False, None, paris(2027, 1, 5, 12), id="at-the-end"),
        pytest.param(paris(2026, 12, 31, 23, 59), False, None, paris(2027, 1, 5, 12),
                     id="new-year-eve"),
        # The same moment in another time zone.
        pytest.param(datetime(2026, 12, 1, 11, 30, tzinfo=UTC), True, paris(2026, 12, 1, 13),
                     paris(2027, 1, 5, 12), id="given-in-utc"),
    ],
)
def test_status_at_and_around_a_session(write, now, live, current_end, next_start) -> None:
    status = write(FIRST_TUESDAY).status(now)
    assert (status.live, status.current_end, status.next_start) == (live, current_end, next_start)
    for moment in (status.current_end, status.next_start):
        assert moment is None or moment.tzinfo == PARIS


def test_the_next_session_skips_a_cancelled_january(write) -> None:
    schedule = write(FIRST_TUESDAY + "cancelled: [2027-01-05]\n")
    assert schedule.status(paris(2026, 12, 20)).next_start == paris(2027, 2, 2, 12)


def test_overlapping_sessions_end_with_the_latest(write) -> None:
    schedule = write(FIRST_TUESDAY + 'extra: [{date: 2026-12-01, start: "12:30", '
                                     'end: "14:00"}]\n')
    status = schedule.status(paris(2026, 12, 1, 12, 45))
    assert status.live and status.current_end == paris(2026, 12, 1, 14)
    assert status.next_start == paris(2027, 1, 5, 12)


def test_no_session_at_all(write) -> None:
    schedule = write("timezone: Europe/Paris\nrecurring: []\nextra: []\ncancelled: []\n")
    assert schedule.status(paris(2026, 5, 20)) == SessionStatus(
        live=False, current_end=None, next_start=None)
    rule_over = write(FIRST_TUESDAY.replace('end: "13:00"', 'end: "13:00"\n    until: 2026-06-30'))
    assert rule_over.status(paris(2026, 7, 1)).next_start is None


def test_the_status_needs_an_aware_moment(write) -> None:
    with pytest.raises(ValueError, match="time zone"):
        write(FIRST_TUESDAY).status(datetime(2026, 12, 1, 12, 30))


def test_the_status_now_reads_the_clock() -> None:
    status = load_schedule(ROOT / "tests" / "schedule_always_live.yml").status()
    assert status.live and status.current_end > datetime.now(UTC)


# --- summer / winter time ----------------------------------------------------------------------

WEEKLY_TUESDAY_NOON = ('timezone: Europe/Paris\nrecurring: [{every: week, weekday: tuesday, '
                       'start: "12:00", end: "13:00"}]\n')


@pytest.mark.parametrize(
    ("before", "after", "utc_hours"),
    [
        # Summer time starts on Sunday 29 March 2026: noon in Paris moves from 11:00 to 10:00 UTC.
        (paris(2026, 3, 24), paris(2026, 4, 1), [11, 10]),
        # Winter time on Sunday 25 October 2026: back from 10:00 to 11:00 UTC.
        (paris(2026, 10, 20), paris(2026, 10, 28), [10, 11]),
    ],
    ids=["march", "october"],
)
def test_a_weekly_session_keeps_its_wall_clock_time_across_the_change(
    write, before, after, utc_hours
) -> None:
    sessions = write(WEEKLY_TUESDAY_NOON).sessions_between(before, after)
    assert [s.start.hour for s in sessions] == [12, 12]
    assert [s.start.astimezone(UTC).hour for s in sessions] == utc_hours
    assert all(s.end - s.start == timedelta(hours=1) for s in sessions)
    # One week apart on the wall clock; one hour less (March) or more (October) in real time.
    real = sessions[1].start.astimezone(UTC) - sessions[0].start.astimezone(UTC)
    assert real == timedelta(days=7) + timedelta(hours=utc_hours[1] - utc_hours[0])


def test_a_session_across_the_spring_forward(write) -> None:
    # 01:30 to 03:30 on 29 March 2026: 02:00-03:00 does not exist, one real hour.
    schedule = write('timezone: Europe/Paris\nextra: [{date: 2026-03-29, start: "01:30", '
                     'end: "03:30"}]\n')
    [session] = schedule.sessions_between(paris(2026, 3, 28), paris(2026, 3, 30))
    assert session.start.astimezone(UTC) == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert session.end.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert schedule.status(datetime(2026, 3, 29, 1, 15, tzinfo=UTC)).live  # 03:15 CEST
    assert not schedule.status(datetime(2026, 3, 29, 1, 30, tzinfo=UTC)).live


def test_a_session_across_the_fall_back(write) -> None:
    # 01:30 to 03:30 on 25 October 2026: 02:00-03:00 happens twice, three real hours.
    schedule = write('timezone: Europe/Paris\nextra: [{date: 2026-10-25, start: "01:30", '
                     'end: "03:30"}]\n')
    [session] = schedule.sessions_between(paris(2026, 10, 24), paris(2026, 10, 26))
    assert session.end.astimezone(UTC) - session.start.astimezone(UTC) == timedelta(hours=3)
    # 02:30 the second time (winter time, 01:30 UTC): still live, until 03:30 winter time.
    status = schedule.status(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    assert status.live
    assert status.current_end.astimezone(UTC) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25),
                                            (date(2026, 5, 20), 24)])
def test_a_whole_day_session_on_the_change_days(day, hours) -> None:
    schedule = load_schedule(ROOT / "tests" / "schedule_always_live.yml")
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=PARIS)
    [session] = schedule.sessions_between(noon, noon + timedelta(seconds=1))
    assert session.end.astimezone(UTC) - session.start.astimezone(UTC) == timedelta(hours=hours)
    # Always live: even at midnight, where one day's session ends and the next one starts.
    assert schedule.status(datetime(day.year, day.month, day.day, tzinfo=PARIS)).live


def test_times_inside_the_missing_hour_are_read_one_hour_later(write) -> None:
    # As calendars do: 02:15 on 29 March 2026 does not exist and is read as 03:15 summer time.
    schedule = write('timezone: Europe/Paris\nextra: [{date: 2026-03-29, start: "02:15", '
                     'end: "02:45"}, {date: 2026-03-29, start: "02:00", end: "03:00"}]\n')
    [session] = schedule.sessions_between(paris(2026, 3, 28), paris(2026, 3, 30))
    assert (session.start, session.end) == (paris(2026, 3, 29, 3, 15), paris(2026, 3, 29, 3, 45))
    # 02:00-03:00 becomes 03:00-03:00: empty, no session.


# --- the file ----------------------------------------------------------------------------------


def test_the_shipped_schedule_is_the_monthly_hour(monkeypatch) -> None:
    monkeypatch.delenv("PERMANENCE_SCHEDULE_FILE", raising=False)
    assert DEFAULT_PATH == ROOT / "schedule.yml"
    schedule = load_schedule()
    assert schedule.timezone.key == "Europe/Paris"
    sessions = schedule.sessions_between(paris(2027, 1, 1), paris(2028, 1, 1))
    assert len(sessions) == 12
    assert all(s.start.weekday() == 1 and s.start.day <= 7 and s.start.hour == 12
               and s.end - s.start == timedelta(hours=1) for s in sessions)


def test_the_file_is_chosen_by_the_environment_and_read_again_when_changed(
    tmp_path, monkeypatch
) -> None:
    path = tmp_path / "elsewhere.yml"
    path.write_text(FIRST_TUESDAY, encoding="utf-8")
    monkeypatch.setenv("PERMANENCE_SCHEDULE_FILE", str(path))
    moment = paris(2026, 12, 1, 12, 30)
    assert load_schedule().status(moment).live
    path.write_text(FIRST_TUESDAY + "cancelled: [2026-12-01]\n", encoding="utf-8")
    assert not load_schedule().status(moment).live


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a mapping"),
        ("- every: month\n", "expected a mapping"),
        ("recurring: []\n", "timezone is missing"),
        ("timezone: Europe/Pariss\n", "'Europe/Pariss' is not a known time zone"),
        ("timezone: Europe/Paris\nrecuring: []\n", "unknown key recuring"),
        ("timezone: Europe/Paris\nrecurring: {every: week}\n", "recurring must be a list"),
        ("timezone: Europe/Paris\nrecurring: [monthly]\n", "recurring[0]: expected a mapping"),
        ('timezone: Europe/Paris\nrecurring: [{every: year, start: "12:00", end: "13:00"}]\n',
         "recurring[0]: every 'year' must be one of month, week, day"),
        ('timezone: Europe/Paris\nrecurring: [{every: month, weekday: tuesday, start: "12:00",'
         ' end: "13:00"}]\n', "recurring[0]: a rule every month needs week"),
        ('timezone: Europe/Paris\nrecurring: [{every: week, weekday: mardi, start: "12:00",'
         ' end: "13:00"}]\n', "recurring[0]: weekday 'mardi' must be one of monday"),
        ('timezone: Europe/Paris\nrecurring: [{every: week, weekday: tuesday, week: first,'
         ' start: "12:00", end: "13:00"}]\n', "week does not apply to a rule every week"),
        ('timezone: Europe/Paris\nrecurring: [{every: month, week: 1, weekday: tuesday,'
         ' start: "12:00", end: "13:00"}]\n', "week '1' must be one of first"),
        ('timezone: Europe/Paris\nrecurring: [{every: day, start: "12:00", end: "13:00",'
         ' duration: 60}]\n', "unknown key duration"),
        ('timezone: Europe/Paris\nrecurring: [{every: day, start: "12:00"}]\n',
         'recurring[0]: end is missing ("HH:MM")'),
        ('timezone: Europe/Paris\nrecurring: [{every: day, start: "25:00", end: "26:00"}]\n',
         "recurring[0]: start: '25:00' is not a time"),
        ('timezone: Europe/Paris\nrecurring: [{every: day, start: "12h", end: "13h"}]\n',
         "start: '12h' is not a time"),
        ('timezone: Europe/Paris\nrecurring: [{every: day, start: 12, end: 13}]\n',
         "start: '12' is not a time"),
        ('timezone: Europe/Paris\nrecurring: [{every: day, start: "24:00", end: "24:00"}]\n',
         "start: '24:00' is not a time"),
        ('timezone: Europe/Paris\nrecurring: [{every: day, start: "13:00", end: "12:00"}]\n',
         "end 12:00 is not after start 13:00"),
        ('timezone: Europe/Paris\nrecurring: [{every: day, start: "12:00", end: "13:00",'
         ' from: 2026-06-01, until: 2026-05-01}]\n', "until 2026-05-01 is before from"),
        ('timezone: Europe/Paris\nextra: [{start: "12:00", end: "13:00"}]\n',
         "extra[0]: date is missing"),
        ('timezone: Europe/Paris\nextra: [{date: 2026-02-30, start: "12:00", end: "13:00"}]\n',
         "extra[0]: date: '2026-02-30' is not a date"),
        ("timezone: Europe/Paris\ncancelled: [1er août]\n",
         "cancelled[0]: '1er août' is not a date"),
        ("timezone: Europe/Paris\ncancelled: [2026-08-04 12:00:00]\n", "is not a date"),
        ("timezone: Europe/Paris\nrecurring: [\n", "not valid YAML"),
    ],
)
def test_a_malformed_file_is_refused_with_where_and_why(tmp_path, text, message) -> None:
    path = tmp_path / "schedule.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError) as raised:
        load_schedule(path)
    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)


def test_a_missing_file_is_refused(tmp_path) -> None:
    with pytest.raises(ScheduleError, match="cannot read the schedule"):
        load_schedule(tmp_path / "nowhere.yml")


# --- French dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (paris(2026, 12, 1, 12), "mardi 1er décembre 2026 à 12 h"),
        (paris(2027, 6, 3, 18, 30), "jeudi 3 juin 2027 à 18 h 30"),
        (paris(2026, 8, 16, 9, 5), "dimanche 16 août 2026 à 9 h 05"),
        (paris(2027, 2, 1), "lundi 1er février 2027 à 0 h"),
        (paris(2026, 1, 14, 12), "mercredi 14 janvier 2026 à 12 h"),
        (paris(2026, 3, 20, 12), "vendredi 20 mars 2026 à 12 h"),
        (paris(2026, 4, 11, 12), "samedi 11 avril 2026 à 12 h"),
        (paris(2026, 5, 20, 12), "mercredi 20 mai 2026 à 12 h"),
        (paris(2026, 7, 14, 12), "mardi 14 juillet 2026 à 12 h"),
        (paris(2026, 9, 30, 12), "mercredi 30 septembre 2026 à 12 h"),
        (paris(2026, 10, 31, 23, 59), "samedi 31 octobre 2026 à 23 h 59"),
        (paris(2026, 11, 11, 12), "mercredi 11 novembre 2026 à 12 h"),
    ],
)
def test_format_session_fr(moment, text) -> None:
    assert format_session_fr(moment) == text


# --- command line ------------------------------------------------------------------------------


def test_cli_live_and_off(tmp_path, capsys) -> None:
    path = tmp_path / "schedule.yml"
    path.write_text(FIRST_TUESDAY, encoding="utf-8")

    assert main(["--file", str(path), "--at", "2026-12-01T12:30", "--count", "2"]) == 0
    out = capsys.readouterr().out
    assert "LIVE until mardi 1er décembre 2026 à 13 h" in out
    assert "next session: mardi 5 janvier 2027 à 12 h" in out
    assert out.rstrip().endswith("  mardi 1er décembre 2026 à 12 h – 13 h\n"
                                 "  mardi 5 janvier 2027 à 12 h – 13 h")

    assert main(["--file", str(path), "--at", "2026-12-01T13:00:00+01:00"]) == 0
    out = capsys.readouterr().out
    assert "OFF" in out and "LIVE" not in out
    assert "next session: mardi 5 janvier 2027 à 12 h" in out


def test_cli_reports_a_malformed_file(tmp_path, capsys) -> None:
    path = tmp_path / "schedule.yml"
    path.write_text("timezone: Nowhere/Land\n", encoding="utf-8")
    assert main(["--file", str(path)]) == 2
    assert "not a known time zone" in capsys.readouterr().err


def test_cli_as_a_module(tmp_path) -> None:
    path = tmp_path / "schedule.yml"
    path.write_text("timezone: Europe/Paris\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "permanence.schedule", "--file", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert "OFF" in done.stdout and "no session in the next two years" in done.stdout
