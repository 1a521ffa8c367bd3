"""The rules, pure: who (bans, trust) and what (blocked words) may reach the wall.

One mechanism for every ban: ``TWITSOCKET_BANNED_USERS`` and the console's bans are both
:class:`BanList` entries in one :class:`Rules`, checked once per post by the gate.

Entries are usernames or numeric ids, compared without case and without a leading ``@``.
An entry may be qualified by network (``x:someone``, ``mastodon:@user@instance``,
``bluesky:handle``); an unqualified entry applies to every network. A ban also covers
reposts OF the banned author's posts, not only posts BY them. Blocked words (the
console's) are read as the profanity rule reads its lists (:class:`~.profanity.WordList`:
whole words or phrases of the folded text, leetspeak, repeated letters); a post with one
is held for a moderator like a post with a listed word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..shapes import PostData
from .folding import words
from .profanity import WordList

NETWORKS = ("x", "mastodon", "bluesky")


def _clean(name: str) -> str:
    return name.strip().lstrip("@").lower()


class BanList:
    """Author entries (bans, or the trusted authors of the ``pre`` mode)."""

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
        """Whether any of ``names`` (username, id, reposted author) is on the list."""
        if not (self.anywhere or self.by_network):
            return False  # the usual case: no entries, nothing to clean per post
        for name in names:
            if not name:
                continue
            clean = _clean(name)
            if clean in self.anywhere or (network, clean) in self.by_network:
                return True
        return False


def clean_phrase(phrase: str) -> str:
    """A blocked word or phrase as stored: lower case, single spaces."""
    return " ".join(phrase.split()).lower()


def clean_ban(entry: str) -> str:
    """A ban (or trust) entry as stored, in BanList's format: ``name`` or ``network:name``."""
    network, name = BanList.parse(entry)
    return f"{network}:{name}" if network else name


@dataclass(frozen=True)
class Facts:
    """What the rules look at, from a normalised post or a stored row alike."""

    network: str
    username: str
    author_id: str
    retweet_of_author: str | None
    text: str

    @classmethod
    def of(cls, post: PostData | dict[str, Any]) -> Facts:
        if isinstance(post, PostData):
            return cls(post.network, post.author.username, post.author.id,
                       post.retweet_of_author, post.text)
        return cls(post["network"], post["author_username"], post["author_id"],
                   post.get("retweet_of_author"), post.get("text") or "")


@dataclass
class Rules:
    """Bans (config + console), blocked words (console) and trusted authors (both)."""

    bans: BanList = field(default_factory=BanList)
    trusted: BanList = field(default_factory=BanList)
    words: WordList = field(default_factory=WordList)

    @classmethod
    def configured(cls, settings: Any) -> Rules:
        """The configuration's rules (``TWITSOCKET_BANNED_USERS``, ``…_TRUSTED_USERS``)."""
        return cls(BanList(settings["BANNED_USERS"]), BanList(settings["TRUSTED_USERS"]))

    def add(self, kind: str, value: str) -> None:
        """A console rule: ``ban``, ``trust`` or ``word``."""
        if kind == "ban":
            self.bans.add(value)
        elif kind == "trust":
            self.trusted.add(value)
        elif kind == "word":
            self.words.add(value)

    @property
    def screening(self) -> bool:
        """Whether any post could be rejected (else screening is skipped)."""
        return bool(self.bans or self.words)

    def banned(self, facts: Facts) -> bool:
        """Whether the author (or the reposted author) is banned."""
        return self.bans.bans(facts.network, facts.username, facts.author_id,
                              facts.retweet_of_author)

    def rejects(self, facts: Facts) -> str | None:
        """Why the post must not be shown as it is (``ban`` or ``word``), or None."""
        if self.banned(facts):
            return "ban"
        if self.blocked_word([facts.text]):
            return "word"
        return None

    def blocked_word(self, texts: Iterable[str]) -> str | None:
        """The first blocked word or phrase (as the console lists it) in ``texts``."""
        if not self.words:
            return None
        for text in texts:
            found = self.words.find(words(text))
            if found:
                return found
        return None

    def trusts(self, facts: Facts) -> bool:
        return self.trusted.bans(facts.network, facts.username, facts.author_id)
