"""several walls in one site: the walls, the post-wall links, the journal's walls, the
wall of a moderator's action

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "twitsocket_walls",
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_twitsocket_walls")),
    )
    op.create_table(
        "twitsocket_post_walls",
        sa.Column("wall", sa.String(length=40), nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["twitsocket_posts.seq"], ondelete="CASCADE",
                                onupdate="CASCADE",
                                name=op.f("fk_twitsocket_post_walls_seq_twitsocket_posts")),
        sa.PrimaryKeyConstraint("wall", "seq", name=op.f("pk_twitsocket_post_walls")),
    )
    op.create_index("ix_twitsocket_post_walls_seq", "twitsocket_post_walls", ["seq"])
    with op.batch_alter_table("twitsocket_journal") as batch:
        batch.add_column(sa.Column("walls", sa.Text(), nullable=True))
    with op.batch_alter_table("twitsocket_moderation_log") as batch:
        batch.add_column(sa.Column("wall", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("twitsocket_moderation_log") as batch:
        batch.drop_column("wall")
    with op.batch_alter_table("twitsocket_journal") as batch:
        batch.drop_column("walls")
    op.drop_index("ix_twitsocket_post_walls_seq", table_name="twitsocket_post_walls")
    op.drop_table("twitsocket_post_walls")
    op.drop_table("twitsocket_walls")
