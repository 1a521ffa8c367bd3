"""Several walls in real Chromium: two projector pages of different walls side by side,
each showing only its own posts, live, with its own title (the demo site under gunicorn,
posts published through the real pipeline)."""

from __future__ import annotations

import json

import pytest
from browser import TIMEOUT_MS, Publisher
from conftest import x_post

pytest_plugins = ["browser"]  # chromium, wall_server, open_page

WALLS = {"room-a": {"title": "Room A", "track_keywords": ["#python"]},
         "room-b": {"title": "Room B", "track_keywords": ["#rust"], "accent": "#d0006f"}}
HALF_HD = {"width": 960, "height": 1080}
SHOWN = "() => [...document.querySelectorAll('#tweets > article[data-id]')]" \
        ".map(n => n.dataset.id).sort().join(',')"


@pytest.fixture
def wall_env() -> dict[str, str]:
    return {"TWITSOCKET_WALLS": json.dumps(WALLS), "TWITSOCKET_WALL_MIN_DWELL": "1"}


def projectors_showing_post_1(wall_server, open_page):
    """Room A's and room B's projectors side by side, live, each showing post 1."""
    left = open_page(f"{wall_server.url}/twitsocket/w/room-a/wall", viewport=HALF_HD)
    right = open_page(f"{wall_server.url}/twitsocket/w/room-b/wall", viewport=HALF_HD)
    for wall in (left, right):
        wall.wait_for_state("live")
        wall.page.wait_for_function(f"() => ({SHOWN})() === '1'", timeout=TIMEOUT_MS)
    return left, right


def test_two_projectors_of_different_walls_each_show_only_their_posts(
        wall_server, database_url, open_page, monkeypatch, artefact):
    monkeypatch.setenv("TWITSOCKET_WALLS", json.dumps(WALLS))  # the publisher routes too
    publisher = Publisher(database_url)
    left = open_page(f"{wall_server.url}/twitsocket/w/room-a/wall", viewport=HALF_HD)
    right = open_page(f"{wall_server.url}/twitsocket/w/room-b/wall", viewport=HALF_HD)
    for wall in (left, right):
        wall.wait_for_state("live")
    assert left.page.text_content(".wall-empty-title") == "Room A"
    assert right.page.text_content(".wall-empty-title") == "Room B"
    assert right.page.get_attribute("html", "data-accent") == "#d0006f"

    publisher.publish(x_post(1, text="Typing talk #python"), x_post(2, text="Async #rust"),
                      x_post(3, text="#python or #rust?"), x_post(4, text="#devconf26 only"))
    left.page.wait_for_function(f"() => ({SHOWN})() === '1,3'", timeout=TIMEOUT_MS)
    right.page.wait_for_function(f"() => ({SHOWN})() === '2,3'", timeout=TIMEOUT_MS)
    assert left.page.text_content("[data-twitsocket-count]").strip() == "2"
    publisher.publish(x_post(5, text="Last one #rust"))
    publisher.publish(x_post(6, text="Last one #python"))
    right.page.wait_for_function(f"() => ({SHOWN})() === '2,3,5'", timeout=TIMEOUT_MS)
    # one socket delivers in journal order: had room-a been sent 5, it would show it by 6
    left.page.wait_for_function(f"() => ({SHOWN})() === '1,3,6'", timeout=TIMEOUT_MS)
    left.page.screenshot(path=str(artefact("wall-room-a.png")))
    right.page.screenshot(path=str(artefact("wall-room-b.png")))
    for wall in (left, right):
        wall.assert_clean()
    publisher.state.engine.dispose()


