"""Moderation: what organisers allow on the projector, and how fast a removal reaches it.

Two halves share this module:

* :class:`Gate` runs in the stream process, between the normaliser and the store. It
  drops posts by banned authors (config and console bans alike) or with a blocked word,
  and, in the ``delay`` and ``pre`` trust modes, holds posts back in
  ``twitsocket_pending`` instead of storing them. A held post is not in the posts table,
  so no wall, catch-up or JSON API can see it; it is inserted there only when released,
  and then gets a fresh ``seq``, so it is new to every wall's catch-up cursor and goes
  on top like any new post. The stream process also runs the ``delay`` release timer
  (:meth:`Gate.release_due`, called from the runner's loop, which wakes at least every
  half second): it is the one long-lived writer already, needs no extra thread or
  process, and a web worker (of which there are many, and which may be recycled) would
  otherwise have to elect who releases.
* :class:`Moderation` is what the console's routes call: hide / unhide, ban / unban,
  block / unblock a word, trust / untrust an author, pin / unpin, approve / veto a held
  post, and undo. Each action is one transaction that changes the tables, writes the log
  entry (who, what, when, and what exactly it changed, so an undo reverts just that) and
  the journal messages — ``delete`` / ``tweet`` / ``pin`` / ``unpin`` / ``count`` for every
  wall, ``mod:*`` for moderator consoles only — then wakes the web workers through the
  bus. Every open wall therefore reacts as fast as it would to a new post.

A hidden post stays in the posts table with ``hidden`` set (and a ``hidden`` tombstone), so
nothing — a restart, a re-delivery, a catch-up — brings it back. Unhiding re-inserts it
with a fresh ``seq``: walls never show a ``seq`` twice, and a wall that was away catches
it up by ``since_id`` like any new post.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from .bus import create_bus
from .filters import BanList, fold, phrase_pattern
from .integers import parse_whole
from .models import (
    ModerationAction,
    ModerationRule,
    PendingPost,
    Pin,
    Post,
    Tombstone,
    TopPost,
)
from .normalise import Edit, PostData
from .serialise import delete_message, dumps, iso, loads, post_json, tweet_message

if TYPE_CHECKING:
    from .extension import TwitSocketState
    from .store import PostStore

log = logging.getLogger("flask_twitsocket.moderation")


POSTS = Post.__table__
PENDING = PendingPost.__table__
RULES = ModerationRule.__table__
PINS = Pin.__table__
LOG = ModerationAction.__table__
TOMBSTONES = Tombstone.__table__
TOP_POSTS = TopPost.__table__

#: Journal kinds for moderator consoles only (see store.MODERATOR_KIND_PREFIX).
QUEUE_KIND = "mod:queue"
LOG_KIND = "mod:log"
#: How often the stream process looks for delayed posts that are due.
RELEASE_CHECK_SECONDS = 0.25

Key = tuple[str, str]  # (network, post_id)


class ModerationError(Exception):
    """An action that cannot be done as asked; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def now() -> datetime:
    return datetime.now(timezone.utc)


# --- matching ------------------------------------------------------------------------------


def clean_phrase(phrase: str) -> str:
    """A blocked word or phrase as stored: lower case, single spaces."""
    return " ".join(phrase.split()).lower()


def clean_ban(entry: str) -> str:
    """A ban (or trust) entry as stored, in BanList's format: ``name`` or ``network:name``."""
    network, name = BanList.parse(entry)
    return f"{network}:{name}" if network else name


@dataclass(frozen=True)
class Facts:
    """What the rules look at, from a normalised post or a stored row alike."""

    network: str
    username: str
    author_id: str
    retweet_of_author: str | None
    text: str

    @classmethod
    def of(cls, post: PostData | dict[str, Any]) -> Facts:
        if isinstance(post, PostData):
            return cls(post.network, post.author.username, post.author.id,
                       post.retweet_of_author, post.text)
        return cls(post["network"], post["author_username"], post["author_id"],
                   post.get("retweet_of_author"), post.get("text") or "")


