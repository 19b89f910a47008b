"""Durable storage of every channel (X first): inbox, outbox, polling cursors, leases, budgets,
invitations; and the X platform's own tables (public posts, costs, X Chat counts).

Everything a channel must not lose or repeat across restarts and across server processes
lives here, in the channels' database (``permanence.settings.x_database_url()``: on SQLite a
file of its own next to the project's, ``var/permanence-x.db`` by default; on PostgreSQL the
project's database). The tables keep their historical ``x_`` names; each row of the shared
ones (inbox, outbox, cursor, lease, budget, invitation) carries its ``channel`` (``x``,
``mastodon``...), part of every key that deduplicates or orders (an event id, a recipient's
sequence, a cursor's or a lease's name are unique per channel). A :class:`Store` is one
channel's view (``Store.create(url, channel=...)``, :meth:`Store.for_channel`): it never reads
or writes another channel's rows. The X-only tables (``x_public_post``, ``x_cost``,
``x_chat_received``) have no channel column.

``x_inbox``
    Every accepted webhook or polled event, written *before* the webhook answers 200. The
    UNIQUE ``event_id`` deduplicates redeliveries, also across restarts. Workers claim items
    one at a time, in order per sender: an item is handed out only when every earlier item of
    the same sender is ``done`` or ``failed`` and none is ``processing``. An item left
    ``processing`` by a killed process goes back to ``pending`` with
    :meth:`Store.inbox_release_orphans` (its claimant's liveness lease expired) or
    :meth:`Store.inbox_release_stale` (claimed too long ago), so a ``kill -9`` loses nothing.
    :meth:`Store.turn_commit` marks an item done together with the replies of its turn, so a
    turn interrupted by a crash leaves no reply behind and runs again without repeating one.
``x_outbox``
    Replies not sent yet, in order per recipient (``seq``). A recipient's later replies wait
    until the earlier ones are ``sent`` or ``failed_permanent``; other recipients are not
    blocked. :meth:`Store.outbox_next_due` reserves the item it returns for ``hold_seconds`` so
    that two processes never send the same reply at once. Of the replies due, it hands out
    first the lawyer's replies, then a first answer to a person who has had none (P0
    conversations first), then the others (P0 conversations first; the ``priority`` class,
    ``permanence/priority.py``, set by whoever queues the reply), each group round robin
    (whoever has waited longest). Given a budget name, it
    also spends one DM of that budget in the same transaction, and hands out nothing while
    the budget is spent.
``x_budget``
    The account's DM-send budget as X's headers report it (``permanence/x_budget.py``), one
    row shared by every sender of every process, kept across restarts.
``x_cursor``
    Polling state (``since_id``, pagination tokens). :meth:`Store.inbox_add_many` can advance a
    cursor in the same transaction as the events it stored: a restart neither loses nor
    repeats.
``x_lease``
    One row per singleton job (the poller) and per live server process (its liveness). Held
    until ``expires_at``, renewed by its holder, taken over by anyone once expired.
``x_invitation``
    When each author last received a public invitation to DM (at most one per period).
``x_public_post``
    The public posts that carry the hashtag without summoning the account (no @mention, no
    quote): X allows no automated reply to them, so the desk lists them for the lawyer to
    answer by hand. Post id, author id (for erasure) and handle only, never the text; erased
    with the person and pruned by retention like the rest.
``x_cost``
    One row per billed unit of the X API (``permanence/x_costs.py``): its price kind, price
    and time, and for a kind billed once per resource per day a hashed ``dedupe`` key; never
    a text or a person id. Written in the transaction of what caused it (the webhook's
    events, a reply marked sent) where there is one.
``x_chat_received``
    Encrypted X Chat messages X delivered (``chat.received``), which the assistant cannot
    read: each message's event id (counted once however often X delivers it) and when. No
    person, no content.

The same database holds, by default, the tokens of the link to continue on the web chat and
the web sessions they opened (``permanence/continue_store.py``: tables of their own, erased
with the conversation by their own eraser).

The schema is :data:`metadata`, managed by Alembic (``channels/migrations``, its own version
table ``channel_alembic_version``, apart from the desk's): :meth:`Store.create` brings the
database to the head at every start (``channels/migrate.py``); an X store of the time before
Alembic migrates in place, its rows becoming channel ``x``. A change of :data:`metadata` needs
a revision.

Confidentiality (LEGAL.md D1, D4): logs carry event names and ids, never text. The inbox payload
is cleared once the item is ``done`` and the outbox text once the reply is ``sent`` (the Rasa
tracker store holds the conversation); :meth:`Store.erase_person` (registered with
:mod:`permanence.erasure` as :meth:`Store.erase_conversation` by the X channel) and
:meth:`Store.prune` serve erasure requests and retention.

The API is synchronous (the async channel calls it in an executor). Every public method is one
unit of work (``with self._session.begin():``). Datetimes are timezone-aware and stored as UTC;
every method that depends on the clock takes an explicit ``now`` (default: the current time),
and the clocks of processes sharing a database are assumed to agree within seconds.

Guarantees and limits:

- Ordering per sender follows ``x_inbox.id``. On PostgreSQL, ids are drawn at insert, so two
  events of one sender inserted concurrently by two processes may commit out of order; X
  delivers one person's DMs in sequence, so this is not expected in practice.
- Sending is at-least-once in one case that no database can close: a process that crashes
  after X accepted a reply but before :meth:`Store.outbox_sent` sends it again once its hold
  expires (the X DM API has no idempotency key).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker
from sqlalchemy.types import TypeDecorator

from permanence import conversations, sqlite
from permanence.deliveries import FAILED, QUEUED, Part, Status, combine
from permanence.deliveries import SENT as DELIVERY_SENT
from permanence.logids import ref
from permanence.priority import LAWYER, NORMAL, PRIORITIES
from permanence.settings import masked, x_database_url
from permanence.x_budget import DEFAULT_MARGIN_SECONDS, Budget
from permanence.x_costs import Charge

logger = logging.getLogger(__name__)

InboxKind = Literal["dm", "tweet"]
INBOX_KINDS = ("dm", "tweet")
INBOX_PENDING, INBOX_PROCESSING = "pending", "processing"
INBOX_DONE, INBOX_FAILED = "done", "failed"
OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_FAILED = "pending", "sent", "failed_permanent"
REASON_MAX_LENGTH = 200  # x_outbox.failure_reason
DELIVERY_REF_MAX_LENGTH = 64  # x_outbox.delivery_ref
POST_OPEN, POST_DONE = "open", "done"
X_CHANNEL = "x"  # the channel of the X store's rows (and of every row before the column)

ERROR_MAX_LENGTH = 200
# The sender of an inbox item, and the conversation key of replies, of an erased person.
ERASED = "erased"
# How many candidates one claim tries before querying again (only PostgreSQL ever loses races).
CLAIM_BATCH = 8
CLAIM_ROUNDS = 20
SEQ_RETRIES = 10


def options_cursor(person_id: str) -> str:
    """The cursor holding the options (buttons) last shown to ``person_id``."""
    return f"x.options.{person_id}"


def x_person(conversation_id: str) -> str | None:
    """The X user id of an X conversation (``x:<id>``), else None. A bare id of digits (saved
    before conversation ids were namespaced) is taken as an X user id."""
    if conversation_id.isdigit():
        return conversation_id
    if conversations.channel_of(conversation_id) != conversations.X:
        return None
    return conversations.local_id(conversation_id, conversations.X)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("x_store datetimes must be timezone-aware")
    return value.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as naive UTC (same on SQLite and PostgreSQL), returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return _utc(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a hand-written query
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)


# BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
RowId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

x_inbox = Table(
    "x_inbox",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("sender_id", String(64), nullable=False),
    Column("payload", Text, nullable=True),  # JSON text; NULL once done (data minimisation)
    Column("received_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False, default=INBOX_PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(128), nullable=True),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("processed_at", UTCDateTime, nullable=True),
    Column("last_error", String(ERROR_MAX_LENGTH), nullable=True),
    UniqueConstraint("channel", "event_id", name="uq_x_inbox_channel_event"),
    CheckConstraint("kind IN ('dm', 'tweet')", name="kind"),
    CheckConstraint("state IN ('pending', 'processing', 'done', 'failed')", name="state"),
    Index("ix_x_inbox_sender_state", "channel", "sender_id", "state", "id"),
    Index("ix_x_inbox_state_id", "channel", "state", "id"),
)

x_outbox = Table(
    "x_outbox",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("conversation_key", String(128), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=True),  # NULL once sent (data minimisation)
    Column("state", String(24), nullable=False, default=OUTBOX_PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error_code", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("external_id", String(128), nullable=True),
    # permanence/priority.py: 0 the lawyer's, 1 a P0 conversation's, 2 the others.
    Column("priority", Integer, nullable=False, default=NORMAL, server_default=str(NORMAL)),
    # A given-up message's reason, in French, for the lawyer (channels.outcomes.GiveUp).
    Column("failure_reason", String(REASON_MAX_LENGTH), nullable=True),
    # The desk's reference of the reply this part belongs to (permanence/deliveries.py).
    Column("delivery_ref", String(DELIVERY_REF_MAX_LENGTH), nullable=True),
    UniqueConstraint("channel", "recipient_id", "seq", name="uq_x_outbox_channel_recipient_seq"),
    CheckConstraint("state IN ('pending', 'sent', 'failed_permanent')", name="state"),
    Index("ix_x_outbox_state_due", "channel", "state", "next_attempt_at"),
    Index("ix_x_outbox_recipient_state", "channel", "recipient_id", "state"),
    Index("ix_x_outbox_delivery_ref", "channel", "delivery_ref"),
)

x_cursor = Table(
    "x_cursor",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("value", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

x_lease = Table(
    "x_lease",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

x_invitation = Table(
    "x_invitation",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("author_id", String(64), primary_key=True),
    Column("last_invited_at", UTCDateTime, nullable=False),
)

x_public_post = Table(
    "x_public_post",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("tweet_id", String(32), nullable=False),
    Column("author_id", String(64), nullable=False),  # erasure finds the person's posts
    Column("username", String(32), nullable=True),    # the handle the desk shows
    Column("posted_at", UTCDateTime, nullable=True),  # as X dates it
    Column("received_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False, default=POST_OPEN),
    Column("done_at", UTCDateTime, nullable=True),
    UniqueConstraint("tweet_id"),
    CheckConstraint("state IN ('open', 'done')", name="state"),
    Index("ix_x_public_post_state_id", "state", "id"),
    Index("ix_x_public_post_author", "author_id"),
)

x_cost = Table(
    "x_cost",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("micro_usd", Integer, nullable=False),  # the price charged, in 1e-6 dollars
    Column("at", UTCDateTime, nullable=False),
    # hash of (kind, UTC day, resource id) for once-a-day kinds, else NULL; emptied by prune
    Column("dedupe", String(64), nullable=True),
    UniqueConstraint("dedupe"),
    Index("ix_x_cost_at", "at"),
)

# The account's sending budgets as X reports them (permanence/x_budget.py), one row per
# budget (``dm_send``), shared by every sender of every process.
x_budget = Table(
    "x_budget",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("state", Text, nullable=False),  # Budget.to_json()
    Column("updated_at", UTCDateTime, nullable=False),
)


# The web chat's durable messages and links (``channels/webchat_store.py``, which reads and
# writes them; revision 0004). Keyed by conversation id (``web:…``, or ``x:…`` for a person who
# continued on the web chat); erased with the conversation.
webchat_message = Table(
    "webchat_message",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("conversation_id", String(160), nullable=False),
    Column("author", String(16), nullable=False),  # bot or lawyer
    Column("body", Text, nullable=True),  # the message as JSON; NULL once acknowledged
    Column("event_key", String(80), nullable=True),  # the tracker event it shows
    Column("delivery_ref", String(DELIVERY_REF_MAX_LENGTH), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("acked_at", UTCDateTime, nullable=True),
    CheckConstraint("author IN ('bot', 'lawyer')", name="author"),
    Index("ix_webchat_message_conversation", "conversation_id", "id"),
    Index("ix_webchat_message_delivery_ref", "delivery_ref"),
)

webchat_resume = Table(
    "webchat_resume",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("conversation_id", String(160), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

webchat_session = Table(
    "webchat_session",
    metadata,
    Column("secret_hash", String(64), primary_key=True),
    Column("conversation_id", String(160), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_webchat_session_conversation", "conversation_id"),
)

webchat_notice = Table(
    "webchat_notice",
    metadata,
    Column("conversation_id", String(160), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("consented_at", UTCDateTime, nullable=False),
    Column("notified_at", UTCDateTime, nullable=True),
)


@dataclass(frozen=True)
class InboxEvent:
    """One event to store: see :meth:`Store.inbox_add`."""

    event_id: str
    kind: InboxKind
    sender_id: str
    payload: Any


@dataclass(frozen=True)
class InboxItem:
    id: int
    event_id: str
    kind: str
    sender_id: str
    payload: Any  # decoded JSON; None once the item is done
    received_at: datetime
    state: str
    attempts: int


@dataclass(frozen=True)
class OutboxItem:
    id: int
    recipient_id: str
    conversation_key: str
    seq: int
    text: str | None  # None once sent
    state: str
    attempts: int  # including the attempt that outbox_next_due just reserved
    next_attempt_at: datetime
    last_error_code: str | None
    created_at: datetime | None = None  # when the reply was queued
    priority: int = NORMAL  # permanence/priority.py


def backoff_delay(
    attempts: int, base_seconds: float = 5.0, cap_seconds: float = 3600.0
) -> timedelta:
    """Exponential backoff after ``attempts`` failed attempts (1 -> base, 2 -> 2*base, ...)."""
    exponent = max(attempts - 1, 0)
    seconds = cap_seconds if exponent >= 63 else min(base_seconds * 2**exponent, cap_seconds)
    return timedelta(seconds=seconds)


def _inbox_item(row: Any) -> InboxItem:
    return InboxItem(
        id=row.id,
        event_id=row.event_id,
        kind=row.kind,
        sender_id=row.sender_id,
        payload=None if row.payload is None else json.loads(row.payload),
        received_at=row.received_at,
        state=row.state,
        attempts=row.attempts,
    )


def _outbox_item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        recipient_id=row.recipient_id,
        conversation_key=row.conversation_key,
        seq=row.seq,
        text=row.text,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error_code=row.last_error_code,
        created_at=row.created_at,
        priority=row.priority,
    )


def _error_text(error: object) -> str:
    return str(error)[:ERROR_MAX_LENGTH]


# Conditions on a candidate row of x_inbox ("candidate" is the table itself in the statement).
def _inbox_sender_ready() -> Any:
    """No earlier unfinished item and no processing item for the candidate's sender."""
    other = x_inbox.alias("other")
    earlier_unfinished = exists().where(
        other.c.channel == x_inbox.c.channel,
        other.c.sender_id == x_inbox.c.sender_id,
        other.c.id < x_inbox.c.id,
        other.c.state.in_([INBOX_PENDING, INBOX_PROCESSING]),
    )
    processing = exists().where(
        other.c.channel == x_inbox.c.channel,
        other.c.sender_id == x_inbox.c.sender_id,
        other.c.state == INBOX_PROCESSING,
    )
    return and_(~earlier_unfinished, ~processing)


