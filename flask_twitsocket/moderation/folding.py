"""Blocked words are matched on a *folded* text: what a person reads, not the code points a
poster chose to get past the rule — a zero-width space or soft hyphen inside the word,
full-width letters, accents piled on, Cyrillic or Greek look-alikes.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from confusable_homoglyphs import confusables


def _latin_lookalikes() -> dict[int, str]:
    """Every non-ASCII character that Unicode's confusables table (``confusables.txt``,
    shipped by the ``confusable_homoglyphs`` package and kept up to date there) says
    looks like one ASCII letter, mapped to that letter in lower case: Cyrillic "а",
    Greek "ο", Cherokee "Ꭺ", mathematical and IPA letters alike. ASCII characters keep
    their meaning ("1" is a digit to the leetspeak step, not an "l")."""
    table: dict[int, str] = {}
    for char, entries in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in entries:
            target = entry.get("c", "")
            if len(target) == 1 and target.isascii() and target.isalpha():
                table[ord(char)] = target.lower()
                break
    return table


#: Look-alike letters to Latin ones, both cases (folding maps a look-alike before case is
#: folded: Greek capital Ν reads "N", its small ν reads "v").
HOMOGLYPHS = _latin_lookalikes()
#: Invisible characters that Unicode calls default-ignorable but not "format" (Cf).
_IGNORABLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
#: Dropped after NFD: combining marks (Mn, Me) and format characters (Cf: zero-width
#: space and joiners, soft hyphen, bidi controls, word joiner, BOM).
_DROPPED_CATEGORIES = frozenset(("Mn", "Me", "Cf"))


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def fold(text: str) -> str:
    """``text`` as blocked words are compared: NFKC (full-width and styled letters become
    plain ones), look-alikes mapped to Latin, accents and invisible characters removed,
    case folded. Plain ASCII — most posts — only has its case folded; otherwise only the
    runs of non-ASCII characters are folded, each run once per process (:func:`_fold_run`
    is cached: a wall's emoji and accented names repeat)."""
    if text.isascii():
        return text.lower()
    return _NON_ASCII.sub(_folded_match, text).lower()


def _folded_match(match: re.Match[str]) -> str:
    return _fold_run(match.group())


@lru_cache(maxsize=1 << 16)
def _fold_run(run: str) -> str:
    text = unicodedata.normalize("NFKC", run).translate(HOMOGLYPHS)
    kept = "".join(char for char in unicodedata.normalize("NFD", text)
                   if unicodedata.category(char) not in _DROPPED_CATEGORIES
                   and char not in _IGNORABLE_LETTERS)
    return unicodedata.normalize("NFC", kept.casefold()).translate(HOMOGLYPHS)


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole words only, to search a :func:`fold`-ed text: "ass" blocks "Ass!", "#ass"
    and "аss" (Cyrillic а), not "class"."""
    words = [re.escape(word) for word in fold(phrase).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")
