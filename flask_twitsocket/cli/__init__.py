"""``flask twitsocket …``: the operator's commands.

``stream`` is the long-lived process (run it under systemd); it also refreshes the top
lists every ``TWITSOCKET_TOP_INTERVAL`` seconds, and ``top`` does it on demand. ``lister``
is a periodic job; ``init-db`` creates the tables or brings them to the newest schema
(``upgrade-db`` is an alias of it). ``export``, ``purge`` and ``backup`` are the data's
lifecycle (:mod:`.data`).
"""

from __future__ import annotations

from . import commands, data  # noqa: F401  (each registers its commands on the group)
from .group import twitsocket_cli

__all__ = ["twitsocket_cli"]
