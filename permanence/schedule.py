"""When the lawyer's permanence is live: the schedule file, and what it says about a moment.

The file is ``schedule.yml`` at the project root, or the path in ``PERMANENCE_SCHEDULE_FILE``;
its comments describe the format (recurring monthly / weekly / daily rules, extra sessions and
cancelled days, wall-clock times in one time zone). Pure logic apart from reading that file:

    schedule = load_schedule()
    status = schedule.status()          # live?, end of the current session, start of the next
    format_session_fr(status.next_start)   # "mardi 1er décembre 2026 à 12 h"

All computations are done in UTC and the results given in the schedule's time zone, so that
sessions keep their wall-clock times across the summer / winter time changes. For the firm:
``python -m permanence.schedule`` prints live / off and the next sessions.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "schedule.yml"
# How far ahead the next session is looked for.
HORIZON_DAYS = 731
DAY_MINUTES = 24 * 60

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
EVERY = ("month", "week", "day")

DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")


class ScheduleError(ValueError):
    """The schedule file cannot be read or does not follow the format (the message says where)."""


@dataclass(frozen=True)
class Session:
    """One session, ``start`` to ``end`` (end excluded), aware, in the schedule's time zone."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class SessionStatus:
    """``live``: a session is running; ``current_end``: when it ends (``None`` when off);
    ``next_start``: the start of the next session that begins later (``None`` when there is
    none within two years). Aware datetimes in the schedule's time zone."""

    live: bool
    current_end: datetime | None
    next_start: datetime | None


