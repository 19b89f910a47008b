"""The X store as it was before Alembic (frozen here), created where it is missing.

Before this history, ``permanence/x_store.py`` created its tables with ``create_all`` and
brought older ones up to date by hand (``x_outbox.priority``, the index
``ix_x_outbox_recipient_state``). This revision does the same, once: on an empty database it
creates the tables of that time; on a store of that time it adds what an older one lacks and
leaves the rows alone. The schema is frozen here, not imported: this revision must do the same
thing forever.

Revision ID: 0001_x_store_baseline
Revises:
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_x_store_baseline"
down_revision = None
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def baseline() -> sa.MetaData:
    """The X store's tables before the ``channel`` column."""
    m = sa.MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s", "pk": "pk_%(table_name)s"})
    C, T = sa.Column, sa.Table  # noqa: N806
    S, D, I, X = sa.String, sa.DateTime, sa.Integer, sa.Text  # noqa: N806, E741
    T("x_inbox", m, C("id", RowId, primary_key=True, autoincrement=True),
      C("event_id", S(128), nullable=False), C("kind", S(16), nullable=False),
      C("sender_id", S(64), nullable=False), C("payload", X), C("received_at", D, nullable=False),
      C("state", S(16), nullable=False), C("attempts", I, nullable=False),
      C("claimed_by", S(128)), C("claimed_at", D), C("processed_at", D), C("last_error", S(200)),
      sa.UniqueConstraint("event_id"),
      sa.CheckConstraint("kind IN ('dm', 'tweet')", name="kind"),
      sa.CheckConstraint("state IN ('pending', 'processing', 'done', 'failed')", name="state"),
      sa.Index("ix_x_inbox_sender_state", "sender_id", "state", "id"),
      sa.Index("ix_x_inbox_state_id", "state", "id"))
    T("x_outbox", m, C("id", RowId, primary_key=True, autoincrement=True),
      C("recipient_id", S(64), nullable=False), C("conversation_key", S(128), nullable=False),
      C("seq", I, nullable=False), C("text", X), C("state", S(24), nullable=False),
      C("attempts", I, nullable=False), C("next_attempt_at", D, nullable=False),
      C("last_error_code", S(32)), C("created_at", D, nullable=False), C("sent_at", D),
      C("external_id", S(128)),
      C("priority", I, nullable=False, server_default="2"),
      sa.UniqueConstraint("recipient_id", "seq", name="uq_x_outbox_recipient_seq"),
      sa.CheckConstraint("state IN ('pending', 'sent', 'failed_permanent')", name="state"),
      sa.Index("ix_x_outbox_state_due", "state", "next_attempt_at"),
      sa.Index("ix_x_outbox_recipient_state", "recipient_id", "state"))
    T("x_cursor", m, C("name", S(128), primary_key=True), C("value", X),
      C("updated_at", D, nullable=False))
    T("x_lease", m, C("name", S(128), primary_key=True), C("holder", S(128), nullable=False),
      C("expires_at", D, nullable=False))
    T("x_invitation", m, C("author_id", S(64), primary_key=True),
      C("last_invited_at", D, nullable=False))
    T("x_public_post", m, C("id", RowId, primary_key=True, autoincrement=True),
      C("tweet_id", S(32), nullable=False), C("author_id", S(64), nullable=False),
      C("username", S(32)), C("posted_at", D), C("received_at", D, nullable=False),
      C("state", S(16), nullable=False), C("done_at", D),
      sa.UniqueConstraint("tweet_id"),
      sa.CheckConstraint("state IN ('open', 'done')", name="state"),
      sa.Index("ix_x_public_post_state_id", "state", "id"),
      sa.Index("ix_x_public_post_author", "author_id"))
    T("x_cost", m, C("id", RowId, primary_key=True, autoincrement=True),
      C("kind", S(32), nullable=False), C("micro_usd", I, nullable=False),
      C("at", D, nullable=False), C("dedupe", S(64)),
      sa.UniqueConstraint("dedupe"), sa.Index("ix_x_cost_at", "at"))
    T("x_budget", m, C("name", S(64), primary_key=True), C("state", X, nullable=False),
      C("updated_at", D, nullable=False))
    T("x_chat_received", m, C("event_id", S(128), primary_key=True),
      C("received_at", D, nullable=False),
      sa.Index("ix_x_chat_received_received_at", "received_at"))
    return m


def upgrade() -> None:
    bind = op.get_bind()
    baseline().create_all(bind, checkfirst=True)
    columns = {column["name"] for column in sa.inspect(bind).get_columns("x_outbox")}
    if "priority" not in columns:  # a store older than the priority classes
        op.add_column("x_outbox", sa.Column("priority", sa.Integer(), nullable=False,
                                            server_default="2"))
    indexes = {index["name"] for index in sa.inspect(bind).get_indexes("x_outbox")}
    if "ix_x_outbox_recipient_state" not in indexes:
        op.create_index("ix_x_outbox_recipient_state", "x_outbox", ["recipient_id", "state"])


def downgrade() -> None:
    for name in ("x_chat_received", "x_budget", "x_cost", "x_public_post", "x_invitation",
                 "x_lease", "x_cursor", "x_outbox", "x_inbox"):
        op.drop_table(name)
