"""Make a realistic recording of a fictional conference, as X API v2 stream lines.

``python -m demo_app.recording`` rewrites the bundled fixture (deterministic: same seed, same
file): the generated X posts, with the posts that carry media (photos, a video poster, a
link card, a quote, a content warning; written by hand in ``media_posts.jsonl``, each with
its line) set in among them. The benchmarks import :func:`generate` for 100k-post runs.
The recording has retweets, replies, quotes, mentions, hashtags, links, emoji,
right-to-left text, long posts, a few legacy v1.1 statuses, and hostile ones: markup and
``javascript:`` links in names, texts, URLs and avatars — the wall must show them as harmless text.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parent.parent / "flask_twitsocket" / "fixtures" / (
    "devconf2026.jsonl")
#: The demo's media posts, {"line": where in the fixture, "event": the stream line}.
MEDIA_POSTS = Path(__file__).resolve().parent / "media_posts.jsonl"
HASHTAG = "devconf26"
#: The bundled fixture's first post (``write``): fixed, so the file is the same at every
#: run, and in the past, so its dates are usable as they are.
START = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
#: The longest gap between two generated posts (seconds).
MAX_GAP = 40

PEOPLE = [
    ("1001", "ada_l", "Ada Lindqvist"), ("1002", "bkariuki", "Brian Kariuki"),
    ("1003", "chen_wei", "陈伟"), ("1004", "dana.codes", "Dana 🚀 Okafor"),
    ("1005", "elif_y", "Elif Yılmaz"), ("1006", "farid_dev", "فريد الحسن"),
    ("1007", "gal_cohen", "גל כהן"), ("1008", "hannah_m", "Hannah Müller"),
    ("1009", "ivan_p", "Иван Петров"), ("1010", "julia_r", "Julia Rossi"),
    ("1011", "devconf", "DevConf 2026"), ("1012", "kenji_t", "Kenji Tanaka"),
    ("1013", "lucia_g", "Lucía García"), ("1014", "mo_ahmed", "Mo Ahmed"),
    ("1015", "nora_s", "Nora Svensson"), ("1016", "oscar_b", "Oscar Brown"),
]
HOSTILE_PEOPLE = [
    ("6661", "xss_tester", '<img src=x onerror="alert(1)">Mallory'),
    ("6662", "script_kid", "</script><script>alert('name')</script>"),
]
TALKS = [
    "the keynote on sustainable software", "the async Python deep dive",
    "the accessibility workshop", "the lightning talks", "the database internals talk",
    "the panel on open source funding", "the WebAssembly session", "the security track",
]
PHRASES = [
    "Loving {talk} at #{tag}!", "Great slides in {talk} 👏 #{tag}",
    "Standing room only for {talk}. #{tag} #python", "Coffee ☕ then {talk}. #{tag}",
    "Key takeaway from {talk}: measure before you optimise. #{tag}",
    "Who else is at {talk}? Come say hi 👋 #{tag}",
    "Notes from {talk} are up: https://t.co/{short} #{tag}",
]
RTL = [
    "محاضرة رائعة عن البرمجيات المستدامة #{tag}", "הרצאה מעולה על פייתון אסינכרוני #{tag}",
]
HOSTILE_TEXTS = [
    '<script>alert("wall")</script> pwned? #{tag}',
    'Click <a href="javascript:alert(1)">here</a> for free tickets #{tag}',
    "\"><img src=x onerror=alert(document.cookie)> #{tag}",
]


def _entities(text: str) -> dict[str, Any]:
    """Offsets in code points, as X computes them."""
    entities: dict[str, list[dict[str, Any]]] = {"hashtags": [], "mentions": [], "urls": []}
    words = text.split(" ")
    position = 0
    for word in words:
        clean = word.rstrip(".,!?:")
        if clean.startswith("#") and len(clean) > 1:
            entities["hashtags"].append(
                {"start": position, "end": position + len(clean), "tag": clean[1:]})
        elif clean.startswith("@") and len(clean) > 1:
            entities["mentions"].append(
                {"start": position, "end": position + len(clean), "username": clean[1:]})
        elif clean.startswith("https://t.co/"):
            entities["urls"].append({
                "start": position, "end": position + len(clean), "url": clean,
                "expanded_url": f"https://devconf.example/notes/{clean[13:]}",
                "display_url": f"devconf.example/notes/{clean[13:]}",
            })
        position += len(word) + 1
    return {key: value for key, value in entities.items() if value}


def _user(person: tuple[str, str, str], rng: random.Random) -> dict[str, Any]:
    user_id, username, name = person
    avatar = f"https://pbs.twimg.example/profile_images/{user_id}/avatar_normal.jpg"
    if person in HOSTILE_PEOPLE:
        avatar = "javascript:alert('avatar')"
    return {"id": user_id, "username": username, "name": name, "profile_image_url": avatar}


def generate(count: int, seed: int = 2026, first_id: int = 1_862_000_000_000_000_000,
             start: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Yield ``count`` X v2 stream events (and a few v1.1 statuses) in time order.

    The first post is ``start``; by default early enough that the last one is no later
    than now. A fixed start date once ran into the future for the benchmarks' 100k posts
    (25 days of posts), and every such post was logged "date unusable, replaced by now"
    and stored with the wrong date."""
    rng = random.Random(seed)
    originals: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    moment = start or datetime.now(timezone.utc).replace(microsecond=0) - timedelta(
        seconds=MAX_GAP * count)
    for index in range(count):
        post_id = str(first_id + index * 4_194_304)
        moment += timedelta(seconds=rng.randint(3, MAX_GAP))
        created = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        hostile = index % 37 == 5
        person = rng.choice(HOSTILE_PEOPLE if hostile and index % 2 else PEOPLE)
        user = _user(person, rng)
        data: dict[str, Any] = {
            "id": post_id, "author_id": user["id"], "created_at": created,
            "public_metrics": {"retweet_count": rng.choice([0, 0, 0, 1, 2, 5, 12]),
                               "reply_count": 0, "like_count": rng.randint(0, 40),
                               "quote_count": 0},
        }
        includes: dict[str, Any] = {"users": [user]}
        kind = rng.random()
        if originals and kind < 0.2:  # a retweet
            original_id, original_data, original_user = rng.choice(originals)
            data["text"] = f"RT @{original_user['username']}: {original_data['text']}"
            data["referenced_tweets"] = [{"type": "retweeted", "id": original_id}]
            data["entities"] = _entities(data["text"])
            includes["tweets"] = [original_data]
            includes["users"].append(original_user)
            data["public_metrics"]["retweet_count"] = 0
        else:
            tag = HASHTAG
            if hostile:
                text = rng.choice(HOSTILE_TEXTS).format(tag=tag)
            elif kind < 0.25:
                text = rng.choice(RTL).format(tag=tag)
            elif kind < 0.3:
                talk = rng.choice(TALKS)
                text = (f"Long thread on {talk} 🧵 #{tag}\n\n" + " ".join(
                    f"Point {n}: the speaker showed how small, measured changes add up."
                    for n in range(1, 9)))
                data["note_tweet"] = {"text": text, "entities": _entities(text)}
            else:
                text = rng.choice(PHRASES).format(talk=rng.choice(TALKS), tag=tag,
                                                  short=f"{index:06x}")
                if originals and kind < 0.45:
                    _oid, _odata, ouser = rng.choice(originals)
                    text = f"@{ouser['username']} {text}"
                    data["in_reply_to_user_id"] = ouser["id"]
            data["text"] = text[:280] if "note_tweet" in data else text
            data["entities"] = _entities(data["text"])
            if hostile:
                data["entities"].setdefault("urls", []).append({
                    "start": 0, "end": 8, "url": "https://t.co/evil",
                    "expanded_url": "javascript:alert('link')", "display_url": "free-tickets"})
            if originals and 0.45 <= kind < 0.5:
                quoted_id, quoted, quoted_user = rng.choice(originals)
                data["referenced_tweets"] = [{"type": "quoted", "id": quoted_id}]
                includes["tweets"] = [quoted]
                includes["users"].append(quoted_user)
            if not hostile:
                originals.append((post_id, dict(data), user))
        event = {"data": data, "includes": includes, "matching_rules": [
            {"id": "1", "tag": "twitsocket"}]}
        if index % 50 == 17:  # an archive line in the legacy v1.1 shape
            yield _as_v1(data, user, moment)
        else:
            yield event


