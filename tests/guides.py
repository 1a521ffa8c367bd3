"""Following the docs' guides as a reader would, for tests/test_docs_guides.py.

A :class:`Guide` is a folder where pages are followed in order: each page's captioned code
blocks are written to those file names, and the ``$ …`` lines of its console blocks run
there (``export`` sets a variable for the commands after it; ``stream``, ``flask run`` and
gunicorn run in the background, started again when a later page says so). The networks
are the fake servers of ``tests/fake_*.py``; the pages' apps let the environment have the
last word, so a test points them at the fakes by their base URLs. Also: a moderator's
console over HTTP, the how-tos' apps imported from their folder, the deploy kit read as
systemd and a shell read it, and the built site served over HTTP.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy
from conftest import free_port, wait_until, write_jsonl, x_post
from fake_jetstream import FakeAppView, FakeJetstream
from fake_mastodon import FakeMastodon
from moderation_helpers import csrf_of
from test_bluesky_source import ALICE, KEYNOTE
from test_docs_examples import CONSOLE, quickstart_files

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Bounded waits are generous: a loaded machine starts a Flask process slowly.
LONG = 60.0


def page_commands(text: str) -> list[list[str]]:
    """Every ``$ …`` line of the page's console blocks, split as a shell would."""
    return [shlex.split(line[2:]) for block in CONSOLE.finditer(text)
            for line in block["body"].splitlines() if line.startswith("$ ")]


class Guide:
    """Pages followed in one ``folder`` (a tutorial builds on the one before): each page's
    files written, its commands run in order; ``export`` lines carry over to later pages."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.env = {key: value for key, value in os.environ.items()
                    if key not in ("FLASK_APP", "VIRTUAL_ENV")
                    and not key.startswith("TWITSOCKET_")}
        self.env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.overrides = dict(env or {})
        self.port = free_port()
        self.background: dict[str, subprocess.Popen] = {}
        self.exported: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, args: list[str]) -> subprocess.CompletedProcess | None:
        """One command of a page: ``export``, a ``flask`` command or gunicorn."""
        if args[0] == "export":
            for assignment in args[1:]:
                key, _, value = assignment.partition("=")
                self.exported[key] = value
            return None
        env = {**self.env, **self.exported, **self.overrides}
        command = [sys.executable, "-m", *args]
        if args[0] == "flask" and args[-1] == "run":
            command += ["--port", str(self.port)]  # the docs' 5000 may be taken here
        if args[0] == "gunicorn":
            env["GUNICORN_BIND"] = f"127.0.0.1:{self.port}"
        name = "stream" if "stream" in args else "web" if (
            args[-1] == "run" or args[0] == "gunicorn") else ""
        if name:
            self.stop(name)  # started again, as the page says: stop the old one first
            log = (self.folder / f"{name}.log").open("a")
            self.background[name] = subprocess.Popen(
                command, cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT)
            return None
        return self.call(args)

    def call(self, args: list[str], **extra: str) -> subprocess.CompletedProcess:
        """Run a command to its end (even ``stream``: a replay that finishes)."""
        env = {**self.env, **self.exported, **self.overrides, **extra}
        done = subprocess.run([sys.executable, "-m", *args], cwd=self.folder, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
        return done

    def follow(self, page: str) -> Guide:
        text = (DOCS / page).read_text(encoding="utf-8")
        for name, body in quickstart_files(text).items():
            path = self.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        for args in page_commands(text):
            self.run(args)
        return self

    def logs(self, name: str = "*") -> str:
        return "".join(path.read_text(errors="replace")
                       for path in sorted(self.folder.glob(f"{name}.log")))

    def stop(self, *names: str) -> None:
        """Stop the background processes ``names`` (default: all), as Ctrl-C would."""
        stopping = [self.background.pop(name) for name in names or list(self.background)
                    if name in self.background]
        for process in stopping:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in stopping:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            if process.poll() is None:  # stuck: as a second Ctrl-C would
                process.kill()
                process.wait()

    # --- reading the wall it serves --------------------------------------------------------

    def get(self, path: str, **options: Any) -> requests.Response | None:
        try:
            return requests.get(self.url + path, timeout=5, **options)
        except requests.ConnectionError:
            return None

    def posts(self) -> dict[tuple[str, str], dict[str, Any]]:
        answer = self.get("/twitsocket/api/tweets?limit=200")
        if answer is None or not answer.ok:
            return {}
        return {(post["network"], post["id"]): post for post in answer.json()["tweets"]}

    def sources(self) -> dict[str, dict[str, Any]]:
        """The stream's sources as ``/twitsocket/health`` lists them, by name."""
        return {source["name"]: source
                for source in self.get("/twitsocket/health").json()["sources"]}

    def wait_for_posts(self, *keys: tuple[str, str]) -> dict[tuple[str, str], dict]:
        return wait_until(lambda: (lambda posts: posts if set(keys) <= set(posts) else None)(
            self.posts()), timeout=LONG, message=f"{keys} on the wall; logs: {self.logs()}")


