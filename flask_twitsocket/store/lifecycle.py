"""The data's lifecycle: export what the wall stored, purge what is old, back it up.

* :func:`export_lines` — every stored post as one JSON line, ``{"network", "payload",
  "post"}``: ``payload`` is the network's own event as it arrived (what the replay source
  reads back through the normal pipeline: ``--source replay`` with
  ``TWITSOCKET_REPLAY_FILE`` restores every post), ``post`` the wall's JSON of it (for
  readers and spreadsheets; :data:`CSV_FIELDS` flattens it). A post stored with
  ``TWITSOCKET_KEEP_RAW = False`` has no payload: it is exported, not replayable.
* :func:`purge` — posts older than a cut-off, with their pins and top-list rows, the
  journal entries as old, and tombstones only once they are older than
  :data:`TOMBSTONE_MIN_AGE` too: a tombstone is what stops a network's re-delivery
  (Jetstream replays 36 h, Mastodon's catch-up reads back up to 1,000 posts) from bringing
  a deleted post back, so it outlives the post by at least a week.
* :func:`backup_sqlite` — SQLite's online backup API: a consistent copy while the stream
  writes (PostgreSQL has ``pg_dump``; see the deployment guide).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from ..serialise import dumps, loads, post_json
from .tables import JOURNAL, PINS, POSTS, TOMBSTONES, TOP_POSTS, key_clause, now

TOMBSTONE_MIN_AGE = timedelta(days=7)
#: The columns of ``export --format csv`` (the post's JSON, flattened).
CSV_FIELDS = ("network", "id", "seq", "created_at", "author_username", "author_name",
              "author_id", "text", "url", "is_retweet", "retweet_of", "retweet_count")
#: Rows read per round trip while exporting (memory stays flat on a big archive).
CHUNK = 1000


def _since(query: Any, since: datetime | None) -> Any:
    return query if since is None else query.where(POSTS.c.created_at >= since)


def count_posts(engine: Engine, since: datetime | None = None) -> int:
    with engine.connect() as conn:
        return conn.execute(_since(select(func.count()).select_from(POSTS), since)).scalar_one()


def _payload(row: Any) -> Any:
    """The network's event as the replay source reads it back; None if not kept."""
    try:
        raw = loads(row.raw) if row.raw else None
    except ValueError:
        return None
    if not raw:
        return None
    if row.network == "mastodon" and isinstance(raw, dict) and "event" not in raw:
        # Stored as the bare status: wrap it as the stream's update event, with the
        # instance (from the stored acct) so local accounts keep their full name.
        _, _, instance = str(row.author_username).partition("@")
        return {"event": "update", "payload": raw, "instance": instance or None}
    return raw


def export_records(engine: Engine, since: datetime | None = None,
                   ) -> Iterator[dict[str, Any]]:
    """Every stored post (hidden ones too, marked), oldest first, read in chunks."""
    last = 0
    while True:
        query = _since(select(POSTS).where(POSTS.c.seq > last), since)
        with engine.connect() as conn:
            rows = conn.execute(query.order_by(POSTS.c.seq).limit(CHUNK)).all()
        if not rows:
            return
        for row in rows:
            record: dict[str, Any] = {"network": row.network, "payload": _payload(row),
                                      "post": post_json(row)}
            if row.hidden:
                record["hidden"] = True
            if record["payload"] is None:
                del record["payload"]
            yield record
        last = rows[-1].seq


def export_lines(engine: Engine, since: datetime | None = None) -> Iterator[str]:
    for record in export_records(engine, since):
        yield dumps(record)


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    post = record["post"]
    author = post["author"]
    return {**{key: post.get(key) for key in CSV_FIELDS},
            "author_username": author["username"], "author_name": author["name"],
            "author_id": author["id"]}


def purge(engine: Engine, older_than: datetime, raw_only: bool = False) -> dict[str, int]:
    """Delete (or, with ``raw_only``, blank the raw payload of) posts created before
    ``older_than``; returns what was removed, by kind. One transaction."""
    old = POSTS.c.created_at < older_than
    with engine.begin() as conn:
        if raw_only:
            blanked = conn.execute(update(POSTS).where(old, POSTS.c.raw != "{}")
                                   .values(raw="{}")).rowcount
            return {"raw payloads": blanked}
        seqs = select(POSTS.c.seq).where(old).scalar_subquery()
        keys = select(POSTS.c.network, POSTS.c.post_id).where(old)
        conn.execute(delete(TOP_POSTS).where(TOP_POSTS.c.post_seq.in_(seqs)))
        old_keys = [tuple(row) for row in conn.execute(keys)]
        for start in range(0, len(old_keys), 500):
            conn.execute(delete(PINS).where(key_clause(PINS, old_keys[start:start + 500])))
        posts = conn.execute(delete(POSTS).where(old)).rowcount
        journal = conn.execute(delete(JOURNAL).where(JOURNAL.c.created_at < older_than)
                               ).rowcount
        tombstone_cut = min(older_than, now() - TOMBSTONE_MIN_AGE)
        tombstones = conn.execute(delete(TOMBSTONES).where(
            TOMBSTONES.c.created_at < tombstone_cut)).rowcount
    return {"posts": posts, "journal entries": journal, "tombstones": tombstones}


def backup_sqlite(engine: Engine, destination: Path) -> int:
    """Copy a SQLite database with the online backup API (consistent while the stream
    writes); returns the pages copied. ``destination`` must not exist."""
    source_path = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not source_path:
        raise ValueError("backup copies SQLite databases; for PostgreSQL use pg_dump")
    if destination.exists():
        raise ValueError(f"{destination} exists; choose a new file")
    pages = 0

    def progress(_status: int, remaining: int, total: int) -> None:
        nonlocal pages
        pages = total

    with sqlite3.connect(source_path) as source, sqlite3.connect(destination) as target:
        source.backup(target, pages=1024, progress=progress)
    return pages
