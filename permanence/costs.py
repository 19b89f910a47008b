"""What the channels' APIs cost, as the desk shows it: per live session and per month.

A channel that pays for its API calls (X: ``permanence/x_costs.py``) registers, when it starts,
a *totals* function: given ``[start, end)`` intervals, it returns for each the
``(kind, count, micro_usd)`` of the charges it recorded in it (synchronous: it reads a
database; the desk calls it off the event loop). :func:`report` asks every registered channel
for the month, each session of the schedule (``schedule.yml``) in it, and the current or last
session, and returns JSON-ready figures in US dollars. This module imports no channel and no
desk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from permanence.registry import Registry
from permanence.schedule import Schedule, Session

logger = logging.getLogger(__name__)

X = "x"
MICRO = 1_000_000
# How far back the last session is looked for when none is running.
LAST_SESSION_DAYS = 62
_MONTH = re.compile(r"(\d{4})-(\d{2})")

Rows = list[tuple[str, int, int]]
Totals = Callable[[list[tuple[datetime, datetime]]], list[Rows]]

_registry: Registry[Totals] = Registry()
register = _registry.register
unregister = _registry.unregister


def totals(rows: Iterable[tuple[str, int, int]]) -> dict[str, Any]:
    """``(kind, count, micro_usd)`` rows summed: ``{"cost_usd", "by_kind": {kind: {"count",
    "cost_usd"}}}`` (exact sums in millionths, then dollars)."""
    by_kind: dict[str, list[int]] = {}
    for kind, count, micro in rows:
        entry = by_kind.setdefault(kind, [0, 0])
        entry[0] += int(count)
        entry[1] += int(micro)
    return {"cost_usd": sum(micro for _, micro in by_kind.values()) / MICRO,
            "by_kind": {kind: {"count": count, "cost_usd": micro / MICRO}
                        for kind, (count, micro) in sorted(by_kind.items())}}


def month_bounds(month: str | None, schedule: Schedule, now: datetime
                 ) -> tuple[str, datetime, datetime]:
    """``"YYYY-MM"`` (default: ``now``'s month in the schedule's time zone) and its first and
    last instants, ``[start, end)``, in the schedule's time zone. ValueError if malformed."""
    tz = schedule.timezone
    if month is None:
        local = now.astimezone(tz)
        year, number = local.year, local.month
    else:
        match = _MONTH.fullmatch(month)
        if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise ValueError("month must be YYYY-MM")
        year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=tz)
    following = date(year + number // 12, number % 12 + 1, 1)
    end = datetime(following.year, following.month, 1, tzinfo=tz)
    return f"{year:04d}-{number:02d}", start, end


def latest_session(schedule: Schedule, now: datetime) -> Session | None:
    """The session running at ``now``, else the last one that started before it (within
    :data:`LAST_SESSION_DAYS`), else None."""
    started = [session for session in schedule.sessions_between(
        now - timedelta(days=LAST_SESSION_DAYS), now + timedelta(seconds=1))
        if session.start <= now]
    return started[-1] if started else None


def report(schedule: Schedule, month: str | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """The cost of each registered channel for ``month`` (``"YYYY-MM"``, default the current
    one): the month, each session that starts in it, the part outside sessions, and the
    current or last session (``latest_session``, which may be in an earlier month). A channel
    whose figures cannot be read is listed with ``"error"`` (logged)."""
    now = now or datetime.now(timezone.utc)
    label, start, end = month_bounds(month, schedule, now)
    sessions = [s for s in schedule.sessions_between(start, end) if start <= s.start < end]
    latest = latest_session(schedule, now)
    spans = [(start, end)] + [(s.start, s.end) for s in sessions]
    if latest is not None:
        spans.append((latest.start, latest.end))
    channels = []
    for name, read in _registry.items():
        try:
            rows = read(spans)
        except Exception:  # noqa: BLE001 - one channel's failure must not hide the others
            logger.exception("costs.report_failed channel=%s", name)
            channels.append({"channel": name, "error": "unreadable"})
            continue
        if len(rows) != len(spans):
            logger.error("costs.report_mismatch channel=%s", name)
            channels.append({"channel": name, "error": "unreadable"})
            continue
        month_total = totals(rows[0])
        per_session = [{**_span(s, now), **totals(r)}
                       for s, r in zip(sessions, rows[1:1 + len(sessions)], strict=True)]
        in_sessions = sum(round(s["cost_usd"] * MICRO) for s in per_session)
        channels.append({
            "channel": name,
            "month": month_total,
            "sessions": per_session,
            "outside_sessions_usd": (round(month_total["cost_usd"] * MICRO) - in_sessions)
            / MICRO,
            "latest_session": ({**_span(latest, now), **totals(rows[-1])}
                               if latest is not None else None),
        })
    return {"currency": "USD", "month": label, "from": start.isoformat(),
            "to": end.isoformat(), "now": now.astimezone(timezone.utc).isoformat(),
            "channels": channels}


def _span(session: Session, now: datetime) -> dict[str, Any]:
    return {"start": session.start.isoformat(), "end": session.end.isoformat(),
            "live": session.start <= now < session.end}
