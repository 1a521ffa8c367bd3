"""Converters for configuration values: the raw value from ``app.config`` in, the clean one out.

Each raises ``ValueError`` with a human sentence (no traceback jargon): :mod:`.config` adds
the key's name and stops start-up with a :class:`~flask_twitsocket.config.ConfigError`.
Values from environment variables arrive as strings, so every converter accepts the
string spelling of its type. This module is the bottom of the package: it imports nothing
from it, so every layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: Schemes ``TWITSOCKET_BROKER_URL`` accepts; the bus picks its backend by them.
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def as_str_list(value: Any) -> tuple[str, ...]:
    """A list of strings; a comma-separated string is accepted (handy in env files)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Iterable):
        raise ValueError("expected a list of strings or a comma-separated string")
    items = []
    for item in value:
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            raise ValueError(f"expected strings, got {item!r}")
        text = str(item).strip()
        if text:
            items.append(text)
    return tuple(items)


def as_keywords(value: Any) -> tuple[str, ...]:
    """Keywords to track. A keyword with a space must be quoted to be a phrase.

    Why reject rather than split ``#pyconx pyconx``: it is usually two keywords with the
    comma forgotten, but ``machine learning`` is a real phrase, and guessing either way
    silently changes what the wall shows (X gets one exact-phrase rule, or two words). A
    quoted phrase (``"machine learning"``) is kept, without its quotes, as one phrase.
    """
    keywords = []
    for item in as_str_list(value):
        if len(item) >= 2 and item[0] == item[-1] == '"':
            phrase = " ".join(item[1:-1].replace('"', "").split())
            if phrase:
                keywords.append(phrase)
            continue
        if any(char.isspace() for char in item):
            raise ValueError(
                f"{item!r} has a space: separate keywords with commas "
                f"({', '.join(item.split())}), or quote a phrase to match it exactly "
                f"('\"{item}\"' — X then gets the rule \"{item}\")")
        keywords.append(item)
    return tuple(keywords)


def as_names(*choices: str) -> Callable[[Any], tuple[str, ...]]:
    """A list of names, each one of ``choices`` (e.g. the sources)."""
    def convert(value: Any) -> tuple[str, ...]:
        names = as_str_list(value)
        for name in names:
            if name not in choices:
                raise ValueError(f"unknown name {name!r}; choose from {', '.join(choices)}")
        return names

    return convert


def as_id_list(value: Any) -> tuple[str, ...]:
    """Numeric account ids, kept as strings because X ids exceed 2**53."""
    ids = as_str_list(value)
    for item in ids:
        if not item.isdigit():
            raise ValueError(f"{item!r} is not a numeric account id")
    return ids


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    if isinstance(value, int):
        return bool(value)
    raise ValueError(f"expected true or false, got {value!r}")


