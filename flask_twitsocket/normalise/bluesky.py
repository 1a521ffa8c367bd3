"""Bluesky posts as Jetstream delivers them (JSON commits), plus the author's profile.

Jetstream sends the raw record (text + facets) and the author's DID only; the Bluesky source
looks the profile up (handle, display name, avatar) and adds it to the event under
``"profile"`` before it reaches us. Without it (the AppView was down) the DID stands in for
the handle, so a post is never dropped for want of a name.

Facet offsets count UTF-8 BYTES; our entities count code points, so each is converted, and
a facet that does not fall on character boundaries is dropped rather than guessed.
The post id is the AT URI (``at://did/app.bsky.feed.post/rkey``): unique network-wide,
and what a delete commit names.
"""

from __future__ import annotations

from typing import Any

from ..shapes import Author, Deletion, Edit, MalformedEvent, Normalised, PostData
from .media import PHOTO, VIDEO, card, compact, media_item
from .storable import account_time, bio, from_epoch_us, language, post_time

NETWORK = "bluesky"
POST = "app.bsky.feed.post"
SITE = "https://bsky.app"


def at_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST}/{rkey}"


def normalise_bluesky(payload: Any) -> Normalised:
    if not isinstance(payload, dict):
        raise MalformedEvent("a Jetstream event must be a JSON object")
    if payload.get("kind") != "commit":
        return None  # identity and account events change no post
    did, commit = payload["did"], payload["commit"]
    if not isinstance(did, str) or not isinstance(commit, dict):
        raise MalformedEvent("commit without did or commit object")
    if commit.get("collection") != POST:
        return None
    rkey = str(commit["rkey"])
    operation = commit.get("operation")
    if operation == "delete":
        return Deletion(NETWORK, at_uri(did, rkey))
    if operation not in ("create", "update"):
        raise MalformedEvent(f"unknown commit operation {operation!r}")
    post = _post(payload, did, rkey, commit.get("record"))
    return Edit(post) if operation == "update" else post


def _post(event: dict[str, Any], did: str, rkey: str, record: Any) -> PostData:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise MalformedEvent("post record without text")
    profile = event.get("profile") if isinstance(event.get("profile"), dict) else {}
    handle = profile.get("handle")
    if not isinstance(handle, str) or not handle or handle == "handle.invalid":
        handle = None
    author = Author(
        id=did,
        username=handle or did,
        name=str(profile.get("displayName") or ""),
        avatar_url=profile.get("avatar") if isinstance(profile.get("avatar"), str) else None,
        created_at=account_time(profile.get("createdAt")),
        opted_out=opted_out(profile),
        bio=bio(profile.get("description")),
    )
    text = record["text"]
    post_id = at_uri(did, rkey)
    rich = embed_parts(did, record.get("embed"))
    return PostData(
        network=NETWORK,
        post_id=post_id,
        author=author,
        text=text,
        # the record's own time is set by the poster's client: Jetstream's is the fallback
        created_at=post_time(record.get("createdAt"), NETWORK, post_id,
                             from_epoch_us(event.get("time_us"))),
        url=f"{SITE}/profile/{handle or did}/post/{rkey}",
        entities=facet_entities(text, record.get("facets")),
        raw=event,
        lang=language(record.get("langs")),
        media=rich["media"],
        card=rich["card"],
        quote=rich["quote"],
        sensitive=bool(SENSITIVE_LABELS & self_labels(record)),
    )


#: Self-labels that mark a post's media as not for every audience (the app blurs them).
SENSITIVE_LABELS = frozenset({"porn", "sexual", "nudity", "graphic-media"})
CDN = "https://cdn.bsky.app/img"
VIDEO_CDN = "https://video.bsky.app/watch"


def self_labels(record: dict[str, Any]) -> set[str]:
    labels = record.get("labels")
    values = labels.get("values") if isinstance(labels, dict) else None
    return {str(v.get("val")) for v in values or () if isinstance(v, dict)}


def blob_cid(blob: Any) -> str | None:
    """A blob's CID (``ref.$link``; old records have a bare ``cid``), if it looks like one."""
    if not isinstance(blob, dict):
        return None
    ref = blob.get("ref")
    cid = ref.get("$link") if isinstance(ref, dict) else blob.get("cid")
    return cid if isinstance(cid, str) and cid.isalnum() and len(cid) < 128 else None


def image_url(kind: str, did: str, cid: str) -> str:
    """The Bluesky CDN's URL of a blob: ``feed_thumbnail`` or ``feed_fullsize``."""
    return f"{CDN}/{kind}/plain/{did}/{cid}@jpeg"


