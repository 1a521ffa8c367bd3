"""Which raw Jetstream lines concern the wall: cheap enough for the whole network's posts.

Jetstream sends every new post of the network, tens per second, so the filter runs on
every message: a case-insensitive substring pre-check on the raw JSON line skips almost
everything without parsing it, and only candidates are parsed and matched properly (whole
words in the text, hashtags also from facets and the record's tags, tracked accounts by
DID). ``benchmarks/bench_jetstream_filter.py`` measures it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Iterable, Iterator
from typing import Any

from ..normalise.bluesky import POST, at_uri

_DELETE = re.compile(r'"operation"\s*:\s*"delete"')
_RKEY = re.compile(r'"rkey"\s*:\s*"([^"]+)"')


class JetstreamFilter:
    """Decides, per raw Jetstream line, whether it concerns the wall.

    ``select`` returns the parsed event for a post that matches (or any post delete: the
    caller knows which posts it has), the line itself if a candidate is not valid JSON
    (the pipeline logs it), else ``None``.
    """

    def __init__(self, keywords: Iterable[str], dids: Iterable[str] = (),
                 known: Container[str] | None = None) -> None:
        #: AT URIs of the posts the wall has: deletes of others are skipped unparsed.
        self.known = known
        words = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len,
                       reverse=True)
        self.dids = frozenset(dids)
        self.tags = frozenset(w.lstrip("#") for w in words if " " not in w.strip("#"))
        alternatives = "|".join(map(re.escape, words))
        self.text = (re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
                     if words else None)
        # The pre-check: plain substrings of the lower-cased raw line. No word boundaries
        # (in raw JSON a word may follow an escape such as "\n"), and no needle that
        # contains another ("devconf" covers "devconf26"): str.__contains__ is far cheaper
        # than a case-insensitive regex alternation, which tries every needle everywhere.
        needles: set[str] = set()
        for word in words:
            bare = word.lstrip("#@").lower()
            needles.update({bare, json.dumps(bare)[1:-1]})  # as a JSON writer may escape it
        self.needles = tuple(sorted(n for n in needles
                                    if n and not any(o != n and o in n for o in needles)))

    def select(self, line: str) -> dict[str, Any] | str | None:
        if _DELETE.search(line):
            if self.known is not None and self._deleted_uri(line) not in self.known:
                return None  # the network deletes posts all the time; not ours
            event = _loads(line)
            if isinstance(event, dict) and commit_of(event).get("operation") == "delete":
                return event if commit_of(event).get("collection") == POST else None
        elif (self.dids and self._author(line) in self.dids) or self._mentions_a_keyword(line):
            event = _loads(line)
        else:
            return None
        if event is None:
            return line
        return event if self.matches(event) else None

    def _deleted_uri(self, line: str) -> str | None:
        rkey = _RKEY.search(line)
        did = self._author(line)
        return at_uri(did, rkey.group(1)) if rkey and did else None

    def _author(self, line: str) -> str | None:
        """The DID without parsing: Jetstream lines start with ``{"did":"did:…",``."""
        if line.startswith('{"did":"'):
            end = line.find('"', 8)
            return line[8:end] if end > 0 else None
        event = _loads(line)  # another layout: pay for a parse
        return event.get("did") if isinstance(event, dict) else None

    def _mentions_a_keyword(self, line: str) -> bool:
        if not self.needles:
            return False
        lowered = line.lower()
        return any(needle in lowered for needle in self.needles)

    def matches(self, event: dict[str, Any]) -> bool:
        commit = commit_of(event)
        if commit.get("collection") != POST or commit.get("operation") not in ("create",
                                                                               "update"):
            return False
        if event.get("did") in self.dids:
            return True
        record = commit.get("record")
        if not isinstance(record, dict):
            return False
        text = record.get("text")
        if self.text is not None and isinstance(text, str) and self.text.search(text):
            return True
        return bool(self.tags) and any(tag.lower() in self.tags for tag in _tags(record))


def _loads(line: str) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: deeply nested JSON
        return None


def commit_of(event: dict[str, Any]) -> dict[str, Any]:
    commit = event.get("commit") if event.get("kind") == "commit" else None
    return commit if isinstance(commit, dict) else {}


def _tags(record: dict[str, Any]) -> Iterator[str]:
    """Hashtags from facets and the record's extra ``tags`` (not shown in the text)."""
    for tag in record.get("tags") or ():
        if isinstance(tag, str):
            yield tag
    for facet in record.get("facets") or ():
        for feature in (facet.get("features") or ()) if isinstance(facet, dict) else ():
            if isinstance(feature, dict) and isinstance(feature.get("tag"), str):
                yield feature["tag"]