@pytest.fixture
def guides(tmp_path: Path) -> Iterator[Any]:
    """``guides(**env)``: a :class:`Guide` in a folder of its own; stopped at teardown."""
    started: list[Guide] = []

    def start(**env: str) -> Guide:
        folder = tmp_path / f"guide{len(started)}"
        folder.mkdir()
        guide = Guide(folder, env)
        started.append(guide)
        return guide

    yield start
    for guide in started:
        guide.stop()


@pytest.fixture
def networks() -> Iterator[tuple[FakeMastodon, FakeJetstream, FakeAppView]]:
    mastodon = FakeMastodon(token="your-access-token")  # the token the tutorial exports
    jetstream, appview = FakeJetstream(), FakeAppView([ALICE, KEYNOTE])
    yield mastodon, jetstream, appview
    mastodon.close()
    jetstream.close()
    appview.close()


def network_env(networks, folder: Path) -> dict[str, str]:
    """Where the fakes are: the only settings a test changes on the pages' apps."""
    mastodon, jetstream, appview = networks
    return {"TWITSOCKET_MASTODON_URL": mastodon.url,
            "TWITSOCKET_BLUESKY_JETSTREAM_URL": jetstream.url,
            "TWITSOCKET_BLUESKY_APPVIEW_URL": appview.url,
            "TWITSOCKET_BLUESKY_STATE_FILE": str(folder / "bluesky-cursor.json"),
            "TWITSOCKET_BACKOFF_SCALE": "0.05"}


def bluesky_uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


class ConsoleSession:
    """A moderator's browser on the console of a running site, over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = f"{url}/twitsocket/moderate"
        self.http = requests.Session()
        self.token = ""

    def _csrf(self) -> str:
        page = self.http.get(self.url, timeout=10)
        return csrf_of(page.text)

    def login(self, password: str) -> int:
        return self.http.post(f"{self.url}/login", timeout=10, allow_redirects=False,
                              data={"password": password, "csrf_token": self._csrf()}
                              ).status_code

    def open(self, password: str) -> ConsoleSession:
        assert self.login(password) == 303
        self.token = self._csrf()
        return self

    def act(self, action: str, target: str) -> dict[str, Any]:
        answer = self.http.post(f"{self.url}/api/{action}", json={"target": target},
                                headers={"X-CSRF-Token": self.token}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["entry"]

    def state(self) -> requests.Response:
        return self.http.get(f"{self.url}/api/state", timeout=10)

    def logout(self) -> None:
        self.http.post(f"{self.url}/logout", data={"csrf_token": self.token}, timeout=10)


def exported(page: str) -> dict[str, str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return dict(args[1].split("=", 1) for args in page_commands(text) if args[0] == "export")


DEPLOY = ROOT / "deploy"
ENV_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$", re.M)


def env_file(text: str) -> dict[str, str]:
    """The variables an EnvironmentFile= (or ``set -a; . file``) sets: KEY=VALUE lines."""
    return dict(ENV_LINE.findall(text))


def deploy_env() -> dict[str, str]:
    """The kit's env example with the lines the tutorial changes."""
    page = (DOCS / "tutorials" / "deploy.md").read_text(encoding="utf-8")
    changes = next(block for block in re.findall(r"^```sh\n(.*?)^```$", page, re.M | re.S)
                   if block.startswith("# /etc/twitsocket/twitsocket.env"))
    return {**env_file((DEPLOY / "twitsocket.env.example").read_text()), **env_file(changes)}


