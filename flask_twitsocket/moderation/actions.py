"""The console's actions: hide / unhide, ban / unban, block / unblock a word, trust /
untrust an author, pin / unpin, reveal / veil sensitive media, approve / veto a held post,
and undo.

Each action is one transaction (:meth:`PostStore.change`) that changes the tables — posts,
tombstones and pins through the store's API (:mod:`flask_twitsocket.store.visibility`),
moderation's own rules, queue and log directly — writes the log entry (who, what, when,
and what exactly it changed, so an undo reverts just that) and the journal messages:
``delete`` / ``tweet`` / ``pin`` / ``unpin`` / ``count`` for every wall, ``mod:*`` for
moderator consoles only. Then ``notify`` (the process's one bus) wakes the web workers,
so every open wall reacts as fast as it would to a new post.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ..integers import parse_whole
from ..messages import Outgoing, log_message
from ..models import ModerationAction, ModerationRule
from ..serialise import dumps, loads
from ..store import PostStore, held_links, visibility
from ..store import walls as on_walls
from ..store.tables import Key, insert_ignore
from .auto import enabled_rules
from .errors import ModerationError
from .pending import (
    day_start,
    find_held,
    hold_matching,
    log_json,
    now,
    queue_json,
    queue_messages,
    release_held,
    rule_counts,
    set_vetoed,
    unset_vetoed,
    veto_matching,
)
from .rules import BanList, Rules, clean_ban, clean_phrase
from .wall_actions import WALL_ACTIONS, Work, clean_target, parse_key, pin_work, wall_work
from .wall_holds import held_items

log = logging.getLogger("flask_twitsocket.moderation")

RULES = ModerationRule.__table__
LOG = ModerationAction.__table__

#: How each rule action's target is normalised (a post is ``network:post_id`` as given).
CLEANERS: dict[str, Callable[[str], str]] = {
    "ban": clean_ban, "unban": clean_ban, "trust": clean_ban, "untrust": clean_ban,
    "block": clean_phrase, "unblock": clean_phrase}

__all__ = ["WALL_ACTIONS", "Moderation", "ModerationError", "Work", "hide_config_banned",
           "parse_key"]


def _no_notify(journal_id: int) -> None:
    """Without a bus (a script, a test), the walls' hubs find the change by polling."""


