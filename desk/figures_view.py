"""What the figures page shows (pure logic, no I/O): French labels and numbers, and the bar
charts' geometry, drawn by ``templates/figures.html`` as inline SVG (no script, no library).

Each chart has its table (the same numbers, for screen readers and for copying). The SVG is
360 units wide and scales to the page: a 390 px phone shows it at about its natural size.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from desk import views

WIDTH = 360
BAR_MAX = 290  # the longest bar; the value is written after it
ROW = 44  # a label line, then the bar
LABEL_CHARS = 48
TIER_NAMES = {**{k: v for k, v in views.TIER_LABELS.items() if k}, "unknown": "Non évaluée"}
ORDRE_UNKNOWN = "Ordre non trouvé (code postal inconnu)"


def domain_label(code: str) -> str:
    return views.DOMAIN_LABELS.get(code, "Non précisé" if code == "unknown" else code)


def ordre_label(name: str) -> str:
    return ORDRE_UNKNOWN if name == "unknown" else name


def month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{views.MONTHS_FR[int(number) - 1]} {year}"


def neighbour_months(month: str) -> tuple[str, str]:
    year, number = (int(part) for part in month.split("-"))
    before = f"{year - (number == 1):04d}-{12 if number == 1 else number - 1:02d}"
    after = f"{year + (number == 12):04d}-{1 if number == 12 else number + 1:02d}"
    return before, after


def duration(seconds: float | None) -> str:
    return "—" if seconds is None else views._duration_fr(seconds)


def chart(key: str, title: str, rows: list[tuple[str, int]]) -> dict[str, Any]:
    """A horizontal bar chart: each row's label above its bar, the value after the bar."""
    top = max((value for _, value in rows), default=0)
    bars = []
    for index, (label, value) in enumerate(rows):
        width = round(BAR_MAX * value / top) if top else 0
        short = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
        y = index * ROW
        bars.append({"label": short, "value": value, "label_y": y + 15, "bar_y": y + 21,
                     "width": max(width, 2) if value else 0, "value_x": max(width, 2) + 6,
                     "value_y": y + 34})
    return {"id": key, "title": title, "rows": rows, "bars": bars,
            "width": WIDTH, "height": max(ROW * len(rows), ROW)}


def summary(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    reply = figures["first_reply"]
    return [
        ("Conversations", str(figures["conversations"])),
        ("Dossiers ouverts", str(figures["cases"])),
        ("Transmis à l'avocat", str(figures["handovers"])),
        ("Orientés vers un Ordre des avocats", str(figures["referrals"])),
        ("Encore ouverts", str(figures["still_open"])),
        ("Première réponse de l'avocat, médiane", duration(reply["median_seconds"])),
        ("Première réponse, 90 % en moins de", duration(reply["p90_seconds"])),
        ("Transmis sans réponse de l'avocat", str(reply["unanswered"])),
    ]


def _session_label(start: str, end: str) -> str:
    begin, finish = datetime.fromisoformat(start), datetime.fromisoformat(end)
    begin, finish = begin.astimezone(views.DISPLAY_TZ), finish.astimezone(views.DISPLAY_TZ)
    return (f"{views.DAYS_FR[begin.weekday()]} {begin.day:02d}/{begin.month:02d}, "
            f"{begin.hour} h {begin.minute:02d} – {finish.hour} h {finish.minute:02d}")


def page(report: Mapping[str, Any]) -> dict[str, Any]:
    """The page's model from :func:`desk.figures.report`."""
    figures = report["figures"]
    x = report.get("x")
    before, after = neighbour_months(report["month"])
    sessions = [{
        "label": _session_label(s["start"], s["end"]) + (" (en cours)" if s["live"] else ""),
        "conversations": s["conversations"], "handovers": s["handovers"],
        "referrals": s["referrals"], "still_open": s["still_open"],
        "median": duration(s["first_reply"]["median_seconds"]),
        "p90": duration(s["first_reply"]["p90_seconds"]),
        "x_cost": views.money_usd(s["x"]["cost_usd"]) if s.get("x") else None,
    } for s in report["sessions"]]
    return {
        "month": report["month"],
        "month_label": month_label(report["month"]),
        "before": before, "after": after,
        "summary": summary(figures),
        "charts": [
            chart("domains", "Domaines",
                  [(domain_label(k), v) for k, v in figures["domains"].items()]),
            chart("tiers", "Urgence",
                  [(TIER_NAMES.get(k, k), v) for k, v in figures["tiers"].items()]),
            chart("ordres", "Orientations par Ordre des avocats",
                  [(ordre_label(k), v) for k, v in figures["referrals_by_ordre"].items()]),
        ],
        "sessions": sessions,
        "with_x": bool(x) and "error" not in x,
        "x_error": bool(x) and "error" in x,
        "x_line": _x_line(x) if x and "error" not in x else "",
        "outside": report["outside_sessions"]["cases"],
    }


def _x_line(x: Mapping[str, Any]) -> str:
    by_kind = x["by_kind"]
    sent = by_kind.get("dm_sent", 0)
    read = by_kind.get("dm_received", 0) + by_kind.get("dm_event_read", 0)
    return (f"{views.money_usd(x['cost_usd'])} ({sent} DM envoyé{'s' if sent > 1 else ''}, "
            f"{read} DM lu{'s' if read > 1 else ''})")
