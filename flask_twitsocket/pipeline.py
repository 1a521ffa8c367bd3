"""The ingest pipeline: raw events → normalise → filter → store → announce on the bus.

Each step is one call, and a batch of events goes through together so a burst of posts
costs one transaction, not one per post. Nothing a network sends can stop the pipeline:
a malformed event is logged with the reason and skipped, and the rest of its batch is
stored as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .bus import Bus
from .filters import BanList
from .normalise import Edit, MalformedEvent, Normalised, PostData, normalise
from .serialise import loads
from .store import ApplyResult, PostStore

if TYPE_CHECKING:
    from .moderation import Gate

log = logging.getLogger("flask_twitsocket.pipeline")


@dataclass(frozen=True)
class RawEvent:
    """One event exactly as a network sent it: a JSON text/bytes or an already-parsed dict."""

    network: str
    payload: Any


@dataclass
class IngestStats:
    received: int = 0
    malformed: int = 0
    banned: int = 0
    stored: int = 0
    duplicates: int = 0
    edited: int = 0
    deleted: int = 0
    #: Moderation: held back for the console (delay/pre), dropped for a blocked word.
    held: int = 0
    blocked: int = 0

    def add(self, other: IngestStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def parse(event: RawEvent) -> Normalised:
    payload = event.payload
    if not isinstance(payload, (bytes, str)):
        return normalise(event.network, payload)
    try:
        parsed = loads(payload)
    except ValueError as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    item = normalise(event.network, parsed)
    # The text just parsed IS the raw JSON of the event: keep it for the ``raw`` column
    # rather than encoding the dict back (that was 5% of ingest). Only when the post's
    # ``raw`` is the whole event; a normaliser that keeps a part of it is left alone.
    post = item.post if isinstance(item, Edit) else item
    if isinstance(post, PostData) and post.raw is parsed:
        # (bytes that are not UTF-8 can be JSON for the stdlib parser: then re-encode)
        with suppress(UnicodeDecodeError):
            post.raw_text = (payload if isinstance(payload, str) else payload.decode()).strip()
    return item


class Ingestor:
    """Normalise, filter and store batches. With a moderation ``gate`` (the stream
    process has one unless moderation is off), console bans and blocked words drop posts
    too, and the delay/pre trust modes hold posts back instead of storing them."""

    def __init__(self, store: PostStore, bus: Bus, banned: BanList,
                 gate: Gate | None = None) -> None:
        self.store = store
        self.bus = bus
        self.banned = banned
        self.gate = gate

    def tick(self) -> None:
        """Periodic work between batches: release delayed posts that are due."""
        journal_id = self.gate.release_due() if self.gate is not None else None
        if journal_id is not None:
            self.bus.notify(journal_id)

    def waiting(self) -> bool:
        """Whether posts still wait for the release timer (keep the process running)."""
        return self.gate is not None and self.gate.waiting()

    def ingest(self, events: Sequence[RawEvent]) -> IngestStats:
        stats = IngestStats(received=len(events))
        items: list[Normalised] = []
        for event in events:
            try:
                item = parse(event)
            except MalformedEvent as error:
                stats.malformed += 1
                log.warning("Skipped a malformed %s event: %s", event.network, error)
                continue
            if isinstance(item, PostData) and self.banned.rejects(item):
                stats.banned += 1
                log.info("Dropped a post by banned user @%s (%s)", item.author.username,
                         item.network)
                continue
            if item is not None:
                items.append(item)
        held_id = None
        if self.gate is not None:
            items, held_id = self._moderate(items, stats)
        if not items:
            if held_id is not None:
                self.bus.notify(held_id)
            return stats
        result = self.store.apply(items)
        self._count(stats, result)
        if result.stored or result.edited or result.deleted or held_id is not None:
            self.bus.notify(max(result.journal_id or 0, held_id or 0))
        return stats

    def _moderate(self, items: list[Normalised], stats: IngestStats,
                  ) -> tuple[list[Normalised], int | None]:
        """The gate's say on new posts; edits and deletions go on to the store."""
        assert self.gate is not None
        posts = [item for item in items if isinstance(item, PostData)]
        # an edit that brings in a blocked word (or a banned author's text) is not shown:
        # the post is hidden instead, its earlier text with it
        policed = self.gate.police_edits([item for item in items if isinstance(item, Edit)])
        if not posts and not policed:
            return items, None
        direct, held, rejected = self.gate.screen(posts)
        stats.banned += rejected.get("ban", 0)
        stats.blocked += rejected.get("word", 0) + len(policed)
        stats.held = len(held)
        keep = {id(post) for post in direct}
        drop = {id(edit) for edit in policed}
        items = [item for item in items if id(item) not in drop
                 and (not isinstance(item, PostData) or id(item) in keep)]
        self.gate.hide_edited(policed)
        return items, self.gate.hold(held)

    @staticmethod
    def _count(stats: IngestStats, result: ApplyResult) -> None:
        stats.stored = len(result.stored)
        stats.duplicates = result.duplicates
        stats.edited = result.edited
        stats.deleted = result.deleted
        log_new_posts(result.stored)


#: Up to this many new posts in one batch, each gets its own log line; a bigger burst (a
#: catch-up, a replay) gets one summary line, or the log would take 10% of ingest time and
#: scroll faster than anyone reads. Every post is logged at DEBUG level either way.
LOG_EACH_POST_UP_TO = 20


def log_new_posts(stored: Sequence[dict[str, Any]]) -> None:
    def line(post: dict[str, Any]) -> str:
        return f"{post['network']}:{post['id']} by @{post['author']['username']}"

    if len(stored) <= LOG_EACH_POST_UP_TO:
        for post in stored:
            log.info("New post %s", line(post))
        return
    log.info("%d new posts, from %s to %s", len(stored), line(stored[0]), line(stored[-1]))
    if log.isEnabledFor(logging.DEBUG):
        for post in stored:
            log.debug("New post %s", line(post))
