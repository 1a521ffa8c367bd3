"""Safe HTML for a post, built from its plain text and entity list.

Everything that comes from a network is hostile: the text is escaped piece by piece, and a
piece becomes a link only when its URL is http(s). Nothing the network sent as markup is
ever passed through. The browser client follows the same rules with DOM nodes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

LINK_CLASSES = {"url": "link", "mention": "mention", "hashtag": "hashtag", "media": "media"}


_CONTROL = re.compile(r"[\x00-\x1f]")
#: URLs this matches pass the full check unchanged: http(s), a plain ASCII host, and only
#: printable ASCII (nothing to strip, no control characters, nothing urlsplit rejects).
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:[/?#][!-~]*)?")


def safe_url(url: Any) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else ``None``."""
    if not isinstance(url, str):
        return None
    # Most URLs are plain, and many are unique (each post's own link): they would miss
    # the cache and push out the avatars (ingest profile: 7% of the time).
    if _PLAIN_URL.fullmatch(url):
        return url
    return _safe_str_url(url)


@lru_cache(maxsize=4096)
def _safe_str_url(url: str) -> str | None:
    # Cached: the same avatars and links recur in most posts, and each post asks 4-6 times
    # (ingest profile: safe_url was 15% of the time per post before the cache).
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if _CONTROL.search(url):
        return None
    return url


_SPECIAL = re.compile("[&<>\"']")


def escape_text(text: str) -> str:
    """HTML-escape ``text`` exactly as markupsafe does (``& < > " '``), as a plain str.

    Why not markupsafe's ``escape``: a post is escaped in several pieces, and each call
    made a ``Markup`` to turn back into a str. Most pieces have nothing to escape: one
    regex search says so, and only the others go through the replacements."""
    if _SPECIAL.search(text) is None:
        return text
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _entity_order(entity: dict[str, Any]) -> tuple[int, int]:
    start, end = entity.get("start"), entity.get("end")  # hostile: maybe not numbers
    return (start if isinstance(start, int) else -1, end if isinstance(end, int) else -1)


def render_html(text: str, entities: list[dict[str, Any]]) -> Markup:
    """Escape ``text`` and turn valid entity ranges into links; returns safe markup."""
    if not entities:  # most posts: nothing to link, so one escape (ingest profile: 10%)
        return Markup(escape_text(text).replace("\n", "<br>"))
    # offsets count code points, as Python str indexing and slicing do
    pieces: list[str] = []
    cursor = 0
    for entity in sorted(entities, key=_entity_order) if len(entities) > 1 else entities:
        start, end = entity.get("start"), entity.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        if start < cursor or end <= start or end > len(text):
            continue  # overlapping or out-of-range entities are shown as plain text
        pieces.append(escape_text(text[cursor:start]))
        label = text[start:end]
        url = safe_url(entity.get("url"))
        if url is None:
            pieces.append(escape_text(label))
        else:
            display = entity.get("display") if entity.get("type") == "url" else None
            css = LINK_CLASSES.get(entity.get("type"), "link")
            pieces.append(
                f'<a class="{css}" href="{escape_text(url)}" '
                f'rel="nofollow noopener noreferrer" '
                f'target="_blank">{escape_text(display or label)}</a>'
            )
        cursor = end
    pieces.append(escape_text(text[cursor:]))
    return Markup("".join(pieces).replace("\n", "<br>"))
