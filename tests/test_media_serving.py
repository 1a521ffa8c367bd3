"""How the media proxy sends a cached image: ``send_file`` by default (ETag, ``304``,
``Range``), an ``X-Accel-Redirect`` to nginx's internal location with
``TWITSOCKET_MEDIA_ACCEL_REDIRECT``; one fetch for many simultaneous requests; and no
request or hostile URL can name a file outside the cache."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timezone

import pytest
from conftest import fresh_app
from fake_cdn import PNG, FakeCDN
from flask import Flask
from moderation_helpers import MODERATED, Console
from test_media_proxy import photo, store_post, use_fetcher

from flask_twitsocket import ConfigError, TwitSocket
from flask_twitsocket.shapes import Author, PostData
from flask_twitsocket.web.media_fetch import MediaFetcher

CACHED_NAME = re.compile(r"[0-9a-f]{64}\.(jpg|png|webp|gif|avif)")
ACCEL = "/_twitsocket_media/"


@pytest.fixture
def cdn():
    server = FakeCDN()
    yield server
    server.gate.set()
    server.close()


@pytest.fixture
def accel_app(database_url):
    app = fresh_app(database_url, TWITSOCKET_MEDIA_ACCEL_REDIRECT=ACCEL)
    yield app
    app.extensions["twitsocket"].hub.stop()
    app.extensions["twitsocket"].engine.dispose()


def test_without_nginx_the_worker_sends_the_file_with_an_etag_and_answers_304(app, cdn,
                                                                              tmp_path):
    use_fetcher(app, tmp_path, cdn)
    seq = store_post(app, [photo(cdn.url("/photo.png"))])
    client = app.test_client()
    first = client.get(f"/twitsocket/media/{seq}/m0")
    assert first.status_code == 200 and first.data == PNG
    assert first.mimetype == "image/png"
    assert "X-Accel-Redirect" not in first.headers
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    assert "sandbox" in first.headers["Content-Security-Policy"]
    etag = first.headers["ETag"]
    again = client.get(f"/twitsocket/media/{seq}/m0", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    part = client.get(f"/twitsocket/media/{seq}/m0", headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == PNG[:8]
    assert cdn.requests == ["/photo.png"]  # fetched once, then from the cache


def test_behind_nginx_the_answer_names_the_cached_file_for_nginx_to_send(accel_app, cdn,
                                                                         tmp_path):
    fetcher = use_fetcher(accel_app, tmp_path, cdn)
    seq = store_post(accel_app, [photo(cdn.url("/photo.png"))])
    client = accel_app.test_client()
    response = client.get(f"/twitsocket/media/{seq}/m0")
    assert response.status_code == 200 and response.data == b""
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    target = response.headers["X-Accel-Redirect"]
    assert target.startswith(ACCEL) and CACHED_NAME.fullmatch(target[len(ACCEL):])
    assert (fetcher.cache_dir / target[len(ACCEL):]).read_bytes() == PNG
    cdn.close()  # the CDN is gone: the second phone still gets the cached file
    assert client.get(f"/twitsocket/media/{seq}/m0").headers["X-Accel-Redirect"] == target
    assert cdn.requests == ["/photo.png"]


def test_without_a_usable_cache_the_worker_sends_the_image_itself(accel_app, cdn, tmp_path):
    """A cache directory that cannot be written (here: a file is in the way): the image
    is served from memory, even behind nginx, and fetched again next time."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    accel_app.extensions["twitsocket_media"] = MediaFetcher(
        blocked, 1 << 20, trusted_origins={cdn.origin})
    seq = store_post(accel_app, [photo(cdn.url("/photo.png"))])
    for _ in range(2):
        response = accel_app.test_client().get(f"/twitsocket/media/{seq}/m0")
        assert (response.status_code, response.data) == (200, PNG)
        assert "X-Accel-Redirect" not in response.headers
    assert cdn.requests == ["/photo.png"] * 2


def test_a_top_rank_avatar_is_asked_for_again_soon(app, cdn, tmp_path):
    use_fetcher(app, tmp_path, cdn)
    state = app.extensions["twitsocket"]
    author = Author(id="7", username="bob@wall.example", avatar_url=cdn.url("/photo.png"))
    state.store.apply([PostData(network="mastodon", post_id="1", author=author, text="Hi",
                                created_at=datetime.now(timezone.utc))])
    state.store.refresh_top()
    response = app.test_client().get("/twitsocket/media/top/1")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Cache-Control"] == "public, max-age=60"  # not for a day