def test_the_console_hides_a_post_on_the_wall_it_switched_to(
        wall_server, database_url, open_page, monkeypatch):
    monkeypatch.setenv("TWITSOCKET_WALLS", json.dumps(WALLS))
    publisher = Publisher(database_url)
    publisher.publish(x_post(1, text="#python or #rust?"))
    left, right = projectors_showing_post_1(wall_server, open_page)
    console = open_page(f"{wall_server.url}/twitsocket/moderate")
    page = console.page
    page.fill("input[name=password]", "demo")  # the demo site's console password
    page.click("form button[type=submit]")
    page.wait_for_selector('[data-status][data-state="live"]', timeout=TIMEOUT_MS)
    page.wait_for_selector("[data-wall-switcher]:not([hidden])", timeout=TIMEOUT_MS)
    assert page.eval_on_selector_all("[data-wall-select] option", "os => os.map(o => o.text)") \
        == ["All walls", "main", "Room A", "Room B"]
    page.select_option("[data-wall-select]", "room-a")
    page.click('[data-posts] li[data-key="x:1"] button[data-action="hide"]')
    left.page.wait_for_function(f"() => ({SHOWN})() === ''", timeout=TIMEOUT_MS)
    publisher.publish(x_post(2, text="#rust after the hide"))  # room-b still shows x:1
    right.page.wait_for_function(f"() => ({SHOWN})() === '1,2'", timeout=TIMEOUT_MS)
    for each in (left, right, console):
        each.assert_clean()
    publisher.state.engine.dispose()


def test_a_post_shown_again_on_a_wall_while_its_projector_was_cut_off_comes_back(
        wall_server, database_url, open_page, monkeypatch):
    """Shown again on room-a only, post 1 keeps the seq room-b shows it under; room-a's
    projector, away at that moment, gets it from its catch-up (`missed`)."""
    monkeypatch.setenv("TWITSOCKET_WALLS", json.dumps(WALLS))
    publisher = Publisher(database_url)
    publisher.publish(x_post(1, text="#python one"), x_post(2, text="#python two"))
    publisher.state.moderation.act("test", "hide", "x:1", wall="room-a")
    wall = open_page(f"{wall_server.url}/twitsocket/w/room-a/wall", viewport=HALF_HD)
    wall.wait_for_state("live", "websocket")
    wall.page.wait_for_function(f"() => ({SHOWN})() === '2'", timeout=TIMEOUT_MS)
    wall_server.kill()  # the message showing post 1 again goes to nobody
    wall.wait_for_state("reconnecting")
    publisher.state.moderation.act("test", "unhide", "x:1", wall="room-a")
    wall_server.start()
    wall.wait_for_state("live", "websocket")
    # as a post of its own, not re-shown by the shuffle of earlier posts after a silence
    wall.page.wait_for_selector('#tweets > article[data-id="1"]:not(.earlier)',
                                timeout=TIMEOUT_MS)
    wall.assert_clean()
    publisher.state.engine.dispose()


def test_the_console_creates_edits_and_archives_a_wall(
        wall_server, database_url, open_page, monkeypatch):
    monkeypatch.setenv("TWITSOCKET_WALLS", json.dumps(WALLS))
    publisher = Publisher(database_url)  # the stream: it sees the console's walls
    console = open_page(f"{wall_server.url}/twitsocket/moderate")
    page = console.page
    page.fill("input[name=password]", "demo")
    page.click("form button[type=submit]")
    page.wait_for_selector('[data-status][data-state="live"]', timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-wall-item="room-b"]', timeout=TIMEOUT_MS)

    page.fill("#wall-slug", "room-c")
    page.fill("#wall-title", "Room C <Go>")
    page.fill("#wall-keywords", "#golang, gopher")
    page.select_option("#wall-layout", "spotlight")
    page.click("[data-wall-save]")
    page.wait_for_selector('[data-wall-item="room-c"]', timeout=TIMEOUT_MS)
    assert page.text_content('[data-wall-item="room-c"] .name') == "Room C <Go>"
    assert page.text_content("[data-wall-notice]") == "Created room-c."

    page.fill("#wall-slug", "room-d")
    page.fill("#wall-keywords", "machine learning")  # a phrase must be quoted: refused
    page.click("[data-wall-save]")
    page.wait_for_selector("[data-wall-notice].error", timeout=TIMEOUT_MS)
    assert "'room-d'.track_keywords" in page.text_content("[data-wall-notice]")
    assert page.locator('[data-wall-item="room-d"]').count() == 0

    page.click('[data-wall-edit="room-c"]')
    assert page.input_value("#wall-keywords") == "#golang, gopher"
    assert page.input_value("#wall-layout") == "spotlight"
    page.fill("#wall-keywords", "#golang, #gophercon")
    page.click("[data-wall-save]")
    page.wait_for_function("() => document.querySelector('[data-wall-item=\"room-c\"] .text')"
                           ".textContent.includes('#gophercon')", timeout=TIMEOUT_MS)

    publisher.state.refresh_walls(force=True)  # what the stream's chores do every 2 s
    projector = open_page(f"{wall_server.url}/twitsocket/w/room-c/wall", viewport=HALF_HD)
    projector.wait_for_state("live")
    publisher.publish(x_post(1, text="Hello #gophercon"), x_post(2, text="#python only"))
    projector.page.wait_for_function(f"() => ({SHOWN})() === '1'", timeout=TIMEOUT_MS)

    page.click('[data-wall-archive="room-c"]')   # first click asks,
    page.click('[data-wall-archive="room-c"]')   # the second archives
    page.wait_for_selector('[data-wall-item="room-c"].archived', timeout=TIMEOUT_MS)
    ended = projector.page.goto(f"{wall_server.url}/twitsocket/w/room-c/wall")
    assert ended.status == 410
    assert projector.page.text_content("[data-wall-ended]") == "This wall has ended."
    page.wait_for_selector("[data-log] li:has-text('archive-wall')", timeout=TIMEOUT_MS)
    entry = page.locator("[data-log] li", has_text="archive-wall")
    assert entry.count() == 1 and entry.locator("button").count() == 0
    for each in (console, projector):
        each.assert_clean()
    publisher.state.engine.dispose()


