"""The automatic rules: the wall protects itself while the moderator is in a talk.

Each rule is named (the names of ``TWITSOCKET_AUTO_MODERATION``), and says why in words
a moderator reads in the console ("flood: 7 posts in 5 min"). A rule does not drop a
post: the gate holds it in the moderation queue with that reason, where one action
releases it — except ``consent``: a post by an author who asked not to be shown to the
logged-out public is dropped, never stored (not even in the queue).

All state (the flood counters, the raid window) lives in the stream process's memory:
the rules cost no database query per post. It starts from the posts stored within the
windows (:meth:`AutoRules.recall`, one query before the first batch), so a restart
mid-raid does not forget the raid. Flood and raids count only posts that went up, so a
held post does not make its author's next one wait longer.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from ..config_table import AUTO_RULES
from ..shapes import PostData
from .profanity import Profanity
from .raids import RaidWatch

#: Every rule, in the order a post is checked (the first that catches it names it).
RULE_NAMES = AUTO_RULES
#: On out of the box: a new site is protected before anyone configures anything.
DEFAULT_RULES = ("profanity", "raids", "consent")
#: Rules that are on, with the default list, once their own setting is given.
RULE_SETTINGS = {"flood": "FLOOD_POSTS", "new_accounts": "MIN_ACCOUNT_AGE_DAYS",
                 "languages": "LANGUAGES", "links": "BLOCKED_DOMAINS"}


def post_texts(post: PostData) -> list[str]:
    """Every text of a post the rules look at — the one place that lists them: the
    author's (and a repost's original author's) name and handle, the text, the content
    warning, every media alt text and the link card's title. What the wall shows is what
    the rules read."""
    texts = [post.author.name, post.author.username, post.text, post.content_warning]
    if post.original_author is not None:
        texts += [post.original_author.name, post.original_author.username]
    texts += [str(item.get("alt") or "") for item in post.media]
    if post.card:
        texts.append(str(post.card.get("title") or ""))
    return [text for text in texts if text]


@dataclass(frozen=True)
class Verdict:
    """A rule's decision on a post: which rule, and why, in a moderator's words."""

    rule: str
    reason: str

    @property
    def drops(self) -> bool:
        """Consent drops the post; every other rule holds it for a moderator."""
        return self.rule == "consent"


def blocked_word_verdict(word: str) -> Verdict:
    """The console's blocked words are part of the profanity rule: a post with one waits
    in the queue like a post with a listed word, named as the organisers' own."""
    return Verdict("profanity", f"blocked word: '{word}'")


def enabled_rules(settings: Any) -> tuple[str, ...]:
    """``TWITSOCKET_AUTO_MODERATION`` when given, else the defaults plus every rule
    whose own setting is given (``TWITSOCKET_FLOOD_POSTS`` turns flood control on)."""
    chosen = settings["AUTO_MODERATION"]
    if chosen is not None:
        return tuple(chosen)
    return DEFAULT_RULES + tuple(rule for rule, key in RULE_SETTINGS.items()
                                 if settings[key])


