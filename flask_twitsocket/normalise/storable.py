"""Make a network's values storable: every database accepts what leaves normalisation.

A network's payload is written by its posters' clients, so any field may hold what a
database refuses or a process cannot handle, and one such post once stopped ingest for
every network. Each rule here fixes one class of poison, the same way for every network:

* text (post text, names, handles, links): NUL characters are removed (PostgreSQL
  refuses them in text) and lone surrogates become U+FFFD (no UTF-8 encoder accepts them);
* counts are clamped to ``0 … COUNT_MAX``, the range of the integer column on every
  database (a retweet count of 3,000,000,000 overflows PostgreSQL's ``integer``; 10**20
  and ``1e400`` overflow everything);
* a date outside ``1970 … now + a day`` (a client's ``0001-01-01T00:00:00+01:00`` cannot
  even be converted to UTC) is replaced by the event's own time, or now;
* identifiers (post and author ids) are never altered — that would merge two posts — so
  an id that cannot be stored (NUL, surrogate, over the column's 255 characters) makes
  the event malformed;
* size caps: an event over ``MAX_EVENT_CHARS`` is malformed, and a text over ``TEXT_LIMIT``
  is truncated (see their comments for the bounds).

Each repair is logged with the network and the post id, so an operator can see what came
in and what was stored.
"""

from __future__ import annotations

import logging
import math
import re
from bisect import bisect_left
from datetime import datetime, timedelta, timezone
from typing import Any

from ..shapes import MalformedEvent, PostData

log = logging.getLogger("flask_twitsocket.normalise")

#: The largest value of the ``integer`` columns (PostgreSQL's int4; SQLite's is wider, but
#: one bound everywhere keeps a wall's numbers the same on either database).
COUNT_MAX = 2**31 - 1
#: Raw events longer than this (characters of JSON) are malformed. The biggest genuine
#: events are ~20-30 KiB (an X v2 event with its includes, a Mastodon status with media,
#: emojis and a card); 256 KiB leaves ten times that, and bounds what one post may cost
#: to parse, store and send to every wall.
MAX_EVENT_CHARS = 256 * 1024
#: Post texts are cut here (code points). X's long posts reach 25,000 characters, the most
#: of any network (Mastodon's default is 500, Bluesky's 300 graphemes); beyond that a
#: "post" is someone filling a projector.
TEXT_LIMIT = 40_000
#: ``String(255)`` columns: names are cut there, ids over it are malformed.
COLUMN_CHARS = 255
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Clocks drift; a post "from tomorrow" is a clock, one from next year is a lie.
FUTURE_SLACK = timedelta(days=1)

_SURROGATES = re.compile("[\ud800-\udfff]")


def text(value: str) -> str:
    """``value`` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    return value


def optional_text(value: Any, limit: int | None = None) -> str | None:
    if value is None:
        return None
    cleaned = text(str(value))
    return cleaned[:limit] if limit else cleaned


def identifier(value: str, what: str) -> str:
    """An id exactly as given, or :class:`MalformedEvent` if no database can store it."""
    if len(value) > COLUMN_CHARS or text(value) != value:
        raise MalformedEvent(f"{what} {value[:80]!r} cannot be stored (over {COLUMN_CHARS} "
                             "characters, or a NUL or lone surrogate in it)")
    return value


def count(value: Any) -> int:
    """A count as an int in ``0 … COUNT_MAX``; anything that is not a number counts 0."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, str):
        try:
            value = int(value.strip()[:20])
        except ValueError:
            return 0
    if isinstance(value, float):
        if math.isnan(value):
            return 0
        value = COUNT_MAX if value > COUNT_MAX else max(value, 0.0)
    if not isinstance(value, (int, float)):
        return 0
    return int(min(max(value, 0), COUNT_MAX))


def in_range(moment: datetime) -> bool:
    return EARLIEST <= moment <= datetime.now(timezone.utc) + FUTURE_SLACK


