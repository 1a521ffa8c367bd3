"""The configuration reference names every setting the code declares."""

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
