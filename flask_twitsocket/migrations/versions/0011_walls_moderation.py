"""moderation per wall: a pin's wall (NULL: every wall); a post held back on one wall
by its trust mode (held, release_at) while it is up on another

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("twitsocket_pins") as batch:
        batch.add_column(sa.Column("wall", sa.String(length=40), nullable=True))
    # a server default: adding the column to millions of links is a catalogue change on
    # PostgreSQL, not a rewrite of every row
    with op.batch_alter_table("twitsocket_post_walls") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("release_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_twitsocket_post_walls_release_at", "twitsocket_post_walls",
                    ["release_at"])


def downgrade() -> None:
    op.drop_index("ix_twitsocket_post_walls_release_at", table_name="twitsocket_post_walls")
    with op.batch_alter_table("twitsocket_post_walls") as batch:
        batch.drop_column("release_at")
        batch.drop_column("held")
    with op.batch_alter_table("twitsocket_pins") as batch:
        batch.drop_column("wall")
