"""The ingest pipeline: raw events → normalise → moderate → store → announce on the bus.

Each step is one call, and a batch of events goes through together so a burst of posts
costs one transaction, not one per post. Nothing a network sends can stop the pipeline:
a malformed event is logged with the reason and skipped, and the rest of its batch is
stored as usual. Should the database still refuse a batch for any other reason than a
lost connection, the batch is split in halves until the offending event is found, which
is logged as malformed and dropped (:meth:`Ingestor.ingest`); only connection errors reach
the caller, who waits for the database (:mod:`flask_twitsocket.stream`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .bus import Bus
from .moderation import Gate
from .normalise import normalise
from .normalise.storable import MAX_EVENT_CHARS, raw_json
from .serialise import dumps, loads
from .shapes import Edit, MalformedEvent, Normalised, PostData, RawEvent
from .store import ApplyResult, Change, PostStore, is_connection_error

__all__ = ["Ingestor", "IngestStats", "RawEvent", "parse"]

log = logging.getLogger("flask_twitsocket.pipeline")


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
    #: Dropped (never stored) because the author asked not to be shown: consent.
    opted_out: int = 0

    def add(self, other: IngestStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def parse(event: RawEvent) -> Normalised:
    """One raw event normalised and storable, or :class:`MalformedEvent`."""
    payload = event.payload
    if not isinstance(payload, (bytes, str)):
        return _with_raw_text(normalise(event.network, payload))
    if len(payload) > MAX_EVENT_CHARS:
        raise MalformedEvent(f"the event is {len(payload)} long, over the {MAX_EVENT_CHARS} "
                             "allowed")
    try:
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedEvent(f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        parsed = loads(payload)
    except (ValueError, RecursionError) as error:  # RecursionError: deeply nested JSON
        raise MalformedEvent(f"not JSON: {str(error)[:200]}") from None
    item = normalise(event.network, parsed)
    # The text just parsed IS the raw JSON of the event: keep it for the ``raw`` column
    # rather than encoding the dict back (that was 5% of ingest). Only when the post's
    # ``raw`` is the whole event; a normaliser that keeps a part of it is left alone.
    post = item.post if isinstance(item, Edit) else item
    if isinstance(post, PostData) and post.raw is parsed:
        post.raw_text = payload.strip()
    return _with_raw_text(item)


def _with_raw_text(item: Normalised) -> Normalised:
    """Encode a post's raw event now, not in the store: an event that cannot be encoded
    or is too big is malformed here, like any other, instead of failing its batch."""
    post = item.post if isinstance(item, Edit) else item
    if isinstance(post, PostData) and post.raw_text is None:
        post.raw_text = raw_json(post.raw, dumps)
    return item


class Ingestor:
    """Normalise, screen and store batches. The moderation ``gate`` drops posts by banned
    authors (configuration and console bans: one check) and with blocked words, and the
    delay/pre trust modes hold posts back instead of storing them.

    Built by :func:`flask_twitsocket.state.build_ingestor`, the one way the stream
    command, the demo, the benchmarks and the tests assemble it."""

    def __init__(self, store: PostStore, bus: Bus, gate: Gate) -> None:
        self.store = store
        self.bus = bus
        self.gate = gate

    def tick(self) -> None:
        """Periodic work between batches: release delayed posts that are due."""
        journal_id = self.gate.release_due()
        if journal_id is not None:
            self.bus.notify(journal_id)

    def waiting(self) -> bool:
        """Whether posts still wait for the release timer (keep the process running)."""
        return self.gate.waiting()

    def ingest(self, events: Sequence[RawEvent]) -> IngestStats:
        """Store a batch; only a lost database connection raises (nothing was dropped).

        Any other failure means the database (or moderation) refuses something in the
        batch that normalising did not catch: the batch is split in halves, each ingested
        on its own, down to the single offending event, which is logged as malformed and
        dropped. A poison post among 500 costs about 18 transactions, once.
        """
        try:
            return self._ingest(events)
        except Exception as error:
            if is_connection_error(error):
                raise
            if len(events) == 1:
                return self._refused(events[0], error)
            half = len(events) // 2
            stats = self.ingest(events[:half])
            stats.add(self.ingest(events[half:]))
            return stats

    @staticmethod
    def _refused(event: RawEvent, error: Exception) -> IngestStats:
        log.warning("Skipped a malformed %s event %s: the database refused it (%s: %s)",
                    event.network, _event_id(event), type(error).__name__,
                    str(error).strip().splitlines()[0][:200] if str(error).strip() else "")
        return IngestStats(received=1, malformed=1)

    def _ingest(self, events: Sequence[RawEvent]) -> IngestStats:
        stats = IngestStats(received=len(events))
        items: list[Normalised] = []
        for event in events:
            try:
                item = parse(event)
            except MalformedEvent as error:
                stats.malformed += 1
                log.warning("Skipped a malformed %s event %s: %s", event.network,
                            _event_id(event), error)
                continue
            if item is not None:
                items.append(item)
        items, holding = self._moderate(items, stats)
        if not items and holding is None:
            return stats
        # the held posts are queued in the transaction that stores the rest: one commit
        result = self.store.apply(items, holding, self.gate.holds)
        self._count(stats, result)
        if result.journal_id is not None:
            self.bus.notify(result.journal_id)
        return stats

    def _moderate(self, items: list[Normalised], stats: IngestStats,
                  ) -> tuple[list[Normalised], Change | None]:
        """The gate's say on new posts and edits; deletions go on to the store. Returns
        the items to store and the change that holds the rest (for the same
        transaction)."""
        posts = [item for item in items if isinstance(item, PostData)]
        # an edit that brings in a blocked word (or a banned author's text) is not shown:
        # the post is hidden instead, its earlier text with it
        policed = self.gate.police_edits([item for item in items if isinstance(item, Edit)])
        if not posts and not policed:
            return items, None
        direct, held, rejected = self.gate.screen(posts)
        stats.banned += rejected.get("ban", 0)
        stats.blocked += rejected.get("word", 0) + len(policed)
        stats.opted_out += rejected.get("consent", 0)
        stats.held = len(held)
        keep = {id(post) for post in direct}
        drop = {id(edit) for edit in policed}
        items = [item for item in items if id(item) not in drop
                 and (not isinstance(item, PostData) or id(item) in keep)]
        self.gate.hide_edited(policed)
        return items, self.gate.holding(held, rejected)

    @staticmethod
    def _count(stats: IngestStats, result: ApplyResult) -> None:
        stats.stored = len(result.stored)
        stats.duplicates = result.duplicates
        stats.edited = result.edited
        stats.deleted = result.deleted
        log_new_posts(result.stored)


def _event_id(event: RawEvent) -> str:
    """The post id a raw event names, for log lines: a best guess from the usual places
    (X's ``data.id``/``id_str``, Mastodon's status, Bluesky's DID and record key), because
    the event may be too broken to normalise."""
    payload = event.payload
    if isinstance(payload, (str, bytes)):
        try:
            payload = loads(payload) if len(payload) <= MAX_EVENT_CHARS else None
        except (ValueError, RecursionError):
            payload = None
        if payload is None:  # unreadable as a whole: look for an id near its start
            return _guessed_id(event.payload)
    if not isinstance(payload, dict):
        return "(no id)"
    commit = payload.get("commit")
    if isinstance(commit, dict) and "rkey" in commit:
        return f"at://{payload.get('did')}/{commit.get('collection')}/{commit['rkey']}"[:200]
    for place in (payload.get("data"), payload.get("payload"), payload):
        if isinstance(place, dict) and (place.get("id_str") or place.get("id")) is not None:
            return repr(place.get("id_str") or place.get("id"))[:80]
        if isinstance(place, (str, int)) and place is not payload:
            return repr(place)[:80]
    return "(no id)"


_ID_NEAR_START = re.compile(r'"(id_str|id|rkey)"\s*:\s*"?([^",}\s]{1,80})')


def _guessed_id(payload: str | bytes) -> str:
    start = payload[:4096]
    if isinstance(start, bytes):
        start = start.decode("utf-8", "replace")
    found = {key: value for key, value in _ID_NEAR_START.findall(start)[::-1]}
    guess = found.get("id_str") or found.get("id") or found.get("rkey")
    return f"{guess!r} (guessed)" if guess else "(no id)"


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
