"""Mastodon statuses, from the streaming API, the hashtag timeline or a recording.

The Mastodon source wraps what it receives in a small envelope,
``{"event": "update" | "status.update" | "delete", "payload": ..., "instance": domain}``,
because an SSE event's name is not part of its JSON and because a local user's ``acct``
has no domain: the wall shows ``user@instance`` for everyone, so the same person is never
two different users on one wall. A bare status (a recording) is accepted as an ``update``.

Post ids are the instance's own status ids: ``delete`` events carry only that id.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ..sanitise import html_to_text, sanitise_html
from ..serialise import author_json
from ..shapes import Author, Deletion, Edit, MalformedEvent, Normalised, PostData
from .media import GIF, PHOTO, VIDEO, card, compact, https_url, media_item
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
    """One status; a boost shows the boosted status and its author, marked as a repost."""
    if not isinstance(status.get("id"), (str, int)) or not isinstance(status.get("account"),
                                                                     dict):
        raise MalformedEvent("a status needs an id and an account")
    original = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
    shown = original or status
    quoted = _quoted(shown)
    content = str(shown.get("content") or "")
    if quoted is not None:  # Mastodon's "RE: link" fallback for clients without quotes
        content = _QUOTE_INLINE.sub("", content)
    text, entities = html_to_text(content)
    post_id = str(status["id"])
    return PostData(
        network=NETWORK,
        post_id=post_id,
        author=_author(status["account"], instance),
        text=text,
        # the content warning is its own field, shown above the text: put into the HTML,
        # its <p> closed the wall's <p class="text"> and the text fell out of its card
        html=sanitise_html(content),
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
        media=_media(shown),
        card=_card(shown.get("card")),
        quote=_quote(quoted, instance) if quoted is not None else None,
        sensitive=bool(shown.get("sensitive")),
        content_warning=str(shown.get("spoiler_text") or "").strip(),
        original_author=(_author(original["account"], instance)
                         if original and isinstance(original.get("account"), dict) else None),
        emojis=custom_emojis(shown.get("emojis"), text),
    )


_SHORTCODE = re.compile(r"[A-Za-z0-9_]{1,64}")


def custom_emojis(emojis: Any, text: str) -> list[dict[str, Any]]:
    """The instance's custom emojis the text uses (``:shortcode:``), with an https image
    (the static one: an animated emoji must not flicker on a projector)."""
    found = []
    for emoji in emojis if isinstance(emojis, list) else ():
        if not isinstance(emoji, dict):
            continue
        code = emoji.get("shortcode")
        url = https_url(emoji.get("static_url")) or https_url(emoji.get("url"))
        if isinstance(code, str) and _SHORTCODE.fullmatch(code) and url and \
                f":{code}:" in text and len(found) < 20:
            found.append({"shortcode": code, "url": url})
    return found


_QUOTE_INLINE = re.compile(r'<p class="quote-inline">.*?</p>', re.DOTALL)
_KINDS = {"image": PHOTO, "gifv": GIF, "video": VIDEO}


def attachment(item: Any) -> dict[str, Any] | None:
    """A ``media_attachments`` entry as a media item (audio and unknown types: none)."""
    if not isinstance(item, dict) or item.get("type") not in _KINDS:
        return None
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    size = meta.get("original") or meta.get("small") or {}
    return media_item(_KINDS[item["type"]], item.get("url") or item.get("remote_url"),
                      item.get("preview_url"), item.get("description"),
                      size.get("width") if isinstance(size, dict) else None,
                      size.get("height") if isinstance(size, dict) else None)


def _media(status: dict[str, Any]) -> list[dict[str, Any]]:
    items = status.get("media_attachments")
    return compact(attachment(item) for item in items) if isinstance(items, list) else []


def _card(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return card(value.get("url"), value.get("title"), value.get("description"),
                value.get("image"))


def _quoted(status: dict[str, Any]) -> dict[str, Any] | None:
    """The quoted status (Mastodon 4.4+: ``quote.quoted_status`` once accepted)."""
    quote = status.get("quote")
    if isinstance(quote, dict) and isinstance(quote.get("quoted_status"), dict):
        quoted = quote["quoted_status"]
        if isinstance(quoted.get("account"), dict) and quoted.get("id"):
            return quoted
    return None


def _quote(status: dict[str, Any], instance: str | None) -> dict[str, Any]:
    author = _author(status["account"], instance)
    text, _ = html_to_text(str(status.get("content") or ""))
    return {"id": str(status["id"]), "url": status.get("url") or status.get("uri"),
            "text": text, "author": author_json(author), "media": _media(status)}


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