def unit(name: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for key, value in re.findall(r"^(\w+)=(.*)$", (DEPLOY / name).read_text(), re.M):
        directives.setdefault(key, []).append(value)
    return directives


@pytest.fixture(params=["redis", "postgresql"])
def broker(request) -> str:
    """The page's two buses: Redis, and LISTEN/NOTIFY on the wall's own database."""
    if request.param == "redis":
        return request.getfixturevalue("redis_url")
    return shared_database(request).replace("postgresql+psycopg://", "postgresql://")


def shared_database(request) -> str:
    """The PostgreSQL database several "hosts" share, emptied of the wall's tables (and
    its migration history), so the tutorial's ``init-db`` starts from nothing, as on a new
    server: the test database may hold what another branch's migrations made of it."""
    url = os.environ.get("TWITSOCKET_TEST_DATABASE_URL", "")
    url = url if url.startswith("postgresql") else request.getfixturevalue("postgres_url")
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        for name in sqlalchemy.inspect(conn).get_table_names():
            if name.startswith("twitsocket"):
                conn.execute(sqlalchemy.text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    engine.dispose()
    return url


def page_app(page: str, folder: Path, module: str = "app") -> Any:
    """The Flask app of a how-to's ``app.py``, written to ``folder`` and imported from it."""
    text = (DOCS / page).read_text(encoding="utf-8")
    for name, body in quickstart_files(text).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"{module}_{folder.name}",
                                                  folder / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # Flask finds the app's folder (templates) through it
    spec.loader.exec_module(loaded)
    loaded.app.extensions["twitsocket"].create_tables()
    return loaded.app


def html_classes(page: str) -> set[str]:
    match = re.search(r'<html[^>]*class="([^"]*)"', page)
    assert match, page[:300]
    return set(match[1].split())


def replay_into(guide: Guide, recording: Path) -> None:
    guide.call(["flask", "--app", "myapp", "twitsocket", "stream", "--source", "replay"],
               TWITSOCKET_REPLAY_FILE=str(recording), TWITSOCKET_REPLAY_RATE="1000",
               TWITSOCKET_REPLAY_LOOP="false", TWITSOCKET_REPLAY_RETIME="false")


def served(guide: Guide) -> list[dict[str, Any]]:
    """The wall's posts, from a web server started for the question."""
    guide.run(["flask", "--app", "myapp", "run"])
    answer = wait_until(lambda: (lambda r: r if r is not None and r.ok else None)(
        guide.get("/twitsocket/api/tweets?limit=200")), timeout=LONG, message="the web")
    guide.stop("web")
    return sorted(answer.json()["tweets"], key=lambda post: post["id"])


@pytest.fixture
def sqlite_wall(guides) -> Guide:
    """The event tutorial's app on SQLite, with three posts and nothing running."""
    guide = guides()
    text = (DOCS / "tutorials" / "event.md").read_text(encoding="utf-8")
    (guide.folder / "myapp.py").write_text(quickstart_files(text)["myapp.py"])
    guide.call(["flask", "--app", "myapp", "twitsocket", "init-db"])
    replay_into(guide, write_jsonl(guide.folder / "r.jsonl", [
        x_post(1, "First #devconf26"), x_post(2, "Second #devconf26"),
        x_post(3, "Third #devconf26", username="bob", user_id="7")]))
    return guide


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Iterator[str]:
    """``make docs`` (warnings are errors), served over HTTP; yields its base URL."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q",
                           "-b", "html", str(DOCS), str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
