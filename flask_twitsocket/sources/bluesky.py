"""Bluesky: the whole network's posts from Jetstream, filtered here by keyword and account.

Jetstream (``/subscribe?wantedCollections=app.bsky.feed.post``, Jetstream v1; the ``atproto``
SDK speaks only v2 and stops on a clean close) sends every new post of the network, tens
per second, so the filter (:mod:`.jetstream_filter`) runs on every message and must be
cheap.

Authors arrive as DIDs. Names come from the AppView's ``app.bsky.actor.getProfiles``,
batched (up to 25 actors a request) over the posts that matched in the last moment, and
cached, so one author costs one request an hour however much they post. When the AppView
fails, posts go out at once with the DID as the name; the AppView is left alone for a
while rather than slowing every post.

Resuming: Jetstream replays from a ``cursor`` (a ``time_us``) up to 36 h back. The resume
position is kept in ``TWITSOCKET_BLUESKY_STATE_FILE`` (a small JSON file written
atomically every few seconds: the extension's tables stay the same for every network and a
cursor is per process, not per site). It is the newest ``time_us`` read, except while a
forwarded event is not stored yet: then it is the oldest such event's ``time_us`` (the
stream runner acknowledges each stored event), so a restart after the database was stuck
reads again every post it had not stored. Reconnects within the process resume from the
newest read (what was read is still in memory). The store keeps a replayed post once.
The same file keeps the AT URIs of recently forwarded posts, so a delete is forwarded only
for a post the wall has, not the network's every one.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from ..backoff import Backoff
from ..config import ConfigError
from ..normalise.bluesky import POST, at_uri
from ..normalise.storable import MAX_EVENT_CHARS
from ..shapes import RawEvent
from ..walls import WallSpec, site_tracking, union
from .base import Source
from .jetstream_filter import JetstreamFilter, commit_of
from .mastodon import USER_AGENT

PROFILE_KEYS = ("handle", "displayName", "avatar", "createdAt", "labels", "description")
PROFILE_BATCH = 25  # getProfiles accepts at most 25 actors
PROFILE_TTL = 3600.0
PROFILE_CACHE_SIZE = 20_000
APPVIEW_PAUSE = 30.0  # seconds without AppView requests after a failure
BATCH_WAIT = 0.25  # seconds a matched post may wait for others to share a profile request
SAVE_EVERY = 2.0
REWIND_US = 5_000_000  # rewind on restart too: cheap insurance (replays are stored once)
KNOWN_POSTS = 5_000

_TIME_US = re.compile(r'"time_us"\s*:\s*(\d+)')


class ProfileCache:
    """DID → profile (handle, displayName, avatar), fetched 25 at a time and kept an hour."""

    def __init__(self, http: requests.Session, appview: str, log: Any) -> None:
        self.http, self.appview, self.log = http, appview, log
        self.profiles: dict[str, tuple[float, dict[str, Any]]] = {}
        self.paused_until = 0.0
        self.requests = 0

    def missing(self, actors: Iterable[str]) -> list[str]:
        now = time.monotonic()
        return list(dict.fromkeys(a for a in actors
                                  if a not in self.profiles or self.profiles[a][0] < now))

    def get(self, actor: str) -> dict[str, Any]:
        entry = self.profiles.get(actor)
        return entry[1] if entry else {}

    def fetch(self, actors: Iterable[str]) -> None:
        """Look up the actors not cached; a failure pauses lookups instead of retrying."""
        missing = self.missing(actors)
        for start in range(0, len(missing), PROFILE_BATCH):
            if time.monotonic() < self.paused_until:
                return
            batch = missing[start:start + PROFILE_BATCH]
            try:
                self.requests += 1
                response = self.http.get(
                    f"{self.appview}/xrpc/app.bsky.actor.getProfiles",
                    params=[("actors", actor) for actor in batch], timeout=5)
                response.raise_for_status()
                found = response.json().get("profiles") or []
            except (requests.RequestException, ValueError, AttributeError) as error:
                self.paused_until = time.monotonic() + APPVIEW_PAUSE
                self.log.warning("Bluesky profiles unavailable (%s); showing DIDs for %.0f s",
                                 type(error).__name__, APPVIEW_PAUSE)
                return
            expires = time.monotonic() + PROFILE_TTL
            for actor in batch:  # unknown actors are cached too: no asking again and again
                self.profiles[actor] = (expires, {})
            for profile in found:
                if isinstance(profile, dict) and isinstance(profile.get("did"), str):
                    self.profiles[profile["did"]] = (expires, profile)
                    if isinstance(profile.get("handle"), str):
                        self.profiles[profile["handle"].lower()] = (expires, profile)
            while len(self.profiles) > PROFILE_CACHE_SIZE:
                del self.profiles[next(iter(self.profiles))]


class BlueskySource(Source):
    name = "bluesky"
    network = "bluesky"

    def __init__(self, settings, stop: threading.Event,
                 walls: Mapping[str, WallSpec] | None = None) -> None:
        super().__init__(settings, stop, walls)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        self.profiles = ProfileCache(self.http, settings["BLUESKY_APPVIEW_URL"], self.log)
        self._follow_walls()
        state = settings["BLUESKY_STATE_FILE"]
        self.state_file = Path(state) if state else None
        #: The newest ``time_us`` read: where a reconnect resumes.
        self.cursor: int | None = None
        #: ``time_us`` of forwarded events not yet stored, oldest first (see _resume_at).
        self.unstored: deque[int] = deque()
        self.unstored_lock = threading.Lock()
        self.known: dict[str, None] = {}
        self.pending: list[dict[str, Any]] = []
        self.pending_since = 0.0
        self.last_line = ""
        self.saved_at = 0.0
        self._load_state()
        self.filter = JetstreamFilter(self.keywords, self.dids, self.known)

    def _follow_walls(self) -> None:
        """Every wall's accounts and keywords: Jetstream is filtered once for the union."""
        self.accounts = [a.lstrip("@").lower() if not a.startswith("did:") else a
                         for a in union(self.walls.values(), "bluesky_accounts")]
        self.dids = {a for a in self.accounts if a.startswith("did:")}
        self.keywords = union(self.walls.values(), "track_keywords")

    def walls_changed(self, walls: Mapping[str, WallSpec]) -> None:
        """Filter for the walls' new keywords and accounts from the next event on, on the
        same connection: Jetstream sends every post and the filter is ours. New handles
        are resolved to DIDs in the background."""
        super().walls_changed(walls)
        self._follow_walls()
        self.filter = JetstreamFilter(self.keywords, self.dids, self.known)
        threading.Thread(target=self._resolve_accounts, daemon=True,
                         name="bluesky-accounts").start()

    @classmethod
    def is_configured(cls, settings) -> bool:
        return bool(settings["BLUESKY_ENABLED"] or site_tracking(settings, "bluesky_accounts"))

    def check(self) -> None:
        if not self.keywords and not self.accounts:
            raise ConfigError("TWITSOCKET_TRACK_KEYWORDS", "Bluesky needs keywords or "
                              "TWITSOCKET_BLUESKY_ACCOUNTS to select posts from the network")

    def position(self) -> tuple[str | None, float | None]:
        """The Jetstream cursor (``time_us``) and how far behind now it is."""
        cursor = self.cursor
        if cursor is None:
            return None, None
        return str(cursor), max(0.0, time.time() - cursor / 1_000_000)

    # --- state ------------------------------------------------------------------------------

    def _load_state(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
            cursor = int(state["cursor"])
            posts = [uri for uri in state.get("posts", []) if isinstance(uri, str)]
        except (OSError, ValueError, KeyError, TypeError) as error:
            self.log.warning("Ignoring unreadable %s (%s)", self.state_file, error)
            return
        self.cursor = max(cursor - REWIND_US, 0)
        self.known = dict.fromkeys(posts[-KNOWN_POSTS:])
        self.log.info("Resuming Bluesky from cursor %d", self.cursor)

    def _track_cursor(self) -> None:
        found = _TIME_US.search(self.last_line)
        if found:
            self.cursor = int(found.group(1))

    def _forward(self, payload: dict[str, Any] | str, time_us: Any) -> RawEvent:
        """The raw event for the pipeline, counted as unstored until acknowledged."""
        if not isinstance(time_us, int) or isinstance(time_us, bool):
            return RawEvent(self.network, payload)
        with self.unstored_lock:
            self.unstored.append(time_us)
        return RawEvent(self.network, payload, acknowledge=partial(self._stored, time_us))

    def _stored(self, time_us: int) -> None:
        """The runner stored the event of ``time_us`` (and, in order, every one before)."""
        with self.unstored_lock:
            while self.unstored and self.unstored[0] <= time_us:
                self.unstored.popleft()

    def _resume_at(self) -> int | None:
        """Where a restart must resume: the oldest event read but not stored, if any."""
        waiting = [event["time_us"] for event in self.pending[:1]
                   if isinstance(event.get("time_us"), int)]
        with self.unstored_lock:
            waiting += list(self.unstored)[:1]
        return min(waiting) if waiting else self.cursor

    def _save_state(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.state_file is None or (not force and now - self.saved_at < SAVE_EVERY):
            return
        self.saved_at = now
        self._track_cursor()
        cursor = self._resume_at()
        if cursor is None:
            return
        state = {"cursor": cursor, "posts": list(self.known)[-KNOWN_POSTS:]}
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        try:
            temporary.write_text(json.dumps(state), encoding="utf-8")
            os.replace(temporary, self.state_file)
        except OSError as error:
            self.log.warning("Could not save the Bluesky cursor to %s: %s", self.state_file,
                             error)

    # --- accounts -----------------------------------------------------------------------

    def _resolve_accounts(self) -> None:
        """Tracked handles become DIDs (Jetstream only names DIDs); retried each connect."""
        handles = [a for a in self.accounts if not a.startswith("did:")]
        unresolved = [h for h in handles if not self.profiles.get(h).get("did")]
        if not unresolved:
            return
        self.profiles.fetch(unresolved)
        dids = {self.profiles.get(h).get("did") for h in handles} - {None}
        if dids - self.dids:
            self.dids |= dids
            self.filter = JetstreamFilter(self.keywords, self.dids, self.known)
        missing = [h for h in handles if not self.profiles.get(h).get("did")]
        if missing:
            self.log.warning("Could not resolve Bluesky handles %s yet", ", ".join(missing))

    # --- the stream ---------------------------------------------------------------------

    def _url(self) -> str:
        query = [("wantedCollections", POST)]
        if self.cursor is not None:
            query.append(("cursor", str(self.cursor)))
        return f"{jetstream_base(self.settings['BLUESKY_JETSTREAM_URL'])}/subscribe?" \
            f"{urlencode(query)}"

    def events(self) -> Iterator[RawEvent]:
        backoff = Backoff(1.0, 60.0)
        while not self.stop.is_set():
            self._resolve_accounts()
            url = self._url()
            try:
                with connect(url, open_timeout=10, close_timeout=2, max_size=2 ** 22,
                             user_agent_header=USER_AGENT) as websocket:
                    self.log.info("Connected to Jetstream %s", url)
                    self.status.streaming()
                    backoff.reset()
                    yield from self._read(websocket)
            except (OSError, WebSocketException, TimeoutError) as error:
                if self.stop.is_set():
                    break
                message = f"Jetstream connection lost: {error or type(error).__name__}"
                self.log.warning("%s", message)
                self.backing_off(message)
            finally:
                self._track_cursor()
            yield from self._flush()
            self._save_state(force=True)
            delay = backoff.next()
            self.log.info("Reconnecting to Jetstream in %.1f s from cursor %s",
                          delay * self.settings["BACKOFF_SCALE"], self.cursor)
            if not self.sleep(delay):
                break
        yield from self._flush()
        self._save_state(force=True)

    def _read(self, websocket: Any) -> Iterator[RawEvent]:
        while not self.stop.is_set():
            try:
                message = websocket.recv(timeout=BATCH_WAIT)
            except TimeoutError:
                message = None
            if message is not None:
                line = message.decode("utf-8", "replace") if isinstance(message, bytes) \
                    else message
                self.last_line = line
                selected = self.filter.select(line)
                if isinstance(selected, str) or (selected is not None
                                                 and len(line) > MAX_EVENT_CHARS):
                    time_us = _TIME_US.search(line)
                    # not JSON, or too big to store: the pipeline logs it
                    yield self._forward(line, int(time_us.group(1)) if time_us else None)
                elif selected is not None:
                    self._hold(selected)
            if self.pending and (message is None or len(self.pending) >= PROFILE_BATCH
                                 or time.monotonic() - self.pending_since > BATCH_WAIT):
                yield from self._flush()
            self._save_state()

    def _hold(self, event: dict[str, Any]) -> None:
        commit = commit_of(event)
        uri = at_uri(str(event.get("did")), str(commit.get("rkey")))
        if commit.get("operation") == "delete":
            # A post deleted while it waits here for its author's profile is never sent
            # (it would flash on the wall); the delete still goes, for a tombstone.
            held = [e for e in self.pending if _uri_of(e) == uri]
            if not held and uri not in self.known:
                return
            self.pending = [e for e in self.pending if _uri_of(e) != uri]
        else:  # known from now on, so that the filter lets its delete through while held
            self.known[uri] = None
        if not self.pending:
            self.pending_since = time.monotonic()
        self.pending.append(event)

    def _flush(self) -> Iterator[RawEvent]:
        """Send held events, after one profile lookup for all their unknown authors."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        self.profiles.fetch(str(event.get("did")) for event in pending
                            if commit_of(event).get("operation") != "delete")
        for event in pending:
            commit = commit_of(event)
            if commit.get("operation") != "delete":
                profile = self.profiles.get(str(event.get("did")))
                if profile:
                    # createdAt, labels (the !no-unauthenticated self-label) and the
                    # bio: what the automatic moderation rules and consent need
                    event["profile"] = {key: profile.get(key) for key in PROFILE_KEYS}
                self.known[at_uri(str(event.get("did")), str(commit.get("rkey")))] = None
                if len(self.known) > KNOWN_POSTS:
                    del self.known[next(iter(self.known))]
            yield self._forward(event, event.get("time_us"))


def _uri_of(event: dict[str, Any]) -> str:
    return at_uri(str(event.get("did")), str(commit_of(event).get("rkey")))


def jetstream_base(url: str) -> str:
    """The instance's root: Jetstream's documentation lists its instances as
    ``wss://…/subscribe``, and appending ``/subscribe`` to that reached
    ``…/subscribe/subscribe``."""
    base = url.split("?", 1)[0].rstrip("/")
    return base[:-len("/subscribe")] if base.endswith("/subscribe") else base
