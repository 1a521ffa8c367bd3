"""The profanity rule's matcher: maintained word lists, compared word by word.

Why words, not substrings: "Scunthorpe", "Essex", "cocktail", German "Klasse" or French
"bassin" contain English swear words; a list entry only matches a whole word (or, for a
phrase, consecutive whole words) of the text. Why a look-up per word rather than one big
regular expression: a thousand alternatives cost far more per post than a dict look-up
per word, and this runs in the ingest path, where a raid's posts arrive fastest.

How a post is read, cheapest first: its words (:func:`~.folding.words`, split once per
text for every rule), then each word's *role* in the list — listed, a phrase's first
word, a phrase's second word, or none — from a dict that remembers every word it has met
(a wall's words repeat), joined into one short string: a listed word is an "L" in it, a
phrase's first two words are "F" then "S", a regular expression's work on ~30
characters. Only a post where that finds something is read again word by word, for the
reason's exact wording.

What is compared is the :func:`~.folding.fold`-ed text (look-alike letters from Unicode's
confusables table, accents, zero-width characters, case), and for every word also its
leetspeak reading ("sh1t", "a$$") and its repeated letters squeezed ("fuuuuck", "shiit").

The lists are LDNOOBW's (see ``wordlists/PROVENANCE.md``): English applies to every post,
the others to posts tagged with their language or not tagged at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from .folding import words

WORDLISTS = Path(__file__).parent / "wordlists"
#: The vendored lists, by language tag.
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt")
#: The list that applies whatever language a post is in.
EVERYWHERE = "en"

#: Leetspeak: digits and signs that stand for letters inside a word.
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                      "8": "b", "@": "a", "$": "s", "!": "i", "|": "l"})
_LEET_CHARS = frozenset("0134578@$!|")
_RUNS = re.compile(r"(.)\1+")
_LONG_RUNS = re.compile(r"(.)\1{2,}")
#: A word's role in a list (:meth:`WordList.role`): listed, a phrase's first word, its
#: second, both of those, or none.
LISTED, FIRST, SECOND, FIRST_AND_SECOND, NONE = "L", "F", "S", "B", "."
#: A phrase's first word right before a second word, in a string of roles.
_PHRASE_START = re.compile("[FB][SB]")
#: Words whose role a list remembers, at most (then it starts again).
ROLES_KEPT = 1 << 16


def read_list(language: str) -> list[str]:
    path = WORDLISTS / f"{language}.txt"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@lru_cache(maxsize=1 << 16)
def _forms(word: str) -> tuple[str, ...]:
    """The readings of one word: as written, leetspeak read as letters, repeated
    letters squeezed to two ("asssss") and to one ("fuuuck"). Cached: the words of a
    wall's posts repeat (its hashtags, its speakers). A tuple, not a set: the cache's
    tuples of strings are left alone by the garbage collector."""
    word = word.strip("@$!|_")
    forms = {word}
    if _LEET_CHARS.intersection(word) and not word.isdigit():
        forms.add(word.translate(LEET))
    for form in list(forms):
        if _RUNS.search(form):
            forms.add(_LONG_RUNS.sub(r"\1\1", form))
            forms.add(_RUNS.sub(r"\1", form))
    return tuple(forms)


class _Roles(dict[str, str]):
    """word -> its role in one :class:`WordList`, worked out on first sight."""

    def __init__(self, wordlist: WordList) -> None:
        super().__init__()
        self.wordlist = wordlist

    def __missing__(self, word: str) -> str:
        if len(self) >= ROLES_KEPT:
            self.clear()
        role = self[word] = self.wordlist.role(_forms(word))
        return role


class WordList:
    """Entries of one or more lists: single words in a set, phrases as word tuples."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.words: set[str] = set()
        self.phrases: dict[str, set[tuple[str, ...]]] = {}  # first word -> phrases
        self.firsts: set[str] = set()  # the phrases' first words
        self.seconds: set[str] = set()  # their second words
        #: the entry as listed, by its folded words: the reason names "coño", not "cono"
        self.listed: dict[str, str] = {}
        self.roles = _Roles(self)
        for entry in entries:
            self.add(entry)

    def add(self, entry: str) -> None:
        found = words(entry)
        if not found:
            return
        self.listed.setdefault(" ".join(found), entry.strip().lower())
        if len(found) == 1:
            self.words.add(found[0])
        else:
            self.phrases.setdefault(found[0], set()).add(found)
            self.firsts.add(found[0])
            self.seconds.add(found[1])
        self.roles.clear()

    @classmethod
    def merged(cls, *lists: WordList) -> WordList:
        """One list with the entries of ``lists`` (the first one's wording wins)."""
        merged = cls()
        for wordlist in lists:
            merged.words |= wordlist.words
            for first, phrases in wordlist.phrases.items():
                merged.phrases.setdefault(first, set()).update(phrases)
            merged.firsts |= wordlist.firsts
            merged.seconds |= wordlist.seconds
            for key, entry in wordlist.listed.items():
                merged.listed.setdefault(key, entry)
        return merged

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)

    def role(self, forms: tuple[str, ...]) -> str:
        """The role in this list of a word that reads as ``forms``."""
        if not self.words.isdisjoint(forms):
            return LISTED
        first = not self.firsts.isdisjoint(forms)
        second = not self.seconds.isdisjoint(forms)
        return FIRST_AND_SECOND if first and second else FIRST if first else \
            SECOND if second else NONE

    def find(self, found: tuple[str, ...]) -> str | None:
        """The first entry among ``found`` (folded words of a text), or None."""
        roles = "".join(map(self.roles.__getitem__, found))
        if LISTED not in roles and not _PHRASE_START.search(roles):
            return None  # the usual case, decided in C
        readings = list(map(_forms, found))
        listed, phrases = self.words, self.phrases
        for index, forms in enumerate(readings):
            if not listed.isdisjoint(forms):
                word = min(listed.intersection(forms))
                return self.listed.get(word, word)
            for form in forms:
                for phrase in phrases.get(form, ()):
                    if self._phrase_at(readings, index, phrase):
                        joined = " ".join(phrase)
                        return self.listed.get(joined, joined)
        return None

    @staticmethod
    def _phrase_at(readings: list[tuple[str, ...]], index: int,
                   phrase: tuple[str, ...]) -> bool:
        if index + len(phrase) > len(readings):
            return False
        return all(word in readings[index + offset] for offset, word in enumerate(phrase))


