"""The desk's tables (SQLAlchemy Core, 1.4 in 2.0 style); Alembic's target metadata.

``desk_case``
    One case per handover. ``state``: ``waiting`` -> ``taken`` -> ``answered`` / ``closed``,
    or ``handed_back``. At most one open case (``waiting`` or ``taken``) per conversation,
    enforced by a partial unique index. ``kind`` is ``lawyer`` or ``referral`` (out of scope).
    ``flagged`` cases matched a client of the firm (conflict check) and are set apart.
    ``erasure_requested_at``: the person asked for erasure during the handover.
``desk_message``
    What the person wrote after the handover, and the lawyer's replies (``delivery``).
``desk_lawyer``, ``desk_token``
    Accounts (argon2 hash; ``active`` false once deactivated; ``display_name``, how the
    pages name the lawyer, else the e-mail address; ``notify_cases``, which new cases besides
    P0 are mailed to the lawyer) and tokens (only the SHA-256 of
    the token is stored; every token has an expiry and can be revoked).
``desk_note``, ``desk_audit``
    The lawyer's private notes; who read or did what on which case.
``desk_label``
    Free labels on a case (unique per case), deleted with it: a label may identify the person.
``desk_figure``
    The firm's figures as anonymous counts, one row per case opened (:mod:`desk.figures_record`):
    no case or conversation id, no handle, no text, the day rather than the time. Kept when the
    case is erased or purged; ``desk_case.figure_ref`` (random) is the only link, gone with it.
``desk_client``, ``desk_canned_reply``, ``desk_login_attempt``
    The firm's clients (conflict check), prepared replies, login attempts (the login limits of
    ``desk.auth.LoginLimits``, by account, client address and both).

Datetimes are timezone-aware in Python and stored as naive UTC (:class:`UTCDateTime`).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from permanence.x_store import RowId, UTCDateTime, utcnow

__all__ = ["metadata", "utcnow", "UTCDateTime"]

CASE_STATES = ("waiting", "taken", "answered", "closed", "handed_back")
OPEN_STATES = ("waiting", "taken")
CASE_KINDS = ("lawyer", "referral")
OUTCOMES = ("answered", "referred", "nothing_to_answer")
MESSAGE_AUTHORS = ("person", "lawyer")
DELIVERIES = ("received", "pending", "sent", "failed")
TOKEN_KINDS = ("api", "session")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


OPEN_CONDITION = _in("state", OPEN_STATES)


desk_lawyer = Table(
    "desk_lawyer",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("display_name", String(120), nullable=True),  # « Maître Exemple », on the pages
    # Which new cases are mailed besides P0 (always): "P0" (none), "P1" or "all" (desk/mail.py).
    Column("notify_cases", String(8), nullable=False, default="P0", server_default="P0"),
    UniqueConstraint("email"),
)

desk_case = Table(
    "desk_case",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("conversation_id", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("urgency", String(8), nullable=True),
    Column("urgency_rank", Integer, nullable=False),
    Column("deadline", String(10), nullable=True),  # ISO date, estimated (lawyer only)
    Column("channel", String(32), nullable=True),
    Column("handle", String(128), nullable=True),
    Column("facts", Text, nullable=False),  # JSON: the fact card
    Column("transcript", Text, nullable=False),  # JSON: the conversation before the handover
    Column("flagged", Boolean, nullable=False, default=False),
    Column("conflict_client_id", RowId, ForeignKey("desk_client.id", ondelete="SET NULL"),
           nullable=True),
    Column("taken_by", RowId, ForeignKey("desk_lawyer.id"), nullable=True),
    Column("outcome", String(24), nullable=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("taken_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("alerted_at", UTCDateTime, nullable=True),  # the P0 alert, claimed once
    # The person asked for erasure during the handover (desk/hooks.py): flagged for the lawyer.
    Column("erasure_requested_at", UTCDateTime, nullable=True),
    Column("mailed_at", UTCDateTime, nullable=True),  # the new-case e-mails, claimed once
    # The case's anonymous counts row (desk_figure.ref), random: the only link to it, erased
    # with the case.
    Column("figure_ref", String(32), nullable=True),
    CheckConstraint(_in("state", CASE_STATES), name="state"),
    CheckConstraint(_in("kind", CASE_KINDS), name="kind"),
    CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
    Index("ix_desk_case_conversation", "conversation_id"),
    Index("ix_desk_case_queue", "state", "urgency_rank", "opened_at"),
    Index(
        "uq_desk_case_open_conversation",
        "conversation_id",
        unique=True,
        sqlite_where=text(OPEN_CONDITION),
        postgresql_where=text(OPEN_CONDITION),
    ),
)

desk_message = Table(
    "desk_message",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("case_id", RowId, ForeignKey("desk_case.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(16), nullable=False),
    Column("lawyer_id", RowId, ForeignKey("desk_lawyer.id"), nullable=True),
    Column("text", Text, nullable=False),
    Column("delivery", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("author", MESSAGE_AUTHORS), name="author"),
    CheckConstraint(_in("delivery", DELIVERIES), name="delivery"),
    Index("ix_desk_message_case", "case_id", "id"),
)

desk_token = Table(
    "desk_token",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("lawyer_id", RowId, ForeignKey("desk_lawyer.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False),  # SHA-256 hex of the token
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    UniqueConstraint("token_hash"),
    CheckConstraint(_in("kind", TOKEN_KINDS), name="kind"),
)

desk_note = Table(
    "desk_note",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("case_id", RowId, ForeignKey("desk_case.id", ondelete="CASCADE"), nullable=False),
    Column("lawyer_id", RowId, ForeignKey("desk_lawyer.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_desk_note_case", "case_id", "id"),
)

desk_audit = Table(
    "desk_audit",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("lawyer_id", RowId, ForeignKey("desk_lawyer.id"), nullable=True),
    Column("case_id", RowId, nullable=True),  # no foreign key: the trail outlives erasure
    Column("action", String(32), nullable=False),
    Column("detail", String(200), nullable=True),  # ids and codes only, never text
    Index("ix_desk_audit_case", "case_id", "id"),
)

desk_label = Table(
    "desk_label",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("case_id", RowId, ForeignKey("desk_case.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(60), nullable=False),
    Column("lawyer_id", RowId, ForeignKey("desk_lawyer.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("case_id", "name", name="uq_desk_label_case_name"),
    Index("ix_desk_label_name", "name"),
)

desk_figure = Table(
    "desk_figure",
    metadata,
    # Random (uuid4 hex), never the case id: only desk_case.figure_ref points here.
    Column("ref", String(32), primary_key=True),
    Column("conversation", String(32), nullable=False),  # random, shared by one conversation
    Column("day", Date, nullable=False),  # the day opened, in the schedule's time zone
    Column("session_start", UTCDateTime, nullable=True),  # the live session it opened in
    Column("kind", String(16), nullable=False),
    Column("route", String(32), nullable=True),  # the assistant's route at handover
    Column("channel", String(32), nullable=True),
    Column("domain", String(64), nullable=True),
    Column("tier", String(8), nullable=True),
    Column("ordres", Text, nullable=False),  # JSON list of the Ordres a referral named
    Column("first_reply_seconds", Integer, nullable=True),  # handover -> lawyer's first reply
    Index("ix_desk_figure_day", "day"),
)

desk_client = Table(
    "desk_client",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

desk_canned_reply = Table(
    "desk_canned_reply",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("title", String(120), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

desk_login_attempt = Table(
    "desk_login_attempt",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("success", Boolean, nullable=False),
    Index("ix_desk_login_attempt_key", "email", "ip", "at"),
    Index("ix_desk_login_attempt_ip", "ip", "at"),
)
