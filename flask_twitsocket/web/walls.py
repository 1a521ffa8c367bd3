"""Which wall a request is for: ``?wall=slug`` (websocket, SSE, JSON API) or the
projector's ``<prefix>/w/<slug>/wall``, and the index of the site's live walls.

Why a wall that does not exist is an error rather than the default wall: a projector
pointed at a misspelt room must say so, not silently show the whole site's posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, make_response, render_template, request, url_for
from werkzeug.exceptions import NotFound

from ..i18n import gettext
from ..state import current_state
from ..walls import DEFAULT_WALL, WallSpec

#: The index page runs no script and loads only the stylesheet.
PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'"


def wall_slug(raw: str | None) -> str:
    """The slug of an existing wall (absent or empty: the default wall), else 404."""
    slug = raw or DEFAULT_WALL
    if slug not in current_state().walls:
        raise NotFound(f"there is no wall {slug!r} on this site")
    return slug


def requested_wall() -> str:
    """The request's ``?wall=`` (default: the default wall), checked: a live wall, or an
    archived one (its posts stay readable; nothing new reaches it)."""
    slug = request.args.get("wall")
    if slug and slug in current_state().archived_walls:
        return slug
    return wall_slug(slug)


def wall_settings(settings: Mapping[str, Any], wall: WallSpec) -> dict[str, Any]:
    """The settings as one wall's projector sees them: its title, logo, accent, QR URL,
    layout and tracking (the call to action names its hashtags) over the site's."""
    own = {"WALL_TITLE": wall.title, "WALL_LOGO_URL": wall.logo_url,
           "WALL_ACCENT": wall.accent, "WALL_QR_URL": wall.qr_url, "WALL_LAYOUT": wall.layout}
    return {**settings, **{key: value for key, value in own.items() if value is not None},
            "TRACK_KEYWORDS": wall.track_keywords or settings["TRACK_KEYWORDS"]}


def walls_index() -> Response:
    """``<prefix>/api/walls``: the site's live walls (slug, title, tracking, counts)."""
    state = current_state()
    walls = [{**wall.to_json(), "count": state.store.count_on(slug)}
             for slug, wall in state.walls.items()]
    response = jsonify({"walls": walls})
    response.cache_control.no_store = True
    return response


def walls_page() -> Response:
    """``<prefix>/walls``: the site's live walls, with links to their projectors (the
    default wall's is ``<prefix>/wall``, as before walls)."""
    state = current_state()
    walls = [{"slug": slug,
              "title": wall.title or (gettext("Live wall") if slug == DEFAULT_WALL else slug),
              "count": state.store.count_on(slug),
              "url": url_for("twitsocket.wall") if slug == DEFAULT_WALL
              else url_for("twitsocket.wall_of", slug=slug)}
             for slug, wall in state.walls.items()]
    response = make_response(render_template("twitsocket/walls.html", walls=walls))
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    return response


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/api/walls", "api_walls", walls_index)
    blueprint.add_url_rule("/walls", "walls", walls_page)
