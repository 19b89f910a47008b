"""The person's right of access (GDPR art. 15): everything the firm holds about one person, from
the case page, as JSON and as readable French text (issue #14, item 6).

The person is the case's conversation (``x:<X id>``, ``web:…``): every case of it in the desk
(fact card, dates, the conversation kept at the handover, the person's messages and the
lawyers' replies after it, labels, and the audit log of who handled it: lawyers by name,
actions in words), and what the tracker store holds of it (``permanence/events.py``: the
conversation with the assistant, and the consent record: each ``consent`` slot set, with its
time). Nothing of another conversation is read.

For a person on X, the public posts the X channel still lists for the desk to answer by hand
(``permanence/public_posts.py``: link and times, never a text) whose author has the case's
handle (:func:`with_public_posts`).

Not included, and said so in the export: the lawyers' internal notes (the firm's work on the
case, not data the person gave; the lawyer may add them by hand), and the channels' own
delivery records (the X store: ids and queued DMs, the same messages as above), which erasure
removes with the rest.

:func:`collect` reads (the caller's session, the project's engine for the events; audited by
the caller); :func:`to_text` is pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import cases, delivery_status, views
from desk.models import desk_audit, desk_case
from permanence import events

CONSENT_SLOT = "consent"
CONSENT_LABELS = {"given": "consentement donné", "refused": "consentement refusé",
                  "pending": "consentement demandé"}
ACTION_LABELS = {
    "case.opened": "dossier ouvert (transmis par l'assistant)",
    "case.read": "dossier consulté",
    "case.take": "pris en charge",
    "case.takeover": "repris par un autre avocat",
    "case.reassign": "confié à un autre avocat",
    "case.release": "remis dans la file",
    "case.reopen": "rouvert",
    "case.reply": "réponse envoyée",
    "case.note": "note interne ajoutée",
    "case.handback": "conversation rendue à l'assistant",
    "case.close": "dossier clos",
    "case.erasure_requested": "demande d'effacement reçue",
    "case.label_add": "étiquette ajoutée",
    "case.label_remove": "étiquette retirée",
    "case.export": "export de vos données",
    "mail.sent": "avocats prévenus par e-mail",
    "alert.sent": "alerte d'urgence envoyée au cabinet",
    "alert.failed": "alerte d'urgence non envoyée",
    "mail.failed": "e-mail aux avocats non envoyé",
}
NOT_INCLUDED = (
    "Les notes internes des avocats (le travail du cabinet sur votre dossier).",
    "Les registres d'envoi des canaux (identifiants et messages en file d'attente, qui "
    "reprennent les messages ci-dessus) : effacés avec le reste.",
)
EXTRA_FACTS = (("question_initiale", "Question initiale"), ("recit", "Votre récit"),
               ("urgence", "Urgence estimée"), ("echeance_estimee", "Échéance estimée"),
               ("echeance_regle", "Règle de l'échéance"))


def _iso(value: Any) -> str | None:
    found = views.moment(value)
    return None if found is None else found.isoformat()


def _conversation(found_events: list[dict[str, Any]]) -> dict[str, Any]:
    """The messages and the consent record among the tracker's events."""
    messages, consent = [], []
    for event in found_events:
        kind, at = event.get("event"), _iso(event.get("timestamp"))
        if kind == "user" and isinstance(event.get("text"), str):
            messages.append({"author": "person", "text": event["text"], "at": at})
        elif kind == "bot" and isinstance(event.get("text"), str):
            lawyer = (event.get("metadata") or {}).get("author") == "lawyer"
            messages.append({"author": "lawyer" if lawyer else "assistant",
                             "text": event["text"], "at": at})
        elif kind == "slot" and event.get("name") == CONSENT_SLOT and event.get("value"):
            consent.append({"value": event["value"], "at": at})
    return {"messages": messages, "consent": consent}


def collect(session: Session, case_id: int, names: Mapping[int, str],
            now: datetime | None = None) -> dict[str, Any]:
    """Everything held about the person of case ``case_id`` (:class:`cases.NotFound` if none):
    the desk's cases and the tracker store's events, both in the project's database (read in
    the session's transaction)."""
    conversation_id = cases.get_summary(session, case_id)["conversation_id"]
    case_ids = list(session.execute(
        select(desk_case.c.id).where(desk_case.c.conversation_id == conversation_id)
        .order_by(desk_case.c.opened_at, desk_case.c.id)).scalars())
    found = []
    for number in case_ids:
        # A reply's delivery is what its channel did with it, when it says (X).
        case = delivery_status.with_channel_status(cases.get_case(session, number))
        history = session.execute(
            select(desk_audit).where(desk_audit.c.case_id == number).order_by(desk_audit.c.id))
        found.append({
            "id": case["id"], "state": case["state"], "kind": case["kind"],
            "outcome": case["outcome"], "urgency": case["urgency"],
            "deadline": case["deadline"], "channel": case["channel"], "handle": case["handle"],
            "opened_at": case["opened_at"], "taken_at": case["taken_at"],
            "closed_at": case["closed_at"],
            "erasure_requested_at": case["erasure_requested_at"],
            "fact_card": case["facts"], "transcript": case["transcript"],
            "messages": [{"author": m["author"],
                          "lawyer": names.get(m["lawyer_id"]) if m["lawyer_id"] else None,
                          "text": m["text"], "at": m["at"],
                          "delivery": (m.get("delivery_status") or {}).get("state")
                          or m["delivery"]}
                         for m in case["messages"]],
            "labels": [label["name"] for label in case["labels"]],
            "history": [{"at": _iso(row.at), "action": row.action,
                         "lawyer": names.get(row.lawyer_id) if row.lawyer_id else None}
                        for row in history],
        })
    held = events.conversation_events(session.connection(), conversation_id)
    return {
        "title": "Données détenues par le cabinet : droit d'accès (RGPD, article 15)",
        "generated_at": (now or datetime.now(timezone.utc)).isoformat(),
        "conversation_id": conversation_id,
        "channel": found[0]["channel"] if found else None,
        "handles": sorted({c["handle"] for c in found if c["handle"]}),
        "conversation": _conversation(held),
        "cases": found,
        "not_included": list(NOT_INCLUDED),
    }


