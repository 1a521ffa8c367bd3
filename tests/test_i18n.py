"""The wall's own words in English, French and German; the host site's language wins."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from conftest import make_app
from flask import Flask, render_template_string
from test_web import MACROS

from flask_twitsocket import i18n

PACKAGE = Path(i18n.__file__).parent


def used_msgids() -> set[str]:
    """Every string the templates pass to twitsocket.t(), and the client's messages."""
    found = set(i18n.CLIENT_MESSAGES.values())
    for path in [*(PACKAGE / "templates").rglob("*.html"),
                 Path(__file__).parent.parent / "demo_app" / "templates" / "index.html"]:
        found.update(re.findall(r"twitsocket\.t\('([^']+)'", path.read_text("utf-8")))
    # the projector's identity (call to action) is worded in Python
    identity = (PACKAGE / "web" / "identity.py").read_text("utf-8")
    found.update(re.findall(r'\bt\(\s*"([^"]+)"', identity))
    return found


@pytest.mark.parametrize("locale", ["fr", "de"])
def test_every_string_is_translated(locale):
    po_file = i18n.TRANSLATIONS / locale / "LC_MESSAGES" / "twitsocket.po"
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=locale)
    translated = {message.id: message.string for message in catalog if message.id}
    missing = sorted(m for m in used_msgids() if not translated.get(m))
    assert missing == []
    unused = sorted(set(translated) - used_msgids())
    assert unused == []


def test_placeholders_survive_translation():
    for locale in ("fr", "de"):
        for message in i18n.CLIENT_MESSAGES.values():
            translation = i18n.translations(locale).gettext(message)
            assert re.findall(r"\{\w+\}", translation) == re.findall(r"\{\w+\}", message)


def page(app: Flask, accept_language: str | None = None) -> str:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    with app.test_request_context(headers=headers):
        return render_template_string(MACROS + "{{ retweet_switch() }}{{ websocket_client() }}")


def client_messages(html: str) -> dict:
    return json.loads(unescape(re.search(r'data-i18n="([^"]*)"', html).group(1)))


@pytest.mark.parametrize(("header", "switch", "live"), [
    ("fr-CH, fr;q=0.9, en;q=0.5", "Masquer les retweets", "En direct"),
    ("de-AT,de;q=0.8", "Retweets ausblenden", "Live"),
    ("es-ES", "Hide retweets", "Live"),
    (None, "Hide retweets", "Live"),
])
def test_accept_language_without_flask_babel(app, header, switch, live):
    html = page(app, header)
    assert f">{switch}</button>" in html
    assert client_messages(html)["live"] == live


def test_the_host_sites_flask_babel_locale_selector_wins(database_url):
    from flask_babel import Babel

    app = make_app(database_url)
    Babel(app, locale_selector=lambda: "de")
    html = page(app, "fr-FR")
    assert ">Retweets ausblenden</button>" in html
    assert client_messages(html)["reconnecting"] == "Verbindung wird wiederhergestellt…"
    assert 'data-lang="de"' in html


def test_a_host_locale_we_do_not_ship_falls_back_to_the_browser(database_url):
    from flask_babel import Babel

    app = make_app(database_url)
    Babel(app, locale_selector=lambda: "ja")
    assert ">Masquer les retweets</button>" in page(app, "fr")


def test_catalogues_compile_to_mo_files(tmp_path, monkeypatch):
    for locale in ("en", "fr", "de"):
        target = tmp_path / locale / "LC_MESSAGES"
        target.mkdir(parents=True)
        source = i18n.TRANSLATIONS / locale / "LC_MESSAGES" / "twitsocket.po"
        (target / "twitsocket.po").write_bytes(source.read_bytes())
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    written = i18n.compile_catalogues()
    assert sorted(p.parent.parent.name for p in written) == ["de", "en", "fr"]
    import gettext

    french = gettext.translation("twitsocket", tmp_path, languages=["fr"])
    assert french.gettext("Hide retweets") == "Masquer les retweets"


def test_the_compiled_catalogues_say_what_the_po_files_say():
    """The wheel ships the committed ``.mo`` files: each must translate every message
    exactly as its ``.po`` does (``make translations`` rewrites them)."""
    from babel.messages.pofile import read_po
    from babel.support import Translations

    from flask_twitsocket.i18n import TRANSLATIONS

    po_files = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/twitsocket.po"))
    assert len(po_files) >= 3
    for po_file in po_files:
        locale = po_file.parent.parent.name
        with po_file.open("rb") as source:
            catalog = read_po(source, locale=locale)
        with po_file.with_suffix(".mo").open("rb") as compiled:
            shipped = Translations(compiled)
        messages = [message for message in catalog if message.id and message.string]
        assert messages or locale == "en"
        for message in messages:
            assert shipped.gettext(message.id) == message.string, (
                f"{locale}: {message.id!r} differs; run `make translations`")
