"""Only a pong that answers our own ping proves a wall is alive.

simple-websocket pings every ``ping_interval`` and closes the connection (1008) when no
pong came since the previous ping — but any pong counts, and RFC 6455 lets a client send
pongs nobody asked for. A client that never answers our pings but sends an unsolicited
pong now and then would stay connected for ever, holding a slot. :class:`PongCheck`
stands in for simple-websocket's protocol object: each ping it sends carries a fresh
random payload, and only a pong echoing that payload reaches simple-websocket; the
others are ignored (as the RFC says a pong nobody asked for should be).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from wsproto.events import Event, Ping, Pong


class PongCheck:
    """Wraps a ``wsproto.WSConnection`` (simple-websocket's ``ws.ws``)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        #: The payload of the last ping we sent; None before the first.
        self._expected: bytes | None = None

    def send(self, event: Event) -> bytes:
        if isinstance(event, Ping) and not event.payload:
            self._expected = os.urandom(8)
            event = Ping(payload=self._expected)
        return self._connection.send(event)

    def events(self) -> Iterator[Event]:
        for event in self._connection.events():
            if isinstance(event, Pong) and (self._expected is None
                                            or bytes(event.payload) != self._expected):
                continue  # unsolicited, or an answer to an older ping: not a sign of life
            yield event

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def check_pongs(ws: Any) -> None:
    """Make ``ws`` (a simple-websocket connection) count only pongs to its own pings."""
    if not isinstance(ws.ws, PongCheck):
        ws.ws = PongCheck(ws.ws)
