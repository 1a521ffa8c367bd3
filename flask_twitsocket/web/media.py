"""``<prefix>/media/…``: the media proxy, and where pages take each image's address from.

Why a proxy (``TWITSOCKET_MEDIA_PROXY``, on by default): the audience's browsers then fetch
every image from the wall's own host, so the pages keep a strict CSP (``img-src 'self'``),
the networks do not see every phone in the hall, and a CDN's hiccup does not blank the
projector (images are kept on disk, see :mod:`.media_fetch`).

No URL is ever taken from the request (that would be an open proxy, and a way into the
wall's own network): a request names a stored post by its ``seq`` and which of its images
(``part``), and the URL is read from that post. Parts: ``a`` the avatar, ``m<i>`` the
preview of media item ``i``, ``f<i>`` its full size (photos), ``c`` the link card's image,
``q<i>`` the quoted post's media item ``i``, ``qa`` the quoted author's avatar, ``e<i>``
custom emoji ``i``; and
``top/<rank>`` the avatar of a top user.

Serving: the request is checked here (a visible post, a known part), the image comes from
the disk cache, and the bytes go out by the web server's efficient path — nginx itself
when ``TWITSOCKET_MEDIA_ACCEL_REDIRECT`` names its internal location (the answer is only an
``X-Accel-Redirect`` header), else ``send_file`` (``sendfile`` under gunicorn, ``ETag``
and ``Range``, ``304`` to a browser that has it). Browsers keep a post's image for a day
but not ``immutable``: an edit (Mastodon) may change the image under the same address, and
the ETag (the hash of the image's URL) then tells a revalidating browser so; a top rank's
avatar changes with the ranking, so browsers ask again after a minute and mostly get a
``304``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, send_file, url_for
from markupsafe import Markup, escape

from ..render import safe_url
from ..state import current_state
from .media_fetch import MediaFetcher, Refused, default_cache_dir
from .walls import requested_wall

_PART = re.compile(r"(a|qa|c|[mfqe])(\d{0,2})")
CACHE_SECONDS = 24 * 3600
#: ``/media/<seq>/<part>``: the same image unless the post is edited.
POST_CACHE = f"public, max-age={CACHE_SECONDS}"
#: ``/media/top/<rank>``: whose avatar it is changes with the ranking.
TOP_CACHE = "public, max-age=60"


def part_url(post: dict[str, Any], part: str) -> str | None:
    """The stored https URL that ``part`` of ``post`` (its public JSON) names, if any."""
    match = _PART.fullmatch(part)
    if match is None:
        return None
    kind, index = match.group(1), int(match.group(2) or 0)
    quote = post.get("quote") or {}
    if kind == "a":
        return (post.get("author") or {}).get("avatar_url")
    if kind == "qa":
        return (quote.get("author") or {}).get("avatar_url")
    if kind == "c":
        return (post.get("card") or {}).get("image")
    if kind == "e":
        emojis = post.get("emojis") or []
        return emojis[index].get("url") if index < len(emojis) else None
    items = (quote if kind == "q" else post).get("media") or []
    if index >= len(items):
        return None
    return items[index].get("url" if kind == "f" else "preview_url")


def media_src(post: dict[str, Any], part: str) -> str | None:
    """What an ``<img src>`` for ``part`` of ``post`` says: the proxy's address when it is
    on and the post has a ``seq`` (a post still in the moderation queue has none: the
    console then loads it from the network), else the stored URL."""
    url = safe_url(part_url(post, part))
    if not url:
        return None
    if current_state().settings["MEDIA_PROXY"] and post.get("seq"):
        return url_for("twitsocket.media", seq=post["seq"], part=part)
    return url


def html_with_emojis(post: dict[str, Any]) -> Markup:
    """The post's stored (safe) HTML with each custom ``:shortcode:`` shown as its small
    image, the shortcode as its alt text. Shortcodes are letters, digits and ``_`` only
    (the normaliser keeps no other), so they read the same escaped or not."""
    html = post.get("html") or ""
    for index, emoji in enumerate(post.get("emojis") or ()):
        src = media_src(post, f"e{index}")
        if src:
            code = escape(f":{emoji['shortcode']}:")
            html = html.replace(str(code), f'<img class="emoji" src="{escape(src)}" '
                                           f'alt="{code}" title="{code}">')
    return Markup(html)


def fetcher() -> MediaFetcher:
    """This app's fetcher (one per app: its cache directory and bound are settings)."""
    extensions = current_app.extensions
    found = extensions.get("twitsocket_media")
    if found is None:
        settings = current_state().settings
        found = MediaFetcher(settings["MEDIA_CACHE_DIR"] or default_cache_dir(),
                             settings["MEDIA_CACHE_MB"] * 1024 * 1024)
        extensions["twitsocket_media"] = found
    return found


def _serve(url: str | None, cache_control: str) -> Response:
    if not url:
        abort(404)
    try:
        image = fetcher().get(url)
    except Refused as error:
        current_app.logger.info("Media proxy refused %s: %s", url[:200], error)
        abort(502)
    accel = current_state().settings["MEDIA_ACCEL_REDIRECT"]
    if image.path is None:  # the cache could not keep it
        response = Response(image.body, mimetype=image.content_type)
    elif accel:  # nginx sends the file (the name is a hash: nothing from the request)
        response = Response(mimetype=image.content_type)
        response.headers["X-Accel-Redirect"] = accel + image.path.name
    else:
        response = send_file(image.path, mimetype=image.content_type, conditional=True,
                             etag=image.path.stem)
    response.headers["Cache-Control"] = cache_control
    # an image, never a document: nothing in it may run if opened on its own
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def media(seq: int, part: str) -> Response:
    if not current_state().settings["MEDIA_PROXY"]:
        abort(404)
    post = current_state().store.post(seq)
    return _serve(part_url(post, part) if post is not None else None, POST_CACHE)


#: Top lists are at most this long (the stream keeps the site's 100 first).
TOP_RANKS = 100


def top_avatar(rank: int) -> Response:
    """The avatar of the ``rank``-th top user of the site, or of one wall (``?wall=``)."""
    if not current_state().settings["MEDIA_PROXY"] or not 0 < rank <= TOP_RANKS:
        abort(404)
    users = current_state().store.top_users_on(requested_wall(), rank)
    return _serve(users[rank - 1].avatar_url if rank <= len(users) else None,
                  TOP_CACHE)


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/media/<int:seq>/<part>", "media", media)
    blueprint.add_url_rule("/media/top/<int:rank>", "media_top", top_avatar)
