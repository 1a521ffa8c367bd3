"""X (Twitter): the API v2 filtered stream, with rules synced from the config.

Reconnects follow X's published guidance, every wait multiplied by
``TWITSOCKET_BACKOFF_SCALE``: network errors (a dropped connection, a stall, an
``operational-disconnect`` notice) back off linearly by 250 ms up to 16 s, HTTP errors
exponentially from 5 s up to 320 s, and 429 exponentially from a minute. Every waiting
schedule starts over once posts flow again.

Each line is handed to the pipeline as it came (a malformed or half line is logged and
skipped there); posts delivered again after a reconnect are stored once by the store.
Deletions arrive as ``{"delete": {"status": {"id_str": …}}}`` lines, the shape a
compliance feed or a moderation proxy in front of the stream delivers; the normaliser
turns them into a :class:`~flask_twitsocket.normalise.Deletion`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import requests
import tweepy
from tweepy import StreamRule

from ..backoff import Backoff
from ..config import Settings, require
from ..shapes import RawEvent
from ..walls import RULE_TAG_PREFIX, WallSpec
from ..x_client import XClient, problem, quote_problem
from .base import STREAMING, PermanentFailure, Source

RULE_TAG = "twitsocket"
#: X's problem type for a usage cap reached (429): no retry helps until the period ends.
USAGE_CAPPED = "https://api.twitter.com/2/problems/usage-capped"
#: X's rule length limit on the basic access levels.
RULE_MAX_LENGTH = 512
STREAM_PARAMS = {
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id,"
                  "attachments.media_keys",
    "tweet.fields": "created_at,public_metrics,entities,referenced_tweets,note_tweet,"
                    "author_id,lang",
    # created_at and description: the automatic moderation's account age and consent
    "user.fields": "username,name,profile_image_url,created_at,description",
    "media.fields": "url,preview_image_url,type",
}


class Disconnect(requests.ConnectionError):
    """X sent an error object (e.g. ``operational-disconnect``) instead of a post."""


def rule_terms(wall: WallSpec) -> list[str]:
    """A wall's keywords (phrases quoted, #hashtags as they are) and ``from:<id>`` for its
    users."""
    terms = []
    for keyword in wall.track_keywords:
        keyword = keyword.strip()
        if " " in keyword and not (keyword.startswith('"') and keyword.endswith('"')):
            keyword = '"' + keyword.replace('"', "") + '"'
        terms.append(keyword)
    terms += [f"from:{user}" for user in wall.track_users]
    return list(dict.fromkeys(term for term in terms if term))


def tagged_rules(walls: Mapping[str, WallSpec]) -> list[tuple[str, str]]:
    """The rules to have, ``(value, tag)``: on a single-wall site the tracked terms tagged
    ``twitsocket`` (as always); with several walls each wall's own rules tagged
    ``twitsocket:<slug>``, so the stream's ``matching_rules`` say which walls a post is
    for (:func:`flask_twitsocket.walls.rule_tags`)."""
    if len(walls) == 1:
        return [(value, RULE_TAG) for wall in walls.values()
                for value in pack_rules(rule_terms(wall))]
    return [(value, RULE_TAG_PREFIX + slug) for slug, wall in walls.items()
            for value in pack_rules(rule_terms(wall))]


def is_ours(tag: str | None) -> bool:
    """A rule this extension made (single-wall or a wall's): others' are left alone."""
    return tag == RULE_TAG or (tag or "").startswith(RULE_TAG_PREFIX)


def pack_rules(terms: list[str], limit: int = RULE_MAX_LENGTH) -> list[str]:
    """Join terms with `` OR `` into as few rules as fit ``limit`` characters (in order)."""
    rules: list[str] = []
    for term in terms:
        if len(term) > limit:
            raise ValueError(f"the term {term[:40]!r}… is longer than X's {limit}-character "
                             "rule limit")
        if rules and len(rules[-1]) + len(" OR ") + len(term) <= limit:
            rules[-1] += " OR " + term
        else:
            rules.append(term)
    return rules


class XSource(Source):
    name = "x"
    network = "x"

    def __init__(self, settings: Settings, stop: threading.Event,
                 walls: Mapping[str, WallSpec] | None = None) -> None:
        super().__init__(settings, stop, walls)
        self.client = XClient.from_settings(settings)
        #: One rules sync at a time (at connect, and on a wall change from the main loop).
        self._sync_lock = threading.Lock()

    @classmethod
    def is_configured(cls, settings: Settings) -> bool:
        return bool(settings["X_BEARER_TOKEN"])

    def check(self) -> None:
        require(self.settings, "X_BEARER_TOKEN")

    # --- rules --------------------------------------------------------------------------

    def walls_changed(self, walls: Mapping[str, WallSpec]) -> None:
        """Re-sync the rules for the new walls in the background, WITHOUT reconnecting:
        X applies rule changes to the open filtered stream. (A failure is logged; the next
        change or reconnect syncs again.)"""
        super().walls_changed(walls)
        threading.Thread(target=self._resync, daemon=True, name="x-rules-sync").start()

    def _resync(self) -> None:
        try:
            # its own client: the stream's session is being read by the stream thread
            self.sync_rules(XClient.from_settings(self.settings))
        except (tweepy.HTTPException, requests.RequestException) as error:
            self.log.error("Could not re-sync the X stream rules for the walls' new "
                           "tracking: %s: %s", type(error).__name__, error)

    def sync_rules(self, client: XClient | None = None) -> None:
        """Make our tagged rules equal the walls' tracking; rules of other tools are left
        alone."""
        with self._sync_lock:
            self._sync_rules(client or self.client)

    def _sync_rules(self, client: XClient) -> None:
        wanted = tagged_rules(self.walls)
        if not wanted:
            self.log.warning("No TWITSOCKET_TRACK_KEYWORDS or TWITSOCKET_TRACK_USERS: the X "
                             "stream delivers only what other tools' rules match")
        existing = [rule for rule in (client.get_rules().data or [])
                    if is_ours(rule.tag)]
        stale = [rule.id for rule in existing if (rule.value, rule.tag) not in wanted]
        have = {(rule.value, rule.tag) for rule in existing}
        missing = [rule for rule in wanted if rule not in have]
        if stale:
            client.delete_rules(stale)
            self.log.info("Deleted %d stale X stream rule(s)", len(stale))
        if missing:
            try:
                errors = client.add_rules(
                    [StreamRule(value, tag=tag) for value, tag in missing]).errors
            except tweepy.BadRequest as error:
                errors = error.api_errors
            for problem in errors or []:
                self._log_rejection(problem)
            self.log.info("X stream rules: %d wanted, %d added, %d rejected", len(wanted),
                          len(missing) - len(errors or []), len(errors or []))

    def _log_rejection(self, problem: Any) -> None:
        if not isinstance(problem, dict):
            self.log.error("X rejected a stream rule: %s", problem)
            return
        details = "; ".join(str(d) for d in problem.get("details") or []) or problem.get(
            "detail") or problem.get("message") or ""
        self.log.error("X rejected the stream rule %r: %s %s", problem.get("value"),
                       problem.get("title", ""), details)

    # --- the stream ---------------------------------------------------------------------

    def events(self) -> Iterator[RawEvent]:
        network = Backoff(0.25, 16.0, linear=True)
        http = Backoff(5.0, 320.0)
        limited = Backoff(60.0, 960.0)
        synced = False
        while not self.stop.is_set():
            try:
                if not synced:
                    self.sync_rules()
                    synced = True
                for event in self._read_stream():
                    for backoff in (network, http, limited):
                        backoff.reset()
                    yield event
                if self.stop.is_set():
                    return
                self._transient("The X stream ended; reconnecting")
                wait = network.next()
            except tweepy.HTTPException as error:
                permanent, message = classify(error)
                if permanent:
                    raise PermanentFailure(message) from None
                wait = (limited if isinstance(error, tweepy.TooManyRequests) else http).next()
                self._transient(message)
            except requests.RequestException as error:  # also StallError and Disconnect
                wait = network.next()
                self._transient(f"X stream connection lost: {type(error).__name__}: {error}")
            self.log.info("Reconnecting to X in %.2f s", wait * self.settings["BACKOFF_SCALE"])
            if not self.sleep(wait):
                return

    def _transient(self, message: str) -> None:
        self.log.warning("%s", message)
        self.backing_off(message)

    def _read_stream(self) -> Iterator[RawEvent]:
        lines = self.client.stream(STREAM_PARAMS, self.settings["X_STALL_TIMEOUT"], self.stop)
        self.log.info("Connecting to the X filtered stream")
        self.status.connecting()
        for line in lines:
            if self.status.state != STREAMING:
                self.status.streaming()  # connected: a keep-alive proves it too
            if not line.strip():
                continue  # a keep-alive: the stream is alive, which is all it says
            notice = _error_notice(line)
            if notice is not None:
                raise Disconnect(notice)
            yield RawEvent(self.network, line)


def classify(error: tweepy.HTTPException) -> tuple[bool, str]:
    """Whether X's refusal is permanent, and one line quoting X's reason with what to do.

    Permanent: 401 (the token is wrong or revoked), 403 (the app has no access to the
    filtered stream: not in a Project, or its plan does not include it) and 429 with the
    ``usage-capped`` problem type (the plan's post cap for the period is used up). Another
    429 — too many connections, a rate limit — is X asking us to wait: transient.
    """
    response = error.response
    status = response.status_code
    reason = quote_problem(response)
    if status == 401:
        return True, (f"X refused the bearer token (HTTP 401: {reason}). Check "
                      "TWITSOCKET_X_BEARER_TOKEN: the app's Bearer Token from the X developer "
                      "console, regenerated if it was revoked; then restart the stream.")
    if status == 403:
        return True, (f"X denies this app the filtered stream (HTTP 403: {reason}). The app "
                      "must belong to a Project on an X API plan that includes the filtered "
                      "stream (a paid product); fix that in the developer console, then "
                      "restart the stream.")
    if status == 429 and (problem(response).get("type") == USAGE_CAPPED
                          or problem(response).get("title") == "UsageCapExceeded"):
        return True, (f"X's usage cap is reached (HTTP 429: {reason}). No posts arrive until "
                      "the cap resets or the plan is raised in the developer console; then "
                      "restart the stream.")
    if status == 429:
        return False, (f"X says too many connections or requests (HTTP 429: {reason}); "
                       "backing off. Is another stream running with this app's token?")
    return False, f"X answered HTTP {status}: {reason}"


def _error_notice(line: bytes) -> str | None:
    """The titles of an error object without ``data`` (X's way to say it disconnects)."""
    if b'"errors"' not in line:
        return None
    try:
        payload = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or "data" in payload or "errors" not in payload:
        return None
    errors = payload["errors"] if isinstance(payload["errors"], list) else [payload["errors"]]
    return ", ".join(str(e.get("title", e) if isinstance(e, dict) else e) for e in errors)
