"""The rich parts of a post — photos, videos, link cards, quotes — in one shape for every
network, built from whatever each network sends.

A media item is ``{type: photo|video|gif, url, preview_url, alt, width, height}``: ``url``
is the full-size photo (or the video file), ``preview_url`` an image the wall can show (a
video's poster). A card is ``{url, title, description, image}``. Only https URLs are kept:
an http URL would be mixed content on an https wall, and anything else is not an image at
all. An item without a usable URL is dropped, never the post.

Everything here is pure: dicts in, dicts out, no network and no configuration, so each
network's normaliser calls these helpers and the tests check them on real payloads.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

PHOTO, VIDEO, GIF = "photo", "video", "gif"
#: Alt text is the poster's own words: long descriptions exist (Mastodon allows 1,500
#: characters), but a wall is not a document.
ALT_LIMIT = 1500
CARD_TEXT_LIMIT = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def https_url(value: Any) -> str | None:
    """``value`` if it is an absolute https URL with a host and no control characters."""
    if not isinstance(value, str) or len(value) > 2048 or _CONTROL.search(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    return value


def _text(value: Any, limit: int) -> str:
    return str(value).replace("\x00", "").strip()[:limit] if isinstance(value, str) else ""


def _size(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if 0 < value < 100_000 else None


def media_item(kind: str, url: Any, preview_url: Any = None, alt: Any = None,
               width: Any = None, height: Any = None) -> dict[str, Any] | None:
    """One media item, or ``None`` when it has no https URL to show."""
    full, preview = https_url(url), https_url(preview_url)
    if full is None and preview is None:
        return None
    if kind == PHOTO:  # a photo is its own preview
        preview = preview or full
    if preview is None:
        return None  # a video without a poster: nothing the wall can show
    return {"type": kind, "url": full or preview, "preview_url": preview,
            "alt": _text(alt, ALT_LIMIT), "width": _size(width), "height": _size(height)}


def card(url: Any, title: Any, description: Any = None, image: Any = None
         ) -> dict[str, Any] | None:
    """A link preview, or ``None`` without an http(s) link (a card is a link first)."""
    link = url if isinstance(url, str) and url.lower().startswith(("https://", "http://")) \
        and not _CONTROL.search(url) else None
    if link is None:
        return None
    return {"url": link, "title": _text(title, CARD_TEXT_LIMIT),
            "description": _text(description, CARD_TEXT_LIMIT), "image": https_url(image)}


def compact(items: Any) -> list[dict[str, Any]]:
    """The items that are not ``None``."""
    return [item for item in items if item is not None]


# --- X's escaped text ---------------------------------------------------------------------

_ESCAPED = re.compile(r"&(amp|lt|gt|quot|#39);")


def unescape_x(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """X's text without its HTML escapes (``&amp;`` ``&lt;`` ``&gt;``), entities kept on
    the same characters.

    X escapes the text it sends and counts entity offsets on that escaped text; showing it
    as is made the wall print ``&amp;`` (we escape once more on the way out). Each
    offset moves left by what the escapes before it lost."""
    if "&" not in text:
        return text, entities
    pieces: list[str] = []
    # shifts[i] = characters removed before escaped offset i's match ends
    removed_at: list[tuple[int, int]] = []  # (escaped offset after the escape, total lost)
    cursor = lost = 0
    for match in _ESCAPED.finditer(text):
        pieces.append(text[cursor:match.start()])
        pieces.append(html.unescape(match.group(0)))
        lost += len(match.group(0)) - 1
        removed_at.append((match.end(), lost))
        cursor = match.end()
    if not removed_at:
        return text, entities
    pieces.append(text[cursor:])

    def moved(offset: Any) -> Any:
        if not isinstance(offset, int):
            return offset
        shift = 0
        for end, total in removed_at:
            if end > offset:
                break
            shift = total
        return offset - shift

    return "".join(pieces), [dict(e, start=moved(e.get("start")), end=moved(e.get("end")))
                             for e in entities]
