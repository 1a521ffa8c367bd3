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


#: Links are not read: a link's pieces are no words a reader sees on the wall (the wall
#: shows the link card; blocked domains are the link rule's business), and a shortened
#: link's random letters would now and then spell a listed word.
_LINKS = re.compile(r"https?://\S+|www\.\S+")
#: What is not part of a word of a folded text: a word is letters and digits, plus the
#: signs leetspeak uses inside a word ("a$$", "sh!t").
_NOT_WORD = re.compile(r"[^\w@$!|]|_")
#: The ASCII side of the same split, for ``bytes.translate``: letters to lower case,
#: digits and "@$!|" kept, every other ASCII byte a space; non-ASCII bytes (UTF-8
#: sequences, folded before) are kept.
_WORD_BYTES = bytes(byte if byte > 127 else ord(chr(byte).lower())
                    if chr(byte).isalnum() or chr(byte) in "@$!|" else ord(" ")
                    for byte in range(256))


@lru_cache(maxsize=1 << 10)
def words(text: str) -> tuple[str, ...]:
    r"""The words of :func:`fold`-ed ``text``, without its links — what the profanity rule
    reads and the raid rule compares, split once per text (cached: every rule of a post
    asks for the same text's words).

    Split in C, not by a regular expression stepping through every character: each run
    of non-ASCII characters is folded on its own (cached, as in :func:`fold`) with its
    separators made spaces (an emoji, a dash, a curly quote); then the text's UTF-8 bytes
    go through one ``bytes.translate`` (ASCII separators to spaces, ASCII letters to
    lower case) and ``str.split``. The words are those of
    ``re.findall(r"[\w@$!|]+", fold(text).replace("_", " "))``, at a fraction of the
    cost. A tuple: a cache of lists of strings would be walked by the garbage collector."""
    if "://" in text or "www." in text:
        text = _LINKS.sub(" ", text)
    if not text.isascii():
        text = _NON_ASCII.sub(_folded_run_words, text)
    return tuple(text.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).decode(
        "utf-8", "surrogatepass").split())


def _folded_run_words(match: re.Match[str]) -> str:
    return _run_words(match.group())


@lru_cache(maxsize=1 << 16)
def _run_words(run: str) -> str:
    return _NOT_WORD.sub(" ", _fold_run(run).lower())
