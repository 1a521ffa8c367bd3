"""Integers from a request, through :func:`..integers.parse_whole`: the one way the web
layer reads a number a browser (or an attacker) sent.

Strict parameters answer 400 with a message naming the parameter (the API's handler turns
it into ``{"error": …}``), lists of them too (:func:`int_list_arg`, bounded in length so a
request is one indexed query whatever it sends); lenient ones — a projector URL typed by
hand, a header an ``EventSource`` sends by itself — fall back to a default instead, as
they always did.
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


def int_list_arg(name: str, max_count: int, minimum: int = 0,
                 maximum: int = MAX_BIGINT) -> list[int] | None:
    """The comma-separated whole numbers of the query parameter ``name``, in order and
    once each; None when absent, ``[]`` when empty; else 400 for more than ``max_count``
    items or any item that is not a whole number in range (named by its position)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    items = raw.split(",") if raw else []
    if len(items) > max_count:
        raise BadRequest(f"{name} must list at most {max_count} numbers, not {len(items)}")
    values: dict[int, None] = {}
    for position, item in enumerate(items, start=1):
        try:
            values[parse_whole(item.strip(), f"{name} (item {position})", minimum,
                               maximum)] = None
        except ValueError as error:
            raise BadRequest(str(error)) from None
    return list(values)


def lenient_int(raw: str | None, default: int | None, minimum: int = 0,
                maximum: int = MAX_BIGINT, clamp: bool = True) -> int | None:
    """``raw`` (a parameter or header) if it is a valid whole number, else ``default``."""
    if not raw:
        return default
    try:
        return parse_whole(raw, "value", minimum, maximum, clamp)
    except ValueError:
        return default
