"""Every message a wall or a moderator's console receives, and the journal's entry format.

One module owns the wire: each message type is built here (and read back here where a
reader needs something from it), so a new field or type is one edit. Messages are JSON
text, built once when a change is stored; that exact text travels through the journal,
the bus and every worker to every browser, never re-encoded per client.

For every wall: ``tweet`` (a new or newly shown post), ``update`` (an edit), ``delete``
(gone at the source or hidden), ``count`` (visible posts), ``pin`` / ``unpin``.
For moderators' consoles only: ``mod:queue`` (the held-back queue changed) and ``mod:log``
(an action was taken or undone), ``mod:counts`` (today's counts per automatic rule).

The journal groups runs of messages into entries (:func:`journal_entries`): one row for a
burst of posts, its messages joined by newlines (JSON text never contains a raw newline).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from typing import Any, NamedTuple

from .serialise import dumps, loads

#: Journal kinds starting with this are for moderators' consoles only.
MODERATOR_KIND_PREFIX = "mod"
QUEUE_KIND = "mod:queue"
LOG_KIND = "mod:log"
COUNTS_KIND = "mod:counts"
#: At most this many messages share one journal entry: a reader's memory stays bounded
#: (an entry is ~1 KB a post) while a burst still costs a handful of rows, not one a post.
MESSAGES_PER_ENTRY = 64

#: ``(kind, text)``: a message as writers hand it to the journal.
Outgoing = tuple[str, str]


# --- for every wall --------------------------------------------------------------------------


def tweet_message(post: dict[str, Any]) -> str:
    return dumps({"type": "tweet", "tweet": post})


def update_message(post: dict[str, Any]) -> str:
    return dumps({"type": "update", "tweet": post})


def delete_message(network: str, post_id: str, seq: int | None) -> str:
    return dumps({"type": "delete", "id": str(post_id), "network": network,
                  "seq": None if seq is None else str(seq)})


def count_message(count: int) -> str:
    return dumps({"type": "count", "count": count})


def pin_message(post: dict[str, Any]) -> str:
    return dumps({"type": "pin", "tweet": post})


def unpin_message(network: str, post_id: str) -> str:
    return dumps({"type": "unpin", "id": str(post_id), "network": network})


# --- for moderators only ---------------------------------------------------------------------


def queue_message(event: str, item: dict[str, Any] | None) -> Outgoing:
    """The held-back queue changed: ``event`` (held, vetoed) for ``item`` (a queue entry;
    None: many entries, re-read the queue)."""
    return QUEUE_KIND, dumps({"type": QUEUE_KIND, "event": event, "item": item})


def released_message(pending_id: int) -> Outgoing:
    """A held-back post left the queue for the wall."""
    return QUEUE_KIND, dumps({"type": QUEUE_KIND, "event": "released",
                              "pending_id": str(pending_id)})


def log_message(entry: dict[str, Any], undoes: int | None) -> Outgoing:
    """A moderator's action (an entry of the action log), or its undoing."""
    return LOG_KIND, dumps({"type": LOG_KIND, "entry": entry, "undoes": undoes})


def rule_counts_message(counts: dict[str, int]) -> Outgoing:
    """Today's posts per automatic rule (held, or dropped for consent), when a batch
    dropped some: a consent drop leaves nothing in the queue or the log that a console
    could count it from, so the totals are sent."""
    return COUNTS_KIND, dumps({"type": COUNTS_KIND, "counts": counts})


# --- reading a message back ------------------------------------------------------------------

_TWEET_START = '{"type":"tweet"'


class Delivery(NamedTuple):
    """A message as the hub hands it to a queued subscriber: the text to send, and the
    post seq of a ``tweet`` (an SSE ``id:`` line, what ``Last-Event-ID`` resumes after).
    The hub reads the seq once per message, not once per client."""

    text: str
    seq: str | None


def seq_of(message: str) -> str | None:
    """A ``tweet`` message's post seq, or None for any other message."""
    if not message.startswith(_TWEET_START):
        return None
    try:
        return str(loads(message)["tweet"]["seq"])
    except (ValueError, KeyError, TypeError):
        return None


def is_count(message: str) -> bool:
    """Whether a message is a ``count`` (which, on a site with several walls, is one
    wall's)."""
    return message.startswith('{"type":"count"')


def deliveries(messages: Iterable[str]) -> tuple[Delivery, ...]:
    return tuple(Delivery(message, seq_of(message)) for message in messages)


# --- the journal's entries -------------------------------------------------------------------


def is_moderator_kind(kind: str) -> bool:
    """Journal kinds starting with ``mod`` (the queue, the action log) are for moderators'
    consoles only: the hub never hands them to a wall."""
    return kind.startswith(MODERATOR_KIND_PREFIX)


def journal_entries(messages: Iterable[Outgoing]) -> list[tuple[str, str]]:
    """Group messages into journal entries ``(kind, payload)``: each run of messages for the
    same audience (walls, or moderators only) becomes ONE entry, its messages joined by
    newlines, in order.

    Why: a burst of 500 posts is one journal row to write and to read, not 501 — the
    journal was 15% of ingest time with a row per message. ``kind`` is the messages' kind
    when they share one, else ``batch`` (``mod:batch`` for moderators' runs).
    """
    entries: list[tuple[str, str]] = []
    for moderator, run in groupby(messages, key=lambda message: is_moderator_kind(message[0])):
        group = list(run)
        for start in range(0, len(group), MESSAGES_PER_ENTRY):
            kinds, payloads = zip(*group[start:start + MESSAGES_PER_ENTRY], strict=True)
            kind = kinds[0] if len(set(kinds)) == 1 else (
                MODERATOR_KIND_PREFIX + ":batch" if moderator else "batch")
            entries.append((kind, "\n".join(payloads)))
    return entries


def journal_messages(payload: str) -> list[str]:
    """The messages of one journal entry's payload (see :func:`journal_entries`)."""
    return payload.split("\n")
