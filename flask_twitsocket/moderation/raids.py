"""Copy-paste raids: the same text from several accounts within a window.

A post's text without links, mentions and case becomes a set of word shingles (three
consecutive words); two texts are near-identical when those sets overlap by at least
:data:`SIMILARITY` (Jaccard), which survives a changed word or an added emoji. Comparing
each new post with every recent one would cost O(window) per post, exactly when posts
arrive fastest: instead each post gets a MinHash signature (``HASHES`` minimums of
salted shingle hashes, stdlib only) cut into ``BANDS`` bands, and only posts sharing a
band's bucket (locality-sensitive hashing) are compared exactly. The window is bounded in
time and size, kept in memory by the stream process: no database query per post.

The first post of a text goes up; a near-identical one from *another* account within
the window is held, naming the first ("duplicate of @x's post"). An author repeating
themself is the flood rule's business.
"""

from __future__ import annotations

import random
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: Jaccard similarity of shingle sets from which two texts count as the same text.
SIMILARITY = 0.6
#: Words per shingle.
SHINGLE = 3
#: Texts with fewer words are not compared ("Great talk!" from many people is no raid).
MIN_WORDS = 5
HASHES = 24
BANDS = 12  # 2 rows each: near-identical texts share a bucket with high probability
ROWS = HASHES // BANDS
#: The window: posts older than this many seconds, or beyond this many, are forgotten.
WINDOW_SECONDS = 15 * 60.0
WINDOW_POSTS = 20_000

_MASK = (1 << 61) - 1
_rng = random.Random(16)  # fixed salts: signatures are comparable for the process's life
_SALTS = [(_rng.randrange(1, _MASK) | 1, _rng.randrange(0, _MASK)) for _ in range(HASHES)]
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@＠][\w.@-]+")
_WORD = re.compile(r"\w+")


def shingles(text: str) -> frozenset[int]:
    """The text's word shingles (hashed), ignoring links, mentions, punctuation and case."""
    words = _WORD.findall(_NOISE.sub(" ", text).casefold())
    if len(words) < MIN_WORDS:
        return frozenset()
    return frozenset(hash(tuple(words[i:i + SHINGLE]))
                     for i in range(len(words) - SHINGLE + 1))


def signature(hashes: frozenset[int]) -> tuple[int, ...]:
    """MinHash: for each salt, the least of the salted hashes."""
    return tuple(min([(a * h + b) & _MASK for h in hashes]) for a, b in _SALTS)


def jaccard(one: frozenset[int], other: frozenset[int]) -> float:
    return len(one & other) / len(one | other)


@dataclass
class _Seen:
    author: str
    username: str
    hashes: frozenset[int]
    buckets: tuple[tuple[int, tuple[int, ...]], ...]
    at: float


class RaidWatch:
    """The recent texts, bucketed; :meth:`check` answers "a copy of whose post?"."""

    def __init__(self, window_seconds: float = WINDOW_SECONDS,
                 window_posts: int = WINDOW_POSTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self.window_posts = window_posts
        self.clock = clock
        self.seen: OrderedDict[int, _Seen] = OrderedDict()
        self.buckets: dict[tuple[int, tuple[int, ...]], set[int]] = {}
        self._next = 0

    def check(self, author: str, username: str, text: str) -> str | None:
        """The username of an earlier author of (nearly) this text within the window,
        or None — then the text is remembered as this author's."""
        hashes = shingles(text)
        if not hashes:
            return None
        now = self.clock()
        self._forget(now)
        sig = signature(hashes)
        keys = tuple((band, sig[band * ROWS:(band + 1) * ROWS]) for band in range(BANDS))
        candidates: set[int] = set()
        for key in keys:
            candidates.update(self.buckets.get(key, ()))
        for number in sorted(candidates):
            earlier = self.seen[number]
            if earlier.author != author and jaccard(hashes, earlier.hashes) >= SIMILARITY:
                return earlier.username
        self._remember(_Seen(author, username, hashes, keys, now))
        return None

    def _remember(self, entry: _Seen) -> None:
        number = self._next
        self._next += 1
        self.seen[number] = entry
        for key in entry.buckets:
            self.buckets.setdefault(key, set()).add(number)

    def _forget(self, now: float) -> None:
        while self.seen:
            number, oldest = next(iter(self.seen.items()))
            if (now - oldest.at <= self.window_seconds
                    and len(self.seen) < self.window_posts):
                return
            del self.seen[number]
            for key in oldest.buckets:
                bucket = self.buckets.get(key)
                if bucket is not None:
                    bucket.discard(number)
                    if not bucket:
                        del self.buckets[key]
