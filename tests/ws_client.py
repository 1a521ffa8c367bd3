"""Websocket clients that a test keeps open beyond one ``with`` block.

websockets 14+ wants ``connect()`` used as a context manager; a test that holds many
walls open (and closes them itself, or lets the server drop them) enters it here, in one
place, instead of calling the deprecated plain form.
"""

from __future__ import annotations

from typing import Any

from websockets.sync.client import ClientConnection, connect


def open_wall(url: str, **options: Any) -> ClientConnection:
    """An open websocket to ``url`` (``open_timeout`` 10 s unless given); the caller
    closes it."""
    options.setdefault("open_timeout", 10)
    return connect(url, **options).__enter__()
