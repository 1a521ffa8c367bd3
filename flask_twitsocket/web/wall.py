"""``<prefix>/wall``: the full-screen projector page, ready to put on the venue's screen.

Newest posts on top in large type, laid out for a 16:9 screen, with the counter and the
most active people in a side column; ``?theme=dark`` or ``?theme=light`` (default: the
screen's ``prefers-color-scheme``) and ``?n=`` (posts shown). It is built only from the
public macros, so a host site can copy ``twitsocket/wall.html`` and restyle it.

The page sends a strict Content-Security-Policy (a host app's own ``after_request`` policy
replaces it): a projector page runs unattended for hours showing strangers' words, and the
policy is the second lock behind the escaping.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request

from .params import lenient_int

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
       "connect-src 'self' ws: wss:")
THEMES = ("auto", "dark", "light")
DEFAULT_POSTS = 12
MAX_POSTS = 60


def wall() -> Response:
    theme = request.args.get("theme", "auto")
    if theme not in THEMES:
        theme = "auto"
    count = lenient_int(request.args.get("n"), DEFAULT_POSTS, 1, MAX_POSTS)
    response = make_response(render_template("twitsocket/wall.html", theme=theme, n=count))
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/wall", "wall", wall)
