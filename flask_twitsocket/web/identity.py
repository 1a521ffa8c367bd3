"""The event's identity on the projector: title, call to action, logo, accent colour, QR code.

Pure functions of the settings and the request's query string, so they are tested without a
server. A new organiser's first look at the wall is usually an empty hall before the first
post: the identity is what makes that screen say *where* and *how* to post instead of
showing a blank page.

The QR code is drawn here, as SVG markup, by ``segno`` (a maintained, dependency-free
encoder): an outside QR service would leak the event's URL and break on venue Wi-Fi, and an
``<img>`` of it would need ``img-src`` beyond the strict policy. The SVG carries no script
and no style attribute, so the page stays inside its Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import segno
from markupsafe import Markup

from ..converters import as_css_colour

#: How each network is called in the call to action (a brand: never translated).
NETWORK_NAMES = {"mastodon": "Mastodon", "bluesky": "Bluesky", "x": "X"}
#: A title from the URL is typed by hand on a projector PC; a longer one is cut.
MAX_TITLE = 120

Translate = Callable[..., str]


@dataclass(frozen=True)
class Identity:
    title: str
    call_to_action: str
    logo_url: str | None
    accent: str | None
    qr_url: str | None
    qr_svg: Markup | None


def tag_to_post(keywords: Iterable[str]) -> str | None:
    """What people should type: the first #hashtag tracked, else the first keyword."""
    keywords = [keyword.strip() for keyword in keywords if keyword.strip()]
    hashtags = [keyword for keyword in keywords if keyword.startswith("#")]
    return (hashtags or keywords or [None])[0]


def networks_named(sources: Iterable[str]) -> list[str]:
    """The networks a visitor can post on: only those the stream actually follows."""
    return [NETWORK_NAMES[name] for name in NETWORK_NAMES if name in set(sources)]


def call_to_action(keywords: Iterable[str], sources: Iterable[str], t: Translate) -> str:
    """ "Post with #devconf26 on Mastodon, Bluesky or X", in the page's language."""
    tag = tag_to_post(keywords)
    names = networks_named(sources)
    if tag is None:
        return t("Posts about this event appear here")
    if not names:
        return t("Post with %(tag)s to appear here", tag=tag)
    return t("Post with %(tag)s on %(networks)s", tag=tag, networks=one_of(names, t))


def one_of(names: list[str], t: Translate) -> str:
    """"a, b or c", in the page's language."""
    return names[0] if len(names) == 1 else t(
        "%(first)s or %(last)s", first=", ".join(names[:-1]), last=names[-1])


def qr_svg(url: str) -> Markup:
    """``url`` as an SVG QR code that scales to its box (black on white: every phone's
    camera reads it, whatever the wall's theme), with the URL as its accessible name."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=1, border=4, dark="#000", light="#fff", omitsize=True,
                          svgclass="wall-qr-code", title=url)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def _override(args: Mapping[str, str], name: str) -> str | None:
    value = (args.get(name) or "").strip()
    return value or None


def accent(settings: Mapping[str, Any], args: Mapping[str, str]) -> str | None:
    """``?accent=`` when it is a valid CSS colour, else the configured one."""
    wanted = _override(args, "accent")
    if wanted is not None:
        try:
            return as_css_colour(wanted)
        except ValueError:
            pass
    return settings["WALL_ACCENT"]


def identity(settings: Mapping[str, Any], args: Mapping[str, str], sources: Iterable[str],
             t: Translate) -> Identity:
    """The identity for one page view: configuration, overridden by ``?title=`` and
    ``?accent=``. The logo and the QR code come from configuration only: a URL typed into
    the projector's address bar must not be able to point the hall's phones elsewhere."""
    title = (_override(args, "title") or settings["WALL_TITLE"] or t("Live wall"))[:MAX_TITLE]
    qr_url = settings["WALL_QR_URL"]
    return Identity(
        title=title,
        call_to_action=call_to_action(settings["TRACK_KEYWORDS"], sources, t),
        logo_url=settings["WALL_LOGO_URL"],
        accent=accent(settings, args),
        qr_url=qr_url,
        qr_svg=qr_svg(qr_url) if qr_url else None,
    )