def embed_parts(did: str, embed: Any) -> dict[str, Any]:
    """Media, card and quote of a post record's ``embed`` (images, video, external link,
    record = a quote, recordWithMedia = a quote with media)."""
    parts: dict[str, Any] = {"media": [], "card": None, "quote": None}
    if not isinstance(embed, dict):
        return parts
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        parts.update(embed_parts(did, embed.get("media")))
        parts["quote"] = _quote((embed.get("record") or {}).get("record"))
    elif kind == "app.bsky.embed.record":
        parts["quote"] = _quote(embed.get("record"))
    elif kind == "app.bsky.embed.images":
        parts["media"] = compact(_image(did, image) for image in embed.get("images") or ())
    elif kind == "app.bsky.embed.video":
        cid = blob_cid(embed.get("video"))
        ratio = embed.get("aspectRatio") if isinstance(embed.get("aspectRatio"), dict) else {}
        if cid:
            parts["media"] = compact([media_item(
                VIDEO, f"{VIDEO_CDN}/{did}/{cid}/playlist.m3u8",
                f"{VIDEO_CDN}/{did}/{cid}/thumbnail.jpg", embed.get("alt"),
                ratio.get("width"), ratio.get("height"))])
    elif kind == "app.bsky.embed.external" and isinstance(embed.get("external"), dict):
        external = embed["external"]
        thumb = blob_cid(external.get("thumb"))
        parts["card"] = card(external.get("uri"), external.get("title"),
                             external.get("description"),
                             image_url("feed_thumbnail", did, thumb) if thumb else None)
    return parts


def _image(did: str, image: Any) -> dict[str, Any] | None:
    if not isinstance(image, dict):
        return None
    cid = blob_cid(image.get("image"))
    if cid is None:
        return None
    ratio = image.get("aspectRatio") if isinstance(image.get("aspectRatio"), dict) else {}
    return media_item(PHOTO, image_url("feed_fullsize", did, cid),
                      image_url("feed_thumbnail", did, cid), image.get("alt"),
                      ratio.get("width"), ratio.get("height"))


def _quote(strong_ref: Any) -> dict[str, Any] | None:
    """A quoted post as Jetstream names it: its AT URI only (no text: that needs a look-up
    the wall does not make), linked to its page."""
    uri = strong_ref.get("uri") if isinstance(strong_ref, dict) else None
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[len("at://"):].split("/")
    if len(parts) != 3 or parts[1] != POST:
        return None
    return {"id": uri, "url": f"{SITE}/profile/{parts[0]}/post/{parts[2]}", "text": "",
            "author": {"id": parts[0], "username": parts[0], "name": "", "avatar_url": None},
            "media": []}


#: The self-label by which a Bluesky account asks not to be shown to logged-out viewers.
NO_UNAUTHENTICATED = "!no-unauthenticated"


def opted_out(profile: dict[str, Any]) -> bool:
    """Whether the AppView profile carries the ``!no-unauthenticated`` label."""
    labels = profile.get("labels")
    return isinstance(labels, list) and any(
        isinstance(label, dict) and label.get("val") == NO_UNAUTHENTICATED for label in labels)


def facet_entities(text: str, facets: Any) -> list[dict[str, Any]]:
    """Links, mentions and tags from facets, with byte offsets turned into code points."""
    if not isinstance(facets, list):
        return []
    encoded = text.encode("utf-8")
    entities = []
    for facet in facets:
        try:
            index = facet["index"]
            start = _code_points(encoded, index["byteStart"])
            end = _code_points(encoded, index["byteEnd"])
            features = facet["features"]
        except (KeyError, TypeError, ValueError):
            continue
        if start is None or end is None or end <= start or not isinstance(features, list):
            continue
        entity = _feature(features[0] if features else None, text[start:end])
        if entity:
            entities.append({**entity, "start": start, "end": end})
    return entities


def _code_points(encoded: bytes, offset: Any) -> int | None:
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= len(encoded):
        return None
    try:
        return len(encoded[:offset].decode("utf-8"))
    except UnicodeDecodeError:  # the offset cuts a character in two
        return None


def _feature(feature: Any, label: str) -> dict[str, Any] | None:
    if not isinstance(feature, dict):
        return None
    kind = feature.get("$type")
    if kind == "app.bsky.richtext.facet#link" and isinstance(feature.get("uri"), str):
        return {"type": "url", "url": feature["uri"], "display": label}
    if kind == "app.bsky.richtext.facet#mention" and isinstance(feature.get("did"), str):
        return {"type": "mention", "url": f"{SITE}/profile/{feature['did']}", "display": label}
    if kind == "app.bsky.richtext.facet#tag" and isinstance(feature.get("tag"), str):
        tag = feature["tag"]
        return {"type": "hashtag", "url": f"{SITE}/hashtag/{tag}", "display": f"#{tag}"}
    return None
