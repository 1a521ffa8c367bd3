"""The projector page in real Chromium: identity and empty state, pacing (dwell measured
from the page), the "+N new" queue, the shuffle, pinned posts on every layout, and axe-core
(contrast and ARIA) on the wall, projector and embed pages.

Dwell and shuffle run shortened (TWITSOCKET_WALL_MIN_DWELL=2, TWITSOCKET_WALL_SHUFFLE_AFTER=3)
to keep the suite short; the pacing test streams 2 posts/s for 25 s (50 posts), faster than
the wall may show them, so the queue is exercised, and checks every post from the page."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import zxingcpp
from browser import TIMEOUT_MS, axe_violations, png_gray
from conftest import x_post

pytest_plugins = ["browser"]  # chromium, wall_server, publisher, open_page

DWELL = 2
QR_URL = "https://devconf.example/wall?from=qr"
BASE_ENV = {"TWITSOCKET_WALL_MIN_DWELL": str(DWELL), "TWITSOCKET_WALL_SHUFFLE_AFTER": "3",
            "TWITSOCKET_WALL_TITLE": "DevConf 2026", "TWITSOCKET_WALL_QR_URL": QR_URL,
            "TWITSOCKET_TRACK_KEYWORDS": "#devconf26,devconf",
            "TWITSOCKET_SOURCES": "mastodon,bluesky"}
HD = {"width": 1920, "height": 1080}


@pytest.fixture
def wall_env() -> dict[str, str]:
    return dict(BASE_ENV)


#: Records, for every post card, when it became fully visible (inside the viewport, opaque,
#: not hidden) and when that ended (it moved, was hidden or left the DOM).
TRACKER = """() => {
  window.__cards = {}; window.__inserted = []; window.__arrived = {}; window.__nodes = {};
  const box = document.getElementById('tweets');
  new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n => {
    if (n.dataset && n.dataset.id) {
      window.__inserted.push({id: n.dataset.id, at: performance.now(),
                              earlier: n.classList.contains('earlier')});
    }
  }))).observe(box, {childList: true});
  window.twitsocket.subscribe((kind, post) => {
    if (kind === 'post') { window.__arrived[post.id] = performance.now(); }
  });
  function frame() {
    const t = performance.now();
    const present = new Set();
    box.querySelectorAll(':scope > article[data-id]').forEach(n => {
      const id = n.dataset.id; present.add(id);
      const r = n.getBoundingClientRect(); const cs = getComputedStyle(n);
      const full = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth
                   && cs.visibility === 'visible' && Number(cs.opacity) >= 0.999;
      const card = window.__cards[id] || (window.__cards[id] = {});
      if (card.visibleAt === undefined && full) {
        card.visibleAt = t; card.rect = [r.x, r.y, r.width, r.height]; window.__nodes[id] = n;
      } else if (card.visibleAt !== undefined && card.endAt === undefined) {
        const moved = [r.x, r.y, r.width, r.height].some(
            (v, i) => Math.abs(v - card.rect[i]) > 0.5);
        if (moved || !full) {
          card.endAt = t; card.reason = moved ? 'moved' : 'hidden';
          card.seen = {opacity: cs.opacity, visibility: cs.visibility, className: n.className,
                       rect: [r.x, r.y, r.width, r.height], sameNode: n === window.__nodes[id],
                       animation: cs.animationName};
        }
      }
    });
    for (const [id, card] of Object.entries(window.__cards)) {
      if (!present.has(id) && card.endAt === undefined) {
        card.endAt = t; card.reason = card.visibleAt === undefined ? 'never visible' : 'removed';
      }
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
}"""


def open_projector(open_page, wall_server, query: str = "", **options):
    wall = open_page(f"{wall_server.url}/twitsocket/wall{query}", viewport=HD, **options)
    wall.wait_for_state("live")
    wall.page.evaluate(TRACKER)
    return wall


def test_empty_state_shows_title_call_to_action_and_a_qr_code_that_decodes(
        wall_server, open_page, artefact):
    wall = open_page(f"{wall_server.url}/twitsocket/wall?theme=dark", viewport=HD)
    wall.wait_for_state("live")
    page = wall.page
    assert page.is_visible("[data-wall-empty]")
    assert page.text_content(".wall-empty-title") == "DevConf 2026"
    assert page.text_content(".wall-empty-cta") == "Post with #devconf26 on Mastodon or Bluesky"
    qr = page.locator("[data-wall-qr]")
    box = qr.bounding_box()
    assert box["width"] >= 300  # large enough to scan from the hall
    picture = qr.screenshot()
    artefact("projector-empty-qr.png").write_bytes(picture)
    assert [code.text for code in zxingcpp.read_barcodes(png_gray(picture))] == [QR_URL]
    page.screenshot(path=str(artefact("projector-empty.png")))
    wall.assert_clean()


def test_two_posts_a_second_every_post_shown_stays_still_for_the_dwell(
        wall_server, publisher, open_page, artefact):
    wall = open_projector(open_page, wall_server)
    for i in range(1, 51):  # 2 posts/s for 25 s
        publisher.publish(x_post(i, text=f"paced post {i} " + "words " * (i % 7 * 4),
                                 username=f"user{i % 9}", name=f"Person {i % 9}"))
        time.sleep(0.5)
    wall.page.wait_for_timeout((DWELL + 1) * 1000)
    cards = wall.page.evaluate("window.__cards")
    now = wall.page.evaluate("performance.now()")
    done = {i: c for i, c in cards.items() if "endAt" in c}
    short = {i: c for i, c in done.items()
             if c.get("visibleAt") is None or c["endAt"] - c["visibleAt"] < DWELL * 1000}
    ongoing = [c for c in cards.values() if "endAt" not in c]
    summary = {"posts_published": 50, "cards_shown": len(cards), "completed": len(done),
               "still_on_screen": len(ongoing),
               "min_still_ms": min((c["endAt"] - c["visibleAt"]) for c in done.values()
                                   if "visibleAt" in c),
               "queued_at_end": int(wall.page.get_attribute("[data-wall-pacer]", "data-queued")),
               "dwell_ms": DWELL * 1000}
    artefact("projector-dwell.json").write_text(json.dumps(summary, indent=2))
    print("projector dwell:", summary)
    assert short == {}, short  # with what the page showed when a card stopped being still
    assert len(done) >= 20  # the measurement covered a real run, not three cards
    assert all(now - c["visibleAt"] >= 0 for c in ongoing if "visibleAt" in c)
    assert all(c.get("visibleAt") is not None for c in ongoing) or len(ongoing) <= 3
    wall.assert_clean()


def queue_state(wall) -> dict:
    return wall.page.evaluate("""() => ({
      shown: [...new Set(window.__inserted.map(i => i.id))],
      queued: Number(document.querySelector('[data-wall-pacer]').dataset.queued),
      skipped: Number(document.querySelector('[data-wall-pacer]').dataset.skipped),
      note: document.querySelector('[data-wall-queue]').hidden ? '' :
            document.querySelector('[data-wall-queue]').textContent.trim()})""")


@pytest.mark.parametrize("layout", ["grid", "spotlight", "ticker"])
@pytest.mark.parametrize("wall_env", [{**BASE_ENV, "TWITSOCKET_WALL_MIN_DWELL": "120"}])
def test_a_projector_opened_on_an_empty_wall_shows_the_first_post_at_once(
        wall_server, publisher, open_page, layout):
    """The dwell keeps a card still before the next one takes its place; it is no wait
    before the first card of an empty screen (a long dwell made a fresh projector blank)."""
    wall = open_projector(open_page, wall_server, f"?layout={layout}")
    publisher.publish(x_post(1, text="first of the day"))
    wall.page.wait_for_selector('#tweets article[data-id="1"]', timeout=TIMEOUT_MS)
    wall.assert_clean()


def test_a_burst_of_fifty_waits_in_the_queue_with_a_counter_and_none_is_lost(
        wall_server, publisher, open_page):
    wall = open_projector(open_page, wall_server)
    publisher.publish(*[x_post(i, text=f"burst {i}") for i in range(1, 51)])
    wall.page.wait_for_function(
        "() => Number(document.querySelector('[data-wall-pacer]').dataset.queued) > 0")
    for _ in range(3):
        state = queue_state(wall)
        assert state["skipped"] == 0
        assert state["note"] == f"+{state['queued']} new"
        assert len(state["shown"]) + state["queued"] == 50, state
        wall.page.wait_for_timeout(DWELL * 1000)
    wall.assert_clean()


@pytest.mark.parametrize("wall_env", [{**BASE_ENV, "TWITSOCKET_WALL_QUEUE_CAP": "20"}])
def test_a_queue_beyond_its_cap_shows_the_newest_and_says_how_many_it_skipped(
        wall_server, publisher, open_page):
    wall = open_projector(open_page, wall_server)
    publisher.publish(*[x_post(i, text=f"burst {i}") for i in range(1, 51)])
    wall.page.wait_for_function(
        "() => Number(document.querySelector('[data-wall-pacer]').dataset.skipped) > 0")
    state = queue_state(wall)
    assert state["queued"] <= 20
    assert len(state["shown"]) + state["queued"] + state["skipped"] == 50, state
    assert f"{state['skipped']} skipped" in state["note"]
    wall.page.wait_for_selector('#tweets article[data-id="50"]', timeout=TIMEOUT_MS)
    wall.assert_clean()


def test_silence_reshows_earlier_posts_and_a_new_post_interrupts_the_shuffle(
        wall_server, publisher, open_page):
    publisher.publish(*[x_post(i, text=f"earlier {i}") for i in range(1, 21)])
    wall = open_projector(open_page, wall_server, "?n=3")
    wall.page.wait_for_selector("#tweets article.earlier", timeout=TIMEOUT_MS)
    marker = wall.page.text_content("#tweets article.earlier .wall-earlier")
    assert marker == "Earlier post"
    publisher.publish(x_post(100, text="brand new"))
    wall.page.wait_for_selector('#tweets article[data-id="100"]:not(.earlier)')
    arrived = wall.page.evaluate("window.__arrived['100']")
    after = wall.page.evaluate(
        "t => window.__inserted.filter(i => i.at >= t).map(i => i.id)", arrived)
    assert after[0] == "100", after  # nothing re-shown between its arrival and its turn
    shown_ids = {int(i) for i in wall.page.evaluate("window.__inserted.map(i => i.id)")}
    assert shown_ids - {100} <= set(range(1, 21))
    wall.assert_clean()


@pytest.mark.parametrize("layout", ["grid", "spotlight", "ticker"])
def test_a_pinned_post_is_marked_on_every_layout(wall_server, publisher, open_page, layout,
                                                 artefact):
    publisher.publish(x_post(1, text="Doors open at 9:00, room A"), x_post(2, text="other"))
    publisher.state.moderation.act("test", "pin", "x:1")
    wall = open_projector(open_page, wall_server, f"?layout={layout}")
    pin = wall.page.wait_for_selector('[data-wall-pinned] article.pinned[data-id="1"]')
    assert pin.is_visible()
    marker = wall.page.locator('[data-wall-pinned] article[data-id="1"] .wall-pin-marker')
    assert marker.is_visible() and marker.text_content() == "Pinned"
    wall.page.screenshot(path=str(artefact(f"projector-pinned-{layout}.png")))
    publisher.state.moderation.act("test", "unpin", "x:1")
    wall.page.wait_for_selector("[data-wall-pinned]", state="hidden")
    wall.assert_clean()


@pytest.mark.parametrize(("path", "scheme"), [
    ("/", "light"), ("/twitsocket/wall?theme=dark", "light"),
    ("/twitsocket/wall?theme=light", "dark"), ("/twitsocket/wall?layout=spotlight", "dark"),
    ("/twitsocket/wall?layout=ticker&theme=light", "light")])
def test_axe_finds_no_contrast_or_aria_violation(wall_server, publisher, open_page, path,
                                                  scheme):
    publisher.publish(*[x_post(i, text=f"Readable from the back #{i} https://example.org/"
                                       "a/very/long/path/that/goes/on",
                               username=f"speaker_{i}", name=f"Speaker {i}")
                        for i in range(1, 8)])
    publisher.state.moderation.act("test", "pin", "x:1")
    wall = open_page(wall_server.url + path, color_scheme=scheme, viewport=HD)
    wall.wait_for_state("live")
    wall.page.wait_for_timeout(1000)  # arrival fades finished: axe sees the settled page
    violations = [v for v in axe_violations(wall.page)
                  if v["id"] == "color-contrast" or v["id"].startswith("aria")]
    assert violations == []
    wall.assert_clean()


def test_the_projector_is_not_a_live_region_and_speaks_the_lang_parameter(
        wall_server, publisher, open_page):
    wall = open_page(f"{wall_server.url}/twitsocket/wall?lang=fr", locale="de-DE", viewport=HD)
    wall.wait_for_state("live")
    publisher.publish(x_post(1, text="bonjour"))
    wall.page.wait_for_selector('#tweets article[data-id="1"]')
    live = wall.page.eval_on_selector_all(
        "[aria-live]", "nodes => nodes.map(n => n.dataset.twitsocketStatusBadge !== undefined)")
    assert live == [True]  # only the connection badge
    assert wall.page.get_attribute("html", "lang") == "fr"
    assert wall.page.text_content(".wall-top-title") == "Les plus actifs"
    wall.assert_clean()


SCREENSHOTS = os.environ.get("TWITSOCKET_SCREENSHOTS_DIR")
SIZES = {"1080p": {"width": 1920, "height": 1080}, "4k": {"width": 3840, "height": 2160}}


@pytest.mark.parametrize("layout", ["grid", "spotlight", "ticker"])
def test_every_layout_and_theme_fits_the_screen_from_1080p_to_4k(
        wall_server, publisher, open_page, artefact, layout):
    """Also the screenshots of docs/screenshots (`make screenshots` sets the directory)."""
    from test_browser_wall import sample_posts

    publisher.publish(*sample_posts())
    publisher.state.moderation.act("test", "pin", "x:4")
    for theme in ("dark", "light"):
        for size, viewport in SIZES.items():
            wall = open_page(f"{wall_server.url}/twitsocket/wall?layout={layout}&theme={theme}",
                             viewport=viewport)
            wall.wait_for_state("live")
            wall.page.wait_for_selector("#tweets article[data-seq]")
            wall.page.wait_for_timeout(1200)  # fades and the first rotation settle
            scroll = wall.page.evaluate("document.documentElement.scrollHeight - innerHeight")
            assert scroll <= 0, (layout, theme, size)  # a projector never scrolls
            name = f"projector-{layout}-{theme}-{size}.jpg"
            target = Path(SCREENSHOTS) / name if SCREENSHOTS else artefact(name)
            wall.page.screenshot(path=str(target), type="jpeg", quality=82)
            wall.assert_clean()
            wall.page.context.close()