def test_phones_asking_at_once_for_a_new_photo_share_one_fetch(app, cdn, tmp_path):
    fetcher = MediaFetcher(tmp_path / "cache", 1 << 20, trusted_origins={cdn.origin})
    app.extensions["twitsocket_media"] = fetcher
    seq = store_post(app, [photo(cdn.url("/photo.png"))])
    arrived = threading.Semaphore(0)
    app.before_request(arrived.release)
    phones = 8
    answers: list[tuple[int, bytes]] = []

    def phone() -> None:
        response = app.test_client().get(f"/twitsocket/media/{seq}/m0")
        answers.append((response.status_code, response.data))

    cdn.gate.clear()  # the CDN holds the first fetch while the other phones ask
    threads = [threading.Thread(target=phone) for _ in range(phones)]
    for thread in threads:
        thread.start()
    for _ in range(phones):
        assert arrived.acquire(timeout=30)
    time.sleep(0.3)  # let them reach the cache lookup (without sharing: each would fetch)
    cdn.gate.set()
    for thread in threads:
        thread.join(30)
    assert answers == [(200, PNG)] * phones
    assert cdn.requests == ["/photo.png"]


def test_a_refused_fetch_is_refused_to_every_phone_waiting_for_it(app, cdn, tmp_path):
    use_fetcher(app, tmp_path, cdn)
    seq = store_post(app, [photo(cdn.url("/status/404"))])
    client = app.test_client()
    assert client.get(f"/twitsocket/media/{seq}/m0").status_code == 502
    assert client.get(f"/twitsocket/media/{seq}/m0").status_code == 502
    assert cdn.requests == ["/status/404"] * 2  # a refusal is not cached: asked again


def test_a_post_a_moderator_hides_has_its_image_refused_at_once(database_url, cdn, tmp_path):
    """Whatever the cache holds: the proxy asks the store on every request (nginx's 10 s
    copy in front of it is the only delay, see docs/deployment.md)."""
    app = fresh_app(database_url, **MODERATED)
    use_fetcher(app, tmp_path, cdn)
    seq = store_post(app, [photo(cdn.url("/photo.png"))])
    client = app.test_client()
    assert client.get(f"/twitsocket/media/{seq}/m0").status_code == 200
    post = app.extensions["twitsocket"].store.recent(1)[0]
    Console(app.test_client()).open().act("hide", f"{post['network']}:{post['id']}")
    assert client.get(f"/twitsocket/media/{seq}/m0").status_code == 404
    app.extensions["twitsocket"].engine.dispose()


@pytest.mark.parametrize("path", [
    "/twitsocket/media/{seq}/..%2F..%2F..%2Fetc%2Fpasswd",
    "/twitsocket/media/{seq}/../../../etc/passwd",
    "/twitsocket/media/{seq}/m0%00.png",
    "/twitsocket/media/{seq}/%2Fetc%2Fpasswd",
    "/twitsocket/media/top/..%2F..%2Fetc%2Fpasswd",
    "/twitsocket/media/..%2F{seq}/m0",
])
def test_a_path_in_the_request_never_names_a_file(accel_app, cdn, tmp_path, path):
    use_fetcher(accel_app, tmp_path, cdn)
    seq = store_post(accel_app, [photo(cdn.url("/photo.png"))])
    response = accel_app.test_client().get(path.format(seq=seq))
    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response.headers
    assert cdn.requests == []


@pytest.mark.parametrize("hostile", ["/photo.png?/../../../../etc/passwd",
                                     "/photo.png?%0d%0aX-Accel-Redirect:%20/etc/passwd",
                                     "/photo.png#/../../cache/../x"])
def test_a_hostile_url_in_a_post_is_cached_under_its_hash_inside_the_cache(
        accel_app, cdn, tmp_path, hostile):
    fetcher = use_fetcher(accel_app, tmp_path, cdn)
    seq = store_post(accel_app, [photo(cdn.url(hostile))])
    response = accel_app.test_client().get(f"/twitsocket/media/{seq}/m0")
    assert response.status_code == 200
    target = response.headers["X-Accel-Redirect"]
    assert CACHED_NAME.fullmatch(target[len(ACCEL):]), target
    assert [path.name for path in fetcher.cache_dir.iterdir()] == [target[len(ACCEL):]]
    written = [path for path in tmp_path.rglob("*") if path.parent != fetcher.cache_dir
               and path != fetcher.cache_dir and not path.name.startswith("wall.sqlite3")]
    assert written == []  # nothing outside the cache (the database aside)


@pytest.mark.parametrize("value", ["_twitsocket_media/", "/media files/",
                                   "/m\r\nSet-Cookie: a=b", "/a/../etc/", 5])
def test_a_bad_internal_location_stops_start_up(tmp_path, value):
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/a.db",
                      TWITSOCKET_MEDIA_ACCEL_REDIRECT=value)
    with pytest.raises(ConfigError) as error:
        TwitSocket(app)
    assert error.value.key == "TWITSOCKET_MEDIA_ACCEL_REDIRECT"


def test_the_internal_location_gets_its_trailing_slash(tmp_path):
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/a.db",
                      TWITSOCKET_MEDIA_ACCEL_REDIRECT="/_media")
    assert TwitSocket(app).state(app).settings["MEDIA_ACCEL_REDIRECT"] == "/_media/"
