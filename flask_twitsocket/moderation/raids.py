"""Copy-paste raids: the same text from several accounts within a window.

A post's text without links, mentions, case, accents and look-alike letters becomes a
set of word shingles (three consecutive words); two texts are near-identical when those
sets overlap by at least :data:`SIMILARITY` (Jaccard), which survives a changed word or
an added emoji. Comparing each new post with every recent one would cost O(window) per
post, exactly when posts arrive fastest: instead each post is sketched by MinHash in its
one-hash, bottom-k form (the :data:`SKETCH` least shingle hashes), and only posts whose
sketches share at least two values are compared exactly (locality-sensitive hashing).
Two texts of Jaccard similarity J share a sketch value for each of the k least hashes of
their union that is in both, so they share fewer than two with the binomial probability
``(1-J)^k + k·J·(1-J)^(k-1)``: 4% at the threshold (J = 0.6), 0.2% at J = 0.8, ~0 for
a copy with a mention changed.

Why this shape: every step is one call into C per post, not a Python step per shingle
or per earlier post — a raid is exactly when posts arrive fastest. The shingles are
hashed by ``map(hash, zip(…))``; "shares two sketch values" is "shares one *pair* of
sketch values", and each pair is one key of a dict (``pair -> the latest post with
it``), so the candidates are ``map(index.get, pairs)``, and remembering a post is one
``dict.update``. At most :data:`MAX_COMPARED` candidates are compared exactly. (The
k-salt form of MinHash cost 100 µs per post in Python; counting shared values bucket by
bucket, 60–150 µs.) Before any of that, a text with exactly the words of a remembered
one from another account — most of a raid: a copy as it was pasted — is found by one
look-up of its words' hash, and is not sketched at all (8 µs a post instead of 21 in
the benchmark's raid).

The window is bounded in time and size, kept in memory by the stream process: no
database query per post. It starts from the recent stored posts
(:meth:`RaidWatch.remember`), so a restart mid-raid does not forget the first post.

The first post of a text goes up; a near-identical one from *another* account within
the window is held, naming the first ("duplicate of @x's post"). An author repeating
themself is the flood rule's business.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from itertools import combinations, repeat

from .folding import words

#: Jaccard similarity of shingle sets from which two texts count as the same text.
SIMILARITY = 0.6
#: Texts with fewer words are not compared ("Great talk!" from many people is no raid).
MIN_WORDS = 5
#: Values in a post's bottom-k sketch, and the pairs of them.
SKETCH = 6
PAIRS = SKETCH * (SKETCH - 1) // 2
#: The window: posts older than this many seconds, or beyond this many, are forgotten.
WINDOW_SECONDS = 15 * 60.0
WINDOW_POSTS = 20_000
#: At most this many earlier texts are compared exactly with a new one.
MAX_COMPARED = 12

def compared_words(text: str) -> tuple[str, ...] | list[str]:
    """The words a text is compared by: the folded ones the profanity rule read
    (:func:`~.folding.words`, cached: a text is split once), without mentions; empty for
    a text of fewer than :data:`MIN_WORDS` words. The mentions are left out by a list
    comprehension, and only when the text has an "@" (a full-width "＠" folds to one):
    ``filterfalse(methodcaller("startswith", "@"), …)`` cost 0.3 µs a word."""
    found = words(text)
    if "@" in text or not text.isascii():
        found = [word for word in found if word[0] != "@"]
    return found if len(found) >= MIN_WORDS else ()


def shingles(found: tuple[str, ...] | list[str]) -> frozenset[int]:
    """The three-word shingles of :func:`compared_words`, hashed in C (zip and map: no
    Python step per shingle)."""
    return frozenset(map(hash, zip(found, found[1:], found[2:], strict=False)))


def sketch_pairs(hashes: frozenset[int]) -> list[int]:
    """The pairs of the bottom-k MinHash sketch (the least :data:`SKETCH` shingle
    hashes), each hashed to one int: two texts sharing two sketch values share one."""
    least = sorted(hashes)[:SKETCH]
    if len(least) == 1:
        return [hash((least[0],))]
    return list(map(hash, combinations(least, 2)))


def similar(one: frozenset[int], other: tuple[int, ...]) -> bool:
    """Whether the Jaccard similarity of ``one`` and ``other`` (distinct values) reaches
    :data:`SIMILARITY` (sizes alone rule most pairs out: |A∩B| / |A∪B| <= min / max)."""
    small, large = sorted((len(one), len(other)))
    if small < SIMILARITY * large:
        return False
    shared = len(one.intersection(other))
    return shared >= SIMILARITY * (small + large - shared)


#: A remembered post: ``(author, username, shingle hashes, when)``. A plain tuple, its
#: hashes a tuple too: tuples of strings and ints are left alone by the garbage
#: collector, and a full window is 20,000 of them.
Seen = tuple[str, str, tuple[int, ...], float]


class RaidWatch:
    """The recent texts, indexed; :meth:`check` answers "a copy of whose post?"."""

    def __init__(self, window_seconds: float = WINDOW_SECONDS,
                 window_posts: int = WINDOW_POSTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self.window_posts = window_posts
        self.clock = clock
        self.seen: dict[int, Seen] = {}
        #: ``(when, number)`` of the remembered posts, oldest first
        self.order: deque[tuple[float, int]] = deque()
        #: sketch pair -> the number of the latest remembered post with it; entries of
        #: forgotten posts are skipped when met and swept when the index grows large
        self.index: dict[int, int] = {}
        #: the hash of a text's compared words -> the latest remembered post with exactly
        #: those words (swept with the index): a copy as it was pasted — most of a
        #: raid — is found by one look-up, without a sketch
        self.texts: dict[int, int] = {}
        self._next = 1

    def check(self, author: str, username: str, text: str) -> str | None:
        """The username of an earlier author of (nearly) this text within the window,
        or None — then the text is remembered as this author's."""
        found = compared_words(text)
        if not found:
            return None
        now = self.clock()
        self._forget(now)
        seen = self.seen
        key = hash(tuple(found))
        same = seen.get(self.texts.get(key, 0))
        if same is not None and same[0] != author:
            return same[1]
        hashes = shingles(found)
        pairs = sketch_pairs(hashes)
        candidates = set(filter(None, map(self.index.get, pairs)))
        if candidates:
            for number in sorted(candidates, reverse=True)[:MAX_COMPARED]:  # newest first
                earlier = seen.get(number)
                if earlier is not None and earlier[0] != author \
                        and similar(hashes, earlier[2]):
                    return earlier[1]
        self._remember((author, username, tuple(hashes), now), key, pairs)
        return None

    def remember(self, author: str, username: str, text: str, age_seconds: float) -> None:
        """Remember a post that went up ``age_seconds`` ago (the stream's start: the
        recent stored posts), as :meth:`check` would have; oldest first."""
        found = compared_words(text)
        if found and age_seconds <= self.window_seconds:
            hashes = shingles(found)
            self._remember((author, username, tuple(hashes), self.clock() - age_seconds),
                           hash(tuple(found)), sketch_pairs(hashes))

    def _remember(self, entry: Seen, key: int, pairs: list[int]) -> None:
        number = self._next
        self._next += 1
        seen = self.seen
        seen[number] = entry
        self.order.append((entry[3], number))
        self.texts[key] = number
        self.index.update(zip(pairs, repeat(number)))
        if len(self.index) > 2 * PAIRS * max(len(seen), 1_000):
            self.index = {pair: number for pair, number in self.index.items()
                          if number in seen}
            self.texts = {key: number for key, number in self.texts.items()
                          if number in seen}

    def _forget(self, now: float) -> None:
        order, start = self.order, now - self.window_seconds
        while order and (order[0][0] < start or len(order) >= self.window_posts):
            del self.seen[order.popleft()[1]]
