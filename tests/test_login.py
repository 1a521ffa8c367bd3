"""The console's password login through HTTP: the limit on guesses behind a proxy, across
workers and under a concurrent burst; the session cookie's flags; logout and expiry
revoking the session server-side."""

from __future__ import annotations

import threading
from collections import Counter
from http.cookies import SimpleCookie

import pytest
import requests
from conftest import make_app, wait_until
from moderation_helpers import MODERATED, MODERATOR_COOKIE, PASSWORD, PREFIX, Console, csrf_of
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from werkzeug.security import generate_password_hash

from flask_twitsocket.models import LoginAttempt

BEHIND_NGINX = {**MODERATED, "TWITSOCKET_TRUSTED_PROXY_HOPS": 1}
NGINX = "127.0.0.1"  # every request reaches the app from the proxy
ALICE, BOB = "203.0.113.5", "198.51.100.7"


@pytest.fixture
def app_config():
    return dict(BEHIND_NGINX)


def guess(app, password: str, client_ip: str, forged: str = "") -> int:
    """A login through nginx: it appends the client's address to X-Forwarded-For."""
    forwarded = f"{forged}, {client_ip}" if forged else client_ip
    return Console(app.test_client()).login(password, NGINX, forwarded).status_code


# --- the limit ------------------------------------------------------------------------


def test_behind_a_proxy_one_client_locked_out_does_not_lock_out_another(app):
    assert [guess(app, "wrong", ALICE) for _ in range(5)] == [401] * 5
    assert guess(app, PASSWORD, ALICE) == 429  # even the right password, from Alice
    # extra X-Forwarded-For entries are Alice's own words: nginx's last entry is believed
    assert guess(app, "wrong", ALICE, forged="192.0.2.44") == 429
    assert guess(app, "wrong", ALICE, forged="192.0.2.44, 192.0.2.45") == 429
    # Bob, through the same nginx, is another client
    assert guess(app, PASSWORD, BOB) == 303


def test_an_ipv6_client_is_counted_by_its_64(app):
    for host in range(5):
        assert guess(app, "wrong", f"2001:db8:1:2::{host + 1}") == 401
    assert guess(app, "wrong", "2001:db8:1:2:ffff::9") == 429  # same /64: same subscriber
    assert guess(app, PASSWORD, "2001:db8:1:3::1") == 303  # the neighbouring /64


def test_a_right_password_does_not_count_as_a_failure(app):
    for _ in range(3):
        assert guess(app, PASSWORD, ALICE) == 303
    assert [guess(app, "wrong", ALICE) for _ in range(5)] == [401] * 5
    assert guess(app, "wrong", ALICE) == 429


def test_two_workers_share_the_limit(app, database_url):
    """Two app instances on one database, as two gunicorn workers (or hosts) are."""
    other = make_app(database_url, **BEHIND_NGINX)
    try:
        assert [guess(app, "wrong", ALICE) for _ in range(3)] == [401] * 3
        assert [guess(other, "wrong", ALICE) for _ in range(2)] == [401] * 2
        assert guess(app, "wrong", ALICE) == 429
        assert guess(other, PASSWORD, ALICE) == 429
        assert guess(other, PASSWORD, BOB) == 303
    finally:
        other.extensions["twitsocket"].engine.dispose()


