"""``<prefix>/moderate/api/walls``: the console's JSON API for walls — list them, create
one, edit one, archive one — without a restart.

Behind the console's guard (a moderator, the session's CSRF token, this site's Origin),
and for the site's moderators only: the host's moderator check is asked without a wall,
so a room's volunteer (let in for ``wall="room-a"`` only) cannot create or change walls.
Each change is in the action log (see :mod:`flask_twitsocket.moderation.wall_admin`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..moderation.actions import ModerationError
from ..state import current_state
from .moderation import current_moderator, refuse, secure


def _body() -> dict[str, Any] | Response:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return refuse(400, "expected the wall's settings as a JSON object")
    return payload


def _answer(change: Any) -> Response:
    """Run a change for a site moderator: the log entry, or the refusal's message."""
    who = current_moderator()
    if who is None:
        return refuse(403, "changing walls is not open to this request")
    try:
        entry = change(who)
    except ModerationError as error:
        return refuse(error.status, str(error))
    return secure(jsonify({"ok": True, "entry": entry}))


def listing() -> Response:
    """Every wall, live and archived, with its full settings."""
    return secure(jsonify(current_state().wall_admin.listing()))


def create() -> Response:
    body = _body()
    if isinstance(body, Response):
        return body
    slug = body.pop("slug", None)
    return _answer(lambda who: current_state().wall_admin.create(who, slug, body))


def edit(slug: str) -> Response:
    body = _body()
    if isinstance(body, Response):
        return body
    body.pop("slug", None)
    return _answer(lambda who: current_state().wall_admin.edit(who, slug, body))


def archive(slug: str) -> Response:
    return _answer(lambda who: current_state().wall_admin.archive(who, slug))


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/moderate/api/walls", "moderate_walls", listing)
    blueprint.add_url_rule("/moderate/api/walls", "moderate_wall_create", create,
                           methods=["POST"])
    blueprint.add_url_rule("/moderate/api/walls/<slug>", "moderate_wall_edit", edit,
                           methods=["POST"])
    blueprint.add_url_rule("/moderate/api/walls/<slug>/archive", "moderate_wall_archive",
                           archive, methods=["POST"])
