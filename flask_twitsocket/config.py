"""Configuration: every key is ``TWITSOCKET_``-prefixed, defaulted and validated at start-up.

A social wall runs unattended for hours, so a typo in a setting must stop the process at
start-up with a message naming the key, not surface as a crash in the middle of a keynote.
Every key is a row of the one table in :mod:`.config_table` (name, default, converter,
meaning, section); :func:`load_settings`, called once by ``init_app``, converts all of
them and returns a frozen :class:`Settings` mapping, or raises :class:`ConfigError`.

**Adding a setting**: add a ``Setting(...)`` row to ``SETTINGS`` in
:mod:`flask_twitsocket.config_table` (its docstring says how), then regenerate the
reference with ``make docs-config`` (it writes :func:`configuration_markdown` to
``docs/configuration.md``); ``tests/test_docs.py`` fails until the file matches the table.
Nothing else registers keys: there is no declaration at import time.

This module and the two beside it (:mod:`.config_table`, :mod:`.converters`) are the
lowest layer of the package: they import nothing else from it.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click

from .config_table import BUNDLED_REPLAY_FILE, SETTINGS, Section, Setting

PREFIX = "TWITSOCKET_"
#: The table by name (without the prefix).
KEYS: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


log = logging.getLogger("flask_twitsocket.config")


class ConfigError(click.ClickException, ValueError):
    """A configuration value is missing or wrong; the message names the key.

    It is also a ``click.ClickException``: raised while ``flask --app … twitsocket …``
    loads the app (the factory calls ``init_app``, which validates every key), click
    prints it as ONE line (``Error: TWITSOCKET_…: …``) and exits with status 1 instead of
    a 40-line traceback. Everywhere else it is a plain ``ValueError``.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


class Settings(Mapping[str, Any]):
    """Validated settings, looked up without the prefix: ``settings["TRACK_KEYWORDS"]``.

    Built once per app by :func:`load_settings`: every key of the table is converted in the
    constructor, so a bad value of any key (even one only a network's source reads) stops
    ``init_app`` and the CLI before anything runs. Looking up a key that is not in the
    table is a ``KeyError``: a misspelt name in the code fails loudly too.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._values: dict[str, Any] = {
            setting.name: _convert(setting, config) for setting in SETTINGS}

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _convert(setting: Setting, config: Mapping[str, Any]) -> Any:
    """The clean value of one setting; the default is used as is, never converted."""
    full = PREFIX + setting.name
    raw = config.get(full, setting.default)
    if raw is setting.default:
        return raw
    try:
        return setting.convert(raw)
    except ValueError as error:
        raise ConfigError(full, str(error)) from None


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Read every key of the table from ``config``, converting and validating it.

    A ``TWITSOCKET_`` key that is not in the table is almost always a typo (and a typo'd
    credential silently leaves a source unconfigured): it stops start-up naming the closest
    known key, or only logs a warning with ``TWITSOCKET_STRICT_CONFIG = False``.
    """
    ours = {key: value for key, value in config.items() if key.startswith(PREFIX)}
    settings = Settings(ours)
    for key in sorted(set(ours) - {PREFIX + name for name in KEYS}):
        problem = unknown_key_problem(key)
        if settings["STRICT_CONFIG"]:
            raise ConfigError(key, problem)
        log.warning("%s: %s", key, problem)
    return settings


def unknown_key_problem(key: str) -> str:
    """What to say about an unknown key: the closest known one, if any is close."""
    known = [PREFIX + name for name in KEYS]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "see docs/configuration.md"
    return (f"unknown setting; {hint} (set {PREFIX}STRICT_CONFIG = False to start with "
            "only a warning)")


def require(settings: Settings, *names: str) -> None:
    """Stop with a message naming the first missing credential or setting."""
    for name in names:
        if not settings.get(name):
            raise ConfigError(PREFIX + name, "is required for this command but is not set")


# --- the reference documentation ------------------------------------------------------------

DOCS_HEADER = """\
# Configuration

<!-- Generated from flask_twitsocket/config_table.py by `make docs-config`: edit the table,
     not this file. -->

Every setting is a key of the Flask app's config, prefixed `TWITSOCKET_`. Each is validated at
start-up; a bad value stops the app (or the CLI command) with a message naming the key.
Lists accept a Python list or a comma-separated string (handy in environment files).

The database is Flask-SQLAlchemy's `SQLALCHEMY_DATABASE_URI` (the host app's own instance is
used when it has one; else the extension creates one, default `sqlite:///twitsocket.sqlite3`
in the instance folder).
"""


def describe_default(value: Any) -> str:
    """A default as a reader wants it: nothing (—) for empty ones, the recording by name."""
    if value is None or value == ():
        return "—"
    if isinstance(value, Path) and value == BUNDLED_REPLAY_FILE:
        return "the bundled DevConf 2026 recording"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _sections() -> list[tuple[Section, list[Setting]]]:
    """The table's sections in their first-appearance order, each with its rows."""
    grouped: dict[Section, list[Setting]] = {}
    for setting in SETTINGS:
        grouped.setdefault(setting.section, []).append(setting)
    return list(grouped.items())


def configuration_markdown() -> str:
    """``docs/configuration.md``: the header above, then one table per section."""
    parts = [DOCS_HEADER]
    for section, settings in _sections():
        parts.append(f"\n## {section.title}\n\n")
        if section.intro:
            parts.append(f"{section.intro}\n\n")
        parts.append("| key | default | meaning |\n|---|---|---|\n")
        parts.extend(f"| `{PREFIX}{s.name}` | {_cell(describe_default(s.default))} | "
                     f"{_cell(s.doc)} |\n" for s in settings)
    return "".join(parts)