class Profanity:
    """The lists per language, plus the organisers' own words (the console's)."""

    def __init__(self, languages: Iterable[str] = LANGUAGES,
                 extra: Iterable[str] = ()) -> None:
        own = {language: WordList(read_list(language)) for language in languages}
        everywhere = own.pop(EVERYWHERE, WordList())
        for word in extra:
            everywhere.add(word)
        #: per language tag, its list and the English one merged: a post is read once
        self.by_language = {language: WordList.merged(everywhere, wordlist)
                            for language, wordlist in own.items()}
        self.everywhere = everywhere
        #: an untagged post is read with every list
        self.untagged = WordList.merged(everywhere, *own.values())
        #: short texts — names and handles, which every post of an author repeats — are
        #: read once (a post's own text is usually new, and read each time)
        self._find_cached = lru_cache(maxsize=1 << 14)(self._find)

    def find(self, texts: Iterable[str], lang: str | None) -> str | None:
        """The first listed word or phrase in any of ``texts``, or None."""
        for text in texts:
            found = self._find_cached(text, lang) if len(text) <= 64 else \
                self._find(text, lang)
            if found:
                return found
        return None

    def _find(self, text: str, lang: str | None) -> str | None:
        if not text:
            return None
        wordlist = self.untagged if lang is None else \
            self.by_language.get(lang, self.everywhere)
        return wordlist.find(words(text))