def positive(kind: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a positive number, got {value!r}") from None
        if number <= 0:
            raise ValueError(f"must be greater than zero, got {value!r}")
        return number

    return convert


def at_least_zero(value: Any) -> float:
    """Seconds where 0 means "never" (e.g. ``TWITSOCKET_TOP_INTERVAL``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number of seconds (0 = never), got {value!r}") from None
    if number < 0 or number != number:
        raise ValueError(f"must be 0 or more, got {value!r}")
    return number


def _whole(value: Any, meaning: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a whole number of {meaning}, got {value!r}") from None


def as_client_limit(value: Any) -> int:
    """Websocket clients one worker holds: 0 means no cap."""
    number = _whole(value, "clients")
    if number < 0:
        raise ValueError(f"must be 0 (no limit) or more, got {value!r}")
    return number


def as_hop_count(value: Any) -> int:
    """Trusted proxies in front of the site: 0 to 10."""
    number = _whole(value, "proxies")
    if not 0 <= number <= 10:
        raise ValueError(f"must be between 0 and 10, got {value!r}")
    return number


def as_optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def as_url_prefix(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or value.endswith("/"):
        raise ValueError("must start with '/' and not end with '/', e.g. '/twitsocket'")
    return value


#: An nginx location prefix: a path of plain characters (it goes into a response header).
_LOCATION = re.compile(r"/[A-Za-z0-9._~/-]*")


def as_internal_location(value: Any) -> str | None:
    """An optional location prefix such as ``/_twitsocket_media/`` (a trailing ``/`` is
    added): the path nginx serves a directory under, for ``X-Accel-Redirect``."""
    prefix = as_optional_str(value)
    if prefix is None:
        return None
    if not _LOCATION.fullmatch(prefix) or "/../" in f"{prefix}/":
        raise ValueError("must be a path starting with '/' (letters, digits, '._~-/'), "
                         f"e.g. '/_twitsocket_media/'; got {prefix!r}")
    return prefix if prefix.endswith("/") else prefix + "/"


def as_ws_url(value: Any) -> str | None:
    url = as_optional_str(value)
    if url is not None and not url.startswith(("ws://", "wss://")):
        raise ValueError("must start with ws:// or wss://")
    return url


def as_http_url(value: Any) -> str | None:
    """An optional http(s) URL, without its trailing slash (paths are appended to it)."""
    url = as_optional_str(value)
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return url.rstrip("/") if url else url


def as_api_url(value: Any) -> str:
    """A required http(s) base URL, without its trailing slash."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def as_broker_url(value: Any) -> str | None:
    url = as_optional_str(value)
    if url is not None and not url.startswith(REDIS_SCHEMES + POSTGRES_SCHEMES):
        raise ValueError(f"unsupported scheme in {url!r}; use redis:// or postgresql://, "
                         "or leave it unset to poll the database")
    return url


def as_path(value: Any) -> Path:
    if not isinstance(value, (str, Path)) or not str(value):
        raise ValueError("expected a file path")
    return Path(value)


def one_of(*choices: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    return convert


#: A CSP host source: ``https://wall.example.org``, ``https://*.example.org:8443``, or ``*``.
CSP_SOURCE = re.compile(r"\*|https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:(\d{1,5}|\*))?")


def as_frame_ancestors(value: Any) -> tuple[str, ...]:
    """Origins allowed to frame the wall (CSP ``frame-ancestors`` sources)."""
    sources = as_str_list(value)
    for source in sources:
        if not CSP_SOURCE.fullmatch(source):
            raise ValueError(f"{source!r} is not an origin such as https://blog.example.org "
                             "(scheme and host, optionally *. and :port; no path)")
    return sources


#: CSS colours the wall accepts for its accent: #rgb, #rgba, #rrggbb, #rrggbbaa, a colour
#: function with plain numbers, or a named colour. Nothing that could close the declaration
#: (no ``;``, ``}``, ``url(``): the value reaches the page through the CSSOM, never as text.
CSS_COLOUR = re.compile(
    r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})"
    r"|(?:rgb|rgba|hsl|hsla|oklch|oklab)\(\s*[0-9.%\s,/+-]+(?:deg)?[0-9.%\s,/+-]*\)"
    r"|[a-zA-Z]{3,20}")


def as_css_colour(value: Any) -> str | None:
    """An optional CSS colour (the wall's accent); ``None`` keeps the theme's own."""
    colour = as_optional_str(value)
    if colour is None:
        return None
    colour = colour.strip()
    if not CSS_COLOUR.fullmatch(colour):
        raise ValueError(f"{colour!r} is not a CSS colour such as #5d7a00, rgb(93 122 0) or "
                         "teal")
    return colour


def as_seconds(minimum: float, maximum: float) -> Callable[[Any], float]:
    """A number of seconds within bounds (a pace a projector can keep and a reader follow)."""
    def convert(value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number of seconds, got {value!r}") from None
        if not minimum <= number <= maximum:
            raise ValueError(f"must be between {minimum:g} and {maximum:g} seconds, got "
                             f"{value!r}")
        return number

    return convert


def optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, except that None or an empty string mean "not set" (None)."""
    def maybe(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return convert(value)

    return maybe
