"""The durable web chat (``channels/webchat_store.py``): the messages to a web-chat person kept
until a page acknowledges them (``webchat_message``), the resume links (``webchat_resume``, the
SHA-256 of each link's token), the web sessions they opened (``webchat_session``, the SHA-256 of
each session secret) and the addresses a person gave, with consent, to be told that the lawyer
answered (``webchat_notice``). New tables only: nothing existing changes; the downgrade drops
them.

Revision ID: 0004_webchat_durable
Revises: 0003_outbox_delivery
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_webchat_durable"
down_revision = "0003_outbox_delivery"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

def upgrade() -> None:
    op.create_table(
        "webchat_message",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(160), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("event_key", sa.String(80), nullable=True),
        sa.Column("delivery_ref", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("acked_at", sa.DateTime, nullable=True),
        sa.CheckConstraint("author IN ('bot', 'lawyer')", name="ck_webchat_message_author"),
        sa.PrimaryKeyConstraint("id", name="pk_webchat_message"),
    )
    op.create_index("ix_webchat_message_conversation", "webchat_message",
                    ["conversation_id", "id"])
    op.create_index("ix_webchat_message_delivery_ref", "webchat_message", ["delivery_ref"])
    op.create_table(
        "webchat_resume",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_webchat_resume"),
        sa.UniqueConstraint("conversation_id", name="uq_webchat_resume_conversation_id"),
    )
    op.create_table(
        "webchat_session",
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("secret_hash", name="pk_webchat_session"),
    )
    op.create_index("ix_webchat_session_conversation", "webchat_session", ["conversation_id"])
    op.create_table(
        "webchat_notice",
        sa.Column("conversation_id", sa.String(160), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("consented_at", sa.DateTime, nullable=False),
        sa.Column("notified_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_webchat_notice"),
    )

def downgrade() -> None:
    op.drop_table("webchat_notice")
    op.drop_index("ix_webchat_session_conversation", table_name="webchat_session")
    op.drop_table("webchat_session")
    op.drop_table("webchat_resume")
    op.drop_index("ix_webchat_message_delivery_ref", table_name="webchat_message")
    op.drop_index("ix_webchat_message_conversation", table_name="webchat_message")
    op.drop_table("webchat_message")
