"""X (Twitter) payloads: the API v2 filtered-stream shape and the legacy v1.1 status shape.

Both are accepted so that archives recorded with the 2010-era streaming API replay on the
same wall as today's stream. Offsets in both shapes count Unicode code points, which is
the convention of our entity list, so they are kept as they are.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from ..shapes import Author, Deletion, MalformedEvent, Normalised, PostData
from .storable import account_time, bio, language, post_time

NETWORK = "x"
SITE = "https://x.com"


def normalise_x(payload: Any) -> Normalised:
    if not isinstance(payload, dict):
        raise MalformedEvent("an X event must be a JSON object")
    if "data" in payload:
        return _from_v2(payload)
    if "delete" in payload:
        status = payload["delete"]["status"]
        return Deletion(NETWORK, str(status.get("id_str") or status["id"]))
    if "id_str" in payload and "user" in payload:
        return _from_v1(payload)
    if "errors" in payload or "limit" in payload:
        return None  # stream notices; the X source acts on them before normalising
    raise MalformedEvent("neither an X v2 stream event nor a v1.1 status")


def post_url(username: str, post_id: str) -> str:
    return f"{SITE}/{username}/status/{post_id}"


# --- API v2 ------------------------------------------------------------------------------


def _from_v2(payload: dict[str, Any]) -> PostData:
    data = payload["data"]
    if not isinstance(data, dict) or "id" not in data:
        raise MalformedEvent("v2 event without data.id")
    includes = payload.get("includes") or {}
    users = includes.get("users") or ()
    author_id = str(data["author_id"])
    user = _by_id(users, author_id)
    username = user.get("username") or author_id
    author = Author(id=author_id, username=username, name=user.get("name") or "",
                    avatar_url=user.get("profile_image_url"),
                    created_at=account_time(user.get("created_at")),
                    bio=bio(user.get("description")))
    note = data.get("note_tweet")
    if note:
        text = note.get("text") or data.get("text") or ""
        entities = _entities(note.get("entities"))
    else:
        text = data.get("text") or ""
        entities = _entities(data.get("entities"))
    retweet_of = None
    retweet_of_author = None
    for reference in data.get("referenced_tweets") or ():
        if reference.get("type") == "retweeted":
            retweet_of = str(reference["id"])
            original = _by_id(includes.get("tweets") or (), retweet_of)
            original_author = _by_id(users, str(original.get("author_id")))
            retweet_of_author = original_author.get("username") or original.get("author_id")
    metrics = data.get("public_metrics") or {}
    post_id = str(data["id"])
    return PostData(
        network=NETWORK,
        post_id=post_id,
        author=author,
        text=text,
        created_at=post_time(data.get("created_at"), NETWORK, post_id) if "created_at" in data
        else _now(),
        url=post_url(username, post_id),
        entities=entities,
        is_retweet=retweet_of is not None,
        retweet_of=retweet_of,
        retweet_of_author=str(retweet_of_author) if retweet_of_author else None,
        retweet_count=metrics.get("retweet_count") or 0,  # storable clamps and logs it
        raw=payload,
        lang=language(data.get("lang")),
    )


def _by_id(items: Any, wanted: str) -> dict[str, Any]:
    """The item of an ``includes`` list with that id, or ``{}``. A linear scan: the lists
    hold one to three items, and building a dict per post cost more than the search."""
    for item in items:
        if str(item.get("id")) == wanted:
            return item
    return {}


def _entities(entities: dict[str, Any] | None, legacy: bool = False) -> list[dict[str, Any]]:
    """X's entity lists, in v2 (``start``/``end``, ``mentions``, ``tag``) or v1.1 shape
    (``indices``, ``user_mentions``, ``text``); both count code points."""
    if not entities:
        return []

    def entity(kind: str, item: dict[str, Any], url: Any, display: Any) -> dict[str, Any]:
        start, end = item["indices"] if legacy else (item["start"], item["end"])
        return {"type": kind, "start": int(start), "end": int(end), "url": str(url or ""),
                "display": str(display or "")}

    found = [
        entity("url", item, item.get("expanded_url") or item.get("url"),
               item.get("display_url") or item.get("expanded_url") or item.get("url"))
        for item in entities.get("urls", [])
    ]
    for item in entities.get("user_mentions" if legacy else "mentions", []):
        name = item["screen_name" if legacy else "username"]
        found.append(entity("mention", item, f"{SITE}/{name}", f"@{name}"))
    for item in entities.get("hashtags", []):
        tag = item["text" if legacy else "tag"]
        found.append(entity("hashtag", item, f"{SITE}/hashtag/{tag}", f"#{tag}"))
    return found


# --- API v1.1 ----------------------------------------------------------------------------


def _from_v1(status: dict[str, Any]) -> PostData:
    user = status["user"]
    author = Author(
        id=str(user.get("id_str") or user["id"]),
        username=user["screen_name"],
        name=user.get("name") or "",
        avatar_url=user.get("profile_image_url_https") or user.get("profile_image_url"),
        bio=bio(user.get("description")),
    )
    extended = status.get("extended_tweet") or {}
    text = extended.get("full_text") or status.get("full_text") or status.get("text") or ""
    entities = _entities(extended.get("entities") or status.get("entities"), legacy=True)
    original = status.get("retweeted_status")
    post_id = str(status["id_str"])
    return PostData(
        network=NETWORK,
        post_id=post_id,
        author=author,
        text=text,
        created_at=_v1_time(status.get("created_at"), post_id),
        url=post_url(author.username, post_id),
        entities=entities,
        is_retweet=original is not None,
        retweet_of=str(original["id_str"]) if original else None,
        retweet_of_author=original["user"]["screen_name"] if original else None,
        retweet_count=status.get("retweet_count") or 0,  # storable clamps and logs it
        raw=status,
    )


def _v1_time(value: Any, post_id: str) -> datetime:
    if not value:
        return _now()
    try:
        return post_time(parsedate_to_datetime(value).astimezone(timezone.utc), NETWORK,
                         post_id)
    except (TypeError, ValueError, OverflowError):
        return post_time(value, NETWORK, post_id)


def _now() -> datetime:
    return datetime.now(timezone.utc)
