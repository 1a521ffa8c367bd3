"""The store's tables, its row format and the small SQL helpers its modules share.

Only the :mod:`flask_twitsocket.store` package writes these tables (posts, tombstones,
pins, the top lists, the journal); moderation keeps its own (held-back posts, rules, the
action log) and changes posts only through :class:`~flask_twitsocket.store.PostStore`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, and_, false, or_
from sqlalchemy.dialects import postgresql, sqlite

from ..models import JournalEntry, Pin, Post, Tombstone, TopPost, TopUser
from ..render import render_html, safe_url
from ..serialise import dumps, media_json
from ..shapes import PostData

POSTS = Post.__table__
JOURNAL = JournalEntry.__table__
TOMBSTONES = Tombstone.__table__
PINS = Pin.__table__
TOP_POSTS = TopPost.__table__
TOP_USERS = TopUser.__table__

Key = tuple[str, str]  # (network, post_id)


def now() -> datetime:
    return datetime.now(timezone.utc)



#: DB-API and SQLAlchemy errors that mean "the database cannot be reached (now)", as
#: opposed to "it refuses this data". psycopg, sqlite3 and SQLAlchemy all use these names.
_CONNECTION_ERRORS = frozenset({"OperationalError", "InterfaceError", "DisconnectionError"})


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` is the database being unreachable, worth waiting for and retrying.

    Anything else (a value the database refuses, a bug) would fail again on retry: the
    caller must drop the offending data instead of retrying for ever. The store's fast
    paths call the DB-API driver directly, so its own (unwrapped) errors count too.
    """
    if getattr(error, "connection_invalidated", False):
        return True
    return any(kind.__name__ in _CONNECTION_ERRORS for kind in type(error).__mro__)



def insert_ignore(conn: Connection, table: Any = POSTS) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def key_clause(table: Any, keys: Iterable[Key]) -> Any:
    """``(network, post_id) IN keys`` on ``table``, written as ``network = ? AND post_id
    IN (…)`` per network: SQLite answers a row-value ``IN`` of hundreds of pairs by
    scanning the table (35 ms a batch once the table holds a few thousand posts), while
    this form is a look-up in the (network, post_id) index on both databases."""
    by_network: dict[str, list[str]] = {}
    for network, post_id in keys:
        by_network.setdefault(network, []).append(post_id)
    clauses = [and_(table.c.network == network, table.c.post_id.in_(post_ids))
               for network, post_ids in by_network.items()]
    return clauses[0] if len(clauses) == 1 else or_(false(), *clauses)


def post_row(post: PostData, stamp: datetime | None = None) -> dict[str, Any]:
    """The posts-table row of ``post``; ``stamp`` is its ``stored_at`` (one per batch)."""
    # Defence in depth: no unsafe URL is even stored, whatever the client does with it.
    entities = [dict(entity, url=safe_url(entity.get("url")) or "") for entity in post.entities]
    html = post.html if post.html is not None else str(render_html(post.text, entities))
    return {
        "network": post.network,
        "post_id": post.post_id,
        "author_id": post.author.id,
        "author_username": post.author.username,
        "author_name": post.author.name,
        "author_avatar_url": safe_url(post.author.avatar_url),
        "text": post.text,
        "html": html,
        "entities": dumps(entities) if entities else "[]",
        "url": safe_url(post.url),
        "created_at": post.created_at,
        "is_retweet": post.is_retweet,
        "retweet_of": post.retweet_of,
        "retweet_of_author": post.retweet_of_author,
        "retweet_count": post.retweet_count,
        "raw": post.raw_text if post.raw_text is not None else dumps(post.raw),
        "hidden": False,
        "media": media_json(post),
        "stored_at": stamp or now(),
    }
