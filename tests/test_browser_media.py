"""Media in real headless Chromium (the demo site under gunicorn, its strict CSP with
``img-src 'self'``): a photo arriving live is loaded through the media proxy with its alt
text, a sensitive one stays blurred until a moderator reveals it in the console, and no
image is ever asked of another origin."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import x_post
from moderation_helpers import PASSWORD

pytest_plugins = ["browser"]  # chromium, wall_server, publisher, open_page, artefact

DEMO = "https://demo.twitsocket.invalid/"


@pytest.fixture
def wall_env() -> dict[str, str]:
    return {"TWITSOCKET_MODERATOR_PASSWORD": PASSWORD}


def photo_post(post_id: int, picture: str, alt: str, **data: Any) -> dict[str, Any]:
    event = x_post(post_id, text=f"Photo {post_id} #devconf26",
                   attachments={"media_keys": [f"3_{post_id}"]}, **data)
    event["includes"]["media"] = [{"media_key": f"3_{post_id}", "type": "photo",
                                   "url": DEMO + picture, "width": 480, "height": 270,
                                   "alt_text": alt}]
    return event


def loaded(wall: Any, selector: str) -> None:
    wall.page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && "
        "i.naturalWidth > 0; }", arg=selector)


def test_a_live_photo_comes_through_the_proxy_and_sensitive_media_waits_for_reveal(
        wall_server, publisher, open_page, artefact):
    wall = open_page(wall_server.url + "/twitsocket/wall?alt=1")
    wall.wait_for_state("live")
    publisher.publish(photo_post(1, "stage.png", "The main hall from the back"),
                      photo_post(2, "slides.png", "The surprise slide",
                                 possibly_sensitive=True))
    wall.wait_for_post(2)
    image = '#tweets article[data-id="1"] .media img'
    loaded(wall, image)
    assert wall.page.get_attribute(image, "alt") == "The main hall from the back"
    assert wall.page.get_attribute(image, "src").startswith("/twitsocket/media/")
    assert wall.page.is_visible('#tweets article[data-id="1"] .alt-text')  # ?alt=1

    blurred = '#tweets article[data-id="2"] .media img'
    loaded(wall, blurred)
    assert "blur" in wall.page.eval_on_selector(blurred, "i => getComputedStyle(i).filter")
    wall.page.screenshot(path=str(artefact("wall-media.png")))

    console = open_page(wall_server.url + "/twitsocket/moderate")
    console.page.fill("input[name=password]", PASSWORD)
    console.page.click("form button[type=submit]")
    reveal = '[data-posts] li[data-key="x:2"] button[data-action="reveal"]'
    console.page.wait_for_selector(reveal)
    assert console.page.get_attribute('[data-posts] li[data-key="x:2"] .media img',
                                      "alt") == "The surprise slide"
    console.page.click(reveal)
    wall.page.wait_for_function(
        "() => { const a = document.querySelector('#tweets article[data-id=\"2\"]'); "
        "return a && !a.classList.contains('sensitive'); }")
    loaded(wall, blurred)
    assert "blur" not in wall.page.eval_on_selector(blurred, "i => getComputedStyle(i).filter")

    assert wall.outside_requests == []  # every image from the wall's own host
    wall.assert_clean()
    console.assert_clean()
