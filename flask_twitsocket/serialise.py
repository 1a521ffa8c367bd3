"""JSON text, and the JSON shape of a post (messages are built in :mod:`.messages`).

A post is serialised once — when it is stored — and that exact text travels through the bus
to every worker and every browser; nobody re-encodes it per client. Post ids are strings
because X ids exceed 2**53; ``seq`` is the local cursor used for catch-up (``since_id``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

try:  # orjson when installed: encoding a post costs a third, decoding a raw line half
    import orjson
except ImportError:  # pragma: no cover - the stdlib gives the same text, only slower
    orjson = None


def dumps(value: Any) -> str:
    """Compact JSON text with non-ASCII kept as is (the same text with or without orjson)."""
    if orjson is not None:
        try:
            return orjson.dumps(value).decode()
        except TypeError:  # e.g. an integer beyond 64 bits in a network's raw payload
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Parse JSON text; raises ``ValueError`` on bad input either way."""
    return orjson.loads(text) if orjson is not None else json.loads(text)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    elif moment.tzinfo is not timezone.utc:  # normalisers already give UTC: skip the copy
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def author_json(author: Any) -> dict[str, Any]:
    return {"id": str(author.id), "username": author.username, "name": author.name,
            "avatar_url": author.avatar_url}


def media_json(post: Any) -> str:
    """A post's rich parts as the ``media`` column stores them: only those present, and
    ``""`` when none is (a text-only post, most of them, pays nothing)."""
    parts: dict[str, Any] = {}
    if post.media:
        parts["media"] = post.media
    if post.card:
        parts["card"] = post.card
    if post.quote:
        parts["quote"] = post.quote
    if post.sensitive:
        parts["sensitive"] = True
    if post.content_warning:
        parts["content_warning"] = post.content_warning
    if post.original_author is not None:
        parts["original_author"] = author_json(post.original_author)
    if post.emojis:
        parts["emojis"] = post.emojis
    return dumps(parts) if parts else ""


def rich_json(stored: str | None, author: dict[str, Any]) -> dict[str, Any]:
    """The public fields made from the ``media`` column. A repost's ``author`` is the
    ORIGINAL author (walls show whose words these are); who reposted is ``reposted_by``.
    ``revealed``: a moderator has lifted the blur of sensitive media."""
    parts = loads(stored) if stored else {}
    original = parts.get("original_author")
    return {
        "author": original or author,
        "reposted_by": author if original else None,
        "media": parts.get("media") or [],
        "card": parts.get("card"),
        "quote": parts.get("quote"),
        "sensitive": bool(parts.get("sensitive")),
        "content_warning": parts.get("content_warning") or "",
        "revealed": bool(parts.get("revealed")),
        "emojis": parts.get("emojis") or [],
    }


def post_json(row: Any) -> dict[str, Any]:
    """A stored post (ORM object or result row) as the public JSON object."""
    entities = row.entities
    author = {
        "id": str(row.author_id),
        "username": row.author_username,
        "name": row.author_name,
        "avatar_url": row.author_avatar_url,
    }
    return {
        "id": str(row.post_id),
        "seq": str(row.seq),
        "network": row.network,
        "text": row.text,
        "html": row.html,
        "entities": loads(entities) if isinstance(entities, str) else entities,
        "created_at": iso(row.created_at),
        "url": row.url,
        "is_retweet": bool(row.is_retweet),
        "retweet_of": row.retweet_of,
        "retweet_of_author": row.retweet_of_author,
        "retweet_count": int(row.retweet_count or 0),
        # getattr: a post held in the moderation queue before the column existed
        **rich_json(getattr(row, "media", ""), author),
    }
