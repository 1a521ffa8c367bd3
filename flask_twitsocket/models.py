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
* ``PendingPost`` / ``ModerationRule`` / ``Pin`` / ``ModerationAction`` — moderation
  (:mod:`flask_twitsocket.moderation`): posts held back by the ``delay`` and ``pre`` trust
  modes, console-made bans / blocked words / trusted authors, pinned posts, and the log
  of every moderator action (who, what, when), from which actions are undone.
* ``LoginAttempt`` / ``ModeratorSession`` — the console's password login
  (:mod:`flask_twitsocket.web.login_limit`, :mod:`flask_twitsocket.web.moderator_sessions`):
  attempts per client address and window, shared by every worker; and the logged-in
  consoles, so that logging out revokes a session everywhere.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
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
        # SQLite would otherwise reuse the seq of a deleted newest post, and walls that
        # saw the deletion would ignore the next post: seq must never repeat.
        {"sqlite_autoincrement": True},
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
    #: The rich parts, as one JSON object of only those present (media, card, quote,
    #: sensitive, content_warning, original_author, revealed): "" for a text-only post,
    #: which is most of them, so it costs them nothing (see :mod:`..serialise`).
    media: Mapped[str] = mapped_column(Text, default="", server_default="")
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JournalEntry(Base):
    __tablename__ = "twitsocket_journal"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The walls this entry concerns, space-separated slugs; NULL: every wall (and every
    #: entry of a single-wall site).
    walls: Mapped[str | None] = mapped_column(Text, nullable=True)


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


class PendingPost(Base):
    """A post held back by the ``delay`` or ``pre`` trust mode: not in ``twitsocket_posts``
    (so no wall, catch-up or JSON API can see it) until it is released, when it is
    inserted there and gets a fresh ``seq`` — new to every wall's catch-up cursor."""

    __tablename__ = "twitsocket_pending"
    __table_args__ = (UniqueConstraint("network", "post_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(16))
    post_id: Mapped[str] = mapped_column(String(255))
    #: ``waiting`` (in the queue) or ``vetoed`` (kept so a veto can be undone).
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    #: The post's row for ``twitsocket_posts``, as JSON (see moderation.row_json).
    row: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: ``delay`` mode: when it goes up unless vetoed; None in ``pre`` mode (waits for a yes).
    release_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The automatic rule that held it (``flood``, ``raids``, …) and why, in words; None
    #: for a post held by the trust mode (delay/pre).
    rule: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ModerationRule(Base):
    """A console-made rule: ``ban`` (an author), ``word`` (a blocked word or phrase) or
    ``trust`` (an author who skips the ``pre`` queue). Values are stored normalised."""

    __tablename__ = "twitsocket_moderation_rules"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Pin(Base):
    """A post pinned to the top of every wall, or of one wall of several (``wall``)."""

    __tablename__ = "twitsocket_pins"

    network: Mapped[str] = mapped_column(String(16), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    pinned_by: Mapped[str] = mapped_column(String(255), default="")
    pinned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The one wall it is pinned on, on a site with several; NULL: every wall. A post is
    #: pinned on one wall or on every wall (one row per post).
    wall: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ModerationAction(Base):
    """One moderator action: who did what to which target, when, and what it changed
    (``detail``, JSON: e.g. the posts a ban hid), so that exactly that can be undone."""

    __tablename__ = "twitsocket_moderation_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    moderator: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(512))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The action this one undid, if it is an undo.
    undoes: Mapped[int | None] = mapped_column(BigId, nullable=True)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The wall the action was for, on a site with several; NULL: every wall.
    wall: Mapped[str | None] = mapped_column(String(40), nullable=True)


class RuleCount(Base):
    """How many posts an automatic rule dropped on a day (UTC): consent's drops are kept
    nowhere (not even their ids: only what keeps them off the wall), yet the console
    shows today's count per rule. Held posts are counted from the action log."""

    __tablename__ = "twitsocket_rule_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class ListMember(Base):
    """An account added to the site's list on its network (e.g. the X list)."""

    __tablename__ = "twitsocket_list_members"
    __table_args__ = (UniqueConstraint("network", "author_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Console login attempts from one client address (an IPv6 /64) in one fixed window.

    Shared by every worker and process through the database; a slot is taken with one
    atomic upsert before the password is checked, and rows of past windows are deleted."""

    __tablename__ = "twitsocket_login_attempts"
    __table_args__ = (Index("ix_twitsocket_login_attempts_window_start", "window_start"),)

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The window's start, in whole seconds since the epoch.
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True,
                                              autoincrement=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ModeratorSession(Base):
    """A console logged in with the moderator password. The cookie holds a random token;
    only its SHA-256 is stored, so a copy of the table logs nobody in."""

    __tablename__ = "twitsocket_moderator_sessions"
    __table_args__ = (Index("ix_twitsocket_moderator_sessions_expires_at", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    moderator: Mapped[str] = mapped_column(String(255))
    #: Binds the session to the password it was opened with (a new password ends it).
    password_proof: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SourceStatus(Base):
    """One source of the stream process, as it last reported itself (every few seconds):
    what ``<prefix>/health``, the console and the metrics show from any web worker."""

    __tablename__ = "twitsocket_source_status"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    network: Mapped[str] = mapped_column(String(16))
    #: connecting, streaming, backing off or stopped.
    state: Mapped[str] = mapped_column(String(16))
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                           nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                           nullable=True)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    #: Events read from the network since the stream process started.
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor: Mapped[str | None] = mapped_column(Text, nullable=True)
    lag_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pid: Mapped[int] = mapped_column(Integer, default=0)


class StreamCounter(Base):
    """The stream process's ingest totals (stored, duplicates, malformed…) since it
    started, saved with the source status: web workers' metrics read them here."""

    __tablename__ = "twitsocket_stream_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


metadata = Base.metadata


class Wall(Base):
    """A wall of the site (several walls in one site): its settings as JSON (the
    ``TWITSOCKET_WALLS`` shape), kept so the index page and the console know the walls;
    an archived wall keeps its posts but is no longer live."""

    __tablename__ = "twitsocket_walls"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(255), nullable=True)
    spec: Mapped[str] = mapped_column(Text, default="{}")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PostWall(Base):
    """A post shown on a wall: each post is stored once and linked to every wall it
    matches. ``hidden`` hides it on this wall only (hiding on every wall is the post's
    own ``hidden``). Written only on sites with several walls."""

    __tablename__ = "twitsocket_post_walls"
    __table_args__ = (Index("ix_twitsocket_post_walls_seq", "seq"),
                      Index("ix_twitsocket_post_walls_release_at", "release_at"))

    wall: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(
        BigId, ForeignKey("twitsocket_posts.seq", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Held back on this wall by its trust mode (``pre``, ``delay``) while the post is
    #: up on another wall: ``hidden`` too, until approved for this wall or, with
    #: ``release_at``, until the delay passes.
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    release_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
