"""The ingest pipeline: raw events → normalise → filter → store → announce on the bus.

Each step is one call, and a batch of events goes through together so a burst of posts
costs one transaction, not one per post. Nothing a network sends can stop the pipeline:
a malformed event is logged with the reason and skipped, and the rest of its batch is
stored as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .bus import Bus
from .filters import BanList
from .normalise import MalformedEvent, Normalised, PostData, normalise
from .serialise import loads
from .store import ApplyResult, PostStore

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

    def add(self, other: IngestStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def parse(event: RawEvent) -> Normalised:
    payload = event.payload
    if isinstance(payload, (bytes, str)):
        try:
            payload = loads(payload)
        except ValueError as error:
            raise MalformedEvent(f"not JSON: {error}") from None
    return normalise(event.network, payload)


class Ingestor:
    def __init__(self, store: PostStore, bus: Bus, banned: BanList) -> None:
        self.store = store
        self.bus = bus
        self.banned = banned

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
        if not items:
            return stats
        result = self.store.apply(items)
        self._count(stats, result)
        if result.stored or result.edited or result.deleted:
            self.bus.notify(result.journal_id)
        return stats

    @staticmethod
    def _count(stats: IngestStats, result: ApplyResult) -> None:
        stats.stored = len(result.stored)
        stats.duplicates = result.duplicates
        stats.edited = result.edited
        stats.deleted = result.deleted
        for post in result.stored:
            log.info("New post %s:%s by @%s", post["network"], post["id"],
                     post["author"]["username"])
