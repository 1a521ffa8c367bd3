"""Several walls in one site: what a wall is, the site's walls, and which posts each shows.

A wall is data — a slug, a title, its own tracking, identity and moderation mode — not a
deployment: one stream process follows the union of every wall's tracking and each post,
stored once, is linked to every wall it matches. Why the default wall is special: a site
configured before walls existed has exactly one wall, ``main``, built from today's
settings; it shows every post the site receives (as the single wall always did) unless
``TWITSOCKET_WALLS["main"]`` gives it tracking of its own. A site with only that wall
keeps its single-wall paths unchanged (no links written, no per-wall journal entries).

Matching is plain and predictable, because organisers must be able to say why a post is on
a wall: a keyword or #hashtag found in the text (case-insensitive, whole words), an X
author id, a Mastodon hashtag, a Bluesky account (DID or handle), or an X filtered-stream
rule whose tag names the wall (``twitsocket:<slug>``, see ``matching_rules``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .converters import as_css_colour, as_http_url, as_id_list, as_keywords, as_str_list
from .shapes import PostData

DEFAULT_WALL = "main"
#: A slug goes into URLs (``<prefix>/w/<slug>/wall``) and X rule tags: kept plain.
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
#: The tag prefix of X rules made for a wall; the bare ``twitsocket`` tag is the default
#: wall's (the rule tag of single-wall sites, unchanged).
RULE_TAG_PREFIX = "twitsocket:"


@dataclass(frozen=True)
class WallSpec:
    """One wall's settings (validated by :func:`flask_twitsocket.converters.as_walls`)."""

    slug: str
    title: str | None = None
    track_keywords: tuple[str, ...] = ()
    track_users: tuple[str, ...] = ()
    mastodon_hashtags: tuple[str, ...] = ()
    bluesky_accounts: tuple[str, ...] = ()
    #: Projector identity overrides (None: the site's ``TWITSOCKET_WALL_…`` setting).
    logo_url: str | None = None
    accent: str | None = None
    qr_url: str | None = None
    layout: str | None = None
    #: The wall's trust mode (``post``, ``delay``, ``pre``, ``off``); None: the site's.
    moderation: str | None = None
    #: Shows every post the site receives (the default wall without tracking of its own).
    catch_all: bool = False
    #: Authors and words kept off this wall only (the site's bans keep them off all).
    banned_users: tuple[str, ...] = ()
    blocked_words: tuple[str, ...] = ()

    @property
    def tracks_anything(self) -> bool:
        return bool(self.track_keywords or self.track_users or self.mastodon_hashtags
                    or self.bluesky_accounts)

    def to_json(self) -> dict[str, Any]:
        """What the index page and the console show of a wall (no secrets: there are none)."""
        return {"slug": self.slug, "title": self.title,
                "track_keywords": list(self.track_keywords),
                "track_users": list(self.track_users),
                "mastodon_hashtags": list(self.mastodon_hashtags),
                "bluesky_accounts": list(self.bluesky_accounts),
                "moderation": self.moderation, "catch_all": self.catch_all}

    def options(self) -> dict[str, Any]:
        """The wall's settings in the ``TWITSOCKET_WALLS`` shape (what the walls table
        keeps, and what the console's form edits): every key, tracking as lists, phrases
        quoted again so that they read back as phrases."""
        keywords = [f'"{k}"' if " " in k else k for k in self.track_keywords]  # phrases
        return {"title": self.title,
                **{key: list(getattr(self, key)) for key in (*_TRACKING, *_RULES)},
                "track_keywords": keywords,
                **{key: getattr(self, key) for key in (*_IDENTITY, "layout", "moderation")}}


_TRACKING = {"track_keywords": as_keywords, "track_users": as_id_list,
             "mastodon_hashtags": as_str_list, "bluesky_accounts": as_str_list}
_RULES = {"banned_users": as_str_list, "blocked_words": as_str_list}
_IDENTITY = {"logo_url": as_http_url, "qr_url": as_http_url, "accent": as_css_colour}


