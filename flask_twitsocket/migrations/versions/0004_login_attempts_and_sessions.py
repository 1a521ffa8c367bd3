"""console login attempts and moderator sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "twitsocket_login_attempts",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", "window_start",
                                name=op.f("pk_twitsocket_login_attempts")),
    )
    op.create_index("ix_twitsocket_login_attempts_window_start", "twitsocket_login_attempts",
                    ["window_start"], unique=False)
    op.create_table(
        "twitsocket_moderator_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("moderator", sa.String(length=255), nullable=False),
        sa.Column("password_proof", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_twitsocket_moderator_sessions")),
    )
    op.create_index("ix_twitsocket_moderator_sessions_expires_at",
                    "twitsocket_moderator_sessions", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_twitsocket_moderator_sessions_expires_at",
                  table_name="twitsocket_moderator_sessions")
    op.drop_table("twitsocket_moderator_sessions")
    op.drop_index("ix_twitsocket_login_attempts_window_start",
                  table_name="twitsocket_login_attempts")
    op.drop_table("twitsocket_login_attempts")
