"""Real headless Chromium (Debian's ``chromium`` through Playwright) against a real server.

* ``chromium`` — one browser for the session; a newcomer without ``/usr/bin/chromium`` gets
  a skip with the reason, CI (``CI=true``) a failure (``make browser`` installs it).
* ``wall_server`` — the demo site (strict CSP header included) served by gunicorn, as in
  production, on a free port and on the test database; ``kill()`` / ``start()`` it to
  test reconnection. Extra settings come from the ``wall_env`` fixture.
* ``publisher`` — stores posts as a stream process would (journal + bus), from the test.
* ``open_page`` — a page that records what must never happen: dialogs, CSP violations,
  uncaught errors, and requests leaving 127.0.0.1 (they are blocked, and listed).

Screenshots and measurements go to ``TWITSOCKET_ARTEFACTS`` (default
``<tempdir>/twitsocket-artefacts``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import IN_CI, ROOT, free_port, fresh_app, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTEFACTS = Path(os.environ.get("TWITSOCKET_ARTEFACTS",
                                Path(tempfile.gettempdir()) / "twitsocket-artefacts"))
#: Generous bound for anything the browser must do (bounded waits, never timed asserts).
TIMEOUT_MS = 30_000

#: Runs before any page script: collects CSP violation reports where the test can read them.
RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing (apt-get install chromium, or `make browser`)"
        if IN_CI:
            pytest.fail(f"{reason}; CI must provide it")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


# --- the server -------------------------------------------------------------------------


class WallServer:
    """gunicorn serving ``demo_app`` in its own process group (killed as one, like a crash)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads",
                   "50", "--workers", "1", "--bind", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "demo_app:create_app()"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env,
                                        start_new_session=True)
        wait_until(self._answers, timeout=30, interval=0.1, message="gunicorn to answer")

    def _answers(self) -> bool:
        """Up, and its hub has read the journal head: a hub starts from "now" when the
        first wall connects, so a post stored in that instant would be nobody's (reported
        as a hub race; the tests must not depend on winning it)."""
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {self.process.returncode}")
        try:
            with urllib.request.urlopen(self.url + "/twitsocket/health", timeout=5) as answer:
                return json.loads(answer.read()).get("delivered_id") is not None
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL the master and its worker at once: open connections die with them."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def wall_env() -> dict[str, str]:
    """Override (or parametrize) to give the server extra ``TWITSOCKET_*`` settings."""
    return {}


@pytest.fixture
def wall_server(cli_env: dict[str, str], wall_env: dict[str, str], database_url: str,
                ) -> Iterator[WallServer]:
    fresh_app(database_url).extensions["twitsocket"].engine.dispose()  # empty tables
    server = WallServer({**cli_env, **wall_env})
    server.start()
    yield server
    server.kill()


# --- publishing posts as a stream process does ---------------------------------------------


class Publisher:
    def __init__(self, database_url: str) -> None:
        from demo_app import create_app

        self.app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                               "TWITSOCKET_BANNED_USERS": []})
        self.state = self.app.extensions["twitsocket"]

    def publish(self, *events: dict[str, Any]) -> None:
        """X stream events through the real pipeline (normalise, store, journal, bus)."""
        from flask_twitsocket.bus import create_bus
        from flask_twitsocket.pipeline import RawEvent
        from flask_twitsocket.state import build_ingestor

        bus = create_bus(self.state.settings, self.state.engine)
        try:
            build_ingestor(self.state, bus).ingest(
                [RawEvent("x", json.dumps(event)) for event in events])
        finally:
            bus.close()


@pytest.fixture
def publisher(wall_server: WallServer, database_url: str) -> Iterator[Publisher]:
    publisher = Publisher(database_url)
    yield publisher
    publisher.state.engine.dispose()


# --- pages ------------------------------------------------------------------------------