@pytest.mark.parametrize("wall_env", [{"TWITSOCKET_WALLS": json.dumps(WALLS),
                                       "TWITSOCKET_MODERATION": "pre"}])
def test_the_console_shows_every_queue_together_or_one_walls(
        wall_server, database_url, open_page, monkeypatch):
    monkeypatch.setenv("TWITSOCKET_WALLS", json.dumps(WALLS))
    monkeypatch.setenv("TWITSOCKET_MODERATION", "pre")  # the publisher holds them too
    publisher = Publisher(database_url)
    publisher.publish(x_post(1, text="#python talk"), x_post(2, text="#rust talk"),
                      x_post(3, text="#devconf26 lunch"))
    console = open_page(f"{wall_server.url}/twitsocket/moderate")
    page = console.page
    page.fill("input[name=password]", "demo")
    page.click("form button[type=submit]")
    page.wait_for_selector('[data-status][data-state="live"]', timeout=TIMEOUT_MS)
    queued = "() => [...document.querySelectorAll('[data-queue] li[data-key]')]" \
             ".map(n => n.dataset.key).sort().join(',')"
    page.wait_for_function(f"() => ({queued})() === 'x:1,x:2,x:3'", timeout=TIMEOUT_MS)
    assert page.get_attribute('[data-queue] li[data-key="x:2"] [data-walls]',
                              "data-walls") == "main room-b"
    page.select_option("[data-wall-select]", "room-a")
    page.wait_for_function(f"() => ({queued})() === 'x:1'", timeout=TIMEOUT_MS)
    page.select_option("[data-wall-select]", "")
    page.wait_for_function(f"() => ({queued})() === 'x:1,x:2,x:3'", timeout=TIMEOUT_MS)
    console.assert_clean()
    publisher.state.engine.dispose()


def test_a_ban_made_with_a_wall_chosen_is_that_walls_own(
        wall_server, database_url, open_page, monkeypatch):
    monkeypatch.setenv("TWITSOCKET_WALLS", json.dumps(WALLS))
    publisher = Publisher(database_url)
    publisher.publish(x_post(1, text="#python or #rust?", username="alice", user_id="5"))
    left, right = projectors_showing_post_1(wall_server, open_page)
    console = open_page(f"{wall_server.url}/twitsocket/moderate")
    page = console.page
    page.fill("input[name=password]", "demo")
    page.click("form button[type=submit]")
    page.wait_for_selector("[data-wall-switcher]:not([hidden])", timeout=TIMEOUT_MS)
    page.select_option("[data-wall-select]", "room-b")
    page.fill("#ban-entry", "@alice")
    page.click("form[data-rule=ban] button")
    right.page.wait_for_function(f"() => ({SHOWN})() === ''", timeout=TIMEOUT_MS)
    publisher.state.refresh_walls(force=True)  # the stream's chore
    publisher.publish(x_post(2, text="#rust again", username="alice", user_id="5"),
                      x_post(3, text="#python too", username="alice", user_id="5"))
    publisher.publish(x_post(4, text="#rust by bob", username="bob", user_id="6"))
    left.page.wait_for_function(f"() => ({SHOWN})() === '1,3'", timeout=TIMEOUT_MS)
    # one socket delivers in journal order: had room-b been sent 2, it would show it by 4
    right.page.wait_for_function(f"() => ({SHOWN})() === '4'", timeout=TIMEOUT_MS)
    page.reload()
    page.wait_for_selector('[data-wall-item="room-b"] [data-wall-bans]', timeout=TIMEOUT_MS)
    assert page.text_content('[data-wall-item="room-b"] [data-wall-bans]') == \
        "Banned here: alice"
    for each in (left, right, console):
        each.assert_clean()
    publisher.state.engine.dispose()


