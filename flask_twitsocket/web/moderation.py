"""``<prefix>/moderate``: the moderation console, its JSON actions and its live socket.

Who may moderate is the host app's call: ``TwitSocket(app, moderator_required=check)`` (or
the ``@twitsocket.moderator_check`` decorator) returns the moderator's name for a request
it lets in. Without it, ``TWITSOCKET_MODERATOR_PASSWORD`` is a single shared key: the
comparison is constant-time over hashes (or a werkzeug password hash when the setting is
one); a login opens a server-side session behind the extension's own cookie
(:mod:`.moderator_sessions`: HttpOnly, SameSite=Lax, Secure over https, revoked by logging
out, bound to the password); and logins are limited per client address across every
worker (:mod:`.login_limit`: a slot is taken before the password is checked). Without
either, everyone is refused.

Every POST carries the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token``
field) and, from a browser, an Origin of this very site (``TWITSOCKET_ALLOWED_ORIGINS``
widens only the walls' websocket, never the console). Every URL here answers 401/403
without credentials — the page, the JSON, the actions and the moderator websocket (the
refusal happens before the websocket upgrade). Pages send a strict CSP, no caching, and
refuse framing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash

from ..config_table import MODERATION_MODES, WALL_LAYOUTS
from ..moderation.actions import ModerationError
from ..state import current_state
from .client_address import client_address
from .login_limit import LoginLimiter
from .moderator_sessions import clear_cookie, cookie_token, served_over_https, sessions, set_cookie
from .websocket import _sock, feed, origin_allowed

log = logging.getLogger("flask_twitsocket.moderation")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
       "connect-src 'self' ws: wss:; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
CSRF_KEY = "twitsocket_csrf"
#: Endpoints that decide about credentials themselves (they show the login form).
OPEN_ENDPOINTS = {"twitsocket.moderate", "twitsocket.moderate_login"}
#: Password hashes werkzeug writes; anything else in the setting is the password itself.
HASH_PREFIXES = ("pbkdf2:", "scrypt:")


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


def current_moderator(wall: str | None = None) -> str | None:
    """The moderator behind this request (the host's check first, then the password);
    with ``wall``, for an action on that wall (the host's check may take ``wall=``)."""
    state = current_state()
    verdict = state.moderator_required() if wall is None else state.moderator_required(
        wall=wall)
    if verdict:
        return verdict if isinstance(verdict, str) else "moderator"
    password = state.settings["MODERATOR_PASSWORD"]
    if not password:
        return None
    if "twitsocket_moderator" not in g:  # one database look-up per request
        g.twitsocket_moderator = sessions().moderator(cookie_token(), _password_proof(password))
    return g.twitsocket_moderator


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


def refuse(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'FormBased realm="twitsocket-moderate"'
    return response


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.no_store = True
    return response


def _console_open(state: Any) -> bool:
    """Moderation is on for the site, or for one of its walls (a wall's own trust mode
    under a site's ``off``: its held posts need a console)."""
    return state.settings["MODERATION"] != "off" or any(
        (wall.moderation or "off") != "off" for wall in state.walls.values())


def _page(template: str, status: int, **context: Any) -> Response:
    state = current_state()
    mode = state.settings["MODERATION"]
    response = make_response(render_template(
        template, csrf_token=csrf_token(),
        mode="per wall" if mode == "off" and _console_open(state) else mode,
        has_password=bool(state.settings["MODERATOR_PASSWORD"]), **context), status)
    return secure(response)


def _login_page(status: int, error: str | None = None) -> Response:
    return _page("twitsocket/moderate.html", status, moderator=None, error=error)


def console() -> Response:
    who = current_moderator()
    if who is None:
        has_password = bool(current_state().settings["MODERATOR_PASSWORD"])
        return _login_page(401 if has_password else 403)
    # a path: the console picks ws:// or wss:// from its own page's scheme
    ws_path = urlsplit(url_for("twitsocket.moderate_ws")).path
    return _page("twitsocket/moderate.html", 200, moderator=who, error=None, ws_path=ws_path,
                 wall_layouts=WALL_LAYOUTS, moderation_modes=MODERATION_MODES)


def _limiter() -> LoginLimiter:
    state = current_state()
    return LoginLimiter(state.engine, state.settings["LOGIN_FAILURES"],
                        state.settings["LOGIN_WINDOW"])


def login() -> Response:
    password = current_state().settings["MODERATOR_PASSWORD"]
    if not password:
        return _login_page(403)
    address = client_address()
    limiter = _limiter()
    slot = limiter.take(address)  # before the (slow) password check: no check-then-act
    if not slot.admitted:
        log.warning("console login refused: too many attempts from %s", address)
        response = _login_page(429, "Too many failed attempts; wait a minute.")
        response.headers["Retry-After"] = str(slot.retry_after)
        return response
    if not password_matches(request.form.get("password", ""), password):
        log.warning("console login failed from %s (%d of %d)", address, slot.attempts,
                    slot.limit)
        return _login_page(401, "Wrong password.")
    limiter.give_back(slot)
    token = sessions().open("moderator", _password_proof(password), address)
    session[CSRF_KEY] = secrets.token_urlsafe(32)  # a new token for the new login
    log.info("console login from %s%s", address, "" if served_over_https() else " (http)")
    response = secure(redirect(url_for("twitsocket.moderate"), 303))
    set_cookie(response, token)
    return response


def logout() -> Response:
    sessions().end(cookie_token())
    session.pop(CSRF_KEY, None)
    log.info("console logout from %s", client_address())
    response = secure(redirect(url_for("twitsocket.moderate"), 303))
    clear_cookie(response)
    return response


def state_json() -> Response:
    return secure(jsonify(current_state().moderation.snapshot()))


def action(name: str) -> Response:
    payload = request.get_json(silent=True) if request.is_json else None
    target = (payload or {}).get("target") if isinstance(payload, dict) else None
    if target is None:
        target = request.form.get("target", "")
    if not isinstance(target, str):
        return refuse(400, "target must be a string")
    wall = (payload or {}).get("wall") if isinstance(payload, dict) else None
    wall = wall if wall is not None else request.form.get("wall")
    if wall is not None and not isinstance(wall, str):
        return refuse(400, "wall must be a string")
    wall = wall or None
    moderator = current_moderator(wall) if wall else current_moderator() or "?"
    if moderator is None:
        return refuse(403, f"moderating the wall {wall!r} is not open to this request")
    try:
        entry = current_state().moderation.act(moderator, name, target, wall)
    except ModerationError as error:
        return refuse(error.status, str(error))
    if entry.get("wall"):  # a wall's own ban or blocked word (or its undo): route by it now
        current_state().refresh_walls(force=True)
    return secure(jsonify({"ok": True, "entry": entry}))


def moderator_feed(ws) -> None:
    """The console's live feed, for as long as its moderator's session lasts: a console
    left open on a laptop stops receiving the queue once the session is logged out or
    expires (the route checked it when the socket opened)."""
    feed(ws, moderator=True, still_allowed=_still_a_moderator)


def _still_a_moderator() -> bool:
    g.pop("twitsocket_moderator", None)  # ask the sessions table again, not this request's
    return current_moderator() is not None


def register(blueprint: Blueprint) -> None:
    @blueprint.before_request
    def _guard() -> Response | None:
        endpoint = request.endpoint or ""
        if not endpoint.startswith("twitsocket.moderate"):
            return None
        state = current_state()
        if not _console_open(state):
            abort(404)
        if not origin_allowed(()):  # this site only: ALLOWED_ORIGINS is for walls
            return refuse(403, "cross-site request refused")
        if endpoint not in OPEN_ENDPOINTS and current_moderator() is None:
            if state.settings["MODERATOR_PASSWORD"]:
                return refuse(401, "log in to moderate")
            return refuse(403, "moderation is not open to this request")
        if request.method == "POST" and not _csrf_ok():
            return refuse(403, "missing or wrong CSRF token; reload the console")
        return None

    blueprint.add_url_rule("/moderate", "moderate", console)
    blueprint.add_url_rule("/moderate/login", "moderate_login", login, methods=["POST"])
    blueprint.add_url_rule("/moderate/logout", "moderate_logout", logout, methods=["POST"])
    blueprint.add_url_rule("/moderate/api/state", "moderate_state", state_json)
    blueprint.add_url_rule("/moderate/api/<name>", "moderate_action", action,
                           methods=["POST"])
    _sock.route("/moderate/ws", bp=blueprint, endpoint="moderate_ws")(moderator_feed)
