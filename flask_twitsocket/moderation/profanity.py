"""The profanity rule's matcher: maintained word lists, compared word by word.

Why words, not substrings: "Scunthorpe", "Essex", "cocktail", German "Klasse" or French
"bassin" contain English swear words; a list entry only matches a whole word (or, for a
phrase, consecutive whole words) of the text. Why a set look-up per word rather than one
big regular expression: a thousand alternatives cost far more per post than a handful of
set look-ups, and this runs in the ingest path.

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

from .folding import fold

WORDLISTS = Path(__file__).parent / "wordlists"
#: The vendored lists, by language tag.
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt")
#: The list that applies whatever language a post is in.
EVERYWHERE = "en"

#: Leetspeak: digits and signs that stand for letters inside a word.
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                      "8": "b", "@": "a", "$": "s", "!": "i", "|": "l"})
_LEET_CHARS = frozenset("0134578@$!|")
#: A word of the folded text: letters and digits, plus the signs leetspeak uses inside a
#: word ("a$$", "sh!t"); a leading "@" (a mention) or "#" is not part of it.
_WORD = re.compile(r"[\w@$!|]+")
_RUNS = re.compile(r"(.)\1+")
_LONG_RUNS = re.compile(r"(.)\1{2,}")


def read_list(language: str) -> list[str]:
    path = WORDLISTS / f"{language}.txt"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@lru_cache(maxsize=1 << 16)
def _forms(word: str) -> frozenset[str]:
    """The readings of one word: as written, leetspeak read as letters, repeated
    letters squeezed to two ("asssss") and to one ("fuuuck"). Cached: the words of a
    wall's posts repeat (its hashtags, its speakers), and this is most of the rule's cost."""
    word = word.strip("@$!|_")
    forms = {word}
    if _LEET_CHARS.intersection(word) and not word.isdigit():
        forms.add(word.translate(LEET))
    for form in list(forms):
        if _RUNS.search(form):
            forms.add(_LONG_RUNS.sub(r"\1\1", form))
            forms.add(_RUNS.sub(r"\1", form))
    return frozenset(forms)


def words_of(text: str) -> list[str]:
    """The folded words of ``text`` (each a word as written; see :func:`_forms`); an
    underscore separates words, as in handles ("shit_happens")."""
    return _WORD.findall(fold(text).replace("_", " "))


class WordList:
    """Entries of one or more lists: single words in a set, phrases as word tuples."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.words: set[str] = set()
        self.phrases: dict[str, set[tuple[str, ...]]] = {}  # first word -> phrases
        self.seconds: set[str] = set()  # their second words
        self.longest = 1
        #: the entry as listed, by its folded words: the reason names "coño", not "cono"
        self.listed: dict[str, str] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: str) -> None:
        words = tuple(words_of(entry))
        self.listed.setdefault(" ".join(words), entry.strip().lower())
        if len(words) == 1:
            self.words.add(words[0])
        elif words:
            self.phrases.setdefault(words[0], set()).add(words)
            self.seconds.add(words[1])
            self.longest = max(self.longest, len(words))

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)

    def find(self, words: list[str]) -> str | None:
        """The first entry among ``words`` (folded words of a text), or None."""
        readings = list(map(_forms, words))
        listed, phrases = self.words, self.phrases
        every = frozenset().union(*readings)
        if every.isdisjoint(listed) and (every.isdisjoint(phrases.keys())
                                         or every.isdisjoint(self.seconds)):
            return None  # the usual case, decided in C: no word, no phrase's first two
        for index, forms in enumerate(readings):
            if not forms.isdisjoint(listed):
                word = min(forms & listed)
                return self.listed.get(word, word)
            if phrases:
                for form in forms:
                    for phrase in phrases.get(form, ()):
                        if self._phrase_at(readings, index, phrase):
                            joined = " ".join(phrase)
                            return self.listed.get(joined, joined)
        return None

    @staticmethod
    def _phrase_at(readings: list[set[str]], index: int, phrase: tuple[str, ...]) -> bool:
        if index + len(phrase) > len(readings):
            return False
        return all(word in readings[index + offset] for offset, word in enumerate(phrase))


class Profanity:
    """The lists per language, plus the organisers' own words (the console's)."""

    def __init__(self, languages: Iterable[str] = LANGUAGES,
                 extra: Iterable[str] = ()) -> None:
        self.by_language = {language: WordList(read_list(language))
                            for language in languages}
        everywhere = self.by_language.get(EVERYWHERE, WordList())
        for word in extra:
            everywhere.add(word)
        self.by_language[EVERYWHERE] = everywhere
        #: an untagged post is read with every list
        self.untagged = WordList()
        for wordlist in self.by_language.values():
            self.untagged.words |= wordlist.words
            self.untagged.listed.update(wordlist.listed)
            for first, phrases in wordlist.phrases.items():
                self.untagged.phrases.setdefault(first, set()).update(phrases)
            self.untagged.seconds |= wordlist.seconds
            self.untagged.longest = max(self.untagged.longest, wordlist.longest)
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
        words = words_of(text)
        for wordlist in [self.untagged] if lang is None else self._lists(lang):
            found = wordlist.find(words)
            if found:
                return found
        return None

    def _lists(self, lang: str) -> list[WordList]:
        own = self.by_language.get(lang)
        everywhere = self.by_language[EVERYWHERE]
        return [everywhere] if own is None or own is everywhere else [everywhere, own]