@dataclass
class Watched:
    """A page and everything it did that a test may want to deny."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        reported = self.page.evaluate("window.__cspViolations || []")
        logged = [line for line in self.console if "Content Security Policy" in line]
        return list(reported) + logged

    def assert_clean(self) -> None:
        """No CSP violation, no dialog, no uncaught script error."""
        assert self.csp_violations() == []
        assert self.dialogs == []
        assert self.errors == []

    def badge(self) -> dict[str, str]:
        return self.page.evaluate("""() => {
          const b = document.querySelector('[data-twitsocket-status-badge]');
          return {state: b.dataset.state, transport: b.dataset.transport || '',
                  text: b.textContent};
        }""")

    def wait_for_state(self, state: str, transport: str | None = None) -> None:
        self.page.wait_for_function(
            """([state, transport]) => {
              const b = document.querySelector('[data-twitsocket-status-badge]');
              return b && b.dataset.state === state &&
                     (!transport || b.dataset.transport === transport);
            }""", arg=[state, transport], timeout=TIMEOUT_MS)

    def seqs(self, selector: str = "#tweets article[data-seq]") -> list[int]:
        return [int(value) for value in self.page.eval_on_selector_all(
            selector, "nodes => nodes.map(n => n.dataset.seq)")]

    def ids(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#tweets article[data-id]", "nodes => nodes.map(n => n.dataset.id)")

    def wait_for_post(self, post_id: str | int) -> Any:
        return self.page.wait_for_selector(f'#tweets article[data-id="{post_id}"]',
                                           timeout=TIMEOUT_MS)

    def wait_for_count(self, count: int) -> None:
        self.page.wait_for_function(
            "n => [...document.querySelectorAll('[data-twitsocket-count]')]"
            ".every(node => node.textContent.trim() === String(n))",
            arg=count, timeout=TIMEOUT_MS)


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Callable[..., Watched]]:
    contexts: list[Any] = []

    def open_(url: str, locale: str = "en-US", color_scheme: str = "light",
              viewport: dict[str, int] | None = None) -> Watched:
        context = chromium.new_context(locale=locale, color_scheme=color_scheme,
                                       viewport=viewport or {"width": 1280, "height": 720})
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watched = Watched(page)
        page.add_init_script(RECORDER)

        def on_dialog(dialog: Any) -> None:
            watched.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        def outside(route: Any) -> None:
            watched.outside_requests.append(route.request.url)
            route.abort()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: watched.errors.append(str(error)))
        page.on("console", lambda message: watched.console.append(message.text)
                if message.type == "error" else None)
        page.on("websocket", lambda ws: watched.websockets.append(ws.url))
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), outside)
        page.goto(url)
        return watched

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def artefact() -> Callable[[str], Path]:
    """Where a test saves a screenshot or a measurement, by file name."""

    def path(name: str) -> Path:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        return ARTEFACTS / name

    return path


# --- accessibility and pictures ------------------------------------------------------------

AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations on the page as it is now: ``{id, nodes}`` each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text("utf-8"))
    return page.evaluate("""async () => {
      const result = await axe.run(document, {runOnly: {type: 'tag',
                                   values: ['wcag2a', 'wcag2aa', 'wcag21aa']}});
      return result.violations.map(v => ({id: v.id, impact: v.impact,
          nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""")


def png_gray(png: bytes) -> memoryview:
    """A PNG screenshot (8-bit RGB or RGBA, as Chromium writes them) as a grayscale bitmap
    shaped (height, width), for zxingcpp: no imaging library needed."""
    import struct
    import zlib

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, width, height, channels = 8, b"", 0, 0, 0
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        chunk = png[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += chunk
        position += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        offset = y * (stride + 1)
        kind, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc
                                      else corner)) & 0xFF
        rows.append(line)
        previous = line
    gray = bytearray(width * height)
    for y, line in enumerate(rows):
        for x in range(width):
            gray[y * width + x] = line[x * channels + 1]  # green: close enough to luminance
    return memoryview(bytes(gray)).cast("B", (height, width))
