"""The blueprint: the websocket route, the JSON API and the template helpers.

The browser-facing half of the data flow (hub → browsers). Routes are grouped by what they
serve, one module each; this module only assembles them.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

from . import (
    api,
    events,
    health,
    media,
    metrics,
    moderation,
    security_headers,
    templating,
    wall,
    wall_admin,
    wall_socket,
    walls,
    websocket,
)

PACKAGE = Path(__file__).resolve().parent.parent


def create_blueprint() -> Blueprint:
    blueprint = Blueprint(
        "twitsocket",
        __name__,
        template_folder=str(PACKAGE / "templates"),
        static_folder=str(PACKAGE / "static" / "twitsocket"),
        static_url_path="/static",
    )
    api.register(blueprint)
    health.register(blueprint)
    metrics.register(blueprint)
    media.register(blueprint)
    websocket.register(blueprint)
    wall_socket.register(blueprint)
    moderation.register(blueprint)
    wall_admin.register(blueprint)
    events.register(blueprint)
    wall.register(blueprint)
    walls.register(blueprint)
    templating.register(blueprint)
    security_headers.register(blueprint)
    return blueprint
