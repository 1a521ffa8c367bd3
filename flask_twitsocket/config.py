"""Configuration: every key is ``TWITSOCKET_``-prefixed, defaulted and validated at start-up.

A social wall runs unattended for hours, so a typo in a setting must stop the process at
start-up with a message naming the key, not surface as a crash in the middle of a keynote.
Each key is declared once here, with its default and a converter that raises ``ValueError``
with a human sentence; :func:`load_settings` turns the host app's config into a frozen
:class:`Settings` mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "TWITSOCKET_"
BUNDLED_REPLAY_FILE = Path(__file__).parent / "fixtures" / "devconf2026.jsonl"


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


# --- converters -------------------------------------------------------------------------
# Each takes the raw value from app.config and returns the clean one or raises ValueError.


def as_str_list(value: Any) -> tuple[str, ...]:
    """A list of strings; a comma-separated string is accepted (handy in env files)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Iterable):
        raise ValueError("expected a list of strings or a comma-separated string")
    items = []
    for item in value:
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            raise ValueError(f"expected strings, got {item!r}")
        text = str(item).strip()
        if text:
            items.append(text)
    return tuple(items)


def as_id_list(value: Any) -> tuple[str, ...]:
    """Numeric account ids, kept as strings because X ids exceed 2**53."""
    ids = as_str_list(value)
    for item in ids:
        if not item.isdigit():
            raise ValueError(f"{item!r} is not a numeric account id")
    return ids


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    if isinstance(value, int):
        return bool(value)
    raise ValueError(f"expected true or false, got {value!r}")


def positive(kind: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a positive number, got {value!r}") from None
        if number <= 0:
            raise ValueError(f"must be greater than zero, got {value!r}")
        return number

    return convert


def as_optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def as_url_prefix(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or value.endswith("/"):
        raise ValueError("must start with '/' and not end with '/', e.g. '/twitsocket'")
    return value


def as_ws_url(value: Any) -> str | None:
    url = as_optional_str(value)
    if url is not None and not url.startswith(("ws://", "wss://")):
        raise ValueError("must start with ws:// or wss://")
    return url


def as_path(value: Any) -> Path:
    if not isinstance(value, (str, Path)) or not str(value):
        raise ValueError("expected a file path")
    return Path(value)


def one_of(*choices: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    return convert


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    convert: Callable[[Any], Any]
    doc: str


KEYS: dict[str, Key] = {}


def declare(name: str, default: Any, convert: Callable[[Any], Any], doc: str) -> None:
    """Declare a setting. Sources and backends declare their own keys next to their code."""
    KEYS[name] = Key(name, default, convert, doc)


declare("TRACK_KEYWORDS", (), as_str_list, "Keywords and #hashtags to follow.")
declare("TRACK_USERS", (), as_id_list, "Numeric X account ids whose posts are followed.")
declare("BANNED_USERS", (), as_str_list, "Usernames or ids never stored or shown.")
declare("WEBSOCKET_URL", None, as_ws_url, "Websocket URL for browsers; default same origin.")
declare("LOGFILE", None, as_optional_str, "File that logs clients, posts and reconnects.")
declare("URL_PREFIX", "/twitsocket", as_url_prefix, "Where the blueprint is mounted.")
declare("REPLAY_FILE", BUNDLED_REPLAY_FILE, as_path, "JSON-lines recording for --source replay.")
declare("REPLAY_RATE", 2.0, positive(float), "Posts per second played by the replay source.")
declare("REPLAY_LOOP", False, as_bool, "Start over at the end, with fresh ids and times.")
declare("POLL_INTERVAL", 0.25, positive(float), "Seconds between checks of the database bus.")
declare("JOURNAL_KEEP", 10_000, positive(int), "Bus messages kept for workers to catch up.")
declare("CLIENT_QUEUE_SIZE", 256, positive(int), "Messages a slow client may lag before drop.")
declare("PING_INTERVAL", 25.0, positive(float), "Websocket keep-alive ping, in seconds.")
declare("DEFAULT_LIMIT", 30, positive(int), "Posts returned by the JSON API by default.")
declare("MAX_LIMIT", 200, positive(int), "Upper bound for the JSON API's limit parameter.")
declare("ALLOWED_ORIGINS", (), as_str_list, "Extra origins allowed to open the websocket.")
declare("SOURCES", (), as_str_list, "Sources run by 'stream' with no --source.")


class Settings(Mapping[str, Any]):
    """Validated settings, looked up without the prefix: ``settings["TRACK_KEYWORDS"]``.

    Keys are declared by the modules that use them, and some (a network's source) are
    imported only when needed; a key declared after start-up is read and validated on
    first use, from the same app config, with the same error naming it.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = dict(config)
        self._values: dict[str, Any] = {}
        self.validate()

    def validate(self) -> None:
        """Convert every declared key not yet converted; raise ConfigError on a bad one."""
        for name in list(KEYS):
            if name not in self._values:
                self._values[name] = self._convert(KEYS[name])

    def _convert(self, key: Key) -> Any:
        full = PREFIX + key.name
        raw = self._config.get(full, key.default)
        if raw is key.default:
            return raw
        try:
            return key.convert(raw)
        except ValueError as error:
            raise ConfigError(full, str(error)) from None

    def __getitem__(self, name: str) -> Any:
        if name not in self._values and name in KEYS:
            self._values[name] = self._convert(KEYS[name])
        return self._values[name]

    def __iter__(self):
        self.validate()
        return iter(self._values)

    def __len__(self) -> int:
        return len(KEYS)


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Read every declared key from ``config``, converting and validating it."""
    return Settings({key: value for key, value in config.items() if key.startswith(PREFIX)})


def require(settings: Settings, *names: str) -> None:
    """Stop with a message naming the first missing credential or setting."""
    for name in names:
        if not settings.get(name):
            raise ConfigError(PREFIX + name, "is required for this command but is not set")
