"""Copy-paste raids: the same text from several accounts within a window.

A post's text without links, mentions and case becomes a set of word shingles (three
consecutive words); two texts are near-identical when those sets overlap by at least
:data:`SIMILARITY` (Jaccard), which survives a changed word or an added emoji. Comparing
each new post with every recent one would cost O(window) per post, exactly when posts
arrive fastest: instead each post is sketched by MinHash in its one-hash, bottom-k form
(the :data:`SKETCH` least shingle hashes; two sets share a given one of them with a
probability that grows with their Jaccard similarity), each sketch value is a bucket
(locality-sensitive hashing), and only posts sharing two buckets are compared exactly,
at most :data:`MAX_COMPARED` of them (a bucket keeps its :data:`BUCKET_SIZE` latest
posts). One hash per shingle and a sort in C: the k-salt form of MinHash cost 100 µs per
post in Python. The window is bounded in time and size, kept in memory by the stream
process: no database query per post.

The first post of a text goes up; a near-identical one from *another* account within
the window is held, naming the first ("duplicate of @x's post"). An author repeating
themself is the flood rule's business.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: Jaccard similarity of shingle sets from which two texts count as the same text.
SIMILARITY = 0.6
#: Texts with fewer words are not compared ("Great talk!" from many people is no raid).
MIN_WORDS = 5
#: Values in a post's bottom-k sketch: its buckets.
SKETCH = 6
#: The window: posts older than this many seconds, or beyond this many, are forgotten.
WINDOW_SECONDS = 15 * 60.0
WINDOW_POSTS = 20_000

#: At most this many earlier texts are compared exactly with a new one.
MAX_COMPARED = 12
#: Posts kept per bucket (sketch value): the most recent.
BUCKET_SIZE = 16

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@＠][\w.@-]+")
_WORD = re.compile(r"\w+")


def shingles(text: str) -> frozenset[int]:
    """The text's word shingles (hashed), ignoring links, mentions, punctuation and case."""
    words = _WORD.findall(_NOISE.sub(" ", text).casefold())
    if len(words) < MIN_WORDS:
        return frozenset()
    # three-word shingles, hashed in C (zip and map: no Python loop per shingle)
    return frozenset(map(hash, zip(words, words[1:], words[2:], strict=False)))


def sketch(hashes: frozenset[int]) -> tuple[int, ...]:
    """The bottom-k MinHash sketch: the least :data:`SKETCH` shingle hashes."""
    return tuple(sorted(hashes)[:SKETCH])


def jaccard(one: frozenset[int], other: frozenset[int]) -> float:
    return len(one & other) / len(one | other)


@dataclass
class _Seen:
    author: str
    username: str
    hashes: frozenset[int]
    buckets: tuple[int, ...]
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
        #: sketch value -> the numbers of the posts that have it, oldest first; at most
        #: BUCKET_SIZE (a phrase everyone uses keeps only its latest posts)
        self.buckets: dict[int, list[int]] = {}
        self._next = 0

    def check(self, author: str, username: str, text: str) -> str | None:
        """The username of an earlier author of (nearly) this text within the window,
        or None — then the text is remembered as this author's."""
        hashes = shingles(text)
        if not hashes:
            return None
        now = self.clock()
        self._forget(now)
        keys = sketch(hashes)
        # candidates share at least two sketch values with the new text: one alone is
        # mostly a phrase everyone uses ("the keynote at #devconf26")
        hits: dict[int, int] = {}
        for key in keys:
            for number in self.buckets.get(key, ()):
                hits[number] = hits.get(number, 0) + 1
        need = min(2, len(keys))
        candidates = sorted((number for number, count in hits.items() if count >= need),
                            reverse=True)  # the newest first
        for number in candidates[:MAX_COMPARED]:
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
            bucket = self.buckets.setdefault(key, [])
            bucket.append(number)
            if len(bucket) > BUCKET_SIZE:
                del bucket[0]

    def _forget(self, now: float) -> None:
        while self.seen:
            number, oldest = next(iter(self.seen.items()))
            if (now - oldest.at <= self.window_seconds
                    and len(self.seen) < self.window_posts):
                return
            del self.seen[number]
            for key in oldest.buckets:
                bucket = self.buckets.get(key)
                if bucket and bucket[0] == number:  # else it left a crowded bucket already
                    del bucket[0]
                    if not bucket:
                        del self.buckets[key]
