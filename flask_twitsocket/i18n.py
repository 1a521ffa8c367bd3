"""Translations of the wall's own words (English, French, German), for templates and the JS.

The wall is a guest on the host site, so it speaks the host's language: when the host app
configured Flask-Babel, its locale selector decides (``flask_babel.get_locale()``); without
Flask-Babel the browser's ``Accept-Language`` does. The extension keeps its catalogue in its
own gettext domain, ``twitsocket``, so it never mixes with (or overrides) the host's
messages.

The ``.po`` files under ``translations/`` are the source of truth; they are compiled with
Babel's pure-Python compiler when first needed (an in-memory ``.mo``), so a checkout, an
editable install and a wheel all use exactly the text that was reviewed, and no stale
binary file can drift from it. The ``.mo`` files beside them are for the wheel (tools and
packagers read gettext catalogues from disk); ``make translations`` (``python -m
flask_twitsocket.i18n``) rewrites them, and a test fails when one says anything its ``.po``
does not.
"""

from __future__ import annotations

import functools
import io
import sys
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import current_app, g, has_request_context, request

DOMAIN = "twitsocket"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LOCALES = ("en", "fr", "de")
DEFAULT_LOCALE = "en"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (the gettext convention)."""
    return message


#: What the JS client shows, by key; the client gets these translated (data-i18n).
CLIENT_MESSAGES = {
    "status_label": N_("Connection status"),
    "connecting": N_("Connecting…"),
    "live": N_("Live"),
    "live_sse": N_("Live (fallback: server-sent events)"),
    "reconnecting": N_("Reconnecting…"),
    "offline": N_("Offline, still retrying"),
    "just_now": N_("just now"),
    "minutes_ago": N_("{n} min ago"),
    "hours_ago": N_("{n} h ago"),
    "reposts": N_("reposts"),
    "reposted_by": N_("Reposted by"),
    "video": N_("Video"),
    "quoted_post": N_("Quoted post"),
    "new_posts": N_("+{n} new"),
    "skipped": N_("{n} skipped"),
    "earlier": N_("Earlier post"),
    "pinned": N_("Pinned"),
    "announce": N_("New post by {name}: {text}"),
}


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue for ``locale`` (English is the msgids themselves)."""
    po_file = TRANSLATIONS / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale not in LOCALES or not po_file.is_file():
        return NullTranslations()
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _host_locale() -> str | None:
    """The host site's choice, when it set up Flask-Babel (with or without a selector)."""
    if "babel" not in current_app.extensions:
        return None
    from flask_babel import get_locale

    locale = get_locale()
    return None if locale is None else str(locale.language)


def _asked_locale() -> str | None:
    """``?lang=fr`` (or ``fr-CH``): a projector PC set up in the wrong language is told in
    its URL, since nobody changes a rented PC's locale an hour before the keynote."""
    asked = (request.args.get("lang") or "").strip().lower()[:2]
    return asked if asked in LOCALES else None


def current_locale() -> str:
    """The language of this request's wall: ``?lang=``, else the host's Flask-Babel
    choice, else the browser's Accept-Language; English when none names one we ship."""
    if not has_request_context():
        return DEFAULT_LOCALE
    cached = g.get("_twitsocket_locale")
    if cached is not None:
        return cached
    locale = _asked_locale() or _host_locale()
    if locale not in LOCALES:
        locale = request.accept_languages.best_match(LOCALES, default=DEFAULT_LOCALE)
    g._twitsocket_locale = locale
    return locale


def gettext(message: str, **values: object) -> str:
    """``message`` in the current locale; ``%(name)s`` placeholders filled from ``values``."""
    text = translations(current_locale()).gettext(message)
    return text % values if values else text


def client_messages() -> dict[str, str]:
    """The JS client's strings in the current locale (``{n}`` is filled in by the client)."""
    return {key: gettext(message) for key, message in CLIENT_MESSAGES.items()}


def compile_catalogues() -> list[Path]:
    """Write ``<locale>/LC_MESSAGES/twitsocket.mo`` next to each ``.po`` (for packagers)."""
    written = []
    for po_file in sorted(TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po_file.open("rb") as source:
            catalog = read_po(source, locale=po_file.parent.parent.name, domain=DOMAIN)
        mo_file = po_file.with_suffix(".mo")
        with mo_file.open("wb") as out:
            write_mo(out, catalog)
        written.append(mo_file)
    return written


if __name__ == "__main__":
    for path in compile_catalogues():
        sys.stdout.write(f"compiled {path}\n")
