"""Bluesky embeds no public recording we could vendor has (video, quotes, self-labels):
records built from the lexicon's fields (app.bsky.embed.*, com.atproto.label.defs), not
recordings; the recorded ones are in test_real_payloads.py."""

from __future__ import annotations

from flask_twitsocket.normalise import normalise

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
CID = "bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4"
QUOTED = f"at://{DID}/app.bsky.feed.post/3k44deefqdk2g"


def commit(record: dict) -> dict:
    record = {"$type": "app.bsky.feed.post", "createdAt": "2026-11-28T10:00:00.000Z",
              "text": "", **record}
    return {"did": DID, "time_us": 1_795_000_000_000_000, "kind": "commit",
            "commit": {"rev": "1", "operation": "create", "collection": "app.bsky.feed.post",
                       "rkey": "3l3qo2vuowo2b", "record": record, "cid": "c"}}


def blob(cid: str = CID) -> dict:
    return {"$type": "blob", "ref": {"$link": cid}, "mimeType": "image/jpeg", "size": 1}


def test_video_is_its_thumbnail_and_playlist_on_the_video_cdn():
    post = normalise("bluesky", commit({"embed": {
        "$type": "app.bsky.embed.video", "video": blob(), "alt": "A robot",
        "aspectRatio": {"width": 16, "height": 9}}}))
    assert post.media == [{
        "type": "video", "url": f"https://video.bsky.app/watch/{DID}/{CID}/playlist.m3u8",
        "preview_url": f"https://video.bsky.app/watch/{DID}/{CID}/thumbnail.jpg",
        "alt": "A robot", "width": 16, "height": 9}]


def test_quote_with_media_and_a_plain_quote():
    with_media = normalise("bluesky", commit({"embed": {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"$type": "app.bsky.embed.record", "record": {"uri": QUOTED, "cid": "c"}},
        "media": {"$type": "app.bsky.embed.images",
                  "images": [{"alt": "", "image": blob()}]}}}))
    assert with_media.quote["id"] == QUOTED
    assert with_media.quote["url"] == f"https://bsky.app/profile/{DID}/post/3k44deefqdk2g"
    assert [m["type"] for m in with_media.media] == ["photo"]
    plain = normalise("bluesky", commit({"embed": {
        "$type": "app.bsky.embed.record", "record": {"uri": QUOTED, "cid": "c"}}}))
    assert plain.quote["id"] == QUOTED and plain.media == []
    odd = normalise("bluesky", commit({"embed": {
        "$type": "app.bsky.embed.record", "record": {"uri": "https://evil.example/x"}}}))
    assert odd.quote is None


def test_self_labels_mark_the_media_sensitive():
    labelled = normalise("bluesky", commit({"labels": {
        "$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "graphic-media"}]}}))
    assert labelled.sensitive
    harmless = normalise("bluesky", commit({"labels": {
        "$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "!no-unauthenticated"}]}}))
    assert not harmless.sensitive


def test_a_blob_cid_that_is_not_one_is_dropped_not_put_in_a_url():
    post = normalise("bluesky", commit({"embed": {
        "$type": "app.bsky.embed.images", "images": [{"alt": "", "image": blob("../../x")}]}}))
    assert post.media == []