def _outbox_recipient_ready() -> Any:
    """Every earlier reply of the candidate's recipient is sent or failed permanently."""
    other = x_outbox.alias("other")
    return ~exists().where(
        other.c.channel == x_outbox.c.channel,
        other.c.recipient_id == x_outbox.c.recipient_id,
        other.c.seq < x_outbox.c.seq,
        other.c.state == OUTBOX_PENDING,
    )


# The statements of the hot paths (looking for work, claiming, reserving), built once with
# bound parameters: building them on each call cost about 1 ms of the interpreter per look
# (aliased tables, column collections), taken from inference in the same process.
_INBOX_CANDIDATES = (
    select(x_inbox.c.id)
    .where(x_inbox.c.channel == bindparam("p_channel"), x_inbox.c.state == INBOX_PENDING,
           _inbox_sender_ready())
    .order_by(x_inbox.c.id)
    .limit(CLAIM_BATCH)
)
_INBOX_ANY = _INBOX_CANDIDATES.limit(1)
_INBOX_CLAIM = (
    update(x_inbox)
    .where(x_inbox.c.id == bindparam("item_id"), x_inbox.c.state == INBOX_PENDING,
           _inbox_sender_ready())
    .values(state=INBOX_PROCESSING, attempts=x_inbox.c.attempts + 1,
            claimed_by=bindparam("worker"),
            claimed_at=bindparam("claimed_now", type_=UTCDateTime()))
    .execution_options(synchronize_session=False)
)
_INBOX_ROW = select(x_inbox).where(x_inbox.c.id == bindparam("item_id"))
_OUTBOX_DUE = and_(
    x_outbox.c.channel == bindparam("p_channel"),
    x_outbox.c.state == OUTBOX_PENDING,
    x_outbox.c.next_attempt_at <= bindparam("now", type_=UTCDateTime()),
    _outbox_recipient_ready(),
)



