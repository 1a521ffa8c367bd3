"""The configuration reference names every setting, and is generated from the table."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import flask_twitsocket
from flask_twitsocket import config

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_setting_is_documented():
    for module in pkgutil.walk_packages(flask_twitsocket.__path__, "flask_twitsocket."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in config.KEYS if f"`TWITSOCKET_{name}`" not in text]
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_the_reference_is_the_table_rendered():
    text = DOC.read_text(encoding="utf-8")
    assert text == config.configuration_markdown(), (
        "docs/configuration.md differs from the settings table "
        "(flask_twitsocket/config_table.py): run `make docs-config` to regenerate it")


def test_the_reference_has_one_heading_per_section_in_the_tables_order():
    headings = [line[3:] for line in config.configuration_markdown().splitlines()
                if line.startswith("## ")]
    sections = list(dict.fromkeys(setting.section.title for setting in config.SETTINGS))
    assert headings == sections
    assert "Mastodon" in headings and "Bluesky" in headings


def test_defaults_are_rendered_for_readers():
    assert config.describe_default(config.BUNDLED_REPLAY_FILE) == (
        "the bundled DevConf 2026 recording")
    assert config.describe_default(()) == config.describe_default(None) == "—"
    assert config.describe_default(10_000) == "`10000`"
    assert config.describe_default("post") == "`post`"