@dataclass
class Rules:
    """Bans (config + console), blocked words (console) and trusted authors (both)."""

    bans: BanList = field(default_factory=BanList)
    trusted: BanList = field(default_factory=BanList)
    words: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def rejects(self, facts: Facts) -> str | None:
        """Why the post must not be shown (``ban`` or ``word``), or None."""
        if self.bans.bans(facts.network, facts.username, facts.author_id,
                          facts.retweet_of_author):
            return "ban"
        if self.words:
            text = fold(facts.text)  # what a reader sees: see filters.fold
            if any(pattern.search(text) for pattern in self.words.values()):
                return "word"
        return None

    def trusts(self, facts: Facts) -> bool:
        return self.trusted.bans(facts.network, facts.username, facts.author_id)


def load_rules(conn: Connection, settings: Any) -> Rules:
    rules = Rules(BanList(settings["BANNED_USERS"]), BanList(settings["TRUSTED_USERS"]))
    for row in conn.execute(select(RULES.c.kind, RULES.c.value)):
        if row.kind == "ban":
            rules.bans.add(row.value)
        elif row.kind == "trust":
            rules.trusted.add(row.value)
        elif row.kind == "word":
            rules.words[row.value] = phrase_pattern(row.value)
    return rules


def _author_clause(entry: str, table=POSTS) -> Any:
    """Stored posts BY the banned author or reposts OF their posts, case-insensitively."""
    network, name = BanList.parse(entry)
    clause = or_(func.lower(table.c.author_username) == name, table.c.author_id == name,
                 func.lower(table.c.retweet_of_author) == name)
    return and_(table.c.network == network, clause) if network else clause


def _matching_posts(conn: Connection, phrase: str) -> list[Key]:
    """Visible posts with the phrase, as :func:`fold` reads them.

    Every visible post is read: SQL cannot see through a zero-width space or a Cyrillic
    "а", so it cannot narrow the search (a block is rare; the rows are streamed)."""
    pattern = phrase_pattern(phrase)
    query = select(POSTS.c.network, POSTS.c.post_id, POSTS.c.text).where(
        POSTS.c.hidden.is_(False)).execution_options(yield_per=1000)
    return [(row.network, row.post_id) for row in conn.execute(query)
            if pattern.search(fold(row.text or ""))]


def _key_clause(table, keys: Iterable[Key]) -> Any:
    return tuple_(table.c.network, table.c.post_id).in_(list(keys))


def _insert_ignore(conn: Connection, table):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


# --- held-back posts ---------------------------------------------------------------------


def row_json(row: dict[str, Any]) -> str:
    """A posts-table row (from ``store._row``) as JSON, to keep in the pending table."""
    return dumps({**row, "created_at": iso(row["created_at"]), "stored_at": None})


def row_from_json(text: str) -> dict[str, Any]:
    row = loads(text)
    row["created_at"] = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    row["stored_at"] = now()
    row["hidden"] = False
    return row


def pending_json(pending: Any) -> dict[str, Any]:
    """A held-back post as the console shows it: the post's JSON (no seq yet) + queue data."""
    row = loads(pending.row)
    row["created_at"] = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    post = post_json(_Row({**row, "seq": 0}))
    post["seq"] = None
    return {"pending_id": str(pending.id), "state": pending.state, "tweet": post,
            "received_at": iso(pending.received_at), "release_at": iso(pending.release_at)}


