"""Mastodon's wire: reading what an instance sends, apart from when and how we connect.

:mod:`.mastodon` owns the connections (a thread per hashtag, the catch-up, back-off); this
module holds the pure readers it uses — the server-sent-event parser of the streaming API,
the instance's error words and which HTTP statuses no retry cures, the rate-limit headers,
the streaming host ``/api/v2/instance`` names, and the order of status ids — so each can be
read, and tested, without a connection or a thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import requests

from .base import PermanentFailure

#: HTTP statuses that no retry cures: a refused token, an instance (or hashtag API) gone.
PERMANENT = {401: "refused the token", 403: "refused access", 404: "has no such API",
             410: "is gone"}
#: How long a spent rate-limit budget makes us wait at least and at most (seconds).
RATE_LIMIT_WAIT = (1.0, 900.0)


def mastodon_reason(response: requests.Response | None) -> str:
    """The instance's own words (Mastodon answers ``{"error": "…"}``), one short line."""
    if response is None:
        return "no response"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        words = str(body["error"])
        if body.get("error_description"):
            words += f": {body['error_description']}"
    else:
        words = " ".join((response.text or "").split())[:200] or response.reason or ""
    return " ".join(words.split())[:300]


def permanent_failure(base: str, error: requests.HTTPError) -> PermanentFailure | None:
    """A :class:`PermanentFailure` saying what to do, or None when a retry may help."""
    response = error.response
    status = response.status_code if response is not None else 0
    if status not in PERMANENT:
        return None
    fix = ("check TWITSOCKET_MASTODON_TOKEN (a user token with the read:statuses scope, "
           "from the instance's Preferences → Development)" if status in (401, 403) else
           "check TWITSOCKET_MASTODON_URL (the instance may have moved or shut down)")
    return PermanentFailure(f"Mastodon instance {base} {PERMANENT[status]} (HTTP {status}: "
                            f"{mastodon_reason(response)}); {fix}, then restart the stream.")


def sse_events(chunks: Iterable[bytes]) -> Iterator[tuple[str, str]]:
    """Server-sent events as ``(event, data)`` from raw chunks, per the WHATWG format.

    Comments (``:)`` on open, ``:thump`` heartbeats) only prove the connection is alive;
    they reset the read timeout and are otherwise ignored.
    """
    buffer = b""
    event, data = "", []
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
            if not line:
                if data:
                    yield event or "message", "\n".join(data)
                event, data = "", []
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    event = value
                elif field == "data":
                    data.append(value)


def id_key(status_id: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings of growing length; compare them as numbers."""
    return (len(status_id), status_id)


def rate_limit_wait(response: requests.Response) -> float | None:
    """Seconds to wait for the budget's reset when it is spent (or a 429 says so), else
    None: waiting costs less than the ban an instance gives a client that goes on."""
    remaining = response.headers.get("X-RateLimit-Remaining")
    if response.status_code != 429 and (remaining is None or not remaining.isdigit()
                                        or int(remaining) > 1):
        return None
    wait = 60.0
    reset = response.headers.get("X-RateLimit-Reset")
    try:
        moment = datetime.fromisoformat(str(reset).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        wait = (moment - datetime.now(timezone.utc)).total_seconds()
    except ValueError:
        pass
    return min(max(wait, RATE_LIMIT_WAIT[0]), RATE_LIMIT_WAIT[1])


def streaming_host(streaming: Any) -> str | None:
    """The streaming API's base URL from ``/api/v2/instance``'s
    ``configuration.urls.streaming`` (``wss://`` read as ``https://``), or None when it
    names none we can use (then the API host streams)."""
    if isinstance(streaming, str) and streaming.startswith(("wss://", "ws://", "http")):
        streaming = streaming.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
        return streaming.rstrip("/")
    return None
