"""Cases on the lawyer's desk: opening at handover, the queue, and the lawyer's actions.

Every function takes an open SQLAlchemy session (the caller owns the unit of work:
``with factory.begin() as session:``) and an optional ``now``. Invalid requests raise
:class:`DeskError` subclasses, which the API turns into 4xx JSON errors.

States: ``waiting`` -> ``taken`` -> ``answered`` / ``closed``; ``waiting`` or ``taken`` ->
``handed_back``. ``close`` with the outcome ``answered`` ends in ``answered``; ``referred`` and
``nothing_to_answer`` end in ``closed``. A conversation has at most one open case (``waiting``
or ``taken``); a handover while one is open returns it unchanged.

A case taken by a lawyer is hers: her colleagues may read it and add notes, but reply, hand
back, close and erase are refused (:class:`HeldByColleague`, 409) until one takes it over
(``take(..., takeover=True)``, audited with both lawyers' ids).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actions.case import CASE_SLOTS
from desk import figures_record
from desk.conflicts import Client, conflict_check
from desk.models import (
    OPEN_STATES,
    OUTCOMES,
    desk_audit,
    desk_case,
    desk_client,
    desk_label,
    desk_message,
    desk_note,
    utcnow,
)
from permanence import conversations

logger = logging.getLogger(__name__)

# The fact card: the facts the assistant gathered (actions/case.py, one list for
# both) and the urgency it computed at handover (for the lawyer only, LEGAL.md N1).
CARD_SLOTS = CASE_SLOTS + (
    "urgence",
    "urgence_motifs",
    "echeance_estimee",
    "echeance_regle",
    "echeance_source",
    "ordres",  # the Ordre(s) des avocats a referral named (actions/referral_action.py)
)
OUT_OF_SCOPE_DOMAIN = "hors_champ"
URGENCY_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3, None: 4, "OUT": 5}
HANDOFF_ACTION = "action_handoff"
MAX_TEXT_CHARS = 10_000


class DeskError(Exception):
    """A request the desk refuses; ``status`` is the HTTP status the API answers."""

    status = 400
    code = "invalid"


class InvalidInput(DeskError):
    status = 400
    code = "invalid_input"


class NotFound(DeskError):
    status = 404
    code = "not_found"


class InvalidTransition(DeskError):
    status = 409
    code = "invalid_transition"


class HeldByColleague(InvalidTransition):
    """The case is taken by another lawyer: she answers, hands back, closes or erases it, unless
    this lawyer takes it over explicitly (:func:`take` with ``takeover``, audited)."""

    code = "held_by_colleague"

    def __init__(self, case_id: int, holder: int) -> None:
        super().__init__(
            f"case {case_id} is held by another lawyer (id {holder}): take it over first "
            f'(POST /desk/api/cases/{case_id}/take {{"takeover": true}})')
        self.holder = holder


# ------------------------------------------------------------------ the tracker


@dataclass(frozen=True)
class CaseSource:
    """What a case is opened from, read from a tracker."""

    conversation_id: str
    slots: dict[str, Any]
    channel: str | None
    handle: str | None
    transcript: list[dict[str, Any]]


def _event_dicts(events: Iterable[Any]) -> list[dict[str, Any]]:
    return [e if isinstance(e, Mapping) else e.as_dict() for e in events]


def source_from_tracker(tracker: Any, sender_id: str | None = None) -> CaseSource:
    """Read a case from a ``DialogueStateTracker``, its ``current_state()`` dict, or a list of
    events (objects or dicts; then ``sender_id`` is required).

    Slots are replayed from the ``slot`` events (a ``restart`` empties them); the channel is
    the conversation id's (``x:…`` → ``x``, ``web:…`` → ``webchat``), else the latest user
    message's input channel; the handle is the latest ``screen_name`` found
    in the user messages' metadata (X)."""
    if isinstance(tracker, Mapping):
        events = _event_dicts(tracker.get("events") or [])
        sender_id = sender_id or tracker.get("sender_id")
    elif hasattr(tracker, "events") and hasattr(tracker, "sender_id"):
        events = _event_dicts(tracker.events)
        sender_id = sender_id or tracker.sender_id
    else:
        events = _event_dicts(tracker)
    if not sender_id:
        raise InvalidInput("a sender id is required")
    slots: dict[str, Any] = {}
    channel = handle = None
    transcript: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            slots[event.get("name")] = event.get("value")
        elif kind == "restart":
            slots.clear()
        elif kind in ("user", "bot"):
            if kind == "user":
                channel = event.get("input_channel") or channel
                name = (event.get("metadata") or {}).get("screen_name")
                handle = name if isinstance(name, str) and name else handle
            if event.get("text"):
                transcript.append(
                    {
                        "author": "person" if kind == "user" else "assistant",
                        "text": event["text"],
                        "at": event.get("timestamp"),
                    }
                )
    # The conversation id says which channel it came from (only that channel creates ids of
    # its namespace); the recorded input channel is the fallback for legacy ids.
    namespace = conversations.channel_of(str(sender_id))
    if namespace is not None:
        channel = conversations.INPUT_CHANNEL[namespace]
    return CaseSource(str(sender_id), slots, channel, handle, transcript)


