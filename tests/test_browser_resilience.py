"""Never freeze, never miss, in real headless Chromium: a server killed and restarted while
posts are published, and a websocket blocked on the way (the SSE fallback)."""

from __future__ import annotations

import pytest
from conftest import free_port, x_post

pytest_plugins = ["browser"]  # chromium, wall_server, publisher, open_page


def test_the_wall_recovers_from_a_server_crash_and_shows_every_missed_post_once(
        wall_server, publisher, open_page):
    publisher.publish(x_post(1, text="before"))
    wall = open_page(wall_server.url + "/")
    wall.wait_for_state("live", "websocket")
    wall.page.evaluate("window.__sameDocument = true")
    wall_server.kill()
    wall.wait_for_state("reconnecting")
    for i in range(2, 8):  # stored while the wall is cut off
        publisher.publish(x_post(i, text=f"missed {i}"))
    wall_server.start()
    wall.wait_for_state("live", "websocket")
    wall.wait_for_post(7)
    publisher.publish(x_post(8, text="after"))  # and the live feed works again
    wall.wait_for_post(8)
    wall.wait_for_count(8)
    assert wall.ids() == [str(i) for i in range(8, 0, -1)]  # once each, newest on top
    seqs = wall.seqs()
    assert seqs == sorted(set(seqs), reverse=True)
    assert wall.page.evaluate("window.__sameDocument") is True
    wall.assert_clean()


def test_a_dropped_websocket_is_noticed_and_reconnected(wall_server, publisher, open_page):
    """Twice in a row: the back-off starts over after each successful reconnect."""
    wall = open_page(wall_server.url + "/")
    wall.wait_for_state("live")
    for round_ in (1, 2):
        wall_server.kill()
        wall.wait_for_state("reconnecting")
        publisher.publish(x_post(round_, text=f"round {round_}"))
        wall_server.start()
        wall.wait_for_post(round_)
        wall.wait_for_state("live")
    assert wall.ids() == ["2", "1"]


@pytest.mark.parametrize("path", ["/", "/twitsocket/wall"], ids=["page", "projector"])
def test_a_post_deleted_while_the_wall_was_cut_off_goes_when_it_reconnects(
        wall_server, publisher, open_page, path):
    publisher.publish(x_post(1, text="stays"), x_post(2, text="deleted while offline"))
    wall = open_page(wall_server.url + path)
    wall.wait_for_state("live", "websocket")
    wall.wait_for_post(2)
    wall_server.kill()  # its delete message goes to nobody
    wall.wait_for_state("reconnecting")
    publisher.publish({"delete": {"status": {"id_str": "2"}}})
    wall_server.start()
    wall.wait_for_state("live", "websocket")
    wall.page.wait_for_selector('#tweets article[data-id="2"]', state="detached")
    wall.wait_for_post(1)
    assert wall.ids() == ["1"]
    wall.assert_clean()


def queued(wall) -> int:
    return int(wall.page.get_attribute("[data-wall-pacer]", "data-queued"))


QUEUE_AND_SCREEN = """n => Number(document.querySelector('[data-wall-pacer]').dataset.queued) +
                          document.querySelectorAll('#tweets article[data-id]').length === n"""


@pytest.mark.parametrize("wall_env", [{"TWITSOCKET_WALL_MIN_DWELL": "120"}], indirect=True)
def test_a_queued_post_deleted_while_the_projector_was_cut_off_leaves_its_queue(
        wall_server, publisher, open_page, wall_env):
    """Spotlight, two minutes a post: at most one on screen, the others wait in the
    projector's display queue, where the post deleted meanwhile must not stay."""
    wall = open_page(wall_server.url + "/twitsocket/wall?layout=spotlight")
    wall.wait_for_state("live", "websocket")
    publisher.publish(*[x_post(i, text=f"post {i}") for i in (1, 2, 3)])
    wall.page.wait_for_function(QUEUE_AND_SCREEN, arg=3)
    waiting = queued(wall)
    assert waiting >= 2
    wall_server.kill()
    wall.wait_for_state("reconnecting")
    publisher.publish({"delete": {"status": {"id_str": "3"}}})
    wall_server.start()
    wall.wait_for_state("live", "websocket")
    wall.page.wait_for_function(QUEUE_AND_SCREEN, arg=2)
    assert queued(wall) == waiting - 1 and "3" not in wall.ids()
    wall.assert_clean()


@pytest.fixture
def wall_env(request) -> dict[str, str]:
    return getattr(request, "param", {})


BLOCKED = {"TWITSOCKET_WEBSOCKET_URL": f"ws://127.0.0.1:{free_port()}/blocked-by-proxy"}


@pytest.mark.parametrize("wall_env", [BLOCKED, {"TWITSOCKET_FALLBACK": "always"}],
                         ids=["websocket-blocked", "fallback-always"], indirect=True)
def test_server_sent_events_deliver_when_the_websocket_cannot(
        wall_server, publisher, open_page, wall_env):
    publisher.publish(x_post(1, text="rendered"))
    wall = open_page(wall_server.url + "/")
    wall.wait_for_state("live", "sse")
    badge = wall.badge()
    assert "server-sent events" in badge["text"]
    for i in (2, 3, 4):
        publisher.publish(x_post(i, text=f"via SSE {i}"))
    wall.wait_for_post(4)
    wall.wait_for_count(4)
    publisher.publish({"delete": {"status": {"id_str": "3"}}})
    wall.page.wait_for_selector('#tweets article[data-id="3"]', state="detached")
    assert wall.ids() == ["4", "2", "1"]
    if wall_env.get("TWITSOCKET_FALLBACK") == "always":
        assert wall.websockets == []  # never even tried
    wall.assert_clean()


@pytest.mark.parametrize("wall_env", [{"TWITSOCKET_FALLBACK": "always"}], indirect=True)
def test_the_event_stream_also_recovers_from_a_crash(wall_server, publisher, open_page,
                                                     wall_env):
    publisher.publish(x_post(1, text="before"))
    wall = open_page(wall_server.url + "/")
    wall.wait_for_state("live", "sse")
    wall_server.kill()
    wall.wait_for_state("reconnecting", "sse")
    for i in (2, 3, 4):
        publisher.publish(x_post(i, text=f"missed {i}"))
    wall_server.start()
    wall.wait_for_post(4)
    wall.wait_for_state("live", "sse")
    assert wall.ids() == ["4", "3", "2", "1"]


@pytest.mark.parametrize("wall_env", [{**BLOCKED, "TWITSOCKET_FALLBACK": "never"}],
                         indirect=True)
def test_fallback_never_keeps_trying_the_websocket(wall_server, open_page, wall_env):
    wall = open_page(wall_server.url + "/")
    wall.wait_for_state("reconnecting", "websocket")
    wall.page.wait_for_timeout(3000)  # several failed attempts later...
    assert wall.badge()["transport"] == "websocket"
    assert wall.badge()["state"] in ("reconnecting", "offline")
