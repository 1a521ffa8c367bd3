"""Hardening headers on the wall, the JSON API and the console, through HTTP; and
``TWITSOCKET_ALLOWED_ORIGINS`` widening only the walls' websocket, never the console."""

from __future__ import annotations

import pytest
from conftest import make_app
from moderation_helpers import MODERATED, PREFIX, Console, Listener, csrf_of
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from flask_twitsocket import ConfigError

EMBEDDER = "https://blog.example.org"
PUBLIC_PATHS = ["/wall", "/api/tweets", "/api/top", "/health", "/static/twitsocket.js"]
CONSOLE_PATHS = ["/moderate", "/moderate/api/state"]


@pytest.fixture
def app_config():
    return dict(MODERATED)


def frame_ancestors(answer) -> str:
    policy = answer.headers["Content-Security-Policy"]
    directives = [part.strip() for part in policy.split(";")]
    found = [d for d in directives if d.startswith("frame-ancestors")]
    assert len(found) == 1, policy
    return found[0]


@pytest.mark.parametrize("path", PUBLIC_PATHS + CONSOLE_PATHS)
def test_every_response_is_hardened(app, path):
    answer = app.test_client().get(PREFIX + path)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    console = path.startswith("/moderate")
    assert frame_ancestors(answer) == ("frame-ancestors 'none'" if console
                                       else "frame-ancestors 'self'")
    assert answer.headers["X-Frame-Options"] == ("DENY" if console else "SAMEORIGIN")


def test_the_walls_own_policy_is_kept_and_extended(app):
    policy = app.test_client().get(f"{PREFIX}/wall").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy


@pytest.mark.parametrize("app_config", [
    {**MODERATED, "TWITSOCKET_FRAME_ANCESTORS": f"{EMBEDDER}, https://*.example.net"}])
def test_sites_that_embed_the_wall_can_be_allowed_but_never_for_the_console(app):
    client = app.test_client()
    for path in PUBLIC_PATHS:
        answer = client.get(PREFIX + path)
        assert frame_ancestors(answer) == (
            f"frame-ancestors 'self' {EMBEDDER} https://*.example.net"), path
        assert "X-Frame-Options" not in answer.headers  # it cannot name other sites
    logged_in = Console(app.test_client()).open()
    for path in CONSOLE_PATHS:
        answer = logged_in.client.get(PREFIX + path)
        assert answer.status_code == 200
        assert frame_ancestors(answer) == "frame-ancestors 'none'", path
        assert answer.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("bad", ["https://a.example/path", "'unsafe-inline'",
                                 "https://a.example; script-src *", "javascript:x"])
def test_a_bad_frame_ancestor_stops_start_up_naming_the_key(database_url, bad):
    with pytest.raises(ConfigError) as error:
        make_app(database_url, TWITSOCKET_FRAME_ANCESTORS=[bad])
    assert "TWITSOCKET_FRAME_ANCESTORS" in str(error.value)


# --- ALLOWED_ORIGINS is for walls ---------------------------------------------------------


@pytest.mark.parametrize("allowed", [EMBEDDER, "*"])
def test_allowed_origins_open_the_walls_socket_but_not_the_console(database_url, allowed):
    app = make_app(database_url, **MODERATED, TWITSOCKET_ALLOWED_ORIGINS=allowed)
    app.extensions["twitsocket"].create_tables()
    console = Console(app.test_client()).open()
    client = console.client
    from_embedder = {"Origin": EMBEDDER}
    # the console's POSTs (login, actions, logout) refuse the other origin
    page = app.test_client().get(f"{PREFIX}/moderate")
    login = app.test_client().post(f"{PREFIX}/moderate/login", headers=from_embedder,
                                   data={"password": "x", "csrf_token": csrf_of(page.text)})
    assert login.status_code == 403
    hide = client.post(f"{PREFIX}/moderate/api/hide", json={"target": "x:1"},
                       headers={**from_embedder, "X-CSRF-Token": console.token})
    assert hide.status_code == 403
    assert client.get(f"{PREFIX}/moderate/api/state", headers=from_embedder).status_code == 403
    # the site's own origin still works
    own = client.post(f"{PREFIX}/moderate/api/hide", json={"target": "x:1"},
                      headers={"Origin": "http://localhost", "X-CSRF-Token": console.token})
    assert own.status_code != 403, own.get_json()
    app.extensions["twitsocket"].engine.dispose()


@pytest.mark.parametrize("app_config", [
    {**MODERATED, "TWITSOCKET_ALLOWED_ORIGINS": EMBEDDER}])
def test_the_consoles_socket_ignores_allowed_origins(app, live_server):
    console = Console(app.test_client()).open()
    cookie = {"Cookie": console.session_cookie()}
    wall = Listener(f"{live_server.ws_url}{PREFIX}/ws", origin=EMBEDDER)
    assert wall.next()["type"]  # the embedding site's wall connects
    wall.close()
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{live_server.ws_url}{PREFIX}/moderate/ws", open_timeout=10,
                additional_headers=cookie, origin=EMBEDDER)
    assert refused.value.response.status_code == 403
    moderator = Listener(f"{live_server.ws_url}{PREFIX}/moderate/ws",
                         additional_headers=cookie, origin=live_server.url)
    assert moderator.next()["type"]
    moderator.close()
