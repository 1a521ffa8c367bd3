"""``<prefix>/wall``, the projector page, as HTML: its CSP header, its options, and nothing
inline that a strict Content-Security-Policy would block (the browser tests run it)."""

from __future__ import annotations

import re

import pytest
from conftest import make_app, x_post
from test_web import store

from flask_twitsocket.web.wall import CSP


def test_the_wall_sends_a_strict_csp_a_host_policy_replaces(app, database_url):
    response = app.test_client().get("/twitsocket/wall")
    assert response.status_code == 200
    # the blueprint adds who may frame it (web/security_headers.py)
    policy = CSP.format(images="'self' data:")  # the media proxy serves every image
    assert response.headers["Content-Security-Policy"] == f"{policy}; frame-ancestors 'self'"
    assert "script-src 'self';" in CSP and "unsafe-inline" not in CSP
    host = make_app(database_url)

    @host.after_request
    def host_policy(response):
        response.headers["Content-Security-Policy"] = "default-src 'self'"
        return response

    assert host.test_client().get("/twitsocket/wall").headers[
        "Content-Security-Policy"] == "default-src 'self'"


@pytest.mark.parametrize(("query", "theme"), [
    ("", "auto"), ("?theme=dark", "dark"), ("?theme=light", "light"), ("?theme=<x>", "auto")])
def test_themes(app, query, theme):
    html = app.test_client().get("/twitsocket/wall" + query).get_data(as_text=True)
    assert re.search(f'class="twitsocket-wall theme-{theme}[ "]', html)


def test_post_count_option_is_bounded(app):
    store(app, *[x_post(i) for i in range(1, 80)])
    client = app.test_client()
    for query, expected in (("", 12), ("?n=5", 5), ("?n=1000", 60), ("?n=-1", 12)):
        html = client.get("/twitsocket/wall" + query).get_data(as_text=True)
        assert len(re.findall(r"<article ", html)) == expected, query


def test_nothing_inline(app):
    store(app, x_post(1, text='<b onclick="x()">hi</b>', name='<i style="color:red">x</i>'))
    html = app.test_client().get("/twitsocket/wall").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every script has a src
    assert not re.search(r"<[^>]+\sstyle=", html)
    assert not re.search(r"<[^>]+\son\w+=", html)
    assert "<style" not in html