@dataclass(frozen=True)
class Rule:
    """A recurring session. ``start`` / ``end`` in minutes after midnight (``end`` <= 1440);
    ``weekday`` 0 = Monday; ``week`` 1..4, or -1 for the last such weekday of the month."""

    every: str
    start: int
    end: int
    weekday: int | None = None
    week: int | None = None
    first_day: date | None = None
    last_day: date | None = None

    def falls_on(self, day: date) -> bool:
        if (self.first_day and day < self.first_day) or (self.last_day and day > self.last_day):
            return False
        if self.every == "day":
            return True
        if day.weekday() != self.weekday:
            return False
        if self.every == "week":
            return True
        if self.week == -1:
            return (day + timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == self.week


@dataclass(frozen=True)
class Schedule:
    timezone: ZoneInfo
    recurring: tuple[Rule, ...] = ()
    # day -> ((start, end) in minutes after midnight, ...)
    extra: dict[date, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    cancelled: frozenset[date] = frozenset()
    source: str = ""

    def status(self, now: datetime | None = None) -> SessionStatus:
        """Whether a session is running at ``now`` (default: the current time), until when, and
        when the next one starts."""
        moment = _utc(now)
        current_end: datetime | None = None
        next_start: datetime | None = None
        for start, end in self._spans_from(moment):
            if start > moment:
                next_start = start
                break
            current_end = max(current_end or end, end)
        return SessionStatus(current_end is not None, self._local(current_end),
                             self._local(next_start))

    def upcoming(self, now: datetime | None = None) -> Iterator[Session]:
        """The sessions not over at ``now`` (the running ones first), in order, within two
        years."""
        for start, end in self._spans_from(_utc(now)):
            yield Session(self._local(start), self._local(end))

    def sessions_between(self, start: datetime, end: datetime) -> list[Session]:
        """The sessions that overlap ``[start, end)``, in order."""
        low, high = _utc(start), _utc(end)
        first = low.astimezone(self.timezone).date() - timedelta(days=1)
        last = high.astimezone(self.timezone).date()
        return [Session(self._local(s), self._local(e)) for s, e in self._spans(first, last)
                if s < high and e > low]

    # --- internals: (start, end) pairs in UTC --------------------------------------------------
    def _spans_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        today = moment.astimezone(self.timezone).date()
        for start, end in self._spans(today - timedelta(days=1), today + timedelta(HORIZON_DAYS)):
            if end > moment:
                yield start, end

    def _spans(self, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
        day = first
        while day <= last:
            yield from self._spans_on(day)
            day += timedelta(days=1)

    def _spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        minutes = [] if day in self.cancelled else [
            (rule.start, rule.end) for rule in self.recurring if rule.falls_on(day)]
        minutes += self.extra.get(day, ())
        spans = {(self._at(day, start), self._at(day, end)) for start, end in minutes}
        # A time in the spring-forward gap (02:00-03:00) is read one hour later, as calendars
        # do; a session that becomes empty (02:00-03:00) is dropped.
        return sorted((start, end) for start, end in spans if end > start)

    def _at(self, day: date, minutes: int) -> datetime:
        """``minutes`` after midnight on ``day``, wall-clock in the time zone, as UTC."""
        day += timedelta(days=minutes // DAY_MINUTES)
        clock = time((minutes % DAY_MINUTES) // 60, minutes % 60)
        return datetime.combine(day, clock, tzinfo=self.timezone).astimezone(timezone.utc)

    def _local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.timezone) if moment is not None else None


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(timezone.utc)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone: the schedule needs an aware datetime")
    return moment.astimezone(timezone.utc)


def format_session_fr(moment: datetime) -> str:
    """A session's start in French, as written in the assistant's texts, in ``moment``'s own
    time zone: "mardi 1er décembre 2026 à 12 h", "jeudi 3 juin 2027 à 18 h 30"."""
    day = "1er" if moment.day == 1 else str(moment.day)
    return (f"{DAYS_FR[moment.weekday()]} {day} {MONTHS_FR[moment.month - 1]} {moment.year} "
            f"à {_clock_fr(moment)}")


def _clock_fr(moment: datetime) -> str:
    return f"{moment.hour} h" + (f" {moment.minute:02d}" if moment.minute else "")


# --- the file ----------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Numbers and dates stay text, checked by this module: YAML 1.1 would read an unquoted
    12:00 as the number 720 (base 60), and fail on 2026-02-30 without saying where."""


_TEXT_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _TEXT_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def load_schedule(path: str | os.PathLike[str] | None = None) -> Schedule:
    """The schedule in ``path``, ``$PERMANENCE_SCHEDULE_FILE`` or ``schedule.yml``.

    Read again when the file changes. Raises :class:`ScheduleError` (with the file and the
    place of the mistake) when it is missing or malformed.
    """
    chosen = Path(path or os.environ.get("PERMANENCE_SCHEDULE_FILE") or DEFAULT_PATH)
    try:
        stat = chosen.stat()
    except OSError as error:
        raise ScheduleError(f"{chosen}: cannot read the schedule ({error.strerror})") from error
    return _load(str(chosen), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int) -> Schedule:
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except (OSError, UnicodeDecodeError) as error:
        raise ScheduleError(f"{path}: cannot read the schedule ({error})") from error
    except yaml.YAMLError as error:
        raise ScheduleError(f"{path}: not valid YAML: {error}") from error
    return parse_schedule(data, path)


def parse_schedule(data: Any, where: str = "schedule") -> Schedule:
    """A :class:`Schedule` from the file's decoded content; ``where`` names it in errors."""
    if not isinstance(data, dict):
        raise ScheduleError(f"{where}: expected a mapping with timezone, recurring, extra and "
                            "cancelled")
    _known_keys(data, ("timezone", "recurring", "extra", "cancelled"), where)
    if "timezone" not in data:
        raise ScheduleError(f"{where}: timezone is missing (e.g. timezone: Europe/Paris)")
    try:
        zone = ZoneInfo(str(data["timezone"]))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(f"{where}: timezone {data['timezone']!r} is not a known time zone "
                            "(e.g. Europe/Paris)") from error
    recurring = tuple(_rule(item, f"{where}: recurring[{index}]")
                      for index, item in enumerate(_items(data, "recurring", where)))
    extra: dict[date, tuple[tuple[int, int], ...]] = {}
    for index, item in enumerate(_items(data, "extra", where)):
        place = f"{where}: extra[{index}]"
        day, hours = _extra(item, place)
        extra[day] = (*extra.get(day, ()), hours)
    cancelled = frozenset(_date(item, f"{where}: cancelled[{index}]")
                          for index, item in enumerate(_items(data, "cancelled", where)))
    return Schedule(zone, recurring, extra, cancelled, source=where)


def _known_keys(data: dict, known: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ScheduleError(f"{where}: unknown key {', '.join(unknown)} "
                            f"(expected: {', '.join(known)})")


def _items(data: dict, key: str, where: str) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScheduleError(f"{where}: {key} must be a list")
    return value


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise ScheduleError(f"{where}: expected a mapping (every, weekday, week, start, end)")
    _known_keys(item, ("every", "weekday", "week", "start", "end", "from", "until"), where)
    every = item.get("every")
    if every not in EVERY:
        raise ScheduleError(f"{where}: every {every!r} must be one of {', '.join(EVERY)}")
    needed = {"month": ("weekday", "week"), "week": ("weekday",), "day": ()}[every]
    for key in ("weekday", "week"):
        if key in needed and key not in item:
            raise ScheduleError(f"{where}: a rule every {every} needs {key}")
        if key not in needed and key in item:
            raise ScheduleError(f"{where}: {key} does not apply to a rule every {every}")
    weekday = week = None
    if "weekday" in item:
        if item["weekday"] not in WEEKDAYS:
            raise ScheduleError(f"{where}: weekday {item['weekday']!r} must be one of "
                                f"{', '.join(WEEKDAYS)}")
        weekday = WEEKDAYS.index(item["weekday"])
    if "week" in item:
        if item["week"] not in WEEKS:
            raise ScheduleError(f"{where}: week {item['week']!r} must be one of "
                                f"{', '.join(WEEKS)}")
        week = WEEKS[item["week"]]
    start, end = _hours(item, where)
    first_day = _date(item["from"], f"{where}: from") if "from" in item else None
    last_day = _date(item["until"], f"{where}: until") if "until" in item else None
    if first_day and last_day and last_day < first_day:
        raise ScheduleError(f"{where}: until {last_day} is before from {first_day}")
    return Rule(every, start, end, weekday, week, first_day, last_day)


def _extra(item: Any, where: str) -> tuple[date, tuple[int, int]]:
    if not isinstance(item, dict):
        raise ScheduleError(f"{where}: expected a mapping (date, start, end)")
    _known_keys(item, ("date", "start", "end"), where)
    if "date" not in item:
        raise ScheduleError(f"{where}: date is missing")
    return _date(item["date"], f"{where}: date"), _hours(item, where)


def _hours(item: dict, where: str) -> tuple[int, int]:
    for key in ("start", "end"):
        if key not in item:
            raise ScheduleError(f'{where}: {key} is missing ("HH:MM")')
    start = _minutes(item["start"], f"{where}: start", end=False)
    end = _minutes(item["end"], f"{where}: end", end=True)
    if end <= start:
        raise ScheduleError(f"{where}: end {item['end']} is not after start {item['start']} "
                            '(a session ends the day it starts; "24:00" for midnight)')
    return start, end


def _minutes(value: Any, where: str, *, end: bool) -> int:
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if (hours < 24 and minutes < 60) or (end and (hours, minutes) == (24, 0)):
            return hours * 60 + minutes
    allowed = '"HH:MM" (or "24:00")' if end else '"HH:MM", 00:00 to 23:59'
    raise ScheduleError(f"{where}: {value!r} is not a time {allowed}")


def _date(value: Any, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ScheduleError(f"{where}: {value!r} is not a date YYYY-MM-DD") from None


# --- command line ------------------------------------------------------------------------------


def describe(schedule: Schedule, now: datetime | None = None, count: int = 5) -> str:
    """What the CLI prints: live / off now, and the next ``count`` sessions, in French."""
    moment = _utc(now).astimezone(schedule.timezone)
    status = schedule.status(moment)
    lines = [f"schedule: {schedule.source} ({schedule.timezone.key})",
             f"at {moment:%Y-%m-%d %H:%M %Z}:"]
    if status.live and status.current_end is not None:
        lines.append(f"  LIVE until {format_session_fr(status.current_end)}")
    else:
        lines.append("  OFF")
    if status.next_start is not None:
        lines.append(f"  next session: {format_session_fr(status.next_start)}")
    sessions = list(islice(schedule.upcoming(moment), count))
    lines.append("upcoming sessions:" if sessions else "no session in the next two years")
    lines += [f"  {format_session_fr(s.start)} – {_clock_fr(s.end)}" for s in sessions]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m permanence.schedule",
        description="Print whether the permanence is live and the next sessions.")
    parser.add_argument("--file", help="schedule file (default: $PERMANENCE_SCHEDULE_FILE, "
                                       "else schedule.yml)")
    parser.add_argument("--at", help="the moment to look at, ISO 8601 (default: now); "
                                     "without an offset, in the schedule's time zone")
    parser.add_argument("--count", type=int, default=5, help="how many sessions to list")
    args = parser.parse_args(argv)
    try:
        schedule = load_schedule(args.file)
    except ScheduleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    now = None
    if args.at:
        try:
            now = datetime.fromisoformat(args.at)
        except ValueError:
            parser.error(f"--at {args.at!r} is not an ISO 8601 date-time")
        if now.tzinfo is None:
            now = now.replace(tzinfo=schedule.timezone)
    print(describe(schedule, now, args.count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
