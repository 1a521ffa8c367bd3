"""JSON endpoints: catch-up for walls and data for any client.

``GET <prefix>/api/tweets?since_id=&limit=&wall=`` returns ``{"tweets": [...], "count": N}``,
newest first. ``since_id`` is a post's ``seq`` (the local cursor every post JSON carries):
a wall that reconnects asks for everything after the newest post it shows.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..state import current_state
from .params import int_arg
from .walls import requested_wall


def tweets() -> Response:
    state = current_state()
    settings = state.settings
    limit = int_arg("limit", settings["DEFAULT_LIMIT"], 1, settings["MAX_LIMIT"], clamp=True)
    since = int_arg("since_id", None)
    wall = requested_wall()
    posts = state.store.recent_on(wall, limit, since_seq=since)
    response = jsonify({"tweets": posts, "count": state.store.count_on(wall)})
    response.cache_control.no_store = True
    return response


def top() -> Response:
    state = current_state()
    limit = int_arg("limit", 10, 1, state.settings["MAX_LIMIT"], clamp=True)
    wall = requested_wall()
    users = [
        {"rank": row.rank, "network": row.network, "id": row.author_id,
         "username": row.username, "name": row.name, "avatar_url": row.avatar_url,
         "post_count": row.post_count}
        for row in state.store.top_users_on(wall, limit)
    ]
    return jsonify({"users": users, "tweets": state.store.top_posts_on(wall, limit)})


def bad_request(error) -> tuple[Response, int]:
    return jsonify({"error": error.description}), 400


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/api/tweets", "api_tweets", tweets)
    blueprint.add_url_rule("/api/top", "api_top", top)
    blueprint.register_error_handler(400, bad_request)