def with_public_posts(report: dict[str, Any], listed: list[dict[str, Any]]) -> dict[str, Any]:
    """The report with ``public_posts``: the listed posts (``public_posts.report()``) whose
    handle is one of the person's (case ignored), without anything else of the listing."""
    handles = {handle.casefold() for handle in report["handles"]}
    posts = [{"channel": channel["channel"], "id": post.get("id"), "link": post.get("link"),
              "posted_at": post.get("posted_at"), "received_at": post.get("received_at")}
             for channel in listed for post in channel.get("posts") or []
             if isinstance(post.get("handle"), str) and post["handle"].casefold() in handles]
    return {**report, "public_posts": posts}


def to_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


# ------------------------------------------------------------------ the French text


def _who(message: Mapping[str, Any]) -> str:
    if message["author"] == "person":
        return "Vous"
    if message["author"] == "lawyer":
        return f"{message.get('lawyer') or 'Avocat'} (avocat)"
    return "Assistant"


def _line(message: Mapping[str, Any]) -> str:
    text = (views.person_text(message["text"]) if message["author"] == "person"
            else message["text"])
    return f"[{views.day_clock(message.get('at')) or '?'}] {_who(message)} : {text}"


def _facts(card: Mapping[str, Any]) -> list[str]:
    rows = [(label, views.fact_value(slot, card.get(slot)))
            for slot, label in views.FACT_ROWS + EXTRA_FACTS]
    return [f"  {label} : {value}" for label, value in rows if value != "—"]


def _history(entry: Mapping[str, Any]) -> str:
    action = ACTION_LABELS.get(entry["action"], entry["action"])
    who = f" · {entry['lawyer']}" if entry.get("lawyer") else ""
    return f"  [{views.day_clock(entry['at'])}] {action}{who}"


def to_text(report: Mapping[str, Any]) -> str:
    """The export as the person reads it (French, times in Paris)."""
    channel = views.CHANNEL_LABELS.get(report["channel"], report["channel"] or "—")
    lines = [report["title"], "",
             f"Établi le {views.day_clock(report['generated_at'])} (heure de Paris).",
             f"Votre conversation : {report['conversation_id']} · canal : {channel}"
             + "".join(f" · @{handle}" for handle in report["handles"]), ""]
    conversation = report["conversation"]
    lines.append("== Consentement ==")
    lines += [f"  [{views.day_clock(c['at'])}] {CONSENT_LABELS.get(c['value'], c['value'])}"
              for c in conversation["consent"]] or ["  Aucun enregistrement."]
    lines += ["", "== Votre conversation avec l'assistant =="]
    lines += [_line(m) for m in conversation["messages"]] or [
        "  (conservée seulement dans les dossiers ci-dessous)"]
    for case in report["cases"]:
        state = views.state_label({"state": case["state"], "outcome": case["outcome"],
                                   "taken_by": None}, -1, {})
        lines += ["", f"== Dossier n° {case['id']} ==",
                  f"  Ouvert : {views.day_clock(case['opened_at'])} · état : {state}"]
        if case["taken_at"]:
            lines.append(f"  Pris en charge : {views.day_clock(case['taken_at'])}")
        if case["closed_at"]:
            lines.append(f"  Clos : {views.day_clock(case['closed_at'])}")
        if case["erasure_requested_at"]:
            lines.append("  Demande d'effacement : "
                         f"{views.day_clock(case['erasure_requested_at'])}")
        lines += ["", "  Fiche :", *_facts(case["fact_card"])]
        if case["labels"]:
            lines += ["", "  Étiquettes : " + ", ".join(case["labels"])]
        lines += ["", "  Conversation transmise à l'avocat :"]
        lines += ["  " + _line({"author": t.get("author", "person"), "text": t.get("text", ""),
                                "at": t.get("at")})
                  for t in case["transcript"] if t.get("author") in ("person", "assistant")]
        lines += ["", "  Messages après la transmission :"]
        lines += ["  " + _line(m) for m in case["messages"]] or ["  Aucun."]
        lines += ["", "  Qui a traité le dossier :", *[_history(h) for h in case["history"]]]
    if report.get("public_posts"):
        lines += ["", "== Vos publications publiques en attente d'une réponse de l'avocat =="]
        lines += [f"  [{views.day_clock(p['posted_at'] or p['received_at'])}] {p['link']}"
                  for p in report["public_posts"]]
    lines += ["", "== Non inclus ==", *[f"  {text}" for text in report["not_included"]], ""]
    return "\n".join(lines)
