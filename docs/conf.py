"""Sphinx configuration for the flask-twitsocket documentation (``make docs``).

The pages are Markdown (MyST-Parser), so the pages that also read well on a repository
browser (architecture, deployment, performance, the generated configuration reference)
are the same files here: one source each. The theme is the Pallets one (``flask``), as in
Flask, Flask-SQLAlchemy and Flask-Login, so a Flask developer finds their way at once.

The build never touches the network: no intersphinx (its inventories are downloaded), so
the few names from other projects that appear in signatures are listed in
``nitpick_ignore`` below, and everything else must resolve (``make docs`` is ``-n -W``).
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

import flask_twitsocket

ROOT = Path(__file__).resolve().parent.parent
#: Where a page's link to a file of the repository outside ``docs/`` points to.
SOURCE_URL = "https://github.com/flask-twitsocket/flask-twitsocket/tree/main"

project = "flask-twitsocket"
copyright = "flask-twitsocket contributors"  # noqa: A001 - Sphinx's name
author = "flask-twitsocket contributors"
release = flask_twitsocket.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
    "sphinx_click",
    "pallets_sphinx_themes",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "screenshots/*.md"]
nitpicky = True
#: Names from other projects (their docs are not fetched: no network at build time).
nitpick_ignore = [
    ("py:class", name) for name in (
        "Flask", "flask.app.Flask", "flask.Flask",
        "SQLAlchemy", "flask_sqlalchemy.SQLAlchemy",
        "flask_sqlalchemy.extension.SQLAlchemy",
        "Engine", "sqlalchemy.Engine", "sqlalchemy.engine.base.Engine",
        "Callable", "collections.abc.Callable", "Any", "typing.Any",
    )
]
#: Internal classes that appear in the public classes' type hints (the settings mapping,
#: the store, the moderation actions): documented in prose, not as API, as they may move.
nitpick_ignore_regex = [
    ("py:class", r"Settings|PostStore|Moderation|Hub"),
    ("py:class", r"flask_twitsocket\.(config|store|moderation|hub)(\.\w+)*\.\w+"),
]

# -- MyST: Markdown pages -------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
#: ``[text](page.md#a-heading)`` links between Markdown pages resolve, and are checked.
myst_heading_anchors = 3
#: Where ``[text](name)`` links are looked up (the theme's click/jinja domains cannot be).
myst_ref_domains = ["std", "py"]

#: The existing pages keep their ``json`` blocks with "…" placeholders, which Pygments
#: cannot lex; Sphinx then highlights them in relaxed mode. Nothing is lost: not a link.
suppress_warnings = ["misc.highlighting_failure"]

# -- autodoc ------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True

# -- HTML: the Pallets theme ------------------------------------------------------------------
html_theme = "flask"
html_theme_options = {"index_sidebar_logo": False}
html_sidebars = {
    "index": ["project.html", "localtoc.html", "searchbox.html"],
    "**": ["localtoc.html", "relations.html", "searchbox.html"],
}
html_static_path = ["_static"]
html_title = f"flask-twitsocket Documentation ({version})"
html_show_sourcelink = False


class RepositoryLinks(SphinxPostTransform):
    """A Markdown link to a file of the repository outside ``docs/`` (``../deploy/``)
    becomes a link to that file in the source repository, when the file exists; any other
    unresolved link stays MyST's warning (an error with ``-W``). Runs before MyST's
    resolver (priority 9)."""

    default_priority = 8

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst":
                continue
            match = re.fullmatch(r"(?:\.\./)+([\w./-]+)", node.get("reftarget", ""))
            if match and (ROOT / match.group(1)).exists():
                link = nodes.reference("", "", *node.children,
                                       refuri=f"{SOURCE_URL}/{match.group(1)}",
                                       internal=False)
                node.replace_self(link)


def setup(app: Sphinx) -> None:
    app.add_post_transform(RepositoryLinks)