def _outbox_order() -> list[Any]:
    """The order in which the due replies (each the next of its recipient) go out, the
    budget being short or not (see the module docstring, ``x_outbox``): first a recipient with
    a lawyer's reply pending (it pulls that person's earlier messages forward: one person's
    replies are never reordered); then a person who has had no reply yet, a P0 conversation
    first; then the other conversations, P0 ones first; in each group whoever has waited
    longest since their last reply was sent or this one was queued (round robin: a person
    just served goes to the back).

    Why a first answer goes before a P0 conversation's next message (``permanence/priority.py``):
    with 15 DMs per 15 minutes, four P0 conversations of five DMs each would hold everyone else
    without any answer for more than a window; a P0 person is answered first among the new,
    and their next answers, if they would wait, are offered on the web chat
    (``permanence/continue_link.py``)."""
    mine = x_outbox.alias("mine")
    same = and_(mine.c.channel == x_outbox.c.channel,
                mine.c.recipient_id == x_outbox.c.recipient_id)
    urgency = (select(func.min(mine.c.priority))
               .where(same, mine.c.state == OUTBOX_PENDING).scalar_subquery())
    last_sent = (select(func.max(mine.c.sent_at))
                 .where(same, mine.c.state == OUTBOX_SENT).scalar_subquery())
    lawyer_first = case((urgency == LAWYER, 0), else_=1)
    served = case((last_sent.is_(None), 0), else_=1)
    waiting_since = case((last_sent > x_outbox.c.created_at, last_sent),
                         else_=x_outbox.c.created_at)
    return [lawyer_first, served, urgency, waiting_since, x_outbox.c.id]


_ORDER = _outbox_order()
# Each due reply, in send order, with whether it may be paced (x_budget.Budget.paced_until): a
# reply to a person already answered, with no lawyer's reply of theirs pending.
_OUTBOX_CANDIDATES = (
    select(x_outbox.c.id, and_(_ORDER[0] == 1, _ORDER[1] == 1).label("paced"))
    .where(_OUTBOX_DUE)
    .order_by(*_ORDER)
    .limit(CLAIM_BATCH)
)
_OUTBOX_ANY = select(x_outbox.c.id).where(_OUTBOX_DUE).limit(1)  # unordered: a cheap look
_OUTBOX_RESERVE = (
    update(x_outbox)
    .where(x_outbox.c.id == bindparam("item_id"), _OUTBOX_DUE)
    .values(next_attempt_at=bindparam("hold_until", type_=UTCDateTime()),
            attempts=x_outbox.c.attempts + 1)
    .execution_options(synchronize_session=False)
)
_OUTBOX_ROW = select(x_outbox).where(x_outbox.c.id == bindparam("item_id"))
_TURN_DONE = (
    update(x_inbox)
    .where(
        x_inbox.c.id == bindparam("item_id"),
        or_(
            x_inbox.c.state == INBOX_PENDING,
            and_(x_inbox.c.state == INBOX_PROCESSING,
                 x_inbox.c.claimed_by == bindparam("worker")),
        ),
    )
    .values(state=INBOX_DONE, processed_at=bindparam("done_at", type_=UTCDateTime()),
            payload=None, last_error=None)
    .execution_options(synchronize_session=False)
)
_OUTBOX_INSERT = insert(x_outbox).values(
    channel=bindparam("p_channel"),
    recipient_id=bindparam("p_recipient"),
    conversation_key=bindparam("p_conversation"),
    seq=(
        select(func.coalesce(func.max(x_outbox.c.seq), 0) + 1)
        .where(x_outbox.c.channel == bindparam("p_channel"),
               x_outbox.c.recipient_id == bindparam("p_recipient"))
        .scalar_subquery()
    ),
    text=bindparam("p_text"),
    state=OUTBOX_PENDING,
    attempts=0,
    priority=bindparam("p_priority"),
    delivery_ref=bindparam("p_ref"),
    next_attempt_at=bindparam("p_now", type_=UTCDateTime()),
    created_at=bindparam("p_now", type_=UTCDateTime()),
)
_CURSOR_UPDATE = (
    update(x_cursor)
    .where(x_cursor.c.channel == bindparam("p_channel"), x_cursor.c.name == bindparam("p_name"))
    .values(value=bindparam("p_value"), updated_at=bindparam("p_now", type_=UTCDateTime()))
    .execution_options(synchronize_session=False)
)
_CURSOR_INSERT = insert(x_cursor).values(
    channel=bindparam("p_channel"), name=bindparam("p_name"), value=bindparam("p_value"),
    updated_at=bindparam("p_now", type_=UTCDateTime()))
_CURSOR_VALUE = select(x_cursor.c.value).where(x_cursor.c.channel == bindparam("p_channel"),
                                               x_cursor.c.name == bindparam("p_name"))


def _check_priority(priority: int) -> int:
    if priority not in PRIORITIES:
        raise ValueError(f"unknown outbox priority {priority!r}")
    return priority


x_chat_received = Table(
    "x_chat_received",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_x_chat_received_received_at", "received_at"),
)