class _Row:
    """Attribute access over a dict, which is what ``post_json`` reads."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _queue_message(conn: Connection, pending_ids: Iterable[int], event: str,
                   ) -> list[tuple[str, str]]:
    ids = list(pending_ids)
    if not ids:
        return []
    rows = conn.execute(select(PENDING).where(PENDING.c.id.in_(ids)))
    return [(QUEUE_KIND, dumps({"type": QUEUE_KIND, "event": event,
                                "item": pending_json(row)})) for row in rows]


def _release(store: PostStore, conn: Connection, pending: Sequence[Any],
             ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """Move held-back posts into the posts table: a fresh seq, a ``tweet`` for the walls.

    A post deleted at the source meanwhile (tombstoned) is dropped instead."""
    if not pending:
        return [], []
    keys = [(row.network, row.post_id) for row in pending]
    buried = {(row.network, row.post_id) for row in conn.execute(
        select(TOMBSTONES.c.network, TOMBSTONES.c.post_id).where(
            _key_clause(TOMBSTONES, keys)))}
    messages = [(QUEUE_KIND, dumps({"type": QUEUE_KIND, "event": "released",
                                    "pending_id": str(row.id)})) for row in pending]
    conn.execute(delete(PENDING).where(PENDING.c.id.in_([row.id for row in pending])))
    stored = store.insert_rows(conn, [row_from_json(row.row) for row in pending
                                      if (row.network, row.post_id) not in buried])
    messages += [("tweet", tweet_message(post)) for post in stored]
    return messages, stored


def _notify(settings: Any, journal_id: int | None) -> None:
    if journal_id is None:
        return
    bus = create_bus(settings)
    try:
        bus.notify(journal_id)
    finally:
        bus.close()


# --- the stream side -----------------------------------------------------------------------


class Gate:
    """The stream process's moderation: screen new posts, hold them back, release them."""

    def __init__(self, store: PostStore, settings: Any) -> None:
        self.store = store
        self.settings = settings
        self.mode: str = settings["MODERATION"]
        self.delay: float = settings["MODERATION_DELAY"]
        self._rules = Rules()
        self._rules_version: int | None = -1
        self._next_check = 0.0
        self._waiting = True  # unknown until the first check: look once

    @property
    def rules(self) -> Rules:
        """The current rules, reloaded when the action log has grown (a console change)."""
        with self.store.engine.connect() as conn:
            version = conn.execute(select(func.max(LOG.c.id))).scalar()
            if version != self._rules_version:
                self._rules = load_rules(conn, self.settings)
                self._rules_version = version
        return self._rules

    def screen(self, posts: Sequence[PostData]) -> tuple[list[PostData], list[PostData],
                                                          dict[str, int]]:
        """Split new posts into ``(store now, hold back, rejected counts by reason)``."""
        rules = self.rules
        direct: list[PostData] = []
        held: list[PostData] = []
        rejected: dict[str, int] = {}
        for post in posts:
            facts = Facts.of(post)
            reason = rules.rejects(facts)
            if reason:
                rejected[reason] = rejected.get(reason, 0) + 1
                log.info("Dropped a post by @%s (%s): %s", post.author.username,
                         post.network, "banned author" if reason == "ban" else "blocked word")
            elif self.mode in ("delay", "pre") and not (
                    self.mode == "pre" and rules.trusts(facts)):
                held.append(post)
            else:
                direct.append(post)
        return direct, held, rejected

    def police_edits(self, edits: Sequence[Edit]) -> list[Edit]:
        """The edits whose new text the rules reject."""
        if not edits:
            return []
        rules = self.rules
        return [edit for edit in edits if rules.rejects(Facts.of(edit.post))]

    def hide_edited(self, edits: Sequence[Edit]) -> None:
        """Hide the posts of rejected edits, logged (and announced) like a moderator's."""
        moderation = Moderation(self.store, self.settings)
        for edit in edits:
            try:
                moderation.act("rules (edited post)", "hide",
                               f"{edit.post.network}:{edit.post.post_id}")
            except ModerationError:  # not stored, or hidden already
                continue

    def hold(self, posts: Sequence[PostData]) -> int | None:
        """Queue posts (once each; not if stored or tombstoned); returns the journal id."""
        from .store import _row

        if not posts:
            return None
        stamp = now()
        release_at = stamp + timedelta(seconds=self.delay) if self.mode == "delay" else None

        def work(conn: Connection) -> tuple[list[tuple[str, str]], int]:
            keys = {(post.network, post.post_id): post for post in posts}
            known = {(row.network, row.post_id) for table in (POSTS, TOMBSTONES)
                     for row in conn.execute(select(table.c.network, table.c.post_id)
                                             .where(_key_clause(table, keys)))}
            rows = [{"network": network, "post_id": post_id, "state": "waiting",
                     "row": row_json(_row(post)), "received_at": stamp,
                     "release_at": release_at}
                    for (network, post_id), post in keys.items()
                    if (network, post_id) not in known]
            if not rows:
                return [], 0
            ids = [row.id for row in conn.execute(
                _insert_ignore(conn, PENDING).returning(PENDING.c.id), rows)]
            return _queue_message(conn, ids, "held"), 0

        journal_id = self.store.change(work)
        self._waiting = self._waiting or release_at is not None
        return journal_id

    def release_due(self) -> int | None:
        """Release delayed posts whose time has come (at most every 0.25 s); journal id."""
        if self.mode != "delay" or time.monotonic() < self._next_check:
            return None
        self._next_check = time.monotonic() + RELEASE_CHECK_SECONDS
        rules = self.rules

        def work(conn: Connection) -> tuple[list[tuple[str, str]], int]:
            due = conn.execute(select(PENDING).where(
                PENDING.c.state == "waiting", PENDING.c.release_at.is_not(None),
                PENDING.c.release_at <= now()).order_by(PENDING.c.id)).all()
            self._waiting = bool(conn.execute(select(PENDING.c.id).where(
                PENDING.c.state == "waiting", PENDING.c.release_at.is_not(None)).limit(1))
                .first())
            if not due:
                return [], 0
            # a rule made while it waited (a ban, a blocked word) still applies
            allowed = [row for row in due
                       if not rules.rejects(Facts.of(loads(row.row)))]
            vetoed = _set_vetoed(conn, [row.id for row in due if row not in allowed])
            messages, stored = _release(self.store, conn, allowed)
            messages += _queue_message(conn, vetoed, "vetoed")
            return messages, len(stored)

        return self.store.change(work)

    def waiting(self) -> bool:
        """Whether delayed posts still wait: the stream keeps running to release them."""
        return self.mode == "delay" and self._waiting