def walls_converter(modes: tuple[str, ...], layouts: tuple[str, ...],
                    ) -> Callable[[Any], dict[str, WallSpec]]:
    """The converter of ``TWITSOCKET_WALLS`` (the table passes the site's trust modes and
    layouts, so a wall accepts exactly what the site-wide settings accept)."""
    choices = {"moderation": modes, "layout": layouts}

    def as_walls(value: Any) -> dict[str, WallSpec]:
        """A dict by slug of dicts (``title``, the tracking lists, ``logo_url``,
        ``accent``, ``qr_url``, ``layout``, ``moderation``). Every problem names the wall
        and its key, e.g. ``'room-a'.moderation: must be one of …``. A JSON text (an
        environment variable) is read first."""
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError as error:
                raise ValueError(f"not a JSON object: {error}") from None
        if value is None or value == {}:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError("expected a dict of walls by slug, e.g. {'room-a': {…}}")
        walls = {}
        for slug, options in value.items():
            if not isinstance(slug, str) or not SLUG.fullmatch(slug):
                raise ValueError(f"{slug!r} is not a wall slug (lowercase letters, digits "
                                 "and inner hyphens, at most 40)")
            if not isinstance(options, Mapping):
                raise ValueError(f"{slug!r}: expected a dict of the wall's settings")
            walls[slug] = WallSpec(slug=slug, **{
                key: _option(slug, key, options[key], choices) for key in options})
        return walls

    return as_walls


def _option(slug: str, key: Any, raw: Any, choices: Mapping[str, tuple[str, ...]]) -> Any:
    """One wall setting, clean, or a ``ValueError`` naming ``'slug'.key``."""
    convert = _TRACKING.get(key) or _IDENTITY.get(key) or _RULES.get(key)
    try:
        if convert is not None:
            return convert(raw)
        if key in choices:
            raw = raw if raw != "" else None  # an empty choice of a form: the site's
            if raw is not None and raw not in choices[key]:
                raise ValueError(f"must be one of {', '.join(choices[key])}; got {raw!r}")
            return raw
        if key == "title":
            if raw is not None and not isinstance(raw, str):
                raise ValueError("expected text")
            return raw or None
    except ValueError as error:
        raise ValueError(f"{slug!r}.{key}: {error}") from None
    known = ", ".join(sorted(["title", *choices, *_TRACKING, *_IDENTITY, *_RULES]))
    raise ValueError(f"{slug!r}.{key}: unknown wall setting (known: {known})")


#: Where a row of the walls table came from: the config (refreshed from it at each start
#: of the stream) or the console (the table is its truth: created, edited or archived there).
FROM_CONFIG = "config"
FROM_CONSOLE = "console"


@dataclass(frozen=True)
class StoredWall:
    """A row of the walls table, read back: its settings, whether it ended, its origin."""

    spec: WallSpec
    archived: bool
    origin: str


def combine(configured: Mapping[str, WallSpec], stored: Iterable[StoredWall],
            ) -> tuple[dict[str, WallSpec], dict[str, WallSpec]]:
    """The site's live walls (the default wall first) and its archived ones.

    Why this rule: the config is every process's and needs no database, so a wall from
    the config is read from the config — until a moderator edits or archives it in the
    console; from then on (as for a wall made in the console) its row in the walls table
    is the truth, and a restart does not undo the moderator's change. The default wall is
    never archived."""
    live = dict(configured)
    archived: dict[str, WallSpec] = {}
    for row in stored:
        slug = row.spec.slug
        if row.archived and slug != DEFAULT_WALL:
            if row.origin == FROM_CONSOLE or slug not in configured:
                live.pop(slug, None)
                archived[slug] = row.spec
        elif row.origin == FROM_CONSOLE:
            live[slug] = row.spec
    return live, archived


def site_walls(settings: Mapping[str, Any]) -> dict[str, WallSpec]:
    """The site's walls by slug, the default wall first, from the validated settings.

    The default wall takes today's single-wall settings (title, tracking, trust mode);
    ``TWITSOCKET_WALLS["main"]`` overrides what it names."""
    configured: Mapping[str, WallSpec] = settings["WALLS"]
    own = configured.get(DEFAULT_WALL)
    main = WallSpec(
        slug=DEFAULT_WALL,
        title=(own.title if own and own.title else settings["WALL_TITLE"]),
        track_keywords=own.track_keywords if own else settings["TRACK_KEYWORDS"],
        track_users=own.track_users if own else settings["TRACK_USERS"],
        mastodon_hashtags=own.mastodon_hashtags if own else settings["MASTODON_HASHTAGS"],
        bluesky_accounts=own.bluesky_accounts if own else settings["BLUESKY_ACCOUNTS"],
        logo_url=own.logo_url if own else None, accent=own.accent if own else None,
        qr_url=own.qr_url if own else None, layout=own.layout if own else None,
        moderation=own.moderation if own else None,
        banned_users=own.banned_users if own else (),
        blocked_words=own.blocked_words if own else (),
        catch_all=not (own and own.tracks_anything),
    )
    walls = {DEFAULT_WALL: main}
    walls.update((slug, spec) for slug, spec in configured.items() if slug != DEFAULT_WALL)
    return walls


