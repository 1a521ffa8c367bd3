"""Replay a JSON-lines recording as if it were happening now (the demo, and old archives).

Each line is one raw event: an X API v2 stream event, a legacy v1.1 status, or an envelope
``{"network": "mastodon", "payload": {...}}`` for other networks. Lines are handed to the
pipeline untouched (a broken line — not UTF-8, not JSON, too long — is logged and skipped
there; the file is read as bytes so one bad byte never stops the replay), except that X posts get
today's time (``TWITSOCKET_REPLAY_RETIME``) and, on every pass after the first of a
looping replay, a fresh id so the wall keeps filling. With ``TWITSOCKET_REPLAY_FRESH_IDS``
(the demo) even the first pass gets ids of its own, different at every start: a demo
started again on the same database shows a live wall instead of 17 duplicates. The
posts a retweet or quote refers to get the same suffix, so "most shared" still adds up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from ..config import ConfigError
from ..normalise.storable import MAX_EVENT_CHARS
from ..shapes import RawEvent
from .base import Source


class ReplaySource(Source):
    name = "replay"
    network = "x"

    @classmethod
    def is_configured(cls, settings) -> bool:
        return True

    def check(self) -> None:
        path = self.settings["REPLAY_FILE"]
        if not path.is_file():
            raise ConfigError("TWITSOCKET_REPLAY_FILE", f"no such file: {path}")

    def events(self) -> Iterator[RawEvent]:
        # Milliseconds since the epoch, last 9 digits: unique per start, digits like X ids.
        self.start_token = str(time.time_ns() // 1_000_000)[-9:] \
            if self.settings["REPLAY_FRESH_IDS"] else ""
        self.status.streaming()
        path = self.settings["REPLAY_FILE"]
        interval = 1.0 / self.settings["REPLAY_RATE"]
        loop = self.settings["REPLAY_LOOP"]
        passes = 0
        while not self.stop.is_set():
            self.log.info("Replaying %s at %.1f posts/s (pass %d)", path.name,
                          self.settings["REPLAY_RATE"], passes + 1)
            next_at = time.monotonic()
            with path.open("rb") as lines:
                for line in lines:
                    line = line.strip()
                    if not line:
                        continue
                    delay = next_at - time.monotonic()
                    if delay > 0 and self.stop.wait(delay):
                        return
                    next_at = max(next_at, time.monotonic() - 1.0) + interval
                    yield self._event(line, passes)
            passes += 1
            if not loop:
                self.log.info("Replay finished after one pass")
                return

    def _event(self, line: bytes, passes: int) -> RawEvent:
        if len(line) > MAX_EVENT_CHARS:
            return RawEvent(self.network, line)  # the pipeline reports it (too long)
        try:
            event = json.loads(line.decode("utf-8"))
        except (ValueError, RecursionError):  # not UTF-8, not JSON, too deeply nested
            return RawEvent(self.network, line)  # the pipeline reports it
        if isinstance(event, dict) and "network" in event and "payload" in event:
            return RawEvent(str(event["network"]), event["payload"])
        if isinstance(event, dict):
            self._refresh(event, passes)
        return RawEvent(self.network, event)

    def _refresh(self, event: dict[str, Any], passes: int) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        post = event.get("data") if isinstance(event.get("data"), dict) else event
        if "id" not in post and "id_str" not in post:
            return
        if self.settings["REPLAY_RETIME"]:
            if "data" in event:
                post["created_at"] = stamp.replace("+00:00", "Z")
            else:
                post["created_at"] = datetime.now(timezone.utc).strftime(
                    "%a %b %d %H:%M:%S +0000 %Y")
        suffix = f"{self.start_token}{passes:04d}" if passes or self.start_token else ""
        if suffix:
            for item in _ids_of(event, post):
                for key in ("id", "id_str"):
                    if key in item:
                        item[key] = f"{item[key]}{suffix}"


def _ids_of(event: dict[str, Any], post: dict[str, Any]) -> list[dict[str, Any]]:
    """The post and the posts it refers to (retweeted, quoted, included): one suffix."""
    items = [post]
    for key in ("referenced_tweets",):
        items += [ref for ref in post.get(key) or [] if isinstance(ref, dict)]
    includes = event.get("includes")
    if isinstance(includes, dict):
        items += [tweet for tweet in includes.get("tweets") or [] if isinstance(tweet, dict)]
    return items