#: The site (and so main) pre-moderates; room B shows posts at once.
PRE_A = {**WALLS, "room-b": {**WALLS["room-b"], "moderation": "post"}}
PINNED = "() => [...document.querySelectorAll('[data-wall-pinned] article[data-id]')]" \
         ".map(n => n.dataset.id).join(',')"


@pytest.mark.parametrize("wall_env", [{"TWITSOCKET_WALLS": json.dumps(PRE_A),
                                       "TWITSOCKET_MODERATION": "pre",
                                       "TWITSOCKET_WALL_MIN_DWELL": "1"}])
def test_the_console_approves_and_pins_on_the_wall_it_switched_to(
        wall_server, database_url, open_page, monkeypatch):
    """Room A (and main) pre-moderate: a post for both rooms is up on room B at once and
    on room A once approved there (main still waits); a pin made with room A chosen is on
    room A's projector only."""
    monkeypatch.setenv("TWITSOCKET_WALLS", json.dumps(PRE_A))
    monkeypatch.setenv("TWITSOCKET_MODERATION", "pre")  # the publisher holds them too
    publisher = Publisher(database_url)
    left = open_page(f"{wall_server.url}/twitsocket/w/room-a/wall", viewport=HALF_HD)
    right = open_page(f"{wall_server.url}/twitsocket/w/room-b/wall", viewport=HALF_HD)
    for wall in (left, right):
        wall.wait_for_state("live")
    publisher.publish(x_post(1, text="#python or #rust?"))
    right.page.wait_for_function(f"() => ({SHOWN})() === '1'", timeout=TIMEOUT_MS)
    console = open_page(f"{wall_server.url}/twitsocket/moderate")
    page = console.page
    page.fill("input[name=password]", "demo")
    page.click("form button[type=submit]")
    page.wait_for_selector('[data-status][data-state="live"]', timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-queue] li[data-key="x:1"] [data-walls="main room-a"]',
                           timeout=TIMEOUT_MS)
    assert left.page.evaluate(SHOWN) == ""
    page.select_option("[data-wall-select]", "room-a")
    page.click('[data-queue] li[data-key="x:1"] button[data-action="approve"]')
    left.page.wait_for_function(f"() => ({SHOWN})() === '1'", timeout=TIMEOUT_MS)
    page.select_option("[data-wall-select]", "")  # every wall's queue: main still waits
    page.wait_for_selector('[data-queue] li[data-key="x:1"] [data-walls="main"]',
                           timeout=TIMEOUT_MS)
    page.select_option("[data-wall-select]", "room-a")
    page.click('[data-posts] li[data-key="x:1"] button[data-action="pin"]')
    left.page.wait_for_function(f"() => ({PINNED})() === '1'", timeout=TIMEOUT_MS)
    publisher.publish(x_post(2, text="#rust after the pin"))
    right.page.wait_for_function(f"() => ({SHOWN})().endsWith('2')", timeout=TIMEOUT_MS)
    assert right.page.evaluate(PINNED) == ""  # room-b got 2 after the pin, not the pin
    page.select_option("[data-wall-select]", "")  # unpin names the pin's own wall
    page.click('[data-posts] li[data-key="x:1"] button[data-action="unpin"]')
    left.page.wait_for_function(f"() => ({PINNED})() === ''", timeout=TIMEOUT_MS)
    for each in (left, right, console):
        each.assert_clean()
    publisher.state.engine.dispose()
