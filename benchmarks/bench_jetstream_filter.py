"""How fast the Bluesky source's keyword filter goes through Jetstream's whole-network feed.

Jetstream sends every post on Bluesky (tens per second, bursts in the hundreds) and the wall
keeps perhaps one in a thousand, so the filter must cost far less than a post's arrival
interval on one core. Measured on realistic lines (posts with facets, replies and embeds,
emoji and CJK text, deletes, identity events; about 0.2 % matching) with a realistic list
of a conference's keywords and tracked accounts, against two baselines measured in the
same run on the same lines:

* ``json.loads`` of every line (what any consumer pays before looking at a post), and
* ``json.loads`` + the same whole-word regex on every text (the obvious filter).

``python -m benchmarks.bench_jetstream_filter [--lines 200000]``; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Callable
from typing import Any

from benchmarks.common import say, write_result
from flask_twitsocket.sources.bluesky import JetstreamFilter

KEYWORDS = ["#devconf26", "#devconf2026", "devconf", "devconf26", "#pycon2026", "pycon",
            "python conference", "#djangocon", "djangocon", "#flaskcon", "flask-twitsocket",
            "#opensource26", "@devconf.bsky.social", "#devconfkeynote"]
ACCOUNTS = [f"did:plc:{f'tracked{i:02d}':0<24}" for i in range(8)]
_VOCABULARY = ("the a to of and in is it for on that this with was just my so be have not are "
               "you at what like me today people but love good new one all time really day can "
               "think about get going know now more still want make great see need work thanks "
               "python rust music art photo cat dog coffee weekend news game book film election "
               "community open source conference talk keynote developers javascript")
WORDS = _VOCABULARY.split()
OTHER = ["今日はいい天気ですね", "Ça va très bien 😀", "🎉🎉🎉", "¿Qué tal?", "🦋 bsky",
         "Größe zählt", "https://example.com/some/long/path?utm_source=bsky"]


def _text(rng: random.Random, match: bool) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 45))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words) + 1), rng.choice(OTHER))
    if match:
        words.insert(rng.randrange(len(words) + 1), rng.choice(KEYWORDS[:12]))
    text = " ".join(words)
    return text[0].upper() + text[1:] if text else text


def make_lines(count: int, match_rate: float = 0.002, seed: int = 26) -> list[str]:
    rng = random.Random(seed)
    lines: list[str] = []
    time_us = 1_764_000_000_000_000
    for index in range(count):
        time_us += rng.randint(1, 40_000)
        did = (rng.choice(ACCOUNTS) if rng.random() < 0.0005
               else f"did:plc:{rng.getrandbits(120):030x}"[:32])
        roll = rng.random()
        if roll < 0.02:
            event: dict[str, Any] = {"did": did, "time_us": time_us, "kind": "identity",
                                     "identity": {"did": did, "handle": "someone.bsky.social",
                                                  "seq": index, "time": "2026-11-28T10:00:00Z"}}
        elif roll < 0.06:
            event = {"did": did, "time_us": time_us, "kind": "commit", "commit": {
                "rev": "3lrev", "operation": "delete", "collection": "app.bsky.feed.post",
                "rkey": f"3l{rng.getrandbits(50):x}"}}
        else:
            text = _text(rng, rng.random() < match_rate)
            record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                                      "createdAt": "2026-11-28T10:00:00.000Z",
                                      "langs": [rng.choice(["en", "ja", "pt", "de"])]}
            if rng.random() < 0.25:
                start = len(text.encode()) // 2
                record["facets"] = [{"index": {"byteStart": start, "byteEnd": start + 10},
                                     "features": [{"$type": "app.bsky.richtext.facet#link",
                                                   "uri": "https://example.com/x"}]}]
            if rng.random() < 0.4:
                parent = {"cid": "bafyrei" + "a" * 52,
                          "uri": f"at://did:plc:{'b' * 24}/app.bsky.feed.post/3lparent"}
                record["reply"] = {"parent": parent, "root": parent}
            if rng.random() < 0.2:
                record["embed"] = {"$type": "app.bsky.embed.images", "images": [
                    {"alt": "", "image": {"$type": "blob", "ref": {"$link": "bafk" + "c" * 55},
                                          "mimeType": "image/jpeg", "size": 300_000}}]}
            event = {"did": did, "time_us": time_us, "kind": "commit", "commit": {
                "rev": "3lrev", "operation": "create", "collection": "app.bsky.feed.post",
                "rkey": f"3l{rng.getrandbits(50):x}", "record": record,
                "cid": "bafyrei" + "d" * 52}}
        lines.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    return lines


def _rate(function: Callable[[str], Any], lines: list[str], repeat: int) -> tuple[float, int]:
    """Best-of-``repeat`` lines per second, and how many lines ``function`` kept."""
    best = float("inf")
    kept = 0
    for _ in range(repeat):
        started = time.perf_counter()
        kept = sum(1 for line in lines if function(line) is not None)
        best = min(best, time.perf_counter() - started)
    return len(lines) / best, kept


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    lines = make_lines(args.lines)
    ours = JetstreamFilter(KEYWORDS, ACCOUNTS, known=set())  # deletes of posts not shown
    alternatives = "|".join(map(re.escape, KEYWORDS))
    words = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)

    def parse_and_search(line: str) -> Any:
        event = json.loads(line)
        text = ((event.get("commit") or {}).get("record") or {}).get("text")
        return event if isinstance(text, str) and words.search(text) else None

    say(f"{len(lines):,} Jetstream lines, {sum(map(len, lines)) / len(lines):.0f} bytes on "
        f"average; {len(KEYWORDS)} keywords, {len(ACCOUNTS)} tracked accounts")
    baseline, _ = _rate(json.loads, lines, args.repeat)
    naive, naive_kept = _rate(parse_and_search, lines, args.repeat)
    rate, kept = _rate(ours.select, lines, args.repeat)
    posts = sum(1 for line in lines if '"operation":"create"' in line) / len(lines)
    result = {
        "lines": len(lines), "keywords": KEYWORDS, "accounts": len(ACCOUNTS),
        "json_loads_per_s": round(baseline), "json_loads_regex_per_s": round(naive),
        "filter_per_s": round(rate), "filter_kept": kept, "json_loads_regex_kept": naive_kept,
        "filter_us_per_line": round(1e6 / rate, 2),
        "speedup_vs_json_loads": round(rate / baseline, 2),
        "headroom_at_100_posts_per_s": round(rate * posts / 100),
    }
    say(f"json.loads only:          {baseline:12,.0f} lines/s  ({1e6 / baseline:.2f} µs/line)")
    say(f"json.loads + regex:       {naive:12,.0f} lines/s  ({1e6 / naive:.2f} µs/line)")
    say(f"JetstreamFilter.select:   {rate:12,.0f} lines/s  ({1e6 / rate:.2f} µs/line), "
        f"{rate / baseline:.1f}x json.loads")
    say(f"kept {kept} matching posts; the naive filter kept "
        f"{naive_kept} matching posts")
    say(f"headroom: {result['headroom_at_100_posts_per_s']:,}x a whole network of 100 posts/s")
    write_result("jetstream_filter", result)
    return result


if __name__ == "__main__":
    main()
