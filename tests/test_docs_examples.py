"""The documentation's examples run, and its reference pages say what the code does.

The quickstart (docs/quickstart.md) is followed to the letter: every code block with a
``:caption:`` is written to that file name in an empty folder, and every ``$ flask …``
line of its console blocks is run there, as a reader would (the long-lived ``stream`` and
``run`` in the background). The page it serves is then fetched over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MACROS = ROOT / "flask_twitsocket" / "templates" / "twitsocket" / "macros.html"

#: A fenced MyST code block with a caption: ```{code-block} lang / :caption: name / body ```
CAPTIONED = re.compile(r"^```\{code-block\}[^\n]*\n:caption: (?P<name>[^\n]+)\n\n"
                       r"(?P<body>.*?)^```$", re.M | re.S)
CONSOLE = re.compile(r"^```console\n(?P<body>.*?)^```$", re.M | re.S)
JSON_BLOCK = re.compile(r"^```json\n(?P<body>.*?)^```$", re.M | re.S)


def quickstart_files(text: str) -> dict[str, str]:
    return {match["name"].strip(): match["body"] for match in CAPTIONED.finditer(text)}


def quickstart_commands(text: str) -> list[list[str]]:
    return [shlex.split(line[2:]) for block in CONSOLE.finditer(text)
            for line in block["body"].splitlines() if line.startswith("$ ")]


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("FLASK_APP", "VIRTUAL_ENV") and not key.startswith("TWITSOCKET_")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's package, whatever the folder
    return env


def _flask(args: list[str]) -> list[str]:
    assert args[0] == "flask", f"the quickstart's commands are flask commands: {args}"
    return [sys.executable, "-m", "flask", *args[1:]]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory) -> Iterator[str]:
    """The quickstart's site, run as its page says; yields its base URL."""
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    folder = tmp_path_factory.mktemp("quickstart")
    for name, body in quickstart_files(text).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    port = free_port()
    background: list[subprocess.Popen] = []
    try:
        for args in quickstart_commands(text):
            command = _flask(args)
            if args[-1] == "run":
                command += ["--port", str(port)]  # the docs' 5000 may be taken here
            if args[-1] == "run" or "stream" in args:
                background.append(subprocess.Popen(command, cwd=folder, env=_env(),
                                                   stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.DEVNULL))
                continue
            done = subprocess.run(command, cwd=folder, env=_env(), capture_output=True,
                                  text=True, timeout=60, check=False)
            assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in background:
            process.send_signal(signal.SIGTERM)
        for process in background:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None


def test_the_quickstart_has_its_files_and_its_three_commands():
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    assert set(quickstart_files(text)) == {"app.py", "templates/index.html"}
    assert [args[-1] for args in quickstart_commands(text)] == ["init-db", "replay", "run"]


def test_the_quickstart_site_shows_the_replayed_posts(quickstart):
    wait_until(lambda: (lambda r: r if r is not None and r.ok
                              and r.json()["count"] >= 3 else None)(
        _get(f"{quickstart}/twitsocket/api/tweets")), timeout=30,
        message="the quickstart's stream storing posts and its server answering")
    page = requests.get(f"{quickstart}/", timeout=5)
    assert page.status_code == 200
    assert page.text.count('<article class="tweet') >= 3
    assert "twitsocket.js" in page.text and "data-twitsocket-count" in page.text
    assert requests.get(f"{quickstart}/twitsocket/static/twitsocket.js",
                        timeout=5).status_code == 200
    assert requests.get(f"{quickstart}/twitsocket/wall", timeout=5).status_code == 200


def test_the_json_pages_post_example_has_the_apis_fields(quickstart):
    """docs/http.md's post object has exactly the fields the API sends (none missing,
    none invented), the author object too."""
    text = (DOCS / "http.md").read_text(encoding="utf-8")
    documented = next(json.loads(block["body"]) for block in JSON_BLOCK.finditer(text)
                      if '"seq"' in block["body"] and '"type"' not in block["body"][:20])
    real = wait_until(lambda: (lambda r: r.json()["tweets"][0] if r is not None and r.ok
                               and r.json()["tweets"] else None)(
        _get(f"{quickstart}/twitsocket/api/tweets?limit=1")), timeout=30,
        message="a post from the API")
    assert sorted(documented) == sorted(real)
    assert sorted(documented["author"]) == sorted(real["author"])
    for field in real:
        assert f"\n`{field}`" in text or f"`{field}`," in text or f", `{field}`" in text, (
            f"http.md does not describe the post field {field!r}")


def test_every_macro_is_documented_with_its_signature():
    """docs/macros.md has a ``## `name(params)` `` heading for each public macro, with the
    template's own parameters and defaults."""
    signatures = re.findall(r"\{% macro ([a-z]\w*\([^)]*\))", MACROS.read_text())
    assert len(signatures) >= 7
    text = (DOCS / "macros.md").read_text(encoding="utf-8")
    missing = [signature for signature in signatures if f"\n## `{signature}`\n" not in text]
    assert not missing, f"document these macros in docs/macros.md: {missing}"
