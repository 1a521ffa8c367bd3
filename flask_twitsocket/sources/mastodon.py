"""Mastodon: follow hashtags on one instance, streamed when we have a token, else polled.

Why a plain client (requests + a 30-line SSE parser, in :mod:`.mastodon_wire` with the
other readers of what an instance sends) and not Mastodon.py: a wall must not
miss posts, and Mastodon.py's streaming neither replays what was posted while it was
reconnecting nor turns ``status.update`` payloads into statuses; its reconnect policy is
its own. Here every (re)connect first opens the stream, THEN reads the hashtag timeline
from the newest id we have (``min_id``), so a post made in the gap arrives either way and
the store's de-duplication keeps it once.

* Streaming (``TWITSOCKET_MASTODON_TOKEN`` set; Mastodon ≥ 4.2 requires a user token for
  the hashtag stream): ``GET /api/v1/streaming/hashtag?tag=…`` on the streaming host, which
  ``/api/v2/instance`` names (``configuration.urls.streaming``; the API host if absent). One
  thread per hashtag, because an SSE connection follows one tag.
* Polling (no token): the public hashtag timeline every ``TWITSOCKET_MASTODON_POLL_INTERVAL``
  seconds, within the ``X-RateLimit-*`` budget. Edits and deletions are not seen then, and
  the log says so at start-up.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from ..backoff import Backoff
from ..config import ConfigError, require
from ..shapes import RawEvent
from ..walls import WallSpec, mastodon_hashtags
from .base import PermanentFailure, Source
from .mastodon_wire import (
    id_key,
    mastodon_reason,
    permanent_failure,
    rate_limit_wait,
    sse_events,
    streaming_host,
)

PAGE = 40  # the hashtag timeline's maximum page size
MAX_CATCH_UP_PAGES = 25  # 1,000 posts: more than a wall shows after an outage
USER_AGENT = "flask-twitsocket (+https://github.com/flask-twitsocket)"


def hashtags(walls: Mapping[str, WallSpec]) -> list[str]:
    """The configured hashtags, else the track keywords that are hashtags; no '#', no dupes.
    Of every wall of the site (one connection follows them all)."""
    configured = mastodon_hashtags(walls.values())
    tags: list[str] = []
    for tag in configured:
        clean = tag.strip().lstrip("#")
        if clean and clean.lower() not in (t.lower() for t in tags):
            tags.append(clean)
    return tags


class MastodonSource(Source):
    name = "mastodon"
    network = "mastodon"

    def __init__(self, settings, stop: threading.Event,
                 walls: Mapping[str, WallSpec] | None = None) -> None:
        super().__init__(settings, stop, walls)
        self.base = settings["MASTODON_URL"] or ""
        self.token = settings["MASTODON_TOKEN"]
        self.tags = hashtags(self.walls)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        if self.token:
            self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.domain: str | None = None
        self.streaming: str | None = None
        #: Newest status id seen per hashtag: where the next catch-up starts.
        self.newest: dict[str, str | None] = {tag: None for tag in self.tags}
        self._done = threading.Event()
        #: A permanent failure met by a hashtag's thread: ends the source.
        self._fatal: PermanentFailure | None = None
        #: The open hashtag streams, each with its hashtag.
        self._open: dict[requests.Response, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def is_configured(cls, settings) -> bool:
        return bool(settings["MASTODON_URL"])

    def check(self) -> None:
        require(self.settings, "MASTODON_URL")
        if not self.tags:
            raise ConfigError("TWITSOCKET_MASTODON_HASHTAGS",
                              "no hashtag to follow: set it, or put #hashtags in "
                              "TWITSOCKET_TRACK_KEYWORDS")

    def walls_changed(self, walls: Mapping[str, WallSpec]) -> None:
        """Follow the walls' new hashtags. An SSE connection follows one hashtag, so a new
        hashtag opens its own connection (caught up from its timeline) and a dropped one
        closes its own; the other hashtags' connections stay open. Polling reads the new
        list from its next round."""
        super().walls_changed(walls)
        tags = hashtags(self.walls)
        if tags == self.tags:
            return
        self.log.info("The walls changed: following Mastodon hashtags %s",
                      ", ".join(f"#{tag}" for tag in tags))
        self.tags = tags
        with self._lock:
            for response, tag in list(self._open.items()):
                if tag not in tags:
                    response.close()  # its thread ends: the hashtag is no longer wanted

    def _wanted(self, tag: str) -> bool:
        return not self._stopping() and tag in self.tags

    def events(self) -> Iterator[RawEvent]:
        self._done.clear()
        self._fatal = None
        if self.token:
            self.log.info("Streaming Mastodon hashtags %s from %s", self._tag_list(), self.base)
            return self._stream_all()
        self.log.warning(
            "No TWITSOCKET_MASTODON_TOKEN: polling the public timeline of %s on %s every "
            "%.0f s (the hashtag stream needs a user token since Mastodon 4.2; edits and "
            "deletions are not seen while polling)", self._tag_list(), self.base,
            self.settings["MASTODON_POLL_INTERVAL"])
        return self._poll()

    def _transient(self, message: str) -> None:
        self.log.warning("%s", message)
        self.backing_off(message)

    def position(self) -> tuple[str | None, float | None]:
        newest = {tag: status_id for tag, status_id in self.newest.items() if status_id}
        return (json.dumps(newest) if newest else None), None

    def _tag_list(self) -> str:
        return ", ".join(f"#{tag}" for tag in self.tags)

    def _stopping(self) -> bool:
        return self.stop.is_set() or self._done.is_set()

    # --- the instance ---------------------------------------------------------------------

    def _discover(self) -> None:
        """Learn the instance's domain (for local accts) and its streaming host, once."""
        if self.domain is not None:
            return
        streaming = None
        try:
            response = self.http.get(f"{self.base}/api/v2/instance", timeout=10)
            response.raise_for_status()
            info = response.json()
            self.domain = str(info.get("domain") or "") or None
            streaming = ((info.get("configuration") or {}).get("urls") or {}).get("streaming")
        except (requests.RequestException, ValueError, AttributeError) as error:
            self.log.warning("Could not read %s/api/v2/instance (%s); streaming from the API "
                             "host", self.base, error)
        self.streaming = streaming_host(streaming) or self.base
        self.domain = self.domain or urlsplit(self.base).hostname

    def _envelope(self, event: str, payload: Any) -> RawEvent:
        return RawEvent(self.network, {"event": event, "payload": payload,
                                       "instance": self.domain})

    # --- the hashtag timeline (catch-up and polling) --------------------------------------

    def _catch_up(self, tag: str) -> Iterator[RawEvent]:
        """Statuses newer than the newest we saw, oldest first; the latest page at first."""
        after = self.newest.get(tag)
        for _page in range(MAX_CATCH_UP_PAGES if after else 1):
            params: dict[str, Any] = {"limit": PAGE}
            if after:
                params["min_id"] = after
            response = self.http.get(f"{self.base}/api/v1/timelines/tag/{quote(tag, safe='')}",
                                     params=params, timeout=15)
            self._respect_rate_limit(response)
            response.raise_for_status()
            statuses = [s for s in response.json() if isinstance(s, dict) and "id" in s]
            statuses.sort(key=lambda status: id_key(str(status["id"])))
            for status in statuses:
                self._saw(tag, str(status["id"]))
                yield self._envelope("update", status)
            if len(statuses) < PAGE or not after:
                return
            after = self.newest[tag]

    def _saw(self, tag: str, status_id: str) -> None:
        newest = self.newest.get(tag)
        if newest is None or id_key(status_id) > id_key(newest):
            self.newest[tag] = status_id

    def _respect_rate_limit(self, response: requests.Response) -> None:
        """Wait for the reset when the budget is spent (or a 429 says so): a ban costs more."""
        wait = rate_limit_wait(response)
        if wait is None:
            return
        self.log.warning("Mastodon rate limit reached (%s left); waiting %.0f s for the reset",
                         response.headers.get("X-RateLimit-Remaining"), wait)
        self.stop.wait(wait)

    def _poll(self) -> Iterator[RawEvent]:
        backoff = Backoff(5.0, 300.0)
        while not self.stop.is_set():
            self._discover()
            failed = False
            for tag in self.tags:
                try:
                    yield from self._catch_up(tag)
                    self.status.streaming()
                except requests.HTTPError as error:
                    fatal = permanent_failure(self.base, error)
                    if fatal is not None:
                        raise fatal from None
                    failed = True
                    self._transient(f"Polling #{tag} failed: {error}")
                except (requests.RequestException, ValueError) as error:
                    failed = True
                    self._transient(f"Polling #{tag} failed: {error}")
            if failed:
                if not self.sleep(backoff.next()):
                    return
            else:
                backoff.reset()
                if self.stop.wait(self.settings["MASTODON_POLL_INTERVAL"]):
                    return

    # --- streaming --------------------------------------------------------------------------

    def _stream_all(self) -> Iterator[RawEvent]:
        out: queue.Queue[RawEvent] = queue.Queue(maxsize=1000)
        threads: dict[str, threading.Thread] = {}
        try:
            while not self.stop.is_set() and self._fatal is None:
                for tag in self.tags:  # one thread per wanted hashtag (the walls change)
                    if tag not in threads or not threads[tag].is_alive():
                        threads[tag] = threading.Thread(
                            target=self._follow, args=(tag, out), daemon=True,
                            name=f"mastodon-{tag}")
                        threads[tag].start()
                try:
                    yield out.get(timeout=0.5)
                except queue.Empty:
                    continue
        finally:
            self._done.set()
            with self._lock:
                for response in list(self._open):
                    response.close()  # unblocks a reader waiting for the next heartbeat
        if self._fatal is not None:
            raise self._fatal

    def _put(self, out: queue.Queue, event: RawEvent) -> bool:
        while not self._stopping():
            try:
                out.put(event, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _follow(self, tag: str, out: queue.Queue) -> None:
        """One hashtag's stream, reconnected forever with back-off, caught up each time."""
        backoff = Backoff(1.0, 60.0)
        while self._wanted(tag):
            try:
                self._discover()
                self._stream_once(tag, out, backoff)
                self.log.warning("Mastodon stream for #%s ended", tag)
            except requests.HTTPError as error:
                fatal = permanent_failure(self.base, error)
                if fatal is not None:
                    self._fatal = fatal  # _stream_all raises it: the whole source stops
                    self._done.set()
                    return
                status = error.response.status_code if error.response is not None else 0
                self._transient(f"Mastodon stream for #{tag} failed: HTTP {status}: "
                                f"{mastodon_reason(error.response)}")
            except (requests.RequestException, ValueError, OSError) as error:
                if not self._wanted(tag):
                    return
                self._transient(f"Mastodon stream for #{tag} lost: {type(error).__name__}")
            except Exception:  # a bug must not silently end this hashtag's thread
                if not self._wanted(tag):
                    return  # the response was closed under the reader: we are stopping
                self.log.exception("Mastodon stream for #%s failed", tag)
            delay = backoff.next()
            self.log.info("Reconnecting to the #%s stream in %.1f s", tag,
                          delay * self.settings["BACKOFF_SCALE"])
            if not self._wanted(tag) or not self.sleep(delay):
                return

    def _stream_once(self, tag: str, out: queue.Queue, backoff: Backoff) -> None:
        url = f"{self.streaming}/api/v1/streaming/hashtag"
        response = self.http.get(url, params={"tag": tag}, stream=True, timeout=(10, 60),
                                 headers={"Accept": "text/event-stream"})
        with self._lock:
            self._open[response] = tag
        try:
            response.raise_for_status()
            # The stream is open: whatever is posted from now on is buffered for us, so the
            # catch-up below can take its time and nothing falls between the two.
            for event in self._catch_up(tag):
                if not self._put(out, event):
                    return
            self.log.info("Mastodon stream for #%s connected", tag)
            self.status.streaming()
            backoff.reset()
            for name, data in sse_events(response.iter_content(chunk_size=None)):
                if not self._wanted(tag):
                    return
                event = self._sse_event(tag, name, data)
                if event is not None and not self._put(out, event):
                    return
        finally:
            with self._lock:
                self._open.pop(response, None)
            response.close()

    def _sse_event(self, tag: str, name: str, data: str) -> RawEvent | None:
        if name == "delete":
            return self._envelope("delete", data.strip())
        if name not in ("update", "status.update"):
            return None
        try:
            status = json.loads(data)
        except (ValueError, RecursionError):
            return RawEvent(self.network, data)  # the pipeline logs and counts it
        if name == "update" and isinstance(status, dict) and "id" in status:
            self._saw(tag, str(status["id"]))
        return self._envelope(name, status)