class Store:
    """One channel's rows of the store's tables (``channel``: ``x``, ...). One engine per
    process; stores of several channels may share it (:meth:`for_channel`)."""

    def __init__(self, engine: Engine, channel: str = X_CHANNEL) -> None:
        if not channel or len(channel) > 32:
            raise ValueError("a channel name has 1 to 32 characters")
        self.engine = engine
        self.channel = channel
        self._session = sessionmaker(engine, future=True)
        # Units of work that only read: on SQLite no write lock (permanence/sqlite.py).
        self._read = sessionmaker(sqlite.reader(engine), future=True)

    @classmethod
    def create(cls, url: str | None = None, channel: str = X_CHANNEL,
               **engine_options: Any) -> Store:
        """Open the database at ``url`` (default: the X channel's, ``x_database_url()``) and
        bring its tables to the latest revision (``channels/migrate.py``)."""
        from channels.migrate import upgrade

        url = url or x_database_url()
        engine = sqlite.engine_for(url, **engine_options)
        upgrade(engine)
        logger.info("x_store.open url=%s channel=%s", masked(url), channel)
        return cls(engine, channel)

    def for_channel(self, channel: str) -> Store:
        """The rows of another channel, on the same engine (closing either closes both)."""
        return Store(self.engine, channel)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ inbox

    def inbox_add(
        self,
        event_id: str,
        kind: InboxKind,
        sender_id: str,
        payload: Any,
        now: datetime | None = None,
    ) -> bool:
        """Store one event; False if ``event_id`` is already stored (a redelivery)."""
        return self.inbox_add_many([InboxEvent(event_id, kind, sender_id, payload)], now=now)[0]

    def inbox_add_many(
        self,
        events: Iterable[InboxEvent],
        now: datetime | None = None,
        cursor: tuple[str, str | None] | None = None,
        costs: Iterable[Charge] = (),
    ) -> list[bool]:
        """Store events in one transaction, in the given order; True for each new one.

        ``cursor=(name, value)`` is written in the same transaction, so a polling cursor only
        advances once the events it covers are stored; so are ``costs``, what X bills for
        the call that brought them (:meth:`costs_add`).
        """
        now = _utc(now or utcnow())
        events = list(events)
        for item in events:
            if item.kind not in INBOX_KINDS:
                raise ValueError(f"unknown inbox kind {item.kind!r}")
        added: list[bool] = []
        with self._session.begin() as session:
            for item in events:
                added.append(self._insert_event(session, item, now))
            if cursor is not None:
                self._cursor_write(session, cursor[0], cursor[1], now)
            self._insert_costs(session, costs, now)
        for item, new in zip(events, added, strict=True):
            logger.debug(
                "x_store.inbox.%s event_id=%s kind=%s",
                "added" if new else "duplicate",
                item.event_id,
                item.kind,
            )
        return added

    def _insert_event(self, session: OrmSession, item: InboxEvent, now: datetime) -> bool:
        # Dedupe relies on the UNIQUE constraint, which also holds against concurrent inserts
        # by other processes; the savepoint keeps the surrounding transaction usable.
        try:
            with session.begin_nested():
                session.execute(
                    insert(x_inbox).values(
                        channel=self.channel,
                        event_id=item.event_id,
                        kind=item.kind,
                        sender_id=item.sender_id,
                        payload=json.dumps(item.payload, ensure_ascii=False),
                        received_at=now,
                        state=INBOX_PENDING,
                        attempts=0,
                    )
                )
        except IntegrityError:
            return False
        return True

    def inbox_claim_next(self, worker: str, now: datetime | None = None) -> InboxItem | None:
        """Mark the oldest ready item ``processing`` for ``worker`` and return it.

        Ready: pending, and every earlier item of the same sender is done or failed (so none is
        processing). The claim is a conditional UPDATE (``state = 'pending'`` and the sender
        still ready), checked by its rowcount: on SQLite the unit of work holds the write lock;
        on PostgreSQL the row lock makes a second claimant re-check ``state`` and find the row
        taken. ``SELECT ... FOR UPDATE SKIP LOCKED`` is not used: it would skip a sender's
        locked first item and could hand out the second one.
        """
        now = _utc(now or utcnow())
        if not self._any(_INBOX_ANY, {"p_channel": self.channel}):
            return None
        for _ in range(CLAIM_ROUNDS):
            with self._session.begin() as session:
                ids = session.execute(_INBOX_CANDIDATES, {"p_channel": self.channel}
                                      ).scalars().all()
                if not ids:
                    return None
                for item_id in ids:
                    claimed = session.execute(_INBOX_CLAIM, {
                        "item_id": item_id, "worker": worker, "claimed_now": now,
                        "p_channel": self.channel})
                    if claimed.rowcount == 1:
                        row = session.execute(_INBOX_ROW, {"item_id": item_id}).one()
                        logger.debug("x_store.inbox.claimed id=%s worker=%s", item_id, worker)
                        return _inbox_item(row)
        logger.warning("x_store.inbox.claim_contended worker=%s", worker)
        return None

    def _any(self, statement: Any, params: dict[str, Any]) -> bool:
        """Whether ``statement`` selects a row, read without the write lock: the many idle
        looks of workers and senders for work cost no writer any wait."""
        with self._read.begin() as session:
            return session.execute(statement, params).first() is not None

    def inbox_done(self, item_id: int, now: datetime | None = None) -> bool:
        """Mark an item done and clear its payload. Accepted from ``pending`` too: a worker that
        finishes after its item was released as stale prevents a second processing."""
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            result = session.execute(
                update(x_inbox)
                .where(
                    x_inbox.c.id == item_id,
                    x_inbox.c.state.in_([INBOX_PENDING, INBOX_PROCESSING]),
                )
                .values(state=INBOX_DONE, processed_at=now, payload=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
        logger.debug("x_store.inbox.done id=%s", item_id)
        return result.rowcount == 1

    def inbox_failed(self, item_id: int, error: object, now: datetime | None = None) -> bool:
        """Mark an item failed (it no longer blocks its sender's later items).

        ``error`` should be an error class or code: it is stored (truncated), so it must not
        carry message text."""
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            result = session.execute(
                update(x_inbox)
                .where(
                    x_inbox.c.id == item_id,
                    x_inbox.c.state.in_([INBOX_PENDING, INBOX_PROCESSING]),
                )
                .values(state=INBOX_FAILED, processed_at=now, last_error=_error_text(error))
                .execution_options(synchronize_session=False)
            )
        logger.warning("x_store.inbox.failed id=%s", item_id)
        return result.rowcount == 1

    def inbox_retry(self, item_id: int, worker: str, error: object) -> bool:
        """Put an item ``worker`` is processing back to ``pending`` after a failed turn (e.g.
        the conversation could not be saved), keeping its place in its sender's order; the
        next claim counts one more attempt. ``error``: a class or code, never message text."""
        with self._session.begin() as session:
            result = session.execute(
                update(x_inbox)
                .where(
                    x_inbox.c.id == item_id,
                    x_inbox.c.state == INBOX_PROCESSING,
                    x_inbox.c.claimed_by == worker,
                )
                .values(state=INBOX_PENDING, claimed_by=None, claimed_at=None,
                        last_error=_error_text(error))
                .execution_options(synchronize_session=False)
            )
        logger.warning("x_store.inbox.retry id=%s", item_id)
        return result.rowcount == 1

    def inbox_release_stale(
        self, older_than: datetime, max_attempts: int = 5, now: datetime | None = None
    ) -> int:
        """Put items claimed before ``older_than`` and still ``processing`` back to ``pending``.

        Items that already had ``max_attempts`` claims are marked ``failed`` instead (an event
        that kills its worker every time must not block its sender forever). Returns how many
        items went back to pending.
        """
        older_than = _utc(older_than)
        stale = and_(x_inbox.c.channel == self.channel, x_inbox.c.state == INBOX_PROCESSING,
                     x_inbox.c.claimed_at < older_than)
        return self._release(stale, max_attempts, _utc(now or utcnow()), "stale")

    def inbox_release_orphans(
        self, lease_prefix: str, max_attempts: int = 5, now: datetime | None = None
    ) -> int:
        """Put ``processing`` items back to ``pending`` when their claimant has no live lease
        named ``lease_prefix + claimed_by`` (each process renews its own: see
        :meth:`lease_acquire`). A killed process's items are thus released as soon as its
        lease expires, however long a turn may legitimately take. Items that already had
        ``max_attempts`` claims are marked ``failed``. Returns how many went back to pending.
        """
        now = _utc(now or utcnow())
        alive = exists().where(
            x_lease.c.channel == x_inbox.c.channel,
            x_lease.c.name == literal(lease_prefix) + x_inbox.c.claimed_by,
            x_lease.c.expires_at > now,
        )
        orphan = and_(x_inbox.c.channel == self.channel, x_inbox.c.state == INBOX_PROCESSING,
                      ~alive)
        return self._release(orphan, max_attempts, now, "orphan")

    def _release(self, condition: Any, max_attempts: int, now: datetime, reason: str) -> int:
        """Items matching ``condition``: ``failed`` after ``max_attempts`` claims, else back
        to ``pending``; returns how many went back to pending."""
        with self._session.begin() as session:
            failed = session.execute(
                update(x_inbox)
                .where(condition, x_inbox.c.attempts >= max_attempts)
                .values(state=INBOX_FAILED, processed_at=now,
                        last_error=f"{reason}_max_attempts")
                .execution_options(synchronize_session=False)
            ).rowcount
            released = session.execute(
                update(x_inbox)
                .where(condition)
                .values(state=INBOX_PENDING, claimed_by=None, claimed_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
        if released or failed:
            logger.warning("x_store.inbox.released reason=%s released=%d failed=%d",
                           reason, released, failed)
        return released

    def turn_commit(
        self,
        item_id: int,
        worker: str,
        replies: Iterable[tuple[str, str]],
        cursors: dict[str, str | None] | None = None,
        now: datetime | None = None,
        priority: int = NORMAL,
    ) -> bool:
        """Finish a handled inbox item in one transaction: mark it done, queue its replies
        (``(recipient_id, text)``, in order, of class ``priority``) and write ``cursors``.

        Refused (False, nothing written) if another worker has claimed the item since
        (``worker`` lost it, e.g. taken for dead): that worker commits the turn instead. A
        process killed before this call leaves no reply behind, so the turn can run again
        without repeating anything."""
        now = _utc(now or utcnow())
        _check_priority(priority)
        with self._session.begin() as session:
            done = session.execute(_TURN_DONE, {
                "item_id": item_id, "worker": worker, "done_at": now}).rowcount
            if done != 1:
                logger.warning("x_store.inbox.commit_refused id=%s worker=%s", item_id, worker)
                return False
            erased = session.execute(
                select(x_inbox.c.sender_id).where(x_inbox.c.id == item_id)
            ).scalar_one() == ERASED
            for recipient_id, text in replies:
                self._outbox_insert(session, recipient_id, text, now,
                                    ERASED if erased else None, priority)
            if erased and cursors:  # the person's options go with the rest of them
                session.execute(delete(x_cursor).where(x_cursor.c.channel == self.channel,
                                                       x_cursor.c.name.in_(list(cursors)))
                                .execution_options(synchronize_session=False))
                cursors = {}
            for name, value in (cursors or {}).items():
                self._cursor_write(session, name, value, now)
        logger.debug("x_store.inbox.committed id=%s", item_id)
        return True

    def inbox_get(self, item_id: int) -> InboxItem | None:
        with self._read.begin() as session:
            row = session.execute(select(x_inbox).where(x_inbox.c.id == item_id)).one_or_none()
        return None if row is None else _inbox_item(row)

    def inbox_pending_count(self) -> int:
        with self._read.begin() as session:
            return session.execute(
                select(func.count()).select_from(x_inbox).where(
                    x_inbox.c.channel == self.channel, x_inbox.c.state == INBOX_PENDING)
            ).scalar_one()

    # ----------------------------------------------------------------- outbox

    def outbox_enqueue(
        self,
        recipient_id: str,
        text: str,
        now: datetime | None = None,
        conversation_key: str | None = None,
        priority: int = NORMAL,
        delivery_ref: str | None = None,
    ) -> int:
        """Queue a reply, due at once; ``seq`` follows the recipient's previous replies.

        ``conversation_key`` defaults to ``recipient_id`` (one DM conversation per person).
        ``priority``: its class (``permanence/priority.py``), computed by the caller.
        ``delivery_ref``: the desk's reference of the reply (:meth:`outbox_deliveries`)."""
        now = _utc(now or utcnow())
        _check_priority(priority)
        if delivery_ref is not None and len(delivery_ref) > DELIVERY_REF_MAX_LENGTH:
            raise ValueError("delivery_ref is too long")
        with self._session.begin() as session:
            item_id = self._outbox_insert(session, recipient_id, text, now, conversation_key,
                                          priority, delivery_ref)
        logger.debug("x_store.outbox.enqueued id=%s", item_id)
        return item_id

    def _outbox_insert(
        self,
        session: OrmSession,
        recipient_id: str,
        text: str,
        now: datetime,
        conversation_key: str | None = None,
        priority: int = NORMAL,
        delivery_ref: str | None = None,
    ) -> int:
        params = {"p_channel": self.channel, "p_recipient": recipient_id,
                  "p_conversation": conversation_key or recipient_id, "p_text": text,
                  "p_now": now, "p_priority": priority, "p_ref": delivery_ref}
        for _ in range(SEQ_RETRIES):
            try:
                with session.begin_nested():
                    result = session.execute(_OUTBOX_INSERT, params)
            except IntegrityError:  # a concurrent enqueue took the same seq (PostgreSQL)
                continue
            return result.inserted_primary_key[0]
        raise RuntimeError("x_store.outbox.enqueue_contended")

    def outbox_next_due(
        self, now: datetime | None = None, hold_seconds: float = 60.0,
        budget: str | None = None, margin: float = DEFAULT_MARGIN_SECONDS,
        pace_burst: int | None = None,
    ) -> OutboxItem | None:
        """Reserve and return the next reply to send, or None.

        Due: pending, ``next_attempt_at <= now``, and every earlier reply of the same recipient
        sent or failed permanently; of the due replies, the first in :func:`_outbox_order`
        (the lawyer's, first answers, P0, longest wait). The reply is reserved by moving its
        ``next_attempt_at`` to ``now + hold_seconds`` (and counting the attempt): another
        process does not get it in the meantime, the recipient's later replies stay blocked,
        and if this process dies before reporting, the reply is due again after the hold.
        Report the outcome with :meth:`outbox_sent`, :meth:`outbox_retry` or
        :meth:`outbox_failed_permanent`.

        ``budget``: the name of a sending budget (:meth:`budget_observe`); one DM of it is
        spent in the same transaction, and None is returned while it is spent
        (:meth:`budget_blocked_until` says until when), so no process sends into a window
        X has said is used up. While nothing is known of it, one reply at a time goes (a
        probe, for at most ``hold_seconds``: a process killed mid-probe holds nobody longer).

        ``pace_burst`` (with ``budget``): a reply to a person already answered (no lawyer's
        reply of theirs pending) waits while the window is spent faster than its average rate
        beyond that many DMs (:meth:`Budget.paced_until`), so that a rush of newcomers still
        finds DMs for their first answers; None is returned then (the senders look again
        soon: a first answer or a lawyer's reply may come meanwhile).
        """
        now = _utc(now or utcnow())
        hold_until = now + timedelta(seconds=hold_seconds)
        if not self._any(_OUTBOX_ANY, {"now": now, "p_channel": self.channel}):
            return None
        for _ in range(CLAIM_ROUNDS):
            with self._session.begin() as session:
                spent = paced = None
                if budget is not None:
                    known = self._budget_read(session, budget)
                    spent = known.take(now, margin, hold_seconds)
                    if spent is None:
                        logger.debug("x_store.outbox.budget_spent budget=%s", budget)
                        return None
                    if pace_burst is not None:
                        paced = known.paced_until(now, pace_burst)
                candidates = session.execute(_OUTBOX_CANDIDATES, {
                    "now": now, "p_channel": self.channel}).all()
                if not candidates:
                    return None
                for item_id, may_be_paced in candidates:
                    if paced is not None and may_be_paced:
                        logger.debug("x_store.outbox.paced budget=%s", budget)
                        return None
                    reserved = session.execute(_OUTBOX_RESERVE, {
                        "item_id": item_id, "now": now, "hold_until": hold_until,
                        "p_channel": self.channel})
                    if reserved.rowcount == 1:
                        if spent is not None:
                            self._budget_write(session, budget, spent, now)
                        row = session.execute(_OUTBOX_ROW, {"item_id": item_id}).one()
                        logger.debug("x_store.outbox.reserved id=%s", item_id)
                        return _outbox_item(row)
        logger.warning("x_store.outbox.reserve_contended")
        return None

    def outbox_sent(
        self, item_id: int, external_id: str | None, now: datetime | None = None,
        costs: Iterable[Charge] = (),
    ) -> bool:
        """Record a delivered reply (its text is cleared); unblocks the recipient's next one.
        A reply of an erased conversation (:meth:`erase_person`) is deleted instead.
        ``costs`` (the DM sent, as X bills it) are recorded in the same transaction."""
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            self._insert_costs(session, costs, now)
            if session.execute(
                delete(x_outbox)
                .where(x_outbox.c.id == item_id, x_outbox.c.state == OUTBOX_PENDING,
                       x_outbox.c.conversation_key == ERASED)
                .execution_options(synchronize_session=False)
            ).rowcount:
                logger.debug("x_store.outbox.sent_and_erased id=%s", item_id)
                return True
            result = session.execute(
                update(x_outbox)
                .where(x_outbox.c.id == item_id, x_outbox.c.state == OUTBOX_PENDING)
                .values(state=OUTBOX_SENT, sent_at=now, external_id=external_id, text=None)
                .execution_options(synchronize_session=False)
            )
        logger.debug("x_store.outbox.sent id=%s external_id=%s", item_id, external_id)
        return result.rowcount == 1

    def outbox_retry(self, item_id: int, at: datetime, error_code: str | int) -> bool:
        """Try again at ``at`` (429: the reset time; 5xx: now + :func:`backoff_delay`)."""
        with self._session.begin() as session:
            result = session.execute(
                update(x_outbox)
                .where(x_outbox.c.id == item_id, x_outbox.c.state == OUTBOX_PENDING)
                .values(next_attempt_at=_utc(at), last_error_code=str(error_code)[:32])
                .execution_options(synchronize_session=False)
            )
        logger.info("x_store.outbox.retry id=%s code=%s", item_id, error_code)
        return result.rowcount == 1

    def outbox_failed_permanent(self, item_id: int, error_code: str | int,
                                reason: str | None = None) -> bool:
        """Give up on a reply (e.g. 403: the person does not accept DMs); it is never retried
        and no longer blocks the recipient's next replies. Its text is kept for the desk,
        except for a reply of an erased conversation (:meth:`erase_person`): deleted.
        ``reason``: what the lawyer reads, in French (``channels.outcomes.GiveUp``)."""
        with self._session.begin() as session:
            if session.execute(
                delete(x_outbox)
                .where(x_outbox.c.id == item_id, x_outbox.c.state == OUTBOX_PENDING,
                       x_outbox.c.conversation_key == ERASED)
                .execution_options(synchronize_session=False)
            ).rowcount:
                logger.warning("x_store.outbox.failed_and_erased id=%s code=%s", item_id,
                               error_code)
                return True
            result = session.execute(
                update(x_outbox)
                .where(x_outbox.c.id == item_id, x_outbox.c.state == OUTBOX_PENDING)
                .values(state=OUTBOX_FAILED, last_error_code=str(error_code)[:32],
                        failure_reason=None if reason is None else reason[:REASON_MAX_LENGTH])
                .execution_options(synchronize_session=False)
            )
        logger.warning("x_store.outbox.failed_permanent id=%s code=%s", item_id, error_code)
        return result.rowcount == 1

    def outbox_deliveries(self, refs: list[str]) -> dict[str, Status]:
        """What became of each reply the desk queued here, by its reference
        (``permanence/deliveries.py``: queued, sent with the time, or given up with the
        reason); a reference with no part in this channel's outbox is absent."""
        wanted = [r for r in refs if r]
        if not wanted:
            return {}
        states = {OUTBOX_PENDING: QUEUED, OUTBOX_SENT: DELIVERY_SENT, OUTBOX_FAILED: FAILED}
        with self._read.begin() as session:
            rows = session.execute(
                select(x_outbox.c.delivery_ref, x_outbox.c.state, x_outbox.c.sent_at,
                       x_outbox.c.failure_reason)
                .where(x_outbox.c.channel == self.channel, x_outbox.c.delivery_ref.in_(wanted))
                .order_by(x_outbox.c.id)).all()
        parts: dict[str, list[Part]] = {}
        for row in rows:
            parts.setdefault(row.delivery_ref, []).append(
                Part(states[row.state], row.sent_at, row.failure_reason))
        return {ref: status for ref, run in parts.items()
                if (status := combine(run)) is not None}

    def outbox_get(self, item_id: int) -> OutboxItem | None:
        with self._read.begin() as session:
            row = session.execute(select(x_outbox).where(x_outbox.c.id == item_id)).one_or_none()
        return None if row is None else _outbox_item(row)

    def outbox_external_ids(self, recipient_id: str) -> set[str]:
        """The X ids of the replies already recorded as sent to ``recipient_id``."""
        with self._read.begin() as session:
            return set(session.execute(
                select(x_outbox.c.external_id).where(
                    x_outbox.c.channel == self.channel,
                    x_outbox.c.recipient_id == recipient_id,
                    x_outbox.c.external_id.isnot(None),
                )
            ).scalars())

    def outbox_ahead(self, item_id: int, priority: int = NORMAL) -> int:
        """How many DMs would go before the next reply of class ``priority`` to the recipient
        of ``item_id``, who is being answered (``permanence/continue_link.py``), in the order
        of :func:`_outbox_order`: the lawyer's pending replies, one first answer for each other
        person who has had none, the recipient's own other pending replies, and the pending
        replies of people already answered, of class ``priority`` or more urgent."""
        mine = x_outbox.alias("mine")
        answered = (select(mine.c.id)
                    .where(mine.c.channel == x_outbox.c.channel,
                           mine.c.recipient_id == x_outbox.c.recipient_id,
                           mine.c.state == OUTBOX_SENT).exists())
        recipient = (select(mine.c.recipient_id).where(mine.c.id == item_id)
                     .scalar_subquery())
        pending = and_(x_outbox.c.channel == self.channel,
                       x_outbox.c.state == OUTBOX_PENDING)
        with self._read.begin() as session:
            others = session.execute(
                select(func.count()).select_from(x_outbox).where(
                    pending, x_outbox.c.id != item_id,
                    or_(x_outbox.c.priority == LAWYER,
                        x_outbox.c.recipient_id == recipient,
                        and_(answered, x_outbox.c.priority <= priority)))
            ).scalar_one()
            new_people = session.execute(
                select(func.count(func.distinct(x_outbox.c.recipient_id))).where(
                    pending, x_outbox.c.priority != LAWYER, ~answered,
                    x_outbox.c.recipient_id != func.coalesce(recipient, ""))
            ).scalar_one()
        return others + new_people

    def outbox_set_text(self, item_id: int, text: str) -> bool:
        """Replace the text of a pending reply before it is sent (the link to continue on the
        web chat is added to it): stored first, so that a retry sends, and looks for, the
        same text."""
        with self._session.begin() as session:
            result = session.execute(
                update(x_outbox)
                .where(x_outbox.c.id == item_id, x_outbox.c.state == OUTBOX_PENDING,
                       x_outbox.c.text.isnot(None))
                .values(text=text)
                .execution_options(synchronize_session=False))
        return result.rowcount == 1

    def outbox_pending_count(self) -> int:
        with self._read.begin() as session:
            return session.execute(
                select(func.count()).select_from(x_outbox).where(
                    x_outbox.c.channel == self.channel, x_outbox.c.state == OUTBOX_PENDING)
            ).scalar_one()

    def outbox_waiting(self, now: datetime | None = None) -> dict[str, Any]:
        """What waits to be sent: pending replies by priority class, people waiting, and
        since when the oldest reply waits (for the desk's budget display)."""
        now = _utc(now or utcnow())
        with self._read.begin() as session:
            by_priority = dict(session.execute(
                select(x_outbox.c.priority, func.count())
                .where(x_outbox.c.channel == self.channel, x_outbox.c.state == OUTBOX_PENDING)
                .group_by(x_outbox.c.priority)).all())
            people, oldest = session.execute(
                select(func.count(func.distinct(x_outbox.c.recipient_id)),
                       func.min(x_outbox.c.created_at))
                .where(x_outbox.c.channel == self.channel,
                       x_outbox.c.state == OUTBOX_PENDING)).one()
        if isinstance(oldest, str):  # an aggregate of a UTCDateTime column, raw on SQLite
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        return {"pending": sum(by_priority.values()),
                "by_priority": {str(k): v for k, v in sorted(by_priority.items())},
                "people": people,
                "oldest_waiting_seconds": (round((now - oldest).total_seconds(), 1)
                                           if oldest is not None else None)}

    # ---------------------------------------------------------------- budgets

    def budget_get(self, name: str) -> Budget:
        """What the senders know of the budget ``name`` (empty: nothing known yet)."""
        with self._read.begin() as session:
            raw = session.execute(select(x_budget.c.state).where(
                x_budget.c.channel == self.channel, x_budget.c.name == name)
            ).scalar_one_or_none()
        return Budget.from_json(raw)

    def budget_blocked_until(self, name: str, now: datetime | None = None,
                             margin: float = DEFAULT_MARGIN_SECONDS) -> datetime | None:
        """When the next DM of budget ``name`` may go, if not now."""
        return self.budget_get(name).blocked_until(_utc(now or utcnow()), margin)

    def budget_observe(self, name: str, headers: Any, now: datetime | None = None,
                       status: int | None = None) -> Budget:
        """Fold the rate-limit headers of an X response into the budget ``name``."""
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            budget = self._budget_read(session, name).observe(headers, now, status)
            self._budget_write(session, name, budget, now)
        logger.debug("x_store.budget.observed name=%s status=%s", name, status)
        return budget

    def budget_status(self, name: str, now: datetime | None = None,
                      margin: float = DEFAULT_MARGIN_SECONDS) -> dict[str, Any]:
        """The budget ``name`` and the replies waiting for it, for the desk (JSON-ready):
        :meth:`Budget.describe`, then ``waiting`` (:meth:`outbox_waiting`) and
        ``estimated_wait_seconds`` (:meth:`Budget.estimated_wait` of every pending reply)."""
        now = _utc(now or utcnow())
        budget = self.budget_get(name)
        waiting = self.outbox_waiting(now)
        return {**budget.describe(now, margin), "now": now.isoformat(), "waiting": waiting,
                "estimated_wait_seconds": budget.estimated_wait(waiting["pending"], now,
                                                                margin)}

    def _budget_read(self, session: OrmSession, name: str) -> Budget:
        """The budget, its row locked until the transaction ends (created if missing, so
        that PostgreSQL has a row to lock; SQLite holds the write lock already)."""
        statement = select(x_budget.c.state).where(
            x_budget.c.channel == self.channel, x_budget.c.name == name).with_for_update()
        raw = session.execute(statement).scalar_one_or_none()
        if raw is None:
            try:
                with session.begin_nested():
                    session.execute(insert(x_budget).values(
                        channel=self.channel, name=name, state=Budget().to_json(),
                        updated_at=utcnow()))
            except IntegrityError:  # created concurrently
                pass
            raw = session.execute(statement).scalar_one_or_none()
        return Budget.from_json(raw)

    def _budget_write(self, session: OrmSession, name: str, budget: Budget, now: datetime
                      ) -> None:
        session.execute(update(x_budget).where(x_budget.c.channel == self.channel,
                                               x_budget.c.name == name)
                        .values(state=budget.to_json(), updated_at=now)
                        .execution_options(synchronize_session=False))

    # ---------------------------------------------------------------- cursors

    def cursor_get(self, name: str) -> str | None:
        with self._read.begin() as session:
            return session.execute(_CURSOR_VALUE, {"p_channel": self.channel, "p_name": name}
                                   ).scalar_one_or_none()

    def cursor_set(self, name: str, value: str | None, now: datetime | None = None) -> None:
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            self._cursor_write(session, name, value, now)
        logger.debug("x_store.cursor.set name=%s", name)

    def _cursor_write(self, session: OrmSession, name: str, value: str | None,
                      now: datetime) -> None:
        params = {"p_channel": self.channel, "p_name": name, "p_value": value, "p_now": now}
        for _ in range(SEQ_RETRIES):
            if session.execute(_CURSOR_UPDATE, params).rowcount:
                return
            try:
                with session.begin_nested():
                    session.execute(_CURSOR_INSERT, params)
            except IntegrityError:  # created concurrently: update it
                continue
            return
        raise RuntimeError("x_store.cursor.write_contended")

    # ------------------------------------------------------------- X Chat

    def chat_received_add(self, event_ids: Iterable[str], now: datetime | None = None
                          ) -> list[bool]:
        """Record encrypted X Chat messages by event id; True for each one not seen before."""
        now = _utc(now or utcnow())
        added: list[bool] = []
        with self._session.begin() as session:
            for event_id in event_ids:
                try:
                    with session.begin_nested():
                        session.execute(insert(x_chat_received).values(
                            event_id=event_id, received_at=now))
                    added.append(True)
                except IntegrityError:
                    added.append(False)
        return added

    def chat_received_count(self, since: datetime | None = None) -> int:
        """How many encrypted X Chat messages arrived (since ``since``, if given), within
        retention."""
        query = select(func.count()).select_from(x_chat_received)
        if since is not None:
            query = query.where(x_chat_received.c.received_at >= _utc(since))
        with self._read.begin() as session:
            return int(session.execute(query).scalar_one())

    # ------------------------------------------------------------------ lease

    def lease_acquire(
        self, name: str, holder: str, ttl_seconds: float, now: datetime | None = None
    ) -> bool:
        """Take the lease if free, expired or already ours (then it is renewed to now + ttl)."""
        now = _utc(now or utcnow())
        expires_at = now + timedelta(seconds=ttl_seconds)
        with self._session.begin() as session:
            taken = session.execute(
                update(x_lease)
                .where(
                    x_lease.c.channel == self.channel,
                    x_lease.c.name == name,
                    or_(x_lease.c.holder == holder, x_lease.c.expires_at <= now),
                )
                .values(holder=holder, expires_at=expires_at)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not taken:
                try:
                    with session.begin_nested():
                        session.execute(
                            insert(x_lease).values(channel=self.channel, name=name,
                                                   holder=holder, expires_at=expires_at)
                        )
                except IntegrityError:  # held by someone else (or just created by them)
                    return False
        logger.debug("x_store.lease.held name=%s holder=%s", name, holder)
        return True

    def lease_release(self, name: str, holder: str) -> bool:
        """Give the lease up if we hold it (on shutdown, so a successor need not wait)."""
        with self._session.begin() as session:
            result = session.execute(
                delete(x_lease)
                .where(x_lease.c.channel == self.channel, x_lease.c.name == name,
                       x_lease.c.holder == holder)
                .execution_options(synchronize_session=False)
            )
        logger.debug("x_store.lease.released name=%s holder=%s", name, holder)
        return result.rowcount == 1

    def lease_holder(self, name: str, now: datetime | None = None) -> str | None:
        """Who holds the lease now (None if free or expired)."""
        now = _utc(now or utcnow())
        with self._read.begin() as session:
            return session.execute(
                select(x_lease.c.holder).where(x_lease.c.channel == self.channel,
                                               x_lease.c.name == name, x_lease.c.expires_at > now)
            ).scalar_one_or_none()

    # ------------------------------------------------------------ invitations

    def invitation_allowed(
        self, author_id: str, now: datetime | None = None, period: timedelta = timedelta(days=30)
    ) -> bool:
        """True, and the invitation recorded, if ``author_id`` was not invited within ``period``
        before ``now``. Two processes asking at once for the same author get one True."""
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            renewed = session.execute(
                update(x_invitation)
                .where(
                    x_invitation.c.channel == self.channel,
                    x_invitation.c.author_id == author_id,
                    x_invitation.c.last_invited_at <= now - period,
                )
                .values(last_invited_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not renewed:
                try:
                    with session.begin_nested():
                        session.execute(
                            insert(x_invitation).values(channel=self.channel, author_id=author_id,
                                                        last_invited_at=now)
                        )
                except IntegrityError:  # invited within the period
                    logger.debug("x_store.invitation.refused person=%s",
                                 ref(f"{self.channel}:{author_id}"))
                    return False
        logger.debug("x_store.invitation.recorded person=%s", ref(f"{self.channel}:{author_id}"))
        return True

    # ------------------------------------------------------------------ costs

    def costs_add(self, charges: Iterable[Charge], now: datetime | None = None) -> int:
        """Record what X bills (``permanence/x_costs.py``); a charge whose ``dedupe`` key is
        already recorded (the same resource read again the same UTC day) is not. Returns how
        many were recorded. The common case, a poll that read only what it had read before,
        costs one read and no write."""
        charges = list(charges)
        if not charges:
            return 0
        keys = [charge.dedupe for charge in charges if charge.dedupe]
        if keys and len(keys) == len(charges):
            with self._read.begin() as session:
                if len(self._known_keys(session, keys)) == len(set(keys)):
                    return 0
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            recorded = self._insert_costs(session, charges, now)
        logger.debug("x_store.costs.recorded count=%d", recorded)
        return recorded

    @staticmethod
    def _known_keys(session: OrmSession, keys: list[str]) -> set[str]:
        known: set[str] = set()
        for start in range(0, len(keys), 500):
            known.update(session.execute(
                select(x_cost.c.dedupe).where(x_cost.c.dedupe.in_(keys[start:start + 500]))
            ).scalars())
        return known

    @classmethod
    def _insert_costs(cls, session: OrmSession, charges: Iterable[Charge],
                      now: datetime) -> int:
        charges = list(charges)
        if not charges:
            return 0
        keys = [charge.dedupe for charge in charges if charge.dedupe]
        seen = cls._known_keys(session, keys) if keys else set()
        recorded = 0
        for charge in charges:
            if charge.dedupe is not None and charge.dedupe in seen:
                continue
            values = {"kind": charge.kind, "micro_usd": charge.micro_usd, "at": now,
                      "dedupe": charge.dedupe}
            if charge.dedupe is None:
                session.execute(insert(x_cost).values(**values))
            else:
                seen.add(charge.dedupe)
                try:
                    with session.begin_nested():
                        session.execute(insert(x_cost).values(**values))
                except IntegrityError:  # recorded meanwhile by another process
                    continue
            recorded += 1
        return recorded

    def cost_totals(self, intervals: Iterable[tuple[datetime, datetime]]
                    ) -> list[list[tuple[str, int, int]]]:
        """For each ``[start, end)``: ``(kind, count, micro_usd)`` of the charges in it."""
        out = []
        with self._read.begin() as session:
            for start, end in intervals:
                out.append([(kind, count, int(micro or 0)) for kind, count, micro in
                            session.execute(
                                select(x_cost.c.kind, func.count(), func.sum(x_cost.c.micro_usd))
                                .where(x_cost.c.at >= _utc(start), x_cost.c.at < _utc(end))
                                .group_by(x_cost.c.kind).order_by(x_cost.c.kind)).all()])
        return out

    # ----------------------------------------------------------- public posts

    def public_post_add(self, tweet_id: str, author_id: str, username: str | None,
                        posted_at: datetime | None = None,
                        now: datetime | None = None) -> bool:
        """List a post for the lawyer to answer by hand; False if it is listed already."""
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            try:
                with session.begin_nested():
                    session.execute(insert(x_public_post).values(
                        tweet_id=tweet_id, author_id=author_id,
                        username=(username or None) and username[:32],
                        posted_at=None if posted_at is None else _utc(posted_at),
                        received_at=now, state=POST_OPEN))
            except IntegrityError:
                return False
        logger.debug("x_store.public_post.added tweet_id=%s", tweet_id)
        return True

    def public_posts_open(self, limit: int = 100) -> list[dict[str, Any]]:
        """The posts still to answer, oldest first: id, tweet id, handle, dates (ISO)."""
        with self._read.begin() as session:
            rows = session.execute(
                select(x_public_post).where(x_public_post.c.state == POST_OPEN)
                .order_by(x_public_post.c.id).limit(limit)).all()
        return [{"id": row.id, "tweet_id": row.tweet_id, "username": row.username,
                 "posted_at": row.posted_at.isoformat() if row.posted_at else None,
                 "received_at": row.received_at.isoformat()} for row in rows]

    def public_post_done(self, post_id: int, now: datetime | None = None) -> bool:
        """The lawyer answered (or set aside) the post: off the list. False if it is not an
        open post."""
        now = _utc(now or utcnow())
        with self._session.begin() as session:
            result = session.execute(
                update(x_public_post)
                .where(x_public_post.c.id == post_id, x_public_post.c.state == POST_OPEN)
                .values(state=POST_DONE, done_at=now)
                .execution_options(synchronize_session=False))
        return result.rowcount == 1

    # ------------------------------------------------------- erasure, retention

    def erase_person(self, person_id: str) -> int:
        """Erase ``person_id`` from the X channel's tables (erasure request, LEGAL.md D4):
        every inbox item sent by them, reply to them, their options cursor, invitation and
        public posts listed for the desk.
        Returns the number of rows deleted or anonymised.

        An item being handled (``processing``: the turn in which the person asked for the
        erasure) is not deleted but anonymised (no payload, sender :data:`ERASED`): its
        event id still recognises X's redelivery, and its turn still commits; the replies of
        that turn (the confirmation) are queued under :data:`ERASED` and deleted, not kept,
        once sent (:meth:`outbox_sent`), and its options are not written."""
        with self._session.begin() as session:
            deleted = session.execute(
                update(x_inbox)
                .where(x_inbox.c.channel == self.channel, x_inbox.c.sender_id == person_id,
                       x_inbox.c.state == INBOX_PROCESSING)
                .values(sender_id=ERASED, payload=None, last_error=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            for statement in (
                delete(x_inbox).where(x_inbox.c.channel == self.channel,
                                      x_inbox.c.sender_id == person_id),
                delete(x_outbox).where(x_outbox.c.channel == self.channel,
                                       x_outbox.c.recipient_id == person_id),
                delete(x_invitation).where(x_invitation.c.channel == self.channel,
                                           x_invitation.c.author_id == person_id),
                delete(x_public_post).where(x_public_post.c.author_id == person_id),
                delete(x_cursor).where(x_cursor.c.channel == self.channel,
                                       x_cursor.c.name == options_cursor(person_id)),
            ):
                deleted += session.execute(
                    statement.execution_options(synchronize_session=False)
                ).rowcount
        logger.info("x_store.erased rows=%d", deleted)
        return deleted

    def erase_conversation(self, conversation_id: str) -> int:
        """:meth:`erase_person` for a conversation id (``x:<X user id>``); 0 for another
        channel's. The eraser registered with :mod:`permanence.erasure`."""
        person_id = x_person(conversation_id)
        return 0 if person_id is None else self.erase_person(person_id)

    def prune(self, before: datetime) -> int:
        """Delete finished inbox items processed, finished replies created and X Chat counts
        received before ``before``, and the public posts listed before it (answered or not).
        The costs stay (no person in them: the month's figures), without their day's
        ``dedupe`` key.

        Redeliveries of a pruned event are no longer recognised: keep ``before`` well beyond
        X's redelivery window (days, not minutes). Returns the number of rows deleted."""
        before = _utc(before)
        with self._session.begin() as session:
            deleted = session.execute(
                delete(x_inbox)
                .where(
                    x_inbox.c.channel == self.channel,
                    x_inbox.c.state.in_([INBOX_DONE, INBOX_FAILED]),
                    x_inbox.c.processed_at < before,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            deleted += session.execute(
                delete(x_outbox)
                .where(
                    x_outbox.c.channel == self.channel,
                    x_outbox.c.state.in_([OUTBOX_SENT, OUTBOX_FAILED]),
                    x_outbox.c.created_at < before,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            deleted += session.execute(
                delete(x_public_post).where(x_public_post.c.received_at < before)
                .execution_options(synchronize_session=False)
            ).rowcount
            session.execute(
                update(x_cost).where(x_cost.c.at < before, x_cost.c.dedupe.isnot(None))
                .values(dedupe=None).execution_options(synchronize_session=False))
            deleted += session.execute(
                delete(x_chat_received)
                .where(x_chat_received.c.received_at < before)
                .execution_options(synchronize_session=False)
            ).rowcount
        logger.info("x_store.pruned rows=%d", deleted)
        return deleted
