"""X (Twitter) payloads: the API v2 filtered-stream shape and the legacy v1.1 status shape.

Both are accepted so that archives recorded with the 2010-era streaming API replay on the
same wall as today's stream. Offsets in both shapes count Unicode code points, which is
the convention of our entity list, so they are kept as they are.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from ..serialise import author_json
from ..shapes import Author, Deletion, MalformedEvent, Normalised, PostData
from .media import GIF, PHOTO, VIDEO, card, compact, https_url, media_item, unescape_x
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
    author = _v2_author(_by_id(users, author_id), author_id)
    retweet_of = None
    retweet_of_author = None
    original_author = None
    shown = data  # a retweet shows the retweeted post: X cuts the retweeter's copy at 140
    quoted: dict[str, Any] | None = None
    for reference in data.get("referenced_tweets") or ():
        kind = reference.get("type")
        if kind == "retweeted":
            retweet_of = str(reference["id"])
            original = _by_id(includes.get("tweets") or (), retweet_of)
            original_user = _by_id(users, str(original.get("author_id")))
            retweet_of_author = original_user.get("username") or original.get("author_id")
            if original.get("text") or original.get("note_tweet"):
                shown = original
                original_author = _v2_author(original_user, str(original.get("author_id")))
        elif kind == "quoted":
            quoted = _by_id(includes.get("tweets") or (), str(reference.get("id")))
    text, entities, media = _v2_content(shown, includes)
    if shown is not data and quoted is None:
        for reference in shown.get("referenced_tweets") or ():
            if reference.get("type") == "quoted":
                quoted = _by_id(includes.get("tweets") or (), str(reference.get("id")))
    metrics = data.get("public_metrics") or {}
    post_id = str(data["id"])
    return PostData(
        network=NETWORK,
        post_id=post_id,
        author=author,
        text=text,
        created_at=post_time(data.get("created_at"), NETWORK, post_id) if "created_at" in data
        else _now(),
        url=post_url(author.username, post_id),
        entities=entities,
        is_retweet=retweet_of is not None,
        retweet_of=retweet_of,
        retweet_of_author=str(retweet_of_author) if retweet_of_author else None,
        retweet_count=metrics.get("retweet_count") or 0,  # storable clamps and logs it
        raw=payload,
        lang=language(data.get("lang")),
        media=media,
        card=_v2_card(shown),
        quote=_v2_quote(quoted, includes) if quoted else None,
        sensitive=bool(data.get("possibly_sensitive") or shown.get("possibly_sensitive")),
        original_author=original_author,
    )


def _v2_author(user: dict[str, Any], author_id: str) -> Author:
    return Author(id=author_id, username=user.get("username") or author_id,
                  name=user.get("name") or "", avatar_url=user.get("profile_image_url"),
                  created_at=account_time(user.get("created_at")),
                  bio=bio(user.get("description")))


def _v2_content(tweet: dict[str, Any], includes: dict[str, Any]
                ) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """A v2 tweet's full text (a long post's ``note_tweet``), entities and media."""
    note = tweet.get("note_tweet")
    if note:
        text = note.get("text") or tweet.get("text") or ""
        raw_entities = note.get("entities")
    else:
        text = tweet.get("text") or ""
        raw_entities = tweet.get("entities")
    text, entities = unescape_x(text, _entities(raw_entities))
    keys = (tweet.get("attachments") or {}).get("media_keys") or ()
    found = [next((m for m in includes.get("media") or () if m.get("media_key") == key), {})
             for key in keys]
    media = compact(_v2_media(item) for item in found)
    media_links = {str(u.get("url")) for u in (raw_entities or {}).get("urls") or ()
                   if u.get("media_key")}
    return (*_drop_media_links(text, entities, media_links), media)


def _v2_media(item: dict[str, Any]) -> dict[str, Any] | None:
    kind = {"photo": PHOTO, "video": VIDEO, "animated_gif": GIF}.get(item.get("type"))
    if kind is None:
        return None
    url = item.get("url") if kind == PHOTO else _best_variant(item.get("variants"))
    return media_item(kind, url, item.get("preview_image_url"), item.get("alt_text"),
                      item.get("width"), item.get("height"))


def _best_variant(variants: Any, rate: str = "bit_rate") -> str | None:
    """The highest-bitrate MP4 of a video (what a browser can play without a library)."""
    mp4 = [v for v in variants or () if isinstance(v, dict)
           and v.get("content_type") == "video/mp4" and https_url(v.get("url"))]
    return max(mp4, key=lambda v: v.get(rate) or 0)["url"] if mp4 else None


def _v2_card(tweet: dict[str, Any]) -> dict[str, Any] | None:
    """X unwinds a shared link into a title, description and images (``entities.urls``)."""
    for link in (tweet.get("entities") or {}).get("urls") or ():
        if link.get("title") and not link.get("media_key"):
            images = link.get("images") or [{}]
            return card(link.get("unwound_url") or link.get("expanded_url"), link["title"],
                        link.get("description"), images[0].get("url"))
    return None


def _v2_quote(tweet: dict[str, Any], includes: dict[str, Any]) -> dict[str, Any] | None:
    if not tweet.get("id"):
        return None
    author_id = str(tweet.get("author_id"))
    author = _v2_author(_by_id(includes.get("users") or (), author_id), author_id)
    text, _, media = _v2_content(tweet, includes)
    return {"id": str(tweet["id"]), "url": post_url(author.username, str(tweet["id"])),
            "text": text, "author": author_json(author), "media": media}


def _drop_media_links(text: str, entities: list[dict[str, Any]], links: set[str]
                      ) -> tuple[str, list[dict[str, Any]]]:
    """Without the trailing ``https://t.co/…`` that only stands for the attached media
    (X shows the photo instead of it; so does the wall)."""
    stripped = text.rstrip()
    for link in links:
        if link and stripped.endswith(link):
            stripped = stripped[:-len(link)].rstrip()
    if len(stripped) == len(text.rstrip()):
        return text, entities
    return stripped, [e for e in entities if not isinstance(e.get("end"), int)
                      or e["end"] <= len(stripped)]


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
        for item in [*entities.get("urls", []), *entities.get("media", [])]
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
    author = _v1_author(status["user"])
    original = status.get("retweeted_status")
    # a retweet shows the retweeted status in full: the retweeter's copy is cut at 140
    shown = original if isinstance(original, dict) and original.get("user") else status
    text, entities, media = _v1_content(shown)
    quoted = shown.get("quoted_status")
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
        media=media,
        quote=_v1_quote(quoted) if isinstance(quoted, dict) and quoted.get("user") else None,
        sensitive=bool(status.get("possibly_sensitive") or shown.get("possibly_sensitive")),
        original_author=_v1_author(shown["user"]) if shown is not status else None,
    )


def _v1_author(user: dict[str, Any]) -> Author:
    return Author(
        id=str(user.get("id_str") or user["id"]),
        username=user["screen_name"],
        name=user.get("name") or "",
        avatar_url=user.get("profile_image_url_https") or user.get("profile_image_url"),
        bio=bio(user.get("description")),
    )


def _v1_content(status: dict[str, Any]
                ) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """A v1.1 status's full text (``extended_tweet`` in the stream, ``full_text`` in the
    REST API), entities (media links included) and media (``extended_entities``)."""
    extended = status.get("extended_tweet") or {}
    text = extended.get("full_text") or status.get("full_text") or status.get("text") or ""
    raw_entities = extended.get("entities") or status.get("entities") or {}
    text, entities = unescape_x(text, _entities(raw_entities, legacy=True))
    found = ((extended.get("extended_entities") or status.get("extended_entities")
              or raw_entities).get("media") or ())
    media = compact(_v1_media(item) for item in found)
    links = {str(item.get("url")) for item in found if media}
    return (*_drop_media_links(text, entities, links), media)


def _v1_media(item: dict[str, Any]) -> dict[str, Any] | None:
    kind = {"photo": PHOTO, "video": VIDEO, "animated_gif": GIF}.get(item.get("type"))
    if kind is None:
        return None
    poster = item.get("media_url_https")
    size = ((item.get("sizes") or {}).get("large") or {})
    url = poster if kind == PHOTO else _best_variant(
        (item.get("video_info") or {}).get("variants"), rate="bitrate")
    return media_item(kind, url, poster, item.get("ext_alt_text"), size.get("w"),
                      size.get("h"))


def _v1_quote(status: dict[str, Any]) -> dict[str, Any]:
    author = _v1_author(status["user"])
    text, _, media = _v1_content(status)
    return {"id": str(status.get("id_str")), "url": post_url(author.username,
                                                             str(status.get("id_str"))),
            "text": text, "author": author_json(author), "media": media}


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
