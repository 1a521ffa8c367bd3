"""Moderation: what organisers allow on the projector, and how fast a removal reaches it.

In rooms, lowest first:

* :mod:`.folding` and :mod:`.rules` — pure: the text a blocked word is compared with, and
  the rules themselves (bans from the configuration and the console in one
  :class:`~.rules.BanList`, blocked words, trusted authors).
* :mod:`.pending` — the held-back queue, moderation's own table.
* :mod:`.actions` — the console's actions and undo; posts, tombstones and pins change
  only through the store's API (:mod:`flask_twitsocket.store.visibility`).
* :mod:`.gate` — the stream process's screening, holding back and release timer.

Moderation imports neither the extension nor the bus: it is handed the store, the
settings and a ``notify`` callable (the process's one bus) by
:class:`~flask_twitsocket.state.TwitSocketState`.
"""

from __future__ import annotations

from .actions import Moderation, ModerationError, hide_config_banned
from .gate import Gate
from .rules import BanList, Facts, Rules

__all__ = ["BanList", "Facts", "Gate", "Moderation", "ModerationError", "Rules",
           "hide_config_banned"]
