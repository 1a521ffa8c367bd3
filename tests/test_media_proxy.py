"""``<prefix>/media/<seq>/<part>``: the media proxy against a local fake CDN that misbehaves
(slow, endless, not an image, redirecting into the wall's own network), its disk cache,
and the pages' image addresses with the proxy on and off."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fake_cdn import PNG, FakeCDN

from flask_twitsocket.shapes import Author, PostData
from flask_twitsocket.web.media_fetch import MediaFetcher


@pytest.fixture
def cdn():
    inside = FakeCDN()  # "the wall's own network": another port of 127.0.0.1
    outside = FakeCDN(target=inside.url("/photo.png"))
    yield outside, inside
    outside.close()
    inside.close()


def photo(url: str, alt: str = "") -> dict[str, Any]:
    return {"type": "photo", "url": url, "preview_url": url, "alt": alt, "width": 4,
            "height": 3}


def store_post(app, media: list[dict[str, Any]], **extra: Any) -> str:
    """Store a post naming ``media``; its seq (the proxy's key)."""
    state = app.extensions["twitsocket"]
    post = PostData(network="mastodon", post_id=str(len(state.store.recent(100)) + 1),
                    author=Author(id="1", username="alice@wall.example", name="Alice"),
                    text="Look", created_at=datetime.now(timezone.utc), media=media, **extra)
    state.store.apply([post])
    return state.store.recent(1)[0]["seq"]


def use_fetcher(app, tmp_path: Path, cdn: FakeCDN, cache_bytes: int = 1 << 20) -> MediaFetcher:
    fetcher = MediaFetcher(tmp_path / "cache", cache_bytes, trusted_origins={cdn.origin},
                           deadline=1.5, max_bytes=200_000)
    app.extensions["twitsocket_media"] = fetcher
    return fetcher


def test_the_proxy_serves_a_stored_photo_and_keeps_it_when_the_cdn_is_down(app, cdn,
                                                                           tmp_path):
    outside, _ = cdn
    use_fetcher(app, tmp_path, outside)
    seq = store_post(app, [photo(outside.url("/photo.png"), alt="A red square")])
    client = app.test_client()
    response = client.get(f"/twitsocket/media/{seq}/m0")
    assert response.status_code == 200 and response.data == PNG
    assert response.mimetype == "image/png"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    outside.close()  # the CDN has a hiccup: the projector keeps its photo
    assert client.get(f"/twitsocket/media/{seq}/m0").data == PNG
    assert outside.requests == ["/photo.png"]


@pytest.mark.parametrize("path", ["/slow.png", "/huge.png", "/page.html", "/status/500"])
def test_slow_endless_non_image_and_failing_answers_are_refused(app, cdn, tmp_path, path):
    outside, _ = cdn
    use_fetcher(app, tmp_path, outside)
    seq = store_post(app, [photo(outside.url(path))])
    assert app.test_client().get(f"/twitsocket/media/{seq}/m0").status_code == 502
    assert outside.requests == [path]


def test_a_redirect_into_the_walls_own_network_is_not_followed(app, cdn, tmp_path):
    outside, inside = cdn
    use_fetcher(app, tmp_path, outside)
    seq = store_post(app, [photo(outside.url("/redirect"))])
    assert app.test_client().get(f"/twitsocket/media/{seq}/m0").status_code == 502
    assert outside.requests == ["/redirect"] and inside.requests == []


def test_only_urls_a_stored_post_names_are_fetched(app, cdn, tmp_path):
    outside, _ = cdn
    use_fetcher(app, tmp_path, outside)
    seq = store_post(app, [photo(outside.url("/photo.png"))])
    client = app.test_client()
    for path in (f"/twitsocket/media/{seq}/m1", f"/twitsocket/media/{seq}/c",
                 f"/twitsocket/media/{seq}/x0", "/twitsocket/media/999/m0",
                 f"/twitsocket/media/{seq}/m0?url={outside.url('/page.html')}"):
        if "?url=" in path:
            assert client.get(path).data == PNG  # the parameter is ignored
        else:
            assert client.get(path).status_code == 404, path
    assert "/page.html" not in outside.requests


def test_a_public_url_is_refused_when_it_resolves_to_a_private_address(tmp_path):
    from flask_twitsocket.web.media_fetch import Refused

    fetcher = MediaFetcher(tmp_path, 1 << 20)
    for url in ("https://127.0.0.1/a.png", "https://localhost/a.png", "https://10.0.0.1/x.png",
                "http://example.org/a.png", "https://[::1]/a.png"):
        with pytest.raises(Refused):
            fetcher.get(url)


def test_the_disk_cache_stays_within_its_bound(app, cdn, tmp_path):
    outside, _ = cdn
    fetcher = use_fetcher(app, tmp_path, outside, cache_bytes=3 * (len(PNG) + 20))
    seqs = [store_post(app, [photo(outside.url(f"/photo.png?{n}"))]) for n in range(8)]
    for seq in seqs:
        assert app.test_client().get(f"/twitsocket/media/{seq}/m0").status_code == 200
    cached = sum(path.stat().st_size for path in fetcher.cache_dir.iterdir())
    assert 0 < cached <= fetcher.cache_bytes


def test_pages_load_images_through_the_proxy_with_their_alt_text(app, cdn, tmp_path):
    outside, _ = cdn
    seq = store_post(app, [photo(outside.url("/photo.png"), alt="The keynote stage")],
                     card={"url": "https://devconf.example/", "title": "DevConf",
                           "description": "", "image": outside.url("/photo.png")})
    html = app.test_client().get("/twitsocket/wall").get_data(as_text=True)
    assert f'src="/twitsocket/media/{seq}/m0" alt="The keynote stage"' in html
    assert f'src="/twitsocket/media/{seq}/c"' in html
    assert outside.origin not in html  # no image from another origin


def test_without_the_proxy_pages_hotlink_and_the_route_is_closed(database_url, cdn):
    from conftest import fresh_app

    outside, _ = cdn
    app = fresh_app(database_url, TWITSOCKET_MEDIA_PROXY=False)
    seq = store_post(app, [photo("https://cdn.example/p.png", alt="x")])
    client = app.test_client()
    response = client.get("/twitsocket/wall")
    assert 'src="https://cdn.example/p.png"' in response.get_data(as_text=True)
    assert re.search(r"img-src 'self' https:", response.headers["Content-Security-Policy"])
    assert client.get(f"/twitsocket/media/{seq}/m0").status_code == 404


def test_custom_emojis_are_images_through_the_proxy_with_the_shortcode_as_alt(app, cdn,
                                                                              tmp_path):
    outside, _ = cdn
    use_fetcher(app, tmp_path, outside)
    seq = store_post(app, [], html="So cute :blobaww: and :unknown:",
                     emojis=[{"shortcode": "blobaww", "url": outside.url("/photo.png")}])
    html = app.test_client().get("/twitsocket/wall").get_data(as_text=True)
    assert (f'So cute <img class="emoji" src="/twitsocket/media/{seq}/e0" alt=":blobaww:" '
            'title=":blobaww:"> and :unknown:') in html
    assert app.test_client().get(f"/twitsocket/media/{seq}/e0").data == PNG
