"""Blocked words are matched on a *folded* text: what a person reads, not the code points a
poster chose to get past the rule — a zero-width space or soft hyphen inside the word,
full-width letters, accents piled on, Cyrillic or Greek look-alikes.
"""

from __future__ import annotations

import re
import unicodedata

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
