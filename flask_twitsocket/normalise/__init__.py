"""One post shape for every network.

Sources hand over raw events exactly as the network sent them (a dict parsed from JSON, or
the raw line). A normaliser per network turns each into one of three things the rest of the
pipeline understands — a new :class:`PostData`, an :class:`Edit` of one, or a
:class:`Deletion` — or raises :class:`MalformedEvent`, which the pipeline logs and skips.

Entities are kept in one network-neutral form: dicts with ``type`` (``url``, ``mention``,
``hashtag``, ``media``), ``start``/``end`` offsets counted in Unicode code points of
``text``, the link ``url`` and the ``display`` text. The server-side HTML and the browser
client both build links from that list, never from markup sent by a network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


class MalformedEvent(ValueError):
    """A raw event that cannot be understood; logged and skipped, never fatal."""


# Slotted, not frozen: a frozen dataclass sets each field through object.__setattr__,
# and two of these are built per post (normalising was 20% of ingest time).
@dataclass(slots=True)
class Author:
    id: str
    username: str
    name: str = ""
    avatar_url: str | None = None


@dataclass(slots=True)
class PostData:
    network: str
    post_id: str
    author: Author
    text: str
    created_at: datetime
    url: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    is_retweet: bool = False
    retweet_of: str | None = None
    retweet_of_author: str | None = None
    retweet_count: int = 0
    raw: dict[str, Any] = field(default_factory=dict)
    #: Pre-sanitised HTML for networks that send markup (Mastodon); else built from entities.
    html: str | None = None
    #: ``raw`` as the JSON text it arrived in, when ``raw`` is the whole event: the store
    #: keeps that text instead of encoding the dict again (set by the pipeline's parse).
    raw_text: str | None = None


@dataclass(frozen=True)
class Deletion:
    network: str
    post_id: str


@dataclass(frozen=True)
class Edit:
    post: PostData


Normalised = PostData | Edit | Deletion | None
Normaliser = Callable[[Any], Normalised]

_NORMALISERS: dict[str, Normaliser] = {}


def register(network: str) -> Callable[[Normaliser], Normaliser]:
    """Register the normaliser of a network (used as a decorator by each network module)."""

    def decorator(function: Normaliser) -> Normaliser:
        _NORMALISERS[network] = function
        return function

    return decorator


def normalise(network: str, payload: Any) -> Normalised:
    """Turn one raw event into the common shape; ``None`` means "nothing to do" (keep-alive).

    Whatever goes wrong while normalising one event — any exception at all, a
    ``RecursionError`` from a deeply nested payload included — makes that event
    malformed: a network's payload must never reach the stream runner as an error, which
    would take it for a database outage. What comes out is storable (see ``storable``).
    """
    try:
        normaliser = _NORMALISERS[network]
    except (KeyError, TypeError):
        raise MalformedEvent(f"no normaliser for network {network!r}") from None
    try:
        item = normaliser(payload)
        if isinstance(item, (PostData, Edit)):
            storable.make_storable(item.post if isinstance(item, Edit) else item)
        elif isinstance(item, Deletion):
            storable.identifier(item.post_id, "deleted post id")
        return item
    except MalformedEvent:
        raise
    except Exception as error:
        raise MalformedEvent(f"{type(error).__name__}: {str(error)[:200]}") from error


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
        if storable.in_range(moment):
            return moment
    except (MalformedEvent, TypeError):  # TypeError: a naive datetime compared
        pass
    storable.repaired(network, post_id, f"date {str(value)[:80]!r} unusable, replaced by "
                      + ("the event's time" if fallback else "now"))
    return fallback or datetime.now(timezone.utc)


# Each network module registers its normaliser on import.
from . import bluesky, mastodon, storable, x  # noqa: E402,F401
