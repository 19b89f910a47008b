"""What the link to continue on the web chat needs kept: its tokens and the web sessions they open.

The X channel issues a token (``permanence/continue_link.py``) when a DM carries the link; the
web chat redeems it and opens a web session on the same conversation. Two tables, in the X
channel's database by default (``permanence.settings.x_database_url()``: on SQLite a file of
its own, so a token never waits for a conversation being saved):

``continue_token``
    One row per conversation that was offered the link (UNIQUE ``conversation_id``: once per
    conversation): the token's id, when it expires, when it was used. Never the token itself
    (its signature is recomputed from the secret).
``continue_session``
    The web sessions opened by a token: the SHA-256 of the session secret the web chat issued
    (never the secret) and the conversation it reaches (``x:<X user id>``).

:meth:`ContinueStore.redeem` checks a token (well-formed, known, signed for its conversation,
not expired) and consumes it in the same transaction as it records the new session: the
conditional ``UPDATE ... WHERE used_at IS NULL`` lets exactly one of two concurrent redeemers
through, on SQLite (one writer) as on PostgreSQL (row lock). A failed session insert consumes
nothing.

Erasure (LEGAL.md D4): :meth:`ContinueStore.erase_conversation` deletes both tables' rows of a
conversation; registered with ``permanence.erasure`` as :data:`ERASURE_NAME` by whoever opens
the store (:func:`shared`), with :meth:`ContinueStore.prune` for retention. After an erasure the
page's secret reaches nothing of the erased conversation.

Synchronous (call it in an executor). Logs carry ``permanence.logids.ref`` of conversations,
never a token, a secret or an id.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import (
    Column,
    Index,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from permanence import continue_link, sqlite
from permanence.continue_link import Refused, Settings, Token
from permanence.logids import ref
from permanence.settings import masked, x_database_url
from permanence.shared_store import SharedStores
from permanence.x_store import UTCDateTime, _utc, utcnow

logger = logging.getLogger(__name__)

ERASURE_NAME = "continue_store"

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s"})

continue_token = Table(
    "continue_token",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("conversation_id", String(160), nullable=False, unique=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

continue_session = Table(
    "continue_session",
    metadata,
    Column("secret_hash", String(64), primary_key=True),
    Column("conversation_id", String(160), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_continue_session_conversation", "conversation_id"),
)


def secret_hash(secret: str) -> str:
    """What the store keeps of a web session secret (256 random bits: a plain hash will do)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ContinueStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, future=True)
        self._read = sessionmaker(sqlite.reader(engine), future=True)

    @classmethod
    def create(cls, url: str | None = None) -> ContinueStore:
        """Open the database at ``url`` (default: the X channel's) and create missing tables."""
        url = url or x_database_url()
        engine = sqlite.engine_for(url)
        try:
            metadata.create_all(engine, checkfirst=True)
        except SQLAlchemyError:  # another process created them at the same moment
            metadata.create_all(engine, checkfirst=True)
        logger.info("continue_store.open url=%s", masked(url))
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ tokens

    def offered(self, conversation_id: str) -> bool:
        """True once a token was issued for ``conversation_id`` (used, expired or not)."""
        with self._read.begin() as session:
            return session.execute(
                select(continue_token.c.token_id)
                .where(continue_token.c.conversation_id == conversation_id)
            ).first() is not None

    def issue(self, settings: Settings, conversation_id: str,
              now: datetime | None = None) -> Token | None:
        """A new token for ``conversation_id``, or None if it was already offered one."""
        now = _utc(now or utcnow())
        token = continue_link.mint(settings.secret, conversation_id, now, settings.ttl_seconds)
        try:
            with self._session.begin() as session:
                session.execute(insert(continue_token).values(
                    token_id=token.token_id, conversation_id=conversation_id, issued_at=now,
                    expires_at=token.expires_at, used_at=None))
        except IntegrityError:
            return None
        logger.info("continue.issued conversation=%s", ref(conversation_id))
        return token

    def redeem(self, settings: Settings, token: object, secret: str,
               now: datetime | None = None) -> str:
        """Consume ``token`` and open the web session ``secret`` on its conversation; returns
        the conversation id. Raises :class:`Refused` (malformed, unknown, signature, expired,
        used): nothing is consumed or opened then."""
        now = _utc(now or utcnow())
        token_id = continue_link.token_id_of(token)
        with self._session.begin() as session:
            conversation_id = session.execute(
                select(continue_token.c.conversation_id)
                .where(continue_token.c.token_id == token_id)).scalar_one_or_none()
            if conversation_id is None:
                raise Refused(continue_link.UNKNOWN)
            continue_link.verify(settings.secret, token, conversation_id, now)
            consumed = session.execute(
                update(continue_token)
                .where(continue_token.c.token_id == token_id, continue_token.c.used_at.is_(None))
                .values(used_at=now).execution_options(synchronize_session=False)).rowcount
            if consumed != 1:
                raise Refused(continue_link.USED)
            session.execute(insert(continue_session).values(
                secret_hash=secret_hash(secret), conversation_id=conversation_id,
                created_at=now))
        logger.info("continue.redeemed conversation=%s", ref(conversation_id))
        return conversation_id

    # ---------------------------------------------------------------- sessions

    def session_conversation(self, secret: str) -> str | None:
        """The conversation a web session opened by a token reaches, else None."""
        with self._read.begin() as session:
            return session.execute(
                select(continue_session.c.conversation_id)
                .where(continue_session.c.secret_hash == secret_hash(secret))
            ).scalar_one_or_none()

    # ------------------------------------------------------- erasure, retention

    def erase_conversation(self, conversation_id: str) -> int:
        with self._session.begin() as session:
            deleted = sum(session.execute(
                delete(table).where(table.c.conversation_id == conversation_id)
                .execution_options(synchronize_session=False)).rowcount
                for table in (continue_token, continue_session))
        logger.info("continue_store.erased conversation=%s rows=%d", ref(conversation_id),
                    deleted)
        return deleted

    def prune(self, before: datetime) -> int:
        """Tokens issued and sessions opened before ``before`` (retention: their conversations
        are purged by then; a conversation pruned here may be offered the link again)."""
        before = _utc(before)
        with self._session.begin() as session:
            deleted = session.execute(
                delete(continue_token)
                .where(continue_token.c.issued_at < before)
                .execution_options(synchronize_session=False)).rowcount
            deleted += session.execute(
                delete(continue_session).where(continue_session.c.created_at < before)
                .execution_options(synchronize_session=False)).rowcount
        return deleted


_SHARED = SharedStores(ContinueStore.create, ERASURE_NAME)


def shared(url: str | None = None) -> ContinueStore:
    """The process's store on ``url`` (default: the channels' database), opened once and
    registered for erasure and retention."""
    return _SHARED.get(url)


def reset_shared() -> None:
    """Close the shared stores (tests)."""
    _SHARED.reset()
