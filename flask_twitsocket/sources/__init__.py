"""Sources: where posts come from. Each yields :class:`~flask_twitsocket.shapes.RawEvent`.

A source owns its connection to one network and its reconnection policy; it yields raw
events (as the network sent them) until the ``stop`` event is set. Sources are found by
name, lazily, so a site that only uses Mastodon never imports tweepy.
"""

from __future__ import annotations

import importlib

from ..config import Settings
from .base import Source

#: name → "module:Class", imported on first use.
REGISTRY: dict[str, str] = {
    "replay": "flask_twitsocket.sources.replay:ReplaySource",
    "x": "flask_twitsocket.sources.x_stream:XSource",
    "mastodon": "flask_twitsocket.sources.mastodon:MastodonSource",
    "bluesky": "flask_twitsocket.sources.bluesky:BlueskySource",
}


def source_class(name: str) -> type[Source]:
    module_name, _, class_name = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def available() -> list[str]:
    """Names of the sources whose module is installed."""
    names = []
    for name in REGISTRY:
        try:
            source_class(name)
        except (ImportError, AttributeError):
            continue
        names.append(name)
    return names


#: What ``stream`` says when no source is configured (one line, naming the settings).
NOTHING_CONFIGURED = (
    "no source is configured: set TWITSOCKET_X_BEARER_TOKEN (X), TWITSOCKET_MASTODON_URL "
    "(Mastodon), TWITSOCKET_BLUESKY_ENABLED or TWITSOCKET_BLUESKY_ACCOUNTS (Bluesky), or "
    "TWITSOCKET_SOURCES; the bundled recording plays only with --source replay")


def configured(settings: Settings) -> list[str]:
    """The sources ``stream`` runs without ``--source``: ``TWITSOCKET_SOURCES`` if set, else
    every network whose settings are present — possibly none. Never the replay by default:
    a site whose credentials are missing (or misspelt) must not put the bundled recording's
    fake posts on its projector."""
    if settings["SOURCES"]:
        return list(settings["SOURCES"])
    return [name for name in available() if name != "replay"
            and source_class(name).is_configured(settings)]
