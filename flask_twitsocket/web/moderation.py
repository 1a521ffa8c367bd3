"""``<prefix>/moderate``: the moderation console, its JSON actions and its live socket.

Who may moderate is the host app's call: ``TwitSocket(app, moderator_required=check)`` (or
the ``@twitsocket.moderator_check`` decorator) returns the moderator's name for a request
it lets in. Without it, ``TWITSOCKET_MODERATOR_PASSWORD`` is a single shared key: the
comparison is constant-time over hashes (or a werkzeug password hash when the setting is
one), the login lives in the app's signed session cookie, bound to the password (changing
it logs every console out), and failed logins are limited per address
(:data:`LOGIN_FAILURES` a minute, per worker process). Without either, everyone is refused.

Every POST carries the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token``
field) and, from a browser, an Origin of this site. Every URL here answers 401/403
without credentials — the page, the JSON, the actions and the moderator websocket (the
refusal happens before the websocket upgrade). Pages send a strict CSP, no caching, and
refuse framing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash

from ..extension import TwitSocket
from ..moderation import ModerationError
from .websocket import _sock, feed, origin_allowed

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
       "connect-src 'self' ws: wss:; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
SESSION_KEY = "twitsocket_moderator"
SESSION_PROOF = "twitsocket_moderator_proof"
CSRF_KEY = "twitsocket_csrf"
#: Failed logins allowed per address within :data:`LOGIN_WINDOW` seconds.
LOGIN_FAILURES = 5
LOGIN_WINDOW = 60.0
#: Endpoints that decide about credentials themselves (they show the login form).
OPEN_ENDPOINTS = {"twitsocket.moderate", "twitsocket.moderate_login"}
#: Password hashes werkzeug writes; anything else in the setting is the password itself.
HASH_PREFIXES = ("pbkdf2:", "scrypt:")


class LoginLimiter:
    """Failed logins per address in a sliding window (this process's memory)."""

    def __init__(self, limit: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures[address]
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures

    def retry_after(self, address: str) -> int:
        """Seconds until ``address`` may try again; 0 when it may now."""
        with self._lock:
            failures = self._recent(address)
            if not failures:
                del self._failures[address]  # forget addresses that stopped failing
            if len(failures) < self.limit:
                return 0
            return max(1, int(failures[0] + self.window - time.monotonic()) + 1)

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(time.monotonic())


def password_matches(candidate: str, configured: str) -> bool:
    if configured.startswith(HASH_PREFIXES):
        return check_password_hash(configured, candidate)
    digest = hashlib.sha256
    return hmac.compare_digest(digest(candidate.encode()).digest(),
                               digest(configured.encode()).digest())


def _password_proof(password: str) -> str:
    """What the session keeps to show the login was made with the current password."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, b"twitsocket-moderator:" + password.encode(), "sha256").hexdigest()


def current_moderator() -> str | None:
    """The moderator behind this request (the host's check first, then the password)."""
    state = TwitSocket.state()
    verdict = state.moderator_required()
    if verdict:
        return verdict if isinstance(verdict, str) else "moderator"
    password = state.settings["MODERATOR_PASSWORD"]
    proof = session.get(SESSION_PROOF)
    if password and isinstance(proof, str) and hmac.compare_digest(
            proof, _password_proof(password)):
        return str(session.get(SESSION_KEY) or "moderator")
    return None


def csrf_token() -> str:
    """This session's CSRF token; "" without a SECRET_KEY (then every POST is refused)."""
    if not current_app.secret_key:
        return ""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def _csrf_ok() -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get(CSRF_KEY)
    return isinstance(expected, str) and hmac.compare_digest(sent.encode(), expected.encode())


def _refuse(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'FormBased realm="twitsocket-moderate"'
    return response


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.no_store = True
    return response


def _page(template: str, status: int, **context: Any) -> Response:
    state = TwitSocket.state()
    response = make_response(render_template(
        template, csrf_token=csrf_token(), mode=state.settings["MODERATION"],
        has_password=bool(state.settings["MODERATOR_PASSWORD"]), **context), status)
    return _secure(response)


def _login_page(status: int, error: str | None = None) -> Response:
    return _page("twitsocket/moderate.html", status, moderator=None, error=error)


def console() -> Response:
    who = current_moderator()
    if who is None:
        has_password = bool(TwitSocket.state().settings["MODERATOR_PASSWORD"])
        return _login_page(401 if has_password else 403)
    # a path: the console picks ws:// or wss:// from its own page's scheme
    ws_path = urlsplit(url_for("twitsocket.moderate_ws")).path
    return _page("twitsocket/moderate.html", 200, moderator=who, error=None, ws_path=ws_path)


def make_login(limiter: LoginLimiter):
    def login() -> Response:
        password = TwitSocket.state().settings["MODERATOR_PASSWORD"]
        if not password:
            return _login_page(403)
        address = request.remote_addr or "?"
        wait = limiter.retry_after(address)
        if wait:
            response = _login_page(429, "Too many failed attempts; wait a minute.")
            response.headers["Retry-After"] = str(wait)
            return response
        candidate = request.form.get("password", "")
        if not password_matches(candidate, password):
            limiter.failed(address)
            return _login_page(401, "Wrong password.")
        session[SESSION_KEY] = "moderator"
        session[SESSION_PROOF] = _password_proof(password)
        session[CSRF_KEY] = secrets.token_urlsafe(32)  # a new token for the new login
        return _secure(redirect(url_for("twitsocket.moderate"), 303))

    return login


def logout() -> Response:
    for key in (SESSION_KEY, SESSION_PROOF, CSRF_KEY):
        session.pop(key, None)
    return _secure(redirect(url_for("twitsocket.moderate"), 303))


def state_json() -> Response:
    return _secure(jsonify(TwitSocket.state().moderation.snapshot()))


def action(name: str) -> Response:
    payload = request.get_json(silent=True) if request.is_json else None
    target = (payload or {}).get("target") if isinstance(payload, dict) else None
    if target is None:
        target = request.form.get("target", "")
    if not isinstance(target, str):
        return _refuse(400, "target must be a string")
    try:
        entry = TwitSocket.state().moderation.act(current_moderator() or "?", name, target)
    except ModerationError as error:
        return _refuse(error.status, str(error))
    return _secure(jsonify({"ok": True, "entry": entry}))


def moderator_feed(ws) -> None:
    feed(ws, moderator=True)


def register(blueprint: Blueprint) -> None:
    limiter = LoginLimiter()

    @blueprint.before_request
    def _guard() -> Response | None:
        endpoint = request.endpoint or ""
        if not endpoint.startswith("twitsocket.moderate"):
            return None
        state = TwitSocket.state()
        if state.settings["MODERATION"] == "off":
            abort(404)
        if not origin_allowed(state.settings["ALLOWED_ORIGINS"]):
            return _refuse(403, "cross-site request refused")
        if endpoint not in OPEN_ENDPOINTS and current_moderator() is None:
            if state.settings["MODERATOR_PASSWORD"]:
                return _refuse(401, "log in to moderate")
            return _refuse(403, "moderation is not open to this request")
        if request.method == "POST" and not _csrf_ok():
            return _refuse(403, "missing or wrong CSRF token; reload the console")
        return None

    blueprint.add_url_rule("/moderate", "moderate", console)
    blueprint.add_url_rule("/moderate/login", "moderate_login", make_login(limiter),
                           methods=["POST"])
    blueprint.add_url_rule("/moderate/logout", "moderate_logout", logout, methods=["POST"])
    blueprint.add_url_rule("/moderate/api/state", "moderate_state", state_json)
    blueprint.add_url_rule("/moderate/api/<name>", "moderate_action", action,
                           methods=["POST"])
    _sock.route("/moderate/ws", bp=blueprint, endpoint="moderate_ws")(moderator_feed)