@pytest.mark.parametrize("app_config", [{
    **BEHIND_NGINX,
    # a deliberately slow hash, as a real deployment should use: it widens the window in
    # which a check-then-act limiter lets concurrent guesses through
    "TWITSOCKET_MODERATOR_PASSWORD": generate_password_hash(PASSWORD, "pbkdf2:sha256:300000"),
}])
def test_a_concurrent_burst_of_guesses_checks_at_most_the_limit(app, live_server):
    burst = 50
    first = requests.get(f"{live_server.url}{PREFIX}/moderate", timeout=30)
    token, cookies = csrf_of(first.text), first.cookies
    start = threading.Barrier(burst)
    answers: Counter[int] = Counter()

    def attempt() -> None:
        start.wait()
        answer = requests.post(f"{live_server.url}{PREFIX}/moderate/login", cookies=cookies,
                               data={"password": "wrong", "csrf_token": token},
                               headers={"X-Forwarded-For": ALICE}, timeout=120)
        answers[answer.status_code] += 1

    threads = [threading.Thread(target=attempt) for _ in range(burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # a 401 is a checked password: only the five attempts that got a slot were checked
    assert answers == {401: 5, 429: burst - 5}, answers


@pytest.mark.parametrize("app_config", [{**BEHIND_NGINX, "TWITSOCKET_LOGIN_WINDOW": 1}])
def test_past_windows_are_pruned_as_logins_go_on(app):
    for host in range(20):
        guess(app, "wrong", f"192.0.2.{host + 1}")
    engine = app.extensions["twitsocket"].engine
    attempts = LoginAttempt.__table__
    fresh = iter(range(1, 255))

    def only_the_current_window_is_kept() -> bool:
        guess(app, "wrong", f"198.51.100.{next(fresh)}")  # a new client opens a window
        with engine.connect() as conn:
            windows, rows = conn.execute(select(
                func.count(attempts.c.window_start.distinct()), func.count())).one()
        return windows == 1 and rows < 20

    wait_until(only_the_current_window_is_kept, message="the old window's rows to go")


# --- the session cookie -----------------------------------------------------------------


def login_cookie(answer) -> dict[str, str]:
    """The moderator cookie's attributes, as the browser receives them."""
    for header in answer.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if MODERATOR_COOKIE in cookie:
            morsel = cookie[MODERATOR_COOKIE]
            flags = {key: str(value) for key, value in morsel.items() if value}
            return {"value": morsel.value, **flags}
    raise AssertionError("no moderator cookie was set")


@pytest.mark.parametrize(("base_url", "proto", "secure"), [
    ("http://localhost", None, False),
    ("https://localhost", None, True),
    ("http://localhost", "https", True),   # nginx terminated TLS, and nginx is trusted
])
def test_the_login_cookie_is_httponly_samesite_and_secure_over_https(
        app, base_url, proto, secure):
    client = app.test_client()
    headers = {"X-Forwarded-Proto": proto} if proto else {}
    page = client.get(f"{PREFIX}/moderate", base_url=base_url, headers=headers)
    answer = client.post(f"{PREFIX}/moderate/login", base_url=base_url, headers=headers,
                         data={"password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303
    cookie = login_cookie(answer)
    assert cookie["httponly"] == "True"
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == f"{PREFIX}/moderate"
    assert ("secure" in cookie) is secure
    assert "max-age" not in cookie and "expires" not in cookie  # ends with the browser


@pytest.mark.parametrize("app_config", [dict(MODERATED)])  # no trusted proxy
def test_an_untrusted_forwarded_proto_does_not_mark_the_cookie_secure(app):
    client = app.test_client()
    page = client.get(f"{PREFIX}/moderate")
    answer = client.post(f"{PREFIX}/moderate/login", headers={"X-Forwarded-Proto": "https"},
                         data={"password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert "secure" not in login_cookie(answer)


# --- revocation -------------------------------------------------------------------------


def test_logout_revokes_a_copied_cookie(app, live_server):
    console = Console(app.test_client()).open()
    copied = {"Cookie": console.session_cookie()}
    thief = app.test_client(use_cookies=False)
    assert thief.get(f"{PREFIX}/moderate/api/state", headers=copied).status_code == 200

    logout = console.client.post(f"{PREFIX}/moderate/logout",
                                 data={"csrf_token": console.token})
    assert logout.status_code == 303
    assert login_cookie(logout)["value"] == ""  # the browser forgets it too

    assert thief.get(f"{PREFIX}/moderate/api/state", headers=copied).status_code == 401
    pin = thief.post(f"{PREFIX}/moderate/api/pin", json={"target": "x:1"},
                     headers={**copied, "X-CSRF-Token": console.token})
    assert pin.status_code == 401
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{live_server.ws_url}{PREFIX}/moderate/ws", open_timeout=10,
                additional_headers=copied)
    assert refused.value.response.status_code == 401
    # logging in again works, with a new session
    assert Console(app.test_client()).open().state() is not None


def test_logout_closes_a_console_socket_already_open(app, live_server):
    console = Console(app.test_client()).open()
    copied = {"Cookie": console.session_cookie()}
    with connect(f"{live_server.ws_url}{PREFIX}/moderate/ws", open_timeout=10,
                 additional_headers=copied) as socket:
        socket.recv(timeout=10)  # the opening count: the console is live
        console.client.post(f"{PREFIX}/moderate/logout", data={"csrf_token": console.token})
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # whatever was already on its way, then the close
                socket.recv(timeout=15)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "logged out")


def test_a_forged_session_token_is_refused(app):
    Console(app.test_client()).open()
    forged = {"Cookie": f"{MODERATOR_COOKIE}=not-a-session"}
    assert app.test_client(use_cookies=False).get(f"{PREFIX}/moderate/api/state",
                                 headers=forged).status_code == 401


@pytest.mark.parametrize("app_config", [
    {**BEHIND_NGINX, "TWITSOCKET_MODERATOR_SESSION_HOURS": 2 / 3600}])
def test_a_session_ends_after_its_lifetime(app):
    console = Console(app.test_client()).open()
    wait_until(lambda: console.client.get(f"{PREFIX}/moderate/api/state").status_code == 401,
               message="the session to expire")