class Flood:
    """At most ``posts`` per author per ``minutes`` go up."""

    def __init__(self, posts: int, minutes: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.posts = posts
        self.minutes = minutes
        self.clock = clock
        self.recent: dict[tuple[str, str], deque[float]] = {}

    def check(self, network: str, author_id: str) -> str | None:
        now = self.clock()
        start = now - self.minutes * 60
        times = self.recent.get((network, author_id))
        if times is None:
            times = self.recent[network, author_id] = deque()
        while times and times[0] < start:
            times.popleft()
        if len(times) >= self.posts:
            return f"flood: {len(times) + 1} posts in {self.minutes:g} min"
        times.append(now)
        if len(self.recent) > 100_000:  # a bounded memory, whatever the traffic
            self._prune(start)
        return None

    def remember(self, network: str, author_id: str, age_seconds: float) -> None:
        """Count a post that went up ``age_seconds`` ago (the stream's start: the recent
        stored posts, oldest first), as :meth:`check` would have."""
        if age_seconds <= self.minutes * 60:
            times = self.recent.get((network, author_id))
            if times is None:
                times = self.recent[network, author_id] = deque()
            times.append(self.clock() - age_seconds)

    def _prune(self, start: float) -> None:
        for key in [key for key, times in self.recent.items() if not times
                    or times[-1] < start]:
            del self.recent[key]


class BlockedDomains:
    """``TWITSOCKET_BLOCKED_DOMAINS``: links to these domains (or their subdomains)."""

    def __init__(self, domains: Iterable[str]) -> None:
        self.domains = frozenset(domain.lower().lstrip(".") for domain in domains)
        #: a link's text that names no blocked domain anywhere is not parsed: one C scan
        self.named = re.compile("|".join(map(re.escape, sorted(self.domains))),
                                re.IGNORECASE) if self.domains else None

    def __bool__(self) -> bool:
        return bool(self.domains)

    def find(self, post: PostData) -> str | None:
        """The host of the post's first link to a blocked domain, or None."""
        named = self.named
        if named is None:
            return None
        for entity in post.entities:
            url = entity.get("url")
            if url and named.search(str(url)):
                host = blocked_host(str(url), self.domains)
                if host:
                    return host
        return None


def blocked_host(url: str, domains: frozenset[str]) -> str | None:
    """The host of ``url`` when it is one of ``domains`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    suffix = host
    while suffix:
        if suffix in domains:
            return host
        suffix = suffix.partition(".")[2]
    return None


class AutoRules:
    """The enabled rules, configured once; :meth:`check` is the per-post call."""

    def __init__(self, settings: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = frozenset(enabled_rules(settings))
        self.profanity = Profanity() if "profanity" in self.enabled else None
        self.raids = RaidWatch(clock=clock) if "raids" in self.enabled else None
        self.flood = (Flood(settings["FLOOD_POSTS"] or 5, settings["FLOOD_MINUTES"], clock)
                      if "flood" in self.enabled else None)
        self.min_age_days = settings["MIN_ACCOUNT_AGE_DAYS"] or 7
        self.languages = frozenset(tag.lower() for tag in settings["LANGUAGES"])
        self.domains = BlockedDomains(settings["BLOCKED_DOMAINS"])
        self.bio_tags = tuple(tag.casefold() for tag in settings["CONSENT_BIO_TAGS"])

    def __bool__(self) -> bool:
        return bool(self.enabled)

    @property
    def memory_seconds(self) -> float:
        """How far back the flood and raid rules remember posts (0: they are off)."""
        return max(self.flood.minutes * 60 if self.flood is not None else 0,
                   self.raids.window_seconds if self.raids is not None else 0)

    def recall(self, rows: Iterable[Any], now: datetime) -> None:
        """Remember the posts that went up recently (``rows``, oldest first: network,
        author_id, author_username, text, is_retweet, stored_at), as :meth:`check` would
        have: a stream process restarted mid-raid or mid-flood does not start from
        nothing and let the next 49 copies through."""
        for row in rows:
            stored_at = row.stored_at if row.stored_at.tzinfo is not None \
                else row.stored_at.replace(tzinfo=timezone.utc)
            age = max((now - stored_at).total_seconds(), 0.0)
            if self.flood is not None:
                self.flood.remember(row.network, row.author_id, age)
            if self.raids is not None and not row.is_retweet:
                self.raids.remember(f"{row.network}:{row.author_id}", row.author_username,
                                    row.text or "", age)

    def consent(self, post: PostData) -> Verdict | None:
        """Whether the author asked not to be shown (network flag or a bio tag)."""
        if "consent" not in self.enabled:
            return None
        if post.author.opted_out:
            return Verdict("consent", "author opted out")
        if self.bio_tags and post.author.bio:
            bio = post.author.bio.casefold()
            for tag in self.bio_tags:
                if tag in bio:
                    return Verdict("consent", f"author opted out ({tag} in bio)")
        return None

    def edit_rejected(self, post: PostData) -> bool:
        """Whether an edit brings in what the profanity rule holds: the post is then
        hidden (a moderator can unhide it), as for a blocked word."""
        return self.profanity is not None and bool(
            self.profanity.find(post_texts(post), post.lang))

    def check(self, post: PostData) -> Verdict | None:
        """The first rule that catches ``post``, or None (it may go up)."""
        verdict = self.consent(post)
        if verdict is not None:
            return verdict
        enabled = self.enabled
        if self.profanity is not None:
            word = self.profanity.find(post_texts(post), post.lang)
            if word:
                return Verdict("profanity", f"profanity: '{word}'")
        if self.domains and "links" in enabled:
            domain = self.domains.find(post)
            if domain:
                return Verdict("links", f"link: {domain}")
        if self.languages and "languages" in enabled and post.lang \
                and post.lang not in self.languages:
            return Verdict("languages", f"language: {post.lang}")
        if "new_accounts" in enabled and post.author.created_at is not None:
            age = (datetime.now(timezone.utc) - post.author.created_at).days
            if age < self.min_age_days:
                return Verdict("new_accounts",
                               f"new account: {age} day{'' if age == 1 else 's'} old")
        if "bots" in enabled and post.author.bot:
            return Verdict("bots", "bot account")
        if self.flood is not None:
            reason = self.flood.check(post.network, post.author.id)
            if reason:
                return Verdict("flood", reason)
        if self.raids is not None and not post.is_retweet:
            first = self.raids.check(f"{post.network}:{post.author.id}",
                                     post.author.username, post.text)
            if first:
                return Verdict("raids", f"duplicate of @{first}'s post")
        return None
