"""The shared value types: what a source hands over and what a normaliser makes of it.

The lowest layer, so that every other one (sources, normalisers, the pipeline, the store,
moderation) can name them without importing each other: a source yields
:class:`RawEvent` objects; a normaliser turns each into a :class:`PostData`, an :class:`Edit`
of one, a :class:`Deletion` — or raises :class:`MalformedEvent`, which the pipeline logs
and skips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RawEvent:
    """One event exactly as a network sent it: a JSON text/bytes or an already-parsed dict."""

    network: str
    payload: Any
    #: Called by the stream runner once the batch holding this event is stored (or the
    #: event was skipped): a source moves its saved resume position only then.
    acknowledge: Callable[[], None] | None = None



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
    #: What the automatic moderation rules need to know about the account, where the
    #: network says it (:mod:`flask_twitsocket.moderation.auto`): when it was created,
    #: whether it says it is a bot, whether it asked not to be shown to the logged-out
    #: public (Mastodon ``noindex``, Bluesky's ``!no-unauthenticated`` self-label), its bio.
    created_at: datetime | None = None
    bot: bool = False
    opted_out: bool = False
    bio: str = ""


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
    #: The network's own language tag (X ``lang``, Mastodon ``language``, Bluesky's first
    #: ``langs``), lower case, or None when it gives none.
    lang: str | None = None
    #: Photos, videos and GIFs: ``{type, url, preview_url, alt, width, height}`` (see
    #: :mod:`flask_twitsocket.normalise.media`), https URLs only.
    media: list[dict[str, Any]] = field(default_factory=list)
    #: A link preview ``{url, title, description, image}``.
    card: dict[str, Any] | None = None
    #: The quoted post, one level deep: ``{id, url, text, author, media}``.
    quote: dict[str, Any] | None = None
    #: The poster or the network marked the media sensitive (a content warning, a label).
    sensitive: bool = False
    #: A content warning's words (Mastodon's ``spoiler_text``), shown above the text.
    content_warning: str = ""
    #: A repost's original author: ``author`` is who reposted, and walls show this one.
    original_author: Author | None = None
    #: Custom emojis used in the text (Mastodon): ``{shortcode, url}``, shown as images.
    emojis: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Deletion:
    network: str
    post_id: str


@dataclass(frozen=True)
class Edit:
    post: PostData


Normalised = PostData | Edit | Deletion | None
