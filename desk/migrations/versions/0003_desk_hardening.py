"""Desk hardening: login limits per client address, an expiry on every token, the P0 alert
sent once per case.

- ``ix_desk_login_attempt_ip`` (ip, at): the failures from one address, whatever the account
  (password spraying, desk.auth.LoginLimits.address).
- ``desk_token.expires_at``: tokens created before had none (API tokens never expired); they
  now expire ``PERMANENCE_DESK_TOKEN_DAYS`` (90 by default) after this upgrade, so that the
  scripts using them keep working until then. desk.auth refuses a token without an expiry.
- ``desk_case.alerted_at``: when the P0 alert of the case was claimed (desk/alerts.py); set
  once, so that a case never alerts twice.

Revision ID: 0003_desk_hardening
Revises: 0001
Create Date: 2026-12-04 18:40:00
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

from permanence.settings import desk_token_days

revision = "0003_desk_hardening"
down_revision = "0002_namespaced_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_desk_login_attempt_ip", "desk_login_attempt", ["ip", "at"], unique=False)
    with op.batch_alter_table("desk_case") as batch:
        batch.add_column(sa.Column("alerted_at", sa.DateTime(), nullable=True))
    expires = (datetime.now(timezone.utc) + timedelta(days=desk_token_days())).replace(
        tzinfo=None)  # naive UTC, as desk.models.UTCDateTime stores it
    op.get_bind().execute(
        sa.text("UPDATE desk_token SET expires_at = :expires WHERE expires_at IS NULL"),
        {"expires": expires},
    )


def downgrade() -> None:
    with op.batch_alter_table("desk_case") as batch:
        batch.drop_column("alerted_at")
    op.drop_index("ix_desk_login_attempt_ip", "desk_login_attempt")
