"""Who and what never reaches the wall.

``TWITSOCKET_BANNED_USERS`` entries are usernames or numeric ids, compared without case and
without a leading ``@``. An entry may be qualified by network (``x:someone``,
``mastodon:@user@instance``, ``bluesky:handle``); an unqualified entry applies to every
network. A ban also covers reposts OF the banned author's posts, not only posts BY them.

Blocked words are matched on a *folded* text (:func:`fold`): what a person reads, not the
code points a poster chose to get past the rule — a zero-width space or soft hyphen inside
the word, full-width letters, accents piled on, Cyrillic or Greek look-alikes.
"""

from __future__ import annotations

import re
import unicodedata
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


# --- blocked words -----------------------------------------------------------------------

#: Letters that look like Latin ones (Cyrillic, Greek, a few IPA): a small table for now;
#: both cases, because folding maps a look-alike before case is folded (Greek capital Ν
#: reads "N", its small ν reads "v"). Unicode's confusables table is the complete answer.
HOMOGLYPHS = str.maketrans({
    # Cyrillic
    "а": "a", "А": "a", "в": "b", "В": "b", "с": "c", "С": "c", "ԁ": "d", "е": "e",
    "Е": "e", "ё": "e", "Ё": "e", "һ": "h", "Н": "h", "н": "h", "і": "i", "І": "i",
    "ї": "i", "ј": "j", "Ј": "j", "к": "k", "К": "k", "ӏ": "l", "Ӏ": "l", "м": "m",
    "М": "m", "о": "o", "О": "o", "р": "p", "Р": "p", "ԛ": "q", "Ԛ": "q", "ѕ": "s",
    "Ѕ": "s", "т": "t", "Т": "t", "у": "y", "У": "y", "ԝ": "w", "Ԝ": "w", "х": "x",
    "Х": "x", "Ү": "y", "ү": "y", "ɡ": "g",
    # Greek
    "α": "a", "Α": "a", "Β": "b", "β": "b", "ε": "e", "Ε": "e", "Ζ": "z", "Η": "h",
    "ι": "i", "Ι": "i", "κ": "k", "Κ": "k", "Μ": "m", "ν": "v", "Ν": "n", "ο": "o",
    "Ο": "o", "ρ": "p", "Ρ": "p", "τ": "t", "Τ": "t", "υ": "u", "Υ": "y", "χ": "x",
    "Χ": "x", "ϲ": "c", "Ϲ": "c", "ϳ": "j",
    # IPA / Latin extended that NFKC leaves alone
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɩ": "i", "ʏ": "y", "ᴀ": "a", "ᴄ": "c", "ᴏ": "o",
})
#: Invisible characters that Unicode calls default-ignorable but not "format" (Cf).
_IGNORABLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
#: Dropped after NFD: combining marks (Mn, Me) and format characters (Cf: zero-width
#: space and joiners, soft hyphen, bidi controls, word joiner, BOM).
_DROPPED_CATEGORIES = frozenset(("Mn", "Me", "Cf"))


def fold(text: str) -> str:
    """``text`` as blocked words are compared: NFKC (full-width and styled letters become
    plain ones), look-alikes mapped to Latin, accents and invisible characters removed,
    case folded. Plain ASCII — most posts — only has its case folded."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).translate(HOMOGLYPHS)
    kept = "".join(char for char in unicodedata.normalize("NFD", text)
                   if unicodedata.category(char) not in _DROPPED_CATEGORIES
                   and char not in _IGNORABLE_LETTERS)
    return unicodedata.normalize("NFC", kept.casefold()).translate(HOMOGLYPHS)


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole words only, to search a :func:`fold`-ed text: "ass" blocks "Ass!", "#ass"
    and "аss" (Cyrillic а), not "class"."""
    words = [re.escape(word) for word in fold(phrase).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")
