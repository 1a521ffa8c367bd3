"""The media proxy behind the shipped ``deploy/nginx-twitsocket.conf``, run by a real nginx
(skipped without one): with ``TWITSOCKET_MEDIA_ACCEL_REDIRECT`` nginx sends the cached
file itself with the image's headers, and nobody can ask for its internal location;
without it, nginx's 10 s copy answers repeated requests without reaching the app."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import LiveServer, fresh_app
from fake_cdn import PNG, FakeCDN
from guides import DEPLOY
from test_media_proxy import photo, store_post, use_fetcher

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shipped_site(upstream: int, listen: int, cache: Path, work: Path) -> str:
    """The shipped site file on local ports and temporary directories, without TLS."""
    site = (DEPLOY / "nginx-twitsocket.conf").read_text()
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen};")
    site = re.sub(r"\n\s*ssl_certificate\S* [^;]+;", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    site = site.replace("server 127.0.0.1:8000 ", f"server 127.0.0.1:{upstream} ")
    site = site.replace("/var/lib/nginx/twitsocket-media", str(work / "nginx-cache"))
    assert "alias /var/cache/twitsocket/media/;" in site
    return site.replace("alias /var/cache/twitsocket/media/;", f"alias {cache}/;")


@pytest.fixture(params=["accel", "microcache"])
def behind_nginx(request, database_url, tmp_path):
    """(app, nginx's base URL, the CDN, the fetcher, the app's request count)."""
    accel = request.param == "accel"
    app = fresh_app(database_url, TWITSOCKET_MEDIA_ACCEL_REDIRECT="/_twitsocket_media/"
                    if accel else None)
    cdn = FakeCDN()
    fetcher = use_fetcher(app, tmp_path, cdn)
    seen: list[str] = []
    app.before_request(lambda: seen.append("request"))
    server = LiveServer(app)
    server.thread.start()
    work = tmp_path / "nginx"
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / name).mkdir(parents=True)
    listen = free_port()
    (work / "site.conf").write_text(shipped_site(server.port, listen, fetcher.cache_dir,
                                                 work))
    temp = "\n".join(f"    {kind}_temp_path {work / folder};" for kind, folder in (
        ("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"),
        ("uwsgi", "uwsgi"), ("scgi", "scgi")))
    (work / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # the test's files are private
        + f"daemon off;\npid {work}/nginx.pid;\nevents {{}}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    access_log off;\n{temp}\n"
        f"    include {work}/site.conf;\n}}\n")
    nginx = subprocess.Popen(["nginx", "-p", str(work), "-c", str(work / "nginx.conf"),
                              "-e", str(work / "error.log")])
    base = f"http://127.0.0.1:{listen}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/twitsocket/health/live", timeout=5).close()
            break
        except OSError:
            if time.monotonic() > deadline or nginx.poll() is not None:
                raise
            time.sleep(0.1)
    yield app, base, cdn, fetcher, seen
    nginx.terminate()
    nginx.wait(timeout=20)
    server.server.shutdown()
    cdn.close()
    app.extensions["twitsocket"].hub.stop()
    app.extensions["twitsocket"].engine.dispose()


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read(), dict(reply.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_phones_get_the_image_with_its_headers_and_never_the_internal_path(behind_nginx):
    app, base, cdn, fetcher, _ = behind_nginx
    seq = store_post(app, [photo(cdn.url("/photo.png"))])
    status, body, headers = get(f"{base}/twitsocket/media/{seq}/m0")
    assert (status, body) == (200, PNG)
    assert headers["Content-Type"] == "image/png"
    assert headers["Cache-Control"] == "public, max-age=86400"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Accel-Redirect" not in headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    [cached] = list(fetcher.cache_dir.iterdir())
    assert get(f"{base}/_twitsocket_media/{cached.name}")[0] == 404  # internal only
    assert cdn.requests == ["/photo.png"]


def test_repeated_requests_reach_the_app_every_time_only_with_x_accel(behind_nginx, request):
    app, base, cdn, _, seen = behind_nginx
    seq = store_post(app, [photo(cdn.url("/photo.png"))])
    for _ in range(3):
        assert get(f"{base}/twitsocket/media/{seq}/m0")[:2] == (200, PNG)
    # X-Accel-Redirect: the app checks each request (nginx never caches that answer);
    # otherwise nginx's copy answers the second and third
    expected = 3 if "accel" in request.node.callspec.id else 1
    assert len(seen) - 1 == expected  # minus the fixture's health check
    assert cdn.requests == ["/photo.png"]