def gate_for(state: TwitSocketState) -> Gate | None:
    """The stream process's gate, or None with moderation ``off``."""
    if state.settings["MODERATION"] == "off":
        return None
    return Gate(state.store, state.settings)


def hide_config_banned(store: PostStore, entries: Iterable[str]) -> tuple[int, int | None]:
    """Hide the stored posts by (and reposts of) the configuration's banned users.

    ``TWITSOCKET_BANNED_USERS`` is there "in case of spam": an organiser who adds the
    spammer and restarts the stream expects their posts gone from the walls, not only
    their next ones. The stream process calls this at start-up (it is the one writer);
    open walls get a ``delete`` for each post. Hidden posts stay in the database, and a
    moderator can unhide one in the console. Returns (posts hidden, journal id or None).
    """
    clauses = [_author_clause(entry) for entry in entries if entry.strip()]
    if not clauses:
        return 0, None
    hidden_count = 0

    def work(conn: Connection) -> tuple[list[tuple[str, str]], int]:
        nonlocal hidden_count
        keys = [(row.network, row.post_id) for row in conn.execute(
            select(POSTS.c.network, POSTS.c.post_id).where(POSTS.c.hidden.is_(False),
                                                           or_(*clauses)))]
        messages, hidden = _hide_posts(conn, keys)
        hidden_count = len(hidden)
        return messages, -hidden_count

    journal_id = store.change(work)
    return hidden_count, journal_id


# --- the console side -----------------------------------------------------------------------

#: How each rule action's target is normalised (a post is ``network:post_id`` as given).
CLEANERS: dict[str, Callable[[str], str]] = {
    "ban": clean_ban, "unban": clean_ban, "trust": clean_ban, "untrust": clean_ban,
    "block": clean_phrase, "unblock": clean_phrase}

#: ``work(conn) -> (messages, visible posts delta, detail for the log)``
Work = Callable[[Connection], tuple[list[tuple[str, str]], int, dict[str, Any]]]


