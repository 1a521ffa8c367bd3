"""JSON endpoints: catch-up for walls and data for any client.

``GET <prefix>/api/tweets?since_id=&limit=&wall=&shown=`` returns ``{"tweets": [...],
"count": N}``, newest first. ``since_id`` is a post's ``seq`` (the local cursor every post
JSON carries): a wall that reconnects asks for everything after the newest post it shows.
The ``delete`` messages it missed meanwhile are not replayed, so it also sends the seqs it
shows (``shown=``, at most :data:`MAX_SHOWN`) and the answer adds ``"gone"``: those the
wall no longer shows, for it to drop.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from ..state import current_state
from .params import int_arg, int_list_arg
from .walls import requested_wall

#: The most seqs ``shown=`` may list: a wall's newest posts, and one bounded ``IN`` query.
MAX_SHOWN = 200


def tweets() -> Response:
    state = current_state()
    settings = state.settings
    limit = int_arg("limit", settings["DEFAULT_LIMIT"], 1, settings["MAX_LIMIT"], clamp=True)
    since = int_arg("since_id", None)
    shown = int_list_arg("shown", MAX_SHOWN)
    wall = requested_wall()
    posts = state.store.recent_on(wall, limit, since_seq=since)
    answer: dict[str, Any] = {"tweets": posts, "count": state.store.count_on(wall)}
    if shown is not None:
        answer["gone"] = [str(seq) for seq in state.store.gone_from(wall, shown)]
        if since is not None:
            answer["missed"] = missed(state.store.recent_on(wall, limit), since, shown)
    response = jsonify(answer)
    response.cache_control.no_store = True
    return response


def missed(newest: list[dict[str, Any]], since: int, shown: list[int],
           ) -> list[dict[str, Any]]:
    """Of a wall's newest posts, those from before ``since`` that the client does not list
    as shown: posts that went up on this wall without a new ``seq`` while it was offline
    (approved or shown again on that wall only: its other walls already show the post
    under that seq), which ``since_id`` alone cannot bring."""
    listed = set(shown)
    return [post for post in newest
            if int(post["seq"]) <= since and int(post["seq"]) not in listed]


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
