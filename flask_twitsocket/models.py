"""The extension's tables, on their own ``MetaData`` so they live beside any host app's models.

The models are plain SQLAlchemy declarative classes rather than ``db.Model`` subclasses:
that way they work with whichever ``flask_sqlalchemy.SQLAlchemy`` instance the host app
already has (its session can query any mapped class) and the extension can create its own
tables without touching the host's.

* ``Post`` — one row per post from any network; ``seq`` (the primary key) is the local,
  monotonic cursor that catch-up (``since_id``) and the wall use, because network post ids
  are neither comparable across networks nor safe as JavaScript numbers.
* ``JournalEntry`` — the bus: every message a wall must receive, written in the same
  transaction as the change it announces (a transactional outbox). Web workers read it
  by id, so a worker that was disconnected catches up instead of losing posts.
* ``Tombstone`` — posts deleted at the source, so a re-delivery never brings them back.
* ``TopUser`` / ``TopPost`` — caches refreshed by ``flask twitsocket top``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Integer on SQLite (so it is the ROWID alias and autoincrements), BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Post(Base):
    __tablename__ = "twitsocket_posts"
    __table_args__ = (
        UniqueConstraint("network", "post_id"),
        Index("ix_twitsocket_posts_visible_seq", "hidden", "seq"),
        Index("ix_twitsocket_posts_author", "network", "author_id"),
        Index("ix_twitsocket_posts_retweet_of", "network", "retweet_of"),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(16))
    post_id: Mapped[str] = mapped_column(String(255))
    author_id: Mapped[str] = mapped_column(String(255))
    author_username: Mapped[str] = mapped_column(String(255))
    author_name: Mapped[str] = mapped_column(String(255), default="")
    author_avatar_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    entities: Mapped[str] = mapped_column(Text, default="[]")
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    is_retweet: Mapped[bool] = mapped_column(Boolean, default=False)
    retweet_of: Mapped[str | None] = mapped_column(String(255), nullable=True)
    retweet_of_author: Mapped[str | None] = mapped_column(String(255), nullable=True)
    retweet_count: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[str] = mapped_column(Text, default="{}")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JournalEntry(Base):
    __tablename__ = "twitsocket_journal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Tombstone(Base):
    """A post that was deleted at the source or removed by a moderator: never stored again."""

    __tablename__ = "twitsocket_tombstones"

    network: Mapped[str] = mapped_column(String(16), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), default="deleted")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TopUser(Base):
    __tablename__ = "twitsocket_top_users"

    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    network: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    post_count: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TopPost(Base):
    __tablename__ = "twitsocket_top_posts"

    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    post_seq: Mapped[int] = mapped_column(
        BigId, ForeignKey("twitsocket_posts.seq", ondelete="CASCADE")
    )
    retweet_count: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


metadata = Base.metadata