def handed_off(new_events: Iterable[Any]) -> bool:
    """True if ``new_events`` hold a pause (``ConversationPaused``) after ``action_handoff``."""
    seen_handoff = False
    for event in _event_dicts(new_events):
        if event.get("event") == "action" and event.get("name") == HANDOFF_ACTION:
            seen_handoff = True
        elif event.get("event") == "pause" and seen_handoff:
            return True
    return False


def fact_card(slots: Mapping[str, Any]) -> dict[str, Any]:
    return {slot: slots.get(slot) for slot in CARD_SLOTS}


# ------------------------------------------------------------------ helpers


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _case_row(session: Session, case_id: int) -> Any:
    row = session.execute(select(desk_case).where(desk_case.c.id == case_id)).one_or_none()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return row


def _open_case_id(session: Session, conversation_id: str) -> int | None:
    return session.execute(
        select(desk_case.c.id).where(
            desk_case.c.conversation_id == conversation_id,
            desk_case.c.state.in_(OPEN_STATES),
        )
    ).scalar_one_or_none()


def open_case_id(session: Session, conversation_id: str) -> int | None:
    """The conversation's open case (``waiting`` or ``taken``), if any."""
    return _open_case_id(session, conversation_id)


def conversation_tier(session: Session, conversation_id: str) -> str | None:
    """The urgency (``P0``...) of the conversation's latest case, if it has one: the channels
    send the replies of a P0 conversation first (``permanence/priority.py``)."""
    return session.execute(
        select(desk_case.c.urgency)
        .where(desk_case.c.conversation_id == conversation_id)
        .order_by(desk_case.c.opened_at.desc(), desk_case.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be a non-empty string")
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    return value


def _transition(
    session: Session, case_id: int, allowed: tuple[str, ...], values: dict[str, Any]
) -> None:
    """Move the case if its state is in ``allowed`` (checked in the UPDATE itself)."""
    row = _case_row(session, case_id)
    if row.state not in allowed:
        raise InvalidTransition(f"case {case_id} is {row.state}")
    changed = session.execute(
        update(desk_case)
        .where(desk_case.c.id == case_id, desk_case.c.state == row.state)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(f"case {case_id} changed meanwhile")


def audit(
    session: Session,
    lawyer_id: int | None,
    case_id: int | None,
    action: str,
    detail: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record who read or did what on which case (ids and codes only, never text)."""
    session.execute(
        insert(desk_audit).values(
            at=_now(now), lawyer_id=lawyer_id, case_id=case_id, action=action[:32],
            detail=None if detail is None else detail[:200],
        )
    )


def clients(session: Session) -> list[Client]:
    rows = session.execute(select(desk_client.c.id, desk_client.c.name).order_by(desk_client.c.id))
    return [Client(row.id, row.name) for row in rows]


def add_client(session: Session, name: str, now: datetime | None = None) -> int:
    name = _text(name, "name").strip()
    return session.execute(
        insert(desk_client).values(name=name[:255], created_at=_now(now))
    ).inserted_primary_key[0]


# ------------------------------------------------------------------ opening


def open_case(
    session: Session, source: CaseSource, now: datetime | None = None
) -> tuple[int, bool]:
    """Open the case of ``source`` unless its conversation has one open; returns
    ``(case id, created)``."""
    now = _now(now)
    existing = _open_case_id(session, source.conversation_id)
    if existing is not None:
        return existing, False
    card = fact_card(source.slots)
    tier = card["urgence"] if card["urgence"] in URGENCY_RANK else None
    referral = card["domaine"] == OUT_OF_SCOPE_DOMAIN or tier == "OUT"
    conflict = conflict_check(card["partie_adverse"], clients(session))
    deadline = card["echeance_estimee"]
    values = {
        "conversation_id": source.conversation_id,
        "state": "waiting",
        "kind": "referral" if referral else "lawyer",
        "urgency": tier,
        "urgency_rank": URGENCY_RANK[tier],
        "deadline": deadline[:10] if isinstance(deadline, str) else None,
        "channel": (source.channel or None) and source.channel[:32],
        "handle": (source.handle or None) and source.handle[:128],
        "facts": json.dumps(card, ensure_ascii=False),
        "transcript": json.dumps(source.transcript, ensure_ascii=False),
        "flagged": conflict is not None,
        "conflict_client_id": conflict.id if conflict else None,
        "opened_at": now,
        "updated_at": now,
    }
    try:
        with session.begin_nested():
            case_id = session.execute(insert(desk_case).values(**values)).inserted_primary_key[0]
    except IntegrityError:  # opened concurrently by another process
        existing = _open_case_id(session, source.conversation_id)
        if existing is None:
            raise
        return existing, False
    figures_record.record_opened(session, case_id, source.conversation_id, values["kind"],
                                 values["channel"], tier, card, now,
                                 route=source.slots.get("route"))
    audit(session, None, case_id, "case.opened", f"kind={values['kind']} tier={tier}", now)
    logger.info(
        "desk.case.opened id=%s kind=%s tier=%s flagged=%s",
        case_id, values["kind"], tier, values["flagged"],
    )
    return case_id, True


def open_case_from_tracker(
    session: Session, tracker: Any, sender_id: str | None = None, now: datetime | None = None
) -> tuple[int, bool]:
    """:func:`open_case` from a tracker, its state dict or its events (see
    :func:`source_from_tracker`)."""
    return open_case(session, source_from_tracker(tracker, sender_id), now)


def record_person_message(
    session: Session, conversation_id: str, text: str, now: datetime | None = None
) -> int | None:
    """Put a message the person wrote after the handover on their open case (None if none)."""
    case_id = _open_case_id(session, conversation_id)
    if case_id is None or not isinstance(text, str) or not text:
        return None
    now = _now(now)
    message_id = session.execute(
        insert(desk_message).values(
            case_id=case_id, author="person", text=text[:MAX_TEXT_CHARS], delivery="received",
            created_at=now,
        )
    ).inserted_primary_key[0]
    session.execute(update(desk_case).where(desk_case.c.id == case_id).values(updated_at=now))
    logger.info("desk.case.person_message case=%s message=%s", case_id, message_id)
    return message_id


def flag_erasure_request(session: Session, conversation_id: str,
                         now: datetime | None = None) -> int | None:
    """The person asked for erasure while their conversation is with the lawyer: flag the open
    case (the first request's time is kept). Returns the case id (None without an open case)."""
    case_id = _open_case_id(session, conversation_id)
    if case_id is None:
        return None
    now = _now(now)
    session.execute(
        update(desk_case)
        .where(desk_case.c.id == case_id, desk_case.c.erasure_requested_at.is_(None))
        .values(erasure_requested_at=now, updated_at=now))
    audit(session, None, case_id, "case.erasure_requested", now=now)
    logger.info("desk.case.erasure_requested case=%s", case_id)
    return case_id


# ------------------------------------------------------------------ lawyer's actions


def _refuse_colleague(row: Any, lawyer_id: int) -> None:
    if row.state == "taken" and row.taken_by is not None and row.taken_by != lawyer_id:
        raise HeldByColleague(row.id, row.taken_by)


def refuse_if_held_by_colleague(session: Session, case_id: int, lawyer_id: int) -> None:
    """Raise :class:`HeldByColleague` if the case, or the open case of its conversation, is
    taken by another lawyer (:class:`NotFound` if there is no such case)."""
    row = _case_row(session, case_id)
    _refuse_colleague(row, lawyer_id)
    open_id = _open_case_id(session, row.conversation_id)
    if open_id is not None and open_id != case_id:
        _refuse_colleague(_case_row(session, open_id), lawyer_id)


def take(session: Session, case_id: int, lawyer_id: int, now: datetime | None = None,
         takeover: bool = False) -> None:
    """The lawyer takes a waiting case (taking one's own case again changes nothing). A case
    taken by a colleague is refused (:class:`HeldByColleague`) unless ``takeover``: then it
    becomes this lawyer's, and the audit log records both (``case.takeover``, ``from=<id>``)."""
    now = _now(now)
    row = _case_row(session, case_id)
    if row.state == "taken" and row.taken_by == lawyer_id:
        return
    if row.state == "taken" and takeover:
        changed = session.execute(
            update(desk_case)
            .where(desk_case.c.id == case_id, desk_case.c.state == "taken",
                   desk_case.c.taken_by == row.taken_by)
            .values(taken_by=lawyer_id, taken_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise InvalidTransition(f"case {case_id} changed meanwhile")
        audit(session, lawyer_id, case_id, "case.takeover", f"from={row.taken_by}", now)
        logger.info("desk.case.takeover id=%s lawyer=%s from=%s", case_id, lawyer_id,
                    row.taken_by)
        return
    _refuse_colleague(row, lawyer_id)
    _transition(
        session, case_id, ("waiting",),
        {"state": "taken", "taken_by": lawyer_id, "taken_at": now, "updated_at": now},
    )
    audit(session, lawyer_id, case_id, "case.take", now=now)


def reply(
    session: Session, case_id: int, lawyer_id: int, text: Any, now: datetime | None = None
) -> int:
    """Record the lawyer's reply on a case they took; its delivery is ``pending``."""
    text = _text(text, "text")
    now = _now(now)
    row = _case_row(session, case_id)
    _refuse_colleague(row, lawyer_id)
    if row.state != "taken":
        raise InvalidTransition(f"case {case_id} is {row.state}: take it first")
    message_id = session.execute(
        insert(desk_message).values(
            case_id=case_id, author="lawyer", lawyer_id=lawyer_id, text=text,
            delivery="pending", created_at=now,
        )
    ).inserted_primary_key[0]
    session.execute(update(desk_case).where(desk_case.c.id == case_id).values(updated_at=now))
    figures_record.record_first_reply(session, case_id, row.opened_at, now)
    audit(session, lawyer_id, case_id, "case.reply", f"message={message_id}", now)
    return message_id


def set_delivery(session: Session, message_id: int, delivery: str) -> None:
    """The delivery state of a lawyer's reply: ``sent`` or ``failed``."""
    session.execute(
        update(desk_message).where(desk_message.c.id == message_id).values(delivery=delivery)
    )


def note(
    session: Session, case_id: int, lawyer_id: int, text: Any, now: datetime | None = None
) -> int:
    """A private note of the lawyer on the case (any state)."""
    text = _text(text, "text")
    now = _now(now)
    _case_row(session, case_id)
    note_id = session.execute(
        insert(desk_note).values(case_id=case_id, lawyer_id=lawyer_id, text=text, created_at=now)
    ).inserted_primary_key[0]
    # Seen by the other lawyers' open pages (desk/live.py watches updated_at).
    session.execute(update(desk_case).where(desk_case.c.id == case_id).values(updated_at=now))
    audit(session, lawyer_id, case_id, "case.note", f"note={note_id}", now)
    return note_id


def handback(session: Session, case_id: int, lawyer_id: int, now: datetime | None = None) -> None:
    """Give the conversation back to the assistant (resuming it comes with the channels);
    refused on a colleague's case."""
    now = _now(now)
    _refuse_colleague(_case_row(session, case_id), lawyer_id)
    _transition(
        session, case_id, OPEN_STATES,
        {"state": "handed_back", "closed_at": now, "updated_at": now},
    )
    audit(session, lawyer_id, case_id, "case.handback", now=now)


def close(
    session: Session, case_id: int, lawyer_id: int, outcome: Any, now: datetime | None = None
) -> str:
    """Close an open case with ``outcome``; returns the new state. Refused on a colleague's
    case."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}")
    now = _now(now)
    _refuse_colleague(_case_row(session, case_id), lawyer_id)
    state = "answered" if outcome == "answered" else "closed"
    _transition(
        session, case_id, OPEN_STATES,
        {"state": state, "outcome": outcome, "closed_at": now, "updated_at": now},
    )
    audit(session, lawyer_id, case_id, "case.close", f"outcome={outcome}", now)
    return state


# ------------------------------------------------------------------ reading


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def summary(row: Any) -> dict[str, Any]:
    facts = json.loads(row.facts)
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "sender_id": row.conversation_id,  # the API's name for it (issue #4)
        "state": row.state,
        "kind": row.kind,
        "urgency": row.urgency,
        "deadline": row.deadline,
        "domain": facts.get("domaine"),
        "channel": row.channel,
        "handle": row.handle,
        "flagged": row.flagged,
        "taken_by": row.taken_by,
        "outcome": row.outcome,
        "opened_at": _iso(row.opened_at),
        "created_at": _iso(row.opened_at),
        "erasure_requested_at": _iso(row.erasure_requested_at),
        "updated_at": _iso(row.updated_at),
        "closed_at": _iso(row.closed_at),
        "fact_card": facts,
    }


def _open_cases(flagged: bool) -> Any:
    return (
        select(desk_case)
        .where(desk_case.c.state.in_(OPEN_STATES), desk_case.c.flagged.is_(flagged))
        .order_by(desk_case.c.urgency_rank, desk_case.c.opened_at, desk_case.c.id)
    )


def list_queue(session: Session) -> list[dict[str, Any]]:
    """Open cases not flagged by the conflict check, by urgency (P0, P1, P2, P3, unknown, OUT)
    then age (oldest first). Referrals are the ``OUT`` cases (``kind == "referral"``)."""
    return [summary(row) for row in session.execute(_open_cases(False))]


def list_flagged(session: Session) -> list[dict[str, Any]]:
    """Open cases set apart by the conflict check, in the same order."""
    return [summary(row) for row in session.execute(_open_cases(True))]


def get_case(session: Session, case_id: int) -> dict[str, Any]:
    """The whole case: summary, fact card, transcript, messages after handover, notes,
    labels."""
    row = _case_row(session, case_id)
    messages = session.execute(
        select(desk_message).where(desk_message.c.case_id == case_id).order_by(desk_message.c.id)
    )
    notes = session.execute(
        select(desk_note).where(desk_note.c.case_id == case_id).order_by(desk_note.c.id)
    )
    labels = session.execute(
        select(desk_label.c.id, desk_label.c.name).where(desk_label.c.case_id == case_id)
        .order_by(desk_label.c.name, desk_label.c.id))
    return {
        **summary(row),
        "facts": json.loads(row.facts),
        "transcript": json.loads(row.transcript),
        "conflict_client_id": row.conflict_client_id,
        "taken_at": _iso(row.taken_at),
        "closed_at": _iso(row.closed_at),
        "messages": [
            {
                "id": m.id, "author": m.author, "lawyer_id": m.lawyer_id, "text": m.text,
                "delivery": m.delivery, "at": _iso(m.created_at),
            }
            for m in messages
        ],
        "notes": [
            {"id": n.id, "lawyer_id": n.lawyer_id, "text": n.text, "at": _iso(n.created_at)}
            for n in notes
        ],
        "labels": [{"id": label.id, "name": label.name} for label in labels],
    }


def get_summary(session: Session, case_id: int) -> dict[str, Any]:
    return summary(_case_row(session, case_id))
