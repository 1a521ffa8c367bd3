"""The console's login: a server-side session behind a cookie of the extension's own.

Why not the host app's Flask session: its cookie is the host's (its flags, its lifetime —
31 days by default — and it is re-sent by every page of the host that touches the
session), and a signed cookie cannot be revoked: a copy made before logging out still
worked. So the password login opens a row in ``twitsocket_moderator_sessions`` and the
browser gets only a random token, in a cookie the extension sets itself:

* ``HttpOnly`` — no script (an XSS elsewhere on the host site) can read it;
* ``SameSite=Lax`` — not sent with any cross-site request but a top-level GET navigation;
  every console action is a POST and the console's websocket is a subresource, so they
  never carry it cross-site, while a link to the console from a chat or a mail still
  opens it logged in (``Strict`` would show the login form there, and protect nothing
  more: the console's GETs change nothing);
* ``Secure`` whenever the request reached the site over https — directly, or through a
  trusted proxy (``TWITSOCKET_TRUSTED_PROXY_HOPS``) that says so in ``X-Forwarded-Proto``;
* ``Path=<prefix>/moderate`` — the host app's pages never see it;
* no ``Max-Age``: it ends with the browser session, and the server ends it after
  ``TWITSOCKET_MODERATOR_SESSION_HOURS`` whatever the browser does.

Logging out deletes the row: a copied cookie is refused from then on. The row also keeps
a proof of the password it was opened with, so changing the password ends every session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import Response, request, url_for
from sqlalchemy import Engine, delete, insert, select

from ..models import ModeratorSession
from ..state import current_state

COOKIE = "twitsocket_moderator"
SESSIONS = ModeratorSession.__table__


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ModeratorSessions:
    """Open, look up and end console sessions (the database is shared by every worker)."""

    def __init__(self, engine: Engine, lifetime: timedelta) -> None:
        self.engine = engine
        self.lifetime = lifetime

    def open(self, moderator: str, proof: str, address: str) -> str:
        """A new session; returns the token for the cookie. Expired rows go on the way."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.expires_at <= now))
            conn.execute(insert(SESSIONS).values(
                token_hash=_digest(token), moderator=moderator[:255], password_proof=proof,
                address=address[:64], created_at=now, expires_at=now + self.lifetime))
        return token

    def moderator(self, token: str | None, proof: str) -> str | None:
        """Who the token's live session belongs to; None when unknown, ended or expired,
        or opened with another password."""
        if not token:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(SESSIONS.c.moderator, SESSIONS.c.password_proof)
                               .where(SESSIONS.c.token_hash == _digest(token),
                                      SESSIONS.c.expires_at > datetime.now(timezone.utc))
                               ).first()
        if row is None or not secrets.compare_digest(row.password_proof, proof):
            return None
        return row.moderator

    def end(self, token: str | None) -> None:
        if token:
            with self.engine.begin() as conn:
                conn.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == _digest(token)))


def sessions() -> ModeratorSessions:
    state = current_state()
    hours = state.settings["MODERATOR_SESSION_HOURS"]
    return ModeratorSessions(state.engine, timedelta(hours=hours))


def served_over_https() -> bool:
    """Did the browser reach us over https? Believes ``X-Forwarded-Proto`` (the value the
    nearest proxy set, the last one) only when proxies are trusted."""
    if request.is_secure:
        return True
    if not current_state().settings["TRUSTED_PROXY_HOPS"]:
        return False
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return forwarded.rsplit(",", 1)[-1].strip().lower() == "https"


def cookie_token() -> str | None:
    return request.cookies.get(COOKIE)


def _cookie_path() -> str:
    return url_for("twitsocket.moderate")


def set_cookie(response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, path=_cookie_path(), httponly=True, samesite="Lax",
                        secure=served_over_https())


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=_cookie_path(), httponly=True, samesite="Lax",
                           secure=served_over_https())
