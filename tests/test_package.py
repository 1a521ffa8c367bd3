"""The package as a user gets it: built, checked, installed from the wheel into a fresh
virtualenv (not editable, nothing from this checkout on the path), then run.

Slow (about a minute: two isolated builds, a new virtualenv, the dependencies from the
package index or pip's cache), so marked ``slow``; ``make test`` runs it all the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

import flask_twitsocket

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "flask_twitsocket" / "translations"

#: A host site in one file, like the demo's first page: every public macro, the blueprint.
TINY_APP = '''
from pathlib import Path

from flask import Flask, render_template_string

from flask_twitsocket import TwitSocket

HERE = Path(__file__).resolve().parent
PAGE = """{% from "twitsocket/macros.html" import render_tweets, websocket_client, count,
                 top_users, top_tweets, retweet_switch, stylesheet %}
<!doctype html><html lang="{{ twitsocket.locale() }}"><head>{{ stylesheet() }}</head>
<body>{{ count() }} · {{ retweet_switch() }} {{ render_tweets(30) }}
{{ top_users(5) }} {{ top_tweets(3) }} {{ websocket_client() }}</body></html>"""

app = Flask(__name__)
app.config.update(
    SQLALCHEMY_DATABASE_URI=f"sqlite:///{HERE / 'wall.sqlite3'}",
    TWITSOCKET_TRACK_KEYWORDS=["#devconf26", "devconf"],
    TWITSOCKET_REPLAY_RATE=100000,
)
TwitSocket(app)


@app.get("/")
def index():
    return render_template_string(PAGE)
'''

#: Run by the virtualenv's Python: what a browser would fetch, reported as JSON.
PROBE = '''
import hashlib, json, sys
import flask_twitsocket
from tiny import app

client = app.test_client()
page = client.get("/", headers={"Accept-Language": "fr"})
wall = client.get("/twitsocket/wall", headers={"Accept-Language": "de"})
js = client.get("/twitsocket/static/twitsocket.js")
css = client.get("/twitsocket/static/twitsocket.css")
api = client.get("/twitsocket/api/tweets?limit=5").get_json()
json.dump({"file": flask_twitsocket.__file__, "version": flask_twitsocket.__version__,
           "page": [page.status_code, page.get_data(as_text=True)],
           "wall": [wall.status_code, wall.get_data(as_text=True)],
           "js": [js.status_code, hashlib.sha256(js.get_data()).hexdigest()],
           "css": [css.status_code, css.content_type],
           "count": api["count"], "tweets": len(api["tweets"])}, sys.stdout)
'''


def _run(args: list[str | Path], cwd: Path, timeout: float = 300,
         ) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "FLASK_APP")}
    result = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, text=True,
                            capture_output=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """``python -m build``: the sdist, then the wheel built from that sdist."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=ROOT)
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    (found,) = dist.glob("flask_twitsocket-*.whl")
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory, wheel) -> tuple[Path, Path]:
    """A fresh virtualenv with the wheel installed, and a folder holding the tiny app."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True, clear=True)
    python = env_dir / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", wheel], cwd=env_dir)
    app_dir = tmp_path_factory.mktemp("site")
    (app_dir / "tiny.py").write_text(TINY_APP, encoding="utf-8")
    (app_dir / "probe.py").write_text(PROBE, encoding="utf-8")
    return env_dir, app_dir


def test_twine_accepts_the_sdist_and_the_wheel(dist):
    files = sorted(dist.iterdir())
    assert sorted(path.suffix for path in files) == [".gz", ".whl"]
    result = _run([sys.executable, "-m", "twine", "check", "--strict", *files], cwd=dist)
    assert result.stdout.count("PASSED") == 2


def test_the_wheel_carries_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "flask_twitsocket"
    data = [path.relative_to(ROOT).as_posix() for folder in
            ("templates", "static", "translations", "fixtures", "migrations")
            for path in (package / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"]
    assert data and not [name for name in data if name not in names]
    for locale in ("en", "fr", "de"):
        assert f"flask_twitsocket/translations/{locale}/LC_MESSAGES/twitsocket.mo" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_the_wheels_compiled_catalogues_say_what_the_po_files_say(wheel):
    archive = zipfile.ZipFile(wheel)
    for po_file in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/twitsocket.po")):
        locale = po_file.parent.parent.name
        with po_file.open("rb") as source:
            catalog = read_po(source, locale=locale)
        member = f"flask_twitsocket/translations/{locale}/LC_MESSAGES/twitsocket.mo"
        with archive.open(member) as compiled:
            shipped = Translations(compiled)
        messages = [message for message in catalog if message.id and message.string]
        assert messages or locale == "en"
        for message in messages:
            assert shipped.gettext(message.id) == message.string, (locale, message.id)


def test_the_metadata_names_the_framework_the_licence_and_one_version(wheel):
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
    text = archive.read(metadata).decode()
    assert f"\nVersion: {flask_twitsocket.__version__}\n" in text
    assert "Classifier: Framework :: Flask" in text
    assert "License-Expression: BSD-3-Clause" in text
    assert "Project-URL: Documentation," in text
    for extra in ("redis", "postgres", "gevent"):
        assert f"Provides-Extra: {extra}" in text


def test_the_installed_cli_runs_from_the_wheel(site):
    env_dir, app_dir = site
    flask = env_dir / "bin" / "flask"
    help_text = _run([flask, "--app", "tiny", "twitsocket", "--help"], cwd=app_dir).stdout
    for command in ("init-db", "stream", "top"):
        assert command in help_text
    assert "Tables ready" in _run([flask, "--app", "tiny", "twitsocket", "init-db"],
                                  cwd=app_dir).stdout


def test_the_installed_package_serves_the_wall(site):
    env_dir, app_dir = site
    flask = env_dir / "bin" / "flask"
    _run([flask, "--app", "tiny", "twitsocket", "init-db"], cwd=app_dir)
    # the bundled DevConf recording (a fixture in the wheel), played once
    stream = _run([flask, "--app", "tiny", "twitsocket", "stream", "--source", "replay"],
                  cwd=app_dir, timeout=120)
    assert "Stream stopped:" in stream.stdout + stream.stderr
    report = json.loads(_run([env_dir / "bin" / "python", "probe.py"], cwd=app_dir).stdout)
    installed = Path(report["file"]).resolve()
    assert env_dir.resolve() in installed.parents, "not the installed copy"
    assert ROOT not in installed.parents
    assert report["version"] == flask_twitsocket.__version__
    status, page = report["page"]
    assert status == 200
    assert 'lang="fr"' in page and "Connexion…" in page  # the French catalogue
    assert "data-twitsocket-tweets" in page and "twitsocket.js" in page  # the macros
    status, wall = report["wall"]
    assert status == 200 and 'lang="de"' in wall and "Verbindung wird aufgebaut…" in wall
    script = ROOT / "flask_twitsocket" / "static" / "twitsocket" / "twitsocket.js"
    assert report["js"] == [200, hashlib.sha256(script.read_bytes()).hexdigest()]
    assert report["css"] == [200, "text/css; charset=utf-8"]
    assert report["count"] > 0 and report["tweets"] == 5
    assert page.count('<article class="tweet') == min(report["count"], 30)
