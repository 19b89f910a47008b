"""What the durable web chat keeps (``connectors/webchat.py``): its messages until a page
acknowledges them, its resume links, the web sessions they opened, and the e-mail addresses
given to be told that the lawyer answered. Tables of the channels' database
(``channels/store.py``, revision 0004), keyed by conversation id (``web:…``, or ``x:…`` for a
person who continued on the web chat).

``webchat_message``
    Every message of the assistant (``bot``) and of the lawyer (``lawyer``) to a conversation,
    stored *before* it is emitted, with the id the page acknowledges. The body (the message as
    JSON) is cleared once a page acknowledged it (the tracker store keeps the conversation);
    ``event_key`` names the tracker event it shows (``ts:<timestamp>`` of the assistant's
    ``BotUttered``, ``ref:<delivery reference>`` of the lawyer's reply), so that the history a
    resumed page gets carries the ids of what it shows. ``delivery_ref``: the desk's reference
    of a lawyer's reply (``permanence/deliveries.py``): unacknowledged, « pas encore lu »;
    acknowledged, delivered, with the time.
``webchat_resume``
    The SHA-256 of each resume link's token (never the token), one per conversation.
``webchat_session``
    The SHA-256 of each session secret a resume link opened (never the secret), and its
    conversation.
``webchat_notice``
    The address a person gave, with their consent, to be told that the lawyer answered (never
    what the lawyer wrote), and when they were last told.

Erasure (LEGAL.md D4): :meth:`WebchatStore.erase_conversation` deletes every row of a
conversation (the link stops working, the sessions it opened reach nothing of it, the address
is gone); registered with ``permanence.erasure`` as :data:`ERASURE_NAME` by the web chat when
it starts, and by ``desk.cli purge``. :meth:`WebchatStore.prune` deletes acknowledged messages'
records older than the retention period (idle conversations are erased whole by retention).

Synchronous (call it in an executor). Logs carry ``permanence.logids.ref`` of conversations,
never a token, a secret, an address or a text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from channels.store import (
    _utc,
    utcnow,
    webchat_message,
    webchat_notice,
    webchat_resume,
    webchat_session,
)
from permanence import sqlite
from permanence.deliveries import DELIVERED, QUEUED, Status
from permanence.logids import ref
from permanence.settings import masked, x_database_url
from permanence.shared_store import SharedStores

logger = logging.getLogger(__name__)

ERASURE_NAME = "webchat_store"
BOT, LAWYER = "bot", "lawyer"
# What the desk shows of a lawyer's reply no page has acknowledged yet.
NOT_READ = "pas encore lu : la personne n'a pas rouvert la conversation"
REDELIVER_MAX = 200  # unacknowledged messages re-sent to a page that (re)connects
ACK_MAX = 100  # ids in one acknowledgement
EMAIL_MAX = 254
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


def digest(secret: str) -> str:
    """What the store keeps of a token or a secret (256 random bits: a plain hash will do)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_email(value: Any) -> str | None:
    """The address if it looks like one (one ``@``, a dotted domain, no spaces), else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if len(value) <= EMAIL_MAX and EMAIL.match(value) else None


def clean_ids(value: Any) -> list[int]:
    """The message ids of an acknowledgement (``["12", "13"]`` or numbers), at most
    :data:`ACK_MAX`; anything else is dropped."""
    found: list[int] = []
    for item in value if isinstance(value, list) else []:
        text = str(item) if isinstance(item, (str, int)) and not isinstance(item, bool) else ""
        if text.isdigit() and len(text) <= 18:
            found.append(int(text))
    return found[:ACK_MAX]


def status_of(acked: Iterable[datetime | None]) -> Status | None:
    """A reply's status from its parts' acknowledgement times: delivered (at the last) once
    every part was acknowledged, else not read yet (None when there is no part)."""
    times = list(acked)
    if not times:
        return None
    if any(t is None for t in times):
        return Status(QUEUED, reason=NOT_READ)
    return Status(DELIVERED, at=max(t for t in times if t is not None))


@dataclass(frozen=True)
class Stored:
    """A message to emit: its id and body (the page's ``bot_uttered`` payload)."""

    id: int
    body: dict[str, Any]


class WebchatStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, future=True)
        self._read = sessionmaker(sqlite.reader(engine), future=True)

    @classmethod
    def create(cls, url: str | None = None) -> WebchatStore:
        """Open the channels' database at ``url`` (default: ``x_database_url()``), brought to
        the latest revision (``channels/migrate.py``)."""
        from channels.migrate import upgrade

        url = url or x_database_url()
        engine = sqlite.engine_for(url)
        upgrade(engine)
        logger.info("webchat_store.open url=%s", masked(url))
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- messages

    def add(self, conversation_id: str, author: str,
            messages: Iterable[tuple[Mapping[str, Any], str | None]],
            delivery_ref: str | None = None, now: datetime | None = None) -> list[Stored]:
        """Store ``messages`` (body, event key) to ``conversation_id``, in order; each comes
        back with its id (in its body too, as ``"id"``, a string)."""
        if author not in (BOT, LAWYER):
            raise ValueError(f"unknown author {author!r}")
        now = _utc(now or utcnow())
        stored: list[Stored] = []
        with self._session.begin() as session:
            for body, event_key in messages:
                body = {key: value for key, value in body.items() if key != "id"}
                row_id = session.execute(insert(webchat_message).values(
                    conversation_id=conversation_id, author=author,
                    body=json.dumps(body, ensure_ascii=False), event_key=event_key,
                    delivery_ref=delivery_ref, created_at=now)).inserted_primary_key[0]
                stored.append(Stored(int(row_id), {**body, "id": str(row_id)}))
        return stored

    def ack(self, conversation_id: str, ids: Iterable[int], now: datetime | None = None) -> int:
        """Mark the messages ``ids`` of ``conversation_id`` acknowledged (a page showed them)
        and clear their bodies; ids of another conversation are ignored. How many were new."""
        wanted = list(ids)
        if not wanted:
            return 0
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            return session.execute(
                update(webchat_message)
                .where(webchat_message.c.conversation_id == conversation_id,
                       webchat_message.c.id.in_(wanted), webchat_message.c.acked_at.is_(None))
                .values(acked_at=now, body=None)
                .execution_options(synchronize_session=False)).rowcount

    def unacked(self, conversation_id: str, limit: int = REDELIVER_MAX) -> list[Stored]:
        """The messages of ``conversation_id`` no page acknowledged, oldest first (the last
        ``limit``)."""
        with self._read.begin() as session:
            rows = session.execute(
                select(webchat_message.c.id, webchat_message.c.body)
                .where(webchat_message.c.conversation_id == conversation_id,
                       webchat_message.c.acked_at.is_(None))
                .order_by(webchat_message.c.id.desc()).limit(limit)).all()
        return [Stored(row.id, {**json.loads(row.body), "id": str(row.id)})
                for row in reversed(rows) if row.body is not None]

    def event_ids(self, conversation_id: str) -> dict[str, list[str]]:
        """The ids of the conversation's messages by the tracker event they show."""
        with self._read.begin() as session:
            rows = session.execute(
                select(webchat_message.c.id, webchat_message.c.event_key)
                .where(webchat_message.c.conversation_id == conversation_id,
                       webchat_message.c.event_key.isnot(None))
                .order_by(webchat_message.c.id)).all()
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row.event_key, []).append(str(row.id))
        return found

    def deliveries(self, refs: list[str]) -> dict[str, Status]:
        """The lookup of ``permanence/deliveries.py``: each lawyer's reply the web chat holds,
        delivered (acknowledged by a page) or not read yet."""
        wanted = [r for r in refs if r]
        if not wanted:
            return {}
        with self._read.begin() as session:
            rows = session.execute(
                select(webchat_message.c.delivery_ref, webchat_message.c.acked_at)
                .where(webchat_message.c.delivery_ref.in_(wanted))).all()
        parts: dict[str, list[datetime | None]] = {}
        for row in rows:
            parts.setdefault(row.delivery_ref, []).append(row.acked_at)
        return {key: status for key, acked in parts.items()
                if (status := status_of(acked)) is not None}

    # ---------------------------------------------------------- links, sessions

    def resume_issue(self, conversation_id: str, now: datetime | None = None) -> str | None:
        """A new resume token for ``conversation_id``, or None if it already has one."""
        token = secrets.token_urlsafe(32)
        try:
            with self._session.begin() as session:
                session.execute(insert(webchat_resume).values(
                    token_hash=digest(token), conversation_id=conversation_id,
                    created_at=_utc(now or utcnow())))
        except IntegrityError:
            return None
        logger.info("webchat.resume.issued conversation=%s", ref(conversation_id))
        return token

    def has_resume(self, conversation_id: str) -> bool:
        with self._read.begin() as session:
            return session.execute(
                select(webchat_resume.c.token_hash)
                .where(webchat_resume.c.conversation_id == conversation_id)).first() is not None

    def resume_open(self, token: Any, secret: str, now: datetime | None = None) -> str | None:
        """The conversation of the resume ``token``, with the new session ``secret`` opened
        on it; None (nothing opened) for a token that is unknown or malformed."""
        if not isinstance(token, str) or not TOKEN.match(token):
            return None
        with self._session.begin() as session:
            conversation_id = session.execute(
                select(webchat_resume.c.conversation_id)
                .where(webchat_resume.c.token_hash == digest(token))).scalar_one_or_none()
            if conversation_id is None:
                return None
            session.execute(insert(webchat_session).values(
                secret_hash=digest(secret), conversation_id=conversation_id,
                created_at=_utc(now or utcnow())))
        return conversation_id

    def session_conversation(self, secret: str) -> str | None:
        """The conversation a session opened by a resume link reaches, else None."""
        with self._read.begin() as session:
            return session.execute(
                select(webchat_session.c.conversation_id)
                .where(webchat_session.c.secret_hash == digest(secret))).scalar_one_or_none()

    # ------------------------------------------------------------------ notices

    def notice_set(self, conversation_id: str, email: str | None,
                   now: datetime | None = None) -> None:
        """Keep ``email`` (given with consent) for ``conversation_id``; None withdraws it."""
        with self._session.begin() as session:
            session.execute(delete(webchat_notice)
                            .where(webchat_notice.c.conversation_id == conversation_id))
            if email is not None:
                session.execute(insert(webchat_notice).values(
                    conversation_id=conversation_id, email=email,
                    consented_at=_utc(now or utcnow()), notified_at=None))

    def notices_due(self, delay_seconds: float, now: datetime | None = None
                    ) -> list[tuple[str, str]]:
        """Claim the notices to send: ``(conversation id, address)`` of each conversation with
        an address and a lawyer's reply not acknowledged for ``delay_seconds``, unless its
        person was already told since they last came back (a page acknowledged a message
        after the last notice): one notice per burst of replies. Claimed (``notified_at``
        set, conditionally) in this call: another process claims none of them."""
        now = _utc(now or utcnow())
        waiting = (select(webchat_message.c.id).where(
            webchat_message.c.conversation_id == webchat_notice.c.conversation_id,
            webchat_message.c.author == LAWYER, webchat_message.c.acked_at.is_(None),
            webchat_message.c.created_at <= now - timedelta(seconds=delay_seconds))
            .exists())
        last_back = (select(func.max(webchat_message.c.acked_at)).where(
            webchat_message.c.conversation_id == webchat_notice.c.conversation_id)
            .scalar_subquery())
        due = and_(waiting, or_(webchat_notice.c.notified_at.is_(None),
                                webchat_notice.c.notified_at < last_back))
        claimed: list[tuple[str, str]] = []
        with self._session.begin() as session:
            rows = session.execute(select(webchat_notice.c.conversation_id,
                                          webchat_notice.c.email,
                                          webchat_notice.c.notified_at).where(due)).all()
            for row in rows:
                condition = (webchat_notice.c.notified_at.is_(None) if row.notified_at is None
                             else webchat_notice.c.notified_at == row.notified_at)
                if session.execute(
                        update(webchat_notice)
                        .where(webchat_notice.c.conversation_id == row.conversation_id,
                               condition)
                        .values(notified_at=now)
                        .execution_options(synchronize_session=False)).rowcount == 1:
                    claimed.append((row.conversation_id, row.email))
        return claimed

    # ------------------------------------------------------- erasure, retention

    def erase_conversation(self, conversation_id: str) -> int:
        with self._session.begin() as session:
            deleted = sum(session.execute(
                delete(table).where(table.c.conversation_id == conversation_id)
                .execution_options(synchronize_session=False)).rowcount
                for table in (webchat_message, webchat_resume, webchat_session, webchat_notice))
        logger.info("webchat_store.erased conversation=%s rows=%d", ref(conversation_id),
                    deleted)
        return deleted

    def prune(self, before: datetime) -> int:
        """The records of acknowledged messages created before ``before`` (no text: their
        bodies went at the acknowledgement)."""
        with self._session.begin() as session:
            return session.execute(
                delete(webchat_message)
                .where(webchat_message.c.acked_at.isnot(None),
                       webchat_message.c.created_at < _utc(before))
                .execution_options(synchronize_session=False)).rowcount


_SHARED = SharedStores(WebchatStore.create, ERASURE_NAME)


def shared(url: str | None = None) -> WebchatStore:
    """The process's store on ``url`` (default: the channels' database), opened once and
    registered for erasure and retention."""
    return _SHARED.get(url)


def reset_shared() -> None:
    """Close the shared stores (tests)."""
    _SHARED.reset()
