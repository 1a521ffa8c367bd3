"""What the Jinja macros in ``twitsocket/macros.html`` read: the ``twitsocket`` template global.

Host templates import the macros (``{% from "twitsocket/macros.html" import render_tweets
%}``); the macros call these helpers, so a macro works in any template of the site, with
or without a request-specific context.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, url_for

from ..i18n import client_messages, current_locale, gettext
from ..render import safe_url
from ..sanitise import clean_label
from ..serialise import dumps
from ..state import TwitSocketState, current_state
from .media import html_with_emojis, media_src
from .walls import wall_slug


class TemplateHelpers:
    """Data for the macros, read through the extension's store."""

    @property
    def state(self) -> TwitSocketState:
        return current_state()

    # ``wall``: a slug (checked: 404 for none such), or None for the default wall.

    def recent(self, limit: int, wall: str | None = None) -> list[dict[str, Any]]:
        return self.state.store.recent_on(wall and wall_slug(wall), int(limit))

    def count(self, wall: str | None = None) -> int:
        return self.state.store.count_on(wall and wall_slug(wall))

    def top_users(self, limit: int, wall: str | None = None) -> list[Any]:
        return self.state.store.top_users_on(wall and wall_slug(wall), int(limit))

    def top_tweets(self, limit: int, wall: str | None = None) -> list[dict[str, Any]]:
        return self.state.store.top_posts_on(wall and wall_slug(wall), int(limit))

    def safe_url(self, url: Any) -> str | None:
        return safe_url(url)

    def media_src(self, post: dict[str, Any], part: str) -> str | None:
        """An image of a post as pages load it (through the media proxy when it is on)."""
        return media_src(post, part)

    def post_html(self, post: dict[str, Any]) -> Any:
        """The post's safe HTML, custom emojis as images."""
        return html_with_emojis(post)

    def top_avatar_src(self, user: Any, wall: str | None = None) -> str | None:
        """A top user's avatar as pages load it; ``wall``: the list is that wall's."""
        if not safe_url(user.avatar_url):
            return None
        if self.state.settings["MEDIA_PROXY"]:
            return url_for("twitsocket.media_top", rank=user.rank,
                           **({"wall": wall} if wall else {}))
        return safe_url(user.avatar_url)

    def sensitive_mode(self) -> str:
        return self.state.settings["SENSITIVE_MEDIA"]

    def label(self, text: str | None) -> str:
        """A name or handle as shown: without bidi controls (see sanitise.clean_label)."""
        return clean_label(text)

    def initials(self, name: str, username: str) -> str:
        words = clean_label(name or username or "?").split()
        return "".join(word[0] for word in words[:2]).upper() or "?"

    def t(self, message: str, **values: Any) -> str:
        """The wall's own words in the host site's language (see :mod:`..i18n`)."""
        return gettext(message, **values)

    def locale(self) -> str:
        return current_locale()

    def client_config(self, wall: str | None = None) -> dict[str, str]:
        """What the JS client needs, delivered as data- attributes (no inline script);
        with ``wall``, that wall's feed (``?wall=slug`` on every URL)."""
        settings = self.state.settings
        query = {} if wall is None else {"wall": wall_slug(wall)}
        ws_url = settings["WEBSOCKET_URL"]
        if ws_url and query:
            ws_url += ("&" if "?" in ws_url else "?") + urlencode(query)
        ws_path = urlsplit(url_for("twitsocket.ws", **query))
        return {
            # A path by default: the client picks ws:// or wss:// from the page's scheme.
            "ws-url": ws_url or (ws_path.path + (f"?{ws_path.query}" if ws_path.query else "")),
            "api-url": url_for("twitsocket.api_tweets", **query),
            # Server-sent events, for venues whose proxy blocks websockets.
            "events-url": url_for("twitsocket.events", **query),
            "fallback": settings["FALLBACK"],
            # the proxy's base: the client appends "<seq>/<part>" (see web/media.py)
            "media-url": url_for("twitsocket.media", seq=1, part="a")[:-len("1/a")]
            if settings["MEDIA_PROXY"] else "",
            "sensitive-media": settings["SENSITIVE_MEDIA"],
            "lang": current_locale(),
            "i18n": dumps(client_messages()),
        }


def register(blueprint: Blueprint) -> None:
    helpers = TemplateHelpers()

    blueprint.record_once(lambda setup: setup.app.jinja_env.globals.setdefault(
        "twitsocket", helpers))
