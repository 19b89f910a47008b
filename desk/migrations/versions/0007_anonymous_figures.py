"""The firm's figures as anonymous counts that outlive erasure and retention (issue #14).

- ``desk_figure``: one row per case opened (kind, the assistant's route, channel, tier,
  domain, the Ordres a referral named, the day and the live session it opened in, the wait for
  the lawyer's first reply), with no id, handle, text or exact time
  (``desk/figures_record.py`` says why).
- ``desk_case.figure_ref``: the case's row (random), the only link, erased with the case.

Upgrading gives a row to every case held then (``figures_record.backfill``), so the figures
of an existing install stay as they were; the cases already erased or purged cannot be
counted again. Downgrading drops the counts.

Revision ID: 0007_anonymous_figures
Revises: 0006_case_labels
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_anonymous_figures"
down_revision = "0006_case_labels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_figure",
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("conversation", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session_start", sa.DateTime(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("domain", sa.String(length=64), nullable=True),
        sa.Column("tier", sa.String(length=8), nullable=True),
        sa.Column("ordres", sa.Text(), nullable=False),
        sa.Column("first_reply_seconds", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_desk_figure")),
    )
    op.create_index("ix_desk_figure_day", "desk_figure", ["day"], unique=False)
    with op.batch_alter_table("desk_case") as batch:
        batch.add_column(sa.Column("figure_ref", sa.String(length=32), nullable=True))

    from desk import figures_record

    figures_record.backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("desk_case") as batch:
        batch.drop_column("figure_ref")
    op.drop_index("ix_desk_figure_day", table_name="desk_figure")
    op.drop_table("desk_figure")
