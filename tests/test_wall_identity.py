"""The projector's identity, without a browser: the call to action names only the networks
followed, the QR code decodes to the configured URL, bad colours are refused at start-up,
URL overrides cannot reach the QR code, and ``?lang=`` picks the language."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from conftest import make_app

from flask_twitsocket.config import ConfigError
from flask_twitsocket.converters import as_css_colour
from flask_twitsocket.web.identity import call_to_action, qr_svg


def plain(message: str, **values: str) -> str:
    return message % values if values else message


@pytest.mark.parametrize(("keywords", "sources", "expected"), [
    (["devconf", "#devconf26"], ["mastodon", "bluesky", "x"],
     "Post with #devconf26 on Mastodon, Bluesky or X"),
    (["#devconf26"], ["bluesky"], "Post with #devconf26 on Bluesky"),
    (["#devconf26"], ["x", "mastodon"], "Post with #devconf26 on Mastodon or X"),
    (["devconf"], ["replay"], "Post with devconf to appear here"),
    ([], ["x"], "Posts about this event appear here"),
])
def test_call_to_action_names_only_the_networks_followed(keywords, sources, expected):
    assert call_to_action(keywords, sources, plain) == expected


def svg_pixels(svg: str, scale: int = 8) -> memoryview:
    """Rasterise segno's path (horizontal runs of `h`) into a grayscale bitmap."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    dark = [[False] * size for _ in range(size)]
    path = re.search(r'stroke="#000" d="([^"]+)"', svg).group(1)
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x + float(a))):
                dark[int(y)][column] = True
            x += float(a)
    pixels = bytearray()
    for row in dark:
        line = bytearray()
        for cell in row:
            line += bytes([0 if cell else 255]) * scale
        pixels += bytes(line) * scale
    return memoryview(bytes(pixels)).cast("B", (size * scale, size * scale))


def test_the_qr_code_decodes_to_the_url_and_carries_no_script():
    url = "https://devconf.example/join?from=wall&lang=fr"
    svg = str(qr_svg(url))
    assert [code.text for code in zxingcpp.read_barcodes(svg_pixels(svg))] == [url]
    assert "<script" not in svg and "style=" not in svg and " on" not in svg.lower()
    assert 'role="img"' in svg


@pytest.mark.parametrize("colour", ["#d0006f", "#abc", "rgb(10 20 30)", "teal",
                                    "hsl(120, 50%, 40%)"])
def test_accent_colours_accepted(colour):
    assert as_css_colour(colour) == colour


@pytest.mark.parametrize("colour", ["red; background: url(x)", "#12", "expression(alert(1))",
                                    "}body{display:none", "url(https://a.example/x)"])
def test_accent_colours_refused(colour):
    with pytest.raises(ValueError, match="CSS colour"):
        as_css_colour(colour)


def test_a_bad_accent_stops_start_up(database_url):
    with pytest.raises(ConfigError, match="WALL_ACCENT"):
        make_app(database_url, TWITSOCKET_WALL_ACCENT="red;}")


def wall(app, query: str = "", **headers: str) -> str:
    return app.test_client().get("/twitsocket/wall" + query, headers=headers).get_data(
        as_text=True)


def test_identity_from_config_with_url_overrides(database_url):
    app = make_app(database_url, TWITSOCKET_WALL_TITLE="DevConf 2026",
                   TWITSOCKET_TRACK_KEYWORDS=["#devconf26"], TWITSOCKET_SOURCES=["mastodon"],
                   TWITSOCKET_WALL_QR_URL="https://devconf.example/",
                   TWITSOCKET_WALL_LOGO_URL="https://devconf.example/logo.svg",
                   TWITSOCKET_WALL_ACCENT="#d0006f")
    app.extensions["twitsocket"].create_tables()
    html = wall(app)
    assert "<title>DevConf 2026</title>" in html
    assert "Post with #devconf26 on Mastodon" in html
    assert 'data-accent="#d0006f"' in html
    assert 'src="https://devconf.example/logo.svg"' in html
    assert html.count('class="wall-qr-code"') == 2  # empty state and side column
    assert "wall-is-empty" in html
    # the URL can retitle and recolour, but never re-point the QR code
    html = wall(app, "?title=<b>Hall+B</b>&accent=red;}&qr=https://evil.example/")
    assert "<title>&lt;b&gt;Hall B&lt;/b&gt;</title>" in html
    assert 'data-accent="#d0006f"' in html  # the invalid override is ignored
    assert "evil.example" not in html


@pytest.mark.parametrize(("query", "layout"), [
    ("", "grid"), ("?layout=spotlight", "spotlight"), ("?layout=ticker", "ticker"),
    ("?layout=<x>", "grid")])
def test_layout_from_the_url(app, query, layout):
    assert f'data-layout="{layout}"' in wall(app, query)


def test_lang_parameter_beats_the_browser(app):
    html = wall(app, "?lang=de", **{"Accept-Language": "fr-FR"})
    assert '<html lang="de"' in html and "Am aktivsten" in html
    assert '<html lang="fr"' in wall(app, "?lang=xx", **{"Accept-Language": "fr-FR"})


def test_the_embed_feed_is_not_a_live_region_but_announces_separately(app):
    from flask import render_template_string
    from test_web import MACROS

    with app.test_request_context("/"):
        html = render_template_string(MACROS + "{{ render_tweets(5) }}")
    section = re.search(r"<section[^>]*>", html).group(0)
    assert "aria-live" not in section
    assert 'data-twitsocket-announcer role="status" aria-live="polite"' in html
    assert 'aria-live' not in re.search(r'<main class="wall-posts"[^>]*>', wall(app)).group(0)
