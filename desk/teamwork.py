"""Several lawyers sharing the cases: release, reassign, reopen, labels (issue #14, item 2).

Like :mod:`desk.cases`, every function takes an open session (the caller owns the unit of work)
and an optional ``now``; refusals are :class:`desk.cases.DeskError` subclasses. Every action is
audited with ids and codes only (a label's row id, never its text: a label may name the
person), and touches ``updated_at`` so that the other lawyers' open pages see it
(``desk/live.py``).

- ``release``: the holder gives a taken case back to the queue (``waiting``).
- ``reassign``: a case (waiting, or taken by this lawyer) given to a colleague, who then holds
  it; a colleague's case must be taken over first (``cases.take(..., takeover=True)``).
- ``reopen``: a closed case (answered, closed, handed back) taken again by this lawyer, within
  the retention period (``PERMANENCE_RETENTION_DAYS`` after it was closed; retention deletes
  it after that), unless the conversation has another open case.
- ``add_label`` / ``remove_label``: free labels on a case (any lawyer, any state).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from desk import auth, cases
from desk.models import OPEN_STATES, desk_case, desk_label, desk_lawyer, utcnow

logger = logging.getLogger(__name__)

CLOSED_STATES = ("answered", "closed", "handed_back")
MAX_LABEL_CHARS = 60


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _touch(session: Session, case_id: int, now: datetime) -> None:
    session.execute(update(desk_case).where(desk_case.c.id == case_id).values(updated_at=now))


def release(session: Session, case_id: int, lawyer_id: int, now: datetime | None = None) -> None:
    """The holder puts a taken case back in the queue (``waiting``, held by nobody)."""
    now = _now(now)
    row = cases._case_row(session, case_id)
    cases._refuse_colleague(row, lawyer_id)
    if row.state != "taken":
        raise cases.InvalidTransition(f"case {case_id} is {row.state}: nothing to release")
    changed = session.execute(
        update(desk_case)
        .where(desk_case.c.id == case_id, desk_case.c.state == "taken",
               desk_case.c.taken_by == lawyer_id)
        .values(state="waiting", taken_by=None, taken_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise cases.InvalidTransition(f"case {case_id} changed meanwhile")
    cases.audit(session, lawyer_id, case_id, "case.release", now=now)


def active_lawyers(session: Session) -> list[dict[str, Any]]:
    """The active accounts (``{"id", "name"}``, by name): whom a case can be given to."""
    names = auth.lawyer_names(session)
    rows = session.execute(select(desk_lawyer.c.id).where(desk_lawyer.c.active.is_(True)))
    return sorted(({"id": row.id, "name": names[row.id]} for row in rows),
                  key=lambda found: found["name"].casefold())


def active_lawyer(session: Session, lawyer_id: Any) -> int:
    """``lawyer_id`` if it names an active account (else :class:`InvalidInput`)."""
    if isinstance(lawyer_id, str) and lawyer_id.isdigit() and len(lawyer_id) <= 18:
        lawyer_id = int(lawyer_id)
    if not isinstance(lawyer_id, int) or isinstance(lawyer_id, bool):
        raise cases.InvalidInput("to must be a lawyer's id")
    found = session.execute(
        select(desk_lawyer.c.id).where(desk_lawyer.c.id == lawyer_id,
                                       desk_lawyer.c.active.is_(True))
    ).scalar_one_or_none()
    if found is None:
        raise cases.InvalidInput("to is not an active lawyer")
    return found


def reassign(session: Session, case_id: int, lawyer_id: int, to: Any,
             now: datetime | None = None) -> int:
    """Give an open case (waiting, or held by this lawyer) to a colleague, who holds it from
    now on; returns the colleague's id. Audited ``case.reassign`` with ``to=<id> from=<id>``."""
    now = _now(now)
    target = active_lawyer(session, to)
    row = cases._case_row(session, case_id)
    cases._refuse_colleague(row, lawyer_id)
    if row.state not in OPEN_STATES:
        raise cases.InvalidTransition(f"case {case_id} is {row.state}: reopen it first")
    if row.state == "taken" and row.taken_by == target:
        return target
    changed = session.execute(
        update(desk_case)
        .where(desk_case.c.id == case_id, desk_case.c.state == row.state,
               desk_case.c.taken_by.is_(None) if row.taken_by is None
               else desk_case.c.taken_by == row.taken_by)
        .values(state="taken", taken_by=target, taken_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise cases.InvalidTransition(f"case {case_id} changed meanwhile")
    previous = "" if row.taken_by is None else str(row.taken_by)
    cases.audit(session, lawyer_id, case_id, "case.reassign", f"to={target} from={previous}", now)
    logger.info("desk.case.reassign id=%s lawyer=%s to=%s", case_id, lawyer_id, target)
    return target


def reopenable(state: str, closed_at: datetime | None, retention_days: int,
               now: datetime) -> bool:
    """Whether a case may be reopened: closed, and closed less than ``retention_days`` ago."""
    return (state in CLOSED_STATES and closed_at is not None
            and closed_at > now - timedelta(days=retention_days))


def reopen(session: Session, case_id: int, lawyer_id: int, retention_days: int,
           now: datetime | None = None) -> None:
    """Take a closed case again (``taken`` by this lawyer, its outcome cleared). Refused after
    the retention period, and while the conversation has another open case (one open case per
    conversation). Audited ``case.reopen`` with the state it left."""
    now = _now(now)
    row = cases._case_row(session, case_id)
    if row.state not in CLOSED_STATES:
        raise cases.InvalidTransition(f"case {case_id} is {row.state}: not closed")
    if not reopenable(row.state, row.closed_at, retention_days, now):
        raise cases.InvalidTransition(
            f"case {case_id} was closed more than {retention_days} days ago")
    if cases.open_case_id(session, row.conversation_id) is not None:
        raise cases.InvalidTransition(
            f"the conversation of case {case_id} has another open case")
    cases._transition(session, case_id, (row.state,), {
        "state": "taken", "taken_by": lawyer_id, "taken_at": now, "closed_at": None,
        "outcome": None, "updated_at": now})
    cases.audit(session, lawyer_id, case_id, "case.reopen", f"from={row.state}", now)


# ------------------------------------------------------------------ labels


def label_name(value: Any) -> str:
    """A label as stored: spaces collapsed, 1 to 60 characters."""
    if not isinstance(value, str) or not value.strip():
        raise cases.InvalidInput("label must be a non-empty string")
    name = " ".join(value.split())
    if len(name) > MAX_LABEL_CHARS:
        raise cases.InvalidInput(f"label has at most {MAX_LABEL_CHARS} characters")
    return name


def add_label(session: Session, case_id: int, lawyer_id: int, name: Any,
              now: datetime | None = None) -> int:
    """Put a label on a case (the same name twice, ignoring case, is the same label);
    returns its id."""
    name = label_name(name)
    now = _now(now)
    cases._case_row(session, case_id)
    for label in labels_of(session, [case_id]).get(case_id, []):
        if label["name"].casefold() == name.casefold():
            return label["id"]
    label_id = session.execute(insert(desk_label).values(
        case_id=case_id, name=name, lawyer_id=lawyer_id, created_at=now)).inserted_primary_key[0]
    _touch(session, case_id, now)
    cases.audit(session, lawyer_id, case_id, "case.label_add", f"label={label_id}", now)
    return label_id


def remove_label(session: Session, case_id: int, lawyer_id: int, label_id: Any,
                 now: datetime | None = None) -> None:
    if isinstance(label_id, str) and label_id.isdigit() and len(label_id) <= 18:
        label_id = int(label_id)
    if not isinstance(label_id, int) or isinstance(label_id, bool):
        raise cases.NotFound("no such label")
    now = _now(now)
    cases._case_row(session, case_id)
    removed = session.execute(delete(desk_label).where(
        desk_label.c.id == label_id, desk_label.c.case_id == case_id)).rowcount
    if removed != 1:
        raise cases.NotFound("no such label on this case")
    _touch(session, case_id, now)
    cases.audit(session, lawyer_id, case_id, "case.label_remove", f"label={label_id}", now)


def labels_of(session: Session, case_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each case's labels (``{"id", "name"}``, by name)."""
    ids = list(case_ids)
    found: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return found
    rows = session.execute(
        select(desk_label.c.id, desk_label.c.case_id, desk_label.c.name)
        .where(desk_label.c.case_id.in_(ids)).order_by(desk_label.c.name, desk_label.c.id))
    for row in rows:
        found.setdefault(row.case_id, []).append({"id": row.id, "name": row.name})
    return found


def all_label_names(session: Session) -> list[str]:
    """Every label in use, for the search form's choices."""
    return sorted(set(session.execute(select(desk_label.c.name)).scalars()), key=str.casefold)