class Moderation:
    """The moderator actions, for the console routes (or a host app's own code)."""

    #: Each action's inverse, used by :meth:`undo`.
    INVERSE = {"hide": "unhide", "unhide": "hide", "ban": "unban", "unban": "ban",
               "block": "unblock", "unblock": "block", "trust": "untrust",
               "untrust": "trust", "pin": "unpin", "unpin": "pin", "approve": "hide",
               "veto": "approve"}

    def __init__(self, store: PostStore, settings: Any) -> None:
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return self.settings["MODERATION"]

    def act(self, who: str, action: str, target: str) -> dict[str, Any]:
        """Run ``action`` (one of :attr:`INVERSE`'s keys, or ``undo``) on ``target``."""
        if action != "undo" and action not in self.INVERSE:
            raise ModerationError(404, f"unknown action {action!r}")
        target = (target or "").strip()
        if not target:
            raise ModerationError(400, "a target is required")
        if action == "undo":
            return self.undo(who, target)
        target = CLEANERS.get(action, str)(target)  # logged as compared: undo finds it
        if not target or target.endswith(":") or len(target) > 255:
            raise ModerationError(400, "the target is empty or too long")
        return self._record(who, action, target, getattr(self, f"_{action}")(target))

    def _record(self, who: str, action: str, target: str, work: Work,
                undoes: int | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {}

        def logged(conn: Connection) -> tuple[list[tuple[str, str]], int]:
            messages, delta, detail = work(conn)
            stamp = now()
            new_id = conn.execute(insert(LOG).values(
                moderator=who, action=action, target=target[:512], detail=dumps(detail),
                created_at=stamp, undoes=undoes).returning(LOG.c.id)).scalar_one()
            if undoes is not None:
                conn.execute(update(LOG).where(LOG.c.id == undoes).values(undone_at=stamp))
            entry.update(log_json(conn.execute(select(LOG).where(LOG.c.id == new_id)).one()))
            messages = [*messages, (LOG_KIND, dumps({"type": LOG_KIND, "entry": entry,
                                                     "undoes": undoes}))]
            return messages, delta

        with self._lock:  # one moderator action at a time per worker: simple, and rare
            journal_id = self.store.change(logged)
        _notify(self.settings, journal_id)
        log.info("Moderator %s: %s %s", who, action, target)
        return entry

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
        inverse = self.INVERSE[done.action]
        work = getattr(self, f"_{inverse}")(done.target)
        return self._record(who, inverse, done.target, work, undoes=done.id)

    # --- posts -------------------------------------------------------------------------

    def _hide(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        keys = [_parse_key(target)]

        def work(conn: Connection) -> tuple[list[tuple[str, str]], int, dict[str, Any]]:
            messages, hidden = _hide_posts(conn, keys)
            if not hidden:
                raise ModerationError(404, f"no visible post {target}")
            return messages, -len(hidden), {"posts": hidden}

        return work

    def _unhide(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        keys = [_parse_key(target)]

        def work(conn: Connection) -> tuple[list[tuple[str, str]], int, dict[str, Any]]:
            messages, shown = _unhide_posts(conn, keys)
            if not shown:
                raise ModerationError(404, f"no hidden post {target}")
            return messages, len(shown), {"posts": shown}

        return work

    def _pin(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        network, post_id = _parse_key(target)

        def work(conn: Connection) -> tuple[list[tuple[str, str]], int, dict[str, Any]]:
            row = conn.execute(select(POSTS).where(
                POSTS.c.network == network, POSTS.c.post_id == post_id,
                POSTS.c.hidden.is_(False))).first()
            if row is None:
                raise ModerationError(404, f"no visible post {target}")
            conn.execute(_insert_ignore(conn, PINS).values(
                network=network, post_id=post_id, pinned_by="", pinned_at=now()))
            return [("pin", pin_message(post_json(row)))], 0, {}

        return work

    def _unpin(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        network, post_id = _parse_key(target)

        def work(conn: Connection) -> tuple[list[tuple[str, str]], int, dict[str, Any]]:
            gone = conn.execute(delete(PINS).where(
                PINS.c.network == network, PINS.c.post_id == post_id)).rowcount
            if not gone:
                raise ModerationError(404, f"{target} is not pinned")
            return [("unpin", unpin_message(network, post_id))], 0, {}

        return work

    # --- rules -------------------------------------------------------------------------

    def _rule_added(self, kind: str, value: str,
                    hide: Callable[[Connection], list[Key]] | None) -> Work:
        def work(conn: Connection) -> tuple[list[tuple[str, str]], int, dict[str, Any]]:
            added = conn.execute(_insert_ignore(conn, RULES).values(
                kind=kind, value=value, created_by="", created_at=now())).rowcount
            if not added:
                raise ModerationError(409, f"{value!r} is already on the {kind} list")
            if hide is None:
                return [], 0, {}
            messages, hidden = _hide_posts(conn, hide(conn))
            vetoed = _veto_pending(conn, kind, value)
            messages += _queue_message(conn, vetoed, "vetoed")
            return messages, -len(hidden), {"posts": hidden, "vetoed": vetoed}

        return work

    def _rule_removed(self, kind: str, value: str, adding_action: str) -> Work:
        def work(conn: Connection) -> tuple[list[tuple[str, str]], int, dict[str, Any]]:
            gone = conn.execute(delete(RULES).where(
                RULES.c.kind == kind, RULES.c.value == value)).rowcount
            if not gone:
                raise ModerationError(404, f"{value!r} is not on the console's {kind} list")
            # bring back exactly what the rule took away (not what a moderator hid by hand)
            made = conn.execute(select(LOG.c.detail).where(
                LOG.c.action == adding_action, LOG.c.target == value,
                LOG.c.undone_at.is_(None)).order_by(LOG.c.id.desc()).limit(1)).scalar()
            detail = loads(made or "{}")
            messages, shown = _unhide_posts(conn,
                                            [tuple(key) for key in detail.get("posts", [])])
            vetoed = _unset_vetoed(conn, detail.get("vetoed", []))
            messages += _queue_message(conn, vetoed, "held")
            return messages, len(shown), {"posts": shown}

        return work

    def _ban(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        entry = clean_ban(target)
        return self._rule_added("ban", entry, lambda conn: [
            (row.network, row.post_id) for row in conn.execute(
                select(POSTS.c.network, POSTS.c.post_id).where(
                    POSTS.c.hidden.is_(False), _author_clause(entry)))])

    def _unban(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        return self._rule_removed("ban", clean_ban(target), "ban")

    def _block(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        phrase = clean_phrase(target)
        return self._rule_added("word", phrase, lambda conn: _matching_posts(conn, phrase))

    def _unblock(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        return self._rule_removed("word", clean_phrase(target), "block")

    def _trust(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        return self._rule_added("trust", clean_ban(target), None)

    def _untrust(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        return self._rule_removed("trust", clean_ban(target), "trust")

    # --- the queue ---------------------------------------------------------------------

    def _approve(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        key = _parse_key(target)

        def work(conn: Connection) -> tuple[list[tuple[str, str]], int, dict[str, Any]]:
            pending = conn.execute(select(PENDING).where(
                PENDING.c.network == key[0], PENDING.c.post_id == key[1])).all()
            if not pending:
                raise ModerationError(404, f"{target} is not in the queue")
            _unset_vetoed(conn, [row.id for row in pending])
            messages, stored = _release(self.store, conn, pending)
            return messages, len(stored), {}

        return work

    def _veto(self, target: str, detail: dict[str, Any] | None = None) -> Work:
        key = _parse_key(target)

        def work(conn: Connection) -> tuple[list[tuple[str, str]], int, dict[str, Any]]:
            ids = _set_vetoed(conn, conn.execute(select(PENDING.c.id).where(
                PENDING.c.network == key[0], PENDING.c.post_id == key[1],
                PENDING.c.state == "waiting")).scalars().all())
            if not ids:
                raise ModerationError(404, f"{target} is not waiting in the queue")
            return _queue_message(conn, ids, "vetoed"), 0, {}

        return work

    # --- what the console shows --------------------------------------------------------

    def snapshot(self, limit: int = 50) -> dict[str, Any]:
        """Everything the console shows, for its first paint and after a reconnect."""
        with self.store.engine.connect() as conn:
            posts = []
            for row in conn.execute(select(POSTS).order_by(POSTS.c.seq.desc()).limit(limit)):
                post = post_json(row)
                post["hidden"] = bool(row.hidden)
                posts.append(post)
            queue = [pending_json(row) for row in conn.execute(
                select(PENDING).order_by(PENDING.c.id.desc()).limit(200))]
            rules: dict[str, list[str]] = {"ban": [], "word": [], "trust": []}
            for row in conn.execute(select(RULES).order_by(RULES.c.created_at)):
                rules.setdefault(row.kind, []).append(row.value)
            log_entries = [log_json(row) for row in conn.execute(
                select(LOG).order_by(LOG.c.id.desc()).limit(limit))]
            pins = [f"{row.network}:{row.post_id}" for row in conn.execute(select(PINS))]
        return {
            "mode": self.mode, "delay": self.settings["MODERATION_DELAY"],
            "posts": posts, "queue": queue, "rules": rules, "pins": pins,
            "config": {"banned": list(self.settings["BANNED_USERS"]),
                       "trusted": list(self.settings["TRUSTED_USERS"])},
            "log": log_entries, "count": self.store.count(),
        }


def pinned_posts(store: PostStore) -> list[dict[str, Any]]:
    """The pinned posts (visible ones), oldest pin first: what a wall is told on connect.

    Empty (and logged) when the table is missing — a worker restarted before
    ``upgrade-db`` ran must still serve its walls."""
    query = (select(POSTS).join(PINS, and_(PINS.c.network == POSTS.c.network,
                                           PINS.c.post_id == POSTS.c.post_id))
             .where(POSTS.c.hidden.is_(False)).order_by(PINS.c.pinned_at))
    try:
        with store.engine.connect() as conn:
            return [post_json(row) for row in conn.execute(query)]
    except SQLAlchemyError as error:
        log.warning("Could not read the pinned posts (run upgrade-db?): %s", error)
        return []


def pin_message(post: dict[str, Any]) -> str:
    return dumps({"type": "pin", "tweet": post})


def unpin_message(network: str, post_id: str) -> str:
    return dumps({"type": "unpin", "id": str(post_id), "network": network})


def log_json(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "moderator": row.moderator, "action": row.action,
            "target": row.target, "created_at": iso(row.created_at),
            "undone_at": iso(row.undone_at),
            "undoes": None if row.undoes is None else str(row.undoes)}


def _parse_key(target: str) -> Key:
    network, sep, post_id = target.partition(":")
    if not sep or not network or not post_id:
        raise ModerationError(400, "a post is named network:post_id, e.g. x:1234")
    return network, post_id


def _hide_posts(conn: Connection, keys: Sequence[Key]) -> tuple[list[tuple[str, str]],
                                                                 list[list[str]]]:
    """Hide visible posts (tombstoned, unpinned): a ``delete`` for each, for every wall."""
    if not keys:
        return [], []
    gone = conn.execute(update(POSTS).where(_key_clause(POSTS, keys),
                                            POSTS.c.hidden.is_(False))
                        .values(hidden=True)
                        .returning(POSTS.c.seq, POSTS.c.network, POSTS.c.post_id)).all()
    if not gone:
        return [], []
    hidden = [(row.network, row.post_id) for row in gone]
    stamp = now()
    conn.execute(_insert_ignore(conn, TOMBSTONES), [
        {"network": network, "post_id": post_id, "reason": "hidden", "created_at": stamp}
        for network, post_id in hidden])
    conn.execute(delete(PINS).where(_key_clause(PINS, hidden)))
    messages = [("delete", delete_message(row.network, row.post_id, row.seq))
                for row in gone]
    return messages, [list(key) for key in hidden]


def _unhide_posts(conn: Connection, keys: Sequence[Key],
                  ) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """Show hidden posts again with a fresh seq (see the module docstring), each a
    ``tweet`` for every wall. A new seq rather than delete-and-insert: SQLite would hand
    the newest post's seq out again, and walls never show a seq twice."""
    if not keys:
        return [], []
    hidden = conn.execute(select(POSTS.c.seq).where(_key_clause(POSTS, keys),
                                                    POSTS.c.hidden.is_(True))
                          .order_by(POSTS.c.seq)).scalars().all()
    messages, shown = [], []
    for seq in hidden:
        conn.execute(delete(TOP_POSTS).where(TOP_POSTS.c.post_seq == seq))  # refreshed later
        row = conn.execute(update(POSTS).where(POSTS.c.seq == seq)
                           .values(seq=_next_seq(conn), hidden=False)
                           .returning(*POSTS.c)).one()
        messages.append(("tweet", tweet_message(post_json(row))))
        shown.append((row.network, row.post_id))
    if shown:
        conn.execute(delete(TOMBSTONES).where(_key_clause(TOMBSTONES, shown),
                                              TOMBSTONES.c.reason == "hidden"))
    return messages, [list(key) for key in shown]


def _next_seq(conn: Connection) -> int:
    """A seq no post ever had, taken for good (callers hold the journal lock, as writers do).

    On SQLite the posts table is AUTOINCREMENT: the highest seq ever handed out is in
    ``sqlite_sequence``, not ``max(seq)`` — the newest post may have been deleted at the
    source, and its seq must not come back (walls that saw it deleted ignore it). The
    counter is moved on too, so the next insert does not take this seq either."""
    if conn.dialect.name == "postgresql":
        return conn.execute(text(
            f"SELECT nextval(pg_get_serial_sequence('{POSTS.name}', 'seq'))")).scalar_one()
    issued = conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :table"),
                          {"table": POSTS.name}).scalar()
    newest = conn.execute(select(func.coalesce(func.max(POSTS.c.seq), 0))).scalar_one()
    seq = max(issued or 0, newest) + 1
    if issued is None:
        conn.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :seq)"),
                     {"table": POSTS.name, "seq": seq})
    else:
        conn.execute(text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :table"),
                     {"table": POSTS.name, "seq": seq})
    return seq


def _veto_pending(conn: Connection, kind: str, value: str) -> list[int]:
    """Held-back posts that a new ban or blocked word now forbids are vetoed too."""
    waiting = conn.execute(select(PENDING.c.id, PENDING.c.row).where(
        PENDING.c.state == "waiting")).all()
    rules = Rules()
    if kind == "ban":
        rules.bans.add(value)
    else:
        rules.words[value] = phrase_pattern(value)
    return _set_vetoed(conn, [row.id for row in waiting
                              if rules.rejects(Facts.of(loads(row.row)))])


def _set_vetoed(conn: Connection, ids: Sequence[int]) -> list[int]:
    """Veto held-back posts, with a tombstone: a re-delivery (or the author trusted
    since) must not bring them in past the veto."""
    ids = list(ids)
    if not ids:
        return ids
    rows = conn.execute(update(PENDING).where(PENDING.c.id.in_(ids)).values(state="vetoed")
                        .returning(PENDING.c.network, PENDING.c.post_id)).all()
    stamp = now()
    conn.execute(_insert_ignore(conn, TOMBSTONES), [
        {"network": row.network, "post_id": row.post_id, "reason": "vetoed",
         "created_at": stamp} for row in rows])
    return ids


def _unset_vetoed(conn: Connection, ids: Sequence[int]) -> list[int]:
    """Undo :func:`_set_vetoed` for those of ``ids`` that are vetoed."""
    rows = conn.execute(update(PENDING).where(PENDING.c.id.in_(list(ids)),
                                              PENDING.c.state == "vetoed")
                        .values(state="waiting")
                        .returning(PENDING.c.id, PENDING.c.network, PENDING.c.post_id)).all()
    if rows:
        conn.execute(delete(TOMBSTONES).where(
            _key_clause(TOMBSTONES, [(row.network, row.post_id) for row in rows]),
            TOMBSTONES.c.reason == "vetoed"))
    return [row.id for row in rows]
