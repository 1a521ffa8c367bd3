"""Every ``TWITSOCKET_`` setting, in one table: name, default, converter, meaning, section.

Why one table rather than keys declared next to the code that reads them: a key declared
in a module imported late (a network's source) could only be validated late, so a typo
could surface mid-keynote instead of at start-up; and the reference documentation drifted
from the code. Here :func:`flask_twitsocket.config.load_settings` converts every row at
``init_app`` time, and ``docs/configuration.md`` is generated from these rows.

**To add a setting**, add one :class:`Setting` row to :data:`SETTINGS`, in the section
its readers belong to (the rows of a section stay together: that is the docs' order),
with a converter from :mod:`.converters` (or a new one there that raises ``ValueError``
with a human sentence); then run ``make docs-config`` to regenerate the reference. The
name is written without the ``TWITSOCKET_`` prefix and, once released, never renamed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .converters import (
    as_api_url,
    as_bool,
    as_broker_url,
    as_client_limit,
    as_css_colour,
    as_frame_ancestors,
    as_hop_count,
    as_http_url,
    as_id_list,
    as_internal_location,
    as_keywords,
    as_names,
    as_optional_str,
    as_path,
    as_seconds,
    as_str_list,
    as_url_prefix,
    as_ws_url,
    at_least_zero,
    one_of,
    optional,
    positive,
)
from .walls import walls_converter

BUNDLED_REPLAY_FILE = Path(__file__).parent / "fixtures" / "devconf2026.jsonl"
#: Trust modes of ``TWITSOCKET_MODERATION`` (see :mod:`flask_twitsocket.moderation`).
MODERATION_MODES = ("post", "delay", "pre", "off")
#: The automatic moderation rules (:mod:`flask_twitsocket.moderation.auto`), by name.
AUTO_RULES = ("consent", "profanity", "links", "languages", "new_accounts", "bots",
              "flood", "raids")
BROKER_CHANNEL_DEFAULT = "twitsocket_journal"
DEFAULT_X_API_URL = "https://api.twitter.com"
DEFAULT_JETSTREAM = "wss://jetstream2.us-east.bsky.network"
DEFAULT_APPVIEW = "https://public.api.bsky.app"
#: The sources' names (``--source``, ``TWITSOCKET_SOURCES``); the registry in
#: :mod:`flask_twitsocket.sources` has exactly these (a test checks).
SOURCE_NAMES = ("replay", "x", "mastodon", "bluesky")


@dataclass(frozen=True)
class Section:
    """A heading of the reference, with one sentence saying whom its settings concern."""

    title: str
    intro: str = ""


TRACKING = Section("Tracking and sources",
                     "What the wall follows, and how `flask twitsocket stream` runs its sources.")
X = Section("X", "`--source x`: the X API v2 filtered stream. The OAuth 1.0a keys are needed "
                   "only by `flask twitsocket lister`.")
MASTODON = Section("Mastodon", "`--source mastodon`: hashtags on one instance, streamed "
                                 "with a token, else polled.")
BLUESKY = Section("Bluesky", "`--source bluesky`: the whole network's posts from Jetstream, "
                               "filtered by keyword and account.")
REPLAY = Section("Replay", "`--source replay`: a JSON-lines recording played as if it were "
                             "happening now (the demo).")
WALL_LAYOUTS = ("grid", "spotlight", "ticker")
#: ``TWITSOCKET_WALLS``' converter: a wall from the console or the walls table is held to
#: exactly what the config accepts.
parse_walls = walls_converter(MODERATION_MODES, WALL_LAYOUTS)
WALL = Section("Wall and web", "The blueprint, the walls' live feed (websocket or "
                                 "server-sent events) and the JSON API.")
PROJECTOR = Section("Projector page", "`<prefix>/wall`: the event's identity, the pace of the "
                                       "posts and the layout. Most can be overridden in the URL "
                                       "(`?title=`, `?layout=`, `?accent=`, `?theme=`, `?lang=`).")
MEDIA = Section("Media", "Photos, video posters, link-card images and avatars: fetched by "
                           "the wall's own host (`<prefix>/media/…`), and sensitive media.")
SENSITIVE_MEDIA_MODES = ("blur", "hide", "show")
MODERATION = Section("Moderation", "What organisers allow on the projector; the console is "
                                     "at `<prefix>/moderate`.")
SCALE_OUT = Section("Scale-out and bus", "How web workers learn that the stream process "
                                           "wrote something new to the journal.")
LOGGING = Section("Logging")
STARTUP = Section("Start-up checks", "How strictly the settings themselves are checked.")


@dataclass(frozen=True)
class Setting:
    """One setting. ``convert`` turns the raw config value into the clean one or raises
    ``ValueError``; the default is used as is (never converted)."""

    name: str
    default: Any
    convert: Callable[[Any], Any]
    doc: str
    section: Section


SETTINGS: tuple[Setting, ...] = (
    # --- Tracking and sources -------------------------------------------------------------
    Setting("TRACK_KEYWORDS", (), as_keywords,
            'Keywords and #hashtags to follow. A phrase is quoted ("machine learning"); an '
            "unquoted keyword with a space is refused (usually a forgotten comma).",
            TRACKING),
    Setting("TRACK_USERS", (), as_id_list,
            "Numeric X account ids whose posts are followed.",
            TRACKING),
    Setting("WALLS", {}, parse_walls,
            "Several walls in one site: a dict by slug (lowercase, digits, hyphens) of dicts "
            "with 'title', the wall's tracking ('track_keywords', 'track_users', "
            "'mastodon_hashtags', 'bluesky_accounts'), identity ('logo_url', 'accent', "
            "'qr_url', 'layout'), 'moderation' (trust mode) and its own 'banned_users' and "
            "'blocked_words' (kept off that wall only). Each post is stored once and "
            "shown on every wall it matches; the sources follow the union. The default wall "
            "'main' keeps the single-wall settings above and shows every post unless "
            "TWITSOCKET_WALLS['main'] gives it tracking of its own. Projector of a wall: "
            "<prefix>/w/<slug>/wall. The console creates, edits and archives walls without a "
            "restart: a wall it edited is the database's from then on (docs/walls.md).",
            TRACKING),
    Setting("SOURCES", (), as_names(*SOURCE_NAMES),
            "Sources run by 'stream' with no --source (x, mastodon, bluesky, replay); default: "
            "every network whose settings are present. The bundled recording (replay) only "
            "plays when named here or with --source replay.",
            TRACKING),
    Setting("SOURCE_SILENT_AFTER", 900.0, positive(float),
            "Seconds without a post from a running source after which /health calls it silent "
            "(status degraded). Size it to the event: a quiet hashtag needs more.",
            TRACKING),
    Setting("TOP_INTERVAL", 300.0, at_least_zero,
            "Seconds between refreshes of the top lists by the stream process (0 = never; "
            "'flask twitsocket top' does it on demand).",
            TRACKING),
    Setting("KEEP_RAW", True, as_bool,
            "Keep each post's raw network payload (for export and re-processing); false "
            "stores '{}' instead, a third of the database at most.",
            TRACKING),
    Setting("DATABASE_DOWN_EXIT", 300.0, positive(float),
            "Seconds the stream waits for an unreachable database before it exits with an "
            "error (for systemd to restart it). Five minutes outlast a database restart or a "
            "managed failover, and are far within Jetstream's 36 h replay window.",
            TRACKING),
    Setting("BACKOFF_SCALE", 1.0, positive(float),
            "Multiplies every reconnect wait (shorten it in tests, lengthen it in trouble).",
            TRACKING),
    # --- X --------------------------------------------------------------------------------
    Setting("X_BEARER_TOKEN", None, as_optional_str,
            "App-only bearer token for the X stream.",
            X),
    Setting("X_STALL_TIMEOUT", 90.0, positive(float),
            "Seconds without a byte (X sends a keep-alive every 20 s) before reconnecting.",
            X),
    Setting("X_API_URL", DEFAULT_X_API_URL, as_api_url,
            "Base URL of every X API call (stream and REST): a proxy or a test server.",
            X),
    Setting("X_CONSUMER_KEY", None, as_optional_str,
            "OAuth 1.0a consumer key (for list writes).",
            X),
    Setting("X_CONSUMER_SECRET", None, as_optional_str,
            "OAuth 1.0a consumer secret.",
            X),
    Setting("X_ACCESS_TOKEN", None, as_optional_str,
            "OAuth 1.0a access token of the list owner.",
            X),
    Setting("X_ACCESS_TOKEN_SECRET", None, as_optional_str,
            "OAuth 1.0a access token secret.",
            X),
    Setting("X_LIST_ID", None, as_optional_str,
            "The X list 'flask twitsocket lister' maintains.",
            X),
    # --- Mastodon -------------------------------------------------------------------------
    Setting("MASTODON_URL", None, as_http_url,
            "The Mastodon instance to follow, e.g. https://mastodon.social.",
            MASTODON),
    Setting("MASTODON_TOKEN", None, as_optional_str,
            "User access token (read:statuses); without it the hashtag timeline is polled.",
            MASTODON),
    Setting("MASTODON_HASHTAGS", (), as_str_list,
            "Hashtags to follow (no '#'); default: the #hashtags in TWITSOCKET_TRACK_KEYWORDS.",
            MASTODON),
    Setting("MASTODON_POLL_INTERVAL", 30.0, positive(float),
            "Seconds between polls of the hashtag timeline when there is no token.",
            MASTODON),
    # --- Bluesky --------------------------------------------------------------------------
    Setting("BLUESKY_JETSTREAM_URL", DEFAULT_JETSTREAM, as_ws_url,
            "Jetstream instance (websocket) delivering the network's posts.",
            BLUESKY),
    Setting("BLUESKY_APPVIEW_URL", DEFAULT_APPVIEW, as_http_url,
            "AppView answering app.bsky.actor.getProfiles (author names and avatars).",
            BLUESKY),
    Setting("BLUESKY_ACCOUNTS", (), as_str_list,
            "Bluesky accounts (DIDs or handles) whose every post is shown.",
            BLUESKY),
    Setting("BLUESKY_ENABLED", False, as_bool,
            "Run Bluesky with 'stream' and no --source even without tracked accounts.",
            BLUESKY),
    Setting("BLUESKY_STATE_FILE", "twitsocket-bluesky.json", as_optional_str,
            "Where the Jetstream cursor is kept across restarts (empty: not kept).",
            BLUESKY),
    # --- Replay ---------------------------------------------------------------------------
    Setting("REPLAY_FILE", BUNDLED_REPLAY_FILE, as_path,
            "JSON-lines recording for --source replay.",
            REPLAY),
    Setting("REPLAY_RATE", 2.0, positive(float),
            "Posts per second played by the replay source.",
            REPLAY),
    Setting("REPLAY_LOOP", False, as_bool,
            "Start over at the end, with fresh ids and times.",
            REPLAY),
    Setting("REPLAY_FRESH_IDS", False, as_bool,
            "Give the recording's posts ids of their own at every start (the demo: a second "
            "start on the same database is live, not all duplicates).",
            REPLAY),
    Setting("REPLAY_RETIME", True, as_bool,
            "Give replayed X posts the current time.",
            REPLAY),
    # --- Wall and web ---------------------------------------------------------------------
    Setting("URL_PREFIX", "/twitsocket", as_url_prefix,
            "Where the blueprint is mounted.",
            WALL),
    Setting("WEBSOCKET_URL", None, as_ws_url,
            "Websocket URL for browsers; default same origin.",
            WALL),
    Setting("ALLOWED_ORIGINS", (), as_str_list,
            "Extra origins allowed to open the websocket.",
            WALL),
    Setting("FALLBACK", "auto", one_of("auto", "always", "never"),
            "Server-sent events when websockets fail: auto, always (SSE only) or never.",
            WALL),
    Setting("PING_INTERVAL", 25.0, positive(float),
            "Websocket keep-alive ping, in seconds.",
            WALL),
    Setting("CLIENT_QUEUE_SIZE", 256, positive(int),
            "Messages a slow client may lag before drop.",
            WALL),
    Setting("MAX_CLIENTS", 1000, as_client_limit,
            "Websocket clients one worker process holds; more are refused (1013). 0 = no cap.",
            WALL),
    Setting("MAX_CLIENTS_PER_ADDRESS", 50, as_client_limit,
            "Walls (websocket and event-stream) one client address may hold in a worker; more "
            "are refused (1013 / HTTP 429). 0 = no cap.",
            WALL),
    Setting("WALL_BUFFER_BYTES", 1 << 20, positive(int),
            "Bytes a websocket wall may leave unsent (beyond its socket buffer) before it is "
            "dropped; it reconnects and catches up.",
            WALL),
    Setting("WALL_SEND_TIMEOUT", 10.0, positive(float),
            "Seconds a websocket wall's oldest unsent byte may wait before the wall is dropped.",
            WALL),
    Setting("HEALTH_FAIL_ON_DEGRADED", False, as_bool,
            "Answer /health with 503 (not 200) when a source is stopped or silent. Off by "
            "default: every worker shares the sources, so a balancer would take all out.",
            WALL),
    Setting("METRICS", False, as_bool,
            "Serve Prometheus metrics at <prefix>/metrics (needs the 'metrics' extra: "
            "prometheus_client).",
            WALL),
    Setting("HUB_STALL_TIMEOUT", 30.0, positive(float),
            "Seconds the journal may stay ahead of what a worker's hub delivered before its "
            "/health says 503.",
            WALL),
    Setting("TRUSTED_PROXY_HOPS", 0, as_hop_count,
            "Proxies in front of the site whose X-Forwarded-For is believed (nginx kit: 1); 0 = "
            "the connection's own address is the client's.",
            WALL),
    Setting("FRAME_ANCESTORS", (), as_frame_ancestors,
            "Other sites allowed to show the wall's pages in a frame (origins, e.g. "
            "https://blog.example.org); default: this site only. Never the moderation console.",
            WALL),
    Setting("DEFAULT_LIMIT", 30, positive(int),
            "Posts returned by the JSON API by default.",
            WALL),
    Setting("MAX_LIMIT", 200, positive(int),
            "Upper bound for the JSON API's limit parameter.",
            WALL),
    # --- Projector page -------------------------------------------------------------------
    Setting("WALL_TITLE", None, as_optional_str,
            "The event's name, large on the projector (default: \"Live wall\", translated).",
            PROJECTOR),
    Setting("WALL_LOGO_URL", None, as_http_url,
            "The event's logo (an http(s) image URL), shown beside the title.",
            PROJECTOR),
    Setting("WALL_ACCENT", None, as_css_colour,
            "The event's colour for borders, markers and the counter (a CSS colour, e.g. "
            "#d0006f); text keeps the theme's colours, so contrast stays readable.",
            PROJECTOR),
    Setting("WALL_QR_URL", None, as_http_url,
            "A URL shown as a QR code (drawn by the server as SVG, no outside service): the "
            "event's page, or where to post.",
            PROJECTOR),
    Setting("WALL_LAYOUT", "grid", one_of(*WALL_LAYOUTS),
            "grid (masonry of cards), spotlight (one post large, the next ones in a strip) or "
            "ticker (one line along the bottom, for overlaying a livestream).",
            PROJECTOR),
    Setting("WALL_MIN_DWELL", 8.0, as_seconds(1, 120),
            "Seconds each post stays fully visible and still before anything moves it; a "
            "burst waits in the browser's queue (\"+N new\").",
            PROJECTOR),
    Setting("WALL_QUEUE_CAP", 100, positive(int),
            "Posts the projector's queue holds; beyond it the oldest are skipped (and counted "
            "on screen).",
            PROJECTOR),
    Setting("WALL_SHUFFLE_AFTER", 30.0, as_seconds(1, 3600),
            "Seconds without a new post before the projector re-shows earlier approved posts "
            "(most shared first), marked as earlier; a new post takes over at once.",
            PROJECTOR),
    # --- Media ----------------------------------------------------------------------------
    Setting("MEDIA_PROXY", True, as_bool,
            "Serve every image (photos, video posters, card images, avatars) from the wall's "
            "own host, so pages keep img-src 'self', the networks do not see each phone in the "
            "hall, and a CDN hiccup does not blank the projector. False: browsers fetch them "
            "from the networks (then the CSP allows https: images).",
            MEDIA),
    Setting("MEDIA_CACHE_DIR", None, as_path,
            "Directory of the media proxy's on-disk cache (default: twitsocket-media in the "
            "system's temporary directory). Shared by the workers of one host.",
            MEDIA),
    Setting("MEDIA_CACHE_MB", 500, positive(int),
            "Size bound of the media cache, in megabytes: the least recently used files go "
            "first.",
            MEDIA),
    Setting("MEDIA_ACCEL_REDIRECT", None, as_internal_location,
            "Behind nginx: the internal location (e.g. /_twitsocket_media/) that serves "
            "TWITSOCKET_MEDIA_CACHE_DIR. The proxy then checks each request and answers with "
            "an X-Accel-Redirect header, and nginx sends the cached file itself (sendfile, "
            "conditional requests) instead of a worker. Off (empty): the worker sends the "
            "file. Only with nginx in front: without it browsers get empty images. See "
            "deploy/nginx-twitsocket.conf.",
            MEDIA),
    Setting("SENSITIVE_MEDIA", "blur", one_of(*SENSITIVE_MEDIA_MODES),
            "Posts with a content warning or a sensitive label: blur (their media is blurred "
            "and their text collapsed under the warning until a moderator reveals them), hide "
            "(they wait in the moderation queue) or show.",
            MEDIA),
    # --- Moderation -----------------------------------------------------------------------
    Setting("BANNED_USERS", (), as_str_list,
            "Usernames or ids never stored or shown (also reposts of them; `network:name` for one"
            " network only). Their posts already stored are hidden when `flask twitsocket stream`"
            " starts, and open walls drop them.",
            MODERATION),
    Setting("MODERATION", "post", one_of(*MODERATION_MODES),
            "Trust mode: post (show at once, moderate after), delay (show after "
            "TWITSOCKET_MODERATION_DELAY s unless vetoed), pre (approve each post), off.",
            MODERATION),
    Setting("MODERATION_DELAY", 30.0, positive(float),
            "delay mode: seconds a post waits, visible in the console, before it goes up.",
            MODERATION),
    Setting("TRUSTED_USERS", (), as_str_list,
            "pre mode: authors whose posts skip the queue (same format as BANNED_USERS).",
            MODERATION),
    Setting("MODERATOR_PASSWORD", None, as_optional_str,
            "Single moderator password for the console (when the app supplies no check); plain, "
            "or a werkzeug password hash.",
            MODERATION),
    Setting("MODERATOR_SESSION_HOURS", 12.0, positive(float),
            "Hours a console login (with TWITSOCKET_MODERATOR_PASSWORD) lasts at most; "
            "logging out ends it at once.",
            MODERATION),
    Setting("LOGIN_FAILURES", 5, positive(int),
            "Failed console logins allowed per client address (IPv6: per /64) and window, "
            "across all workers.",
            MODERATION),
    Setting("LOGIN_WINDOW", 60, positive(int),
            "Seconds of the login limit's window (TWITSOCKET_LOGIN_FAILURES per window).",
            MODERATION),
    Setting("AUTO_MODERATION", None, as_names(*AUTO_RULES),
            "Automatic rules that hold posts in the moderation queue with a reason (consent "
            "drops them): any of " + ", ".join(AUTO_RULES) + ". Unset: profanity, raids and "
            "consent, plus flood, new_accounts, languages and links when their own setting "
            "below is given. Set (even to an empty list) it is exactly the rules that run. "
            "They hold nothing with TWITSOCKET_MODERATION = off (consent still drops).",
            MODERATION),
    Setting("FLOOD_POSTS", None, optional(positive(int)),
            "flood rule: at most this many posts per author per TWITSOCKET_FLOOD_MINUTES go "
            "up; the rest wait in the queue (5 when the rule is named but this is unset).",
            MODERATION),
    Setting("FLOOD_MINUTES", 5.0, positive(float),
            "flood rule: the window of TWITSOCKET_FLOOD_POSTS, in minutes.",
            MODERATION),
    Setting("MIN_ACCOUNT_AGE_DAYS", None, optional(positive(int)),
            "new_accounts rule: hold posts from accounts younger than this many days, where "
            "the network says (X, Mastodon, Bluesky profile); 7 when the rule is named but "
            "this is unset.",
            MODERATION),
    Setting("LANGUAGES", (), as_str_list,
            "languages rule: language tags (en, fr, …) whose posts go up; a post the network "
            "tags with another language waits in the queue; untagged posts go up.",
            MODERATION),
    Setting("BLOCKED_DOMAINS", (), as_str_list,
            "links rule: posts linking to these domains (or their subdomains) wait in the "
            "queue.",
            MODERATION),
    Setting("CONSENT_BIO_TAGS", ("#nowall", "#nobot"), as_str_list,
            "consent rule: authors whose bio contains one of these are never shown (besides "
            "Mastodon's noindex and Bluesky's !no-unauthenticated, always respected); "
            "empty: the networks' flags only.",
            MODERATION),
    # --- Scale-out and bus ----------------------------------------------------------------
    Setting("BROKER_URL", None, as_broker_url,
            "Wake-up bus: unset = the database wakes the walls itself (PostgreSQL "
            "LISTEN/NOTIFY, an SQLite file's change counter); redis://… or postgresql://…",
            SCALE_OUT),
    Setting("BROKER_CHANNEL", BROKER_CHANNEL_DEFAULT, as_optional_str,
            "Redis channel / PostgreSQL NOTIFY channel; one per wall sharing a broker.",
            SCALE_OUT),
    Setting("BUS_SAFETY_INTERVAL", 5.0, positive(float),
            "Seconds between journal reads when no hint arrives (safety net), with a broker, "
            "PostgreSQL's own LISTEN/NOTIFY or an SQLite file's change counter.",
            SCALE_OUT),
    Setting("CHANGE_CHECK_INTERVAL", 0.005, positive(float),
            "No broker, SQLite file: seconds between checks of the file's change counter "
            "(PRAGMA data_version, ~5 µs each): how soon a new post is seen.",
            SCALE_OUT),
    Setting("POLL_INTERVAL", 0.25, positive(float),
            "Seconds between journal reads when the database offers no wake-up (an "
            "in-memory SQLite, other databases).",
            SCALE_OUT),
    Setting("JOURNAL_KEEP", 10_000, positive(int),
            "Bus messages kept for workers to catch up.",
            SCALE_OUT),
    # --- Logging --------------------------------------------------------------------------
    Setting("LOGFILE", None, as_optional_str,
            "File that logs clients, posts and reconnects.",
            LOGGING),
    Setting("STRICT_CONFIG", True, as_bool,
            "An unknown TWITSOCKET_ key (a typo) stops start-up naming the closest known key; "
            "false only logs a warning.",
            STARTUP),
)