def _as_v1(data: dict[str, Any], user: dict[str, Any], moment: datetime) -> dict[str, Any]:
    entities = data.get("entities", {})
    return {
        "id_str": data["id"], "text": data["text"],
        "created_at": moment.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "retweet_count": data["public_metrics"]["retweet_count"],
        "user": {"id_str": user["id"], "screen_name": user["username"], "name": user["name"],
                 "profile_image_url_https": user["profile_image_url"]},
        "entities": {
            "hashtags": [{"text": h["tag"], "indices": [h["start"], h["end"]]}
                         for h in entities.get("hashtags", [])],
            "user_mentions": [{"screen_name": m["username"], "indices": [m["start"], m["end"]]}
                              for m in entities.get("mentions", [])],
            "urls": [{"url": u["url"], "expanded_url": u["expanded_url"],
                      "display_url": u["display_url"], "indices": [u["start"], u["end"]]}
                     for u in entities.get("urls", [])],
        },
    }


def write(path: Path = FIXTURE, count: int = 300) -> Path:
    """The bundled recording: ``count`` generated posts and the media posts at their lines."""
    events = list(generate(count, start=START))
    with MEDIA_POSTS.open(encoding="utf-8") as media:
        for placed in map(json.loads, media):
            events.insert(placed["line"], placed["event"])
    with path.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
    return path


if __name__ == "__main__":
    print(f"Wrote {write()}")