def union(walls: Iterable[WallSpec], attribute: str) -> tuple[str, ...]:
    """One tracking attribute over every wall, in order, once each: what the one
    connection per network follows for all walls."""
    return tuple(dict.fromkeys(item for wall in walls for item in getattr(wall, attribute)))


def site_tracking(settings: Mapping[str, Any], attribute: str) -> tuple[str, ...]:
    """What the one connection of a network follows: ``attribute`` (``track_keywords``,
    ``track_users``, ``bluesky_accounts``) over every wall — on a single-wall site, exactly
    the single-wall setting."""
    return union(site_walls(settings).values(), attribute)


def mastodon_hashtags(walls: Iterable[WallSpec]) -> tuple[str, ...]:
    """The Mastodon hashtags of every wall: each wall's own, else its #keywords (as the
    single-wall ``TWITSOCKET_MASTODON_HASHTAGS`` defaults)."""
    return tuple(dict.fromkeys(
        tag for wall in walls
        for tag in (wall.mastodon_hashtags
                    or [keyword for keyword in wall.track_keywords if keyword.startswith("#")])))


# --- which walls a post goes to --------------------------------------------------------------


def _term_pattern(term: str) -> re.Pattern[str]:
    """A keyword, #hashtag or phrase as a whole-word, case-insensitive pattern."""
    body = re.escape(term.strip().strip('"'))
    return re.compile(rf"(?<![\w#@]){body}(?!\w)", re.IGNORECASE)


#: Whether a post must be kept off a wall (its own bans and blocked words): built by the
#: moderation layer (:func:`flask_twitsocket.moderation.wall_rules.screens`).
Screen = Callable[[PostData], bool]


class Router:
    """Which walls a post belongs to. Built once (patterns compiled) per set of walls."""

    def __init__(self, walls: Mapping[str, WallSpec],
                 screens: Mapping[str, Screen] | None = None) -> None:
        self.walls = dict(walls)
        #: The walls with bans or blocked words of their own, and their screens.
        self.screens = dict(screens or {})
        self._keywords = {slug: [_term_pattern(k) for k in wall.track_keywords]
                          for slug, wall in walls.items()}
        self._hashtags = {slug: [_term_pattern("#" + tag.lstrip("#"))
                                 for tag in wall.mastodon_hashtags]
                          for slug, wall in walls.items()}
        self._accounts = {slug: {account.lower().lstrip("@")
                                 for account in wall.bluesky_accounts}
                          for slug, wall in walls.items()}

    @property
    def single(self) -> bool:
        """Only the default wall, screening nothing: the site routes nothing (today's
        single-wall paths)."""
        return len(self.walls) == 1 and not self.screens

    def route(self, post: PostData) -> tuple[str, ...]:
        """The slugs of the walls ``post`` belongs to, in the site's order (maybe none)."""
        tagged = rule_tags(post)
        return tuple(slug for slug, wall in self.walls.items()
                     if (wall.catch_all or slug in tagged or self._matches(slug, wall, post))
                     and not (slug in self.screens and self.screens[slug](post)))

    def _matches(self, slug: str, wall: WallSpec, post: PostData) -> bool:
        text = post.text
        if any(pattern.search(text) for pattern in self._keywords[slug]):
            return True
        network = post.network
        if network == "x" and post.author.id in wall.track_users:
            return True
        if network == "mastodon" and any(p.search(text) for p in self._hashtags[slug]):
            return True
        accounts = self._accounts[slug]
        return network == "bluesky" and bool(accounts) and (
            post.author.id.lower() in accounts or post.author.username.lower() in accounts)


def rule_tags(post: PostData) -> set[str]:
    """The walls named by the X filtered-stream rules that matched ``post``
    (``matching_rules`` of the raw event; tags ``twitsocket:<slug>``)."""
    if post.network != "x" or not isinstance(post.raw, dict):
        return set()
    rules = post.raw.get("matching_rules")
    if not isinstance(rules, list):
        return set()
    return {rule["tag"][len(RULE_TAG_PREFIX):] for rule in rules
            if isinstance(rule, dict) and isinstance(rule.get("tag"), str)
            and rule["tag"].startswith(RULE_TAG_PREFIX)}
