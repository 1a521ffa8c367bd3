"""Who and what never reaches the wall.

``TWITSOCKET_BANNED_USERS`` entries are usernames or numeric ids, compared without case and
without a leading ``@``. An entry may be qualified by network (``x:someone``,
``mastodon:@user@instance``, ``bluesky:handle``); an unqualified entry applies to every
network. A ban also covers reposts OF the banned author's posts, not only posts BY them.
"""

from __future__ import annotations

from collections.abc import Iterable

from .normalise import PostData

NETWORKS = ("x", "mastodon", "bluesky")


def _clean(name: str) -> str:
    return name.strip().lstrip("@").lower()


class BanList:
    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.anywhere: set[str] = set()
        self.by_network: set[tuple[str, str]] = set()
        for entry in entries:
            self.add(entry)

    @staticmethod
    def parse(entry: str) -> tuple[str | None, str]:
        """``(network or None, clean name)``: how an entry is compared (and stored by the
        moderation console, so a console ban and a config ban are the same thing)."""
        network, sep, name = entry.partition(":")
        if sep and network.lower() in NETWORKS:
            return network.lower(), _clean(name)
        return None, _clean(entry)

    def add(self, entry: str) -> None:
        network, name = self.parse(entry)
        if network:
            self.by_network.add((network, name))
        else:
            self.anywhere.add(name)

    def __bool__(self) -> bool:
        return bool(self.anywhere or self.by_network)

    def bans(self, network: str, *names: str | None) -> bool:
        for name in names:
            if not name:
                continue
            clean = _clean(name)
            if clean in self.anywhere or (network, clean) in self.by_network:
                return True
        return False

    def rejects(self, post: PostData) -> bool:
        """True when the post is by, or a repost of, a banned author."""
        if not (self.anywhere or self.by_network):
            return False  # the usual case: no bans, nothing to normalise per post
        author = post.author
        return self.bans(post.network, author.username, author.id, post.retweet_of_author)
