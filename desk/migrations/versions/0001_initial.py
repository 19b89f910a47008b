"""The desk's initial tables (datetimes are naive UTC, see desk.models.UTCDateTime).

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:06:34.195647
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_canned_reply",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_canned_reply")),
    )
    op.create_table(
        "desk_client",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_client")),
    )
    op.create_table(
        "desk_lawyer",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_lawyer")),
        sa.UniqueConstraint("email", name=op.f("uq_desk_lawyer_email")),
    )
    op.create_table(
        "desk_login_attempt",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_login_attempt")),
    )
    op.create_index(
        "ix_desk_login_attempt_key", "desk_login_attempt", ["email", "ip", "at"], unique=False
    )

    op.create_table(
        "desk_audit",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("lawyer_id", ROW_ID, nullable=True),
        sa.Column("case_id", ROW_ID, nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["desk_lawyer.id"], name=op.f("fk_desk_audit_lawyer_id_desk_lawyer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_audit")),
    )
    op.create_index("ix_desk_audit_case", "desk_audit", ["case_id", "id"], unique=False)

    op.create_table(
        "desk_case",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=True),
        sa.Column("urgency_rank", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.String(length=10), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("handle", sa.String(length=128), nullable=True),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("conflict_client_id", ROW_ID, nullable=True),
        sa.Column("taken_by", ROW_ID, nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('lawyer', 'referral')", name=op.f("ck_desk_case_kind")),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('answered', 'referred', 'nothing_to_answer')",
            name=op.f("ck_desk_case_outcome"),
        ),
        sa.CheckConstraint(
            "state IN ('waiting', 'taken', 'answered', 'closed', 'handed_back')",
            name=op.f("ck_desk_case_state"),
        ),
        sa.ForeignKeyConstraint(
            ["conflict_client_id"],
            ["desk_client.id"],
            name=op.f("fk_desk_case_conflict_client_id_desk_client"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["taken_by"], ["desk_lawyer.id"], name=op.f("fk_desk_case_taken_by_desk_lawyer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_case")),
    )
    op.create_index("ix_desk_case_conversation", "desk_case", ["conversation_id"], unique=False)
    op.create_index(
        "ix_desk_case_queue", "desk_case", ["state", "urgency_rank", "opened_at"], unique=False
    )
    op.create_index(
        "uq_desk_case_open_conversation",
        "desk_case",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text("state IN ('waiting', 'taken')"),
        postgresql_where=sa.text("state IN ('waiting', 'taken')"),
    )

    op.create_table(
        "desk_token",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("lawyer_id", ROW_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('api', 'session')", name=op.f("ck_desk_token_kind")),
        sa.ForeignKeyConstraint(
            ["lawyer_id"],
            ["desk_lawyer.id"],
            name=op.f("fk_desk_token_lawyer_id_desk_lawyer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_desk_token_token_hash")),
    )
    op.create_table(
        "desk_message",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", ROW_ID, nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("lawyer_id", ROW_ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("author IN ('person', 'lawyer')", name=op.f("ck_desk_message_author")),
        sa.CheckConstraint(
            "delivery IN ('received', 'pending', 'sent', 'failed')",
            name=op.f("ck_desk_message_delivery"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["desk_case.id"],
            name=op.f("fk_desk_message_case_id_desk_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["desk_lawyer.id"], name=op.f("fk_desk_message_lawyer_id_desk_lawyer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_message")),
    )
    op.create_index("ix_desk_message_case", "desk_message", ["case_id", "id"], unique=False)

    op.create_table(
        "desk_note",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", ROW_ID, nullable=False),
        sa.Column("lawyer_id", ROW_ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["desk_case.id"],
            name=op.f("fk_desk_note_case_id_desk_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["desk_lawyer.id"], name=op.f("fk_desk_note_lawyer_id_desk_lawyer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_note")),
    )
    op.create_index("ix_desk_note_case", "desk_note", ["case_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_desk_note_case", "desk_note")

    op.drop_table("desk_note")
    op.drop_index("ix_desk_message_case", "desk_message")

    op.drop_table("desk_message")
    op.drop_table("desk_token")
    op.drop_index("uq_desk_case_open_conversation", "desk_case")
    op.drop_index("ix_desk_case_queue", "desk_case")
    op.drop_index("ix_desk_case_conversation", "desk_case")

    op.drop_table("desk_case")
    op.drop_index("ix_desk_audit_case", "desk_audit")

    op.drop_table("desk_audit")
    op.drop_index("ix_desk_login_attempt_key", "desk_login_attempt")

    op.drop_table("desk_login_attempt")
    op.drop_table("desk_lawyer")
    op.drop_table("desk_client")
    op.drop_table("desk_canned_reply")