def from_epoch_us(value: Any) -> datetime | None:
    """A microsecond timestamp (Jetstream's ``time_us``) if it is a plausible time."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        moment = datetime.fromtimestamp(value / 1_000_000, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if in_range(moment) else None


def repaired(network: str, post_id: str, what: str) -> None:
    log.warning("Made a %s post storable (%s): %s", network, post_id, what)


def make_storable(post: PostData) -> PostData:
    """Apply every rule above to a normalised post (in place); logs what it changed."""
    identifier(post.post_id, "post id")
    identifier(post.author.id, "author id")
    if post.retweet_of is not None:
        identifier(post.retweet_of, "reposted id")
    _clean_text(post)
    author = post.author
    author.username = text(author.username)[:COLUMN_CHARS]
    author.name = text(author.name)[:COLUMN_CHARS]
    author.avatar_url = optional_text(author.avatar_url)
    post.url = optional_text(post.url)
    post.retweet_of_author = optional_text(post.retweet_of_author, COLUMN_CHARS)
    if post.html is not None:
        post.html = text(post.html)
    if not isinstance(post.retweet_count, int) or not 0 <= post.retweet_count <= COUNT_MAX:
        repaired(post.network, post.post_id, f"repost count {post.retweet_count!r} clamped")
        post.retweet_count = count(post.retweet_count)
    if not in_range(post.created_at):
        repaired(post.network, post.post_id, f"date {post.created_at} replaced by now")
        post.created_at = datetime.now(timezone.utc)
    return post


def _clean_text(post: PostData) -> None:
    """The post's text cleaned and capped, its entities kept on the same characters."""
    original = post.text
    cleaned = text(original)
    if "\x00" in original:
        post.entities = _shift(post.entities, [i for i, c in enumerate(original) if c == "\x00"])
        repaired(post.network, post.post_id, "NUL characters removed from the text")
    elif cleaned is not original:
        repaired(post.network, post.post_id, "lone surrogates replaced in the text")
    if len(cleaned) > TEXT_LIMIT:
        repaired(post.network, post.post_id,
                 f"text of {len(cleaned)} characters cut at {TEXT_LIMIT}")
        cleaned = cleaned[:TEXT_LIMIT] + "…"
        post.entities = [e for e in post.entities if _end(e) <= TEXT_LIMIT]
        post.html = None  # a network's markup of the whole text: rebuilt from the cut text
    post.text = cleaned
    post.entities = [_clean_entity(e) for e in post.entities if isinstance(e, dict)]


def _end(entity: Any) -> int:
    end = entity.get("end") if isinstance(entity, dict) else None
    return end if isinstance(end, int) else COUNT_MAX


def _shift(entities: list[dict[str, Any]], removed: list[int]) -> list[dict[str, Any]]:
    """Entity offsets moved left by the characters removed before them."""
    shifted = []
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        if isinstance(start, int) and isinstance(end, int):
            shifted.append(dict(entity, start=start - bisect_left(removed, start),
                                end=end - bisect_left(removed, end)))
    return shifted


def _clean_entity(entity: dict[str, Any]) -> dict[str, Any]:
    for key in ("url", "display"):
        value = entity.get(key)
        if isinstance(value, str) and not (value.isascii() and "\x00" not in value):
            entity = dict(entity, **{key: text(value)})
    return entity


def raw_json(raw: Any, encode: Any) -> str:
    """The raw event as JSON text (``encode`` is the store's encoder), storable and capped."""
    try:
        encoded = encode(raw)
    except (TypeError, ValueError, RecursionError) as error:
        raise MalformedEvent(f"the event cannot be encoded as JSON ({error})") from None
    if len(encoded) > MAX_EVENT_CHARS:
        raise MalformedEvent(f"the event is {len(encoded)} characters long, over the "
                             f"{MAX_EVENT_CHARS} allowed")
    return text(encoded)


def parse_time(value: Any) -> datetime:
    """ISO 8601 (``Z`` accepted) to an aware UTC datetime."""
    if not isinstance(value, str):
        raise MalformedEvent(f"bad timestamp {value!r}")
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        if moment.tzinfo is timezone.utc:  # the usual case: no conversion to make
            return moment
        # year 1 at +01:00 is before datetime.min in UTC: OverflowError
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise MalformedEvent(f"bad timestamp {value[:80]!r}") from None


def post_time(value: Any, network: str, post_id: str,
              fallback: datetime | None = None) -> datetime:
    """A post's date from ``value`` (ISO text or a datetime), or — when it is unreadable
    or out of range (posters' clients choose it freely) — the event's own time
    ``fallback``, or now; a replacement is logged."""
    try:
        moment = value if isinstance(value, datetime) else parse_time(value)
        if in_range(moment):
            return moment
    except (MalformedEvent, TypeError):  # TypeError: a naive datetime compared
        pass
    repaired(network, post_id, f"date {str(value)[:80]!r} unusable, replaced by "
                      + ("the event's time" if fallback else "now"))
    return fallback or datetime.now(timezone.utc)


def account_time(value: Any) -> datetime | None:
    """When an account was created, or None when the network does not say (or says
    something unreadable): the account-age rule then leaves the post alone."""
    try:
        moment = parse_time(value)
    except MalformedEvent:
        return None
    return moment if in_range(moment) else None


def language(value: Any) -> str | None:
    """A network's language tag (``en``, ``pt-BR``, or Bluesky's list of them) as the
    languages rule compares it: the primary subtag, lower case; None when absent."""
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().split("-")[0].split("_")[0].lower()[:16]


def bio(value: Any) -> str:
    """An account's bio, as plain storable text of bounded length (the consent rule
    looks for ``#nowall`` in it)."""
    return (optional_text(value, 2000) or "") if isinstance(value, str) else ""
