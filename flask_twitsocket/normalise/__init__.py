"""One post shape for every network.

Sources hand over raw events exactly as the network sent them (a dict parsed from JSON, or
the raw line). A normaliser per network turns each into one of three things the rest of the
pipeline understands — a new :class:`PostData`, an :class:`Edit` of one, or a
:class:`Deletion` — or raises :class:`MalformedEvent`, which the pipeline logs and skips.

Entities are kept in one network-neutral form: dicts with ``type`` (``url``, ``mention``,
``hashtag``, ``media``), ``start``/``end`` offsets counted in Unicode code points of
``text``, the link ``url`` and the ``display`` text. The server-side HTML and the browser
client both build links from that list, never from markup sent by a network.

The shapes themselves live in :mod:`flask_twitsocket.shapes` (re-exported here), the date
and size rules in :mod:`.storable`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..shapes import Author, Deletion, Edit, MalformedEvent, Normalised, PostData
from . import bluesky, mastodon, storable, x

__all__ = ["Author", "Deletion", "Edit", "MalformedEvent", "Normalised", "PostData",
           "normalise"]


Normaliser = Callable[[Any], Normalised]

#: One normaliser per network, written out here rather than registered by import side
#: effects: the network modules import the shapes, never this package.
_NORMALISERS: dict[str, Normaliser] = {
    x.NETWORK: x.normalise_x,
    mastodon.NETWORK: mastodon.normalise_mastodon,
    bluesky.NETWORK: bluesky.normalise_bluesky,
}


def normalise(network: str, payload: Any) -> Normalised:
    """Turn one raw event into the common shape; ``None`` means "nothing to do" (keep-alive).

    Whatever goes wrong while normalising one event — any exception at all, a
    ``RecursionError`` from a deeply nested payload included — makes that event
    malformed: a network's payload must never reach the stream runner as an error, which
    would take it for a database outage. What comes out is storable (see ``storable``).
    """
    try:
        normaliser = _NORMALISERS[network]
    except (KeyError, TypeError):
        raise MalformedEvent(f"no normaliser for network {network!r}") from None
    try:
        item = normaliser(payload)
        if isinstance(item, (PostData, Edit)):
            storable.make_storable(item.post if isinstance(item, Edit) else item)
        elif isinstance(item, Deletion):
            storable.identifier(item.post_id, "deleted post id")
        return item
    except MalformedEvent:
        raise
    except Exception as error:
        raise MalformedEvent(f"{type(error).__name__}: {str(error)[:200]}") from error
