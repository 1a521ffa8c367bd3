"""Integers from a request, through :func:`..integers.parse_whole`: the one way the web
layer reads a number a browser (or an attacker) sent.

Strict parameters answer 400 with a message naming the parameter (the API's handler turns
it into ``{"error": …}``); lenient ones — a projector URL typed by hand, a header an
``EventSource`` sends by itself — fall back to a default instead, as they always did.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest

from ..integers import MAX_BIGINT, parse_whole


def int_arg(name: str, default: int | None, minimum: int = 0, maximum: int = MAX_BIGINT,
            clamp: bool = False) -> int | None:
    """The query parameter ``name``; ``default`` when absent or empty; else valid or 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_whole(raw, name, minimum, maximum, clamp)
    except ValueError as error:
        raise BadRequest(str(error)) from None


def lenient_int(raw: str | None, default: int | None, minimum: int = 0,
                maximum: int = MAX_BIGINT, clamp: bool = True) -> int | None:
    """``raw`` (a parameter or header) if it is a valid whole number, else ``default``."""
    if not raw:
        return default
    try:
        return parse_whole(raw, "value", minimum, maximum, clamp)
    except ValueError:
        return default
