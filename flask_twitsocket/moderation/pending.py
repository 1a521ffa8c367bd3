"""The held-back queue (``twitsocket_pending``): moderation's own table.

A held post is not in the posts table, so no wall, catch-up or JSON API can see it; it
waits here as the posts-table row it will become (JSON), and enters the posts table only
when released (:func:`flask_twitsocket.store.visibility.release`), with a fresh ``seq``.
A vetoed post stays here, ``vetoed``, with a tombstone so no re-delivery brings it in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..messages import (
    Outgoing,
    log_message,
    queue_message,
    released_message,
    rule_counts_message,
)
from ..models import ModerationAction, PendingPost, RuleCount
from ..serialise import dumps, iso, loads, post_json
from ..store import visibility
from ..store.fast import driver_insert, keys_in
from ..store.tables import Key, key_clause
from .auto import Verdict, blocked_word_verdict
from .rules import Facts, Rules

PENDING = PendingPost.__table__
LOG = ModerationAction.__table__
COUNTS = RuleCount.__table__
#: Who the action log names for an automatic rule's decision (``rule:flood``, …).
RULE_PREFIX = "rule:"
#: Held posts announced one by one to the consoles, at most, per batch (beyond: "re-read").
QUEUE_MESSAGES = 50
#: The queue's columns a held post fills.
PENDING_NAMES = ("network", "post_id", "state", "row", "received_at", "release_at", "rule",
                 "reason")
#: The action-log columns a rule's decision fills.
LOG_NAMES = ("moderator", "action", "target", "detail", "created_at")


def now() -> datetime:
    return datetime.now(timezone.utc)


def row_json(row: dict[str, Any]) -> str:
    """A posts-table row (from ``store.post_row``) as JSON, to keep in the pending table."""
    return dumps({**row, "created_at": iso(row["created_at"]), "stored_at": None})


def row_from_json(text: str) -> dict[str, Any]:
    row = loads(text)
    row["created_at"] = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    row["stored_at"] = now()
    row["hidden"] = False
    return row


class _Row:
    """Attribute access over a dict, which is what ``post_json`` reads."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def pending_json(pending: Any, row: dict[str, Any] | None = None) -> dict[str, Any]:
    """A held-back post as the console shows it: the post's JSON (no seq yet) + queue data.
    ``row``: its posts-table row when at hand (just held), rather than read back."""
    if row is None:
        row = loads(pending.row)
        row["created_at"] = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    post = post_json(_Row({**row, "seq": 0}))
    post["seq"] = None
    return {"pending_id": str(pending.id), "state": pending.state, "tweet": post,
            "received_at": iso(pending.received_at), "release_at": iso(pending.release_at),
            "rule": pending.rule, "reason": pending.reason}


def log_json(row: Any) -> dict[str, Any]:
    """An action-log entry as the console shows it."""
    return {"id": str(row.id), "moderator": row.moderator, "action": row.action,
            "target": row.target, "created_at": iso(row.created_at),
            "undone_at": iso(row.undone_at),
            "undoes": None if row.undoes is None else str(row.undoes),
            "wall": getattr(row, "wall", None)}


def log_rule_holds(conn: Connection, why: dict[Key, tuple[str, str]], stamp: datetime,
                   ) -> list[Outgoing]:
    """The automatic rules' decisions in the action log, beside the moderators' own:
    ``rule:<name>`` held ``network:post_id`` (the reason in ``detail``). Undoing one
    releases the post."""
    if not why:
        return []
    values = [(f"{RULE_PREFIX}{rule}", "hold", f"{network}:{post_id}"[:512],
               dumps({"reason": reason}), stamp)
              for (network, post_id), (rule, reason) in why.items()]
    # through the driver: a raid holds thousands, and SQLAlchemy's INSERT … RETURNING of
    # many rows cost more than the rest of holding them
    driver_insert(conn, LOG, LOG_NAMES, values)
    last = conn.execute(select(func.max(LOG.c.id))).scalar_one()
    # one log message for the batch, the latest entry: it makes open consoles re-read
    # their log (a raid of thousands is not thousands of messages to every console)
    entry = dict(zip(LOG_NAMES, values[-1], strict=True))
    return [log_message(log_json(_Row({**entry, "id": last, "undoes": None,
                                       "undone_at": None})), None)]


