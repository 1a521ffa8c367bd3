"""The stream process's moderation: screen new posts, hold them back, release them.

:class:`Gate` runs between the normaliser and the store. It drops posts by banned authors
(configuration and console bans alike: one :class:`~.rules.Rules`), holds posts with a
blocked word or caught by an automatic rule (:mod:`.auto`) for a moderator, and, in the
``delay`` and ``pre`` trust modes, holds posts back (:mod:`.pending`) instead of storing
them. With moderation ``off`` it applies the configuration's bans only, and
reads no table.

The stream process also runs the ``delay`` release timer (:meth:`Gate.release_due`, called
from the runner's loop, which wakes at least every half second): it is the one long-lived
writer already, needs no extra thread or process, and a web worker (of which there are
many, and which may be recycled) would otherwise have to elect who releases.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from ..config_table import AUTO_RULES
from ..messages import Outgoing
from ..models import ModerationAction, ModerationRule
from ..serialise import loads
from ..shapes import Edit, PostData
from ..store import Change, PostStore, post_row
from ..store.tables import Key
from ..store.visibility import recent_posts
from .actions import Moderation, ModerationError
from .auto import AutoRules, Verdict, blocked_word_verdict, post_texts
from .pending import (
    count_drops,
    due_posts,
    hold_for_words,
    hold_rows,
    now,
    queue_messages,
    release_held,
    set_vetoed,
)
from .raids import WINDOW_POSTS
from .rules import Facts, Rules
from .wall_holds import HOLDING, waits, wall_modes

log = logging.getLogger("flask_twitsocket.moderation")

#: A post to hold, with the automatic rule's verdict (None: held by the trust mode).
Held = tuple[PostData, "Verdict | None"]

RULES = ModerationRule.__table__
LOG = ModerationAction.__table__
#: At most this many recent posts are recalled at start (the raid window's size).
RECALL_POSTS = WINDOW_POSTS
#: How often the stream process looks for delayed posts that are due.
RELEASE_CHECK_SECONDS = 0.25


def load_rules(conn: Connection, settings: Any) -> Rules:
    """The configuration's rules plus the console's."""
    rules = Rules.configured(settings)
    for row in conn.execute(select(RULES.c.kind, RULES.c.value)):
        rules.add(row.kind, row.value)
    return rules


class Gate:
    """Screen new posts, hold them back, release them (see the module docstring)."""

    def __init__(self, store: PostStore, settings: Any, actions: Moderation) -> None:
        self.store = store
        self.settings = settings
        self.actions = actions
        self.mode: str = settings["MODERATION"]
        self.delay: float = settings["MODERATION_DELAY"]
        #: TWITSOCKET_SENSITIVE_MEDIA=hide: posts with a content warning or sensitive media
        #: wait in the queue for a moderator's yes, whatever the trust mode (not when off).
        self.hold_sensitive = settings["SENSITIVE_MEDIA"] == "hide" and self.mode != "off"
        self._rules = Rules.configured(settings)
        #: The automatic rules, with their in-memory state (flood counts, raid window).
        self.auto = AutoRules(settings)
        #: whether the flood and raid rules have recalled the recent stored posts
        self._recalled = False
        self._rules_version: int | None = -1
        self._next_check = 0.0
        self._waiting = True  # unknown until the first check: look once
        self._links_waiting = False
        #: The last screened batch's posts that go up on some walls and wait on others
        #: (several walls, modes that differ): for the store, with the batch.
        self.holds: dict[Key, dict[str, datetime | None]] = {}
        #: The last batch's queued posts held by walls' own (same) mode, by key.
        self._held_modes: dict[Key, str] = {}

    @property
    def rules(self) -> Rules:
        """The current rules, reloaded when the action log has grown (a console change);
        with moderation off, the configuration's only."""
        if self.mode == "off":
            return self._rules
        with self.store.engine.connect() as conn:
            version = conn.execute(select(func.max(LOG.c.id))).scalar()
            if version != self._rules_version:
                self._rules = load_rules(conn, self.settings)
                self._rules_version = version
        return self._rules

    def screen(self, posts: Sequence[PostData]) -> tuple[list[PostData], list[Held],
                                                          dict[str, int]]:
        """Split new posts into ``(store now, hold back, rejected counts by reason)``;
        a held post comes with the automatic rule's verdict, or None (the trust mode)."""
        rules = self.rules
        if not self._recalled:
            self._recall()
        self.holds, self._held_modes = {}, {}
        modes = wall_modes(self.store.router, self.mode)
        holding = any(mode in HOLDING for mode in (self.mode, *modes.values()))
        if not holding and not rules.screening and not self.auto and not self.hold_sensitive:
            return list(posts), [], {}  # nothing to look at per post
        direct: list[PostData] = []
        held: list[Held] = []
        rejected: dict[str, int] = {}
        # who the author is matters only when someone is banned or trusted: no Facts (a
        # frozen dataclass, 2 µs) per post otherwise
        judged = bool(rules.bans or rules.trusted)
        for post in posts:
            facts = Facts.of(post) if judged else None
            if facts is not None and rules.banned(facts):
                rejected["ban"] = rejected.get("ban", 0) + 1
                log.info("Dropped a post by @%s (%s): banned author", post.author.username,
                         post.network)
                continue
            word = rules.blocked_word(post_texts(post)) if rules.words else None
            if word:
                held.append((post, blocked_word_verdict(word)))
                continue
            trusted = facts is not None and rules.trusts(facts)
            verdict = self._verdict(post, trusted)
            if verdict is not None and verdict.drops:
                rejected[verdict.rule] = rejected.get(verdict.rule, 0) + 1
                log.info("Dropped a post by %s:%s: %s", post.network, post.author.id,
                         verdict.reason)  # no handle: they asked not to be shown
            elif verdict is not None:
                held.append((post, verdict))
            elif self.hold_sensitive and _sensitive(post) or \
                    holding and self._trust_holds(post, trusted, modes):
                held.append((post, None))
            else:
                direct.append(post)
        return direct, held, rejected

    def _trust_holds(self, post: PostData, trusted: bool, modes: dict[str, str]) -> bool:
        """Whether the trust mode queues ``post`` (for every wall it goes to). With walls
        of several modes (:mod:`.wall_holds`) a post up on some walls is stored, and the
        walls it waits on are noted in :attr:`holds`."""
        routes, waiting = waits(self.store.router, modes, post, trusted) if modes else ((), {})
        if not routes:  # a single-wall site, or a post for no wall: the site's mode
            return self.mode in HOLDING and not (self.mode == "pre" and trusted)
        if not waiting:
            return False
        key = (post.network, post.post_id)
        if len(waiting) == len(routes) and len(set(waiting.values())) == 1:
            self._held_modes[key] = next(iter(waiting.values()))
            return True
        later = now() + timedelta(seconds=self.delay)
        self.holds[key] = {slug: later if mode == "delay" else None
                           for slug, mode in waiting.items()}
        return False

    def _recall(self) -> None:
        """Before the first batch: the flood and raid rules remember the posts that went
        up within their windows (a restarted stream process goes on where it stopped).
        Not with moderation off: those rules hold nothing then."""
        self._recalled = True
        seconds = self.auto.memory_seconds
        if self.mode == "off" or not seconds:
            return
        stamp = now()
        with self.store.engine.connect() as conn:
            rows = recent_posts(conn, stamp - timedelta(seconds=seconds), RECALL_POSTS)
        self.auto.recall(rows, stamp)
        if rows:
            log.info("Automatic moderation recalled %d recent posts (flood and raids)",
                     len(rows))

    def _verdict(self, post: PostData, trusted: bool) -> Verdict | None:
        """The automatic rules' say: consent always; the holding rules only while a
        moderator can release what they hold (not with moderation off), and not for
        trusted authors."""
        if not self.auto:
            return None
        if self.mode == "off" or trusted:
            return self.auto.consent(post)
        return self.auto.check(post)

    def police_edits(self, edits: Sequence[Edit]) -> list[Edit]:
        """The edits whose new text the rules reject (none with moderation off: the
        console, which could show them again, is closed then)."""
        if not edits or self.mode == "off":
            return []
        rules = self.rules
        return [edit for edit in edits if rules.rejects(Facts.of(edit.post))
                or self.auto.edit_rejected(edit.post)]

    def hide_edited(self, edits: Sequence[Edit]) -> None:
        """Hide the posts of rejected edits, logged (and announced) like a moderator's."""
        for edit in edits:
            try:
                self.actions.act("rules (edited post)", "hide",
                                 f"{edit.post.network}:{edit.post.post_id}")
            except ModerationError:  # not stored, or hidden already
                continue

    def holding(self, posts: Sequence[Held], dropped: Mapping[str, int] | None = None,
                ) -> Change | None:
        """The change that queues posts (once each; not if stored or tombstoned), for the
        store to run in the transaction that stores the rest of their batch
        (:meth:`PostStore.apply`), or None when there is nothing to write. What a rule
        held waits for a moderator, and the log records the rule's decision; what a rule
        dropped (``dropped``, by reason, as :meth:`screen` counts) is added to the day's
        count per rule (not with moderation off: no console shows them, and the gate
        writes no table of moderation's then)."""
        drops = {rule: count for rule, count in (dropped or {}).items()
                 if rule in AUTO_RULES and self.mode != "off"}
        if not posts and not drops:
            return None
        stamp = now()
        later = stamp + timedelta(seconds=self.delay)
        timed: dict[Key, dict[str, Any]] = {}  # on the delay's timer
        untimed: dict[Key, dict[str, Any]] = {}  # sensitive: never on a timer
        for post, _ in posts:
            key = (post.network, post.post_id)
            delayed = self._held_modes.get(key, self.mode) == "delay" and not (
                self.hold_sensitive and _sensitive(post))
            (timed if delayed else untimed)[key] = post_row(post)
        why = {(post.network, post.post_id): (verdict.rule, verdict.reason)
               for post, verdict in posts if verdict is not None}
        self._waiting = self._waiting or bool(timed)

        def work(conn: Connection) -> tuple[list[Outgoing], int]:
            messages = count_drops(conn, drops, stamp)
            if timed:
                messages += hold_rows(conn, timed, stamp, later, why)
            if untimed:
                messages += hold_rows(conn, untimed, stamp, None, why)
            return messages, 0

        return work

    def _delaying(self) -> bool:
        """Whether the site or one of its walls is in the ``delay`` trust mode."""
        return "delay" in (self.mode, *wall_modes(self.store.router, self.mode).values())

    def release_due(self) -> int | None:
        """Release delayed posts whose time has come (at most every 0.25 s): those queued
        for every wall, and those up on some walls whose delay on another has passed
        (:meth:`PostStore.release_held_links`); the newest journal id."""
        if time.monotonic() < self._next_check or not self._delaying():
            return None
        self._next_check = time.monotonic() + RELEASE_CHECK_SECONDS
        linked, self._links_waiting = self.store.release_held_links()
        queued = self._release_queued()
        return max(linked or 0, queued or 0) or None

    def _release_queued(self) -> int | None:
        rules = self.rules

        def work(conn: Connection) -> tuple[list[Outgoing], int]:
            due, self._waiting = due_posts(conn)
            if not due:
                return [], 0
            # a rule made while it waited still applies: a ban vetoes the post, a blocked
            # word holds it for a moderator (as it would a new post)
            why = {row.id: rules.rejects(Facts.of(loads(row.row))) for row in due}
            allowed = [row for row in due if why[row.id] is None]
            vetoed = set_vetoed(conn, [row.id for row in due if why[row.id] == "ban"])
            messages, stored = release_held(conn, allowed)
            messages += queue_messages(conn, vetoed, "vetoed")
            messages += hold_for_words(conn, [row for row in due if why[row.id] == "word"],
                                       rules)
            return messages, len(stored)

        return self.store.change(work)

    def waiting(self) -> bool:
        """Whether delayed posts still wait: the stream keeps running to release them."""
        return self._delaying() and (self._waiting or self._links_waiting)


def _sensitive(post: PostData) -> bool:
    return bool(post.sensitive or post.content_warning)
