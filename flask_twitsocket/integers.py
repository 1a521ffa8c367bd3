"""Whole numbers from untrusted text: query strings, headers, form fields, console targets.

``str.isdigit()`` is the wrong test for them: it accepts ``²``, ``٣`` and other Unicode
digits that ``int()`` then refuses (or reads as Arabic-Indic digits), and it sets no upper
bound, so ``99999999999999999999`` reached the database and overflowed its 64-bit column.
Both were 500s with a traceback. Here only ASCII digits count, and the value is checked
against a range before anyone uses it, so a bad value is a clear ``ValueError`` naming the
parameter — which the web layer turns into a 400 (or a default, where it was lenient).
"""

from __future__ import annotations

import re

#: The largest value a BIGINT column (every id and seq) holds: 2**63 - 1.
MAX_BIGINT = 2**63 - 1
#: More digits than this cannot be in range; refused before ``int()`` reads them.
_MAX_DIGITS = len(str(MAX_BIGINT))
_ASCII_DIGITS = re.compile(r"[0-9]+")


def parse_whole(raw: str, name: str, minimum: int = 0, maximum: int = MAX_BIGINT,
                clamp: bool = False) -> int:
    """``raw`` as an int in ``minimum..maximum``, or ``ValueError`` saying what is wanted.

    With ``clamp``, a well-formed value above ``maximum`` becomes ``maximum`` (for limits,
    where "as many as you allow" is what a too-large number means)."""
    if not _ASCII_DIGITS.fullmatch(raw):
        raise ValueError(f"{name} must be a whole number (digits 0-9) of at least {minimum}")
    digits = raw.lstrip("0") or "0"
    value = maximum + 1 if len(digits) > _MAX_DIGITS else int(digits)
    if value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}")
    if value > maximum:
        if clamp:
            return maximum
        raise ValueError(f"{name} must be a whole number from {minimum} to {maximum}")
    return value