def day_start(stamp: datetime) -> datetime:
    """Midnight (UTC) of ``stamp``'s day: where the console's "today" begins."""
    return stamp.replace(hour=0, minute=0, second=0, microsecond=0)


def rule_counts(conn: Connection, since: datetime) -> dict[str, int]:
    """How many posts each automatic rule held (the action log) or dropped (counted by
    :func:`count_drops`) since ``since``, midnight UTC (the console: today)."""
    rows = conn.execute(select(LOG.c.moderator, func.count()).where(
        LOG.c.action == "hold", LOG.c.moderator.startswith(RULE_PREFIX),
        LOG.c.created_at >= since).group_by(LOG.c.moderator))
    counts = {moderator[len(RULE_PREFIX):]: count for moderator, count in rows}
    for rule, count in conn.execute(select(COUNTS.c.rule, COUNTS.c.count).where(
            COUNTS.c.day == since.date())):
        counts[rule] = counts.get(rule, 0) + count
    return counts


def count_drops(conn: Connection, dropped: dict[str, int], stamp: datetime,
                ) -> list[Outgoing]:
    """Add the posts the rules dropped (consent: never stored, not even their ids) to the
    day's count per rule; the message telling open consoles the day's new totals."""
    if not dropped:
        return []
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(COUNTS)
    conn.execute(statement.on_conflict_do_update(
        index_elements=[COUNTS.c.day, COUNTS.c.rule],
        set_={"count": COUNTS.c.count + statement.excluded["count"]}),
        [{"day": stamp.date(), "rule": rule, "count": count}
         for rule, count in dropped.items()])
    return [rule_counts_message(rule_counts(conn, day_start(stamp)))]


def queue_messages(conn: Connection, pending_ids: Iterable[int], event: str,
                   ) -> list[Outgoing]:
    ids = list(pending_ids)
    if not ids:
        return []
    rows = conn.execute(select(PENDING).where(PENDING.c.id.in_(ids)))
    return [queue_message(event, pending_json(row)) for row in rows]


def hold_rows(conn: Connection, rows: dict[Key, dict[str, Any]], received_at: datetime,
              release_at: datetime | None,
              why: dict[Key, tuple[str, str]] | None = None) -> list[Outgoing]:
    """Queue posts-table rows (once each; not if stored or tombstoned already). ``why``
    names the automatic rule and reason of those a rule held: they wait for a moderator
    (no ``release_at``) and the action log records the rule's decision
    (:func:`log_rule_holds`)."""
    known = visibility.known(conn, rows) | keys_in(conn, PENDING, rows)
    why = why or {}
    values = {}
    for key, row in rows.items():
        if key in known:
            continue
        rule, reason = why.get(key, (None, None))
        values[key] = {"network": key[0], "post_id": key[1], "state": "waiting",
                       "row": row_json(row), "received_at": received_at,
                       "release_at": None if rule else release_at,
                       "rule": rule, "reason": reason}
    if not values:
        return []
    # through the driver (the stream process is the one writer of holds, and the queued
    # ones were left out above): SQLAlchemy's INSERT … RETURNING of a raid's hundreds of
    # rows a batch cost more than the rest of holding them
    driver_insert(conn, PENDING, PENDING_NAMES,
                  [[value[name] for name in PENDING_NAMES] for value in values.values()],
                  ignore=True)
    if len(values) <= QUEUE_MESSAGES:
        # the messages from the rows at hand, not read back, but for their ids
        ids = {(item.network, item.post_id): item.id for item in conn.execute(select(
            PENDING.c.id, PENDING.c.network, PENDING.c.post_id).where(
                key_clause(PENDING, values)))}
        messages = [queue_message("held", pending_json(
            _Row({**value, "id": ids[key]}), rows[key])) for key, value in values.items()
            if key in ids]
    else:
        # a raid holds hundreds a batch: one message without an item makes open consoles
        # re-read the queue, rather than hundreds of posts built in the ingest path and
        # sent to every console
        messages = [queue_message("held", None)]
    # the rules' decisions on the posts queued now (not on a re-delivery of one queued,
    # stored or tombstoned already)
    return messages + log_rule_holds(
        conn, {key: reason for key, reason in why.items() if key in values}, received_at)


