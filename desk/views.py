"""What the desk's pages show, computed from the cases' dicts (pure logic, no I/O): French
labels, local times, the case's timeline, the permanence's live / off line.

The templates (``desk/templates``) only lay these out; Jinja2 escapes every value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from actions.parsing import MESURE_LABELS, ROLE_LABELS, YES_NO_LABELS
from permanence import clock as permanence_clock

DISPLAY_TZ = ZoneInfo("Europe/Paris")

STATE_LABELS = {
    "waiting": "En attente",
    "taken": "Pris en charge",
    "answered": "Répondu",
    "closed": "Clos",
    "handed_back": "Rendu à l'assistant",
}
OUTCOME_LABELS = {
    "answered": "Répondu",
    "referred": "Orienté ailleurs",
    "nothing_to_answer": "Rien à répondre",
}
TIER_LABELS = {
    "P0": "P0 · très urgent",
    "P1": "P1 · urgent",
    "P2": "P2",
    "P3": "P3",
    "OUT": "Hors champ",
    None: "Non évaluée",
}
DOMAIN_LABELS = {
    "etrangers": "Étrangers, titre de séjour",
    "urbanisme": "Urbanisme, permis",
    "fonction_publique": "Fonction publique",
    "fiscalite": "Impôts et taxes",
    "collectivites": "Commune, collectivité",
    "responsabilite_administrative": "Dommage causé par l'administration",
    "police_administrative": "Mesure de police",
    "commande_publique": "Marchés publics",
    "environnement": "Environnement",
    "elections": "Élections",
    "hors_champ": "Hors champ",
}
CHANNEL_LABELS = {"webchat": "Messagerie du site", "x": "X (message privé)", "rest": "API"}
AUTHOR_LABELS = {
    "person": "La personne",
    "assistant": "Assistant",
    "lawyer": "Avocat",
    "note": "Note interne",
}
# The lawyer's reply as the desk recorded it. « envoyé »: handed to the channel. A channel then
# says what became of it (:func:`delivery_view`): X queues its sends; the web chat keeps the
# reply until a page of the conversation acknowledges it (« remis le … »). Never « remis » on a
# guess.
DELIVERY_LABELS = {
    "pending": "envoi en cours",
    "queued": "en file d'attente",
    "sent": "envoyé",
    "delivered": "remis",
    "failed": "non remis (gardé au dossier)",
    "received": "",
}
# The fact card, in the order the lawyer reads it: (slot, label). The estimated deadline and
# its rule are not rows: the case page shows them once, at the top (:func:`deadline_line`).
FACT_ROWS = (
    ("domaine", "Domaine"),
    ("role", "Qualité"),
    ("partie_adverse", "Partie adverse"),
    ("type_decision", "Décision"),
    ("date_decision", "Date retenue pour le délai"),
    ("heure_decision", "Heure de la notification"),
    ("date_effet", "La mesure s'applique le"),
    ("date_decision_source", "Pourquoi cette date"),
    ("faits", "Dates et faits cités"),
    ("mention_voies_delais", "Voies et délais mentionnés"),
    ("recours_gracieux", "Recours gracieux"),
    ("recours_gracieux_date", "Date du recours gracieux"),
    ("mesure_privative", "Mesure privative de liberté"),
    ("code_postal", "Code postal"),
    ("urgence_motifs", "Motifs d'urgence"),
)
# The key facts, shown first on a phone (above the reply box); the rest of the card follows.
KEY_FACTS = ("domaine", "partie_adverse", "type_decision", "date_decision", "mesure_privative")
# Codes of the case record as the lawyer reads them (never a raw code on the card).
VALUE_LABELS = {
    "role": ROLE_LABELS,
    "mesure_privative": MESURE_LABELS,
    "mention_voies_delais": YES_NO_LABELS,
    "recours_gracieux": YES_NO_LABELS,
}
# What the person sent by a button (its payload, an intent): never the raw ``/affirm``.
PAYLOAD_LABELS = {
    "/affirm": "Oui (bouton)",
    "/deny": "Non (bouton)",
    "/ask_lawyer": "Transmettre à l'avocat (bouton)",
    "/stop": "Stop (bouton)",
    "/delete_data": "Supprimez mes données (bouton)",
}
PAYLOAD = re.compile(r"^(/[a-z_]+)(?:\{.*\})?$", re.DOTALL)
MONTHS_SHORT_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                   "oct.", "nov.", "déc.")


# ------------------------------------------------------------------ times


def moment(value: Any) -> datetime | None:
    """An aware datetime from an ISO string (naive = UTC) or a Unix timestamp (Rasa's events)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    elif isinstance(value, str):
        try:
            found = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def clock(value: Any) -> str:
    """``14:05`` in the firm's time zone ('' if unknown)."""
    found = moment(value)
    return "" if found is None else found.astimezone(DISPLAY_TZ).strftime("%H:%M")


def day_clock(value: Any) -> str:
    """``28 nov. 14:05`` in the firm's time zone."""
    found = moment(value)
    if found is None:
        return ""
    local = found.astimezone(DISPLAY_TZ)
    return f"{local.day} {MONTHS_SHORT_FR[local.month - 1]} {local:%H:%M}"


def iso(value: Any) -> str:
    found = moment(value)
    return "" if found is None else found.isoformat()


def age(value: Any, now: datetime) -> str:
    """How long ago, in French: "à l'instant", "il y a 5 min", "il y a 2 h 10", "il y a 3 j"."""
    found = moment(value)
    if found is None:
        return ""
    minutes = max(0, int((now - found).total_seconds() // 60))
    if minutes < 1:
        return "à l'instant"
    if minutes < 60:
        return f"il y a {minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"il y a {hours} h" + (f" {rest:02d}" if rest else "")
    return f"il y a {hours // 24} j"


def date_fr(value: Any) -> str:
    """``2026-11-18`` -> ``18/11/2026``; other values unchanged."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        year, month, day = value.split("-")
        return f"{day}/{month}/{year}"
    return "" if value is None else str(value)


def _day_month(day: date, today: date) -> str:
    return f"{day:%d/%m}" if day.year == today.year else f"{day:%d/%m/%Y}"


def deadline_line(value: Any, today: date | None = None) -> dict[str, str] | None:
    """An estimated deadline as the lawyer reads it, from today in Paris
    (:func:`permanence.clock.today`): « dépassée (03/12) », « aujourd'hui (07/12) »,
    « demain (08/12) », « dans 2 jours (09/12) ». ``state`` is ``overdue`` (shown in red),
    ``today``, ``soon`` (within 7 days) or ``later``. None without a readable date."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return None
    if not isinstance(value, date):
        return None
    today = today or permanence_clock.today()
    days = (value - today).days
    when = _day_month(value, today)
    if days < 0:
        text, state = f"dépassée ({when})", "overdue"
    elif days == 0:
        text, state = f"aujourd'hui ({when})", "today"
    elif days == 1:
        text, state = f"demain ({when})", "soon"
    else:
        text, state = f"dans {days} jours ({when})", "soon" if days <= 7 else "later"
    return {"text": text, "state": state, "date": date_fr(value.isoformat())}


# ------------------------------------------------------------------ cases


def fact_value(slot: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if slot == "domaine":
        return DOMAIN_LABELS.get(value, str(value))
    if slot in VALUE_LABELS:
        return VALUE_LABELS[slot].get(str(value), str(value))
    if isinstance(value, list):
        return " ; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if slot.startswith("date") or slot.endswith("_date") or slot == "echeance_estimee":
        return date_fr(value)
    return str(value)


ORDRE_LABEL = "Orientée vers"
ORDRE_NOT_FOUND = ("Aucun Ordre trouvé (code postal inconnu) : l'annuaire national des avocats "
                   "lui a été indiqué")


def referral_ordre(case: Mapping[str, Any]) -> str | None:
    """A referral's Ordre des avocats, in French as the assistant named it to the person
    (``actions/referral_action.py``, kept on the fact card as ``ordres``): « Ordre des avocats
    (Barreau de Lille) », or the département's Ordres; None for a case for the lawyer."""
    if case.get("kind") != "referral":
        return None
    ordres = (case.get("facts") or {}).get("ordres")
    if not isinstance(ordres, list):
        return "Non indiqué (aucun Ordre nommé à la personne)"
    names = [name for name in ordres if isinstance(name, str) and name]
    if not names:
        return ORDRE_NOT_FOUND
    if len(names) == 1:
        return f"Ordre des avocats ({names[0]})"
    return "L'un des Ordres des avocats de son département : " + " ou ".join(names)


def key_fact_rows(case: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The key facts (:data:`KEY_FACTS`), a referral's Ordre after the domain."""
    rows = fact_rows(case.get("facts") or {}, slots=KEY_FACTS)
    ordre = referral_ordre(case)
    if ordre is not None:
        rows.insert(1, (ORDRE_LABEL, ordre))
    return rows


def fact_rows(facts: Mapping[str, Any], slots: tuple[str, ...] | None = None,
              skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(label, value) of the card, in its order; ``slots`` keeps only those, ``skip`` leaves
    those out (the key facts and the rest: each fact shown once)."""
    return [(label, fact_value(slot, facts.get(slot))) for slot, label in FACT_ROWS
            if (slots is None or slot in slots) and slot not in skip]


def person_text(text: str) -> str:
    """What the person wrote, or the button they pressed in French (never ``/affirm``)."""
    stripped = (text or "").strip()
    payload = PAYLOAD.match(stripped)
    if payload:
        intent = payload.group(1)
        if intent in PAYLOAD_LABELS:
            return PAYLOAD_LABELS[intent]
        if intent.startswith("/question_"):
            domain = intent[len("/question_"):]
            return f"{DOMAIN_LABELS.get(domain, 'Un domaine')} (bouton)"
        return "Un bouton"
    return text


def lawyer_name(names: Mapping[int, str], lawyer_id: Any, default: str = "un autre avocat"
                ) -> str:
    return names.get(lawyer_id) or default


def state_label(case: Mapping[str, Any], lawyer_id: int, names: Mapping[int, str]) -> str:
    """The case's state in French; a colleague by name (``desk_lawyer.display_name``, else the
    e-mail address)."""
    state = case["state"]
    if state == "taken":
        if case.get("taken_by") == lawyer_id:
            return "Pris en charge par vous"
        return f"Pris en charge par {lawyer_name(names, case.get('taken_by'))}"
    if state == "closed" and case.get("outcome"):
        return f"{STATE_LABELS[state]} · {OUTCOME_LABELS.get(case['outcome'], case['outcome'])}"
    return STATE_LABELS.get(state, state)


def queue_row(case: Mapping[str, Any], lawyer_id: int, names: Mapping[int, str],
              now: datetime, today: date | None = None) -> dict[str, Any]:
    """One line of the queue."""
    facts = case.get("fact_card") or {}
    deadline = deadline_line(case.get("deadline"), today)
    return {
        "id": case["id"],
        "state": case["state"],
        "kind": case["kind"],
        "tier": case.get("urgency") or "none",
        "tier_label": TIER_LABELS.get(case.get("urgency"), case.get("urgency")),
        "domain": DOMAIN_LABELS.get(case.get("domain"), case.get("domain") or "Domaine inconnu"),
        "party": facts.get("partie_adverse") or "",
        "question": facts.get("question_initiale") or "",
        "deadline": deadline,
        "erasure_requested": bool(case.get("erasure_requested_at")),
        "channel": CHANNEL_LABELS.get(case.get("channel"), case.get("channel") or ""),
        "handle": case.get("handle") or "",
        "age": age(case.get("opened_at"), now),
        "opened": day_clock(case.get("opened_at")),
        "state_label": state_label(case, lawyer_id, names),
        "mine": case.get("taken_by") == lawyer_id,
    }


def delivery_view(message: Mapping[str, Any]) -> dict[str, Any]:
    """The delivery of a lawyer's reply as the desk shows it: the channel's word when it has
    one (``message["channel_delivery"]``, ``permanence/deliveries.py``: queued, with the web
    chat's « pas encore lu », sent or delivered with the time, or not delivered with its
    reason in French), else the desk's own state."""
    channel = message.get("channel_delivery")
    state = (channel or {}).get("state") or message.get("delivery") or ""
    label = DELIVERY_LABELS.get(state, "")
    if channel and state == "sent" and channel.get("at"):
        label = f"envoyé le {day_clock(channel['at'])}"
    elif channel and state == "delivered" and channel.get("at"):
        label = f"remis le {day_clock(channel['at'])}"
    elif channel and state == "failed" and channel.get("reason"):
        label = f"non remis : {channel['reason']}"
    elif channel and state == "queued" and channel.get("reason"):
        label = channel["reason"]  # the web chat: « pas encore lu : … »
    return {"state": state, "label": label,
            "at": (channel or {}).get("at"), "reason": (channel or {}).get("reason")}


def timeline_item(key: str, kind: str, text: str, at: Any, who: str | None = None,
                  delivery: str | None = None,
                  delivery_label: str | None = None) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "who": who or AUTHOR_LABELS[kind],
        "text": text,
        "iso": iso(at),
        "clock": day_clock(at),
        "delivery": delivery,
        "delivery_label": (DELIVERY_LABELS.get(delivery or "", "") if delivery_label is None
                           else delivery_label),
    }


def before_handover(case: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The conversation with the assistant, as kept at the handover."""
    return [
        timeline_item(f"t{index}", entry.get("author", "person"),
                      person_text(entry.get("text", "")) if entry.get("author", "person") ==
                      "person" else entry.get("text", ""), entry.get("at"))
        for index, entry in enumerate(case.get("transcript") or [])
        if entry.get("author") in ("person", "assistant")
    ]


def after_handover(case: Mapping[str, Any], names: Mapping[int, str], after_message: int = 0,
                   after_note: int = 0) -> list[dict[str, Any]]:
    """The person's and the lawyer's messages and the internal notes since the handover (those
    after the given ids), in time order."""
    items = []
    for message in case.get("messages") or []:
        if message["id"] > after_message:
            who = (lawyer_name(names, message.get("lawyer_id"), "Avocat")
                   if message["author"] == "lawyer" else None)
            text = (person_text(message["text"]) if message["author"] == "person"
                    else message["text"])
            shown = delivery_view(message)
            items.append((message["at"] or "", 0, message["id"], timeline_item(
                f"m{message['id']}", message["author"], text, message["at"], who,
                shown["state"], shown["label"])))
    for note in case.get("notes") or []:
        if note["id"] > after_note:
            who = f"Note interne · {lawyer_name(names, note.get('lawyer_id'), 'avocat')}"
            items.append((note["at"] or "", 1, note["id"], timeline_item(
                f"n{note['id']}", "note", note["text"], note["at"], who)))
    items.sort(key=lambda item: (moment(item[0]) or datetime.min.replace(tzinfo=timezone.utc),
                                 item[1], item[2]))
    return [item[3] for item in items]


def last_ids(case: Mapping[str, Any]) -> tuple[int, int]:
    messages = [m["id"] for m in case.get("messages") or []]
    notes = [n["id"] for n in case.get("notes") or []]
    return max(messages, default=0), max(notes, default=0)


def deliveries(case: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The lawyer's replies' delivery, by timeline key (it changes after the reply is shown)."""
    return {
        f"m{m['id']}": {key: value for key, value in delivery_view(m).items()
                        if key in ("state", "label")}
        for m in case.get("messages") or [] if m["author"] == "lawyer"
    }


# ------------------------------------------------------------------ the permanence


def schedule_line(status: Any, format_session: Any) -> dict[str, Any]:
    """The live / off badge from a ``SessionStatus`` (None: no readable schedule)."""
    if status is None:
        return {"live": None, "badge": "Horaire inconnu",
                "detail": "Le fichier des permanences est illisible ou absent.",
                "queue_title": "File d'attente"}
    if status.live:
        end = status.current_end
        detail = f"jusqu'à {_hour_fr(end)}" if end else ""
        return {"live": True, "badge": "Permanence en cours", "detail": detail,
                "queue_title": "File d'attente"}
    if status.next_start:
        when = format_session(status.next_start)
        return {"live": False, "badge": "Hors permanence",
                "detail": f"Prochaine permanence : {when}",
                "queue_title": f"File pour la prochaine permanence ({when})"}
    return {"live": False, "badge": "Hors permanence",
            "detail": "Aucune permanence prévue.", "queue_title": "File en attente"}


def _hour_fr(value: datetime) -> str:
    return f"{value.hour} h" + (f" {value.minute:02d}" if value.minute else "")


# ------------------------------------------------------------------ sending budgets

def channel_line(case_channel: str | None, now_on: str | None) -> str:
    """The case's channel, and where the person writes now when they moved (an X conversation
    continued on the web chat, ``permanence/continue_link.py``): the lawyer's reply goes there
    (``desk/delivery.py``), e.g. « X (message privé) → Messagerie du site, où la personne
    écrit maintenant (votre réponse y part) »."""
    label = CHANNEL_LABELS.get(case_channel, case_channel or "—")
    if not now_on or now_on == case_channel:
        return label
    moved = CHANNEL_LABELS.get(now_on, now_on)
    return f"{label} → {moved}, où la personne écrit maintenant (votre réponse y part)"


# The channels' short names on the budget and cost lines (CHANNEL_LABELS names a case's).
SHORT_CHANNEL_LABELS = {"x": "X"}


def budget_line(channel: str, status: Mapping[str, Any] | None, now: datetime) -> str:
    """One line on a channel's sending budget (``permanence/budgets.py``), e.g. « X : 3 DM
    sur 15 disponibles · nouvelle fenêtre à 14 h 05 (dans 4 min) · 6 DM en attente
    (4 personnes) · attente estimée 12 min »."""
    label = SHORT_CHANNEL_LABELS.get(channel, channel)
    if status is None:
        return f"{label} : budget d'envoi illisible (voir les journaux du serveur)."
    waiting = status.get("waiting") or {}
    pending = int(waiting.get("pending") or 0)
    people = int(waiting.get("people") or 0)
    parts = []
    if not status.get("known"):
        parts.append("budget de DM pas encore connu (aucun envoi depuis le démarrage)")
    else:
        left, limit = status.get("dms_left"), status.get("limit")
        parts.append(f"{left} DM sur {limit} disponibles" if limit else f"{left} DM disponibles")
        reset = _parse_time(status.get("blocked_until") or status.get("next_reset"))
        if reset is not None and reset > now:
            parts.append(f"nouvelle fenêtre à {_clock_fr(reset)} "
                         f"(dans {_duration_fr((reset - now).total_seconds())})")
    if pending:
        who = f"{people} personne" + ("s" if people > 1 else "")
        parts.append(f"{pending} DM en attente ({who})")
        wait = status.get("estimated_wait_seconds")
        if wait is not None:
            parts.append("attente estimée " + (_duration_fr(wait) if wait > 0 else "nulle"))
    else:
        parts.append("aucun DM en attente")
    return f"{label} : " + " · ".join(parts)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _clock_fr(value: datetime) -> str:
    local = value.astimezone(DISPLAY_TZ)
    return f"{local.hour} h {local.minute:02d}"


def _duration_fr(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


# ------------------------------------------------------------------ API costs

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")
DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def money_usd(value: Any) -> str:
    """``1.2345`` -> « 1,23 $ »; below a cent, three decimals (« 0,005 $ »)."""
    amount = float(value or 0)
    text = f"{amount:.3f}" if 0 < amount < 0.01 else f"{amount:.2f}"
    return text.replace(".", ",") + " $"


def _sent_received(by_kind: Mapping[str, Any]) -> str:
    def count(*kinds: str) -> int:
        return sum(int((by_kind.get(kind) or {}).get("count") or 0) for kind in kinds)

    sent, received = count("dm_sent"), count("dm_received", "dm_event_read")
    posts = count("post_created", "post_created_summoned", "post_created_with_url")
    parts = [f"{sent} DM envoyé" + ("s" if sent > 1 else "")]
    if received:
        parts.append(f"{received} DM lu" + ("s" if received > 1 else ""))
    if posts:
        parts.append(f"{posts} publication" + ("s" if posts > 1 else ""))
    return ", ".join(parts)


def cost_line(report: Mapping[str, Any], channel: Mapping[str, Any]) -> str:
    """One line on a channel's API costs (``permanence/costs.py``), e.g. « X : permanence en
    cours 0,42 $ (12 DM envoyés, 10 DM lus) · décembre 2026 : 1,23 $ »."""
    label = SHORT_CHANNEL_LABELS.get(channel.get("channel"), channel.get("channel"))
    if channel.get("error"):
        return f"Coût {label} : illisible (voir les journaux du serveur)."
    parts = []
    latest = channel.get("latest_session")
    if latest is not None:
        start = moment(latest.get("start"))
        detail = f"{money_usd(latest.get('cost_usd'))} ({_sent_received(latest['by_kind'])})"
        if latest.get("live"):
            parts.append(f"permanence en cours {detail}")
        elif start is not None:
            local = start.astimezone(DISPLAY_TZ)
            day = "1er" if local.day == 1 else str(local.day)
            parts.append(f"dernière permanence ({DAYS_FR[local.weekday()]} {day} "
                         f"{MONTHS_FR[local.month - 1]}) {detail}")
    year, month = (int(part) for part in str(report.get("month", "0-0")).split("-"))
    month_name = f"{MONTHS_FR[month - 1]} {year}" if 1 <= month <= 12 else str(month)
    parts.append(f"{month_name} : {money_usd((channel.get('month') or {}).get('cost_usd'))}")
    return f"Coût {label} : " + " · ".join(parts)


# ------------------------------------------------------------------ public posts

def public_post_rows(found: list[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The posts to answer by hand (``permanence/public_posts.py``), for the queue page: the
    channel, the author's handle, the link and the age; never a text (there is none)."""
    rows = []
    for channel in found:
        for post in channel.get("posts") or []:
            rows.append({"channel": channel.get("channel"),
                         "channel_label": SHORT_CHANNEL_LABELS.get(channel.get("channel"),
                                                                   channel.get("channel")),
                         "id": post.get("id"), "handle": post.get("handle"),
                         "link": post.get("link"),
                         "age": age(post.get("posted_at") or post.get("received_at"), now)})
    return rows
