"""Writing posts: new ones (duplicates and tombstoned ones ignored), edits, deletions.

Each function works inside the caller's transaction (:meth:`PostStore.apply`) and returns
the wire messages its change makes, for the journal written in the same transaction.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, delete, update

from ..messages import delete_message, update_message
from ..serialise import post_json
from ..shapes import Deletion, PostData
from .fast import insert_many, tombstoned
from .tables import POSTS, TOMBSTONES, insert_ignore, now, post_row


def insert_posts(conn: Connection, posts: list[PostData]) -> list[dict[str, Any]]:
    """New posts, once each, never one deleted before; the stored ones as post JSON."""
    unique: dict[tuple[str, str], PostData] = {}
    for post in posts:
        unique.setdefault((post.network, post.post_id), post)
    buried = tombstoned(conn, unique)
    stamp = now()
    return insert_rows(conn, [post_row(post, stamp) for key, post in unique.items()
                              if key not in buried])


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert prepared rows (duplicates ignored); the stored ones as post JSON, by seq.

    Also how moderation releases a held-back post: it gets its ``seq`` only then."""
    if not rows:
        return []
    # executemany, not .values(rows): SQLAlchemy then batches the rows into multi-row
    # INSERTs from ONE cached compiled statement ("insertmanyvalues"); .values(rows)
    # compiled a fresh 500-row statement per batch and took 60% of ingest time.
    # Only the keys and the new seq come back: the rest is in ``rows`` already, and
    # returning every column (raw JSON included) cost more than the insert itself.
    inserted = insert_many(conn, rows)
    by_key = {(row["network"], row["post_id"]): row for row in rows}
    return [post_json(SimpleNamespace(**by_key[(new.network, new.post_id)], seq=new.seq))
            for new in sorted(inserted, key=lambda new: new.seq)]


def edit(conn: Connection, post: PostData) -> str | None:
    """Apply an edit; the ``update`` message, or None (unknown or hidden post)."""
    row = post_row(post)
    for key in ("network", "post_id", "stored_at", "hidden"):
        row.pop(key)
    updated = conn.execute(
        update(POSTS)
        .where(POSTS.c.network == post.network, POSTS.c.post_id == post.post_id)
        .values(row)
        .returning(*POSTS.c)
    ).first()
    if updated is None or updated.hidden:
        return None
    return update_message(post_json(updated))


def delete_post(conn: Connection, deletion: Deletion) -> str | None:
    """Tombstone and delete; the ``delete`` message, or None (unknown or hidden post)."""
    conn.execute(
        insert_ignore(conn, TOMBSTONES).values(
            network=deletion.network, post_id=deletion.post_id, reason="deleted",
            created_at=now(),
        )
    )
    gone = conn.execute(
        delete(POSTS)
        .where(POSTS.c.network == deletion.network, POSTS.c.post_id == deletion.post_id)
        .returning(POSTS.c.seq, POSTS.c.hidden)
    ).first()
    if gone is None or gone.hidden:
        return None
    return delete_message(deletion.network, deletion.post_id, gone.seq)
