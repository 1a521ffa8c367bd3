"""Mastodon statuses, from the streaming API, the hashtag timeline or a recording.

The Mastodon source wraps what it receives in a small envelope,
``{"event": "update" | "status.update" | "delete", "payload": ..., "instance": domain}``,
because an SSE event's name is not part of its JSON and because a local user's ``acct``
has no domain: the wall shows ``user@instance`` for everyone, so the same person is never
two different users on one wall. A bare status (a recording) is accepted as an ``update``.

Post ids are the instance's own status ids: ``delete`` events carry only that id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..sanitise import html_to_text, sanitise_html
from ..shapes import Author, Deletion, Edit, MalformedEvent, Normalised, PostData
from .storable import account_time, bio, language, post_time

NETWORK = "mastodon"


def normalise_mastodon(payload: Any) -> Normalised:
    if not isinstance(payload, dict):
        raise MalformedEvent("a Mastodon event must be a JSON object")
    if "event" not in payload:
        return status_to_post(payload, None)
    event, body, instance = payload["event"], payload.get("payload"), payload.get("instance")
    if event == "delete":
        if not isinstance(body, (str, int)) or isinstance(body, bool) or not str(body):
            raise MalformedEvent("delete event without a status id")
        return Deletion(NETWORK, str(body))
    if event in ("update", "status.update"):
        if not isinstance(body, dict):
            raise MalformedEvent(f"{event} event without a status object")
        post = status_to_post(body, instance)
        return Edit(post) if event == "status.update" else post
    return None  # notifications, filters_changed, announcements…: not for a wall


def status_to_post(status: dict[str, Any], instance: str | None) -> PostData:
    """One status (a boost shows the boosted status, marked as a repost)."""
    if not isinstance(status.get("id"), (str, int)) or not isinstance(status.get("account"),
                                                                     dict):
        raise MalformedEvent("a status needs an id and an account")
    original = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
    shown = original or status
    text, entities = html_to_text(str(shown.get("content") or ""))
    warning = str(shown.get("spoiler_text") or "").strip()
    html = sanitise_html(str(shown.get("content") or ""))
    if warning:  # a content warning is shown as a first line, never hidden behind a click
        prefix = f"CW: {warning}\n\n"
        entities = [dict(e, start=e["start"] + len(prefix), end=e["end"] + len(prefix))
                    for e in entities]
        text = prefix + text
        html = f"<p>CW: {sanitise_html(warning)}</p>{html}"
    post_id = str(status["id"])
    return PostData(
        network=NETWORK,
        post_id=post_id,
        author=_author(status["account"], instance),
        text=text,
        html=html,
        entities=entities,
        created_at=post_time(status.get("created_at"), NETWORK, post_id),
        url=shown.get("url") or shown.get("uri"),
        is_retweet=original is not None,
        retweet_of=str(original["id"]) if original else None,
        retweet_of_author=(_acct(original["account"], instance)
                           if original and isinstance(original.get("account"), dict) else None),
        retweet_count=shown.get("reblogs_count") or 0,  # storable clamps and logs it
        raw=status,
        lang=language(shown.get("language")),
    )


def _author(account: dict[str, Any], instance: str | None) -> Author:
    return Author(
        id=str(account["id"]),
        username=_acct(account, instance),
        name=str(account.get("display_name") or account.get("username") or ""),
        avatar_url=account.get("avatar_static") or account.get("avatar"),
        created_at=account_time(account.get("created_at")),
        bot=account.get("bot") is True,
        # "noindex": the person asked not to be shown to the logged-out public
        opted_out=account.get("noindex") is True,
        bio=html_to_text(bio(account.get("note")))[0] if account.get("note") else "",
    )


def _acct(account: dict[str, Any], instance: str | None) -> str:
    """``user@instance`` for everyone: a local user's acct has no domain, so add ours."""
    acct = str(account.get("acct") or account.get("username") or "")
    if not acct:
        raise MalformedEvent("account without acct")
    if "@" in acct:
        return acct
    domain = instance or urlsplit(str(account.get("url") or "")).hostname
    return f"{acct}@{domain}" if domain else acct