class Moderation:
    """The moderator actions, for the console routes (or a host app's own code)."""

    #: Each action's inverse, used by :meth:`undo`.
    INVERSE = {"hide": "unhide", "unhide": "hide", "ban": "unban", "unban": "ban",
               "block": "unblock", "unblock": "block", "trust": "untrust",
               "untrust": "trust", "pin": "unpin", "unpin": "pin", "approve": "hide",
               "veto": "approve", "hold": "approve", "reveal": "veil", "veil": "reveal"}

    def __init__(self, store: PostStore, settings: Any,
                 notify: Callable[[int], None] = _no_notify) -> None:
        self.store = store
        self.settings = settings
        self.notify = notify
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return self.settings["MODERATION"]

    def act(self, who: str, action: str, target: str, wall: str | None = None,
            ) -> dict[str, Any]:
        """Run ``action`` (one of :attr:`INVERSE`'s keys, or ``undo``) on ``target``; with
        ``wall`` (a site with several walls), hide/unhide on that wall only."""
        if action != "undo" and (action not in self.INVERSE or action == "hold"):
            # "hold" is an automatic rule's decision: in the log, undone, never done by hand
            raise ModerationError(404, f"unknown action {action!r}")
        if wall is not None and self.store.router is not None and action != "undo":
            return self._act_on_wall(who, action, target.strip(), wall)
        target = (target or "").strip()
        if not target:
            raise ModerationError(400, "a target is required")
        if action == "undo":
            return self.undo(who, target)
        target = CLEANERS.get(action, str)(target)  # logged as compared: undo finds it
        if not target or target.endswith(":") or len(target) > 255:
            raise ModerationError(400, "the target is empty or too long")
        return self._record(who, action, target, getattr(self, f"_{action}")(target))

    def _act_on_wall(self, who: str, action: str, target: str, wall: str) -> dict[str, Any]:
        if wall not in self.store.wall_slugs():
            raise ModerationError(404, f"no wall {wall!r}")
        if action not in WALL_ACTIONS:
            raise ModerationError(400, f"{action} acts on every wall (no wall=)")
        target = clean_target(action, target)
        return self._record(who, action, target,
                            wall_work(self.store, action, wall, target), wall=wall)

    def _record(self, who: str, action: str, target: str, work: Work,
                undoes: int | None = None, wall: str | None = None) -> dict[str, Any]:
        """Run ``work`` with its log entry in one transaction; the entry. (Also what
        :mod:`.wall_admin` audits a wall's changes with.)"""
        entry: dict[str, Any] = {}

        def logged(conn: Connection) -> tuple[list[Outgoing], int]:
            messages, delta, detail = work(conn)
            stamp = now()
            new_id = conn.execute(insert(LOG).values(
                moderator=who, action=action, target=target[:512], detail=dumps(detail),
                created_at=stamp, undoes=undoes, wall=wall).returning(LOG.c.id)).scalar_one()
            if undoes is not None:
                conn.execute(update(LOG).where(LOG.c.id == undoes).values(undone_at=stamp))
            entry.update(log_json(conn.execute(select(LOG).where(LOG.c.id == new_id)).one()))
            return [*messages, log_message(entry, undoes)], delta

        with self._lock:  # one moderator action at a time per worker: simple, and rare
            journal_id = (self.store.change_on_wall(wall, logged)
                          if wall is not None and action in WALL_ACTIONS
                          else self.store.change(logged))
        if journal_id is not None:
            self.notify(journal_id)
        log.info("Moderator %s: %s %s", who, action, target)
        return entry

    logged_change = _record

    def undo(self, who: str, action_id: str) -> dict[str, Any]:
        try:
            number = parse_whole(action_id, "undo's action id", minimum=1)
        except ValueError as error:
            raise ModerationError(400, str(error)) from None
        with self.store.engine.connect() as conn:
            done = conn.execute(select(LOG).where(LOG.c.id == number)).first()
        if done is None:
            raise ModerationError(404, f"no action {action_id}")
        if done.undone_at is not None:
            raise ModerationError(409, f"action {action_id} was undone already")
        inverse = self.INVERSE.get(done.action)
        if inverse is None:  # a wall created, edited or archived: edit it again instead
            raise ModerationError(400, f"a {done.action} is not undone here; edit the "
                                       "wall instead")
        if done.wall is not None:
            return self._record(who, inverse, done.target,
                                wall_work(self.store, inverse, done.wall, done.target),
                                undoes=done.id, wall=done.wall)
        work = getattr(self, f"_{inverse}")(done.target)
        return self._record(who, inverse, done.target, work, undoes=done.id)

    # --- posts -------------------------------------------------------------------------

    def _hide(self, target: str) -> Work:
        keys = [parse_key(target)]

        def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
            messages, hidden = visibility.hide(conn, keys)
            if not hidden:
                raise ModerationError(404, f"no visible post {target}")
            return messages, -len(hidden), {"posts": hidden}

        return work

    def _unhide(self, target: str) -> Work:
        keys = [parse_key(target)]

        def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
            messages, shown = visibility.unhide(conn, keys)
            if not shown:
                raise ModerationError(404, f"no hidden post {target}")
            return messages, len(shown), {"posts": shown}

        return work

    def _pin(self, target: str) -> Work:
        return pin_work("pin", target, None)

    def _unpin(self, target: str) -> Work:
        return pin_work("unpin", target, None)

    def _reveal(self, target: str) -> Work:
        return self._revealed(target, True)

    def _veil(self, target: str) -> Work:
        return self._revealed(target, False)

    def _revealed(self, target: str, revealed: bool) -> Work:
        """Sensitive media shown (or blurred again) on every wall: moderators see it first."""
        key = parse_key(target)

        def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
            messages = visibility.set_revealed(conn, key, revealed)
            if messages is None:
                state = "veiled" if revealed else "revealed"
                raise ModerationError(404, f"no {state} sensitive post {target}")
            return messages, 0, {}

        return work

    # --- rules -------------------------------------------------------------------------

    def _rule_added(self, kind: str, value: str,
                    hide: Callable[[Connection], list[Key]] | None) -> Work:
        def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
            added = conn.execute(insert_ignore(conn, RULES).values(
                kind=kind, value=value, created_by="", created_at=now())).rowcount
            if not added:
                raise ModerationError(409, f"{value!r} is already on the {kind} list")
            if hide is None:
                return [], 0, {}
            messages, hidden = visibility.hide(conn, hide(conn))
            # queued posts: a ban vetoes them, a blocked word holds them for a moderator
            vetoed = veto_matching(conn, kind, value) if kind == "ban" else []
            messages += queue_messages(conn, vetoed, "vetoed")
            if kind == "word":
                messages += hold_matching(conn, value)
            return messages, -len(hidden), {"posts": hidden, "vetoed": vetoed}

        return work

    def _rule_removed(self, kind: str, value: str, adding_action: str) -> Work:
        def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
            gone = conn.execute(delete(RULES).where(
                RULES.c.kind == kind, RULES.c.value == value)).rowcount
            if not gone:
                raise ModerationError(404, f"{value!r} is not on the console's {kind} list")
            # bring back exactly what the rule took away (not what a moderator hid by hand)
            made = conn.execute(select(LOG.c.detail).where(
                LOG.c.action == adding_action, LOG.c.target == value,
                LOG.c.undone_at.is_(None)).order_by(LOG.c.id.desc()).limit(1)).scalar()
            detail = loads(made or "{}")
            messages, shown = visibility.unhide(
                conn, [tuple(key) for key in detail.get("posts", [])])
            vetoed = unset_vetoed(conn, detail.get("vetoed", []))
            messages += queue_messages(conn, vetoed, "held")
            return messages, len(shown), {"posts": shown}

        return work

    def _ban(self, target: str) -> Work:
        entry = clean_ban(target)
        where = visibility.by_authors([BanList.parse(entry)])
        return self._rule_added("ban", entry, lambda conn: visibility.visible_keys(conn, where))

    def _unban(self, target: str) -> Work:
        return self._rule_removed("ban", clean_ban(target), "ban")

    def _block(self, target: str) -> Work:
        phrase = clean_phrase(target)
        rules = Rules()
        rules.add("word", phrase)
        return self._rule_added("word", phrase, lambda conn: [
            key for key, text in visibility.visible_texts(conn) if rules.blocked_word([text])])

    def _unblock(self, target: str) -> Work:
        return self._rule_removed("word", clean_phrase(target), "block")

    def _trust(self, target: str) -> Work:
        return self._rule_added("trust", clean_ban(target), None)

    def _untrust(self, target: str) -> Work:
        return self._rule_removed("trust", clean_ban(target), "trust")

    # --- the queue ---------------------------------------------------------------------

    def _approve(self, target: str) -> Work:
        key = parse_key(target)

        def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
            held = find_held(conn, key)
            if not held:  # up on some walls, held back on others: shown on them all
                messages = held_links.show_everywhere(conn, key)
                if not messages:
                    raise ModerationError(404, f"{target} is not in the queue")
                return messages, 1, {}
            unset_vetoed(conn, [row.id for row in held])
            messages, stored = release_held(conn, held)
            return messages, len(stored), {}

        return work

    def _veto(self, target: str) -> Work:
        key = parse_key(target)

        def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
            ids = set_vetoed(conn, [row.id for row in find_held(conn, key,
                                                                           "waiting")])
            if not ids:
                raise ModerationError(404, f"{target} is not waiting in the queue")
            return queue_messages(conn, ids, "vetoed"), 0, {}

        return work

    # --- what the console shows --------------------------------------------------------

    def snapshot(self, limit: int = 50) -> dict[str, Any]:
        """Everything the console shows, for its first paint and after a reconnect."""
        with self.store.engine.connect() as conn:
            posts = visibility.console_posts(conn, limit)
            queue = queue_json(conn)
            rules: dict[str, list[str]] = {"ban": [], "word": [], "trust": []}
            for row in conn.execute(select(RULES).order_by(RULES.c.created_at)):
                rules.setdefault(row.kind, []).append(row.value)
            log_entries = [log_json(row) for row in conn.execute(
                select(LOG).order_by(LOG.c.id.desc()).limit(limit))]
            pins = visibility.pin_keys(conn)
            counts = rule_counts(conn, day_start(now()))
        if self.store.router is not None:  # several walls: where each held post would go
            for item in queue:
                item["walls"] = list(on_walls.walls_for(self.store.router, item["tweet"]))
            with self.store.engine.connect() as conn:  # and those up elsewhere already
                queue += held_items(conn, limit)
        return {
            "auto_rules": list(enabled_rules(self.settings)), "rule_counts": counts,
            "mode": self.mode, "delay": self.settings["MODERATION_DELAY"],
            "posts": posts, "queue": queue, "rules": rules, "pins": list(pins),
            # each pin's wall (null: every wall)
            "pinned_on": pins,
            "config": {"banned": list(self.settings["BANNED_USERS"]),
                       "trusted": list(self.settings["TRUSTED_USERS"])},
            "log": log_entries, "count": self.store.count(),
            # several walls: the console's switcher (what acts on one wall, its queue)
            "walls": [{"slug": slug, "title": wall.title or slug}
                      for slug, wall in self.store.router.walls.items()
                      ] if self.store.router is not None else [],
        }


def hide_config_banned(store: PostStore, entries: Iterable[str]) -> tuple[int, int | None]:
    """Hide the stored posts by (and reposts of) the configuration's banned users.

    ``TWITSOCKET_BANNED_USERS`` is there "in case of spam": an organiser who adds the
    spammer and restarts the stream expects their posts gone from the walls, not only
    their next ones. The stream process calls this at start-up (it is the one writer);
    open walls get a ``delete`` for each post. Hidden posts stay in the database, and a
    moderator can unhide one in the console. Returns (posts hidden, journal id or None).
    """
    names = [BanList.parse(entry) for entry in entries if entry.strip()]
    if not names:
        return 0, None
    where = visibility.by_authors(names)
    hidden_count = 0

    def work(conn: Connection) -> tuple[list[Outgoing], int]:
        nonlocal hidden_count
        messages, hidden = visibility.hide(conn, visibility.visible_keys(conn, where))
        hidden_count = len(hidden)
        return messages, -hidden_count

    journal_id = store.change(work)
    return hidden_count, journal_id