def release_held(conn: Connection, pending: Sequence[Any],
            ) -> tuple[list[Outgoing], list[dict[str, Any]]]:
    """Move held-back posts out of the queue into the posts table (through the store)."""
    if not pending:
        return [], []
    messages = [released_message(row.id) for row in pending]
    conn.execute(delete(PENDING).where(PENDING.c.id.in_([row.id for row in pending])))
    shown, stored = visibility.release(conn, [row_from_json(row.row) for row in pending])
    return messages + shown, stored


def due_posts(conn: Connection) -> tuple[list[Any], bool]:
    """The delayed posts whose time has come, and whether any other still waits."""
    rows = conn.execute(select(PENDING).where(
        PENDING.c.state == "waiting", PENDING.c.release_at.is_not(None),
        PENDING.c.release_at <= now()).order_by(PENDING.c.id)).all()
    waiting = bool(conn.execute(select(PENDING.c.id).where(
        PENDING.c.state == "waiting", PENDING.c.release_at.is_not(None)).limit(1)).first())
    return rows, waiting


def find_held(conn: Connection, key: Key, state: str | None = None) -> list[Any]:
    query = select(PENDING).where(PENDING.c.network == key[0], PENDING.c.post_id == key[1])
    if state is not None:
        query = query.where(PENDING.c.state == state)
    return conn.execute(query).all()


def queue_json(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    return [pending_json(row) for row in conn.execute(
        select(PENDING).order_by(PENDING.c.id.desc()).limit(limit))]


def veto_matching(conn: Connection, kind: str, value: str) -> list[int]:
    """Held-back posts that a new ban now forbids are vetoed too."""
    waiting = conn.execute(select(PENDING.c.id, PENDING.c.row).where(
        PENDING.c.state == "waiting")).all()
    rules = Rules()
    rules.add(kind, value)
    return set_vetoed(conn, [row.id for row in waiting
                             if rules.rejects(Facts.of(loads(row.row)))])


def hold_matching(conn: Connection, phrase: str) -> list[Outgoing]:
    """Posts waiting for the trust mode (``delay``'s timer, ``pre``) with a newly blocked
    word now wait for a moderator, with the word as the reason."""
    waiting = conn.execute(select(PENDING).where(PENDING.c.state == "waiting",
                                                 PENDING.c.rule.is_(None))).all()
    rules = Rules()
    rules.add("word", phrase)
    return hold_for_words(conn, waiting, rules)


def hold_for_words(conn: Connection, rows: Sequence[Any], rules: Rules) -> list[Outgoing]:
    """Hold the queued ``rows`` that have one of ``rules``' blocked words for a moderator
    (no release time, the profanity rule's reason), logged as the rule's decision."""
    why: dict[int, tuple[Key, Verdict]] = {}
    for row in rows:
        word = rules.blocked_word([loads(row.row).get("text") or ""])
        if word:
            why[row.id] = ((row.network, row.post_id), blocked_word_verdict(word))
    for pending_id, (_, verdict) in why.items():
        conn.execute(update(PENDING).where(PENDING.c.id == pending_id).values(
            rule=verdict.rule, reason=verdict.reason, release_at=None))
    logged = log_rule_holds(conn, {key: (verdict.rule, verdict.reason)
                                   for key, verdict in why.values()}, now())
    return queue_messages(conn, why, "held") + logged


def set_vetoed(conn: Connection, ids: Sequence[int]) -> list[int]:
    """Veto held-back posts, with a tombstone: a re-delivery (or the author trusted
    since) must not bring them in past the veto."""
    ids = list(ids)
    if not ids:
        return ids
    rows = conn.execute(update(PENDING).where(PENDING.c.id.in_(ids)).values(state="vetoed")
                        .returning(PENDING.c.network, PENDING.c.post_id)).all()
    visibility.tombstone(conn, [(row.network, row.post_id) for row in rows], "vetoed")
    return ids


def unset_vetoed(conn: Connection, ids: Sequence[int]) -> list[int]:
    """Undo :func:`set_vetoed` for those of ``ids`` that are vetoed."""
    rows = conn.execute(update(PENDING).where(PENDING.c.id.in_(list(ids)),
                                              PENDING.c.state == "vetoed")
                        .values(state="waiting")
                        .returning(PENDING.c.id, PENDING.c.network, PENDING.c.post_id)).all()
    if rows:
        visibility.untombstone(conn, [(row.network, row.post_id) for row in rows], "vetoed")
    return [row.id for row in rows]
