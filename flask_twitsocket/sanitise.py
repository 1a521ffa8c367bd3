"""Mastodon sends post content as HTML: make it safe to store, and derive the plain text.

Display names and handles are cleaned here too (:func:`clean_label`), for every network.

Mastodon's HTML comes from thousands of servers we do not control, so it is hostile. We do
not write our own sanitiser: nh3 (Rust's ammonia, the maintained successor to bleach) parses
it like a browser would and keeps only a tiny allow-list — paragraphs (stored as blank
lines), line breaks, and links whose ``href`` is an absolute http(s) URL. Everything else
(scripts and their text, styles, event handlers, ``javascript:`` or relative links,
images) is gone.

The plain text and entity list are built from nh3's output too (with Mastodon's two
display classes kept for one more step), so the text can never contain what the stored
HTML dropped: a script's text is not in the post's text, and a link that was dropped is
not an entity.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import nh3

from .render import safe_url

LINK_REL = "nofollow noopener noreferrer"
#: What a stored Mastodon post may contain: nothing that runs, loads or styles.
ALLOWED_TAGS = {"a", "br", "p"}


def _only_http_links(tag: str, attribute: str, value: str) -> str | None:
    """Keep ``href`` only when it is absolute http(s); nh3 would pass relative URLs."""
    if tag == "a" and attribute == "href":
        return safe_url(value)
    return value


_STORE = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes={"a": {"href"}},
    attribute_filter=_only_http_links,
    url_schemes={"http", "https"},
    link_rel=LINK_REL,
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)

# For the text: the same allow-list plus Mastodon's markers of what a link is (mention,
# hashtag) and which part of a long URL it hides (``invisible``) or elides (``ellipsis``).
_TEXT = nh3.Cleaner(
    tags=ALLOWED_TAGS | {"span"},
    attributes={"a": {"href"}},
    allowed_classes={"a": {"mention", "hashtag", "u-url"},
                     "span": {"invisible", "ellipsis"}},
    attribute_filter=_only_http_links,
    url_schemes={"http", "https"},
    link_rel=None,
    strip_comments=True,
)


def sanitise_html(html: str) -> str:
    """The HTML reduced to ``br`` and http(s) ``a href`` (opening in a new tab).

    Paragraphs become blank lines (``<br><br>``): the wall shows a post inside its own
    ``<p class="text">`` as it does for every network, and a ``<p>`` inside a ``<p>`` is
    not valid HTML. String replacement is safe here: in nh3's output a paragraph tag is
    exactly ``<p>``/``</p>`` and any ``<`` in text is escaped.
    """
    cleaned = _PARAGRAPH_BREAK.sub("<br><br>", _STORE.clean(html or "").strip())
    return cleaned.replace("<p>", "").replace("</p>", "")


_PARAGRAPH_BREAK = re.compile(r"</p>\s*<p>")

#: Bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates
#: (U+2066-U+2069), the LTR/RTL marks (U+200E, U+200F) and the Arabic letter mark (U+061C).
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def clean_label(text: str | None) -> str:
    """A display name or handle without bidi controls: a right-to-left override in a name
    would otherwise reverse what follows it on the projector ("@mallory" read
    "yrollam@"). A name has no use for them; the renderers also isolate each field
    (``dir``), so an RTL name still shows right to left. (Post text keeps them: it is
    isolated, and RTL writers use the marks.)"""
    if not text:
        return ""
    return BIDI_CONTROLS.sub("", text)


def html_to_text(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text of Mastodon HTML and its entities (offsets in code points of the text).

    Paragraphs are separated by a blank line and ``<br>`` becomes a newline. A link's text
    is kept whole (a long URL's hidden parts included, so the text reads as written); its
    ``display`` is what Mastodon shows (the visible part, ``…`` where it elides).
    """
    parser = _TextParser()
    parser.feed(_TEXT.clean(html or ""))
    parser.close()
    return parser.result()


class _TextParser(HTMLParser):
    """Walks nh3's output, which only has p, br, a and span: no nesting surprises."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0  # code points so far: Python str lengths are code points
        self.paragraphs = 0
        self.entities: list[dict[str, Any]] = []
        self.link: dict[str, Any] | None = None
        self.span_stack: list[str] = []

    def _write(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "p":
            if self.paragraphs:
                self._write("\n\n")
            self.paragraphs += 1
        elif tag == "br":
            self._write("\n")
        elif tag == "a" and self.link is None:
            self.link = {"href": attributes.get("href"), "class": attributes.get("class") or "",
                         "start": self.length, "display": []}
        elif tag == "span":
            self.span_stack.append(attributes.get("class") or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "span":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link is not None:
            self._end_link(self.link)
            self.link = None
        elif tag == "span" and self.span_stack:
            classes = self.span_stack.pop().split()
            if "ellipsis" in classes and self.link is not None:
                self.link["display"].append("…")

    def handle_data(self, data: str) -> None:
        self._write(data)
        if self.link is not None and not any("invisible" in classes.split()
                                             for classes in self.span_stack):
            self.link["display"].append(data)

    def _end_link(self, link: dict[str, Any]) -> None:
        label = "".join(self.parts)[link["start"]:]
        if not link["href"] or not label.strip():
            return
        classes = link["class"].split()
        if "hashtag" in classes or label.startswith("#"):
            kind = "hashtag"
        elif "mention" in classes or label.startswith("@"):
            kind = "mention"
        else:
            kind = "url"
        self.entities.append({
            "type": kind, "start": link["start"], "end": self.length, "url": link["href"],
            "display": "".join(link["display"]) or label,
        })

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        return "".join(self.parts), self.entities
