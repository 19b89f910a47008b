"""The firm's figures (pure logic, no I/O): per month and per live session, from the cases.

Each case opened is a :class:`CaseRow`, read from the anonymous counts (``desk_figure``,
``desk/figures_record.py``), which outlive erasure and retention: the day it was opened (the
handover) and the live session it opened in, its kind, tier, domain, the Ordre(s) a referral
pointed to, whether it is still open, and the wait for the lawyer's first reply. Nothing in a
row or in the figures identifies a person: no id, handle, channel address, text or exact time.

    rows = figures_db.rows(session, start, end)          # desk/figures_db.py
    report = figures.report(rows, month, start, end, sessions, cost_report)
    figures.to_csv(report)

A period's figures (:func:`period`): ``conversations`` (distinct conversations that opened a
case; a conversation is counted by the desk, without its id), ``cases`` (cases opened),
``handovers`` (cases for the lawyer), ``referrals`` and ``referrals_by_ordre`` (out of scope,
by the Ordre named to the person), ``domains``, ``tiers``, ``first_reply`` (seconds from the
handover to the lawyer's first reply: ``median``, ``p90`` by nearest rank, ``answered``,
``unanswered``) and ``still_open`` (cases opened in the period and still open now).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

TIERS = ("P0", "P1", "P2", "P3", "unknown", "OUT")
NO_ORDRE = "unknown"


@dataclass(frozen=True)
class CaseRow:
    """One case, without anything that identifies the person. ``conversation`` is an opaque
    number the reader assigns (the same for the cases of one conversation, never its id)."""

    conversation: int
    day: date  # opened, in the schedule's time zone
    session_start: datetime | None  # the live session it opened in
    kind: str  # lawyer | referral
    tier: str | None
    domain: str | None
    ordres: tuple[str, ...]
    open: bool  # still open now (an erased or purged case is not)
    first_reply_seconds: float | None


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in (0, 1]): the smallest value with at least
    ``share`` of the values at or below it; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def ordre_key(ordres: Sequence[str]) -> str:
    """A referral's Ordre: its name, several joined by « ou », ``unknown`` when none."""
    names = [name for name in ordres if isinstance(name, str) and name]
    return " ou ".join(names) if names else NO_ORDRE


def period(rows: Iterable[CaseRow]) -> dict[str, Any]:
    """The figures of these cases (see the module's docstring)."""
    rows = list(rows)
    waits = [r.first_reply_seconds for r in rows
             if r.kind == "lawyer" and r.first_reply_seconds is not None]
    handovers = [r for r in rows if r.kind == "lawyer"]
    referrals = [r for r in rows if r.kind == "referral"]
    median = statistics.median(waits) if waits else None
    return {
        "conversations": len({r.conversation for r in rows}),
        "cases": len(rows),
        "handovers": len(handovers),
        "referrals": len(referrals),
        "referrals_by_ordre": _sorted(Counter(ordre_key(r.ordres) for r in referrals)),
        "domains": _sorted(Counter(r.domain or "unknown" for r in rows)),
        "tiers": {tier: n for tier, n in
                  ((t, sum(1 for r in rows if (r.tier or "unknown") == t)) for t in TIERS)
                  if n},
        "first_reply": {
            "median_seconds": median,
            "p90_seconds": percentile(waits, 0.9),
            "answered": len(waits),
            "unanswered": len(handovers) - len(waits),
        },
        "still_open": sum(1 for r in rows if r.open),
    }


def _sorted(counts: Counter) -> dict[str, int]:
    """Most frequent first, then by name: the charts' order."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _within(rows: Sequence[CaseRow], start: datetime, end: datetime) -> list[CaseRow]:
    """The rows of the days from ``start`` to ``end`` (a month's bounds, in its time zone)."""
    return [r for r in rows if start.date() <= r.day < end.date()]


def report(rows: Sequence[CaseRow], month: str, start: datetime, end: datetime,
           sessions: Sequence[Any], costs: Mapping[str, Any] | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """The month's figures, each session's (``sessions``: objects with ``start`` / ``end``,
    those that start in the month; a case counts in the session it opened in), the cases
    opened outside sessions, and X's cost and DM counts when ``costs``
    (``permanence.costs.report`` for the same month) has the X channel."""
    month_rows = _within(rows, start, end)
    x = next((c for c in (costs or {}).get("channels", ()) if c.get("channel") == "x"), None)
    x_sessions = {s["start"]: s for s in (x or {}).get("sessions", ())}
    in_sessions: set[int] = set()
    per_session = []
    for session in sessions:
        found = [r for r in month_rows if r.session_start == session.start]
        in_sessions.update(id(r) for r in found)
        entry = {"start": session.start.isoformat(), "end": session.end.isoformat(),
                 "live": now is not None and session.start <= now < session.end,
                 **period(found)}
        if x is not None and "error" not in x:
            entry["x"] = _x_part(x_sessions.get(session.start.isoformat()))
        per_session.append(entry)
    result = {
        "month": month, "from": start.isoformat(), "to": end.isoformat(),
        "figures": period(month_rows),
        "sessions": per_session,
        "outside_sessions": period(r for r in month_rows if id(r) not in in_sessions),
        "x": None,
    }
    if x is not None:
        result["x"] = ({"error": x["error"]} if "error" in x else
                       {**_x_part(x.get("month")),
                        "outside_sessions_usd": x.get("outside_sessions_usd")})
    return result


def _x_part(found: Mapping[str, Any] | None) -> dict[str, Any]:
    """X's cost of a period and its billed calls by kind (DMs sent, DMs read...)."""
    found = found or {}
    return {"cost_usd": found.get("cost_usd", 0.0),
            "by_kind": {kind: entry.get("count", 0)
                        for kind, entry in (found.get("by_kind") or {}).items()}}


CSV_COLUMNS = ("period", "start", "end", "figure", "key", "value")


def csv_rows(result: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The report as long rows: one number a row (period, start, end, figure, key, value)."""
    out: list[tuple[Any, ...]] = []

    def add(label: str, start: str, end: str, figures: Mapping[str, Any],
            x: Mapping[str, Any] | None) -> None:
        for name in ("conversations", "cases", "handovers", "referrals", "still_open"):
            out.append((label, start, end, name, "", figures[name]))
        for name in ("referrals_by_ordre", "domains", "tiers"):
            for key, value in figures[name].items():
                out.append((label, start, end, name, key, value))
        for key, value in figures["first_reply"].items():
            out.append((label, start, end, "first_reply", key, "" if value is None else value))
        if x and "error" not in x:
            out.append((label, start, end, "x_cost_usd", "", x["cost_usd"]))
            for kind, count in x["by_kind"].items():
                out.append((label, start, end, "x_calls", kind, count))

    add("month", result["from"], result["to"], result["figures"], result["x"])
    for session in result["sessions"]:
        add("session", session["start"], session["end"], session, session.get("x"))
    add("outside_sessions", result["from"], result["to"], result["outside_sessions"], None)
    return out


def _cell(value: Any) -> Any:
    """A text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(result: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(tuple(_cell(v) if i > 2 else v for i, v in enumerate(row))
                     for row in csv_rows(result))
    return buffer.getvalue()
