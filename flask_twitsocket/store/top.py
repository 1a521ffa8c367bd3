"""The cached top lists (top users, top posts), refreshed by ``flask twitsocket top``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from ..serialise import post_json
from .tables import POSTS, TOP_POSTS, TOP_USERS, now


def top_users(engine: Engine, limit: int) -> list[Any]:
    with engine.connect() as conn:
        query = select(TOP_USERS).order_by(TOP_USERS.c.rank).limit(limit)
        return list(conn.execute(query))


def top_posts(engine: Engine, limit: int) -> list[dict[str, Any]]:
    query = (
        select(POSTS, TOP_POSTS.c.retweet_count.label("top_count"))
        .join(TOP_POSTS, TOP_POSTS.c.post_seq == POSTS.c.seq)
        .where(POSTS.c.hidden.is_(False))
        .order_by(TOP_POSTS.c.rank)
        .limit(limit)
    )
    with engine.connect() as conn:
        posts = []
        for row in conn.execute(query):
            post = post_json(row)
            post["retweet_count"] = int(row.top_count)
            posts.append(post)
        return posts


def refresh_top(engine: Engine, limit: int = 100) -> tuple[int, int]:
    """Recompute the top users and top posts with SQL aggregation; returns their sizes."""
    stamp = now()
    originals = POSTS.c.is_retweet.is_(False)
    visible = POSTS.c.hidden.is_(False)
    newest = func.max(POSTS.c.seq).label("newest")
    users = (
        select(
            POSTS.c.network,
            POSTS.c.author_id,
            func.count().label("post_count"),
            newest,
        )
        .where(visible)
        .group_by(POSTS.c.network, POSTS.c.author_id)
        .order_by(func.count().desc(), newest.desc())
        .limit(limit)
        .subquery()
    )
    latest = POSTS.alias("latest")
    user_rows = select(
        users.c.network, users.c.author_id, users.c.post_count,
        latest.c.author_username, latest.c.author_name, latest.c.author_avatar_url,
    ).join(latest, latest.c.seq == users.c.newest).order_by(
        users.c.post_count.desc(), users.c.newest.desc()
    )
    retweets = POSTS.alias("retweets")
    stored_retweets = (
        select(retweets.c.network, retweets.c.retweet_of, func.count().label("n"))
        .where(retweets.c.is_retweet.is_(True))
        .group_by(retweets.c.network, retweets.c.retweet_of)
        .subquery()
    )
    score = func.coalesce(stored_retweets.c.n, 0)
    best = (
        func.max(POSTS.c.retweet_count, score)
        if engine.dialect.name == "sqlite"
        else func.greatest(POSTS.c.retweet_count, score)
    ).label("score")
    post_rows = (
        select(POSTS.c.seq, best)
        .outerjoin(
            stored_retweets,
            (stored_retweets.c.network == POSTS.c.network)
            & (stored_retweets.c.retweet_of == POSTS.c.post_id),
        )
        .where(originals, visible)
        .order_by(best.desc(), POSTS.c.seq.desc())
        .limit(limit)
    )
    with engine.begin() as conn:
        top_users = [
            {"rank": rank, "network": row.network, "author_id": row.author_id,
             "username": row.author_username, "name": row.author_name,
             "avatar_url": row.author_avatar_url, "post_count": row.post_count,
             "refreshed_at": stamp}
            for rank, row in enumerate(conn.execute(user_rows), start=1)
        ]
        top_posts = [
            {"rank": rank, "post_seq": row.seq, "retweet_count": row.score,
             "refreshed_at": stamp}
            for rank, row in enumerate(conn.execute(post_rows), start=1)
        ]
        conn.execute(delete(TOP_USERS))
        conn.execute(delete(TOP_POSTS))
        if top_users:
            conn.execute(insert(TOP_USERS), top_users)
        if top_posts:
            conn.execute(insert(TOP_POSTS), top_posts)
    return len(top_users), len(top_posts)

