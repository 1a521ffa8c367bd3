"""``<prefix>/wall``: the full-screen projector page, ready to put on the venue's screen.

Laid out for a 16:9 screen from a 720p beamer to 4K, in three layouts (``grid``, a masonry
of cards; ``spotlight``, one post large; ``ticker``, one line along the bottom for
overlaying a livestream), chosen by ``TWITSOCKET_WALL_LAYOUT`` or ``?layout=``. Before the
first post it shows the event's identity (title, call to action, QR code: see
:mod:`.identity`). ``?theme=dark|light`` (default: the screen's ``prefers-color-scheme``),
``?n=`` (posts rendered by the server), ``?lang=``, ``?title=``, ``?accent=`` and, for the
ticker, ``?background=transparent``. The pace (each post still for
``TWITSOCKET_WALL_MIN_DWELL`` seconds, a queue in the browser, the shuffle of earlier posts)
is the browser's job: ``static/twitsocket/wall-pacer.js``. It is built only from the public
macros, so a host site can copy ``twitsocket/wall.html`` and restyle it.

The page sends a strict Content-Security-Policy (a host app's own ``after_request`` policy
replaces it): a projector page runs unattended for hours showing strangers' words, and the
policy is the second lock behind the escaping.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, render_template, request, url_for

from ..config_table import WALL_LAYOUTS
from ..i18n import gettext
from ..sources import configured
from ..state import current_state
from ..walls import WallSpec
from .identity import identity, one_of
from .params import lenient_int
from .walls import PAGE_CSP, wall_settings, wall_slug

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
       "connect-src 'self' ws: wss:")


def content_security_policy(settings, logo_url: str | None) -> str:
    """Images from this host only when the media proxy serves them (the event's own logo's
    origin aside); from any https host when browsers fetch them from the networks."""
    if not settings["MEDIA_PROXY"]:
        return CSP.format(images="'self' https: data:")
    logo = urlsplit(logo_url) if logo_url else None
    origin = f" {logo.scheme}://{logo.netloc}" if logo and logo.netloc else ""
    return CSP.format(images=f"'self' data:{origin}")
THEMES = ("auto", "dark", "light")
DEFAULT_POSTS = 12
MAX_POSTS = 60


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    return value if value in choices else default


def pacer_config(settings, layout: str, wall: str | None = None) -> dict[str, str]:
    """What ``wall-pacer.js`` needs, as data- attributes (no inline script)."""
    return {
        "layout": layout,
        "dwell": f"{settings['WALL_MIN_DWELL']:g}",
        "queue-cap": str(settings["WALL_QUEUE_CAP"]),
        "shuffle-after": f"{settings['WALL_SHUFFLE_AFTER']:g}",
        "shuffle-url": url_for("twitsocket.api_tweets", wall=wall),
        "top-url": url_for("twitsocket.api_top", wall=wall),
    }


def wall(slug: str | None = None) -> Response:
    """The projector page: of the default wall, or (``<prefix>/w/<slug>/wall``) of one wall
    of the site, with that wall's own identity over the site's."""
    state = current_state()
    ended = state.archived_walls.get(slug or "")
    if ended is not None:
        return ended_page(ended)
    settings = wall_settings(state.settings, state.walls[wall_slug(slug)])
    theme = _choice("theme", THEMES, "auto")
    layout = _choice("layout", WALL_LAYOUTS, settings["WALL_LAYOUT"])
    transparent = layout == "ticker" and request.args.get("background") == "transparent"
    count = lenient_int(request.args.get("n"), DEFAULT_POSTS, 1, MAX_POSTS)
    event = identity(settings, request.args, configured(settings), gettext)
    response = make_response(render_template(
        "twitsocket/wall.html", theme=theme, n=count, layout=layout, event=event,
        transparent=transparent, pacer=pacer_config(settings, layout, slug), wall=slug,
        show_alt=request.args.get("alt") == "1"))
    response.headers.setdefault("Content-Security-Policy",
                                content_security_policy(settings, event.logo_url))
    return response


def ended_page(ended: WallSpec) -> Response:
    """An archived wall's projector: it says the wall ended (410 Gone), without a socket."""
    response = make_response(render_template(
        "twitsocket/wall_ended.html", title=ended.title or ended.slug), 410)
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    return response


def about() -> Response:
    """What the wall shows and how to opt out of it (linked from every wall)."""
    settings = current_state().settings
    tags = [f"“{tag}”" for tag in settings["CONSENT_BIO_TAGS"]]
    response = make_response(render_template(
        "twitsocket/about.html", bio_tags=one_of(tags, gettext) if tags else ""))
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/wall", "wall", wall)
    blueprint.add_url_rule("/about", "about", about)
    blueprint.add_url_rule("/w/<slug>/wall", "wall_of", wall)
